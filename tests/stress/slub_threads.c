// SPDX-License-Identifier: MIT
/*
 * slub_threads.c - SLUB under threads: 8 threads on one cache in
 * producer/consumer pairs (every object is freed by a thread that did not
 * allocate it), content checks on every object, fork while the others
 * allocate, and thousands of short-lived threads whose cached objects must
 * come back when they exit.  Bounded by iteration counts; prints what it did.
 */
#define _GNU_SOURCE
#include <uslab/slab.h>
#include <uslab/uslab.h>
#include <pthread.h>
#include <stdint.h>
#include "../test.h"

#define OBJ_SIZE 120
#define RING 1024

static struct kmem_cache *cache;

struct ring {
	void *slot[RING];
	unsigned long head, tail;	/* head: producer, tail: consumer */
	int done;
};

struct pair {
	struct ring ring;
	unsigned int id;
	unsigned long rounds;
	unsigned long bad;
};

static void fill(unsigned char *p, unsigned long tag)
{
	memcpy(p, &tag, sizeof(tag));
	memset(p + sizeof(tag), (int)(tag & 0xff), OBJ_SIZE - sizeof(tag));
}

static int verify(const unsigned char *p)
{
	unsigned long tag;

	memcpy(&tag, p, sizeof(tag));
	for (int i = sizeof(tag); i < OBJ_SIZE; i++)
		if (p[i] != (unsigned char)(tag & 0xff))
			return 0;
	return 1;
}

