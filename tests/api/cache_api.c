// SPDX-License-Identifier: MIT
/*
 * cache_api.c - kmem_cache_* through the public headers: argument checks,
 * alignment, merging and its reference counts, constructors, zeroing,
 * bulk allocation, shrink and destroy, slabinfo.
 */
#include <uslab/slab.h>
#include <uslab/uslab.h>
#include <stdint.h>
#include "../test.h"

static int hook_calls;
static void hook(const char *what) { (void)what; hook_calls++; }

static void bad_arguments(void)
{
	unsigned long errs = uslab_error_count();

	CHECK(kmem_cache_create(NULL, 32, 0, 0, NULL) == NULL);
	CHECK(kmem_cache_create("zero", 0, 0, 0, NULL) == NULL);
	CHECK(kmem_cache_create("align3", 32, 3, 0, NULL) == NULL);
	CHECK(kmem_cache_create("huge", (8u << 20), 0, 0, NULL) == NULL);
	CHECK(kmem_cache_create("flags", 32, 0, 0x80000000u, NULL) == NULL);
	/* refusals are messages, not errors of the program's memory */
	CHECK_EQ(uslab_error_count(), errs);
	/* the largest object that fits the largest slab is accepted */
	struct kmem_cache *big = kmem_cache_create("big", 4u << 20, 0, 0, NULL);
	CHECK(big != NULL);
	void *o = kmem_cache_alloc(big, GFP_KERNEL);
	CHECK(o != NULL);
	memset(o, 1, 4u << 20);
	kmem_cache_free(big, o);
	kmem_cache_destroy(big);
	kmem_cache_destroy(NULL);
}

static void panic_child(void *arg)
{
	(void)arg;
	kmem_cache_create("doomed", 0, 0, SLAB_PANIC, NULL);
}

static void alignment(void)
{
	struct { unsigned int size, align; slab_flags_t flags; unsigned int want; } t[] = {
		{ 64, 0, SLAB_HWCACHE_ALIGN, 64 },
		{ 20, 0, SLAB_HWCACHE_ALIGN, 32 },
		{ 100, 0, SLAB_HWCACHE_ALIGN, 64 },
		{ 8, 0, SLAB_HWCACHE_ALIGN, 8 },
		{ 24, 128, SLAB_NO_MERGE, 128 },
		{ 40, 0, SLAB_NO_MERGE, 8 },
		{ 5000, 4096, 0, 4096 },
	};
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char name[32];
		snprintf(name, sizeof(name), "align-%u", i);
		struct kmem_cache *s = kmem_cache_create(name, t[i].size, t[i].align,
							 t[i].flags | SLAB_NO_MERGE, NULL);
		void *v[200];
		CHECK(s != NULL);
		for (int j = 0; j < 200; j++) {
			v[j] = kmem_cache_alloc(s, GFP_KERNEL);
			CHECK_EQ((uintptr_t)v[j] % t[i].want, 0);
			memset(v[j], 0xee, t[i].size);
		}
		for (int j = 0; j < 200; j++)
			kmem_cache_free(s, v[j]);
		CHECK_EQ(kmem_cache_size(s), t[i].size);
		kmem_cache_destroy(s);
	}
}

static int ctor_calls;
static void ctor(void *p)
{
	ctor_calls++;
	memset(p, 0x42, 48);
}

static void merging(void)
{
	struct kmem_cache *a = kmem_cache_create("merge-a", 200, 0, 0, NULL);
	struct kmem_cache *b = kmem_cache_create("merge-b", 200, 0, 0, NULL);
	struct kmem_cache *c = kmem_cache_create("merge-c", 196, 0, 0, NULL);
	struct kmem_cache *d = kmem_cache_create("merge-d", 200, 0, SLAB_NO_MERGE, NULL);
	struct kmem_cache *e = kmem_cache_create("merge-e", 200, 0, SLAB_POISON, NULL);
	struct kmem_cache *f = kmem_cache_create("merge-f", 200, 0, 0, ctor);
	struct kmem_cache *g = kmem_cache_create_usercopy("merge-g", 200, 0, 0, 8, 16, NULL);
	struct kmem_cache *h = kmem_cache_create("merge-h", 200, 0, SLAB_ACCOUNT, NULL);
	struct kmem_cache *i = kmem_cache_create("merge-i", 200, 0, SLAB_TYPESAFE_BY_RCU, NULL);

	CHECK(a && b && c && d && e && f && g && h && i);
	CHECK(a == b);			/* same size and flags: one cache */
	CHECK(a == c);			/* within a word */
	CHECK(d != a && e != a && f != a && g != a && h != a && i != a);
	CHECK(h != i);
	/* kmalloc-256 is a merge target too: 200 may land there */
	void *o = kmem_cache_alloc(b, GFP_KERNEL);
	kmem_cache_destroy(a);		/* drops a reference: b still works */
	void *o2 = kmem_cache_alloc(b, GFP_KERNEL);
	CHECK(o && o2);
	kmem_cache_free(b, o);
	kmem_cache_free(b, o2);
	kmem_cache_destroy(b);
	kmem_cache_destroy(c);
	kmem_cache_destroy(d);
	kmem_cache_destroy(e);
	kmem_cache_destroy(f);
	kmem_cache_destroy(g);
	kmem_cache_destroy(h);
	kmem_cache_destroy(i);
	CHECK_EQ(uslab_error_count(), 0);
}

