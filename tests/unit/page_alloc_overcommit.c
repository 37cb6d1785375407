// SPDX-License-Identifier: MIT
/*
 * page_alloc_overcommit.c - uslab follows the system's overcommit policy
 * as glibc does.
 *
 * Direct mappings (kvmalloc above 4 MiB, the shim's huge mallocs) are
 * plain private mappings, without MAP_NORESERVE: with
 * vm.overcommit_memory at 0 (the heuristic) kvmalloc(64 TiB) and
 * kvmalloc(1 TiB) fail with NULL on a machine with less memory and swap
 * than that, and at 2 (never) beyond the commit limit; at 1 (always) the
 * kernel accepts them, so the test does not ask.  A reasonable size
 * still works.  Every mapping that holds data is accounted (VmFlags "ac"
 * in /proc/self/smaps, and never "nr", MAP_NORESERVE): a direct mapping,
 * and an arena's committed blocks - reserved PROT_NONE, then made
 * read-write, which charges them to the commit accounting only if the
 * reservation was not MAP_NORESERVE.
 */
#include "test.h"
#include "page_check.h"
#include "page_alloc.h"

#include <uslab/slab.h>

#define TiB	(1ULL << 40)
#define MiB	(1UL << 20)

static int overcommit_mode(void)
{
	FILE *f = fopen("/proc/sys/vm/overcommit_memory", "r");
	int mode = -1;

	if (f) {
		if (fscanf(f, "%d", &mode) != 1)
			mode = -1;
		fclose(f);
	}
	return mode;
}

/* A field of /proc/meminfo in bytes, 0 if missing. */
static unsigned long long meminfo(const char *field)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	size_t n = strlen(field);
	unsigned long long kb = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':') {
			sscanf(line + n + 1, "%llu", &kb);
			break;
		}
	fclose(f);
	return kb << 10;
}

/*
 * vma_flags - the VmFlags line of the /proc/self/smaps entry that holds
 * @p, into @flags; 0, or -1 if there is none (no smaps, or no VmFlags).
 */
static int vma_flags(const void *p, char *flags, size_t size)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int in = 0, found = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
			continue;
		}
		if (in && !strncmp(line, "VmFlags:", 8)) {
			snprintf(flags, size, "%.200s", line + 8);
			found = 0;
			break;
		}
	}
	fclose(f);
	return found;
}

static int has_flag(const char *flags, const char *flag)
{
	char want[8];

	snprintf(want, sizeof(want), " %s", flag);
	for (const char *s = flags; (s = strstr(s, want)); s += 3)
		if (s[3] == ' ' || s[3] == '\n' || s[3] == '\0')
			return 1;
	return 0;
}

static void check_accounted(const char *what, const void *p)
{
	char flags[256];

	if (vma_flags(p, flags, sizeof(flags))) {
		printf("%s: no VmFlags in /proc/self/smaps, not checked\n", what);
		return;
	}
	printf("%s: VmFlags:%s", what, flags);
	CHECK(has_flag(flags, "ac"));	/* VM_ACCOUNT */
	CHECK(!has_flag(flags, "nr"));	/* VM_NORESERVE */
}

int main(void)
{
	int mode = overcommit_mode();
	unsigned long long bound = meminfo("MemTotal") + meminfo("SwapTotal");
	unsigned long long commit_limit = meminfo("CommitLimit");
	void *p, *q;

	setvbuf(stdout, NULL, _IOLBF, 0);
	hang_guard(60, "page_alloc_overcommit");
	printf("vm.overcommit_memory = %d, memory + swap = %llu MiB, CommitLimit = %llu MiB\n",
	       mode, bound >> 20, commit_limit >> 20);

	/* Huge requests: the policy decides, and at 0 or 2 it says no. */
	p = kvmalloc(64 * TiB, GFP_KERNEL | __GFP_NOWARN);
	q = kvmalloc(1 * TiB, GFP_KERNEL | __GFP_NOWARN);
	printf("kvmalloc(64 TiB) = %p, kvmalloc(1 TiB) = %p\n", p, q);
	if (mode == 1) {
		printf("vm.overcommit_memory is 1 (always): the kernel may map them, not checked\n");
	} else if (mode == 0 || mode == 2) {
		unsigned long long most = mode == 0 ? bound : commit_limit;

		CHECK(p == NULL);
		if (most && most < TiB)
			CHECK(q == NULL);
		else
			printf("1 TiB is within this machine's means, not checked\n");
	}
	kvfree(p);
	kvfree(q);

	/* A reasonable one works, reads as zeroes and is accounted. */
	p = kvmalloc(64 * MiB, GFP_KERNEL);
	CHECK(p != NULL);
	if (p) {
		CHECK_EQ(((unsigned char *)p)[0], 0);
		CHECK_EQ(((unsigned char *)p)[64 * MiB - 1], 0);
		memset(p, 0x5a, 64 * MiB);
		check_accounted("direct mapping (kvmalloc 64 MiB)", p);
		kvfree(p);
	}

	/* An arena's committed blocks are accounted too. */
	p = kmalloc(64, GFP_KERNEL);
	CHECK(p != NULL);
	if (p) {
		check_accounted("arena block (kmalloc 64)", p);
		/* and so is the struct page array that describes it */
		check_accounted("arena struct pages", __virt_to_page(p));
		kfree(p);
	}
	struct page *pg = alloc_pages(GFP_KERNEL, MAX_ORDER);

	CHECK(pg != NULL);
	if (pg) {
		check_accounted("arena block (order 10)", page_address(pg));
		__free_pages(pg, MAX_ORDER);
	}
	return test_done("page_alloc_overcommit");
}
