// SPDX-License-Identifier: MIT
/*
 * fail_nth_sweep.c - every slab allocation of a scenario fails in turn
 * (uslab_fail_nth, the kernel's /proc/self/fail-nth), and each time the
 * library and the scenario must come out clean: the failing call returns
 * NULL or 0, nothing is leaked (no cache, no object, no page), nothing is
 * reported as an error, and stderr holds nothing but the fault notices
 * and the warnings a failed kmem_cache_create gives.
 *
 * The scenario is what a program does with the API: create a cache (its
 * struct, its name, its node and cpu structures), allocate from it one
 * object and a bulk of 64, kmalloc, grow the block with krealloc through
 * several classes, kstrdup, then free all and destroy the cache; before
 * that, a cache with a constructor whose first allocation makes one of
 * its own on SLAB (an off-slab freelist).  Every step tolerates failure
 * (a NULL or 0 skips what depends on it).  For n =
 * 1, 2, ... the n-th allocation fails, until a round where the n-th never
 * came: then every allocation of the scenario has been failed once.
 */
#define _GNU_SOURCE
#include <uslab/slab.h>
#include <uslab/uslab.h>
#include "../test.h"

#include <sched.h>

#define BULK 64
#define MAX_ROUNDS 20000
#define WARM_ROUNDS 24		/* more than the destroy quarantine's 16 caches */
#define CTOR_SIZE 504		/* with SLAB's free marker, 512: 8 to a page */

static const size_t grow_sizes[] = { 300, 1000, 3000, 6000 };
static const char keep[] = "kept across a failed krealloc";

/* Which steps have seen a failure, to show that each was swept. */
enum step { ST_CREATE, ST_ALLOC, ST_BULK, ST_KMALLOC, ST_KREALLOC, ST_KSTRDUP, ST__COUNT };
static const char *const step_names[ST__COUNT] = {
	"kmem_cache_create", "kmem_cache_alloc", "kmem_cache_alloc_bulk",
	"kmalloc", "krealloc", "kstrdup",
};
static unsigned int step_failed[ST__COUNT];

static void ctor(void *p)
{
	memset(p, 0x33, CTOR_SIZE);
}

/*
 * A cache with a constructor, whose objects fill a page exactly: SLAB
 * keeps its slabs' freelists off the slab, kmalloc'd when a slab is made,
 * so the first allocation makes an allocation of its own.
 */
static void ctor_cache(unsigned int round)
{
	char name[32];
	struct kmem_cache *s;
	void *obj;

	snprintf(name, sizeof(name), "sweep-c-%05u", round);
	s = kmem_cache_create(name, CTOR_SIZE, 0, 0, ctor);
	if (!s) {
		step_failed[ST_CREATE]++;
		return;
	}
	obj = kmem_cache_alloc(s, GFP_KERNEL);
	if (!obj)
		step_failed[ST_ALLOC]++;
	else
		CHECK(((unsigned char *)obj)[CTOR_SIZE - 1] == 0x33);
	kmem_cache_free(s, obj);
	kmem_cache_destroy(s);
}

