// SPDX-License-Identifier: MIT
/*
 * slub_internals.c - what the public API cannot see: the bootstrap left
 * every struct kmem_cache and kmem_cache_node inside the kmem_cache and
 * kmem_cache_node caches; slab_state reached FULL; SLUB's order and
 * min_partial choices; the hardened free pointer; the kmalloc index table;
 * owner-local frees into this thread's cpu partial slabs.  All of it with
 * the sheaves off, so that every call reaches the cpu slab layer.
 */
#include "slub/slub_fast.h"
#include <uslab/uslab.h>
#include "../test.h"

static struct kmem_cache *cache_of(const void *obj)
{
	struct page *page = virt_to_head_page(obj);

	return (page->flags & PG_slab) ? page->slab_cache : NULL;
}

static void bootstrap(void)
{
	struct kmem_cache *s;
	int n = 0;

	kmem_cache_init();
	CHECK_EQ(slab_state, FULL);
	/* kmem_cache is an object of itself */
	CHECK(cache_of(kmem_cache) == kmem_cache);
	CHECK(!strcmp(kmem_cache->name, "kmem_cache"));
	list_for_each_entry(s, &slab_caches, list) {
		n++;
		CHECK(cache_of(s) == kmem_cache);
		for (int node = 0; node < nr_node_ids; node++) {
			struct kmem_cache *nc = cache_of(slub_cache(s)->node[node]);
			CHECK(nc && !strcmp(nc->name, "kmem_cache_node"));
		}
	}
	/* the two boot caches, the kmalloc caches and the sheaves' own cache */
	CHECK_EQ(n, 2 + 13 + 1);
	struct kmem_cache *mine = kmem_cache_create("mine", 33, 0, SLAB_NO_MERGE, NULL);
	CHECK(cache_of(mine) == kmem_cache);
	CHECK(cache_of(slub_cache(mine)->node[0]) == cache_of(slub_cache(kmem_cache)->node[0]));
	/* its name is a copy, in kmalloc memory */
	CHECK(cache_of(mine->name) == kmalloc_caches[kmalloc_index(5)]);
	kmem_cache_destroy(mine);
}

static void kmalloc_table(void)
{
	for (size_t size = 1; size <= KMALLOC_MAX_CACHE_SIZE; size++) {
		struct kmem_cache *s = kmalloc_slab(size);
		struct kmem_cache *prev = size > 1 ? kmalloc_slab(size - 1) : s;

		/* the smallest class that fits: a new class starts just past the last */
		if (!s || s->object_size < size ||
		    (prev != s && prev->object_size != size - 1)) {
			CHECK(0);
			break;
		}
	}
	CHECK(!strcmp(kmalloc_slab(65)->name, "kmalloc-96"));
	CHECK(!strcmp(kmalloc_slab(96)->name, "kmalloc-96"));
	CHECK(!strcmp(kmalloc_slab(97)->name, "kmalloc-128"));
	CHECK(!strcmp(kmalloc_slab(129)->name, "kmalloc-192"));
	CHECK(!strcmp(kmalloc_slab(193)->name, "kmalloc-256"));
	CHECK(!strcmp(kmalloc_slab(8192)->name, "kmalloc-8k"));
}

static void orders(void)
{
	/* with slub_min_objects = 4 * (fls(nr_cpus) + 1) and max order 3 */
	CHECK_EQ(oo_order(slub_cache(kmalloc_slab(64))->oo), 0);
	CHECK_EQ(oo_objects(slub_cache(kmalloc_slab(64))->oo), 64);
	CHECK_EQ(oo_order(slub_cache(kmalloc_slab(8192))->oo), 3);
	CHECK_EQ(oo_objects(slub_cache(kmalloc_slab(8192))->oo), 4);
	CHECK_EQ(slub_cache(kmalloc_slab(8))->min_partial, 5);
	CHECK_EQ(slub_cache(kmalloc_slab(8192))->min_partial, 6);
	struct kmem_cache *big = kmem_cache_create("big-order", 1 << 20, 0, 0, NULL);
	CHECK(oo_order(slub_cache(big)->oo) <= MAX_ORDER && oo_objects(slub_cache(big)->oo) >= 1);
	CHECK_EQ(slub_cache(big)->min_partial, 10);
	kmem_cache_destroy(big);
	/* SLAB_HWCACHE_ALIGN: the cache line, halved while the object fits */
	CHECK_EQ(calculate_alignment(SLAB_HWCACHE_ALIGN, 0, 20), 32);
	CHECK_EQ(calculate_alignment(SLAB_HWCACHE_ALIGN, 0, 64), 64);
	CHECK_EQ(calculate_alignment(SLAB_HWCACHE_ALIGN, 0, 4), 8);
	CHECK_EQ(calculate_alignment(0, 0, 4), 8);
	CHECK_EQ(calculate_alignment(0, 256, 4), 256);
}

