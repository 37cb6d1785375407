// SPDX-License-Identifier: MIT
/*
 * slab_internals.c - the SLAB back end from the inside: the bootstrap
 * (slab_state, kmem_cache an object of itself, the kmalloc classes 32 ..
 * 4M), the freelist placement the kernel's rule picks, colouring, the
 * enable_cpucache tunables, refill and flush batches, shrink, alien caches
 * on two fake nodes (run again in a child with USLAB_NUMA_NODES=2), the
 * random freelist order, double frees from the fast path and from another
 * thread, slab_tune_cpucache()'s checks, and the STATS counters (run in
 * children with the slab_stats option, on one node and on two).
 */
#define _GNU_SOURCE
#include "slab/slab_fast.h"
#include "stats.h"
#include <uslab/uslab.h>
#include "../test.h"

#include <pthread.h>
#include <sched.h>

#define ALLOCATOR_SLAB 1

/*
 * Weak, so that this program links (and skips) in a build whose library
 * has no SLAB back end yet; init.c's table pulls slab.o in when it does.
 */
extern const struct slab_backend slab_backend_slab __attribute__((weak));
int slab_tune_cpucache(struct kmem_cache *s, int limit, int batchcount, int shared)
	__attribute__((weak));

static struct slab_slab *slab_of(const void *obj)
{
	return sl_page_slab(virt_to_head_page(obj));
}

static struct kmem_cache *cache_of(const void *obj)
{
	struct page *page = virt_to_head_page(obj);

	return (page->flags & PG_slab) ? page->slab_cache : NULL;
}

static int hook_calls;
static char last_report[128];

static void hook(const char *what)
{
	__atomic_add_fetch(&hook_calls, 1, __ATOMIC_RELAXED);
	snprintf(last_report, sizeof(last_report), "%s", what ? what : "");
}

static void bootstrap(void)
{
	struct kmem_cache *s;
	int n = 0;

	kmem_cache_init();
	CHECK_EQ(slab_state, FULL);
	CHECK(slab_be == &slab_backend_slab);
	CHECK(cache_of(kmem_cache) == kmem_cache);
	CHECK(!strcmp(kmem_cache->name, "kmem_cache"));
	list_for_each_entry(s, &slab_caches, list) {
		n++;
		CHECK(cache_of(s) == kmem_cache);
		for (int node = 0; node < nr_node_ids; node++) {
			struct slab_node *sn = slab_cache_be(s)->node[node];

			/* no static init list is left: every node is a kmalloc object */
			CHECK(sn && cache_of(sn) == kmalloc_slab(sizeof(struct slab_node)));
		}
	}
	CHECK_EQ(n, 1 + 20);	/* kmem_cache, kmalloc-32 .. kmalloc-4M with 96 and 192 */
	for (unsigned int i = 5; i <= 22; i++)
		CHECK(kmalloc_caches[i] && !strcmp(kmalloc_caches[i]->name, kmalloc_info[i].name));
	CHECK(!strcmp(kmalloc_caches[1]->name, "kmalloc-96"));
	CHECK(!strcmp(kmalloc_caches[2]->name, "kmalloc-192"));
	CHECK(!strcmp(kmalloc_slab(1)->name, "kmalloc-32"));
	CHECK(!strcmp(kmalloc_slab(4 << 20)->name, "kmalloc-4M"));
	CHECK(kmalloc_caches[3] == NULL && kmalloc_caches[4] == NULL);
}

static void ctor(void *p)
{
	memset(p, 0x5a, 8);
}