static void scenario(unsigned int round)
{
	char name[32];
	struct kmem_cache *s;
	void *obj = NULL, *bulk[BULK];
	char *block, *copy;
	int nbulk = 0;

	ctor_cache(round);
	/* one width for every round: the names the destroy quarantine holds weigh the same */
	snprintf(name, sizeof(name), "sweep-%05u", round);
	/* SLAB_NO_MERGE: a merge would allocate nothing, and test nothing */
	s = kmem_cache_create(name, 200, 0, SLAB_NO_MERGE, NULL);
	if (!s)
		step_failed[ST_CREATE]++;
	if (s) {
		obj = kmem_cache_alloc(s, GFP_KERNEL);
		if (!obj)
			step_failed[ST_ALLOC]++;
		else
			memset(obj, 0x11, 200);
		nbulk = kmem_cache_alloc_bulk(s, GFP_KERNEL, BULK, bulk);
		CHECK(nbulk == 0 || nbulk == BULK);
		if (!nbulk)
			step_failed[ST_BULK]++;
		for (int i = 0; i < nbulk; i++)
			memset(bulk[i], 0x22, 200);
	}
	block = kmalloc(sizeof(keep), GFP_KERNEL);
	if (!block)
		step_failed[ST_KMALLOC]++;
	if (block) {
		memcpy(block, keep, sizeof(keep));
		for (size_t i = 0; i < sizeof(grow_sizes) / sizeof(grow_sizes[0]); i++) {
			char *bigger = krealloc(block, grow_sizes[i], GFP_KERNEL);

			if (!bigger) {
				step_failed[ST_KREALLOC]++;
				break;	/* the old block stays the caller's */
			}
			block = bigger;
		}
		CHECK(!memcmp(block, keep, sizeof(keep)));
	}
	copy = kstrdup(keep, GFP_KERNEL);
	if (!copy)
		step_failed[ST_KSTRDUP]++;
	else
		CHECK(!strcmp(copy, keep));
	if (nbulk)
		kmem_cache_free_bulk(s, (size_t)nbulk, bulk);
	if (obj)
		kmem_cache_free(s, obj);
	kfree(block);
	kfree(copy);
	kmem_cache_destroy(s);
}

/* ------------------------------------------------- what the library holds */

#define MAX_CACHES 256

struct cache_count {
	char name[64];
	unsigned long active;
};

struct snapshot {
	struct cache_count c[MAX_CACHES];
	int n;
	size_t pages;
};

static char slabinfo[1 << 18];

/* After a trim: every cache's objects in use, and the pages handed out. */
static void take_snapshot(struct snapshot *sn)
{
	struct uslab_page_stats ps;
	char *line;

	uslab_trim();
	CHECK(uslab_slabinfo(slabinfo, sizeof(slabinfo)) < sizeof(slabinfo));
	sn->n = 0;
	line = strchr(slabinfo, '\n');	/* the version line */
	line = line ? strchr(line + 1, '\n') : NULL;	/* the header */
	while (line && line[1] && sn->n < MAX_CACHES) {
		struct cache_count *c = &sn->c[sn->n];

		if (sscanf(line + 1, "%63s %lu", c->name, &c->active) == 2)
			sn->n++;
		line = strchr(line + 1, '\n');
	}
	uslab_page_stats(&ps);
	sn->pages = ps.allocated;
}

static unsigned long active_of(const struct snapshot *sn, const char *name)
{
	for (int i = 0; i < sn->n; i++)
		if (!strcmp(sn->c[i].name, name))
			return sn->c[i].active;
	return (unsigned long)-1;
}

/*
 * Nothing the scenario made may be left: not a cache, not an object, not
 * a page.  Fewer than before is no leak: SLAB's reaper and array drains
 * may give back, between two snapshots, what the warm-up left cached.
 * Findings go to stdout: stderr is being captured.
 */
static int compare(const struct snapshot *base, const struct snapshot *now, unsigned int n)
{
	int bad = 0;

	for (int i = 0; i < now->n; i++) {
		const struct cache_count *c = &now->c[i];
		unsigned long was = active_of(base, c->name);

		if (was == (unsigned long)-1) {
			printf("fail-nth %u: cache %s left behind (%lu objects)\n",
				n, c->name, c->active);
			bad = 1;
		} else if (c->active > was) {
			printf("fail-nth %u: %s has %lu objects in use, %lu before\n",
				n, c->name, c->active, was);
			bad = 1;
		}
	}
	if (now->pages > base->pages) {
		printf("fail-nth %u: %zu pages allocated after a trim, %zu before\n",
			n, now->pages, base->pages);
		bad = 1;
	}
	return bad;
}

/* --------------------------------------------------------- stderr */

static FILE *capture;
static int saved_stderr = -1;

static void capture_begin(void)
{
	fflush(stderr);
	capture = tmpfile();
	if (!capture)
		return;
	saved_stderr = dup(2);
	dup2(fileno(capture), 2);
}

/*
 * Back to the real stderr; then each captured line must be a fault
 * notice or a failed creation's warning.  Returns the fault notices.
 */
