// SPDX-License-Identifier: MIT
/*
 * failslab.c - fault injection through the public API: USLAB_FAILSLAB
 * (the kernel's failslab=<interval>,<probability>,<space>,<times>) with
 * its switches USLAB_FAILSLAB_VERBOSE, _IGNORE_GFP_WAIT and
 * _CACHE_FILTER, and the per-thread uslab_fail_nth() / _get().
 *
 * The variables are read once, at start-up, so each case runs in a
 * forked child that sets them before its first call into uslab; the
 * parent never calls uslab at all.
 *
 * The cases that count failures exactly mark their cache SLAB_FAILSLAB
 * and turn the cache filter on: the library's own allocations are then
 * neither failed nor counted.  Without it they would be, and they differ
 * between back ends (SLAB sizes each thread's array for a cache with a
 * GFP_NOWAIT allocation of its own, which failslab may fail: the thread
 * then uses the slot's few inline entries).
 */
#include <uslab/slab.h>
#include <uslab/uslab.h>
#include <pthread.h>
#include "../test.h"

/* ------------------------------------------------------------ helpers */

static FILE *capture;
static int saved_stderr = -1;
static char captured[1 << 16];

static void capture_begin(void)
{
	fflush(stderr);
	capture = tmpfile();
	if (!capture)
		return;
	saved_stderr = dup(2);
	dup2(fileno(capture), 2);
}

/* Back to the real stderr; what was written meanwhile is in captured[]. */
static const char *capture_end(void)
{
	size_t n = 0;

	captured[0] = '\0';
	if (!capture)
		return captured;
	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	rewind(capture);
	n = fread(captured, 1, sizeof(captured) - 1, capture);
	captured[n] = '\0';
	fclose(capture);
	capture = NULL;
	return captured;
}

static unsigned int count_of(const char *text, const char *needle)
{
	unsigned int n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/*
 * run_case - @fn in a child whose environment has @env's "NAME=value"
 * words (space-separated) on top of ours; the child's CHECKs decide.
 */
static void run_case(const char *name, void (*fn)(void), const char *env)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		char buf[512], *save = NULL;

		snprintf(buf, sizeof(buf), "%s", env);
		for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
			char *eq = strchr(w, '=');

			*eq = '\0';
			setenv(w, eq + 1, 1);
		}
		test_checks = test_failures = 0;	/* the child's own tally */
		fn();
		fflush(NULL);
		_exit(test_failures ? 1 : 0);
	}
	CHECK(pid > 0);
	waitpid(pid, &status, 0);
	test_checks++;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		test_failures++;
		fprintf(stderr, "case %s [%s] failed (status %#x)\n", name, env, status);
	} else {
		printf("failslab: %-22s ok  [%s]\n", name, env);
	}
}

/* A cache of its own (never merged), with objects already in its arrays. */
static struct kmem_cache *warm_cache(const char *name, unsigned int size, slab_flags_t flags)
{
	struct kmem_cache *s = kmem_cache_create(name, size, 0, flags | SLAB_NO_MERGE, NULL);
	void *v[64];

	CHECK(s != NULL);
	if (!s)
		exit(1);
	for (int i = 0; i < 64; i++)
		v[i] = kmem_cache_alloc(s, GFP_KERNEL);
	for (int i = 0; i < 64; i++) {
		CHECK(v[i] != NULL);
		kmem_cache_free(s, v[i]);
	}
	return s;
}

/* Allocate @n from @s with @gfp, freeing each; failed[i] says which failed. */
static unsigned int alloc_pattern(struct kmem_cache *s, gfp_t gfp, int n, bool *failed)
{
	unsigned int fails = 0;

	for (int i = 0; i < n; i++) {
		void *p = kmem_cache_alloc(s, gfp);

		failed[i] = !p;
		fails += !p;
		kmem_cache_free(s, p);
	}
	return fails;
}

/* ------------------------------------------------------------ the cases */