static void hardened_freepointer(void)
{
	struct kmem_cache *s = kmem_cache_create("hard", 64, 0, SLAB_NO_MERGE, NULL);
	uintptr_t *a = kmem_cache_alloc(s, GFP_KERNEL);
	uintptr_t *b = kmem_cache_alloc(s, GFP_KERNEL);

	kmem_cache_free(s, a);
	kmem_cache_free(s, b);		/* b's free pointer now leads to a */
	uintptr_t stored = *(uintptr_t *)((char *)b + s->offset);
	CHECK(stored != (uintptr_t)a);
	CHECK_EQ(stored ^ s->random ^ __builtin_bswap64((uintptr_t)b + s->offset), (uintptr_t)a);
	CHECK_EQ(s->offset, 32);	/* mid-object */

	/*
	 * A stale free pointer copied into another live object (a realloc
	 * copying uninitialised padding) must not make that object look free.
	 */
	unsigned long errs = uslab_error_count();
	uintptr_t *objs[64];
	for (int i = 0; i < 64; i++)
		objs[i] = kmem_cache_alloc(s, GFP_KERNEL);
	for (int i = 0; i < 64; i += 2) {
		uintptr_t stale;

		kmem_cache_free(s, objs[i]);
		stale = *(uintptr_t *)((char *)objs[i] + s->offset);
		*(uintptr_t *)((char *)objs[i + 1] + s->offset) = stale;
		CHECK(!object_looks_free(s, objs[i + 1],
					 (uintptr_t)__page_address(virt_to_head_page(objs[i + 1])),
					 (size_t)oo_objects(slub_cache(s)->oo) * s->size));
		kmem_cache_free(s, objs[i + 1]);
	}
	CHECK_EQ(uslab_error_count(), errs);
	kmem_cache_destroy(s);
}

static void cpu_layer(void)
{
	struct kmem_cache *s = kmem_cache_create("slots", 64, 0, SLAB_NO_MERGE, NULL);
	void *p = kmem_cache_alloc(s, GFP_KERNEL);
	struct kmem_cache_cpu *c = this_cpu_slot(s->cpu_offset);

	CHECK(cpu_attached());
	CHECK(c->slab == page_slab(virt_to_head_page(p)));
	CHECK(c->span == (size_t)oo_objects(slub_cache(s)->oo) * s->size);
	kmem_cache_free(s, p);
	CHECK(c->freelist == p);	/* the fast path pushed it on our slot */
	kmem_cache_shrink(s);
	CHECK(c->slab == NULL && c->freelist == NULL && c->partial == NULL);
	unsigned int slot = s->cpu_id;
	kmem_cache_destroy(s);
	/* the slot is recycled for the next cache */
	struct kmem_cache *t = kmem_cache_create("slots2", 64, 0, SLAB_NO_MERGE, NULL);
	CHECK_EQ(t->cpu_id, slot);
	kmem_cache_destroy(t);
}

