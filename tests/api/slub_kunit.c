// SPDX-License-Identifier: MIT
/*
 * slub_kunit.c - the cases of the kernel's lib/tests/slub_kunit.c,
 * re-expressed for uslab and run on whichever back end the variant picks:
 * the same corruption, the same validation, the same number of errors
 * (uslab_error_count() counts where the kernel's slab_add_kunit_errors()
 * does: each "BUG ..." report of an object or slab, and each "FIX ..."
 * line).  The kmalloc cases debug the kmalloc caches with
 * USLAB_SLAB_DEBUG=ZU,kmalloc-*, set before the library starts.
 *
 * Where the kernel's test reads s->offset (the free pointer of a free
 * object), this one uses 64: with SLAB_POISON the object's contents are
 * poison while it is free, so both back ends keep the free pointer (SLUB)
 * or free marker (SLAB) in the word right after the 64-byte object, as
 * the kernel's calculate_sizes() does.
 */
#include "test.h"

#include <uslab/slab.h>
#include <uslab/uslab.h>
#include <stdlib.h>
#include <string.h>

#define FREEPTR_AFTER_OBJECT	64

static unsigned long errors_before;

static void hook(const char *what)
{
	(void)what;
}

static void start(void)
{
	errors_before = uslab_error_count();
}

static unsigned long slab_errors(void)
{
	unsigned long n = uslab_error_count() - errors_before;

	errors_before = uslab_error_count();
	return n;
}

static struct kmem_cache *test_cache(const char *name, unsigned int size, slab_flags_t flags)
{
	struct kmem_cache *s = kmem_cache_create(name, size, 0, flags | SLAB_NO_USER_FLAGS, NULL);

	CHECK(s);
	return s;
}

/* A right red zone overwritten on a live object: found by validation. */
static void test_clobber_zone(void)
{
	struct kmem_cache *s = test_cache("TestSlub_RZ_alloc", 64, SLAB_RED_ZONE);
	unsigned char *p = kmem_cache_alloc(s, GFP_KERNEL);

	start();
	p[64] = 0x12;
	CHECK(uslab_validate(s) >= 1);
	CHECK_EQ(slab_errors(), 2);
	kmem_cache_free(s, p);
	kmem_cache_destroy(s);
	CHECK_EQ(slab_errors(), 0);
}

/* The free pointer of a free object corrupted, then put back. */
static void test_next_pointer(void)
{
	struct kmem_cache *s = test_cache("TestSlub_next_ptr_free", 64, SLAB_POISON);
	unsigned char *p = kmem_cache_alloc(s, GFP_KERNEL);
	unsigned long tmp, *ptr_addr;

	kmem_cache_free(s, p);
	ptr_addr = (unsigned long *)(p + FREEPTR_AFTER_OBJECT);
	tmp = *ptr_addr;
	start();
	p[FREEPTR_AFTER_OBJECT] = (unsigned char)~p[FREEPTR_AFTER_OBJECT];

	/* the corrupt freechain, the wrong count of objects in use, its fix */
	uslab_validate(s);
	CHECK_EQ(slab_errors(), 3);

	/* repaired: the count in use is still wrong, and fixed */
	*ptr_addr = tmp;
	uslab_validate(s);
	CHECK_EQ(slab_errors(), 2);

	/* the last validation fixed the count: nothing left */
	uslab_validate(s);
	CHECK_EQ(slab_errors(), 0);
	kmem_cache_destroy(s);
}

/* The first word of a free poisoned object written. */
static void test_first_word(void)
{
	struct kmem_cache *s = test_cache("TestSlub_1th_word_free", 64, SLAB_POISON);
	unsigned char *p = kmem_cache_alloc(s, GFP_KERNEL);

	kmem_cache_free(s, p);
	start();
	*p = 0x78;
	uslab_validate(s);
	CHECK_EQ(slab_errors(), 2);
	kmem_cache_destroy(s);
	CHECK_EQ(slab_errors(), 0);
}

