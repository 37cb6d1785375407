// SPDX-License-Identifier: MIT
/*
 * conformance.c - the malloc shim (libuslab-malloc.so) against glibc's
 * malloc contract, entry point by entry point.  A plain C program: it uses
 * only the standard allocation API and gets the shim through LD_PRELOAD
 * (it checks that it did, and fails if not).
 *
 * Covered: malloc, free, calloc, realloc, reallocarray, posix_memalign,
 * aligned_alloc, memalign, valloc, pvalloc, malloc_usable_size,
 * malloc_trim, free_sized, free_aligned_sized, glibc's __libc_* names,
 * mallinfo, mallinfo2, malloc_stats; malloc(0), ENOMEM on failure, size
 * overflow, alignment, realloc(p, 0), a failed realloc, calloc zeroing;
 * start-up without recursion, fork safety, thread-exit clean-up,
 * malloc_trim giving memory back; a one-byte overflow past any block
 * (the malloc(strlen(s)) + strcpy string table) survived without a
 * report; and the bad frees, each of which must abort with a report
 * containing "BUG".
 *
 * Run: LD_PRELOAD=/path/to/libuslab-malloc.so ./conformance
 */
#define _GNU_SOURCE
#include "../test.h"

#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>

/* the absurd sizes and the failed reallocs below are deliberate */
#pragma GCC diagnostic ignored "-Walloc-size-larger-than="
#pragma GCC diagnostic ignored "-Wuse-after-free"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

/* Sizes that straddle every kind of class: tiny, 16-step, quarter-power
 * classes, the 16 KiB class limit, page blocks, direct mappings. */
static const size_t sizes[] = {
	1, 2, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 48, 63, 64, 65, 96, 100,
	112, 127, 128, 129, 160, 161, 200, 255, 256, 257, 320, 500, 512, 513,
	1000, 1023, 1024, 1025, 1100, 2000, 2048, 2049, 3000, 4095, 4096, 4097,
	5000, 8191, 8192, 8193, 12000, 16383, 16384, 16385, 20000, 32768,
	65536, 65537, 100000, 1 * MiB, 4 * MiB - 1, 4 * MiB, 4 * MiB + 1,
	5 * MiB + 123, 9 * MiB,
};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

/* Sizes no allocator can satisfy on a 47-bit address space. */
static const size_t huge_sizes[] = {
	SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 4095, SIZE_MAX / 2, SIZE_MAX / 2 + 1,
	(size_t)PTRDIFF_MAX, (size_t)1 << 62, (size_t)1 << 56, (size_t)1 << 50,
};
#define NHUGE (sizeof(huge_sizes) / sizeof(huge_sizes[0]))

static long page_size;

static void (*p_free_sized)(void *, size_t);
static unsigned long (*p_uslab_error_count)(void);
static void (*p_free_aligned_sized)(void *, size_t, size_t);

/*
 * glibc declares aligned_alloc and memalign with alloc_align, so the
 * compiler would take their alignment on trust: look through a volatile.
 */
static int aligned(const void *p, size_t a)
{
	const void *volatile v = p;

	return ((uintptr_t)v & (a - 1)) == 0;
}

static unsigned char pat(const void *base, size_t i)
{
	return (unsigned char)(((uintptr_t)base >> 4) * 31 + i * 7 + 1);
}

static void fill(void *p, size_t n)
{
	unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		c[i] = pat(p, i);
}

/* Whether the first @n bytes at @p still hold what fill(@orig, ...) wrote. */
static int holds(const void *p, const void *orig, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i] != pat(orig, i))
			return 0;
	return 1;
}

static int all_zero(const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i])
			return 0;
	return 1;
}

/* -------------------------------------------------------------- preload */

static int shim_in_use(void)
{
	void *p = malloc(100);
	size_t us = malloc_usable_size(p);
	Dl_info info;
	int ok = 1;

	free(p);
	if (!dlsym(RTLD_DEFAULT, "kmem_cache_create")) {
		fprintf(stderr, "the shim is not loaded (no kmem_cache_create); "
			"run with LD_PRELOAD=libuslab-malloc.so\n");
		ok = 0;
	}
	if (us != 112) {
		fprintf(stderr, "malloc_usable_size(malloc(100)) = %zu, not the shim's 112\n", us);
		ok = 0;
	}
	if (!dladdr((void *)malloc, &info) || !info.dli_fname ||
	    !strstr(info.dli_fname, "uslab")) {
		fprintf(stderr, "malloc resolves to %s, not the shim\n",
			info.dli_fname ? info.dli_fname : "?");
		ok = 0;
	}
	p_free_sized = (void (*)(void *, size_t))dlsym(RTLD_DEFAULT, "free_sized");
	p_free_aligned_sized = (void (*)(void *, size_t, size_t))
		dlsym(RTLD_DEFAULT, "free_aligned_sized");
	p_uslab_error_count = (unsigned long (*)(void))dlsym(RTLD_DEFAULT, "uslab_error_count");
	return ok;
}

/* ---------------------------------------------------------------- malloc */

static void test_malloc_zero(void)
{
	void *p[64];

	for (int i = 0; i < 64; i++) {
		p[i] = malloc(0);
		CHECK(p[i] != NULL);
		for (int j = 0; j < i; j++)
			CHECK(p[i] != p[j]);
	}
	for (int i = 0; i < 64; i++)
		free(p[i]);
}

static void test_malloc_sizes(void)
{
	void *p[NSIZES];

	for (size_t i = 0; i < NSIZES; i++) {
		size_t n = sizes[i];

		p[i] = malloc(n);
		CHECK(p[i] != NULL);
		if (!p[i])
			continue;
		CHECK(aligned(p[i], 16));	/* glibc's alignment, even for malloc(1) */
		CHECK(malloc_usable_size(p[i]) >= n);
		fill(p[i], malloc_usable_size(p[i]));
	}
	/* every block intact: nothing overlaps */
	for (size_t i = 0; i < NSIZES; i++)
		if (p[i])
			CHECK(holds(p[i], p[i], malloc_usable_size(p[i])));
	for (size_t i = 0; i < NSIZES; i++)
		free(p[i]);

	CHECK_EQ(malloc_usable_size(NULL), 0);
	void *q = malloc(100);
	CHECK_EQ(malloc_usable_size(q), 112);
	free(q);
	free(NULL);
}

/* Many live blocks of one class: distinct, aligned, non-overlapping. */
static void test_malloc_many(void)
{
	enum { N = 20000 };
	static void *p[N];

	for (int i = 0; i < N; i++) {
		size_t n = 1 + (size_t)(i * 37) % 600;

		p[i] = malloc(n);
		if (!p[i]) {
			CHECK(p[i] != NULL);
			return;
		}
		fill(p[i], n);
	}
	int bad = 0;
	for (int i = 0; i < N; i++)
		bad += !holds(p[i], p[i], 1 + (size_t)(i * 37) % 600);
	CHECK_EQ(bad, 0);
	for (int i = 0; i < N; i += 2)
		free(p[i]);
	for (int i = 1; i < N; i += 2)
		free(p[i]);
}

