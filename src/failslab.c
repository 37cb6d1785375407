// SPDX-License-Identifier: MIT
/*
 * failslab.c - fault injection for slab allocations: the kernel's
 * failslab (mm/failslab.c over lib/fault-inject.c) and its per-task
 * fail-nth (/proc/self/fail-nth), for programs that want to see their
 * allocation failure paths run.  docs/failslab.md is the user's side.
 *
 * 1. Where it hooks in.  Nothing is installed unless it is asked for, so
 *    the fast paths cost what they always cost.  It is asked for by
 *    USLAB_FAILSLAB (read once, by failslab_init() at start-up, right
 *    after the slab layer's bootstrap) or by the first uslab_fail_nth(n)
 *    with n > 0 in any thread.  Then slab_fast_wrap() puts
 *    failslab_alloc() in front of every allocation of a slab object
 *    (kmem_cache_alloc*, kmalloc up to the largest kmalloc class, bulk
 *    allocations object by object, the library's own allocations of
 *    cache structures, names, node and cpu structures).  kmalloc_large
 *    and kvmalloc take whole pages and are not slab allocations, as in
 *    the kernel.  Once installed the wrapper stays; with nothing armed it
 *    only lets allocations through.
 *
 * 2. The decision (should_failslab), in the kernel's order:
 *      - __GFP_NOFAIL is never failed;
 *      - nothing is failed before start-up is complete (slab_state FULL),
 *        so the library's own bootstrap never is (the kernel exempts its
 *        boot cache, kmem_cache, for the same reason; here kmem_cache
 *        allocations made after start-up - every kmem_cache_create - are
 *        fair game, so that their failure paths get tested);
 *      - with the cache filter on, only caches with SLAB_FAILSLAB are;
 *      - this thread's fail-nth, if armed, counts this allocation down
 *        and fails the one that takes it to zero, whatever the gfp flags
 *        (the kernel's fail-nth comes after failslab's ignore-gfp-wait,
 *        but nearly every allocation of a userspace program may sleep -
 *        GFP_KERNEL - so honouring it would make fail-nth fail nothing);
 *      - with ignore-gfp-wait (the default) allocations that may sleep
 *        (__GFP_DIRECT_RECLAIM) are let through;
 *      - then should_fail(): times, space, interval, probability, exactly
 *        as lib/fault-inject.c tests them.
 *
 * 3. What a failure looks like.  The allocation returns NULL before the
 *    back end is called, so the back end has nothing to report.  A back
 *    end whose allocation needed an allocation of its own that was
 *    failed (SLAB's off-slab freelists) sees failslab_fired set and
 *    stays quiet too: the failure was injected, not a shortage.  With
 *    verbose 1 or 2 (unless the caller passed __GFP_NOWARN, as the
 *    kernel's FAULT_NOWARN) the kernel's notice is printed, plus a call
 *    trace at 2.
 *
 * 4. Threads.  fail-nth is per thread (the kernel's is per task) and
 *    reset in a forked child, as the kernel's copy_process() resets it.
 *    times, space and the interval count are shared by all threads and
 *    updated atomically; a failure claims one of "times" before it is
 *    injected, so no more than "times" failures happen however many
 *    threads race.  The probability draws from a per-thread xorshift
 *    generator seeded from os_random().
 *
 * Nothing here allocates: messages go out through uslab_printk.
 */
#include "slab.h"

#include <limits.h>
#include <string.h>

/* struct fault_attr's fields that uslab has, and failslab's two switches. */
static struct {
	unsigned long interval;		/* fail one call in this many (0 and 1: every call) */
	unsigned long probability;	/* percent, 0..100 */
	long space;			/* bytes let through before anything fails */
	int times;			/* failures left; -1: no limit */
	unsigned long count;		/* calls that reached the interval test */
	int verbose;			/* 0 quiet, 1 a notice, 2 a notice and a call trace */
	bool ignore_gfp_wait;		/* let allocations that may sleep through */
	bool cache_filter;		/* fail only caches with SLAB_FAILSLAB */
	bool armed;			/* USLAB_FAILSLAB given, and able to fail something */
} failslab = {
	.interval = 1,
	.times = 1,
	.verbose = 2,
	.ignore_gfp_wait = true,
};

/* This thread's allocations to go until fail-nth fires, that one included; 0: none armed. */
static __thread unsigned int fail_nth __attribute__((tls_model("initial-exec")));
static __thread uint64_t fail_rand __attribute__((tls_model("initial-exec")));
__thread bool failslab_fired __attribute__((tls_model("initial-exec")));

