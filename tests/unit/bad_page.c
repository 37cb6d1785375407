// SPDX-License-Identifier: MIT
/*
 * bad_page.c - bad frees of pages: each is reported ("BUG: Bad page
 * state"), counted, and leaves the allocator as it was.
 *
 * With a quiet test hook: a free of an address outside every arena (stack,
 * malloc), of a struct page pointer that is not one, of an address in an
 * arena's page array or in its never-carved part, with the wrong order, a
 * double free, a free of a tail page, of an unaligned address, of a page
 * the slab allocator owns.  Each calls the hook once and bumps
 * uslab_error_count(); afterwards the real blocks free normally and
 * everything coalesces.  Two cases whose failure would corrupt the free
 * lists run in forked children: a double free of a block that merged into
 * its buddy as the upper half, and a free of a tail page that was once
 * such a block's head.  Without a hook, each kind of bad free aborts with
 * the kernel's words.
 */
#include "test.h"
#include "page_check.h"
#include "page_alloc.h"

static int hook_calls;
static char last_what[128];

static void hook(const char *what)
{
	hook_calls++;
	snprintf(last_what, sizeof(last_what), "%s", what);
}

/* @stmt makes exactly one "Bad page state" report and changes nothing. */
#define EXPECT_REPORT(stmt) do {						\
	int __calls = hook_calls;						\
	unsigned long __errs = uslab_error_count();				\
	struct uslab_page_stats __st0, __st1;					\
										\
	last_what[0] = '\0';							\
	uslab_page_stats(&__st0);						\
	stmt;									\
	uslab_page_stats(&__st1);						\
	if (hook_calls != __calls + 1)						\
		fprintf(stderr, "%s:%d: not reported once: %s\n",		\
			__FILE__, __LINE__, #stmt);				\
	CHECK_EQ(hook_calls, __calls + 1);					\
	CHECK_EQ(uslab_error_count(), __errs + 1);				\
	CHECK(!strcmp(last_what, "Bad page state"));				\
	CHECK_EQ(__st1.allocated, __st0.allocated);				\
	CHECK_EQ(__st1.free, __st0.free);					\
} while (0)

#define EXPECT_NO_REPORT(stmt) do {						\
	int __calls = hook_calls;						\
	unsigned long __errs = uslab_error_count();				\
										\
	stmt;									\
	CHECK_EQ(hook_calls, __calls);						\
	CHECK_EQ(uslab_error_count(), __errs);					\
} while (0)

/*
 * find_buddy_pair - allocate order-0 pages until two of them are buddies
 * (the lower one 8 KiB aligned); free the others.  Returns the lower one.
 */
static uintptr_t find_buddy_pair(void)
{
	uintptr_t got[256], lo = 0;
	int n;

	for (n = 0; n < 256 && !lo; n++) {
		got[n] = (uintptr_t)__get_free_page(GFP_KERNEL);
		for (int i = 0; i < n && !lo; i++)
			if ((got[i] ^ got[n]) == PAGE_SIZE)
				lo = got[i] < got[n] ? got[i] : got[n];
	}
	for (int i = 0; i < n; i++)
		if (got[i] != lo && got[i] != lo + PAGE_SIZE)
			free_page(got[i]);
	return lo;
}

/* ------------------------------------------ in children: may corrupt */

/*
 * Page B merged into its free buddy A as the upper half; freeing B again
 * is a double free and must be reported, not put B on the lists a second
 * time inside the free block A+B.
 */
static int double_free_merged_upper(void)
{
	uintptr_t a = find_buddy_pair(), b = a + PAGE_SIZE;
	struct uslab_page_stats st0, st1;

	if (!a)
		return 2;
	free_page(a);
	free_page(b);			/* merges: A+B is one free order-1 block */
	uslab_page_stats(&st0);
	hook_calls = 0;
	free_page(b);			/* double free */
	uslab_page_stats(&st1);
	if (hook_calls != 1)
		fprintf(stderr, "double free of %#lx (merged into its buddy as the upper half) "
			"not reported; allocated %zu -> %zu pages, free %zu -> %zu\n",
			(unsigned long)b, st0.allocated, st1.allocated, st0.free, st1.free);
	return hook_calls == 1 && st1.allocated == st0.allocated ? 0 : 1;
}

/*
 * The same history, then A+B handed out as one order-1 block: B is its
 * tail page now, and a free of it must be refused.
 */