/* "1,100,0,3": every call that may fail fails, three times, then none. */
static void times_and_gfp(void)
{
	struct kmem_cache *s = warm_cache("fs-times", 64, SLAB_FAILSLAB);
	bool failed[40];

	/* ignore-gfp-wait (the default): what may sleep is never failed */
	CHECK_EQ(alloc_pattern(s, GFP_KERNEL, 40, failed), 0);
	CHECK_EQ(alloc_pattern(s, GFP_NOWAIT, 20, failed), 3);
	for (int i = 0; i < 20; i++)
		CHECK_EQ(failed[i], i < 3);
	CHECK_EQ(alloc_pattern(s, GFP_ATOMIC, 20, failed), 0);
	CHECK_EQ(uslab_error_count(), 0);
	kmem_cache_destroy(s);
}

/* With ignore-gfp-wait off, GFP_KERNEL fails too; kmalloc as well as caches. */
static void gfp_wait_failed(void)
{
	void *p;

	CHECK(kmalloc(32, GFP_KERNEL) == NULL);
	CHECK(kmalloc(32, GFP_KERNEL) == NULL);
	p = kmalloc(32, GFP_KERNEL);
	CHECK(p != NULL);
	kfree(p);
}

/* "3,100,0,-1": one call in three fails, for good. */
static void interval(void)
{
	struct kmem_cache *s = warm_cache("fs-interval", 64, SLAB_FAILSLAB);
	bool failed[30];
	int first = -1;

	CHECK_EQ(alloc_pattern(s, GFP_ATOMIC, 30, failed), 10);
	for (int i = 0; i < 30; i++) {
		if (failed[i] && first < 0)
			first = i;
		if (first >= 0)
			CHECK_EQ(failed[i], (i - first) % 3 == 0);
	}
	CHECK(first >= 0 && first < 3);
	kmem_cache_destroy(s);
}

/* "1,100,1000,-1": 1000 bytes go through (objects of 100: nine) before failures start. */
static void space(void)
{
	struct kmem_cache *s = warm_cache("fs-space", 100, SLAB_FAILSLAB);
	bool failed[20];

	CHECK_EQ(kmem_cache_size(s), 100);
	CHECK_EQ(alloc_pattern(s, GFP_NOWAIT, 20, failed), 11);
	for (int i = 0; i < 20; i++)
		CHECK_EQ(failed[i], i >= 9);
	kmem_cache_destroy(s);
}

/* "1,50,0,-1": about half; "1,0,0,-1": none. */
static void probability_half(void)
{
	struct kmem_cache *s = warm_cache("fs-prob", 64, 0);
	static bool failed[4000];
	unsigned int fails = alloc_pattern(s, GFP_ATOMIC, 4000, failed);

	printf("failslab: probability 50: %u of 4000 failed\n", fails);
	CHECK(fails > 1600 && fails < 2400);
	kmem_cache_destroy(s);
}

static void probability_zero(void)
{
	struct kmem_cache *s = warm_cache("fs-prob0", 64, 0);
	bool failed[500];

	CHECK_EQ(alloc_pattern(s, GFP_ATOMIC, 500, failed), 0);
	kmem_cache_destroy(s);
}

/*
 * "1,100,0,-1" with ignore-gfp-wait off: everything fails but
 * __GFP_NOFAIL, and start-up (which allocates) was never failed.  A
 * failed creation gives its warning and nothing else: no BUG, no
 * out-of-memory report, no error counted.
 */
static void everything_fails(void)
{
	const char *err;
	void *p, *q;

	capture_begin();
	CHECK(!strcmp(uslab_allocator(), "slub") || !strcmp(uslab_allocator(), "slab"));
	CHECK(kmem_cache_create("fs-never", 64, 0, SLAB_NO_MERGE, NULL) == NULL);
	CHECK(kmalloc(64, GFP_KERNEL) == NULL);
	CHECK(kmalloc(64, GFP_ATOMIC) == NULL);
	CHECK(kstrdup("abc", GFP_KERNEL) == NULL);
	p = kmalloc(64, GFP_KERNEL | __GFP_NOFAIL);
	q = kzalloc(64, GFP_ATOMIC | __GFP_NOFAIL);
	err = capture_end();
	CHECK(p != NULL && q != NULL);
	CHECK(q && ((char *)q)[63] == 0);
	kfree(p);
	kfree(q);
	for (int i = 0; i < 100; i++)
		CHECK(kmalloc(16, GFP_NOWAIT) == NULL);
	CHECK_EQ(uslab_error_count(), 0);
	CHECK(strstr(err, "kmem_cache_create(fs-never) failed with error -12") != NULL);
	CHECK(!strstr(err, "BUG"));
	CHECK(!strstr(err, "Unable to allocate"));
	CHECK(!strstr(err, "unknown option"));
	CHECK_EQ(count_of(err, "FAULT_INJECTION: forcing a failure."), 0);
}