static void placement(void)
{
	struct kmem_cache *s;

	/* small, no constructor: the array in a free object */
	CHECK(OBJFREELIST_SLAB(kmalloc_slab(128)));
	CHECK_EQ(slab_cache_be(kmalloc_slab(128))->num, 32);
	CHECK(OBJFREELIST_SLAB(kmalloc_slab(4096)));
	/* kmalloc-32: 128 indices do not fit in an object, off-slab saves nothing */
	s = kmalloc_slab(32);
	CHECK(!OBJFREELIST_SLAB(s) && !OFF_SLAB(s));
	CHECK_EQ(slab_cache_be(s)->num, 124);
	CHECK_EQ(slab_cache_be(kmalloc_slab(96))->num, 42);
	/* kmalloc-8k: order 1, one object */
	CHECK_EQ(slab_cache_be(kmalloc_slab(8192))->gfporder, 1);
	CHECK_EQ(slab_cache_be(kmalloc_slab(8192))->num, 1);

	/* a constructor, and objects that fill the page: off-slab is cheaper */
	s = kmem_cache_create("offslab", 504, 0, 0, ctor);
	CHECK(OFF_SLAB(s));
	CHECK_EQ(s->size, 512);
	CHECK_EQ(s->offset, 504);	/* the marker after the object */
	CHECK_EQ(slab_cache_be(s)->num, 8);
	void *o = kmem_cache_alloc(s, GFP_KERNEL);
	CHECK(((unsigned char *)o)[0] == 0x5a);
	CHECK(cache_of(slab_of(o)->freelist) == kmalloc_slab(8));
	kmem_cache_free(s, o);
	kmem_cache_destroy(s);

	/* a constructor with room left over: on-slab */
	s = kmem_cache_create("onslab", 200, 0, 0, ctor);
	CHECK(!OFF_SLAB(s) && !OBJFREELIST_SLAB(s));
	CHECK_EQ(s->size, 208);
	CHECK_EQ(slab_cache_be(s)->num, 4096 / 209);
	kmem_cache_destroy(s);
}

static void colouring(void)
{
	struct kmem_cache *s = kmem_cache_create("colours", 700, 0, SLAB_NO_MERGE, NULL);
	struct slab_cache_be *be = slab_cache_be(s);
	static void *v[2000];
	struct slab_slab *prev = NULL;
	int colours = -1, steps = 0, bad = 0;

	CHECK_EQ(s->size, 704);
	CHECK_EQ(be->gfporder, 1);	/* order 0 wastes more than an eighth */
	CHECK_EQ(be->num, 11);
	CHECK_EQ(be->colour_off, 64);
	CHECK_EQ(be->colour, (8192 - 11 * 704) / 64);
	for (int i = 0; i < 2000; i++) {
		struct slab_slab *slab;
		unsigned long off;

		v[i] = kmem_cache_alloc(s, GFP_KERNEL);
		slab = slab_of(v[i]);
		if (slab == prev)
			continue;
		off = (unsigned long)((char *)slab->s_mem - (char *)__page_address(sl_slab_page(slab)));
		if (off % be->colour_off || off / be->colour_off >= be->colour) {
			bad++;
		} else {
			int c = (int)(off / be->colour_off);

			if (colours >= 0 && c != (colours + 1) % (int)be->colour)
				bad++;
			colours = c;
			steps++;
		}
		prev = slab;
	}
	CHECK(steps > 20);
	CHECK_EQ(bad, 0);
	for (int i = 0; i < 2000; i++)
		kmem_cache_free(s, v[i]);
	kmem_cache_destroy(s);
}

static void tunables(void)
{
	unsigned int shared = os_nr_cpus() > 1 ? 8 : 0;
	struct { size_t size; unsigned int limit; } t[] = {
		{ 32, 120 }, { 256, 120 }, { 512, 54 }, { 1024, 54 }, { 2048, 24 },
		{ 4096, 24 }, { 8192, 8 }, { 131072, 8 }, { 262144, 1 }, { 4 << 20, 1 },
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(t); i++) {
		struct slab_cache_be *be = slab_cache_be(kmalloc_slab(t[i].size));

		CHECK_EQ(be->limit, t[i].limit);
		CHECK_EQ(be->batchcount, (t[i].limit + 1) / 2);
		CHECK_EQ(be->shared, t[i].size <= 4096 ? shared : 0);
	}
}