static slab_alloc_fn failslab_next_alloc;
static slab_free_fn failslab_next_free;
static bool failslab_installed;

/* ----------------------------------------------------------- deciding */

/* A number in [0, 100): the kernel's get_random_u32_below(100). */
static unsigned int failslab_random_percent(void)
{
	uint64_t x = fail_rand;

	if (unlikely(!x))
		x = os_random() | 1;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	fail_rand = x;
	return (unsigned int)((x >> 32) % 100);
}

/*
 * atomic_dec_not_zero on times, unless it is -1: false if none was left
 * (another thread took the last); *@before is times as it was.
 */
static bool failslab_claim_time(int *before)
{
	int t = __atomic_load_n(&failslab.times, __ATOMIC_RELAXED);

	do {
		*before = t;
		if (t == -1)
			return true;
		if (t == 0)
			return false;
	} while (!__atomic_compare_exchange_n(&failslab.times, &t, t - 1, false,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return true;
}

/*
 * The kernel's fail_dump(), with the cache and its object size: what was
 * failed, and at verbose 2 from where.  @times is the count as it was
 * before this failure, as the kernel prints it.
 */
static noinline __cold void failslab_dump(struct kmem_cache *s, gfp_t gfp, int times, bool nth)
{
	if (failslab.verbose <= 0 || (gfp & __GFP_NOWARN))
		return;
	pr_warn("FAULT_INJECTION: forcing a failure.\n"
		"name failslab, interval %lu, probability %lu, space %ld, times %d, cache %s, size %u%s\n",
		failslab.interval, failslab.probability,
		__atomic_load_n(&failslab.space, __ATOMIC_RELAXED), times,
		s->name, s->object_size, nth ? ", by fail-nth" : "");
	if (failslab.verbose > 1)
		dump_stack();
}

/* lib/fault-inject.c's should_fail(), past fail-nth. */
static bool should_fail(struct kmem_cache *s, gfp_t gfp)
{
	long size = (long)s->object_size;
	int times;

	if (!__atomic_load_n(&failslab.times, __ATOMIC_RELAXED))
		return false;
	if (__atomic_load_n(&failslab.space, __ATOMIC_RELAXED) > size) {
		__atomic_sub_fetch(&failslab.space, size, __ATOMIC_RELAXED);
		return false;
	}
	if (failslab.interval > 1 &&
	    __atomic_add_fetch(&failslab.count, 1, __ATOMIC_RELAXED) % failslab.interval)
		return false;
	if (failslab.probability <= failslab_random_percent())
		return false;
	if (!failslab_claim_time(&times))
		return false;
	failslab_dump(s, gfp, times, false);
	return true;
}

/* mm/failslab.c's should_failslab(), with fail-nth first among the counters. */
static bool should_failslab(struct kmem_cache *s, gfp_t gfp)
{
	unsigned int nth;

	if (gfp & __GFP_NOFAIL)
		return false;
	if (__atomic_load_n(&slab_state, __ATOMIC_RELAXED) != FULL)
		return false;
	if (failslab.cache_filter && !(s->flags & SLAB_FAILSLAB))
		return false;
	nth = fail_nth;
	if (nth) {
		fail_nth = --nth;
		if (nth)
			return false;
		failslab_dump(s, gfp, __atomic_load_n(&failslab.times, __ATOMIC_RELAXED), true);
		return true;
	}
	if (!failslab.armed)
		return false;
	if (failslab.ignore_gfp_wait && (gfp & __GFP_DIRECT_RECLAIM))
		return false;
	return should_fail(s, gfp);
}

/* --------------------------------------------------- the fast-path hook */

static void *failslab_alloc(struct kmem_cache *s, gfp_t gfp, int node)
{
	/* Cleared first: an allocation the back end makes inside this one may set it. */
	failslab_fired = false;
	if (unlikely(should_failslab(s, gfp))) {
		failslab_fired = true;
		return NULL;
	}
	return failslab_next_alloc(s, gfp, node);
}

static void failslab_free(struct kmem_cache *s, void *x, struct page *page)
{
	failslab_next_free(s, x, page);
}

/*
 * Once, for the process.  At start-up the initialising thread alone is
 * here; later, slab_mutex orders racing first callers, and since the
 * fork handlers take it too, a fork never copies a half-done install.
 */
static void failslab_install(bool at_init)
{
	if (__atomic_load_n(&failslab_installed, __ATOMIC_ACQUIRE))
		return;
	if (!at_init)
		pthread_mutex_lock(&slab_mutex);
	if (!failslab_installed) {
		slab_fast_wrap(failslab_alloc, failslab_free, &failslab_next_alloc,
			       &failslab_next_free);
		__atomic_store_n(&failslab_installed, true, __ATOMIC_RELEASE);
	}
	if (!at_init)
		pthread_mutex_unlock(&slab_mutex);
}

/* ------------------------------------------------------------ options */

#define FAILSLAB_FORMAT "\"<interval>,<probability>,<space>,<times>\""

/*
 * An unsigned decimal at *@p up to @max, then @end; *@p moves past both.
 * Signs, spaces and other bases are refused, as options.c refuses them.
 */
static bool parse_field(const char **p, unsigned long max, char end, unsigned long *out)
{
	const char *s = *p;
	unsigned long v = 0;

	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (max - (unsigned long)(*s - '0')) / 10)
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (*s != end)
		return false;
	*p = end ? s + 1 : s;
	*out = v;
	return true;
}

/*
 * parse_failslab - the kernel's setup_fault_attr() format, checked
 * strictly: a string the kernel would half-read is refused whole, and
 * fault injection stays off.  0, or -1 after a message.
 */
static int parse_failslab(const char *str)
{
	const char *p = str, *why = NULL;
	unsigned long interval, probability, space, times;

	if (!parse_field(&p, ULONG_MAX / 2, ',', &interval))
		why = "<interval> is not a number";
	else if (!parse_field(&p, 100, ',', &probability))
		why = "<probability> is not a percentage (0-100)";
	else if (!parse_field(&p, LONG_MAX / 2, ',', &space))
		why = "<space> is not a number of bytes";
	else if (!strcmp(p, "-1"))
		times = (unsigned long)-1;
	else if (!parse_field(&p, INT32_MAX, '\0', &times))
		why = "<times> is not -1 (no limit) or a count";
	if (why) {
		pr_warn("uslab: USLAB_FAILSLAB=%s: %s; expected " FAILSLAB_FORMAT
			" (the kernel's failslab=); fault injection stays off\n", str, why);
		return -1;
	}
	failslab.interval = interval;
	failslab.probability = probability;
	failslab.space = (long)space;
	failslab.times = times == (unsigned long)-1 ? -1 : (int)times;
	return 0;
}

/* A switch: 0 or 1, or the kernel's debugfs N or Y; else the default stays. */
static void parse_bool(const char *env, bool *out)
{
	const char *s = os_getenv(env);

	if (!s)
		return;
	if ((s[0] == '0' || s[0] == 'N' || s[0] == 'n') && !s[1])
		*out = false;
	else if ((s[0] == '1' || s[0] == 'Y' || s[0] == 'y') && !s[1])
		*out = true;
	else
		pr_warn("uslab: %s=%s is not 0 or 1 (N or Y); keeping %d\n", env, s, *out);
}

/*
 * failslab_init - start-up (init.c), after the bootstrap: the switches,
 * which fail-nth uses as well, then USLAB_FAILSLAB.  The hook goes in
 * only if USLAB_FAILSLAB can fail something (a probability or times of 0
 * never does).
 */
void failslab_init(void)
{
	const char *s = os_getenv("USLAB_FAILSLAB_VERBOSE");

	if (s) {
		if ((s[0] == '0' || s[0] == '1' || s[0] == '2') && !s[1])
			failslab.verbose = s[0] - '0';
		else
			pr_warn("uslab: USLAB_FAILSLAB_VERBOSE=%s is not 0, 1 or 2; keeping %d\n",
				s, failslab.verbose);
	}
	parse_bool("USLAB_FAILSLAB_IGNORE_GFP_WAIT", &failslab.ignore_gfp_wait);
	parse_bool("USLAB_FAILSLAB_CACHE_FILTER", &failslab.cache_filter);
	s = os_getenv("USLAB_FAILSLAB");
	if (!s || parse_failslab(s))
		return;
	if (!failslab.probability || !failslab.times)
		return;
	failslab.armed = true;
	failslab_install(true);
}

/* ------------------------------------------------------------ fail-nth */

/* The kernel's copy_process(): a new task starts with no fail-nth. */
static void failslab_fork_child(void)
{
	fail_nth = 0;
}

/* Only registers the handler; the allocator starts when first used. */
__attribute__((constructor)) static void failslab_constructor(void)
{
	pthread_atfork(NULL, NULL, failslab_fork_child);
}

USLAB_API void uslab_fail_nth(unsigned int n)
{
	if (n) {
		uslab_init();
		failslab_install(false);
	}
	fail_nth = n;
}

USLAB_API unsigned int uslab_fail_nth_get(void)
{
	return fail_nth;
}