static void constructor(void)
{
	struct kmem_cache *s = kmem_cache_create("ctor48", 48, 0, 0, ctor);
	unsigned char *v[500];

	ctor_calls = 0;
	for (int i = 0; i < 500; i++) {
		v[i] = kmem_cache_alloc(s, GFP_KERNEL);
		CHECK(v[i][0] == 0x42 && v[i][47] == 0x42);
	}
	int after_alloc = ctor_calls;
	CHECK(after_alloc >= 500);		/* every object constructed once... */
	/* ...when its slab was populated, not per allocation */
	for (int i = 0; i < 500; i++) {
		v[i][0] = 7;			/* the state we free it in */
		kmem_cache_free(s, v[i]);
	}
	int same_state = 1;
	for (int i = 0; i < 500; i++) {
		v[i] = kmem_cache_alloc(s, GFP_KERNEL);
		same_state &= v[i][0] == 7 || v[i][0] == 0x42;
		same_state &= v[i][47] == 0x42;	/* the free pointer is outside the object */
	}
	CHECK(same_state);
	CHECK_EQ(ctor_calls, after_alloc);	/* no allocation ran the ctor */
	for (int i = 0; i < 500; i++)
		kmem_cache_free(s, v[i]);
	kmem_cache_destroy(s);
}

static void zalloc_and_node(void)
{
	struct kmem_cache *s = kmem_cache_create("zalloc", 300, 0, SLAB_NO_MERGE, NULL);
	unsigned char *p = kmem_cache_alloc(s, GFP_KERNEL);

	memset(p, 0xff, 300);
	kmem_cache_free(s, p);
	p = kmem_cache_zalloc(s, GFP_KERNEL);
	int dirty = 0;
	for (int i = 0; i < 300; i++)
		dirty |= p[i];
	CHECK_EQ(dirty, 0);
	kmem_cache_free(s, p);
	p = kmem_cache_alloc_node(s, GFP_KERNEL, NUMA_NO_NODE);
	CHECK(p != NULL);
	kmem_cache_free(s, p);
	p = kmem_cache_alloc_node(s, GFP_KERNEL, 0);
	CHECK(p != NULL);
	kmem_cache_free(s, p);
	p = kmem_cache_alloc(s, GFP_ATOMIC);
	CHECK(p != NULL);
	kmem_cache_free(s, p);
	kmem_cache_destroy(s);
}

static void bulk(void)
{
	struct kmem_cache *s = kmem_cache_create("bulk", 72, 0, SLAB_NO_MERGE, NULL);
	void *v[5000];

	CHECK_EQ(kmem_cache_alloc_bulk(s, GFP_KERNEL, 5000, v), 5000);
	for (int i = 0; i < 5000; i++)
		memset(v[i], i, 72);
	int distinct = 1;
	for (int i = 1; i < 5000; i++)
		distinct &= v[i] != v[i - 1];
	CHECK(distinct);
	kmem_cache_free_bulk(s, 5000, v);
	CHECK_EQ(kmem_cache_alloc_bulk(s, GFP_KERNEL | __GFP_ZERO, 100, v), 100);
	CHECK(((char *)v[99])[71] == 0);
	kmem_cache_free_bulk(s, 100, v);
	kmem_cache_destroy(s);
}

static int count_lines_named(const char *text, const char *name)
{
	int n = 0;
	size_t len = strlen(name);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, name, len) && l[len] == ' ')
			n++;
	return n;
}

