// SPDX-License-Identifier: MIT
/*
 * page_alloc_threads.c - the buddy allocator under threads.
 *
 * 4 threads, a fixed number of rounds each: allocate a block of a random
 * order (mostly small, now and then up to MAX_ORDER; GFP_KERNEL, __GFP_ZERO,
 * GFP_ATOMIC, or the address forms), fill it with a pattern of its own,
 * keep a few, and let each go either by a free of its own or through a
 * mutex-protected queue to the next thread, which verifies and frees it -
 * so a good part of the blocks are freed by a thread that did not
 * allocate them.  Every
 * block is verified before it is freed.  page_retain_mb is small, so frees
 * keep releasing memory to the OS while the others allocate.  At the end
 * all memory coalesces back as before the run.  Bounded by iteration
 * counts; prints what it did.
 *
 * Usage: page_alloc_threads [seed]
 */
#include "test.h"
#include "page_check.h"

#include <pthread.h>
#include <stdint.h>
#include <inttypes.h>
#include <time.h>

#define NR_THREADS	4
#define ROUNDS		20000
#define KEEP		32		/* blocks each thread holds at most */
#define QUEUE		256

struct blk {
	unsigned long addr;
	unsigned int order;
	uint64_t tag;			/* thread << 56 | sequence */
};

/* Thread i hands blocks to queue (i + 1) % NR_THREADS and takes from queue i. */
static struct queue {
	pthread_mutex_t lock;
	struct blk slot[QUEUE];
	unsigned int head, count;
} queues[NR_THREADS];

struct worker {
	pthread_t thread;
	unsigned int id;
	uint64_t rng;
	unsigned long allocs, atomic_fails, own_frees, foreign_frees, bad;
	unsigned long per_order[MAX_ORDER + 1];
	struct blk keep[KEEP];
	unsigned int nr_keep;
};

static struct worker workers[NR_THREADS];

