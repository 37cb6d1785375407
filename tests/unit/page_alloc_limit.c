// SPDX-License-Identifier: MIT
/*
 * page_alloc_limit.c - page_limit_mb (USLAB_PAGE_LIMIT_MB) is a limit
 * the allocator can start under, and it covers every byte the page
 * allocator maps.
 *
 * 1. A limit below one MAX_ORDER block (4 MiB) per node, 1..3 MiB, used to
 *    leave the slab bootstrap no block at all: the first allocation
 *    panicked ("Creation of kmalloc slab kmem_cache_node ... failed").  It
 *    is raised to that minimum with a warning naming the option, and
 *    the kernel API works within it: one block is carved, no more.  With
 *    two nodes, the minimum is two blocks.
 * 2. With a limit of 16 MiB, direct mappings (kvmalloc above 4 MiB) count
 *    against it as carved blocks do, header page included: kvmalloc(64
 *    MiB) fails; 8 MiB fits, a second 8 MiB does not, nor does a block
 *    that would need a new carve; freeing the mapping makes room again.
 *
 * Each case runs in a child that sets the option before its first
 * allocation, with its stderr captured.
 */
#include "test.h"
#include "page_check.h"

#include <uslab/slab.h>

#define MiB		(1UL << 20)
#define BLOCK_PAGES	(1UL << MAX_ORDER)

static long opt_limit, opt_nodes;

/* Run @fn in a child with stderr into @out; its exit status, -1 on a signal. */
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
		hang_guard(30, what);
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
	if (WIFSIGNALED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* In a child: a tiny limit starts, and holds the minimum. */
static int tiny_limit(void)
{
	struct uslab_page_stats st;
	struct kmem_cache *s;
	void *objs[256];
	unsigned long blocks = 0;
	int bad = 0;

	if (uslab_option_set("page_limit_mb", opt_limit) ||
	    uslab_option_set("numa_nodes", opt_nodes))
		return 10;
	for (int i = 0; i < 256; i++) {
		objs[i] = kmalloc(64 + (size_t)i * 16, GFP_KERNEL);
		bad |= !objs[i];
	}
	s = kmem_cache_create("tiny_limit", 128, 0, 0, NULL);
	bad |= !s;
	if (s) {
		void *x = kmem_cache_alloc(s, GFP_KERNEL);

		bad |= !x;
		kmem_cache_free(s, x);
		kmem_cache_destroy(s);
	}
	for (int i = 0; i < 256; i++)
		kfree(objs[i]);
	if (bad)
		return 11;
	/* The limit holds: no more than a block per node is ever carved. */
	while (alloc_pages(GFP_KERNEL | __GFP_NOWARN, 0))
		if (++blocks > 4 * BLOCK_PAGES)
			break;
	uslab_page_stats(&st);
	fprintf(stderr, "managed %zu pages\n", st.managed);
	if (st.managed != (size_t)opt_nodes * BLOCK_PAGES)
		return 12;
	return 0;
}

/* In a child: direct mappings count against a 16 MiB limit. */
static int direct_mappings(void)
{
	struct uslab_page_stats st;
	void *a, *b, *c;
	struct page *blk;

	if (uslab_option_set("page_limit_mb", 16))
		return 10;
	uslab_page_stats(&st);	/* starts the page allocator, not the slabs */
	a = kvmalloc(64 * MiB, GFP_KERNEL | __GFP_NOWARN);	/* beyond it */
	if (a)
		return 11;
	a = kvmalloc(8 * MiB, GFP_KERNEL);
	if (!a)
		return 12;
	memset(a, 1, 8 * MiB);
	uslab_page_stats(&st);
	fprintf(stderr, "managed %zu direct %zu pages\n", st.managed, st.direct_mapped);
	/* the bootstrap's block and 8 MiB + a header page: 4 MiB - 4 KiB left */
	if (st.managed != BLOCK_PAGES || st.direct_mapped != 8 * MiB / PAGE_SIZE + 1)
		return 13;
	b = kvmalloc(8 * MiB, GFP_KERNEL | __GFP_NOWARN);
	if (b)
		return 14;
	c = kvmalloc(5 * MiB, GFP_KERNEL | __GFP_NOWARN);	/* 5 MiB + 4 KiB > 4 MiB - 4 KiB */
	if (c)
		return 15;
	/* Nor can the zone carve a second block: 4 MiB does not fit either. */
	blk = alloc_pages(GFP_KERNEL | __GFP_NOWARN, MAX_ORDER);
	if (blk)
		return 16;
	kvfree(a);
	/* Room again: a block, and a mapping in what is left. */
	blk = alloc_pages(GFP_KERNEL | __GFP_NOWARN, MAX_ORDER);
	if (!blk)
		return 17;
	b = kvmalloc(8 * MiB - 2 * PAGE_SIZE, GFP_KERNEL | __GFP_NOWARN);
	if (!b)
		return 18;
	c = kvmalloc(5 * MiB, GFP_KERNEL | __GFP_NOWARN);
	if (c)
		return 19;
	kvfree(b);
	__free_pages(blk, MAX_ORDER);
	return 0;
}

int main(void)
{
	char out[16384], what[64];
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);

	for (long limit = 1; limit <= 4; limit++) {
		for (long nodes = 1; nodes <= 2; nodes++) {
			opt_limit = limit;
			opt_nodes = nodes;
			snprintf(what, sizeof(what), "page_limit_mb=%ld numa_nodes=%ld", limit, nodes);
			rc = child_capture(tiny_limit, out, sizeof(out), what);
			printf("%s: exit %d\n", what, rc);
			if (rc)
				fprintf(stderr, "%s: child failed (%d); stderr:\n%s\n", what, rc, out);
			CHECK_EQ(rc, 0);
			CHECK(!strstr(out, "Kernel panic"));
			if (limit < 4 * nodes) {
				/* said once, naming the option and what it is raised to */
				char want[64];

				snprintf(want, sizeof(want), "page_limit_mb=%ld is below", limit);
				CHECK(strstr(out, want) != NULL);
				snprintf(want, sizeof(want), "using %ld MiB", 4 * nodes);
				CHECK(strstr(out, want) != NULL);
			} else {
				CHECK(!strstr(out, "is below"));
			}
		}
	}

	rc = child_capture(direct_mappings, out, sizeof(out), "direct mappings under 16 MiB");
	printf("direct mappings under page_limit_mb=16: exit %d\n", rc);
	if (rc)
		fprintf(stderr, "direct mappings: child failed (%d); stderr:\n%s\n", rc, out);
	CHECK_EQ(rc, 0);
	return test_done("page_alloc_limit");
}