static void test_enomem(void)
{
	for (size_t i = 0; i < NHUGE; i++) {
		errno = 0;
		void *p = malloc(huge_sizes[i]);
		CHECK(p == NULL);
		CHECK_EQ(errno, ENOMEM);
		free(p);
	}
}

/* ---------------------------------------------------------------- calloc */

static void test_calloc(void)
{
	/* dirty the memory first so that a reused block must be cleared */
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < NSIZES; i++) {
			size_t n = sizes[i];
			unsigned char *d = malloc(n);

			if (d) {
				memset(d, 0xa5, malloc_usable_size(d));
				free(d);
			}
			unsigned char *z = calloc(1, n);
			CHECK(z != NULL);
			if (!z)
				continue;
			CHECK(aligned(z, n > 8 ? 16 : 8));
			CHECK(all_zero(z, n));
			memset(z, 0x5a, n);
			free(z);
			z = calloc(n, 1);
			CHECK(z && all_zero(z, n));
			free(z);
		}
	}
	void *p = calloc(0, 0);
	CHECK(p != NULL);
	free(p);
	p = calloc(0, 100);
	CHECK(p != NULL);
	free(p);
	p = calloc(SIZE_MAX, 0);
	CHECK(p != NULL);
	free(p);

	/* overflow of n * size */
	static const size_t ov[][2] = {
		{ SIZE_MAX, 2 }, { 2, SIZE_MAX }, { SIZE_MAX / 2 + 1, 2 },
		{ (size_t)1 << 32, (size_t)1 << 32 }, { SIZE_MAX / 16 + 1, 16 },
		{ 65537, SIZE_MAX / 65536 },
	};
	for (size_t i = 0; i < sizeof(ov) / sizeof(ov[0]); i++) {
		errno = 0;
		p = calloc(ov[i][0], ov[i][1]);
		CHECK(p == NULL);
		CHECK_EQ(errno, ENOMEM);
	}
	/* no overflow, but too big */
	errno = 0;
	p = calloc((size_t)1 << 25, (size_t)1 << 25);
	CHECK(p == NULL);
	CHECK_EQ(errno, ENOMEM);
}

/* --------------------------------------------------------------- realloc */

static void test_realloc(void)
{
	/* NULL behaves as malloc */
	void *p = realloc(NULL, 100);
	CHECK(p != NULL);
	free(p);
	p = realloc(NULL, 0);
	CHECK(p != NULL);
	free(p);

	/* grow through every kind of class, then shrink back, content kept */
	unsigned char *orig = malloc(1);
	size_t have = 1;

	fill(orig, 1);
	unsigned char *cur = orig;
	for (size_t i = 0; i < NSIZES; i++) {
		unsigned char *q = realloc(cur, sizes[i]);

		CHECK(q != NULL);
		if (!q)
			break;
		CHECK(aligned(q, sizes[i] > 8 ? 16 : 8));
		CHECK(malloc_usable_size(q) >= sizes[i]);
		CHECK(holds(q, orig, have));
		/* extend the pattern of the original base over the new part */
		for (size_t j = have; j < sizes[i]; j++)
			q[j] = pat(orig, j);
		have = sizes[i];
		cur = q;
	}
	for (size_t i = NSIZES; i-- > 0;) {
		unsigned char *q = realloc(cur, sizes[i]);

		CHECK(q != NULL);
		if (!q)
			break;
		CHECK(aligned(q, sizes[i] > 8 ? 16 : 8));
		CHECK(malloc_usable_size(q) >= sizes[i]);
		CHECK(holds(q, orig, sizes[i]));
		cur = q;
	}
	free(cur);

	/* a failed realloc leaves the old block valid and unchanged */
	for (size_t i = 0; i < NHUGE; i++) {
		size_t n = i % 2 ? 100 : 50000;
		unsigned char *b = malloc(n);

		fill(b, n);
		errno = 0;
		void *q = realloc(b, huge_sizes[i]);
		CHECK(q == NULL);
		CHECK_EQ(errno, ENOMEM);
		CHECK(holds(b, b, n));
		CHECK(malloc_usable_size(b) >= n);
		b = realloc(b, n * 2);	/* and still usable by realloc */
		CHECK(b != NULL);
		free(b);
	}

	/* realloc(p, 0) frees p and returns NULL: a leak would show in RSS */
	long before = rss_bytes();
	for (int i = 0; i < 4000; i++) {
		p = malloc(64 * KiB);
		CHECK(p != NULL);
		memset(p, 1, 64 * KiB);
		CHECK(realloc(p, 0) == NULL);
	}
	for (int i = 0; i < 100000; i++) {
		p = malloc(1000);
		memset(p, 1, 1000);
		CHECK(realloc(p, 0) == NULL);
	}
	long grown = rss_bytes() - before;
	if (grown > (long)(32 * MiB))
		fprintf(stderr, "realloc(p, 0): RSS grew by %ld KiB\n", grown / 1024);
	CHECK(grown < (long)(32 * MiB));
}

static void test_reallocarray(void)
{
	unsigned char *p = reallocarray(NULL, 10, 10), *q;

	CHECK(p != NULL);
	if (!p)
		return;
	fill(p, 100);
	/* content kept across a grow and a shrink */
	q = reallocarray(p, 1000, 10);
	CHECK(q != NULL && holds(q, p, 100));
	if (!q)
		return;
	unsigned char *r = reallocarray(q, 3, 7);
	CHECK(r != NULL && holds(r, p, 21));
	if (!r)
		return;
	p = r;

	/* overflow: NULL, ENOMEM, the block untouched */
	unsigned char *b = malloc(64);
	fill(b, 64);
	static const size_t ov[][2] = {
		{ SIZE_MAX, 2 }, { (size_t)1 << 32, (size_t)1 << 32 }, { SIZE_MAX / 3 + 1, 3 },
	};
	for (size_t i = 0; i < sizeof(ov) / sizeof(ov[0]); i++) {
		errno = 0;
		q = reallocarray(b, ov[i][0], ov[i][1]);
		CHECK(q == NULL);
		CHECK_EQ(errno, ENOMEM);
		CHECK(holds(b, b, 64));
		errno = 0;
		q = reallocarray(NULL, ov[i][0], ov[i][1]);
		CHECK(q == NULL);
		CHECK_EQ(errno, ENOMEM);
	}
	free(b);
	free(p);
}

/* ------------------------------------------------------------ alignment */

static const size_t align_sizes[] = { 1, 7, 8, 9, 15, 16, 17, 100, 4095, 4097, 20000,
				      300000, 5 * MiB };

/* Aligned, big enough, writable: the ends of a big block are enough. */
static void check_aligned_block(void *p, size_t align, size_t size)
{
	CHECK(p != NULL);
	if (!p)
		return;
	if (!aligned(p, align))
		fprintf(stderr, "  %p is not %zu-aligned (size %zu)\n", p, align, size);
	CHECK(aligned(p, align));
	CHECK(malloc_usable_size(p) >= size);
	if (size <= 64 * KiB) {
		fill(p, size);
		CHECK(holds(p, p, size));
	} else {
		unsigned char *tail = (unsigned char *)p + size - 4 * KiB;

		fill(p, 4 * KiB);
		fill(tail, 4 * KiB);
		CHECK(holds(p, p, 4 * KiB) && holds(tail, tail, 4 * KiB));
	}
}

