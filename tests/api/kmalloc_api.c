// SPDX-License-Identifier: MIT
/*
 * kmalloc_api.c - kmalloc and friends through the public headers only:
 * the kernel's size classes, ZERO_SIZE_PTR, alignment, large sizes,
 * overflow, krealloc in place, the string helpers.
 */
#include <uslab/slab.h>
#include <uslab/uslab.h>
#include <stdint.h>
#include "../test.h"

/*
 * The class the kernel's kmalloc uses for a size (1..8192): SLUB's
 * smallest is kmalloc-8, SLAB's kmalloc-32.
 */
static size_t kernel_class(size_t size)
{
	size_t smallest = uslab_option_get("allocator") == 1 ? 32 : 8;

	if (size <= smallest) return smallest;
	if (size <= 16) return 16;
	if (size <= 32) return 32;
	if (size <= 64) return 64;
	if (size <= 96) return 96;
	if (size <= 128) return 128;
	if (size <= 192) return 192;
	size_t c = 256;
	while (c < size)
		c <<= 1;
	return c;
}

static void size_classes(void)
{
	for (size_t size = 1; size <= KMALLOC_MAX_CACHE_SIZE; size++) {
		char *p = kmalloc(size, GFP_KERNEL);
		size_t cls = kernel_class(size);

		CHECK(p != NULL);
		if (!p)
			continue;
		if (ksize(p) != cls) {
			CHECK_EQ(ksize(p), cls);
			break;
		}
		CHECK_EQ(kmalloc_size_roundup(size), cls);
		/* power-of-two sizes are naturally aligned; all are 8-aligned */
		if ((cls & (cls - 1)) == 0)
			CHECK_EQ((uintptr_t)p % cls, 0);
		CHECK_EQ((uintptr_t)p % 8, 0);
		p[0] = 1;
		p[size - 1] = 2;
		kfree(p);
	}
}

static void zero_and_null(void)
{
	void *z = kmalloc(0, GFP_KERNEL);

	CHECK(z == ZERO_SIZE_PTR);
	CHECK(ZERO_OR_NULL_PTR(z));
	CHECK(ZERO_OR_NULL_PTR(NULL));
	kfree(z);
	kfree(NULL);
	CHECK_EQ(ksize(NULL), 0);
	CHECK_EQ(ksize(ZERO_SIZE_PTR), 0);
	CHECK(kmalloc(SIZE_MAX, GFP_KERNEL | __GFP_NOWARN) == NULL);
	CHECK(kmalloc(KMALLOC_MAX_SIZE + 1, GFP_KERNEL | __GFP_NOWARN) == NULL);
	CHECK(kmalloc_array(SIZE_MAX / 2, 3, GFP_KERNEL) == NULL);
	CHECK(kcalloc(SIZE_MAX / 8, 16, GFP_KERNEL) == NULL);
}

static void zeroing(void)
{
	for (size_t size = 8; size <= (1 << 20); size *= 3) {
		unsigned char *p = kmalloc(size, GFP_KERNEL);

		memset(p, 0xa5, size);
		kfree(p);
		p = kzalloc(size, GFP_KERNEL);
		int dirty = 0;
		for (size_t i = 0; i < size; i++)
			dirty |= p[i];
		CHECK_EQ(dirty, 0);
		kfree(p);
	}
	int *a = kcalloc(1000, sizeof(int), GFP_KERNEL);
	int sum = 0;
	for (int i = 0; i < 1000; i++)
		sum |= a[i];
	CHECK_EQ(sum, 0);
	kfree(a);
}

static void large(void)
{
	size_t sizes[] = { 8193, 12288, 65536, 100000, 1 << 20, (4 << 20) - 1, 4 << 20,
			   (4 << 20) + 1, 8 << 20, 24 << 20 };

	/* kmalloc stops at KMALLOC_MAX_SIZE, as the kernel's; kvmalloc goes on */
	CHECK_EQ(KMALLOC_MAX_SIZE, (size_t)4 << 20);
	CHECK(kmalloc(KMALLOC_MAX_SIZE + 1, GFP_KERNEL | __GFP_NOWARN) == NULL);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t size = sizes[i];
		unsigned char *p = size > KMALLOC_MAX_SIZE ? kvmalloc(size, GFP_KERNEL)
							   : kmalloc(size, GFP_KERNEL);

		CHECK(p != NULL);
		if (!p)
			continue;
		CHECK_EQ((uintptr_t)p % 4096, 0);
		if ((size & (size - 1)) == 0)
			CHECK_EQ((uintptr_t)p % size, 0);
		CHECK(ksize(p) >= size);
		CHECK(uslab_owns(p));
		memset(p, 0x5a, size);
		CHECK(p[size - 1] == 0x5a);
		kfree(p);
	}
	/* kzalloc of a recycled large block is zero */
	unsigned char *p = kmalloc(1 << 16, GFP_KERNEL);
	memset(p, 1, 1 << 16);
	kfree(p);
	p = kzalloc(1 << 16, GFP_KERNEL);
	int dirty = 0;
	for (int i = 0; i < (1 << 16); i++)
		dirty |= p[i];
	CHECK_EQ(dirty, 0);
	kfree(p);
}