/* Byte 50 of a free poisoned object written. */
static void test_clobber_50th_byte(void)
{
	struct kmem_cache *s = test_cache("TestSlub_50th_word_free", 64, SLAB_POISON);
	unsigned char *p = kmem_cache_alloc(s, GFP_KERNEL);

	kmem_cache_free(s, p);
	start();
	p[50] = 0x9a;
	uslab_validate(s);
	CHECK_EQ(slab_errors(), 2);
	kmem_cache_destroy(s);
	CHECK_EQ(slab_errors(), 0);
}

/* The right red zone of a free object written. */
static void test_clobber_redzone_free(void)
{
	struct kmem_cache *s = test_cache("TestSlub_RZ_free", 64, SLAB_RED_ZONE);
	unsigned char *p = kmem_cache_alloc(s, GFP_KERNEL);

	kmem_cache_free(s, p);
	start();
	p[64] = 0xab;
	uslab_validate(s);
	CHECK_EQ(slab_errors(), 2);
	kmem_cache_destroy(s);
	CHECK_EQ(slab_errors(), 0);
}

/* kmalloc(18) and bytes 18 and 19 written: the kmalloc red zone. */
static void test_kmalloc_redzone_access(void)
{
	volatile unsigned char *p = kmalloc(18, GFP_KERNEL);

	CHECK(p);
	start();
	p[18] = 0xab;
	p[19] = 0xab;
	uslab_validate(NULL);
	CHECK_EQ(slab_errors(), 2);
	kfree((void *)p);
	CHECK_EQ(slab_errors(), 0);
}

/* A cache destroyed with an object still allocated. */
static void test_leak_destroy(void)
{
	struct kmem_cache *s = test_cache("TestSlub_leak_destroy", 64, SLAB_NO_MERGE);

	start();
	CHECK(kmem_cache_alloc(s, GFP_KERNEL));
	kmem_cache_destroy(s);
	CHECK_EQ(slab_errors(), 2);
}

/* krealloc with __GFP_ZERO keeps the kmalloc red zone right. */
static void test_krealloc_redzone_zeroing(void)
{
	unsigned char *p = kmalloc(48, GFP_KERNEL);
	int i;

	CHECK(p);
	memset(p, 0xff, 48);
	start();

	/* shrink */
	p = krealloc(p, 40, GFP_KERNEL | __GFP_ZERO);
	CHECK(p);
	for (i = 40; i < 64; i++)
		CHECK_EQ(p[i], 0xcc);

	/* grow within the same 64-byte object */
	p = krealloc(p, 56, GFP_KERNEL | __GFP_ZERO);
	CHECK(p);
	for (i = 40; i < 56; i++)
		CHECK_EQ(p[i], 0);
	for (i = 56; i < 64; i++)
		CHECK_EQ(p[i], 0xcc);
	uslab_validate(NULL);
	CHECK_EQ(slab_errors(), 0);

	/* grow into a new 128-byte object */
	memset(p, 0xff, 56);
	p = krealloc(p, 112, GFP_KERNEL | __GFP_ZERO);
	CHECK(p);
	for (i = 0; i < 56; i++)
		CHECK_EQ(p[i], 0xff);
	for (i = 56; i < 112; i++)
		CHECK_EQ(p[i], 0);
	kfree(p);
	uslab_validate(NULL);
	CHECK_EQ(slab_errors(), 0);
}

int main(void)
{
	/* Before the library starts: the kmalloc caches get red zones and tracks. */
	setenv("USLAB_SLAB_DEBUG", "ZU,kmalloc-*", 1);
	uslab_set_report_hook(hook, 0);

	test_clobber_zone();
	test_next_pointer();
	test_first_word();
	test_clobber_50th_byte();
	test_clobber_redzone_free();
	test_kmalloc_redzone_access();
	test_leak_destroy();
	test_krealloc_redzone_zeroing();
	printf("slub_kunit: back end %s\n", uslab_allocator());
	return test_done("slub_kunit");
}