static void batches(void)
{
	struct kmem_cache *s = kmem_cache_create("batches", 64, 0, SLAB_NO_MERGE, NULL);
	struct array_cache *ac;
	static void *v[400];

	v[0] = kmem_cache_alloc(s, GFP_KERNEL);
	ac = sl_cpu_cache(s);
	CHECK_EQ(ac->limit, 120);
	CHECK_EQ(ac->batchcount, 60);
	/* the first refill of an untouched array takes BATCHREFILL_LIMIT (16) */
	CHECK_EQ(ac->avail, 15);
	for (int i = 1; i < 16; i++)
		v[i] = kmem_cache_alloc(s, GFP_KERNEL);
	CHECK_EQ(ac->avail, 0);
	/*
	 * Touched now: a whole batch, but only from what the node has; a new
	 * slab is grown only when the node has nothing (63 objects per slab).
	 */
	CHECK_EQ(slab_cache_be(s)->num, 63);
	v[16] = kmem_cache_alloc(s, GFP_KERNEL);
	CHECK_EQ(ac->avail, 63 - 16 - 1);
	for (int i = 17; i < 17 + 46; i++)
		v[i] = kmem_cache_alloc(s, GFP_KERNEL);
	v[63] = kmem_cache_alloc(s, GFP_KERNEL);	/* nothing left: a new slab, a whole batch */
	CHECK_EQ(ac->avail, 60 - 1);
	for (int i = 64; i < 400; i++)
		v[i] = kmem_cache_alloc(s, GFP_KERNEL);
	for (int i = 0; i < 400; i++)
		kmem_cache_free(s, v[i]);
	/* full arrays give their oldest batch away: avail stays in (limit - batch, limit] */
	CHECK(ac->avail > 120 - 60 && ac->avail <= 120);

	/* shrink: this thread's array, the shared array, the free slabs */
	struct slab_cache_info info;
	CHECK_EQ(kmem_cache_shrink(s), 0);
	CHECK_EQ(ac->avail, 0);
	CHECK_EQ(slab_backend_slab.get_info(s, &info), 0);
	CHECK_EQ(info.si.num_slabs, 0);
	CHECK_EQ(info.si.active_objs, 0);
	CHECK_EQ(info.si.shared_avail, 0);
	CHECK_EQ(info.partial, 0);
	CHECK_EQ(info.free_objects, 0);
	CHECK_EQ(uslab_validate(s), 0);
	kmem_cache_destroy(s);
}

static void random_order(void)
{
	struct kmem_cache *s = kmem_cache_create("shuffled", 128, 0, SLAB_NO_MERGE, NULL);
	struct slab_cache_be *be = slab_cache_be(s);
	void *o = kmem_cache_alloc(s, GFP_KERNEL);
	struct slab_slab *slab = slab_of(o);
	unsigned char seen[256] = { 0 };
	int linear = 1, perm = 1;

	CHECK(be->random_seq != NULL);
	CHECK(OBJFREELIST_SLAB(s) && slab->freelist);
	for (unsigned int i = 0; i < be->num; i++) {
		unsigned int idx = ((freelist_idx_t *)slab->freelist)[i];

		perm &= idx < be->num && !seen[idx];
		if (idx < be->num)
			seen[idx] = 1;
		linear &= idx == i;
	}
	CHECK(perm);
	CHECK(!linear);
	kmem_cache_free(s, o);
	kmem_cache_destroy(s);
}

static void *free_it(void *p)
{
	kmem_cache_free(cache_of(p), p);
	return NULL;
}

static void double_free(void)
{
	struct kmem_cache *s = kmem_cache_create("twice", 48, 0, SLAB_NO_MERGE, NULL);
	struct kmem_cache *t = kmem_cache_create("other", 48, 0, SLAB_NO_MERGE, NULL);
	unsigned long errs = uslab_error_count();
	void *a = kmem_cache_alloc(s, GFP_KERNEL);
	void *b = kmem_cache_alloc(s, GFP_KERNEL);
	void *filler[300];
	pthread_t th;

	uslab_set_report_hook(hook, 1);
	/* the fast path: a is on top of this thread's array */
	kmem_cache_free(s, a);
	kmem_cache_free(s, a);
	CHECK_EQ(hook_calls, 1);
	CHECK(strstr(last_report, "Object already free") != NULL);
	/* after other frees, and after the array was flushed to the slabs */
	for (int i = 0; i < 300; i++)
		filler[i] = kmem_cache_alloc(s, GFP_KERNEL);
	for (int i = 0; i < 300; i++)
		kmem_cache_free(s, filler[i]);
	kmem_cache_free(s, a);
	CHECK_EQ(hook_calls, 2);
	kmem_cache_shrink(s);
	/* from another thread: b freed here, then there */
	kmem_cache_free(s, b);
	pthread_create(&th, NULL, free_it, b);
	pthread_join(th, NULL);
	CHECK_EQ(hook_calls, 3);
	/* an interior pointer */
	a = kmem_cache_alloc(s, GFP_KERNEL);
	kmem_cache_free(s, (char *)a + 8);
	CHECK_EQ(hook_calls, 4);
	CHECK(strstr(last_report, "Invalid object pointer") != NULL);
	/* the wrong cache: reported, counted, freed into its own */
	unsigned long before = uslab_error_count();
	kmem_cache_free(t, a);
	CHECK_EQ(uslab_error_count(), before + 1);
	CHECK(sl_object_is_free(s, a));
	uslab_set_report_hook(NULL, 0);
	CHECK(uslab_error_count() >= errs + 5);
	CHECK_EQ(uslab_validate(s), 0);
	kmem_cache_destroy(s);
	kmem_cache_destroy(t);
	hook_calls = 0;
}