static void slabinfo(void)
{
	static char buf[1 << 16];
	struct kmem_cache *s = kmem_cache_create("info-cache", 100, 0, SLAB_NO_MERGE, NULL);
	void *v[100];

	for (int i = 0; i < 100; i++)
		v[i] = kmem_cache_alloc(s, GFP_KERNEL);
	size_t len = uslab_slabinfo(NULL, 0);
	CHECK(len > 100);
	size_t got = uslab_slabinfo(buf, sizeof(buf));
	CHECK(got < sizeof(buf));
	CHECK(strlen(buf) == got);
	CHECK(!strncmp(buf, "slabinfo - version: 2.1\n# name            <active_objs> <num_objs>", 64));
	CHECK_EQ(count_lines_named(buf, "info-cache"), 1);
	CHECK_EQ(count_lines_named(buf, "kmem_cache"), 1);
	bool slab = uslab_option_get("allocator") == 1;
	/* SLUB keeps its node structures in a cache of their own; SLAB in kmalloc */
	CHECK_EQ(count_lines_named(buf, "kmem_cache_node"), slab ? 0 : 1);
	CHECK_EQ(count_lines_named(buf, "kmalloc-96"), 1);
	CHECK_EQ(count_lines_named(buf, "kmalloc-8k"), 1);
	CHECK_EQ(count_lines_named(buf, "kmalloc-4M"), slab ? 1 : 0);

	const char *l = strstr(buf, "\ninfo-cache ") + 1;
	unsigned long active, num, objsize, perslab, pages;
	CHECK_EQ(sscanf(l, "info-cache %lu %lu %lu %lu %lu", &active, &num, &objsize, &perslab, &pages), 5);
	CHECK(active >= 100 && num >= active);
	CHECK_EQ(objsize, 104);
	/* SLUB has no tunables; SLAB shows enable_cpucache's (120 for 104 bytes) */
	if (slab)
		CHECK(strstr(l, " : tunables  120   60    8 : slabdata ") != NULL ||
		      strstr(l, " : tunables  120   60    0 : slabdata ") != NULL);
	else
		CHECK(strstr(l, " : tunables    0    0    0 : slabdata ") != NULL);

	/* snprintf contract when truncated */
	char small[40];
	memset(small, 'x', sizeof(small));
	CHECK_EQ(uslab_slabinfo(small, sizeof(small)), uslab_slabinfo(NULL, 0));
	CHECK_EQ(small[39], '\0');
	CHECK(!strncmp(small, "slabinfo - version: 2.1\n", 24));

	for (int i = 0; i < 100; i++)
		kmem_cache_free(s, v[i]);
	kmem_cache_destroy(s);
	uslab_slabinfo(buf, sizeof(buf));
	CHECK_EQ(count_lines_named(buf, "info-cache"), 0);	/* gone */

	CHECK(uslab_buddyinfo(buf, sizeof(buf)) > 0);
	CHECK(!strncmp(buf, "Node 0, zone   Normal ", 22));
}

static void destroy_with_objects(void)
{
	struct kmem_cache *s = kmem_cache_create("leaky", 64, 0, SLAB_NO_MERGE, NULL);
	void *v[10];
	static char buf[1 << 16];

	for (int i = 0; i < 10; i++)
		v[i] = kmem_cache_alloc(s, GFP_KERNEL);
	unsigned long errs = uslab_error_count();
	kmem_cache_destroy(s);				/* reported, cache stays */
	CHECK(uslab_error_count() > errs);
	uslab_slabinfo(buf, sizeof(buf));
	CHECK_EQ(count_lines_named(buf, "leaky"), 1);
	void *w = kmem_cache_alloc(s, GFP_KERNEL);	/* still usable */
	CHECK(w != NULL);
	kmem_cache_free(s, w);
	for (int i = 0; i < 10; i++)
		kmem_cache_free(s, v[i]);
	errs = uslab_error_count();
	kmem_cache_destroy(s);
	CHECK_EQ(uslab_error_count(), errs);
	uslab_slabinfo(buf, sizeof(buf));
	CHECK_EQ(count_lines_named(buf, "leaky"), 0);
}

static void shrink(void)
{
	struct kmem_cache *s = kmem_cache_create("shrinky", 512, 0, SLAB_NO_MERGE, NULL);
	static void *v[20000];
	static char buf[1 << 16];

	for (int i = 0; i < 20000; i++)
		v[i] = kmem_cache_alloc(s, GFP_KERNEL);
	for (int i = 0; i < 20000; i++)
		kmem_cache_free(s, v[i]);
	CHECK_EQ(kmem_cache_shrink(s), 0);
	uslab_slabinfo(buf, sizeof(buf));
	const char *l = strstr(buf, "\nshrinky ") + 1;
	unsigned long active, num;
	sscanf(l, "shrinky %lu %lu", &active, &num);
	CHECK_EQ(active, 0);
	CHECK_EQ(num, 0);		/* every empty slab went back */
	kmem_cache_destroy(s);
}

struct item { long a; char name[20]; };

int main(void)
{
	bad_arguments();
	CHECK(expect_death(panic_child, NULL, "Failed to create slab 'doomed'"));
	alignment();
	merging();
	constructor();
	zalloc_and_node();
	bulk();
	slabinfo();
	uslab_set_report_hook(hook, 1);
	destroy_with_objects();
	uslab_set_report_hook(NULL, 0);
	shrink();
	struct kmem_cache *k = KMEM_CACHE(item, 0);
	CHECK(k != NULL && kmem_cache_size(k) == sizeof(struct item));
	kmem_cache_destroy(k);
	return test_done("cache_api");
}