/*
 * The notice: verbose 1 is the kernel's two lines, with the cache and
 * the object size; 2 adds a call trace; __GFP_NOWARN keeps it quiet;
 * 0 says nothing.
 */
static const char *two_failures(void)
{
	struct kmem_cache *s = warm_cache("fs-verbose", 48, SLAB_FAILSLAB);
	bool failed[4];
	const char *err;

	capture_begin();
	CHECK_EQ(alloc_pattern(s, GFP_NOWAIT, 4, failed), 2);
	err = capture_end();
	CHECK(failed[0] && failed[1] && !failed[2]);
	kmem_cache_destroy(s);
	return err;
}

static void verbose1(void)
{
	const char *err = two_failures();

	CHECK_EQ(count_of(err, "FAULT_INJECTION: forcing a failure.\n"), 2);
	CHECK(strstr(err, "name failslab, interval 1, probability 100, space 0, times 2, "
			  "cache fs-verbose, size 48\n") != NULL);
	CHECK(strstr(err, "times 1, cache fs-verbose, size 48\n") != NULL);
	CHECK(!strstr(err, "Call Trace:"));
	CHECK(!strstr(err, "Unable to allocate"));
}

static void verbose2(void)
{
	const char *err = two_failures();

	CHECK_EQ(count_of(err, "FAULT_INJECTION: forcing a failure.\n"), 2);
	CHECK_EQ(count_of(err, "Call Trace:\n"), 2);
}

static void verbose0(void)
{
	CHECK_EQ(strlen(two_failures()), 0);
}

static void verbose_nowarn(void)
{
	struct kmem_cache *s = warm_cache("fs-nowarn", 48, SLAB_FAILSLAB);
	bool failed[4];
	const char *err;

	capture_begin();
	CHECK_EQ(alloc_pattern(s, GFP_NOWAIT | __GFP_NOWARN, 4, failed), 2);
	err = capture_end();
	CHECK_EQ(strlen(err), 0);
	kmem_cache_destroy(s);
}

/*
 * The cache filter: only caches with SLAB_FAILSLAB fail, by the flag or
 * by slab_debug's A; fail-nth counts only their allocations.
 */
static void cache_filter(void)
{
	struct kmem_cache *marked = warm_cache("fs-marked", 64, SLAB_FAILSLAB);
	struct kmem_cache *by_debug = warm_cache("fs-by-debug", 64, 0);
	struct kmem_cache *plain = warm_cache("fs-plain", 64, 0);
	bool failed[10];
	void *p;

	CHECK_EQ(alloc_pattern(marked, GFP_ATOMIC, 10, failed), 10);
	CHECK_EQ(alloc_pattern(by_debug, GFP_ATOMIC, 10, failed), 10);
	CHECK_EQ(alloc_pattern(plain, GFP_ATOMIC, 10, failed), 0);
	p = kmalloc(64, GFP_ATOMIC);
	CHECK(p != NULL);
	kfree(p);
	kmem_cache_destroy(marked);
	kmem_cache_destroy(by_debug);
	kmem_cache_destroy(plain);
}

/* warm_cache() frees what it allocates only if the allocations succeeded. */
static void cache_filter_nth(void)
{
	struct kmem_cache *marked, *plain = warm_cache("fs-plain", 64, 0);
	void *p;

	uslab_fail_nth(2);
	marked = kmem_cache_create("fs-marked", 64, 0, SLAB_FAILSLAB, NULL);
	CHECK(marked != NULL);
	CHECK_EQ(uslab_fail_nth_get(), 2);	/* kmalloc and kmem_cache: not counted */
	p = kmem_cache_alloc(plain, GFP_KERNEL);
	CHECK(p != NULL);
	kmem_cache_free(plain, p);
	CHECK_EQ(uslab_fail_nth_get(), 2);
	p = kmem_cache_alloc(marked, GFP_KERNEL);
	CHECK(p != NULL);
	kmem_cache_free(marked, p);
	CHECK_EQ(uslab_fail_nth_get(), 1);
	CHECK(kmem_cache_alloc(marked, GFP_KERNEL) == NULL);
	CHECK_EQ(uslab_fail_nth_get(), 0);
	kmem_cache_destroy(marked);
	kmem_cache_destroy(plain);
}

