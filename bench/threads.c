/* SPDX-License-Identifier: MIT */
/*
 * threads - the allocator under concurrency, for each thread count in
 * --threads (default 1, 2, 4, ... up to twice the online CPUs):
 *
 *   threads/local/Nt   each thread allocates --batch objects of --size
 *                      bytes and frees them, --ops times in all: how the
 *                      per-thread (per-CPU) layer scales.
 *   threads/remote/Nt  N/2 producer/consumer pairs (N even): the producer
 *                      allocates and hands the object over a lock-free
 *                      single-producer single-consumer ring, the consumer
 *                      frees it.  Every free is a remote free.  A side that
 *                      must wait spins briefly, then sleeps on a futex until
 *                      half a ring is ready.
 *   threads/larson/Nt  after Larson and Krishnan's server benchmark: N
 *                      lineages, each a chain of --larson-rounds threads
 *                      that inherit an array of --larson-slots live blocks
 *                      of random size (8..1000 bytes) from the thread
 *                      before, and replace random blocks --larson-ops
 *                      times.  Blocks allocated by a thread that has exited
 *                      are freed by its successor.
 *   threads/pass/Nt    Larson's arrays, passed between live threads (N >=
 *                      2): N threads in a ring and 2N arrays of
 *                      --larson-slots blocks (8..1000 bytes).  A thread
 *                      replaces --pass-ops random blocks of the array it
 *                      holds, queues the array for the next thread and
 *                      takes the oldest one queued for it, --pass-rounds
 *                      times.  Most blocks a thread frees were allocated by
 *                      another thread that is still running.
 *
 * Each reports million alloc+free pairs per second over all threads, from
 * the first thread's start to the last one's end.  Fixed-size objects come
 * from B_CACHE_* (one shared cache), Larson's mixed sizes from B_ALLOC.
 */
#include "bench.h"
#include "balloc.h"

#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>

#define RING_SIZE 1024		/* power of two */
#define LARSON_MIN 8
#define LARSON_MAX 1000

static long opt_ops, opt_batch, opt_size, opt_remote_ops;
static long opt_larson_rounds, opt_larson_ops, opt_larson_slots;
static long opt_pass_rounds, opt_pass_ops;
static bool opt_check;
static b_cache_t cache;

static pthread_barrier_t start_barrier;

struct span {
	uint64_t start, end;
};

static void span_merge(struct span *all, const struct span *one)
{
	if (all->start == 0 || one->start < all->start)
		all->start = one->start;
	if (one->end > all->end)
		all->end = one->end;
}

static void xcreate(pthread_t *t, void *(*fn)(void *), void *arg)
{
	int err = pthread_create(t, NULL, fn, arg);

	if (err)
		b_die("pthread_create: %s", strerror(err));
}

/* ---------------------------------------------------------------- local */

struct local_arg {
	struct span span;
	long id;
};

static void *local_thread(void *argp)
{
	struct local_arg *a = argp;
	void **obj = b_map((size_t)opt_batch * sizeof(*obj));
	long rounds = opt_ops / opt_batch;

	pthread_barrier_wait(&start_barrier);
	a->span.start = b_now_ns();
	for (long r = 0; r < rounds; r++) {
		for (long i = 0; i < opt_batch; i++) {
			void *p = B_CACHE_ALLOC(cache);

			b_check_alloc(p, opt_size);
			b_touch(p, (size_t)opt_size, (uint64_t)i, opt_check);
			obj[i] = p;
		}
		for (long i = 0; i < opt_batch; i++) {
			b_untouch(obj[i], (size_t)opt_size, (uint64_t)i, opt_check, "local");
			B_CACHE_FREE(cache, obj[i]);
		}
	}
	a->span.end = b_now_ns();
	b_unmap(obj, (size_t)opt_batch * sizeof(*obj));
	return NULL;
}

static void run_local(long nthreads)
{
	pthread_t t[nthreads];
	struct local_arg a[nthreads];
	struct span all = { 0, 0 };
	char name[64];
	long pairs = nthreads * (opt_ops / opt_batch) * opt_batch;

	pthread_barrier_init(&start_barrier, NULL, (unsigned)nthreads);
	for (long i = 0; i < nthreads; i++) {
		a[i].id = i;
		xcreate(&t[i], local_thread, &a[i]);
	}
	for (long i = 0; i < nthreads; i++) {
		pthread_join(t[i], NULL);
		span_merge(&all, &a[i].span);
	}
	pthread_barrier_destroy(&start_barrier);
	snprintf(name, sizeof(name), "threads/local/%ldt", nthreads);
	b_result(name, "mops", pairs / ((double)(all.end - all.start) / 1e9) / 1e6, true);
}