static void test_posix_memalign(void)
{
	for (size_t align = sizeof(void *); align <= 16 * MiB; align *= 2) {
		for (size_t i = 0; i < sizeof(align_sizes) / sizeof(align_sizes[0]); i++) {
			size_t sz[] = { align_sizes[i], align - 1, align, align + 1 };

			for (int k = 0; k < 4; k++) {
				void *p = (void *)1;

				if (!sz[k] || sz[k] > 64 * MiB)
					continue;
				errno = 1234;
				int rc = posix_memalign(&p, align, sz[k]);
				CHECK_EQ(rc, 0);
				CHECK_EQ(errno, 1234);
				check_aligned_block(rc ? NULL : p, align, sz[k]);
				if (!rc)
					free(p);
			}
		}
	}
	/* size 0: success, a freeable pointer (glibc returns a unique one) */
	void *p = NULL;
	CHECK_EQ(posix_memalign(&p, 64, 0), 0);
	CHECK(aligned(p, 64));
	free(p);

	/* EINVAL: not a power of two, or below sizeof(void *); output untouched */
	static const size_t bad[] = { 0, 1, 2, 4, 12, 24, 48, 96, 3 * sizeof(void *),
				      4097, SIZE_MAX, SIZE_MAX / 2 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		void *sentinel = (void *)0x1234;

		p = sentinel;
		CHECK_EQ(posix_memalign(&p, bad[i], 100), EINVAL);
		CHECK(p == sentinel);
	}
	/* ENOMEM: output untouched */
	for (size_t i = 0; i < NHUGE; i++) {
		void *sentinel = (void *)0x1234;
		size_t aligns[] = { 8, 64, 4096, 1 * MiB };

		for (int k = 0; k < 4; k++) {
			p = sentinel;
			CHECK_EQ(posix_memalign(&p, aligns[k], huge_sizes[i]), ENOMEM);
			CHECK(p == sentinel);
		}
	}
	/* an alignment no mapping can meet */
	p = (void *)0x1234;
	CHECK_EQ(posix_memalign(&p, (size_t)1 << 62, 100), ENOMEM);
	CHECK(p == (void *)0x1234);
}

/*
 * Alignments of a GiB and more: address space only (mappings are
 * MAP_NORESERVE and untouched but for the first page).
 */
static void test_posix_memalign_giant(void)
{
	for (size_t align = 512 * MiB; align <= 4096 * MiB; align *= 2) {
		void *p = NULL;
		int rc = posix_memalign(&p, align, 100);

		CHECK_EQ(rc, 0);
		if (rc)
			continue;
		if (!aligned(p, align))
			fprintf(stderr, "  posix_memalign(%zu MiB, 100) = %p: not aligned\n",
				align / MiB, p);
		CHECK(aligned(p, align));
		memset(p, 1, 100);
		free(p);
	}
}

static void test_aligned_alloc(void)
{
	for (size_t align = 1; align <= 8 * MiB; align *= 2) {
		for (size_t i = 0; i < sizeof(align_sizes) / sizeof(align_sizes[0]); i++) {
			size_t size = align_sizes[i];

			/* C11 wants a multiple of the alignment; glibc takes any size */
			void *p = aligned_alloc(align, size);

			check_aligned_block(p, align, size);
			free(p);
			size = (size + align - 1) & ~(align - 1);
			if (size > 64 * MiB)
				continue;
			p = aligned_alloc(align, size);
			check_aligned_block(p, align, size);
			free(p);
		}
	}
	void *p = aligned_alloc(64, 0);
	CHECK(p != NULL);
	free(p);
	/* glibc 2.36 rounds a bad alignment up, 2.38 fails with EINVAL: both are fine */
	errno = 0;
	p = aligned_alloc(24, 48);
	CHECK((p == NULL && errno == EINVAL) || (p && aligned(p, 8)));
	free(p);
	for (size_t i = 0; i < NHUGE; i++) {
		errno = 0;
		p = aligned_alloc(64, huge_sizes[i]);
		CHECK(p == NULL);
		CHECK_EQ(errno, ENOMEM);
	}
}

static void test_memalign(void)
{
	for (size_t align = 1; align <= 8 * MiB; align *= 2) {
		for (size_t i = 0; i < sizeof(align_sizes) / sizeof(align_sizes[0]); i++) {
			void *p = memalign(align, align_sizes[i]);

			check_aligned_block(p, align, align_sizes[i]);
			free(p);
		}
	}
	/* glibc rounds an alignment that is not a power of two up to one */
	static const size_t odd[][2] = { { 24, 32 }, { 48, 64 }, { 100, 128 },
					 { 3000, 4096 }, { 5000, 8192 }, { 3 * MiB, 4 * MiB } };
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		void *p = memalign(odd[i][0], 10);

		check_aligned_block(p, odd[i][1], 10);
		free(p);
	}
	void *p = memalign(0, 10);
	check_aligned_block(p, 8, 10);
	free(p);
	p = memalign(16, 0);
	CHECK(p != NULL);
	free(p);
	for (size_t i = 0; i < NHUGE; i++) {
		errno = 0;
		p = memalign(4096, huge_sizes[i]);
		CHECK(p == NULL);
		CHECK_EQ(errno, ENOMEM);
	}
	errno = 0;
	p = memalign(SIZE_MAX / 2 + 2, 10);
	CHECK(p == NULL);
	CHECK(errno == EINVAL || errno == ENOMEM);
}

/*
 * The shim sends a small size with an alignment of 16 or less to plain
 * malloc, so every class must be 16-aligned, the smallest included.
 * Allocate enough to see both halves of 16-byte units.
 */
static void test_align16_small(void)
{
	enum { N = 64 };
	void *p[N];
	int bad_pm = 0, bad_aa = 0, bad_ma = 0;

	for (size_t size = 1; size <= 8; size++) {
		for (int i = 0; i < N; i++) {
			p[i] = NULL;
			CHECK_EQ(posix_memalign(&p[i], 16, size), 0);
			bad_pm += !aligned(p[i], 16);
		}
		for (int i = 0; i < N; i++)
			free(p[i]);
		for (int i = 0; i < N; i++) {
			p[i] = aligned_alloc(16, size);
			bad_aa += !aligned(p[i], 16);
		}
		for (int i = 0; i < N; i++)
			free(p[i]);
		for (int i = 0; i < N; i++) {
			p[i] = memalign(16, size);
			bad_ma += !aligned(p[i], 16);
		}
		for (int i = 0; i < N; i++)
			free(p[i]);
	}
	if (bad_pm + bad_aa + bad_ma)
		fprintf(stderr, "alignment 16, sizes 1..8: %d posix_memalign, %d aligned_alloc, "
			"%d memalign results not 16-aligned\n", bad_pm, bad_aa, bad_ma);
	CHECK_EQ(bad_pm, 0);
	CHECK_EQ(bad_aa, 0);
	CHECK_EQ(bad_ma, 0);
}