static int tail_page_once_a_head(void)
{
	uintptr_t a = find_buddy_pair(), b = a + PAGE_SIZE, x;
	struct uslab_page_stats st0, st1;

	if (!a)
		return 2;
	free_page(a);
	free_page(b);
	x = __get_free_pages(GFP_KERNEL, 1);
	if (x != a) {
		fprintf(stderr, "tail_page_once_a_head: got %#lx for order 1, not %#lx\n",
			(unsigned long)x, (unsigned long)a);
		return 2;
	}
	uslab_page_stats(&st0);
	hook_calls = 0;
	free_page(b);			/* the tail of the order-1 block at a */
	uslab_page_stats(&st1);
	if (hook_calls != 1)
		fprintf(stderr, "free of tail page %#lx of an order-1 block not reported; "
			"allocated %zu -> %zu pages\n", (unsigned long)b,
			st0.allocated, st1.allocated);
	return hook_calls == 1 && st1.allocated == st0.allocated ? 0 : 1;
}

/* ------------------------------------------------------ death tests */

static void die_stack(void *arg)
{
	int x = 0;

	(void)arg;
	free_pages((unsigned long)&x, 0);
}

static void die_double(void *arg)
{
	uintptr_t a = find_buddy_pair();	/* the buddy stays allocated */

	(void)arg;
	free_page(a);
	free_page(a);
}

static void die_wrong_order(void *arg)
{
	(void)arg;
	free_pages(__get_free_pages(GFP_KERNEL, 2), 1);
}

static void die_tail(void *arg)
{
	(void)arg;
	free_pages(__get_free_pages(GFP_KERNEL, 2) + PAGE_SIZE, 2);
}

static void die_unaligned(void *arg)
{
	(void)arg;
	free_pages(__get_free_pages(GFP_KERNEL, 2) + 100, 2);
}

static void die_bogus_struct_page(void *arg)
{
	long x[16] = { 0 };

	(void)arg;
	__free_pages((struct page *)x, 0);
}