static void destroy_busy(void)
{
	struct kmem_cache *s = kmem_cache_create("busy", 40, 0, SLAB_NO_MERGE, NULL);
	void *o = kmem_cache_alloc(s, GFP_KERNEL);
	unsigned long errs = uslab_error_count();

	kmem_cache_destroy(s);		/* refused: o is live */
	CHECK(uslab_error_count() > errs);
	kmem_cache_free(s, o);
	kmem_cache_destroy(s);
}

static void tune(void)
{
	struct kmem_cache *s = kmem_cache_create("tuned", 200, 0, SLAB_NO_MERGE, NULL);
	void *o = kmem_cache_alloc(s, GFP_KERNEL);
	struct array_cache *ac = sl_cpu_cache(s);
	void *v[64];

	CHECK_EQ(slab_tune_cpucache(s, 0, 1, 1), -EINVAL);
	CHECK_EQ(slab_tune_cpucache(s, 10, 0, 1), -EINVAL);
	CHECK_EQ(slab_tune_cpucache(s, 10, 11, 1), -EINVAL);
	CHECK_EQ(slab_tune_cpucache(s, 10, 5, -1), -EINVAL);
	pthread_mutex_lock(&slab_mutex);
	CHECK_EQ(slab_tune_cpucache(s, 10, 5, 1), 0);
	pthread_mutex_unlock(&slab_mutex);
	CHECK_EQ(slab_cache_be(s)->limit, 10);
	CHECK_EQ(ac->limit, 10);	/* this thread's array at once */
	CHECK_EQ(ac->batchcount, 5);
	CHECK_EQ(slab_cache_be(s)->node[0]->shared->limit, 5);
	for (int i = 0; i < 64; i++)
		v[i] = kmem_cache_alloc(s, GFP_KERNEL);
	for (int i = 0; i < 64; i++)
		kmem_cache_free(s, v[i]);
	CHECK(ac->avail <= 10);
	kmem_cache_free(s, o);
	CHECK_EQ(uslab_validate(s), 0);
	kmem_cache_destroy(s);
}

/*
 * The start of the kmalloc object that holds @p: the byte a one-byte
 * overflow out of the object just before it (a string's NUL) lands on.
 */
static unsigned char *kmalloc_start(const void *p)
{
	struct kmem_cache *c = cache_of(p);
	struct slab_slab *sl = slab_of(p);
	uintptr_t off = (uintptr_t)p - (uintptr_t)sl->s_mem;

	return (unsigned char *)sl->s_mem + off / c->size * c->size;
}

#define SNAP_CACHES	64

/*
 * SLAB's bookkeeping is kmalloc'd next to the program's objects: a NUL
 * written one byte past a kmalloc object (the off-by-one string of
 * tests/api/corrupt_freelist.c) into the one after it must never change
 * it.  Before the guard word, it cleared the low byte of a node's alien
 * table entry (a wild sl_array: NULL "objects" drained by the reaper,
 * objects written anywhere) or the first index of a random sequence (an
 * object handed out twice).  Every node structure, shared and alien
 * array, alien table, random sequence, this thread's entry array and an
 * off-slab freelist get the NUL; nothing of theirs may change, and the
 * alien paths must go on working.
 */
