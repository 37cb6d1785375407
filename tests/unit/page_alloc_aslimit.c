// SPDX-License-Identifier: MIT
/*
 * page_alloc_aslimit.c - the allocator starts and works under an
 * address-space limit (ulimit -v, RLIMIT_AS).
 *
 * Each case runs in a forked child that sets RLIMIT_AS before its first
 * allocation (the parent never starts the allocator).  At 2 GiB the
 * first arena must be a whole 1 GiB one: its reservation may not map
 * twice its size to align itself.  At 1 GiB, 512 MiB and 256 MiB a full
 * arena does not fit; the zone must make a partly reserved one and grow
 * it in place.  In every case the kernel API starts (kmalloc,
 * kmem_cache_create, alloc_pages), a working set of 32 MiB is
 * allocated, written, freed and allocated again, and running
 * the limit out makes alloc_pages return NULL - after handing out most
 * of the limit - never a panic; what it handed out serves again once
 * freed.  In the 256 MiB case, an address of someone else's mapping in
 * the unreserved tail of an arena's slot is not ours: uslab_owns() is
 * false, virt_to_page() NULL, classify_ptr() PTR_FOREIGN, and kfree() and
 * free_pages() of it are reported as pointers outside every arena.
 */
#include "test.h"
#include "page_check.h"
#include "page_alloc.h"

#include <sys/mman.h>
#include <sys/resource.h>
#include <uslab/slab.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE	0x100000
#endif

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif

#define MiB		(1UL << 20)

/* test.h's test_skip() where it has one (exit 77: ctest's "Skipped") */
#ifdef TEST_SKIP_CODE
#define SKIP(name, why)	test_skip(name, why)
#else
#define SKIP(name, why)	do { printf("%s: SKIPPED: %s\n", name, why); return 0; } while (0)
#endif
#define OBJ_SIZE	2048
#define WORKING_SET	(32 * MiB)
#define MAX_HELD	(2UL << 30 >> (PAGE_SHIFT + MAX_ORDER))	/* 2 GiB of blocks */

static unsigned long limit_mb;
static int hook_calls;
static char last_what[64];

static void hook(const char *what)
{
	hook_calls++;
	snprintf(last_what, sizeof(last_what), "%s", what);
}

static int set_limit(unsigned long mb)
{
	struct rlimit rl;

	getrlimit(RLIMIT_AS, &rl);
	rl.rlim_cur = (rlim_t)mb * MiB;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < rl.rlim_cur)
		return -1;
	return setrlimit(RLIMIT_AS, &rl);
}