static void realloc_semantics(void)
{
	char *p = kmalloc(100, GFP_KERNEL);	/* kmalloc-128 */

	memcpy(p, "hello", 6);
	char *q = krealloc(p, 120, GFP_KERNEL);
	CHECK(q == p);				/* fits: stays in place */
	q = krealloc(p, 128, GFP_KERNEL);
	CHECK(q == p);
	q = krealloc(p, 5000, GFP_KERNEL);
	CHECK(q != NULL && q != p);
	CHECK(strcmp(q, "hello") == 0);
	CHECK(ksize(q) >= 5000);
	p = krealloc(q, 1 << 20, GFP_KERNEL);
	CHECK(p && strcmp(p, "hello") == 0);
	q = krealloc(p, 0, GFP_KERNEL);		/* frees, as the kernel */
	CHECK(q == ZERO_SIZE_PTR);
	p = krealloc(NULL, 10, GFP_KERNEL);
	CHECK(p != NULL && ksize(p) == kernel_class(10));
	kfree(p);
	int *arr = krealloc_array(NULL, SIZE_MAX / 4, 8, GFP_KERNEL);
	CHECK(arr == NULL);
}

static void strings(void)
{
	char *s = kstrdup("slab allocator", GFP_KERNEL);

	CHECK(s && strcmp(s, "slab allocator") == 0);
	kfree(s);
	CHECK(kstrdup(NULL, GFP_KERNEL) == NULL);
	s = kstrndup("slab allocator", 4, GFP_KERNEL);
	CHECK(s && strcmp(s, "slab") == 0);
	kfree(s);
	int v[4] = { 1, 2, 3, 4 };
	int *d = kmemdup(v, sizeof(v), GFP_KERNEL);
	CHECK(d && d[3] == 4 && d != v);
	kfree(d);
	const char *c = kstrdup_const("const", GFP_KERNEL);
	CHECK(c && strcmp(c, "const") == 0);
	kfree_const(c);
}

static void kv_and_bulk(void)
{
	void *v = kvmalloc(64 << 20, GFP_KERNEL);

	CHECK(v != NULL);
	memset(v, 3, 64 << 20);
	kvfree(v);
	v = kvzalloc(100, GFP_KERNEL);
	CHECK(v && ((char *)v)[99] == 0);
	kvfree(v);
	v = kvcalloc(10, 10, GFP_KERNEL);
	CHECK(v != NULL);
	kvfree_sensitive(v, 100);

	void *ptrs[300];
	for (int i = 0; i < 300; i++)
		ptrs[i] = kmalloc((size_t)(i * 37 % 9000) + 1, GFP_KERNEL);
	kfree_bulk(300, ptrs);

	char *secret = kmalloc(64, GFP_KERNEL);
	strcpy(secret, "password");
	kfree_sensitive(secret);
	kfree_sensitive(NULL);
}

static void node_variants(void)
{
	void *p = kmalloc_node(64, GFP_KERNEL, NUMA_NO_NODE);
	void *q = kmalloc_node(64, GFP_KERNEL, 0);
	void *r = kzalloc_node(64, GFP_KERNEL, 0);

	CHECK(p && q && r);
	CHECK(((char *)r)[63] == 0);
	kfree(p);
	kfree(q);
	kfree(r);
	/* an atomic allocation from a warm cache succeeds without sleeping */
	p = kmalloc(32, GFP_ATOMIC);
	CHECK(p != NULL);
	kfree(p);
	p = kmalloc(32, GFP_NOWAIT);
	CHECK(p != NULL);
	kfree(p);
}

/* Many objects of every class live at once: no overlap, contents kept. */
static void many_live(void)
{
	enum { N = 20000 };
	static unsigned char *p[N];
	static size_t sz[N];
	unsigned int seed = (unsigned int)test_seed("kmalloc_api", 12345);

	for (int i = 0; i < N; i++) {
		seed = seed * 1103515245 + 12345;
		sz[i] = (seed >> 8) % 3000 + 1;
		p[i] = kmalloc(sz[i], GFP_KERNEL);
		memset(p[i], i & 0xff, sz[i]);
	}
	int bad = 0;
	for (int i = 0; i < N; i++)
		for (size_t j = 0; j < sz[i]; j += 61)
			bad |= p[i][j] != (i & 0xff);
	CHECK_EQ(bad, 0);
	for (int i = 0; i < N; i += 2)
		kfree(p[i]);
	for (int i = 1; i < N; i += 2) {
		for (size_t j = 0; j < sz[i]; j += 61)
			bad |= p[i][j] != (i & 0xff);
		kfree(p[i]);
	}
	CHECK_EQ(bad, 0);
}

int main(void)
{
	kmem_cache_init();
	kmem_cache_init();	/* idempotent */
	size_classes();
	zero_and_null();
	zeroing();
	large();
	realloc_semantics();
	strings();
	kv_and_bulk();
	node_variants();
	many_live();
	CHECK_EQ(uslab_error_count(), 0);
	return test_done("kmalloc_api");
}
