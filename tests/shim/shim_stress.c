// SPDX-License-Identifier: MIT
/*
 * shim_stress.c - many threads through the malloc shim at once, with
 * cross-thread frees and every block's content checked before it is
 * freed.  A plain C program run with LD_PRELOAD=libuslab-malloc.so.
 *
 * Worker threads share an exchange table of slots.  A worker allocates a
 * block (malloc, calloc, realloc, posix_memalign, aligned_alloc, glibc's
 * __libc_malloc and __libc_calloc, ...; from small classes up to direct
 * mappings), stamps it with its size and a
 * seed-derived pattern, and swaps it into a random slot; whatever it took
 * out (most often another thread's block) it verifies and frees.  It also
 * keeps a private batch that it grows by realloc, checking the content
 * survives.  Workers retire after a number of operations and new ones
 * take their place, so blocks of exited threads are freed by live ones.
 * Some frees are __libc_free: the two families must mix freely.
 *
 * Usage: shim_stress [seconds] [threads]     (default 4 s, 8 threads)
 */
#define _GNU_SOURCE
#include "../test.h"

#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#define SLOTS		4096
#define WORKER_OPS	4000		/* a worker retires after this many */
#define MAGIC		0x5348494d53545253ull	/* "SHIMSTRS" */

/* glibc's second names for its allocator, which the shim takes too */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void __libc_free(void *);

struct hdr {
	uint64_t magic;
	uint64_t size;		/* bytes requested, header included */
	uint64_t seed;
	uint64_t align;		/* alignment asked for, 0 for none */
};

static void *slots[SLOTS];
static volatile int stop;
static unsigned long total_ops, total_bytes, total_cross, total_realloc;
static unsigned long errors;
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;