static unsigned int capture_end(unsigned int *others)
{
	char line[512];
	unsigned int notices = 0;

	*others = 0;
	if (!capture)
		return 0;
	dup2(saved_stderr, 2);
	close(saved_stderr);
	rewind(capture);
	while (fgets(line, sizeof(line), capture)) {
		if (!strncmp(line, "FAULT_INJECTION: forcing a failure.", 35)) {
			notices++;
			continue;
		}
		if (!strncmp(line, "name failslab, ", 15) ||
		    (!strncmp(line, "kmem_cache_create(sweep-", 24) &&
		     strstr(line, "failed with error -12: out of memory")) ||
		    /* SLAB names the step of the creation that failed, as the kernel */
		    !strncmp(line, "enable_cpucache failed for sweep-", 33))
			continue;
		fprintf(stderr, "unexpected on stderr: %s", line);
		(*others)++;
	}
	fclose(capture);
	return notices;
}

int main(void)
{
	struct snapshot *base = calloc(1, sizeof(*base)), *now = calloc(1, sizeof(*now));
	unsigned long errors;
	unsigned int n, fired = 0, notices, others, leaks = 0, never_fired = 0;

	/* one notice per injected failure, to count; no call traces */
	setenv("USLAB_FAILSLAB_VERBOSE", "1", 1);
	/*
	 * One CPU, so one node: with fake NUMA a thread that moves between
	 * CPUs draws on another node's slabs and structures, and the page
	 * count would follow the scheduler rather than the scenario.
	 */
	{
		cpu_set_t one;
		int cpu = sched_getcpu();

		CPU_ZERO(&one);
		CPU_SET(cpu < 0 ? 0 : cpu, &one);
		sched_setaffinity(0, sizeof(one), &one);
	}
	printf("fail_nth_sweep: back end %s\n", uslab_allocator());

	for (unsigned int r = 0; r < WARM_ROUNDS; r++)
		scenario(r);
	CHECK_EQ(step_failed[ST_CREATE] + step_failed[ST_KMALLOC], 0);
	take_snapshot(base);
	errors = uslab_error_count();

	capture_begin();
	for (n = 1; n < MAX_ROUNDS; n++) {
		uslab_fail_nth(n);
		if (uslab_fail_nth_get() != n)
			never_fired++;
		scenario(WARM_ROUNDS + n);
		if (uslab_fail_nth_get()) {
			uslab_fail_nth(0);
			break;		/* the scenario made fewer than n allocations */
		}
		fired++;
		take_snapshot(now);
		if (compare(base, now, n))
			leaks++;
		if (uslab_error_count() != errors) {
			printf("fail-nth %u: %lu error reports\n", n,
				uslab_error_count() - errors);
			errors = uslab_error_count();
			leaks++;
		}
	}
	notices = capture_end(&others);

	printf("fail_nth_sweep: the scenario makes %u slab allocations; each failed once\n", n - 1);
	for (int i = 0; i < ST__COUNT; i++)
		printf("fail_nth_sweep:   %-22s failed in %u rounds\n", step_names[i], step_failed[i]);
	printf("fail_nth_sweep: %u fault notices (allocations with __GFP_NOWARN fail quietly)\n",
	       notices);
	CHECK(n < MAX_ROUNDS);
	CHECK_EQ(fired, n - 1);
	CHECK_EQ(never_fired, 0);
	/* the bulk alone is 64 allocations */
	CHECK(fired > BULK + 4);
	for (int i = 0; i < ST__COUNT; i++)
		CHECK(step_failed[i] > 0);
	CHECK_EQ(leaks, 0);
	CHECK_EQ(others, 0);
	CHECK(notices > 0 && notices <= fired);

	/* and afterwards everything works as before, with nothing armed */
	scenario(0);
	take_snapshot(now);
	CHECK_EQ(compare(base, now, 0), 0);
	CHECK_EQ(uslab_error_count(), errors);
	free(base);
	free(now);
	return test_done("fail_nth_sweep");
}