static void *producer(void *arg)
{
	struct pair *pr = arg;
	struct ring *r = &pr->ring;

	for (unsigned long i = 0; i < pr->rounds; i++) {
		unsigned char *p = kmem_cache_alloc(cache, GFP_KERNEL);

		fill(p, ((unsigned long)pr->id << 32) | i);
		while (__atomic_load_n(&r->head, __ATOMIC_RELAXED) -
		       __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) == RING)
			sched_yield();
		r->slot[r->head % RING] = p;
		__atomic_store_n(&r->head, r->head + 1, __ATOMIC_RELEASE);
		/* and some private traffic of its own */
		void *q = kmem_cache_alloc(cache, GFP_KERNEL);
		fill(q, i);
		if (!verify(q))
			pr->bad++;
		kmem_cache_free(cache, q);
	}
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *consumer(void *arg)
{
	struct pair *pr = arg;
	struct ring *r = &pr->ring;

	for (;;) {
		unsigned long tail = r->tail;

		if (tail == __atomic_load_n(&r->head, __ATOMIC_ACQUIRE)) {
			if (__atomic_load_n(&r->done, __ATOMIC_ACQUIRE) &&
			    tail == __atomic_load_n(&r->head, __ATOMIC_ACQUIRE))
				break;
			sched_yield();
			continue;
		}
		unsigned char *p = r->slot[tail % RING];
		if (!verify(p))
			pr->bad++;
		kmem_cache_free(cache, p);
		__atomic_store_n(&r->tail, tail + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static unsigned long cache_active(const char *name)
{
	static char buf[1 << 16];
	char key[64];

	uslab_slabinfo(buf, sizeof(buf));
	snprintf(key, sizeof(key), "\n%s ", name);
	const char *l = strstr(buf, key);
	unsigned long active = ~0UL;

	if (l)
		sscanf(l + strlen(key), "%lu", &active);
	return active;
}

static void pairs(unsigned long rounds)
{
	struct pair pr[4];
	pthread_t t[8];

	for (int i = 0; i < 4; i++) {
		memset(&pr[i], 0, sizeof(pr[i]));
		pr[i].id = (unsigned int)i;
		pr[i].rounds = rounds;
		pthread_create(&t[2 * i], NULL, producer, &pr[i]);
		pthread_create(&t[2 * i + 1], NULL, consumer, &pr[i]);
	}
	unsigned long bad = 0;
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 4; i++)
		bad += pr[i].bad;
	CHECK_EQ(bad, 0);
	printf("pairs: 8 threads, %lu objects handed across threads\n", 4 * rounds);
	/*
	 * every thread exited: nothing may stay in their slots (SLAB keeps a
	 * node's shared array, counted as active as in the kernel: drain it)
	 */
	/*
	 * What this thread freed sits in its per-thread arrays (SLAB's
	 * array caches, SLUB's sheaves), which slabinfo counts as active,
	 * as the kernel's does; shrinking gives it back.
	 */
	kmem_cache_shrink(cache);
	CHECK_EQ(cache_active("stress-120"), 0);
}

static volatile int stop_allocators;

static void *allocator_loop(void *arg)
{
	unsigned long n = 0;
	void *v[64];

	(void)arg;
	while (!__atomic_load_n(&stop_allocators, __ATOMIC_RELAXED)) {
		for (int i = 0; i < 64; i++) {
			v[i] = i & 1 ? kmalloc((size_t)(i * 40 + 1), GFP_KERNEL)
				     : kmem_cache_alloc(cache, GFP_KERNEL);
			memset(v[i], i, i & 1 ? (size_t)(i * 40 + 1) : OBJ_SIZE);
		}
		for (int i = 0; i < 64; i++) {
			if (i & 1)
				kfree(v[i]);
			else
				kmem_cache_free(cache, v[i]);
		}
		n++;
	}
	return (void *)n;
}

static void *producer_noop(void *arg)
{
	void *p = kmalloc(100, GFP_KERNEL);

	kfree(p);
	return arg;
}

static void forks(int nforks)
{
	pthread_t t[3];
	int ok = 0;

	stop_allocators = 0;
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, allocator_loop, NULL);
	for (int f = 0; f < nforks; f++) {
		usleep(2000);
		pid_t pid = fork();
		if (pid == 0) {
			alarm(60);	/* a hang guard, not a timing check */
			void *v[2000];
			for (int r = 0; r < 5; r++) {
				for (int i = 0; i < 2000; i++) {
					v[i] = i & 1 ? kmalloc((size_t)i + 1, GFP_KERNEL)
						     : kmem_cache_alloc(cache, GFP_KERNEL);
					memset(v[i], 0x11, i & 1 ? (size_t)i + 1 : OBJ_SIZE);
				}
				for (int i = 0; i < 2000; i++) {
					if (i & 1)
						kfree(v[i]);
					else
						kmem_cache_free(cache, v[i]);
				}
			}
			/* the child can run threads of its own, too */
			pthread_t ct;
			pthread_create(&ct, NULL, producer_noop, NULL);
			pthread_join(ct, NULL);
			_exit(uslab_error_count() ? 3 : 0);
		}
		int status;
		waitpid(pid, &status, 0);
		ok += WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	__atomic_store_n(&stop_allocators, 1, __ATOMIC_RELAXED);
	unsigned long loops = 0;
	for (int i = 0; i < 3; i++) {
		void *n;
		pthread_join(t[i], &n);
		loops += (unsigned long)n;
	}
	CHECK_EQ(ok, nforks);
	printf("fork: %d children of a process with 3 allocating threads (%lu loops) ran clean\n",
	       ok, loops);
}

static void *short_lived(void *arg)
{
	void *v[50];

	(void)arg;
	for (int i = 0; i < 50; i++)
		v[i] = kmem_cache_alloc(cache, GFP_KERNEL);
	for (int i = 0; i < 50; i += 2)
		kmem_cache_free(cache, v[i]);
	/* half stay live, handed back to main through the array */
	memcpy(arg, v, sizeof(v));
	return NULL;
}

/* AddressSanitizer keeps state for every thread that ever ran. */
#if defined(__SANITIZE_ADDRESS__)
#define RSS_COUNTS_THREADS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RSS_COUNTS_THREADS 1
#endif
#endif

static size_t pages_allocated(void)
{
	struct uslab_page_stats st;

	uslab_page_stats(&st);
	return st.allocated;
}

static void churn(int nthreads)
{
	static void *held[50];
	long rss_start = 0, rss_end;
	size_t pages_start = 0, pages_end;

	for (int i = 0; i < nthreads; i++) {
		pthread_t t;

		pthread_create(&t, NULL, short_lived, held);
		pthread_join(t, NULL);
		for (int j = 1; j < 50; j += 2)
			kmem_cache_free(cache, held[j]);
		if (i == nthreads / 10) {
			/*
			 * Empty slabs a node keeps for reuse (SLUB, docs/slub.md)
			 * are a bounded cache, not what this counts: shrink gives
			 * them back, and leaves whatever an exited thread stranded.
			 */
			kmem_cache_shrink(cache);
			rss_start = rss_bytes();
			pages_start = pages_allocated();
		}
	}
	kmem_cache_shrink(cache);
	rss_end = rss_bytes();
	pages_end = pages_allocated();
	printf("churn: %d short-lived threads, RSS %ld KiB after 10%%, %ld KiB at the end; "
	       "pages allocated %zu -> %zu\n",
	       nthreads, rss_start >> 10, rss_end >> 10, pages_start, pages_end);
	/* the threads' cpu slabs and partial chains all came back */
	CHECK(pages_end <= pages_start + 16);
#ifndef RSS_COUNTS_THREADS
	CHECK(rss_end - rss_start < 4L << 20);
#endif
	/*
	 * What this thread freed sits in its per-thread arrays (SLAB's
	 * array caches, SLUB's sheaves), which slabinfo counts as active,
	 * as the kernel's does; shrinking gives it back.
	 */
	kmem_cache_shrink(cache);
	CHECK_EQ(cache_active("stress-120"), 0);
}

int main(int argc, char **argv)
{
	unsigned long rounds = argc > 1 ? strtoul(argv[1], NULL, 0) : 200000;

	cache = kmem_cache_create("stress-120", OBJ_SIZE, 0, SLAB_NO_MERGE, NULL);
	pairs(rounds);
	forks(8);
	churn(3000);
	CHECK_EQ(uslab_error_count(), 0);
	kmem_cache_destroy(cache);
	return test_done("slub_threads");
}
