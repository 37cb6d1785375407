// SPDX-License-Identifier: MIT
/*
 * page_alloc_exhaustion.c - running out of memory is a NULL, never a crash
 * or a hang.
 *
 * With page_limit_mb = 16 the page allocator may carve 16 MiB, four
 * MAX_ORDER blocks.  Initialisation keeps a few pages of the first one
 * (the boot caches' slabs), so 3 order-10 allocations succeed and the
 * 4th fails; the rest of the first block is still there in smaller
 * blocks, and once those are taken too every order fails, GFP_ATOMIC
 * included, with exactly the limit handed out.  A free makes room again.
 * Orders above MAX_ORDER are refused.  As <uslab/slab.h> documents the
 * gfp flags, a failure is reported unless __GFP_NOWARN, and __GFP_NOFAIL
 * never returns NULL (it reports and aborts when memory is refused for
 * good, as here).  Finally the same limit with the memory fragmented:
 * 16 MiB held as order-0 pages, every other one freed, so half the pages
 * are free but no two free pages are buddies; an order-1 or order-10
 * request must then fail, not spin waiting for a block that cannot come.
 */
#include "test.h"
#include "page_check.h"

#include <limits.h>

#define LIMIT_MB	16
#define LIMIT_PAGES	((unsigned long)LIMIT_MB << (20 - PAGE_SHIFT))
#define BLOCK_PAGES	(1UL << MAX_ORDER)

static struct page *held[LIMIT_PAGES];
static unsigned int held_order[LIMIT_PAGES];
static unsigned long nr_held, held_pages;

static int hold(gfp_t gfp, unsigned int order)
{
	struct page *p = alloc_pages(gfp | __GFP_NOWARN, order);

	if (!p)
		return 0;
	CHECK_EQ((uintptr_t)page_address(p) % (PAGE_SIZE << order), 0);
	held[nr_held] = p;
	held_order[nr_held++] = order;
	held_pages += 1UL << order;
	return 1;
}

static void release_all(void)
{
	while (nr_held) {
		nr_held--;
		__free_pages(held[nr_held], held_order[nr_held]);
		held_pages -= 1UL << held_order[nr_held];
	}
}

/*
 * child_capture - run @fn in a child with its stderr captured into @out;
 * returns the wait status.
 */
static int child_capture(int (*fn)(void), char *out, size_t size, const char *what)
{
	int pipefd[2], status = 0;
	size_t len = 0;
	pid_t pid;

	out[0] = '\0';
	if (pipe(pipefd))
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		signal(SIGABRT, SIG_DFL);
		hang_guard(10, what);
		_exit(fn());
	}
	close(pipefd[1]);
	for (;;) {
		ssize_t n = read(pipefd[0], out + len, size - 1 - len);

		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == size - 1)
			break;
	}
	out[len] = '\0';
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	return status;
}

static int fail_warn(void)
{
	return alloc_pages(GFP_KERNEL, MAX_ORDER) == NULL && alloc_pages(GFP_KERNEL, 0) == NULL ? 0 : 1;
}

static int fail_nowarn(void)
{
	return alloc_pages(GFP_KERNEL | __GFP_NOWARN, MAX_ORDER) == NULL &&
	       alloc_pages(GFP_ATOMIC | __GFP_NOWARN, 0) == NULL ? 0 : 1;
}

static int nofail(void)
{
	return alloc_pages(GFP_KERNEL | __GFP_NOFAIL, 0) ? 0 : 1;
}

/* In a child: with no buddies free anywhere, order 1 must be refused. */
static int fragmented_order1(void)
{
	struct page *p = alloc_pages(GFP_KERNEL | __GFP_NOWARN, 1);
	struct page *q = alloc_pages(GFP_ATOMIC | __GFP_NOWARN, 1);

	return p == NULL && q == NULL ? 0 : 1;
}

static int fragmented_order10(void)
{
	return alloc_pages(GFP_KERNEL | __GFP_NOWARN, MAX_ORDER) == NULL ? 0 : 1;
}