static void metadata_overflow(struct kmem_cache *as, int other)
{
	static struct {
		struct kmem_cache *s;
		struct sl_array *alien[2][2];
		unsigned int shared_limit[2], alien_limit[2][2];
		unsigned int seq[SLAB_OBJ_MAX_NUM + 1];
	} snap[SNAP_CACHES];
	struct kmem_cache *s, *offs;
	struct array_cache *ac;
	int nc = 0, changed = 0;
	void *entry0, *o[16], *off_obj;
	unsigned char freelist0;

	offs = kmem_cache_create("offslab-guard", 504, 0, SLAB_NO_MERGE, ctor);
	CHECK(OFF_SLAB(offs));
	off_obj = kmem_cache_alloc(offs, GFP_KERNEL);
	freelist0 = ((unsigned char *)slab_of(off_obj)->freelist)[0];
	kmem_cache_free(as, kmem_cache_alloc(as, GFP_KERNEL));
	ac = sl_cpu_cache(as);
	CHECK(ac->avail > 0 && ac->entry != ac->inline_entry);
	entry0 = ac->entry[0];

	list_for_each_entry(s, &slab_caches, list) {
		struct slab_cache_be *be = slab_cache_be(s);

		if (nc == SNAP_CACHES)
			break;
		snap[nc].s = s;
		for (int node = 0; node < 2; node++) {
			struct slab_node *n = be->node[node];

			CHECK(n && n->alien);
			snap[nc].shared_limit[node] = n->shared ? n->shared->limit : 0;
			for (int i = 0; i < 2; i++) {
				snap[nc].alien[node][i] = n->alien[i];
				snap[nc].alien_limit[node][i] = n->alien[i] ? n->alien[i]->limit : 0;
			}
		}
		if (be->random_seq)
			memcpy(snap[nc].seq, be->random_seq, be->num * sizeof(unsigned int));
		nc++;
	}

	/* the off-by-one NULs, as the program's neighbours would write them */
	for (int c = 0; c < nc; c++) {
		struct slab_cache_be *be = slab_cache_be(snap[c].s);

		for (int node = 0; node < 2; node++) {
			struct slab_node *n = be->node[node];

			*kmalloc_start(n) = 0;
			if (n->shared)
				*kmalloc_start(n->shared) = 0;
			*kmalloc_start(n->alien) = 0;
			for (int i = 0; i < 2; i++)
				if (n->alien[i])
					*kmalloc_start(n->alien[i]) = 0;
		}
		if (be->random_seq)
			*kmalloc_start(be->random_seq) = 0;
	}
	*kmalloc_start(ac->entry) = 0;
	*kmalloc_start(slab_of(off_obj)->freelist) = 0;

	for (int c = 0; c < nc; c++) {
		struct slab_cache_be *be = slab_cache_be(snap[c].s);

		for (int node = 0; node < 2; node++) {
			struct slab_node *n = be->node[node];

			changed += (n->shared ? n->shared->limit : 0) != snap[c].shared_limit[node];
			for (int i = 0; i < 2; i++) {
				changed += n->alien[i] != snap[c].alien[node][i];
				changed += n->alien[i] == snap[c].alien[node][i] && n->alien[i] &&
					   n->alien[i]->limit != snap[c].alien_limit[node][i];
			}
		}
		if (be->random_seq)
			changed += memcmp(snap[c].seq, be->random_seq, be->num * sizeof(unsigned int)) != 0;
	}
	changed += ac->entry[0] != entry0;
	changed += ((unsigned char *)slab_of(off_obj)->freelist)[0] != freelist0;
	CHECK_EQ(changed, 0);

	/* and the alien paths still work: other-node frees of every kmalloc class up to 1k */
	for (unsigned int size = 32; size <= 1024; size *= 2) {
		for (int i = 0; i < 16; i++) {
			o[i] = kmalloc_node(size, GFP_KERNEL, other);
			CHECK(o[i] != NULL);
		}
		for (int i = 0; i < 16; i++)
			kfree(o[i]);
		kmem_cache_shrink(kmalloc_slab(size));
		CHECK_EQ(uslab_validate(kmalloc_slab(size)), 0);
	}
	kmem_cache_free(offs, off_obj);
	kmem_cache_destroy(offs);
}

/* Run with two fake nodes: objects of the other node go to an alien cache. */
static int alien_main(void)
{
	struct kmem_cache *s;
	void *o[20];
	int me, other;

	kmem_cache_init();
	CHECK_EQ(nr_node_ids, 2);
	s = kmem_cache_create("alien", 64, 0, SLAB_NO_MERGE, NULL);
	kmem_cache_free(s, kmem_cache_alloc(s, GFP_KERNEL));	/* attach, learn the node */
	me = (int)sl_cpu_cache(s)->node;
	other = 1 - me;
	for (int i = 0; i < 20; i++) {
		o[i] = kmem_cache_alloc_node(s, GFP_KERNEL, other);
		CHECK(o[i] && sl_slab_nid(slab_of(o[i])) == other);
	}
	struct slab_node *n = slab_cache_be(s)->node[sl_cpu_cache(s)->node];
	for (int i = 0; i < 5; i++)
		kmem_cache_free(s, o[i]);
	/* unless this thread moved to the other node meanwhile */
	if ((int)sl_cpu_cache(s)->node == me) {
		CHECK(n->alien && n->alien[other]);
		CHECK_EQ(n->alien[other]->avail, 5);
	}
	for (int i = 5; i < 20; i++)
		kmem_cache_free(s, o[i]);
	CHECK_EQ(uslab_validate(s), 0);
	metadata_overflow(s, other);
	kmem_cache_shrink(s);
	kmem_cache_destroy(s);
	return test_done("slab_internals (2 nodes)");
}