static void test_valloc(void)
{
	for (size_t i = 0; i < NSIZES; i++) {
		void *p = valloc(sizes[i]);

		check_aligned_block(p, (size_t)page_size, sizes[i]);
		free(p);
		p = pvalloc(sizes[i]);
		check_aligned_block(p, (size_t)page_size, sizes[i]);
		/* pvalloc rounds the size up to whole pages */
		CHECK(!p || malloc_usable_size(p) >= ((sizes[i] + page_size - 1) & ~(page_size - 1)));
		free(p);
	}
	void *p = valloc(0);
	CHECK(p && aligned(p, page_size));
	free(p);
	p = pvalloc(0);
	CHECK(p && aligned(p, page_size));
	CHECK(!p || malloc_usable_size(p) >= (size_t)page_size);
	free(p);
	for (size_t i = 0; i < NHUGE; i++) {
		errno = 0;
		p = valloc(huge_sizes[i]);
		CHECK(p == NULL);
		CHECK_EQ(errno, ENOMEM);
		errno = 0;
		p = pvalloc(huge_sizes[i]);
		CHECK(p == NULL);
		CHECK_EQ(errno, ENOMEM);
	}
}

static void test_free_sized(void)
{
	CHECK(p_free_sized != NULL);
	CHECK(p_free_aligned_sized != NULL);
	if (!p_free_sized || !p_free_aligned_sized)
		return;
	for (size_t i = 0; i < NSIZES; i++) {
		void *p = malloc(sizes[i]);

		fill(p, sizes[i]);
		p_free_sized(p, sizes[i]);
		p = aligned_alloc(256, sizes[i]);
		CHECK(aligned(p, 256));
		fill(p, sizes[i]);
		p_free_aligned_sized(p, 256, sizes[i]);
	}
	p_free_sized(NULL, 0);
	p_free_aligned_sized(NULL, 64, 0);
	/* the blocks really went back: this loop would need 2.5 GiB otherwise */
	long before = rss_bytes();
	for (int i = 0; i < 40000; i++) {
		void *p = malloc(64 * KiB);

		memset(p, 1, 64 * KiB);
		if (i & 1)
			p_free_sized(p, 64 * KiB);
		else
			p_free_aligned_sized(p, 16, 64 * KiB);
	}
	CHECK(rss_bytes() - before < (long)(32 * MiB));
}

/*
 * Many live page blocks (sizes above the 16 KiB class limit are whole
 * pages, the tail of their power-of-two block given back): the free
 * lists fill with small tails while bigger blocks run out, and the page
 * allocator must then grow rather than spin.  Run in a child with an
 * alarm so that a hang is reported as one.
 */
static int page_blocks_child(void)
{
	enum { N = 3000 };
	static void *keep[N];
	static const size_t szs[] = { 20 * KiB, 36000, 100000, 17 * KiB, 300000 };

	for (size_t k = 0; k < sizeof(szs) / sizeof(szs[0]); k++) {
		for (int i = 0; i < N; i++) {
			keep[i] = malloc(szs[k]);
			if (!keep[i])
				return 1;
			memset(keep[i], i, 64);
		}
		void *big = malloc(3 * MiB);
		if (!big)
			return 2;
		memset(big, 1, 3 * MiB);
		free(big);
		for (int i = 0; i < N; i++)
			free(keep[i]);
	}
	return 0;
}

static void test_page_blocks(void)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		signal(SIGALRM, SIG_DFL);
		alarm(30);
		_exit(page_blocks_child());
	}
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fprintf(stderr, "page blocks: child status %#x%s\n", status,
			WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM ?
			" (hung: killed after 30 s)" : "");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* ------------------------------------------------------------ malloc_trim */

static void test_malloc_trim(void)
{
	enum { NBIG = 1600, NSMALL = 100000 };
	static void *big[NBIG], *small[NSMALL];

	malloc_trim(0);
	long base = rss_bytes();
	for (int i = 0; i < NBIG; i++) {		/* 100 MiB of page blocks */
		big[i] = malloc(64 * KiB);
		memset(big[i], 1, 64 * KiB);
	}
	for (int i = 0; i < NSMALL; i++) {		/* 100 MiB of slab objects */
		small[i] = malloc(1000);
		memset(small[i], 2, 1000);
	}
	long peak = rss_bytes();
	for (int i = 0; i < NBIG; i++)
		free(big[i]);
	for (int i = 0; i < NSMALL; i++)
		free(small[i]);
	long after_free = rss_bytes();
	int rc = malloc_trim(0);
	long after_trim = rss_bytes();

	printf("malloc_trim: RSS base %ld MiB, peak %ld MiB, after free %ld MiB, "
	       "after malloc_trim(0) %ld MiB (returned %d)\n",
	       base >> 20, peak >> 20, after_free >> 20, after_trim >> 20, rc);
	CHECK(peak - base > (long)(180 * MiB));
	/* almost everything freed is back with the OS */
	CHECK(after_trim - base < (long)(24 * MiB));
	CHECK(after_trim <= after_free);
	if (after_free - after_trim > (long)(4 * MiB))
		CHECK_EQ(rc, 1);
	/* and the allocator still works afterwards, from released memory */
	void *p = calloc(1, 64 * KiB);
	CHECK(p && all_zero(p, 64 * KiB));
	free(p);
	p = calloc(1, 1000);
	CHECK(p && all_zero(p, 1000));
	free(p);
}

/* ------------------------------------------------------------- start-up */

/*
 * Start-up without recursion: fresh processes with the shim preloaded
 * (the environment carries LD_PRELOAD) run to completion, among them
 * ones whose very first allocations come from many threads at once and
 * from calloc/posix_memalign/realloc rather than malloc.
 */
static const char *self_path;

static int run_child(char *const argv[], const char *expect_out, int timeout_s)
{
	int pipefd[2], status;
	char out[4096];
	size_t len = 0;
	pid_t pid;

	if (pipe(pipefd))
		return 0;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		alarm((unsigned int)timeout_s);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	for (;;) {
		ssize_t n = read(pipefd[0], out + len, sizeof(out) - 1 - len);

		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof(out) - 1)
			break;
	}
	out[len] = '\0';
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "child %s %s: status %#x%s\n", argv[0], argv[1] ? argv[1] : "",
			status, WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM ?
			" (hung: killed by the alarm)" : "");
		return 0;
	}
	if (expect_out && !strstr(out, expect_out)) {
		fprintf(stderr, "child %s: output lacks \"%s\": %s\n", argv[0], expect_out, out);
		return 0;
	}
	return 1;
}

static void *startup_thread(void *arg)
{
	pthread_barrier_t *b = arg;
	void *p[100];

	pthread_barrier_wait(b);
	for (int i = 0; i < 100; i++) {
		switch (i % 4) {
		case 0: p[i] = malloc((size_t)i * 13 + 1); break;
		case 1: p[i] = calloc(3, (size_t)i + 1); break;
		case 2: if (posix_memalign(&p[i], 64, 100)) p[i] = NULL; break;
		default: p[i] = realloc(NULL, 5000); break;
		}
		if (!p[i])
			abort();
	}
	for (int i = 0; i < 100; i++)
		free(p[i]);
	return NULL;
}

/* child mode: first allocations from 16 threads released together */
static int startup_race_child(void)
{
	enum { T = 16 };
	pthread_t t[T];
	pthread_barrier_t b;

	pthread_barrier_init(&b, NULL, T);
	for (int i = 0; i < T; i++)
		if (pthread_create(&t[i], NULL, startup_thread, &b))
			return 1;
	for (int i = 0; i < T; i++)
		pthread_join(t[i], NULL);
	if (malloc_usable_size(malloc(100)) != 112)
		return 2;
	printf("startup-race ok\n");
	return 0;
}