/* --------------------------------------------------------------- remote */

/*
 * A single-producer single-consumer ring.  A side that finds the ring
 * empty (full) spins a little for the next slot, then sleeps on a futex
 * until the other side has moved half a ring on: with more threads than
 * CPUs, spinning or yielding would mostly keep the partner from running,
 * and waking for every object would measure futex calls.  The waiters'
 * words have a line of their own, written only around a sleep, so checking
 * them costs the other side a read of a line it already holds.
 */
#define RING_SPINS 256

struct ring_waiter {
	_Atomic uint32_t sleeping;	/* 1 while asleep or about to be */
	_Atomic uint32_t wake_at;	/* the other side's index that wakes it */
	_Atomic uint32_t seq;		/* the futex word */
};

struct ring {
	_Alignas(64) _Atomic uint32_t head;	/* next slot to take */
	_Alignas(64) _Atomic uint32_t tail;	/* next slot to fill */
	_Alignas(64) struct ring_waiter consumer, producer;
	_Alignas(64) void *slot[RING_SIZE];
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	__asm__ volatile("" ::: "memory");
#endif
}

static inline bool reached(uint32_t index, uint32_t target)
{
	return (int32_t)(index - target) >= 0;
}

/*
 * Wait until the other side's @index reaches @spin_target, spinning; if it
 * does not soon, sleep until it reaches @sleep_target.  The sleeper raises
 * its flag before its last look at @index and the other side stores @index
 * before it looks at the flag, both sequentially consistent, so one of the
 * two sees the other and no wake-up is lost.
 */
static void ring_wait(_Atomic uint32_t *index, uint32_t spin_target, uint32_t sleep_target,
		      struct ring_waiter *w)
{
	for (int i = 0; i < RING_SPINS; i++) {
		if (reached(atomic_load_explicit(index, memory_order_acquire), spin_target))
			return;
		cpu_relax();
	}
	atomic_store(&w->wake_at, sleep_target);
	for (;;) {
		uint32_t seq = atomic_load(&w->seq);

		atomic_store(&w->sleeping, 1);
		if (reached(atomic_load(index), sleep_target))
			break;
		syscall(SYS_futex, (uint32_t *)&w->seq, FUTEX_WAIT_PRIVATE, seq, NULL, NULL, 0);
	}
	atomic_store(&w->sleeping, 0);
}