/* ---------------------------------------------------------- counters */

static void read_counts(struct kmem_cache *s, unsigned long *c)
{
	pthread_mutex_lock(&slab_mutex);
	stats_read(s, c);
	pthread_mutex_unlock(&slab_mutex);
}

/* @item's change from @before to @after */
#define DELTA(after, before, item)	((long)((after)[item] - (before)[item]))

/*
 * The counters on one node: allochit + allocmiss and freehit + freemiss
 * are the allocations and frees made through kmem_cache_alloc/free, the
 * high mark and the slabs grown agree with get_info, and each kind of
 * fast-path hit and slow-path miss is counted where it happens.
 */
static void counters(void)
{
	enum { N = 1000 };
	static void *v[N];
	unsigned long c[SLAB_STAT_MAX], d[SLAB_STAT_MAX];
	struct slab_cache_info info;
	struct kmem_cache *s;
	struct array_cache *ac;
	unsigned int num;
	void *o, *z;

	CHECK(slab_stats_enabled);
	CHECK_EQ(slab_backend_slab.nr_stats, SL_STAT_NR);
	CHECK(!strcmp(slab_backend_slab.stat_names[SL_STAT_ALLOCS], "allocs"));
	CHECK(!strcmp(slab_backend_slab.stat_names[SL_STAT_HIGH_MARK], "high_mark"));
	CHECK(!strcmp(slab_backend_slab.stat_names[SL_STAT_FREEMISS], "freemiss"));
	CHECK_EQ(slab_backend_slab.stat_max_mask,
		 (1UL << SL_STAT_HIGH_MARK) | (1UL << SL_STAT_MAX_FREEABLE));

	s = kmem_cache_create("counted", 64, 0, SLAB_NO_MERGE, NULL);
	num = slab_cache_be(s)->num;
	read_counts(s, c);
	for (int i = 0; i < SL_STAT_NR; i++)
		CHECK_EQ(c[i], 0);

	for (int i = 0; i < N; i++) {
		v[i] = kmem_cache_alloc(s, GFP_KERNEL);
		CHECK(v[i] != NULL);
	}
	read_counts(s, c);
	CHECK_EQ(c[SL_STAT_ALLOCHIT] + c[SL_STAT_ALLOCMISS], N);
	CHECK(c[SL_STAT_ALLOCMISS] >= 1 && c[SL_STAT_ALLOCHIT] > c[SL_STAT_ALLOCMISS]);
	CHECK_EQ(c[SL_STAT_FREEHIT] + c[SL_STAT_FREEMISS], 0);
	CHECK_EQ(slab_backend_slab.get_info(s, &info), 0);
	/* nothing freed yet: every slab grown is there, every object off a slab came by refill */
	CHECK(c[SL_STAT_GROWN] >= (N + num - 1) / num);
	CHECK_EQ(c[SL_STAT_GROWN], info.si.num_slabs);
	CHECK(c[SL_STAT_HIGH_MARK] >= N);
	CHECK_EQ(c[SL_STAT_HIGH_MARK], info.si.active_objs);
	CHECK_EQ(c[SL_STAT_ALLOCS], info.si.active_objs);
	CHECK_EQ(info.free_objects, info.si.num_objs - info.si.active_objs);
	CHECK_EQ(c[SL_STAT_NODE_ALLOCS], 0);
	CHECK_EQ(c[SL_STAT_ERRORS], 0);

	for (int i = 0; i < N; i++)
		kmem_cache_free(s, v[i]);
	read_counts(s, d);
	CHECK_EQ(d[SL_STAT_FREEHIT] + d[SL_STAT_FREEMISS], N);
	/* the array (limit 120) was full more than once */
	CHECK(d[SL_STAT_FREEMISS] >= 2 && d[SL_STAT_FREEHIT] > d[SL_STAT_FREEMISS]);
	CHECK_EQ(DELTA(d, c, SL_STAT_ALLOCHIT) + DELTA(d, c, SL_STAT_ALLOCMISS), 0);
	CHECK_EQ(d[SL_STAT_HIGH_MARK], c[SL_STAT_HIGH_MARK]);
	/* free slabs only appear in a flush, which notes how many there are */
	CHECK_EQ(slab_backend_slab.get_info(s, &info), 0);
	CHECK(d[SL_STAT_MAX_FREEABLE] >= info.si.num_slabs - info.si.active_slabs);
	CHECK_EQ(d[SL_STAT_NODE_FREES], 0);

	/* one at a time: a pop is a hit, and a free into an array with room */
	ac = sl_cpu_cache(s);
	CHECK(ac->avail > 0 && ac->avail < ac->limit);
	read_counts(s, c);
	o = kmem_cache_alloc(s, GFP_KERNEL);
	read_counts(s, d);
	CHECK_EQ(DELTA(d, c, SL_STAT_ALLOCHIT), 1);
	CHECK_EQ(DELTA(d, c, SL_STAT_ALLOCMISS), 0);
	/* __GFP_ZERO takes the slow path though the array has objects: a miss */
	z = kmem_cache_alloc(s, GFP_KERNEL | __GFP_ZERO);
	read_counts(s, c);
	CHECK(z && !((char *)z)[0] && !memcmp(z, (char *)z + 1, 63));
	CHECK_EQ(DELTA(c, d, SL_STAT_ALLOCHIT), 0);
	CHECK_EQ(DELTA(c, d, SL_STAT_ALLOCMISS), 1);
	kmem_cache_free(s, z);
	read_counts(s, d);
	CHECK_EQ(DELTA(d, c, SL_STAT_FREEHIT), 1);
	CHECK_EQ(DELTA(d, c, SL_STAT_FREEMISS), 0);
	/* a bad free is a free through the entry too: a miss, reported */
	uslab_set_report_hook(hook, 1);
	kmem_cache_free(s, (char *)o + 8);
	uslab_set_report_hook(NULL, 0);
	CHECK_EQ(hook_calls, 1);
	hook_calls = 0;
	read_counts(s, c);
	CHECK_EQ(DELTA(c, d, SL_STAT_FREEHIT), 0);
	CHECK_EQ(DELTA(c, d, SL_STAT_FREEMISS), 1);
	kmem_cache_free(s, o);

	/* the kernel's slabinfo columns, in its order */
	char buf[256];
	struct seq_buf m = { buf, sizeof(buf), 0 };
	unsigned long g[SL_STAT_NR];

	read_counts(s, c);
	slab_backend_slab.slabinfo_stats(&m, s, c);
	seq_finish(&m);
	CHECK(!strncmp(buf, " : globalstat ", 14));
	CHECK_EQ(sscanf(buf, " : globalstat %lu %lu %lu %lu %lu %lu %lu %lu %lu : cpustat %lu %lu %lu %lu",
			&g[0], &g[1], &g[2], &g[3], &g[4], &g[5], &g[6], &g[7], &g[8],
			&g[9], &g[10], &g[11], &g[12]), 13);
	CHECK_EQ(g[0], c[SL_STAT_ALLOCS]);
	CHECK_EQ(g[1], c[SL_STAT_HIGH_MARK]);
	CHECK_EQ(g[2], c[SL_STAT_GROWN]);
	CHECK_EQ(g[5], c[SL_STAT_MAX_FREEABLE]);
	CHECK_EQ(g[9], c[SL_STAT_ALLOCHIT]);
	CHECK_EQ(g[10], c[SL_STAT_ALLOCMISS]);
	CHECK_EQ(g[11], c[SL_STAT_FREEHIT]);
	CHECK_EQ(g[12], c[SL_STAT_FREEMISS]);

	CHECK_EQ(kmem_cache_shrink(s), 0);
	CHECK_EQ(uslab_validate(s), 0);
	kmem_cache_destroy(s);

	/*
	 * Small batches (limit 4, batchcount 2, no shared array): most refills
	 * come from a partial slab, not a new one, and must raise the mark too.
	 */
	s = kmem_cache_create("counted_small", 64, 0, SLAB_NO_MERGE, NULL);
	pthread_mutex_lock(&slab_mutex);
	CHECK_EQ(slab_tune_cpucache(s, 4, 2, 0), 0);
	pthread_mutex_unlock(&slab_mutex);
	for (int i = 0; i < 100; i++)
		v[i] = kmem_cache_alloc(s, GFP_KERNEL);
	read_counts(s, c);
	CHECK_EQ(slab_backend_slab.get_info(s, &info), 0);
	CHECK_EQ(c[SL_STAT_GROWN], info.si.num_slabs);
	CHECK(c[SL_STAT_ALLOCMISS] > c[SL_STAT_GROWN]);
	CHECK_EQ(c[SL_STAT_HIGH_MARK], info.si.active_objs);
	CHECK_EQ(c[SL_STAT_ALLOCS], info.si.active_objs);
	CHECK(info.partial >= 1);
	for (int i = 0; i < 100; i++)
		kmem_cache_free(s, v[i]);
	read_counts(s, d);
	/* with no shared array, each flush gave its batch back to the slabs */
	CHECK_EQ(d[SL_STAT_FREEHIT] + d[SL_STAT_FREEMISS], 100);
	CHECK(d[SL_STAT_FREEMISS] >= 40);
	kmem_cache_shrink(s);
	kmem_cache_destroy(s);
}