static uint64_t rnd(struct worker *w)
{
	uint64_t z = (w->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned int random_order(struct worker *w)
{
	unsigned int r = (unsigned int)(rnd(w) % 1000);

	if (r < 600)
		return (unsigned int)(rnd(w) % 2);		/* 0..1 */
	if (r < 900)
		return 2 + (unsigned int)(rnd(w) % 3);	/* 2..4 */
	if (r < 995)
		return 5 + (unsigned int)(rnd(w) % 3);	/* 5..7 */
	return 8 + (unsigned int)(rnd(w) % 3);		/* 8..10 */
}

/* Small blocks are filled whole; larger ones get a word at each end of every page. */
#define FULL_FILL_ORDER 2

static void fill(const struct blk *b)
{
	uint64_t *p = (uint64_t *)b->addr;

	if (b->order <= FULL_FILL_ORDER) {
		for (size_t i = 0; i < (PAGE_SIZE << b->order) / 8; i++)
			p[i] = b->tag + i;
		return;
	}
	for (size_t pg = 0; pg < (1UL << b->order); pg++) {
		p[pg * (PAGE_SIZE / 8)] = b->tag + pg;
		p[pg * (PAGE_SIZE / 8) + PAGE_SIZE / 8 - 1] = ~(b->tag + pg);
	}
}

static int intact(const struct blk *b)
{
	const uint64_t *p = (const uint64_t *)b->addr;

	if (b->order <= FULL_FILL_ORDER) {
		for (size_t i = 0; i < (PAGE_SIZE << b->order) / 8; i++)
			if (p[i] != b->tag + i)
				return 0;
		return 1;
	}
	for (size_t pg = 0; pg < (1UL << b->order); pg++)
		if (p[pg * (PAGE_SIZE / 8)] != b->tag + pg ||
		    p[pg * (PAGE_SIZE / 8) + PAGE_SIZE / 8 - 1] != ~(b->tag + pg))
			return 0;
	return 1;
}

static int all_zero(const struct blk *b)
{
	const uint64_t *p = (const uint64_t *)b->addr;

	for (size_t i = 0; i < (PAGE_SIZE << b->order) / 8; i++)
		if (p[i])
			return 0;
	return 1;
}

static void release(struct worker *w, const struct blk *b, int foreign)
{
	if (!intact(b)) {
		fprintf(stderr, "thread %u: block %#lx order %u (tag %#" PRIx64 ") corrupted\n",
			w->id, b->addr, b->order, b->tag);
		__atomic_add_fetch(&w->bad, 1, __ATOMIC_RELAXED);
	}
	if (rnd(w) & 1)
		free_pages(b->addr, b->order);
	else
		__free_pages(virt_to_page((void *)b->addr), b->order);
	if (foreign)
		w->foreign_frees++;
	else
		w->own_frees++;
}

static int alloc_one(struct worker *w, struct blk *b, unsigned long seq)
{
	unsigned int order = random_order(w), how = (unsigned int)(rnd(w) % 8);
	gfp_t gfp = how == 0 ? GFP_ATOMIC : how == 1 ? GFP_KERNEL | __GFP_ZERO : GFP_KERNEL;

	b->order = order;
	b->tag = (uint64_t)w->id << 56 | (uint64_t)seq << 8;
	if (how & 4) {
		b->addr = __get_free_pages(gfp, order);
	} else {
		struct page *p = alloc_pages(gfp, order);

		b->addr = p ? (unsigned long)page_address(p) : 0;
	}
	if (!b->addr) {
		if (gfp == GFP_ATOMIC) {
			w->atomic_fails++;	/* allowed: it may not wait for growth */
			return 0;
		}
		fprintf(stderr, "thread %u: order-%u allocation failed\n", w->id, order);
		__atomic_add_fetch(&w->bad, 1, __ATOMIC_RELAXED);
		return 0;
	}
	if (b->addr % (PAGE_SIZE << order)) {
		fprintf(stderr, "thread %u: %#lx not aligned to order %u\n", w->id, b->addr, order);
		w->bad++;
	}
	if ((gfp & __GFP_ZERO) && !all_zero(b)) {
		fprintf(stderr, "thread %u: __GFP_ZERO block %#lx order %u not zeroed\n",
			w->id, b->addr, order);
		w->bad++;
	}
	fill(b);
	w->allocs++;
	w->per_order[order]++;
	return 1;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	for (unsigned long r = 0; r < ROUNDS; r++) {
		struct blk b;
		unsigned int act = (unsigned int)(rnd(w) % 4);

		if (w->nr_keep < KEEP && alloc_one(w, &b, r))
			w->keep[w->nr_keep++] = b;

		if (act == 0 && w->nr_keep) {
			/* free one of ours */
			unsigned int i = (unsigned int)(rnd(w) % w->nr_keep);

			b = w->keep[i];
			w->keep[i] = w->keep[--w->nr_keep];
			release(w, &b, 0);
		} else if (act == 1 && w->nr_keep) {
			/* hand one over */
			unsigned int i = (unsigned int)(rnd(w) % w->nr_keep);
			int queued = 0;

			struct queue *q = &queues[w->id % NR_THREADS];

			b = w->keep[i];
			pthread_mutex_lock(&q->lock);
			if (q->count < QUEUE) {
				q->slot[(q->head + q->count++) % QUEUE] = b;
				queued = 1;
			}
			pthread_mutex_unlock(&q->lock);
			if (queued)
				w->keep[i] = w->keep[--w->nr_keep];
		} else {
			/* take one from our queue: the previous thread's */
			struct queue *q = &queues[w->id - 1];
			int got = 0;

			pthread_mutex_lock(&q->lock);
			if (q->count) {
				b = q->slot[q->head];
				q->head = (q->head + 1) % QUEUE;
				q->count--;
				got = 1;
			}
			pthread_mutex_unlock(&q->lock);
			if (got)
				release(w, &b, (unsigned int)(b.tag >> 56) != w->id);
		}
	}
	while (w->nr_keep) {
		struct blk b = w->keep[--w->nr_keep];

		release(w, &b, 0);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct buddy_snap base, now;
	struct worker total = { 0 };
	uint64_t seed;
	struct timespec t0, t1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	seed = argc > 1 ? strtoull(argv[1], NULL, 0) : test_seed_value(1);
	printf("page_alloc_threads: seed %" PRIu64 " (rerun with: %s %" PRIu64 ")\n",
	       seed, argv[0], seed);
	/* release memory to the OS often, while the other threads allocate */
	CHECK_EQ(uslab_option_set("page_retain_mb", 4), 0);
	CHECK_EQ(buddy_snap(&base), 0);
	buddy_print("before", &base);
	hang_guard(60, "page_alloc_threads");

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned int i = 0; i < NR_THREADS; i++)
		pthread_mutex_init(&queues[i].lock, NULL);
	for (unsigned int i = 0; i < NR_THREADS; i++) {
		workers[i].id = i + 1;
		workers[i].rng = seed + i * 0x1234567ull;
		CHECK_EQ(pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]), 0);
	}
	for (unsigned int i = 0; i < NR_THREADS; i++)
		pthread_join(workers[i].thread, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);

	/* what is left in the queue */
	total.id = 0;
	total.rng = seed;
	for (unsigned int i = 0; i < NR_THREADS; i++) {
		struct queue *q = &queues[i];

		while (q->count) {
			struct blk b = q->slot[q->head];

			q->head = (q->head + 1) % QUEUE;
			q->count--;
			release(&total, &b, 1);
		}
	}

	for (unsigned int i = 0; i < NR_THREADS; i++) {
		struct worker *w = &workers[i];

		total.allocs += w->allocs;
		total.atomic_fails += w->atomic_fails;
		total.own_frees += w->own_frees;
		total.foreign_frees += w->foreign_frees;
		total.bad += w->bad;
		for (int o = 0; o <= MAX_ORDER; o++)
			total.per_order[o] += w->per_order[o];
	}
	printf("%d threads x %d rounds in %.2f s: %lu blocks allocated, %lu freed by their "
	       "allocating thread, %lu by another (or main); %lu GFP_ATOMIC failures\n",
	       NR_THREADS, ROUNDS,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
	       total.allocs, total.own_frees, total.foreign_frees, total.atomic_fails);
	printf("allocations per order:");
	for (int o = 0; o <= MAX_ORDER; o++)
		printf(" %lu", total.per_order[o]);
	printf("\n");
	CHECK_EQ(total.bad, 0);
	CHECK_EQ(total.own_frees + total.foreign_frees, total.allocs);
	CHECK(total.foreign_frees > 0);

	CHECK_EQ(buddy_snap(&now), 0);
	printf("released to the OS during the run: %.1f MiB\n",
	       (double)(now.st.released * PAGE_SIZE) / (1 << 20));
	check_coalesced(&base);
	CHECK_EQ(uslab_error_count(), 0);
	return test_done("page_alloc_threads");
}