static inline void ring_publish(_Atomic uint32_t *index, uint32_t val, struct ring_waiter *w)
{
	atomic_store(index, val);
	if (atomic_load(&w->sleeping) && reached(val, atomic_load(&w->wake_at)) &&
	    atomic_exchange(&w->sleeping, 0)) {
		atomic_fetch_add(&w->seq, 1);
		syscall(SYS_futex, (uint32_t *)&w->seq, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	}
}

struct remote_arg {
	struct ring *ring;
	struct span span;
	bool producer;
};

static void *remote_thread(void *argp)
{
	struct remote_arg *a = argp;
	struct ring *ring = a->ring;
	uint32_t total = (uint32_t)opt_remote_ops;

	pthread_barrier_wait(&start_barrier);
	a->span.start = b_now_ns();
	if (a->producer) {
		uint32_t tail = 0, head_seen = 0;

		for (uint32_t n = 0; n < total; n++, tail++) {
			void *p;

			if (tail - head_seen == RING_SIZE) {
				ring_wait(&ring->head, tail - RING_SIZE + 1,
					  tail - RING_SIZE / 2, &ring->producer);
				head_seen = atomic_load_explicit(&ring->head, memory_order_acquire);
			}
			p = B_CACHE_ALLOC(cache);
			b_check_alloc(p, opt_size);
			b_touch(p, (size_t)opt_size, n, opt_check);
			ring->slot[tail % RING_SIZE] = p;
			ring_publish(&ring->tail, tail + 1, &ring->consumer);
		}
	} else {
		uint32_t head = 0, tail_seen = 0;

		for (uint32_t n = 0; n < total; n++, head++) {
			void *p;

			if (tail_seen == head) {
				uint32_t left = total - n;

				ring_wait(&ring->tail, head + 1,
					  head + (left < RING_SIZE / 2 ? left : RING_SIZE / 2),
					  &ring->consumer);
				tail_seen = atomic_load_explicit(&ring->tail, memory_order_acquire);
			}
			p = ring->slot[head % RING_SIZE];
			ring_publish(&ring->head, head + 1, &ring->producer);
			/* FIFO: the n-th object taken is the n-th one made. */
			b_untouch(p, (size_t)opt_size, n, opt_check, "remote");
			B_CACHE_FREE(cache, p);
		}
	}
	a->span.end = b_now_ns();
	return NULL;
}

static void run_remote(long nthreads)
{
	long pairs = nthreads / 2, n = pairs * 2;
	pthread_t t[n];
	struct remote_arg a[n];
	struct ring *rings = b_map((size_t)pairs * sizeof(*rings));
	struct span all = { 0, 0 };
	char name[64];

	pthread_barrier_init(&start_barrier, NULL, (unsigned)n);
	for (long i = 0; i < n; i++) {
		a[i].ring = &rings[i / 2];
		a[i].producer = (i % 2) == 0;
		xcreate(&t[i], remote_thread, &a[i]);
	}
	for (long i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		span_merge(&all, &a[i].span);
	}
	pthread_barrier_destroy(&start_barrier);
	b_unmap(rings, (size_t)pairs * sizeof(*rings));
	snprintf(name, sizeof(name), "threads/remote/%ldt", n);
	b_result(name, "mops", pairs * opt_remote_ops / ((double)(all.end - all.start) / 1e9) / 1e6,
		 true);
}

/* --------------------------------------------------------------- larson */

struct block {
	void *p;
	size_t size;
	uint64_t tag;
};

struct lineage {
	struct block *blocks;
	uint64_t rng;
	uint64_t next_tag;
	struct span span;
	struct lineage *queued;	/* pass: the next array in a mailbox */
};

static size_t larson_size(uint64_t *rng)
{
	return LARSON_MIN + (size_t)b_rand_below(rng, LARSON_MAX - LARSON_MIN + 1);
}

static void larson_put(struct lineage *l, struct block *b)
{
	b->size = larson_size(&l->rng);
	b->tag = l->next_tag++;
	b->p = B_ALLOC(b->size);
	b_check_alloc(b->p, b->size);
	b_touch(b->p, b->size, b->tag, opt_check);
}

static void larson_drop(struct block *b)
{
	b_untouch(b->p, b->size, b->tag, opt_check, "larson");
	B_FREE(b->p, b->size);
}

/* One generation: replace random blocks, then exit and leave the rest. */
static void *larson_worker(void *argp)
{
	struct lineage *l = argp;

	for (long i = 0; i < opt_larson_ops; i++) {
		struct block *b = &l->blocks[b_rand_below(&l->rng, (uint64_t)opt_larson_slots)];

		larson_drop(b);
		larson_put(l, b);
	}
	return NULL;
}

/* A lineage: each generation is a new thread, started when the last ends. */
static void *larson_lineage(void *argp)
{
	struct lineage *l = argp;

	for (long i = 0; i < opt_larson_slots; i++)
		larson_put(l, &l->blocks[i]);
	pthread_barrier_wait(&start_barrier);
	l->span.start = b_now_ns();
	for (long r = 0; r < opt_larson_rounds; r++) {
		pthread_t t;

		xcreate(&t, larson_worker, l);
		pthread_join(t, NULL);
	}
	l->span.end = b_now_ns();
	for (long i = 0; i < opt_larson_slots; i++)
		larson_drop(&l->blocks[i]);
	return NULL;
}

static void run_larson(long nthreads)
{
	pthread_t t[nthreads];
	struct lineage l[nthreads];
	struct span all = { 0, 0 };
	char name[64];
	size_t bytes = (size_t)opt_larson_slots * sizeof(struct block);
	double ops = (double)nthreads * opt_larson_rounds * opt_larson_ops;
	/* RSS before and after: what the thread churn left resident once every
	 * block is freed and every thread is gone (stranded per-thread caches,
	 * partial slabs, arenas). */
	long rss_before = b_rss_bytes(), rss_after;

	pthread_barrier_init(&start_barrier, NULL, (unsigned)nthreads);
	for (long i = 0; i < nthreads; i++) {
		l[i].blocks = b_map(bytes);
		l[i].rng = 0x1234567ull + (uint64_t)i * 7919;
		l[i].next_tag = 0;
		xcreate(&t[i], larson_lineage, &l[i]);
	}
	for (long i = 0; i < nthreads; i++) {
		pthread_join(t[i], NULL);
		span_merge(&all, &l[i].span);
		b_unmap(l[i].blocks, bytes);
	}
	pthread_barrier_destroy(&start_barrier);
	rss_after = b_rss_bytes();
	snprintf(name, sizeof(name), "threads/larson/%ldt", nthreads);
	b_result(name, "mops", ops / ((double)(all.end - all.start) / 1e9) / 1e6, true);
	snprintf(name, sizeof(name), "threads/larson_left/%ldt", nthreads);
	b_result(name, "rss_mib", (double)(rss_after - rss_before) / (1024.0 * 1024.0), false);
}

/* ----------------------------------------------------------------- pass */

/*
 * Each thread's mailbox is a FIFO of arrays.  A thread puts the array it
 * worked on into its successor's mailbox, then takes the oldest from its
 * own, sleeping on a condition variable while that is empty.  There are
 * PASS_DEPTH arrays per thread, one held and the rest queued at the start,
 * so a thread can run a round ahead of its predecessor instead of stepping
 * in lock with it; and since a waiting thread holds no array, not every
 * thread can wait at once.  A hand-off comes every --pass-ops
 * replacements, so the mutex costs little.
 */
#define PASS_DEPTH 2

struct mailbox {
	_Alignas(64) pthread_mutex_t lock;
	pthread_cond_t cond;
	struct lineage *first, *last;
};

struct pass_arg {
	struct mailbox *own, *next;
	struct span span;
	uint64_t rng;		/* which blocks to replace */
};

static void mailbox_put(struct mailbox *m, struct lineage *l)
{
	l->queued = NULL;
	pthread_mutex_lock(&m->lock);
	if (m->last)
		m->last->queued = l;
	else
		m->first = l;
	m->last = l;
	pthread_cond_signal(&m->cond);
	pthread_mutex_unlock(&m->lock);
}

static struct lineage *mailbox_take(struct mailbox *m)
{
	struct lineage *l;

	pthread_mutex_lock(&m->lock);
	while (!m->first)
		pthread_cond_wait(&m->cond, &m->lock);
	l = m->first;
	m->first = l->queued;
	if (!m->first)
		m->last = NULL;
	pthread_mutex_unlock(&m->lock);
	return l;
}

static void *pass_thread(void *argp)
{
	struct pass_arg *a = argp;
	struct lineage *l = mailbox_take(a->own);	/* run_pass queued PASS_DEPTH */

	pthread_barrier_wait(&start_barrier);
	a->span.start = b_now_ns();
	for (long r = 0; r < opt_pass_rounds; r++) {
		for (long i = 0; i < opt_pass_ops; i++) {
			struct block *b = &l->blocks[b_rand_below(&a->rng,
								  (uint64_t)opt_larson_slots)];

			/* sizes and tags come from the array's own state */
			larson_drop(b);
			larson_put(l, b);
		}
		mailbox_put(a->next, l);
		l = mailbox_take(a->own);
	}
	a->span.end = b_now_ns();
	return NULL;
}

static void run_pass(long nthreads)
{
	long narrays = nthreads * PASS_DEPTH;
	pthread_t t[nthreads];
	struct pass_arg a[nthreads];
	struct lineage *l = b_map((size_t)narrays * sizeof(*l));
	struct mailbox *box = b_map((size_t)nthreads * sizeof(*box));
	struct span all = { 0, 0 };
	char name[64];
	size_t bytes = (size_t)opt_larson_slots * sizeof(struct block);
	double ops = (double)nthreads * opt_pass_rounds * opt_pass_ops;

	for (long i = 0; i < nthreads; i++) {
		pthread_mutex_init(&box[i].lock, NULL);
		pthread_cond_init(&box[i].cond, NULL);
		box[i].first = box[i].last = NULL;
	}
	/* Filled here, by the main thread, so the first frees are remote too. */
	for (long k = 0; k < narrays; k++) {
		l[k].blocks = b_map(bytes);
		l[k].rng = 0x89abcdefull + (uint64_t)k * 7919;
		l[k].next_tag = 0;
		for (long j = 0; j < opt_larson_slots; j++)
			larson_put(&l[k], &l[k].blocks[j]);
		mailbox_put(&box[k % nthreads], &l[k]);
	}
	pthread_barrier_init(&start_barrier, NULL, (unsigned)nthreads);
	for (long i = 0; i < nthreads; i++) {
		a[i].own = &box[i];
		a[i].next = &box[(i + 1) % nthreads];
		a[i].rng = 0x2545f491ull + (uint64_t)i * 104729;
		xcreate(&t[i], pass_thread, &a[i]);
	}
	for (long i = 0; i < nthreads; i++) {
		pthread_join(t[i], NULL);
		span_merge(&all, &a[i].span);
	}
	pthread_barrier_destroy(&start_barrier);
	/* The threads are gone; their blocks are freed here, untimed. */
	for (long k = 0; k < narrays; k++) {
		for (long j = 0; j < opt_larson_slots; j++)
			larson_drop(&l[k].blocks[j]);
		b_unmap(l[k].blocks, bytes);
	}
	for (long i = 0; i < nthreads; i++) {
		pthread_mutex_destroy(&box[i].lock);
		pthread_cond_destroy(&box[i].cond);
	}
	b_unmap(box, (size_t)nthreads * sizeof(*box));
	b_unmap(l, (size_t)narrays * sizeof(*l));
	snprintf(name, sizeof(name), "threads/pass/%ldt", nthreads);
	b_result(name, "mops", ops / ((double)(all.end - all.start) / 1e9) / 1e6, true);
}

int main(int argc, char **argv)
{
	bool smoke = b_smoke_requested(argc, argv);
	struct b_list threads = { .n = 0 };
	const char *tests = "local,remote,larson,pass";
	const struct b_opt opts[] = {
		{ "threads", B_OPT_LIST, &threads, "thread counts (1,2,4,.. up to 2 x CPUs)" },
		{ "tests", B_OPT_STR, &tests, "which of local,remote,larson,pass to run (all)" },
		{ "ops", B_OPT_LONG, &opt_ops, "local: alloc+free pairs per thread" },
		{ "batch", B_OPT_LONG, &opt_batch, "local: objects allocated before freeing (100)" },
		{ "size", B_OPT_LONG, &opt_size, "local, remote: object size (64)" },
		{ "remote-ops", B_OPT_LONG, &opt_remote_ops, "remote: objects per producer" },
		{ "larson-rounds", B_OPT_LONG, &opt_larson_rounds, "larson: threads per lineage" },
		{ "larson-ops", B_OPT_LONG, &opt_larson_ops, "larson: replacements per thread" },
		{ "larson-slots", B_OPT_LONG, &opt_larson_slots,
		  "larson, pass: live blocks per lineage (array) (1000)" },
		{ "pass-rounds", B_OPT_LONG, &opt_pass_rounds, "pass: hand-offs per thread" },
		{ "pass-ops", B_OPT_LONG, &opt_pass_ops, "pass: replacements between hand-offs (1000)" },
		{ "check", B_OPT_FLAG, &opt_check, "fill and verify every object (on with --smoke)" },
	};

	opt_ops = smoke ? 2000 : 2000000;
	opt_batch = 100;
	opt_size = 64;
	opt_remote_ops = smoke ? 2000 : 1000000;
	opt_larson_rounds = smoke ? 2 : 8;
	opt_larson_ops = smoke ? 1000 : 250000;
	opt_larson_slots = smoke ? 100 : 1000;
	opt_pass_rounds = smoke ? 10 : 2000;
	opt_pass_ops = smoke ? 100 : 1000;
	opt_check = smoke;
	b_parse(argc, argv, opts, sizeof(opts) / sizeof(opts[0]));
	if (opt_remote_ops > INT32_MAX)
		b_die("--remote-ops: at most %d", INT32_MAX);
	if (threads.n == 0) {
		long max = smoke ? 2 : 2 * b_ncpus();

		for (long n = 1; n < max && threads.n < B_LIST_MAX - 1; n *= 2)
			threads.v[threads.n++] = n;
		threads.v[threads.n++] = max;
	}
	if (opt_batch > opt_ops)
		opt_batch = opt_ops;
	for (int i = 0; i < threads.n; i++)
		if (threads.v[i] > 1024)
			b_die("--threads: at most 1024 threads");

	b_print_backend();
	printf("INFO threads cpus=%ld ops=%ld batch=%ld size=%ld remote_ops=%ld "
	       "larson=%ldx%ldx%ld pass=%ldx%ld check=%d\n", b_ncpus(), opt_ops, opt_batch,
	       opt_size, opt_remote_ops, opt_larson_rounds, opt_larson_ops, opt_larson_slots,
	       opt_pass_rounds, opt_pass_ops, opt_check);

	cache = B_CACHE_CREATE((size_t)opt_size);
	for (int i = 0; i < threads.n; i++)
		if (strstr(tests, "local"))
			run_local(threads.v[i]);
	for (int i = 0; i < threads.n; i++)
		if (strstr(tests, "remote") && threads.v[i] % 2 == 0)
			run_remote(threads.v[i]);
	for (int i = 0; i < threads.n; i++)
		if (strstr(tests, "larson"))
			run_larson(threads.v[i]);
	for (int i = 0; i < threads.n; i++)
		if (strstr(tests, "pass") && threads.v[i] >= 2)
			run_pass(threads.v[i]);
	B_CACHE_DESTROY(cache);
	return b_exit_status();
}