/*
 * The counters on two nodes, this thread kept on one CPU: allocations for
 * the other node come straight off its slabs (node_allocs, each an
 * allocmiss), and their frees go to an alien cache (node_frees, each a
 * freemiss), which overflows once in 20 frees (ALIEN_LIMIT 12).
 */
static void counters_nodes(void)
{
	struct kmem_cache *s = kmem_cache_create("counted2", 64, 0, SLAB_NO_MERGE, NULL);
	unsigned long c[SLAB_STAT_MAX], d[SLAB_STAT_MAX];
	cpu_set_t one;
	void *o[20];
	int me, other, cpu = sched_getcpu();

	CPU_ZERO(&one);
	CPU_SET(cpu >= 0 ? cpu : 0, &one);
	CHECK_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
	kmem_cache_free(s, kmem_cache_alloc(s, GFP_KERNEL));	/* attach, learn the node */
	me = (int)sl_cpu_cache(s)->node;
	other = 1 - me;
	read_counts(s, c);
	for (int i = 0; i < 20; i++)
		o[i] = kmem_cache_alloc_node(s, GFP_KERNEL, other);
	read_counts(s, d);
	CHECK_EQ(DELTA(d, c, SL_STAT_ALLOCHIT) + DELTA(d, c, SL_STAT_ALLOCMISS), 20);
	CHECK_EQ(DELTA(d, c, SL_STAT_ALLOCMISS), 20);
	CHECK_EQ(DELTA(d, c, SL_STAT_NODE_ALLOCS), 20);
	CHECK(d[SL_STAT_HIGH_MARK] >= 20);
	for (int i = 0; i < 20; i++)
		kmem_cache_free(s, o[i]);
	read_counts(s, c);
	CHECK_EQ(DELTA(c, d, SL_STAT_FREEHIT) + DELTA(c, d, SL_STAT_FREEMISS), 20);
	CHECK_EQ(DELTA(c, d, SL_STAT_FREEMISS), 20);
	CHECK_EQ(DELTA(c, d, SL_STAT_NODE_FREES), 20);
	CHECK_EQ(DELTA(c, d, SL_STAT_NODE_OVERFLOW), 1);
	CHECK_EQ(c[SL_STAT_ERRORS], 0);
	kmem_cache_shrink(s);
	CHECK_EQ(uslab_validate(s), 0);
	kmem_cache_destroy(s);
}