int main(void)
{
	struct buddy_snap base;
	int x = 0, rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	hang_guard(30, "bad_page");
	uslab_set_report_hook(hook, 1);

	/*
	 * Pages the slab allocator owns, first: the kmalloc caches keep their
	 * slabs, so the snapshot is taken after.
	 */
	char *obj = kmalloc(64, GFP_KERNEL);
	uintptr_t slab = (uintptr_t)page_address(virt_to_head_page(obj));
	struct page *sp = virt_to_head_page(obj);

	EXPECT_REPORT(free_pages(slab, sp->order));
	EXPECT_REPORT(__free_pages(sp, sp->order));
	kfree(obj);
	char *big = kmalloc(100000, GFP_KERNEL);	/* kmalloc_large */

	EXPECT_REPORT(free_pages((unsigned long)big, get_order(100000)));
	EXPECT_REPORT(free_pages((unsigned long)big, 0));
	kfree(big);

	CHECK_EQ(buddy_snap(&base), 0);
	buddy_print("before", &base);
	unsigned long errs0 = uslab_error_count();
	int calls0 = hook_calls;

	/* NULL is no page: nothing to report */
	EXPECT_NO_REPORT(free_pages(0, 0));
	EXPECT_NO_REPORT(__free_pages(NULL, 3));

	/* a tail page of an order-2 block, before any other free here */
	uintptr_t t = __get_free_pages(GFP_KERNEL, 2);
	struct page *tp = virt_to_page((void *)t);

	CHECK(t != 0);
	EXPECT_REPORT(free_pages(t + PAGE_SIZE, 0));
	EXPECT_REPORT(free_pages(t + PAGE_SIZE, 2));
	EXPECT_REPORT(free_pages(t + 3 * PAGE_SIZE, 0));
	EXPECT_REPORT(free_pages(t + 2 * PAGE_SIZE, 1));
	EXPECT_REPORT(__free_pages(tp + 1, 0));
	EXPECT_REPORT(__free_pages(virt_to_page((void *)(t + 2 * PAGE_SIZE)), 1));

	/* outside every arena */
	void *m = malloc(64);

	EXPECT_REPORT(free_pages((unsigned long)&x, 0));
	EXPECT_REPORT(free_pages((unsigned long)m, 0));
	EXPECT_REPORT(free_pages((unsigned long)main & ~(PAGE_SIZE - 1), 0));
	EXPECT_REPORT(free_pages(PAGE_SIZE, 0));
	EXPECT_REPORT(free_pages(~0UL & ~(PAGE_SIZE - 1), 0));
	free(m);

	/* struct page pointers that are not one */
	EXPECT_REPORT(__free_pages((struct page *)&x, 0));
	EXPECT_REPORT(__free_pages((struct page *)((char *)tp + 8), 2));
	EXPECT_REPORT(__free_pages((struct page *)t, 2));	/* an address, not its page */
	EXPECT_REPORT(__free_pages((struct page *)(t & ~(ARENA_SIZE - 1)), 0)); /* arena header */

	/* inside an arena, but not pages it hands out */
	uintptr_t arena = t & ~(ARENA_SIZE - 1);

	EXPECT_REPORT(free_pages(arena, 0));
	EXPECT_REPORT(free_pages(arena + 16 * PAGE_SIZE, 0));	/* the page array */
	EXPECT_REPORT(free_pages(arena + ARENA_SIZE - PAGE_SIZE, 0));	/* never carved */
	EXPECT_REPORT(free_pages(arena + ARENA_SIZE - (PAGE_SIZE << MAX_ORDER), MAX_ORDER));

	/* the wrong order */
	uintptr_t b = __get_free_pages(GFP_KERNEL, 3);
	struct page *bp = virt_to_page((void *)b);

	CHECK(b != 0);
	EXPECT_REPORT(free_pages(b, 2));
	EXPECT_REPORT(free_pages(b, 4));
	EXPECT_REPORT(free_pages(b, 0));
	EXPECT_REPORT(free_pages(b, MAX_ORDER));
	EXPECT_REPORT(__free_pages(bp, 1));
	EXPECT_REPORT(free_pages(b, MAX_ORDER + 5));

	/* unaligned addresses inside a block */
	EXPECT_REPORT(free_pages(b + 100, 3));
	EXPECT_REPORT(free_pages(b + 1, 3));
	EXPECT_REPORT(free_pages(b + PAGE_SIZE + 8, 0));
	EXPECT_REPORT(free_pages(b + (PAGE_SIZE << 3) - 1, 0));

	/* double frees: the lower page of a pair while its buddy is in use, then the pair */
	uintptr_t lo = find_buddy_pair();

	CHECK(lo != 0);
	free_page(lo);
	EXPECT_REPORT(free_page(lo));
	EXPECT_REPORT(__free_page(virt_to_page((void *)lo)));
	free_page(lo + PAGE_SIZE);		/* merges with lo as the upper half */
	EXPECT_REPORT(free_page(lo));		/* lo heads the merged free block */
	EXPECT_REPORT(free_pages(lo, 1));

	/* a whole block: freed, then freed again */
	uintptr_t d = __get_free_pages(GFP_KERNEL, 4);

	free_pages(d, 4);
	EXPECT_REPORT(free_pages(d, 4));

	printf("%d bad frees reported, %lu errors counted\n", hook_calls - calls0,
	       uslab_error_count() - errs0);
	CHECK_EQ(uslab_error_count() - errs0, (unsigned long)(hook_calls - calls0));

	/* the real blocks are intact and free normally */
	EXPECT_NO_REPORT(free_pages(t, 2));
	EXPECT_NO_REPORT(__free_pages(bp, 3));
	check_coalesced(&base);
	/* and the allocator goes on working */
	for (unsigned int o = 0; o <= MAX_ORDER; o++) {
		struct page *p = alloc_pages(GFP_KERNEL | __GFP_ZERO, o);

		CHECK(p != NULL);
		EXPECT_NO_REPORT(__free_pages(p, o));
	}
	check_coalesced(&base);

	/* free-list corruption if they fail: in children */
	rc = run_child(double_free_merged_upper, 10, "double free of a merged upper buddy");
	if (rc)
		fprintf(stderr, "double_free_merged_upper: child returned %d\n", rc);
	CHECK_EQ(rc, 0);
	rc = run_child(tail_page_once_a_head, 10, "free of a tail page that was a head");
	if (rc)
		fprintf(stderr, "tail_page_once_a_head: child returned %d\n", rc);
	CHECK_EQ(rc, 0);

	/* without a hook: abort, in the kernel's words */
	uslab_set_report_hook(NULL, 0);
	CHECK(expect_death(die_stack, NULL, "BUG: Bad page state"));
	CHECK(expect_death(die_stack, NULL, "address outside every uslab arena"));
	CHECK(expect_death(die_double, NULL, "BUG: Bad page state"));
	CHECK(expect_death(die_double, NULL, "double free"));
	CHECK(expect_death(die_wrong_order, NULL, "freed as order 1, allocated as order 2"));
	CHECK(expect_death(die_tail, NULL, "BUG: Bad page state"));
	CHECK(expect_death(die_unaligned, NULL, "BUG: Bad page state"));
	CHECK(expect_death(die_unaligned, NULL, "not the start of a page"));
	CHECK(expect_death(die_bogus_struct_page, NULL, "BUG: Bad page state"));

	/* the children's deaths left this process alone */
	check_coalesced(&base);
	return test_done("bad_page");
}