static inline uint64_t rnd(uint64_t *s)
{
	/* splitmix64 */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Sizes: mostly small, some up to 64 KiB, a few page blocks and mappings. */
static size_t pick_size(uint64_t *s)
{
	uint64_t r = rnd(s);
	unsigned int k = (unsigned int)(r % 1000);

	r >>= 10;
	if (k < 600)
		return sizeof(struct hdr) + r % 128;
	if (k < 900)
		return sizeof(struct hdr) + r % 2048;
	if (k < 990)
		return sizeof(struct hdr) + r % 65536;
	if (k < 999)
		return sizeof(struct hdr) + r % (1 << 20);
	return sizeof(struct hdr) + (4 << 20) + r % (2 << 20);
}

static inline unsigned char byte_at(uint64_t seed, size_t i)
{
	return (unsigned char)((seed >> ((i & 7) * 8)) ^ (i * 131) ^ (i >> 8));
}

/*
 * A block is patterned whole up to 64 KiB; above, its first and last
 * 4 KiB and one byte in every 4 KiB between (the pattern depends on the
 * offset only, so it survives a realloc that moves the block).
 */
#define FULL_CHECK	(64 << 10)

static void stamp(void *p, size_t size, uint64_t seed, size_t align)
{
	struct hdr *h = p;
	unsigned char *c = p;
	size_t head = size <= FULL_CHECK ? size : 4096;

	h->magic = MAGIC;
	h->size = size;
	h->seed = seed;
	h->align = align;
	for (size_t i = sizeof(*h); i < head; i++)
		c[i] = byte_at(seed, i);
	if (size <= FULL_CHECK)
		return;
	for (size_t i = 4096; i < size - 4096; i += 4096)
		c[i] = byte_at(seed, i);
	for (size_t i = size - 4096; i < size; i++)
		c[i] = byte_at(seed, i);
}

static void fail(const void *p, const char *what, size_t at)
{
	char msg[160];
	int n = snprintf(msg, sizeof(msg), "shim_stress: block %p: %s (at byte %zu)\n", p, what, at);

	__atomic_add_fetch(&errors, 1, __ATOMIC_RELAXED);
	if (write(2, msg, (size_t)n) < 0)
		return;
}

/* Whether the first @n bytes hold what stamp(@size, @seed) wrote there. */
static int pattern_ok(const void *p, size_t size, uint64_t seed, size_t n)
{
	const unsigned char *c = p;
	size_t head = size <= FULL_CHECK ? size : 4096;

	if (n > size)
		n = size;
	for (size_t i = sizeof(struct hdr); i < head && i < n; i++)
		if (c[i] != byte_at(seed, i)) {
			fail(p, "content changed", i);
			return 0;
		}
	if (size <= FULL_CHECK)
		return 1;
	for (size_t i = 4096; i < size - 4096 && i < n; i += 4096)
		if (c[i] != byte_at(seed, i)) {
			fail(p, "content changed", i);
			return 0;
		}
	for (size_t i = size - 4096; i < n; i++)
		if (c[i] != byte_at(seed, i)) {
			fail(p, "content changed", i);
			return 0;
		}
	return 1;
}

/* Check a whole block against its header. */
static int verify(const void *p)
{
	const struct hdr *h = p;

	if (h->magic != MAGIC) {
		fail(p, "header magic overwritten", 0);
		return 0;
	}
	if (h->align && ((uintptr_t)p & (h->align - 1))) {
		fail(p, "misaligned", 0);
		return 0;
	}
	if (malloc_usable_size((void *)p) < h->size) {
		fail(p, "usable size below the request", 0);
		return 0;
	}
	return pattern_ok(p, h->size, h->seed, h->size);
}

static int zero_from(const void *p, size_t from, size_t size)
{
	const unsigned char *c = p;
	size_t end = size > FULL_CHECK ? FULL_CHECK : size;

	for (size_t i = from; i < end; i++)
		if (c[i])
			return 0;
	return 1;
}

/* A new block by one of the entry points, stamped. */
static void *new_block(uint64_t *s)
{
	size_t size = pick_size(s), align = 0;
	uint64_t seed = rnd(s);
	void *p = NULL;

	switch (rnd(s) % 10) {
	case 0: case 1: case 2:
		p = malloc(size);
		break;
	case 8:
		p = __libc_malloc(size);
		break;
	case 9:
		p = __libc_calloc(size, 1);
		if (p && !zero_from(p, 0, size))
			fail(p, "__libc_calloc memory not zero", 0);
		break;
	case 3:
		p = calloc(1, size);
		if (p && !zero_from(p, 0, size))
			fail(p, "calloc memory not zero", 0);
		break;
	case 4:
		p = realloc(NULL, size);
		break;
	case 5:
		align = (size_t)1 << (3 + rnd(s) % 10);		/* 8 .. 4096 */
		if (posix_memalign(&p, align, size))
			p = NULL;
		break;
	case 6:
		align = (size_t)1 << (rnd(s) % 13);		/* 1 .. 4096 */
		p = aligned_alloc(align, size);
		break;
	case 7:
		align = (size_t)1 << (4 + rnd(s) % 6);		/* 16 .. 512 */
		p = memalign(align, size);
		break;
	}
	if (!p) {
		fail(NULL, "allocation failed", size);
		return NULL;
	}
	if (size > 8 && ((uintptr_t)p & 15))
		fail(p, "not 16-byte aligned", 0);
	stamp(p, size, seed, align);
	return p;
}

struct worker_stats { unsigned long ops, bytes, cross, reallocs; };

/* Grow or shrink a private block; the common prefix must survive. */
static void *resize(void *p, uint64_t *s, struct worker_stats *st)
{
	struct hdr old = *(struct hdr *)p;
	size_t size = pick_size(s);
	size_t keep = old.size < size ? old.size : size;
	struct hdr *q;

	q = realloc(p, size);
	if (!q) {
		fail(p, "realloc failed", size);
		return p;
	}
	st->reallocs++;
	if (q->magic != MAGIC || q->seed != old.seed)
		fail(q, "header lost by realloc", 0);
	if (malloc_usable_size(q) < size)
		fail(q, "usable size below the realloc request", 0);
	if (size > 8 && ((uintptr_t)q & 15))
		fail(q, "realloc result not 16-byte aligned", 0);
	pattern_ok(q, old.size, old.seed, keep);
	/* realloc keeps 16-byte alignment only: stamp as unaligned */
	stamp(q, size, old.seed, 0);
	return q;
}

static void *worker(void *arg)
{
	uint64_t s = (uint64_t)(uintptr_t)arg * 0x2545f4914f6cdd1dull + 1;
	struct worker_stats st = { 0 };
	void *mine[64] = { 0 };

	for (unsigned long op = 0; op < WORKER_OPS && !stop; op++) {
		uint64_t r = rnd(&s);

		if (r % 16 == 0) {
			/* private blocks, resized in place or moved */
			unsigned int i = (unsigned int)(r >> 8) % 64;

			if (mine[i])
				mine[i] = resize(mine[i], &s, &st);
			else
				mine[i] = new_block(&s);
		} else {
			/* exchange: take whatever is in the slot, put ours in */
			unsigned int slot = (unsigned int)(r >> 8) % SLOTS;
			void *p = (r >> 40) % 8 ? new_block(&s) : NULL;
			void *old;

			/* count it before publishing it: another thread may free it at once */
			if (p)
				st.bytes += ((struct hdr *)p)->size;
			old = __atomic_exchange_n(&slots[slot], p, __ATOMIC_ACQ_REL);
			if (old) {
				verify(old);
				st.cross++;
				if ((r >> 48) % 4)
					free(old);
				else
					__libc_free(old);
			}
		}
		st.ops++;
	}
	for (int i = 0; i < 64; i++) {
		if (mine[i]) {
			verify(mine[i]);
			free(mine[i]);
		}
	}
	pthread_mutex_lock(&stats_lock);
	total_ops += st.ops;
	total_bytes += st.bytes;
	total_cross += st.cross;
	total_realloc += st.reallocs;
	pthread_mutex_unlock(&stats_lock);
	return NULL;
}

static void hung(int sig)
{
	static const char msg[] = "shim_stress: did not finish in time: hung\n";

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(3);
	_exit(3);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 4.0;
	int nthreads = argc > 2 ? atoi(argv[2]) : 8;
	pthread_t *t;
	unsigned long generations = 0;
	void *probe;

	setvbuf(stdout, NULL, _IOLBF, 0);
	probe = malloc(100);
	if (!dlsym(RTLD_DEFAULT, "kmem_cache_create") || malloc_usable_size(probe) != 112) {
		printf("shim_stress: the shim is not in use (run with "
		       "LD_PRELOAD=libuslab-malloc.so): FAIL\n");
		return 1;
	}
	free(probe);
	if (nthreads < 1 || nthreads > 256)
		nthreads = 8;
	/* a hang is a failure, not a stuck test run */
	signal(SIGALRM, hung);
	alarm((unsigned int)seconds + 60);

	t = calloc((size_t)nthreads, sizeof(*t));
	long rss0 = rss_bytes();
	double end = now_s() + seconds, t0 = now_s();
	unsigned long seed = test_seed("shim_stress", 1);

	for (int i = 0; i < nthreads; i++)
		pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)seed++);
	/*
	 * Replace workers as they retire, until the time is up and the run
	 * has done the least it must (on a loaded machine that takes longer:
	 * the run is stretched, up to 50 s more, rather than failed).
	 */
	while (now_s() < end ||
	       ((__atomic_load_n(&total_ops, __ATOMIC_RELAXED) < 10000 ||
		 __atomic_load_n(&total_cross, __ATOMIC_RELAXED) < 1000) && now_s() < end + 50)) {
		for (int i = 0; i < nthreads; i++) {
			if (pthread_tryjoin_np(t[i], NULL) == 0) {
				generations++;
				pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)seed++);
			}
		}
		usleep(10000);
	}
	stop = 1;
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	long rss_peak = rss_bytes();

	/* what is left in the table: check and free from the main thread */
	unsigned long left = 0;
	for (int i = 0; i < SLOTS; i++) {
		void *p = slots[i];

		if (p) {
			verify(p);
			free(p);
			left++;
		}
	}
	free(t);
	malloc_trim(0);
	long rss_end = rss_bytes();

	printf("shim_stress: %d threads, %.1f s, %lu workers retired, %lu ops, "
	       "%lu MiB allocated, %lu cross-thread frees, %lu reallocs, %lu left at the end\n",
	       nthreads, now_s() - t0, generations, total_ops, total_bytes >> 20,
	       total_cross, total_realloc, left);
	printf("shim_stress: RSS start %ld MiB, at the end %ld MiB, after free + malloc_trim %ld MiB\n",
	       rss0 >> 20, rss_peak >> 20, rss_end >> 20);
	test_checks += 4;
	if (errors) {
		test_failures++;
		fprintf(stderr, "shim_stress: %lu bad blocks\n", errors);
	}
	if (total_cross < 1000) {
		test_failures++;
		fprintf(stderr, "shim_stress: only %lu cross-thread frees\n", total_cross);
	}
	if (total_ops < 10000) {
		test_failures++;
		fprintf(stderr, "shim_stress: only %lu operations\n", total_ops);
	}
	/* everything was freed: memory went back */
	if (rss_end - rss0 > (64L << 20)) {
		test_failures++;
		fprintf(stderr, "shim_stress: RSS after freeing all is %ld MiB above the start\n",
			(rss_end - rss0) >> 20);
	}
	return test_done("shim_stress");
}