/* child mode: the very first call is calloc, then memalign, then realloc */
static int startup_first_child(const char *which)
{
	void *p;

	if (!strcmp(which, "calloc"))
		p = calloc(10, 10);
	else if (!strcmp(which, "memalign"))
		p = memalign(4096, 10);
	else if (!strcmp(which, "realloc"))
		p = realloc(NULL, 10);
	else if (!strcmp(which, "free"))
		p = (free(NULL), malloc(1));
	else if (!strcmp(which, "usable"))
		p = (void *)(uintptr_t)(malloc_usable_size(NULL) + 1);
	else if (!strcmp(which, "trim"))
		p = (void *)(uintptr_t)(malloc_trim(0) + 1);
	else
		p = malloc(10);
	if (!p)
		return 1;
	printf("startup-%s ok\n", which);
	return 0;
}

static void test_startup(void)
{
	char *sh[] = { "/bin/sh", "-c", "echo started; ls / >/dev/null && echo done", NULL };

	CHECK(run_child(sh, "started\ndone", 30));
	char *race[] = { (char *)self_path, "--startup-race", NULL };
	for (int i = 0; i < 5; i++)
		CHECK(run_child(race, "startup-race ok", 30));
	static const char *firsts[] = { "calloc", "memalign", "realloc", "free", "usable",
					"trim", "malloc" };
	for (size_t i = 0; i < sizeof(firsts) / sizeof(firsts[0]); i++) {
		char expect[64];
		char *argv[] = { (char *)self_path, "--startup-first", (char *)firsts[i], NULL };

		snprintf(expect, sizeof(expect), "startup-%s ok", firsts[i]);
		CHECK(run_child(argv, expect, 30));
	}
}

/* ----------------------------------------------------------------- fork */

static volatile int fork_stop;

static void *fork_churn(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg;
	void *keep[256] = { 0 };

	while (!__atomic_load_n(&fork_stop, __ATOMIC_RELAXED)) {
		int i = rand_r(&seed) % 256;
		size_t n = (size_t)rand_r(&seed) % (i < 8 ? 200000 : 2000) + 1;

		free(keep[i]);
		keep[i] = malloc(n);
		if (keep[i])
			memset(keep[i], i, n < 64 ? n : 64);
		/* now and then, all of the allocator's locks at once */
		if (i == 0 && rand_r(&seed) % 16 == 0)
			malloc_trim(0);
	}
	for (int i = 0; i < 256; i++)
		free(keep[i]);
	return NULL;
}

static void *child_thread(void *arg)
{
	(void)arg;
	for (int i = 0; i < 1000; i++) {
		void *p = malloc((size_t)i * 7 + 1);

		if (!p)
			abort();
		free(p);
	}
	return NULL;
}

/* In the child of a multi-threaded parent: allocate everything, freely. */
static int fork_child_work(void)
{
	void *p[512];
	pthread_t t;

	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < 512; i++) {
			size_t n = i < 4 ? 5 * MiB : i < 16 ? 100000 : (size_t)i * 11 + 1;

			p[i] = malloc(n);
			if (!p[i])
				return 1;
			memset(p[i], i, n < 4096 ? n : 4096);
		}
		for (int i = 0; i < 512; i++)
			free(p[i]);
	}
	if (pthread_create(&t, NULL, child_thread, NULL))
		return 2;
	pthread_join(t, NULL);
	malloc_trim(0);
	void *q = NULL;
	if (posix_memalign(&q, 4096, 10000))
		return 3;
	free(q);
	return 0;
}

/*
 * The option and back-end variants of this program (tests/CMakeLists.txt)
 * run with CONFORMANCE_QUICK=1: the fork and thread-exit churn a quarter
 * as long, the rest the same.
 */
static int quick_scale(int n)
{
	const char *q = getenv("CONFORMANCE_QUICK");

	return q && *q && *q != '0' ? n / 4 : n;
}

static void test_fork(void)
{
	enum { T = 4 };
	const int FORKS = quick_scale(40);
	pthread_t t[T];
	int failed = 0;
	unsigned long long seed = test_seed("conformance: fork churn", 0);

	fork_stop = 0;
	for (int i = 0; i < T; i++)
		pthread_create(&t[i], NULL, fork_churn, (void *)(uintptr_t)(seed + i + 1));
	for (int k = 0; k < FORKS; k++) {
		pid_t pid = fork();
		int status;

		if (pid == 0) {
			signal(SIGALRM, SIG_DFL);
			alarm(20);
			_exit(fork_child_work());
		}
		if (pid < 0) {
			failed++;
			continue;
		}
		waitpid(pid, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "fork child %d: status %#x%s\n", k, status,
				WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM ?
				" (deadlocked)" : "");
			failed++;
		}
		/* the parent keeps working too */
		void *p = malloc(1000);
		free(p);
	}
	__atomic_store_n(&fork_stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < T; i++)
		pthread_join(t[i], NULL);
	CHECK_EQ(failed, 0);
}

/* ------------------------------------------------------- thread exit */

static void *short_lived(void *arg)
{
	void *p[48];

	(void)arg;
	/* leave objects of many classes cached in this thread's slots */
	for (int i = 0; i < 48; i++) {
		p[i] = malloc((size_t)i * 300 + 8);
		if (p[i])
			memset(p[i], i, 8);
	}
	for (int i = 0; i < 48; i++)
		free(p[i]);
	/* and a block that outlives the thread, freed by the main thread */
	return malloc(200);
}

static void test_thread_exit(void)
{
	enum { BATCH = 8, WARMUP = 1000 };
	const int TOTAL = quick_scale(20000);
	long warm = 0;
	int failed = 0;

	for (int done = 0; done < TOTAL; done += BATCH) {
		pthread_t t[BATCH];

		for (int i = 0; i < BATCH; i++)
			if (pthread_create(&t[i], NULL, short_lived, NULL))
				failed++;
		for (int i = 0; i < BATCH; i++) {
			void *r = NULL;

			pthread_join(t[i], &r);
			if (!r)
				failed++;
			free(r);
		}
		if (done + BATCH == WARMUP)
			warm = rss_bytes();
	}
	long end = rss_bytes();

	printf("thread exit: %d threads, RSS after %d: %ld KiB, after %d: %ld KiB\n",
	       TOTAL, WARMUP, warm / 1024, TOTAL, end / 1024);
	CHECK_EQ(failed, 0);
	CHECK(end - warm < (long)(8 * MiB));
}

/* --------------------------------------------- glibc's names, statistics */

/*
 * run_clean - @fn in a child with stderr captured: the child must exit 0
 * (no CHECK failed in it, no crash, no abort) and write no report (no
 * "BUG", no "corrupt"), and uslab must count no error in it.  For tests
 * whose failure, before the fix, is a crash or a report.
 */