/* A child with the counters on (they are chosen before initialisation). */
static int stats_main(int nodes)
{
	if (nodes > 1)
		uslab_option_set("numa_nodes", nodes);
	if (uslab_option_set("slab_stats", 1))
		test_skip("slab_internals (stats)", "no slab_stats option in this build");
	kmem_cache_init();
	if (nodes > 1) {
		CHECK_EQ(nr_node_ids, nodes);
		counters_nodes();
		return test_done("slab_internals (stats, 2 nodes)");
	}
	counters();
	return test_done("slab_internals (stats)");
}

/* Run this program again as @mode in a child, which must pass. */
static void run_child(const char *argv0, const char *mode)
{
	int status = 0;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execl("/proc/self/exe", argv0, mode, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(int argc, char **argv)
{
	if (!&slab_backend_slab || uslab_option_set("allocator", ALLOCATOR_SLAB))
		test_skip("slab_internals", "no SLAB back end in this build");
	if (argc > 1 && !strcmp(argv[1], "alien")) {
		uslab_option_set("numa_nodes", 2);
		return alien_main();
	}
	if (argc > 1 && !strcmp(argv[1], "stats"))
		return stats_main(1);
	if (argc > 1 && !strcmp(argv[1], "stats2"))
		return stats_main(2);
	bootstrap();
	placement();
	colouring();
	tunables();
	batches();
	random_order();
	double_free();
	destroy_busy();
	tune();

	/* the alien caches, in a process of its own with two nodes */
	run_child(argv[0], "alien");
	/* the counters, which must be on from the start */
	run_child(argv[0], "stats");
	run_child(argv[0], "stats2");
	return test_done("slab_internals");
}