static long cache_active_objs(const char *name)
{
	static char buf[1 << 16];
	char *line;
	size_t len = strlen(name);

	uslab_slabinfo(buf, sizeof(buf));
	for (line = buf; line; line = strchr(line, '\n')) {
		line += *line == '\n';
		if (!strncmp(line, name, len) && line[len] == ' ')
			return strtol(line + len, NULL, 10);
	}
	return -1;
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

static void local_frees(void)
{
	enum { N = 5000 };
	struct kmem_cache *s = kmem_cache_create("local", 64, 0, SLAB_NO_MERGE, NULL);
	static void *v[N];
	struct kmem_cache_cpu *c;
	struct slab *slab;

	/* allocated before being freed: the cleared word says "not free" */
	v[0] = kmem_cache_alloc(s, GFP_KERNEL);
	CHECK_EQ(*(uintptr_t *)((char *)v[0] + s->offset), 0);
	kmem_cache_free(s, v[0]);
	for (int i = 0; i < N; i++) {
		v[i] = kmem_cache_alloc(s, GFP_KERNEL);
		memset(v[i], 0xa5, 64);
	}
	c = this_cpu_slot(s->cpu_offset);
	/* free an old slab's objects: it joins our partial chain, owned by us */
	slab = page_slab(virt_to_head_page(v[0]));
	CHECK(slab != c->slab);
	kmem_cache_free(s, v[0]);
	CHECK(slab->frozen && slab->owner == (void *)uslab_cpu_area && c->partial == slab);
	kmem_cache_free(s, v[1]);
	/* the second went on the slab's local list, not its atomic freelist */
	CHECK(slab->local_free == (unsigned long)v[1]);
	/* every other object, so that slabs are revisited in a mixed order */
	for (int i = 2; i < N; i += 2)
		kmem_cache_free(s, v[i]);
	for (int i = 3; i < N; i += 2)
		kmem_cache_free(s, v[i]);
	/* all distinct when handed out again, and nothing was lost */
	for (int i = 0; i < N; i++)
		v[i] = kmem_cache_alloc(s, GFP_KERNEL);
	static void *sorted[N];
	int dup = 0;
	memcpy(sorted, v, sizeof(v));
	qsort(sorted, N, sizeof(void *), cmp_ptr);
	for (int i = 1; i < N; i++)
		dup += sorted[i] == sorted[i - 1];
	CHECK_EQ(dup, 0);
	for (int i = N - 1; i >= 0; i--)
		kmem_cache_free(s, v[i]);
	kmem_cache_shrink(s);
	CHECK(c->partial == NULL && c->partial_slabs == 0);
	CHECK_EQ(cache_active_objs("local"), 0);
	kmem_cache_destroy(s);
}

/* CONFIG_SLAB_FREELIST_RANDOM: a new slab does not hand out its objects in address order. */
static void random_freelist(void)
{
	struct kmem_cache *s = kmem_cache_create("shuffled", 64, 0, SLAB_NO_MERGE, NULL);
	unsigned int n = oo_objects(slub_cache(s)->oo), ascending = 0;
	void *v[512];

	CHECK(uslab_option_get("slab_freelist_random") == 1);
	CHECK(slub_cache(s)->random_seq != NULL);
	CHECK(n >= 8 && n <= 512);
	for (unsigned int i = 0; i < n; i++)
		v[i] = kmem_cache_alloc(s, GFP_KERNEL);
	for (unsigned int i = 1; i < n; i++)
		ascending += (uintptr_t)v[i] == (uintptr_t)v[i - 1] + 64;
	printf("random freelist: %u of %u objects follow their predecessor in memory\n",
	       ascending, n - 1);
	CHECK(ascending < n / 2);
	/* the sequence is a permutation: every object once */
	unsigned int seen[512] = { 0 };
	for (unsigned int i = 0; i < n; i++)
		seen[slub_cache(s)->random_seq[i]]++;
	for (unsigned int i = 0; i < n; i++)
		CHECK_EQ(seen[i], 1);
	for (unsigned int i = 0; i < n; i++)
		kmem_cache_free(s, v[i]);
	kmem_cache_destroy(s);
}

int main(void)
{
	/* SLUB's internals, whatever USLAB_ALLOCATOR says */
	CHECK_EQ(uslab_option_set("allocator", 0), 0);
	/*
	 * The cpu slab layer under the sheaves, seen without them (each free
	 * and allocation reaches it directly); slub_sheaves.c tests the sheaves.
	 */
	CHECK_EQ(uslab_option_set("slub_sheaf_capacity", 0), 0);
	bootstrap();
	kmalloc_table();
	orders();
	hardened_freepointer();
	cpu_layer();
	local_frees();
	random_freelist();
	return test_done("slub_internals");
}