static int run_clean(void (*fn)(void), const char *what)
{
	int pipefd[2], status;
	static char out[16384];
	size_t len = 0;
	pid_t pid;

	if (pipe(pipefd))
		return 0;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		unsigned long errors = p_uslab_error_count ? p_uslab_error_count() : 0;

		dup2(pipefd[1], 2);
		close(pipefd[0]);
		signal(SIGABRT, SIG_DFL);
		signal(SIGALRM, SIG_DFL);
		alarm(120);
		test_failures = 0;
		fn();
		if (p_uslab_error_count && p_uslab_error_count() != errors) {
			fprintf(stderr, "%s: uslab counted %lu error(s)\n", what,
				p_uslab_error_count() - errors);
			test_failures++;
		}
		fflush(NULL);
		_exit(test_failures ? 1 : 0);
	}
	close(pipefd[1]);
	for (;;) {
		ssize_t n = read(pipefd[0], out + len, sizeof(out) - 1 - len);

		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof(out) - 1)
			break;
	}
	out[len] = '\0';
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
		 !strstr(out, "BUG") && !strstr(out, "corrupt");
	if (!ok)
		fprintf(stderr, "%s: child status %#x%s; its stderr:\n%s\n", what, status,
			WIFSIGNALED(status) ? " (killed by a signal)" : "", out);
	return ok;
}

/*
 * glibc's second names for its allocator: the shim must answer them too,
 * so that a block from one family can be freed by the other.  (glibc
 * 2.36 exports no __libc_malloc_usable_size or __libc_posix_memalign.)
 */
extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void *__libc_pvalloc(size_t);
extern struct mallinfo __libc_mallinfo(void);

static int in_shim(const char *sym)
{
	void *f = dlsym(RTLD_DEFAULT, sym);
	Dl_info info;

	return f && dladdr(f, &info) && info.dli_fname && strstr(info.dli_fname, "uslab");
}

static void libc_names_child(void)
{
	static const char *const names[] = {
		"__libc_malloc", "__libc_free", "__libc_calloc", "__libc_realloc",
		"__libc_memalign", "__libc_valloc", "__libc_pvalloc", "__libc_mallinfo",
	};
	void *p, *q;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!in_shim(names[i]))
			fprintf(stderr, "%s does not resolve to the shim\n", names[i]);
		CHECK(in_shim(names[i]));
	}
	for (size_t i = 0; i < NSIZES; i++) {
		size_t n = sizes[i];

		/* __libc_malloc -> free */
		p = __libc_malloc(n);
		CHECK(p != NULL);
		CHECK(malloc_usable_size(p) >= n);
		fill(p, n);
		/* malloc -> __libc_realloc -> __libc_free */
		q = malloc(n);
		fill(q, n);
		q = __libc_realloc(q, n + 100);
		CHECK(q && holds(q, q, 0));
		__libc_free(q);
		CHECK(holds(p, p, n));
		free(p);
		/* __libc_calloc -> realloc -> free */
		p = __libc_calloc(1, n);
		CHECK(p && all_zero(p, n));
		p = realloc(p, 2 * n);
		CHECK(p && all_zero(p, n));
		free(p);
	}
	p = __libc_memalign(256, 1000);
	CHECK(p && aligned(p, 256));
	free(p);
	p = memalign(64, 100);
	__libc_free(p);
	p = __libc_valloc(100);
	CHECK(p && aligned(p, (size_t)page_size));
	free(p);
	p = __libc_pvalloc(100);
	CHECK(p && aligned(p, (size_t)page_size) && malloc_usable_size(p) >= (size_t)page_size);
	free(p);
	__libc_free(NULL);
	/* the shim's figures, not glibc's zeros */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	CHECK(__libc_mallinfo().arena > 0);
#pragma GCC diagnostic pop
}

static void test_libc_names(void)
{
	CHECK(run_clean(libc_names_child, "__libc_* names"));
}

/*
 * mallinfo2() / mallinfo(): uslab's figures.  arena = uordblks +
 * fordblks; uordblks follows what is allocated; hblkhd the direct
 * mappings; keepcost no more than the free part.
 */
static void test_mallinfo(void)
{
	enum { N = 2000, SZ = 1000 };
	static void *p[N];
	struct mallinfo2 a, b, c, d;

	a = mallinfo2();
	CHECK(a.arena > 0);
	CHECK(a.uordblks > 0);
	CHECK(a.uordblks <= a.arena);
	CHECK_EQ(a.arena, a.uordblks + a.fordblks);
	CHECK(a.keepcost <= a.fordblks);
	for (int i = 0; i < N; i++) {
		p[i] = malloc(SZ);
		memset(p[i], 1, SZ);
	}
	b = mallinfo2();
	if (b.uordblks < a.uordblks + (size_t)N * SZ)
		fprintf(stderr, "mallinfo2: uordblks %zu -> %zu after %d x %d bytes\n",
			a.uordblks, b.uordblks, N, SZ);
	CHECK(b.uordblks >= a.uordblks + (size_t)N * SZ);
	CHECK(b.arena >= b.uordblks);
	CHECK_EQ(b.arena, b.uordblks + b.fordblks);

	void *big = malloc(9 * MiB);
	memset(big, 1, 9 * MiB);
	c = mallinfo2();
	CHECK(c.hblkhd >= b.hblkhd + 9 * MiB);
	free(big);
	for (int i = 0; i < N; i++)
		free(p[i]);
	/*
	 * Objects a thread keeps in its cpu slabs count as in use, as in
	 * slabinfo; malloc_trim(0) hands this thread's back.
	 */
	malloc_trim(0);
	d = mallinfo2();
	CHECK(d.hblkhd + 9 * MiB <= c.hblkhd);
	if (d.uordblks + (size_t)N * SZ > b.uordblks)
		fprintf(stderr, "mallinfo2: uordblks %zu -> %zu after freeing %d x %d bytes\n",
			b.uordblks, d.uordblks, N, SZ);
	CHECK(d.uordblks + (size_t)N * SZ <= b.uordblks);
	CHECK_EQ(d.arena, d.uordblks + d.fordblks);

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	struct mallinfo m = mallinfo();
#pragma GCC diagnostic pop
	struct mallinfo2 m2 = mallinfo2();
	CHECK(m.arena > 0);
	CHECK(m.uordblks > 0);
	/* the same figures, cut to int (nothing else runs: they agree closely) */
	CHECK((size_t)m.arena <= m2.arena + 4 * MiB && m2.arena <= (size_t)m.arena + 4 * MiB);
}

/* The number after "label" in malloc_stats() text, or -1. */
static long stats_value(const char *text, const char *label)
{
	const char *s = strstr(text, label);

	if (!s || !(s = strchr(s, '=')))
		return -1;
	return strtol(s + 1, NULL, 10);
}