static void *other_thread(void *arg)
{
	unsigned int *left = arg;

	for (int i = 0; i < 10; i++) {
		void *p = kmalloc(64, GFP_KERNEL);

		if (!p)
			return (void *)1;
		kfree(p);
	}
	*left = uslab_fail_nth_get();
	return NULL;
}

static unsigned long active_objs(const char *cache)
{
	static char buf[1 << 16];
	char *line;

	uslab_slabinfo(buf, sizeof(buf));
	for (line = buf; line; line = strchr(line, '\n')) {
		char name[64];
		unsigned long active;

		if (*line == '\n')
			line++;
		if (sscanf(line, "%63s %lu", name, &active) == 2 && !strcmp(name, cache))
			return active;
	}
	return (unsigned long)-1;
}

/* fail-nth: the countdown, any gfp, __GFP_NOFAIL, per thread, not inherited, bulk. */
static void fail_nth(void)
{
	struct kmem_cache *s;
	unsigned int left = 99;
	pthread_t t;
	void *ret, *p, *v[20];
	int status;
	pid_t pid;

	CHECK_EQ(uslab_fail_nth_get(), 0);
	uslab_fail_nth(3);
	CHECK_EQ(uslab_fail_nth_get(), 3);
	p = kmalloc(8, GFP_KERNEL);
	CHECK(p != NULL);
	kfree(p);
	CHECK_EQ(uslab_fail_nth_get(), 2);
	p = kmalloc(8, GFP_KERNEL);
	CHECK(p != NULL);
	kfree(p);
	CHECK_EQ(uslab_fail_nth_get(), 1);
	/* GFP_KERNEL, which failslab's ignore-gfp-wait lets through */
	CHECK(kmalloc(8, GFP_KERNEL) == NULL);
	CHECK_EQ(uslab_fail_nth_get(), 0);
	p = kmalloc(8, GFP_KERNEL);
	CHECK(p != NULL);
	kfree(p);
	CHECK_EQ(uslab_fail_nth_get(), 0);

	/* __GFP_NOFAIL is neither failed nor counted */
	uslab_fail_nth(1);
	p = kmalloc(8, GFP_KERNEL | __GFP_NOFAIL);
	CHECK(p != NULL);
	kfree(p);
	CHECK_EQ(uslab_fail_nth_get(), 1);
	CHECK(kmalloc(8, GFP_ATOMIC) == NULL);

	/* disarming */
	uslab_fail_nth(5);
	p = kmalloc(8, GFP_KERNEL);
	kfree(p);
	CHECK_EQ(uslab_fail_nth_get(), 4);
	uslab_fail_nth(0);
	CHECK_EQ(uslab_fail_nth_get(), 0);
	for (int i = 0; i < 10; i++) {
		p = kmalloc(8, GFP_KERNEL);
		CHECK(p != NULL);
		kfree(p);
	}

	/* per thread: another thread's allocations neither fail nor count */
	uslab_fail_nth(1);
	CHECK_EQ(pthread_create(&t, NULL, other_thread, &left), 0);
	pthread_join(t, &ret);
	CHECK(ret == NULL);
	CHECK_EQ(left, 0);
	CHECK_EQ(uslab_fail_nth_get(), 1);

	/* a forked child starts disarmed, as the kernel's new task */
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		p = kmalloc(8, GFP_KERNEL);
		_exit(uslab_fail_nth_get() == 0 && p ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_EQ(uslab_fail_nth_get(), 1);
	CHECK(kmalloc(8, GFP_KERNEL) == NULL);

	/* a bulk allocation that fails part way leaves nothing behind */
	s = warm_cache("fs-bulk", 64, 0);
	uslab_trim();
	unsigned long before = active_objs("fs-bulk");
	uslab_fail_nth(10);
	CHECK_EQ(kmem_cache_alloc_bulk(s, GFP_KERNEL, 20, v), 0);
	CHECK_EQ(uslab_fail_nth_get(), 0);
	uslab_trim();
	CHECK_EQ(active_objs("fs-bulk"), before);
	kmem_cache_destroy(s);
	CHECK_EQ(uslab_error_count(), 0);
}

/*
 * Threads: times is shared and never overshot however many threads race
 * for the last failures; fail-nth armed by several threads at once (the
 * first call installs the hook) fires in each at its own count.
 */
#define THREADS 4

static struct kmem_cache *shared_cache;
static pthread_barrier_t barrier;

static void *times_thread(void *arg)
{
	unsigned long fails = 0;

	pthread_barrier_wait(&barrier);
	for (int i = 0; i < 2000; i++) {
		void *p = kmem_cache_alloc(shared_cache, GFP_ATOMIC);

		fails += !p;
		kmem_cache_free(shared_cache, p);
	}
	return (void *)fails;
}

static void times_threads(void)
{
	pthread_t t[THREADS];
	unsigned long total = 0;

	shared_cache = warm_cache("fs-threads", 64, SLAB_FAILSLAB);
	pthread_barrier_init(&barrier, NULL, THREADS);
	for (int i = 0; i < THREADS; i++)
		CHECK_EQ(pthread_create(&t[i], NULL, times_thread, NULL), 0);
	for (int i = 0; i < THREADS; i++) {
		void *ret;

		pthread_join(t[i], &ret);
		total += (unsigned long)ret;
	}
	CHECK_EQ(total, 1000);
	kmem_cache_destroy(shared_cache);
}

static void *nth_thread(void *arg)
{
	unsigned long at = 0;

	/* SLAB sizes a new thread's array with an allocation of its own: not here */
	kfree(kmalloc(32, GFP_KERNEL));
	pthread_barrier_wait(&barrier);
	uslab_fail_nth(5);
	for (unsigned long i = 1; i <= 10; i++) {
		void *p = kmalloc(32, GFP_KERNEL);

		if (!p && !at)
			at = i;
		else if (!p)
			at = 100;	/* a second failure */
		kfree(p);
	}
	return (void *)at;
}

static void fail_nth_threads(void)
{
	pthread_t t[THREADS];

	pthread_barrier_init(&barrier, NULL, THREADS);
	for (int i = 0; i < THREADS; i++)
		CHECK_EQ(pthread_create(&t[i], NULL, nth_thread, NULL), 0);
	for (int i = 0; i < THREADS; i++) {
		void *ret;

		pthread_join(t[i], &ret);
		CHECK_EQ((unsigned long)ret, 5);
	}
}

/* A refused value says why, and changes nothing. */
static void refused(void)
{
	const char *err;
	struct kmem_cache *s;
	bool failed[5];

	capture_begin();
	s = warm_cache("fs-refused", 64, 0);
	err = capture_end();
	/* nothing fails: not with USLAB_FAILSLAB refused, not what may sleep */
	CHECK_EQ(alloc_pattern(s, GFP_NOWAIT, 5, failed), 0);
	CHECK(strstr(err, "uslab: USLAB_FAILSLAB=") != NULL);
	CHECK(strstr(err, "fault injection stays off") != NULL);
	CHECK(!strstr(err, "unknown option"));
	kmem_cache_destroy(s);
}

static void refused_switches(void)
{
	const char *err;

	capture_begin();
	uslab_init();
	err = capture_end();
	CHECK(strstr(err, "uslab: USLAB_FAILSLAB_VERBOSE=3 is not 0, 1 or 2; keeping 2") != NULL);
	CHECK(strstr(err, "uslab: USLAB_FAILSLAB_IGNORE_GFP_WAIT=yes is not 0 or 1 (N or Y); keeping 1") != NULL);
	CHECK(strstr(err, "uslab: USLAB_FAILSLAB_CACHE_FILTER=2 is not 0 or 1 (N or Y); keeping 0") != NULL);
	CHECK(!strstr(err, "unknown option"));
}

/* The exact counts: only the cache under test is failed, and counted. */
#define FILTER "USLAB_FAILSLAB_CACHE_FILTER=1 "

int main(void)
{
	static const char *const bad[] = {
		"1,100,0", "1,101,0,1", "1,100,0,-2", "x,100,0,1", "1,100,0,1,",
		" 1,100,0,1", "1,100,-1,1", "1,100,0,99999999999", "",
	};

	run_case("times", times_and_gfp,
		 FILTER "USLAB_FAILSLAB=1,100,0,3 USLAB_FAILSLAB_VERBOSE=0");
	run_case("ignore-gfp-wait 0", gfp_wait_failed,
		 "USLAB_FAILSLAB=1,100,0,2 USLAB_FAILSLAB_IGNORE_GFP_WAIT=0 USLAB_FAILSLAB_VERBOSE=0");
	run_case("ignore-gfp-wait N", gfp_wait_failed,
		 "USLAB_FAILSLAB=1,100,0,2 USLAB_FAILSLAB_IGNORE_GFP_WAIT=N USLAB_FAILSLAB_VERBOSE=0");
	run_case("interval", interval, FILTER "USLAB_FAILSLAB=3,100,0,-1 USLAB_FAILSLAB_VERBOSE=0");
	run_case("space", space, FILTER "USLAB_FAILSLAB=1,100,1000,-1 USLAB_FAILSLAB_VERBOSE=0");
	run_case("probability 50", probability_half,
		 "USLAB_FAILSLAB=1,50,0,-1 USLAB_FAILSLAB_VERBOSE=0");
	run_case("probability 0", probability_zero, "USLAB_FAILSLAB=1,0,0,-1");
	run_case("everything fails", everything_fails,
		 "USLAB_FAILSLAB=1,100,0,-1 USLAB_FAILSLAB_IGNORE_GFP_WAIT=0 USLAB_FAILSLAB_VERBOSE=0");
	run_case("verbose 1", verbose1, FILTER "USLAB_FAILSLAB=1,100,0,2 USLAB_FAILSLAB_VERBOSE=1");
	run_case("verbose 2", verbose2, FILTER "USLAB_FAILSLAB=1,100,0,2 USLAB_FAILSLAB_VERBOSE=2");
	run_case("verbose default (2)", verbose2, FILTER "USLAB_FAILSLAB=1,100,0,2");
	run_case("verbose 0", verbose0, FILTER "USLAB_FAILSLAB=1,100,0,2 USLAB_FAILSLAB_VERBOSE=0");
	run_case("__GFP_NOWARN", verbose_nowarn,
		 FILTER "USLAB_FAILSLAB=1,100,0,2 USLAB_FAILSLAB_VERBOSE=2");
	run_case("cache filter", cache_filter,
		 "USLAB_FAILSLAB=1,100,0,-1 USLAB_FAILSLAB_CACHE_FILTER=1 USLAB_FAILSLAB_VERBOSE=0 "
		 "USLAB_SLAB_DEBUG=A,fs-by-debug");
	run_case("cache filter fail-nth", cache_filter_nth,
		 "USLAB_FAILSLAB_CACHE_FILTER=Y USLAB_FAILSLAB_VERBOSE=0");
	run_case("fail-nth", fail_nth, "USLAB_FAILSLAB_VERBOSE=0");
	run_case("times, threads", times_threads,
		 FILTER "USLAB_FAILSLAB=1,100,0,1000 USLAB_FAILSLAB_VERBOSE=0");
	run_case("fail-nth, threads", fail_nth_threads, "USLAB_FAILSLAB_VERBOSE=0");
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char env[128];

		snprintf(env, sizeof(env), "USLAB_FAILSLAB=%s", bad[i]);
		/* run_case splits on spaces: give the leading-space one by hand */
		if (bad[i][0] == ' ')
			snprintf(env, sizeof(env), "USLAB_FAILSLAB=\t1,100,0,1");
		run_case("refused", refused, env);
	}
	run_case("refused switches", refused_switches,
		 "USLAB_FAILSLAB_VERBOSE=3 USLAB_FAILSLAB_IGNORE_GFP_WAIT=yes USLAB_FAILSLAB_CACHE_FILTER=2");
	return test_done("failslab");
}
