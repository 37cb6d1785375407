// SPDX-License-Identifier: MIT
/*
 * page_alloc_rss.c - freed pages go back to the OS.
 *
 * With page_retain_mb = 8 the buddy allocator keeps at most 8 MiB of free
 * memory backed; past that a free releases (madvise) dirty free blocks
 * until half the bound is left.  So: 256 MiB allocated and touched raise
 * the resident set by about 256 MiB; freed, without any other call, the
 * resident set falls back to the start plus at most the retained 8 MiB
 * (and some slack).  uslab_trim() then gives back the rest: the resident
 * set ends within a few MiB of the start and trim reports what it
 * released.  Memory given back reads as zeroes when handed out again, so
 * __GFP_ZERO needs no memset there - and must still see zeroes.  Measured
 * from /proc/self/statm; the numbers are printed.
 *
 * page_retain_max_mb = page_retain_mb keeps the bound fixed: otherwise
 * round 2, which faults back what round 1 released, would raise it
 * (adaptive retention, tested in tests/api/page_retention.c).
 */
#include "test.h"
#include "page_check.h"

#define RETAIN_MB	8
#define TOTAL_MB	256
#define NR_BLOCKS	(TOTAL_MB / 4)			/* order-10 blocks */
#define SLACK		(16L << 20)
#define MiB(x)		((double)(x) / (1 << 20))

/*
 * The test's own loads and stores skip AddressSanitizer's checks: they
 * would read the shadow of 256 MiB, and 32 MiB of shadow resident would
 * hide what the library does.
 */
#define NO_ASAN __attribute__((no_sanitize_address))

static struct page *blocks[NR_BLOCKS];

static NO_ASAN void alloc_touch(void)
{
	for (int i = 0; i < NR_BLOCKS; i++) {
		blocks[i] = alloc_pages(GFP_KERNEL, MAX_ORDER);
		CHECK(blocks[i] != NULL);
		if (!blocks[i])
			continue;
		char *p = page_address(blocks[i]);

		for (size_t off = 0; off < (PAGE_SIZE << MAX_ORDER); off += PAGE_SIZE)
			p[off] = (char)(off >> PAGE_SHIFT | 1);
	}
}

/* A quarter of the blocks again, with __GFP_ZERO: how many words are not 0? */
static NO_ASAN int count_nonzero(void)
{
	int nonzero = 0;

	for (int i = 0; i < NR_BLOCKS / 4; i++) {
		blocks[i] = alloc_pages(GFP_KERNEL | __GFP_ZERO, MAX_ORDER);
		CHECK(blocks[i] != NULL);
		if (!blocks[i])
			continue;
		const long *p = page_address(blocks[i]);

		for (size_t w = 0; w < (PAGE_SIZE << MAX_ORDER) / sizeof(long); w++)
			if (p[w])
				nonzero++;
	}
	return nonzero;
}

static void free_all(void)
{
	for (int i = 0; i < NR_BLOCKS; i++)
		__free_pages(blocks[i], MAX_ORDER);
}

int main(void)
{
	struct buddy_snap base, now;
	long start, peak, after_free, after_trim;
	size_t trimmed, trimmed2;

	setvbuf(stdout, NULL, _IOLBF, 0);
	CHECK_EQ(uslab_option_set("page_retain_mb", RETAIN_MB), 0);
	CHECK_EQ(uslab_option_set("page_retain_max_mb", RETAIN_MB), 0);
	CHECK_EQ(buddy_snap(&base), 0);
	CHECK_EQ(uslab_option_get("page_retain_mb"), RETAIN_MB);
	buddy_print("before", &base);
	hang_guard(30, "page_alloc_rss");

	start = rss_bytes();
	CHECK(start > 0);

	/* 1. allocate and touch; free; the retain bound holds without a call */
	alloc_touch();
	peak = rss_bytes();
	free_all();
	after_free = rss_bytes();
	CHECK_EQ(buddy_snap(&now), 0);
	printf("round 1: start %.1f MiB, with %d MiB touched %.1f MiB (+%.1f), after free %.1f MiB (+%.1f); "
	       "free dirty %.1f MiB, released %.1f MiB\n",
	       MiB(start), TOTAL_MB, MiB(peak), MiB(peak - start), MiB(after_free),
	       MiB(after_free - start), MiB(now.st.free_dirty * PAGE_SIZE),
	       MiB(now.st.released * PAGE_SIZE));
	CHECK(peak - start >= (long)(TOTAL_MB << 20) - SLACK);
	CHECK(after_free <= start + (RETAIN_MB << 20) + SLACK);
	CHECK(now.st.free_dirty <= ((size_t)RETAIN_MB << 20) / PAGE_SIZE);
	CHECK(now.st.released * PAGE_SIZE >= ((size_t)(TOTAL_MB - RETAIN_MB) << 20));
	check_coalesced(&base);

	/* 2. again, and uslab_trim() gives back what the bound retained */
	alloc_touch();
	peak = rss_bytes();
	free_all();
	after_free = rss_bytes();
	CHECK_EQ(buddy_snap(&now), 0);
	size_t dirty = now.st.free_dirty * PAGE_SIZE;

	trimmed = uslab_trim();
	after_trim = rss_bytes();
	trimmed2 = uslab_trim();
	CHECK_EQ(buddy_snap(&now), 0);
	printf("round 2: with %d MiB touched %.1f MiB, after free %.1f MiB (%.1f MiB free dirty), "
	       "uslab_trim() released %.1f MiB -> %.1f MiB (+%.1f over the start); a second trim %zu bytes\n",
	       TOTAL_MB, MiB(peak), MiB(after_free), MiB(dirty), MiB(trimmed), MiB(after_trim),
	       MiB(after_trim - start), trimmed2);
	CHECK(peak - start >= (long)(TOTAL_MB << 20) - SLACK);
	CHECK(after_free <= start + (RETAIN_MB << 20) + SLACK);
	CHECK(dirty > 0);
	CHECK(trimmed > 0);
	CHECK(trimmed >= dirty);
	CHECK(after_trim <= start + (4L << 20));
	CHECK(after_trim <= after_free);
	CHECK_EQ(trimmed2, 0);
	CHECK_EQ(now.st.free_dirty, 0);
	check_coalesced(&base);

	/* 3. released memory reads as zeroes, and __GFP_ZERO sees zeroes */
	int nonzero = count_nonzero();
	long read_rss, end_rss;

	CHECK_EQ(nonzero, 0);
	read_rss = rss_bytes();
	for (int i = 0; i < NR_BLOCKS / 4; i++)
		__free_pages(blocks[i], MAX_ORDER);
	end_rss = rss_bytes();
	printf("round 3: %d MiB of __GFP_ZERO blocks read: %.1f MiB, freed: %.1f MiB\n",
	       TOTAL_MB / 4, MiB(read_rss), MiB(end_rss));
	CHECK(end_rss <= start + (RETAIN_MB << 20) + SLACK);

	CHECK_EQ(uslab_error_count(), 0);
	return test_done("page_alloc_rss");
}