/* malloc_stats(): glibc's lines on stderr, with uslab's figures. */
static void test_malloc_stats(void)
{
	enum { N = 4000, SZ = 1000 };
	static void *p[N];
	static char text[65536];
	char path[] = "/tmp/uslab-malloc-stats.XXXXXX";
	int fd = mkstemp(path), saved;
	ssize_t len;

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	unlink(path);
	for (int i = 0; i < N; i++) {
		p[i] = malloc(SZ);
		memset(p[i], 1, SZ);
	}
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	errno = 12345;
	malloc_stats();
	CHECK_EQ(errno, 12345);
	dup2(saved, 2);
	close(saved);
	len = pread(fd, text, sizeof(text) - 1, 0);
	close(fd);
	for (int i = 0; i < N; i++)
		free(p[i]);
	CHECK(len > 0);
	if (len <= 0)
		return;
	text[len] = '\0';

	long sys = stats_value(text, "system bytes"), used = stats_value(text, "in use bytes");
	const char *total = strstr(text, "Total (incl. mmap):");
	if (used < (long)N * SZ)
		fprintf(stderr, "malloc_stats printed:\n%s\n", text);
	CHECK(strncmp(text, "Arena 0:\n", 9) == 0);
	CHECK(total != NULL);
	CHECK(used >= (long)N * SZ);
	CHECK(sys >= used);
	if (total) {
		CHECK(stats_value(total, "system bytes") >= sys);
		CHECK(stats_value(total, "in use bytes") >= used);
	}
	/* the caches: malloc(1000) is the 1024-byte class, with N objects in use */
	int found = 0;
	for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		char name[64];
		long active, objects, size, slabs;

		if (sscanf(line, "%63s %ld %ld %ld %ld", name, &active, &objects, &size, &slabs) == 5 &&
		    size == 1024 && active >= N && objects >= active && slabs > 0)
			found = 1;
	}
	if (!found)
		fprintf(stderr, "malloc_stats: no 1024-byte cache with %d objects in:\n%s\n", N, text);
	CHECK(found);
	CHECK(text[len - 1] == '\n');
}

/* --------------------------------------------------------- off by one */

static int cmp_addr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * One byte written past malloc(n), n = 1..64, must not corrupt a free
 * neighbour: it lands in the block's own slack, or in the first byte of
 * the next block, where a free block keeps nothing (SLUB's free pointer
 * sits mid-object in every class the shim uses).  K blocks of n bytes,
 * every other one (in address order) freed, one byte written past each
 * survivor whose right neighbour is a freed block of ours (or that has
 * slack), then as many blocks allocated again: the allocator must hand
 * out distinct blocks and report nothing.  With an 8-byte class the byte
 * lands on the neighbour's free pointer.
 */
static void off_by_one_child(void)
{
	enum { K = 1024 };
	static void *p[K], *q[K];

	for (size_t n = 1; n <= 64; n++) {
		for (int i = 0; i < K; i++)
			p[i] = malloc(n);
		qsort(p, K, sizeof(p[0]), cmp_addr);
		size_t us = malloc_usable_size(p[0]);

		for (int i = 1; i < K; i += 2)
			free(p[i]);
		for (int i = 0; i + 1 < K; i += 2) {
			unsigned char *c = p[i];

			/* only into our own freed neighbour, or our own slack */
			if (n < us || (uintptr_t)p[i + 1] == (uintptr_t)c + us)
				c[n] = 0xa5;
		}
		for (int i = 0; i < K / 2; i++) {
			q[i] = malloc(n);
			CHECK(q[i] != NULL);
			if (q[i])
				memset(q[i], 0x5a, n);
		}
		/* distinct from each other and from the survivors */
		int dup = 0;
		for (int i = 0; i < K / 2; i++)
			p[2 * i + 1] = q[i];
		qsort(p, K, sizeof(p[0]), cmp_addr);
		for (int i = 1; i < K; i++)
			dup += p[i] == p[i - 1];
		if (dup)
			fprintf(stderr, "off by one past malloc(%zu): %d block(s) handed out twice\n",
				n, dup);
		CHECK_EQ(dup, 0);
		for (int i = 0; i < K; i++)
			free(p[i]);
	}
}

static void test_off_by_one(void)
{
	CHECK(run_clean(off_by_one_child, "one byte past malloc(1..64)"));
}

/*
 * The off-by-one string table: strings of 0..64 characters stored with
 * malloc(strlen(s)) and strcpy (the terminator one byte past the block),
 * replaced with realloc(p, strlen(s)) and strcpy, freed and stored again,
 * at random.  The program is wrong, but the allocator must survive it as
 * glibc's does: no crash, no report, no block handed out twice, and each
 * string intact but for its first byte (a left neighbour of exactly a
 * class size writes its terminator there).
 */
#define TABLE 4096

static void string_of(char *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)('a' + (seed + i * 7) % 26);
	buf[len] = '\0';
}

static void string_table_child(void)
{
	static char *table[TABLE];
	static size_t lens[TABLE];
	static unsigned seeds[TABLE];
	static void *sorted[TABLE];
	char s[80];
	uint64_t rng = 12345;
	int bad = 0, overlap = 0;

	for (long op = 0; op < 400000; op++) {
		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		unsigned r = (unsigned)(rng >> 33);
		int i = (int)(r % TABLE);
		size_t len = (r >> 12) % 65;
		unsigned seed = r >> 5;

		string_of(s, len, seed);
		if (!table[i]) {
			table[i] = malloc(strlen(s));		/* one short */
			CHECK(table[i] != NULL);
			strcpy(table[i], s);
		} else if ((r >> 20) % 3 == 0) {
			free(table[i]);
			table[i] = NULL;
			continue;
		} else {
			table[i] = realloc(table[i], strlen(s) ? strlen(s) : 1);
			CHECK(table[i] != NULL);
			strcpy(table[i], s);
		}
		lens[i] = len;
		seeds[i] = seed;
	}
	int n = 0;
	for (int i = 0; i < TABLE; i++) {
		if (!table[i])
			continue;
		string_of(s, lens[i], seeds[i]);
		if (lens[i] > 1 && memcmp(table[i] + 1, s + 1, lens[i] - 1))
			bad++;
		sorted[n++] = table[i];
	}
	qsort(sorted, (size_t)n, sizeof(sorted[0]), cmp_addr);
	for (int i = 1; i < n; i++)
		overlap += (uintptr_t)sorted[i] <
			   (uintptr_t)sorted[i - 1] + (malloc_usable_size(sorted[i - 1]) ?: 1);
	if (bad || overlap)
		fprintf(stderr, "string table: %d strings damaged, %d blocks overlap\n", bad, overlap);
	CHECK_EQ(bad, 0);
	CHECK_EQ(overlap, 0);
	for (int i = 0; i < TABLE; i++)
		free(table[i]);
}

static void test_string_table(void)
{
	CHECK(run_clean(string_table_child, "off-by-one string table"));
}

/* ----------------------------------------------------------- bad frees */

/*
 * The compiler knows these are wrong (-Wfree-nonheap-object and friends)
 * and might act on it: pass every bad pointer through a volatile.
 */
#pragma GCC diagnostic ignored "-Wfree-nonheap-object"
static void *launder(void *p)
{
	void *volatile v = p;

	return v;
}

static int static_object[16];

