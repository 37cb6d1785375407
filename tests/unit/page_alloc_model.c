// SPDX-License-Identifier: MIT
/*
 * page_alloc_model.c - the buddy allocator against a model.
 *
 * A seeded random sequence of allocations (orders 0..MAX_ORDER, through
 * every allocation form: alloc_pages, alloc_pages_node, __GFP_ZERO,
 * __get_free_pages, get_zeroed_page) and frees (__free_pages or
 * free_pages, in random order) keeps an array of the live blocks.  Each
 * block must be naturally aligned, map to its struct page and back, read
 * as zeroes when asked to, and not overlap any other live block: every
 * page carries a tag written at allocation and verified at free, and the
 * live set is sorted and compared now and then.  The page counters must
 * follow the model, and once everything is freed the free lists must be
 * what they were before the test (see page_check.h).
 *
 * Usage: page_alloc_model [seed]   (the seed is printed on every run)
 */
#include "test.h"
#include "page_check.h"
#include "page_alloc.h"

#include <stdint.h>
#include <inttypes.h>
#include <time.h>

#define NR_OPS		30000
#define MAX_LIVE	1024
#define MAX_LIVE_PAGES	16384		/* 64 MiB touched at most */

enum alloc_form {
	FORM_ALLOC_PAGES,
	FORM_ALLOC_PAGES_ZERO,
	FORM_ALLOC_PAGES_NODE,
	FORM_GET_FREE_PAGES,
	FORM_GET_FREE_PAGES_ZERO,	/* get_zeroed_page() for order 0 */
	FORM__COUNT
};

struct blk {
	struct page *page;
	uintptr_t addr;
	unsigned int order;
	uint64_t tag;
};

static struct blk live[MAX_LIVE];
static unsigned int nr_live;
static unsigned long live_pages;
static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned int random_order(void)
{
	unsigned int r = (unsigned int)(rnd() % 100);

	if (r < 50)
		return (unsigned int)(rnd() % 3);		/* 0..2 */
	if (r < 80)
		return 3 + (unsigned int)(rnd() % 3);	/* 3..5 */
	if (r < 95)
		return 6 + (unsigned int)(rnd() % 3);	/* 6..8 */
	return 9 + (unsigned int)(rnd() % 2);		/* 9..10 */
}

static uint64_t page_tag(const struct blk *b, unsigned long i)
{
	return b->tag ^ (i * 0x100000001b3ull);
}

/* A tag at the start and at the end of every page of the block. */
static void write_tags(const struct blk *b)
{
	for (unsigned long i = 0; i < (1UL << b->order); i++) {
		uint64_t *pg = (uint64_t *)(b->addr + i * PAGE_SIZE);

		pg[0] = page_tag(b, i);
		pg[PAGE_SIZE / sizeof(uint64_t) - 1] = ~page_tag(b, i);
	}
}

static int tags_intact(const struct blk *b)
{
	for (unsigned long i = 0; i < (1UL << b->order); i++) {
		const uint64_t *pg = (const uint64_t *)(b->addr + i * PAGE_SIZE);

		if (pg[0] != page_tag(b, i) ||
		    pg[PAGE_SIZE / sizeof(uint64_t) - 1] != ~page_tag(b, i))
			return 0;
	}
	return 1;
}

static int all_zero(uintptr_t addr, unsigned int order)
{
	const uint64_t *p = (const uint64_t *)addr;

	for (size_t i = 0; i < (PAGE_SIZE << order) / sizeof(uint64_t); i++)
		if (p[i])
			return 0;
	return 1;
}