/* WORKING_SET bytes of @s objects and kmalloc'd ones, written and freed. */
static int working_set(struct kmem_cache *s)
{
	unsigned long n = WORKING_SET / OBJ_SIZE;
	void **objs = mmap(NULL, n * sizeof(void *), PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	CHECK(objs != MAP_FAILED);
	if (objs == MAP_FAILED)
		return -1;
	for (int round = 0; round < 2; round++) {
		for (unsigned long i = 0; i < n; i++) {
			objs[i] = i & 1 ? kmalloc(OBJ_SIZE, GFP_KERNEL) : kmem_cache_alloc(s, GFP_KERNEL);
			if (!objs[i]) {
				fprintf(stderr, "limit %lu MiB: allocation %lu of %lu failed\n",
					limit_mb, i, n);
				CHECK(objs[i] != NULL);
				n = i;
				break;
			}
			memset(objs[i], (int)i, OBJ_SIZE);
		}
		for (unsigned long i = 0; i < n; i++) {
			CHECK_EQ(((unsigned char *)objs[i])[OBJ_SIZE - 1], (unsigned char)i);
			if (i & 1)
				kfree(objs[i]);
			else
				kmem_cache_free(s, objs[i]);
		}
	}
	munmap(objs, n * sizeof(void *));
	return 0;
}

/* Take order-MAX_ORDER blocks until the limit refuses; free them; again. */
static void run_out(void)
{
	static struct page *held[MAX_HELD];
	unsigned long nr = 0, again = 0;

	for (int round = 0; round < 2; round++) {
		unsigned long got = 0;

		while (got < MAX_HELD) {
			struct page *p = alloc_pages(GFP_KERNEL | __GFP_NOWARN, MAX_ORDER);

			if (!p)
				break;
			held[got++] = p;
		}
		if (round == 0)
			nr = got;
		else
			again = got;
		for (unsigned long i = 0; i < got; i++)
			__free_pages(held[i], MAX_ORDER);
	}
	printf("limit %lu MiB: %lu MiB in order-%d blocks before the limit, %lu MiB again\n",
	       limit_mb, nr << (PAGE_SHIFT + MAX_ORDER) >> 20, MAX_ORDER,
	       again << (PAGE_SHIFT + MAX_ORDER) >> 20);
	/* Most of the limit, not a fraction: address space is taken as used. */
	if (limit_mb <= 1024)
		CHECK(nr << (PAGE_SHIFT + MAX_ORDER) >= limit_mb * MiB / 2);
	else
		CHECK(nr << (PAGE_SHIFT + MAX_ORDER) >= ARENA_SIZE / 2);
	CHECK(again >= nr);
	/* With the limit reached, a request fails: NULL, not a panic. */
}

/* An address in the unreserved tail of @obj's arena slot, mapped by us. */
static void foreign_in_tail(const void *obj)
{
	uintptr_t base = (uintptr_t)obj & ~(ARENA_SIZE - 1);
	const struct arena *a = (const struct arena *)base;
	struct ptr_info info;
	char *t = NULL;

	CHECK(a->end < ARENA_PAGES);
	if (a->end >= ARENA_PAGES)
		return;
	/* From the top of the slot down: the kernel's own mappings may be there. */
	for (uintptr_t addr = base + ARENA_SIZE - PAGE_SIZE;
	     addr >= base + (a->end << PAGE_SHIFT) + MiB; addr -= MiB) {
		void *p = mmap((void *)addr, PAGE_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

		if (p == (void *)addr) {
			t = p;
			break;
		}
		if (p != MAP_FAILED)
			munmap(p, PAGE_SIZE);
	}
	CHECK(t != NULL);
	if (!t)
		return;
	memset(t, 0xa5, PAGE_SIZE);
	CHECK(addr_in_arena(t));		/* the slot is the arena's ... */
	CHECK(!arena_reserved(t));		/* ... the address is not */
	CHECK_EQ(__virt_to_page(t)->flags, 0);	/* readable, and no slab */
	CHECK(!uslab_owns(t));
	CHECK(virt_to_page(t) == NULL);
	CHECK_EQ(classify_ptr(t, &info), PTR_FOREIGN);
	CHECK(uslab_owns(obj));

	uslab_set_report_hook(hook, 1);
	hook_calls = 0;
	kfree(t);
	CHECK_EQ(hook_calls, 1);
	CHECK(!strcmp(last_what, "Invalid object pointer"));
	free_pages((unsigned long)t, 0);
	CHECK_EQ(hook_calls, 2);
	CHECK(!strcmp(last_what, "Bad page state"));
	uslab_set_report_hook(NULL, 0);
	/* Reported, not touched. */
	CHECK_EQ((unsigned char)t[0], 0xa5);
	CHECK_EQ((unsigned char)t[PAGE_SIZE - 1], 0xa5);
	munmap(t, PAGE_SIZE);
}

static int child(void)
{
	struct uslab_page_stats st;
	struct kmem_cache *s;
	struct page *pg, *big;
	void *obj;

	if (set_limit(limit_mb)) {
		fprintf(stderr, "cannot set RLIMIT_AS to %lu MiB\n", limit_mb);
		return 2;
	}
	obj = kmalloc(100, GFP_KERNEL);
	CHECK(obj != NULL);
	s = kmem_cache_create("aslimit", OBJ_SIZE, 0, 0, NULL);
	CHECK(s != NULL);
	pg = alloc_pages(GFP_KERNEL, 0);
	big = alloc_pages(GFP_KERNEL, MAX_ORDER);
	CHECK(pg != NULL);
	CHECK(big != NULL);
	if (!obj || !s || !pg || !big)
		return test_done("page_alloc_aslimit (child)");
	memset(page_address(big), 1, PAGE_SIZE << MAX_ORDER);

	uslab_page_stats(&st);
	printf("limit %lu MiB: first arena reserves %zu MiB of its 1 GiB slot\n",
	       limit_mb, st.reserved << PAGE_SHIFT >> 20);
	if (limit_mb >= 2048)
		CHECK_EQ(st.reserved, ARENA_PAGES);	/* a whole arena, not doubled */
	else
		CHECK(st.reserved < ARENA_PAGES);	/* partly reserved */
	CHECK(st.reserved << PAGE_SHIFT <= limit_mb * MiB);

	working_set(s);
	if (limit_mb == 256)
		foreign_in_tail(obj);
	__free_pages(big, MAX_ORDER);
	__free_pages(pg, 0);
	kfree(obj);
	run_out();

	/* Everything back: the kernel API still works. */
	obj = kmalloc(100, GFP_KERNEL);
	CHECK(obj != NULL);
	kfree(obj);
	kmem_cache_destroy(s);
	uslab_page_stats(&st);
	printf("limit %lu MiB: %u arena(s), %zu MiB reserved\n", limit_mb, st.nr_arenas,
	       st.reserved << PAGE_SHIFT >> 20);
	CHECK(st.reserved << PAGE_SHIFT <= limit_mb * MiB);
	return test_done("page_alloc_aslimit (child)");
}

int main(void)
{
	static const unsigned long limits[] = { 256, 512, 1024, 2048 };

	setvbuf(stdout, NULL, _IOLBF, 0);
#ifdef SANITIZED
	SKIP("page_alloc_aslimit", "a sanitizer's shadow memory does not fit under RLIMIT_AS");
#endif
	for (size_t i = 0; i < ARRAY_SIZE(limits); i++) {
		char what[64];
		int rc;

		limit_mb = limits[i];
		snprintf(what, sizeof(what), "RLIMIT_AS %lu MiB", limit_mb);
		rc = run_child(child, 120, what);
		if (rc == 2) {
			printf("%s: cannot be set here, skipped\n", what);
			continue;
		}
		if (rc != 0)
			fprintf(stderr, "%s: child failed (%d)\n", what, rc);
		CHECK_EQ(rc, 0);
	}
	return test_done("page_alloc_aslimit");
}