static void die_stack(void *arg) { char x[32]; (void)arg; free(launder(x)); }
static void die_static(void *arg) { (void)arg; free(launder(static_object)); }
static void die_foreign_mmap(void *arg)
{
	(void)arg;
	void *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	free(launder(m));
}
static void die_foreign_mmap_interior(void *arg)
{
	(void)arg;
	char *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	free(launder(m + 48));
}
static void die_interior(void *arg)
{
	char *p = malloc((size_t)(uintptr_t)arg);
	free(launder(p + 16));
}
static void die_interior_page(void *arg)
{
	char *p = malloc((size_t)(uintptr_t)arg);
	free(launder(p + 4096));
}
static void die_double(void *arg)
{
	void *p = malloc((size_t)(uintptr_t)arg);
	free(p);
	free(launder(p));
}
/* a double free with other frees in between */
static void die_double_later(void *arg)
{
	size_t n = (size_t)(uintptr_t)arg;
	void *a = malloc(n), *b = malloc(n), *c = malloc(n);

	free(a);
	free(b);
	free(launder(a));
	/* an undetected double free hands out one block twice */
	void *x = malloc(n), *y = malloc(n), *z = malloc(n);
	if (x == y || y == z || x == z)
		fprintf(stderr, "double free went unnoticed: a block was handed out twice\n");
	free(c);
}
/* a double free of a block allocated and first freed by another thread */
static void *alloc_free_thread(void *arg)
{
	void *p = malloc((size_t)(uintptr_t)arg);
	void *keep[100];

	for (int i = 0; i < 100; i++)
		keep[i] = malloc((size_t)(uintptr_t)arg);
	free(p);
	for (int i = 0; i < 100; i++)
		free(keep[i]);
	return p;
}
static void die_double_cross_thread(void *arg)
{
	pthread_t t;
	void *p;

	pthread_create(&t, NULL, alloc_free_thread, arg);
	pthread_join(t, &p);
	free(launder(p));
}
static void die_realloc_foreign(void *arg)
{
	char x[32];
	(void)arg;
	void *volatile q = realloc(launder(x), 100);
	(void)q;
}
static void die_realloc_freed(void *arg)
{
	void *p = malloc((size_t)(uintptr_t)arg);
	free(p);
	void *volatile q = realloc(launder(p), 100000);
	(void)q;
}
/* a pointer into a block, realloc'ed to a size the block could hold */
static void die_realloc_interior(void *arg)
{
	char *p = malloc((size_t)(uintptr_t)arg);
	void *volatile q = realloc(launder(p + 16), (size_t)(uintptr_t)arg - 100);
	(void)q;
}
static void die_free_sized_stack(void *arg)
{
	char x[32];
	(void)arg;
	p_free_sized(launder(x), sizeof(x));
}

struct death { const char *name; void (*fn)(void *); size_t arg; };

static void test_bad_frees(void)
{
	static const struct death deaths[] = {
		{ "free of a stack address", die_stack, 0 },
		{ "free of a static object", die_static, 0 },
		{ "free of a foreign mapping", die_foreign_mmap, 0 },
		{ "free inside a foreign mapping", die_foreign_mmap_interior, 0 },
		{ "free of an interior pointer (64)", die_interior, 64 },
		{ "free of an interior pointer (1000)", die_interior, 1000 },
		{ "free of an interior pointer (page block)", die_interior, 100000 },
		{ "free of an interior pointer (direct map)", die_interior, 5 * MiB },
		{ "free of a later page (page block)", die_interior_page, 100000 },
		{ "free of a later page (direct map)", die_interior_page, 5 * MiB },
		{ "immediate double free (8)", die_double, 8 },
		{ "immediate double free (64)", die_double, 64 },
		{ "immediate double free (16384)", die_double, 16384 },
		{ "immediate double free (page block)", die_double, 100000 },
		{ "immediate double free (direct map)", die_double, 5 * MiB },
		{ "double free across other frees (64)", die_double_later, 64 },
		{ "double free across other frees (1000)", die_double_later, 1000 },
		{ "double free across other frees (page block)", die_double_later, 100000 },
		{ "double free of another thread's free (64)", die_double_cross_thread, 64 },
		{ "double free of another thread's free (page block)", die_double_cross_thread, 100000 },
		{ "realloc of a stack address", die_realloc_foreign, 0 },
		{ "realloc of a freed block (64)", die_realloc_freed, 64 },
		{ "realloc of a freed block (page block)", die_realloc_freed, 100000 },
		{ "realloc of an interior pointer (1000)", die_realloc_interior, 1000 },
		{ "realloc of an interior pointer (page block)", die_realloc_interior, 100000 },
		{ "free_sized of a stack address", die_free_sized_stack, 0 },
	};

	for (size_t i = 0; i < sizeof(deaths) / sizeof(deaths[0]); i++) {
		if (deaths[i].fn == die_free_sized_stack && !p_free_sized)
			continue;
		int ok = expect_death(deaths[i].fn, (void *)(uintptr_t)deaths[i].arg, "BUG");

		if (!ok)
			fprintf(stderr, "  ^ bad free not caught: %s\n", deaths[i].name);
		CHECK(ok);
	}
}

/* ------------------------------------------------------------------ main */

struct test { const char *name; void (*fn)(void); };

/* no single test takes near this long; more means a hang */
#define WATCHDOG_S 180

static const struct test tests[] = {
	{ "malloc_zero", test_malloc_zero },
	{ "malloc_sizes", test_malloc_sizes },
	{ "malloc_many", test_malloc_many },
	{ "page_blocks", test_page_blocks },
	{ "enomem", test_enomem },
	{ "calloc", test_calloc },
	{ "realloc", test_realloc },
	{ "reallocarray", test_reallocarray },
	{ "posix_memalign", test_posix_memalign },
	{ "posix_memalign_giant", test_posix_memalign_giant },
	{ "aligned_alloc", test_aligned_alloc },
	{ "memalign", test_memalign },
	{ "align16_small", test_align16_small },
	{ "valloc", test_valloc },
	{ "free_sized", test_free_sized },
	{ "malloc_trim", test_malloc_trim },
	{ "startup", test_startup },
	{ "fork", test_fork },
	{ "thread_exit", test_thread_exit },
	{ "libc_names", test_libc_names },
	{ "mallinfo", test_mallinfo },
	{ "malloc_stats", test_malloc_stats },
	{ "off_by_one", test_off_by_one },
	{ "string_table", test_string_table },
	{ "bad_frees", test_bad_frees },
};

static const char *current_test;

static void watchdog(int sig)
{
	char msg[128];
	int n = snprintf(msg, sizeof(msg), "conformance: %s did not finish in %d s: hung\n",
			 current_test, WATCHDOG_S);

	(void)sig;
	if (write(2, msg, (size_t)n) < 0)
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
	if (argc >= 2 && !strcmp(argv[1], "--startup-race"))
		return startup_race_child();
	if (argc >= 3 && !strcmp(argv[1], "--startup-first"))
		return startup_first_child(argv[2]);

	self_path = "/proc/self/exe";
	page_size = sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGALRM, watchdog);
	if (!shim_in_use()) {
		printf("conformance: the shim is not in use: FAIL\n");
		return 1;
	}
	/* only the named tests, if any are named */
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		int run = argc < 2;

		for (int a = 1; a < argc; a++)
			run |= !strcmp(argv[a], tests[i].name);
		if (!run)
			continue;
		int before = test_failures;
		double t0 = now_s();

		current_test = tests[i].name;
		alarm(WATCHDOG_S);
		tests[i].fn();
		alarm(0);
		printf("%-22s %s (%.2fs)\n", tests[i].name,
		       test_failures == before ? "ok" : "FAILED", now_s() - t0);
	}
	return test_done("conformance");
}