static int cmp_blk(const void *a, const void *b)
{
	const struct blk *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void check_no_overlap(void)
{
	static struct blk sorted[MAX_LIVE];

	memcpy(sorted, live, nr_live * sizeof(live[0]));
	qsort(sorted, nr_live, sizeof(sorted[0]), cmp_blk);
	for (unsigned int i = 1; i < nr_live; i++) {
		uintptr_t end = sorted[i - 1].addr + (PAGE_SIZE << sorted[i - 1].order);

		if (end > sorted[i].addr) {
			fprintf(stderr, "overlap: %#lx order %u and %#lx order %u\n",
				(unsigned long)sorted[i - 1].addr, sorted[i - 1].order,
				(unsigned long)sorted[i].addr, sorted[i].order);
			CHECK(end <= sorted[i].addr);
			return;
		}
	}
}

static unsigned long nr_allocs[MAX_ORDER + 1], nr_zeroed, nr_addr_frees;

static void do_alloc(void)
{
	unsigned int order = random_order();
	enum alloc_form form = (enum alloc_form)(rnd() % FORM__COUNT);
	struct blk b = { .order = order, .tag = rnd() };
	int zero = 0;

	if (live_pages + (1UL << order) > MAX_LIVE_PAGES)
		order = b.order = 0;

	switch (form) {
	case FORM_ALLOC_PAGES:
		b.page = alloc_pages(GFP_KERNEL, order);
		break;
	case FORM_ALLOC_PAGES_ZERO:
		b.page = alloc_pages(GFP_KERNEL | __GFP_ZERO, order);
		zero = 1;
		break;
	case FORM_ALLOC_PAGES_NODE:
		b.page = alloc_pages_node(0, GFP_KERNEL, order);
		break;
	case FORM_GET_FREE_PAGES:
	case FORM_GET_FREE_PAGES_ZERO: {
		unsigned long a;

		zero = form == FORM_GET_FREE_PAGES_ZERO;
		if (zero && order == 0)
			a = get_zeroed_page(GFP_KERNEL);
		else
			a = __get_free_pages(GFP_KERNEL | (zero ? __GFP_ZERO : 0), order);
		CHECK(a != 0);
		b.page = a ? virt_to_page((void *)a) : NULL;
		break;
	}
	default:
		break;
	}
	CHECK(b.page != NULL);
	if (!b.page)
		return;
	b.addr = (uintptr_t)page_address(b.page);

	CHECK_EQ(b.addr % (PAGE_SIZE << order), 0);
	CHECK(virt_to_page((void *)b.addr) == b.page);
	CHECK(uslab_owns((void *)b.addr));
	/* every page of the block, at any offset in it, maps into the block */
	for (unsigned long i = 0; i < (1UL << order); i += 1 + (unsigned long)(rnd() % 64)) {
		uintptr_t a = b.addr + i * PAGE_SIZE + (uintptr_t)(rnd() % PAGE_SIZE);

		CHECK(virt_to_page((void *)a) == b.page + i);
		CHECK_EQ((uintptr_t)page_address(b.page + i), b.addr + i * PAGE_SIZE);
	}
	if (zero) {
		CHECK(all_zero(b.addr, order));
		nr_zeroed++;
	}
	write_tags(&b);
	live[nr_live++] = b;
	live_pages += 1UL << order;
	nr_allocs[order]++;
}

static void do_free(unsigned int i)
{
	struct blk b = live[i];

	CHECK(tags_intact(&b));
	live[i] = live[--nr_live];
	live_pages -= 1UL << b.order;
	if (rnd() & 1) {
		__free_pages(b.page, b.order);
	} else {
		free_pages(b.addr, b.order);
		nr_addr_frees++;
	}
}

int main(int argc, char **argv)
{
	struct buddy_snap base, now;
	uint64_t seed;
	int x = 0;

	seed = argc > 1 ? strtoull(argv[1], NULL, 0) : test_seed_value(1);
	rng_state = seed;
	setvbuf(stdout, NULL, _IOLBF, 0);
	hang_guard(30, "page_alloc_model");
	printf("page_alloc_model: seed %" PRIu64 " (rerun with: %s %" PRIu64 ")\n",
	       seed, argv[0], seed);

	CHECK_EQ(buddy_snap(&base), 0);
	buddy_print("before", &base);

	/* not ours */
	CHECK(virt_to_page(&x) == NULL);
	CHECK(!uslab_owns(&x));

	for (unsigned int op = 0; op < NR_OPS; op++) {
		if (nr_live == 0 || (nr_live < MAX_LIVE && rnd() % 100 < 55))
			do_alloc();
		else
			do_free((unsigned int)(rnd() % nr_live));

		if (op % 1000 == 999) {
			check_no_overlap();
			CHECK_EQ(buddy_snap(&now), 0);
			CHECK_EQ(now.st.allocated, base.st.allocated + live_pages);
			CHECK_EQ(now.st.free + now.st.allocated, now.st.managed);
		}
	}
	check_no_overlap();

	/* grow the live set close to its cap, then check again */
	while (nr_live < MAX_LIVE && live_pages + (1UL << MAX_ORDER) <= MAX_LIVE_PAGES)
		do_alloc();
	check_no_overlap();
	CHECK_EQ(buddy_snap(&now), 0);
	CHECK_EQ(now.st.allocated, base.st.allocated + live_pages);
	printf("live at the end: %u blocks, %lu pages\n", nr_live, live_pages);

	while (nr_live)
		do_free((unsigned int)(rnd() % nr_live));

	printf("allocations per order:");
	for (int o = 0; o <= MAX_ORDER; o++)
		printf(" %lu", nr_allocs[o]);
	printf("; %lu zeroed, %lu freed by address\n", nr_zeroed, nr_addr_frees);

	check_coalesced(&base);

	/* a second, short round in the coalesced state reuses the dirty memory */
	for (unsigned int op = 0; op < 2000; op++) {
		if (nr_live == 0 || (nr_live < MAX_LIVE && rnd() % 100 < 50))
			do_alloc();
		else
			do_free((unsigned int)(rnd() % nr_live));
	}
	check_no_overlap();
	while (nr_live)
		do_free((unsigned int)(rnd() % nr_live));
	check_coalesced(&base);

	CHECK_EQ(uslab_error_count(), 0);
	if (test_failures)
		printf("page_alloc_model: FAILED with seed %" PRIu64 "\n", seed);
	return test_done("page_alloc_model");
}