int main(void)
{
	struct buddy_snap base, now;
	unsigned long expect10, got10 = 0;
	struct page *p;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* before anything else calls into the library */
	CHECK_EQ(uslab_option_set("page_limit_mb", LIMIT_MB), 0);
	CHECK_EQ(buddy_snap(&base), 0);
	CHECK_EQ(uslab_option_get("page_limit_mb"), LIMIT_MB);
	CHECK_EQ(uslab_option_set("page_limit_mb", 32), -1);	/* too late now */
	buddy_print("before", &base);
	hang_guard(30, "page_alloc_exhaustion");

	/* orders above MAX_ORDER: refused, whatever the memory */
	CHECK(alloc_pages(GFP_KERNEL | __GFP_NOWARN, MAX_ORDER + 1) == NULL);
	CHECK(alloc_pages(GFP_KERNEL | __GFP_NOWARN, 31) == NULL);
	CHECK(alloc_pages(GFP_KERNEL | __GFP_NOWARN, UINT_MAX) == NULL);
	CHECK(alloc_pages_node(0, GFP_KERNEL | __GFP_NOWARN, MAX_ORDER + 1) == NULL);
	CHECK_EQ(__get_free_pages(GFP_KERNEL | __GFP_NOWARN, MAX_ORDER + 1), 0);

	/* order-10 blocks until NULL */
	expect10 = base.nr[MAX_ORDER] + (LIMIT_PAGES - base.st.managed) / BLOCK_PAGES;
	while (got10 < 64 && hold(GFP_KERNEL, MAX_ORDER))
		got10++;
	printf("order-%d blocks under a %d MiB limit: %lu (expected %lu; init holds %zu pages)\n",
	       MAX_ORDER, LIMIT_MB, got10, expect10, base.st.allocated);
	CHECK_EQ(got10, expect10);
	CHECK(alloc_pages(GFP_KERNEL | __GFP_NOWARN, MAX_ORDER) == NULL);
	CHECK(alloc_pages(GFP_ATOMIC | __GFP_NOWARN, MAX_ORDER) == NULL);
	CHECK(alloc_pages(GFP_NOWAIT | __GFP_NOWARN, MAX_ORDER) == NULL);
	CHECK_EQ(__get_free_pages(GFP_KERNEL | __GFP_NOWARN, MAX_ORDER), 0);
	CHECK_EQ(buddy_snap(&now), 0);
	CHECK_EQ(now.st.managed, LIMIT_PAGES);

	/* a free makes room again, and the block is handed out again */
	nr_held--;
	held_pages -= 1UL << MAX_ORDER;
	__free_pages(held[nr_held], MAX_ORDER);
	CHECK(hold(GFP_KERNEL, MAX_ORDER));
	CHECK(alloc_pages(GFP_KERNEL | __GFP_NOWARN, MAX_ORDER) == NULL);

	/* what is left (the rest of the first block) in smaller blocks */
	for (int o = MAX_ORDER - 1; o >= 0; o--)
		while (hold(o & 1 ? GFP_ATOMIC : GFP_KERNEL, (unsigned int)o))
			;
	CHECK_EQ(buddy_snap(&now), 0);
	printf("held at the limit: %lu pages in %lu blocks; stats: managed %zu free %zu allocated %zu\n",
	       held_pages, nr_held, now.st.managed, now.st.free, now.st.allocated);
	CHECK_EQ(held_pages + base.st.allocated, LIMIT_PAGES);
	CHECK_EQ(now.st.free, 0);
	CHECK_EQ(now.st.allocated, LIMIT_PAGES);
	for (unsigned int o = 0; o <= MAX_ORDER; o++) {
		CHECK(alloc_pages(GFP_KERNEL | __GFP_NOWARN, o) == NULL);
		CHECK(alloc_pages(GFP_ATOMIC | __GFP_NOWARN, o) == NULL);
		CHECK(alloc_pages(GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN, o) == NULL);
		CHECK_EQ(__get_free_pages(GFP_KERNEL | __GFP_NOWARN, o), 0);
	}
	CHECK_EQ(get_zeroed_page(GFP_KERNEL | __GFP_NOWARN), 0);

	/* failures are reported unless __GFP_NOWARN; __GFP_NOFAIL never returns NULL */
	char out[4096];
	int st;

	st = child_capture(fail_warn, out, sizeof(out), "fail_warn");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (!strstr(out, "page allocation failure"))
		fprintf(stderr, "alloc_pages() failures without __GFP_NOWARN: no "
			"\"page allocation failure\" report; stderr was \"%s\"\n", out);
	CHECK(strstr(out, "page allocation failure") != NULL);
	st = child_capture(fail_nowarn, out, sizeof(out), "fail_nowarn");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK_EQ(strlen(out), 0);
	st = child_capture(nofail, out, sizeof(out), "nofail");
	if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT))
		fprintf(stderr, "alloc_pages(__GFP_NOFAIL) at the limit: %s %d (1: returned NULL, "
			"3: hung); stderr was \"%s\"\n",
			WIFEXITED(st) ? "exit status" : "signal",
			WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), out);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
	CHECK(strlen(out) > 0);		/* a report before the abort */

	/* two pages back: exactly they fit again, as one block or as two pages */
	for (unsigned long i = 0; i < nr_held; i++) {
		if (held_order[i] == 1) {
			struct page *q;

			__free_pages(held[i], 1);
			p = alloc_pages(GFP_KERNEL | __GFP_NOWARN, 1);
			CHECK(p == held[i]);
			CHECK(alloc_pages(GFP_KERNEL | __GFP_NOWARN, 0) == NULL);
			__free_pages(p, 1);
			p = alloc_pages(GFP_KERNEL | __GFP_NOWARN, 0);
			q = alloc_pages(GFP_ATOMIC | __GFP_NOWARN, 0);
			CHECK(p != NULL && q != NULL);
			CHECK(alloc_pages(GFP_KERNEL | __GFP_NOWARN, 0) == NULL);
			__free_pages(p, 0);
			__free_pages(q, 0);
			held[i] = alloc_pages(GFP_KERNEL | __GFP_NOWARN, 1);
			CHECK(held[i] != NULL);
			break;
		}
	}

	release_all();
	check_coalesced(&base);

	/*
	 * Fragmented: every page as order 0, then free the lower page of each
	 * buddy pair we hold.  Half the memory is free, none of it in pairs.
	 */
	while (hold(GFP_KERNEL, 0))
		;
	CHECK_EQ(held_pages + base.st.allocated, LIMIT_PAGES);
	unsigned long freed = 0;

	for (unsigned long i = 0; i < nr_held; i++) {
		uintptr_t a = (uintptr_t)page_address(held[i]);

		if (held[i] && !(a & PAGE_SIZE)) {
			__free_pages(held[i], 0);
			held[i] = NULL;
			freed++;
		}
	}
	CHECK_EQ(buddy_snap(&now), 0);
	printf("fragmented: %lu order-0 pages free, free blocks per order:", freed);
	for (int o = 0; o <= MAX_ORDER; o++)
		printf(" %lu", now.nr[o]);
	printf("\n");
	CHECK(freed >= BLOCK_PAGES);
	CHECK_EQ(now.nr[0], freed);
	rc = run_child(fragmented_order1, 10, "alloc_pages(order 1) with only order-0 pages free");
	CHECK_EQ(rc, 0);
	rc = run_child(fragmented_order10, 10, "alloc_pages(order 10) with only order-0 pages free");
	CHECK_EQ(rc, 0);
	/* the free pages are still usable one by one */
	for (unsigned long i = 0; i < nr_held; i++) {
		if (!held[i]) {
			held[i] = alloc_pages(GFP_KERNEL, 0);
			CHECK(held[i] != NULL);
		}
	}
	CHECK(alloc_pages(GFP_KERNEL | __GFP_NOWARN, 0) == NULL);
	for (unsigned long i = 0; i < nr_held; i++)
		__free_pages(held[i], 0);
	nr_held = held_pages = 0;
	check_coalesced(&base);

	CHECK_EQ(uslab_error_count(), 0);
	return test_done("page_alloc_exhaustion");
}
