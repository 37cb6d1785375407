// SPDX-License-Identifier: MIT
/*
 * slub.c - SLUB: the unqueued slab allocator (after Linux mm/slub.c).
 *
 * 1. Slabs.  A slab is a block of 2^order pages from the buddy allocator
 *    cut into objects of s->size bytes.  A free object holds, at
 *    s->offset, a pointer to the next free object; the pointer is stored
 *    hardened (ptr ^ s->random ^ swab(its own address)) so that a stray write or
 *    a use-after-free cannot aim the allocator at chosen memory.  The slab's
 *    head struct page carries its freelist and counters (inuse, objects,
 *    frozen), changed together by one 16-byte compare-and-swap.
 *
 * 2. Slab states.
 *    - cpu slab: frozen, owned by one cpu slot (a thread, cpu.h).  The
 *      owner allocates from c->freelist without atomics; the slab's own
 *      freelist collects frees from other threads, and the owner takes it
 *      (get_freelist) when c->freelist runs dry.
 *    - cpu partial: frozen, on a slot's c->partial chain; becomes the cpu
 *      slab when that runs out.  A thread that frees into a full slab
 *      freezes it onto its own chain (no lock); when the chain holds more
 *      than s->cpu_partial free objects it is unfrozen onto the node lists.
 *    - node partial: not frozen, on n->partial under n->list_lock.
 *    - full: not frozen, on no list; the first free into it makes it
 *      partial again.
 *    - empty: freed to the buddy allocator, unless the node keeps fewer
 *      than s->min_partial partial slabs.
 *    Only the thread that owns a frozen slab may unfreeze it.
 *
 * 3. Locking order.
 *      slab_mutex            (slab_common: cache list, create, destroy)
 *        threads_lock        (cpu.c: the list of cpu areas)
 *          n->list_lock      (one node's partial list)
 *            zone locks      (page_alloc.c)
 *    The fast paths take no lock.  A free that changes a non-frozen
 *    slab's list membership (full -> partial without a cpu slot, or
 *    partial -> empty) takes n->list_lock *before* its compare-and-swap,
 *    so that whoever moves the slab between lists sees a settled state;
 *    deactivation and unfreezing do the same.  Slabs go back to the page
 *    allocator only after list_lock is dropped.
 *
 * 4. Flushing.  The kernel flushes other CPUs with IPIs.  Here a slot is
 *    flushed by its owner: at thread exit, on kmem_cache_shrink() for the
 *    caller's own slot, and on any slow path that sees the cache's
 *    flush_gen move on.  kmem_cache_destroy() flushes every thread's slot
 *    directly, since the API promises nobody uses a cache being destroyed.
 *
 * 5. Cheap checks, on in every build (their cost is in docs/checks.md):
 *    a free outside every arena, of a page that is not a slab, of an
 *    address that is not the start of an object, into the wrong cache,
 *    and of the object that already heads the freelist.
 */
#define _GNU_SOURCE
#include "slab.h"
#include "cpu.h"
#include "debug.h"

#include <errno.h>
#include <string.h>

static struct kmem_cache *kmem_cache_node;

static inline void *slab_address(const struct page *slab)
{
	return __page_address(slab);
}

static inline struct kmem_cache_node *get_node(const struct kmem_cache *s, int node)
{
	return s->node[node];
}

/* ------------------------------------------------ freelist + counters */

static inline bool cmpxchg_double_slab(struct page *slab, void *old_fl, unsigned long old_c,
				       void *new_fl, unsigned long new_c)
{
	__uint128_t old = (__uint128_t)old_c << 64 | (uintptr_t)old_fl;
	__uint128_t new = (__uint128_t)new_c << 64 | (uintptr_t)new_fl;

	return __sync_bool_compare_and_swap(&slab->freelist_counters, old, new);
}

/* A view of page->counters to compute a new value in. */
union slab_counters {
	unsigned long counters;
	struct {
		unsigned inuse:16;
		unsigned objects:15;
		unsigned frozen:1;
	};
};

static inline void slab_snapshot(struct page *slab, void **fl, union slab_counters *c)
{
	*fl = READ_ONCE(slab->freelist);
	c->counters = READ_ONCE(slab->counters);
}

/* ---------------------------------------------------- node bookkeeping */

static void init_kmem_cache_node(struct kmem_cache_node *n)
{
	spin_lock_init(&n->list_lock);
	n->nr_partial = 0;
	INIT_LIST_HEAD(&n->partial);
	n->nr_slabs = 0;
	n->total_objects = 0;
}

static inline void add_partial(struct kmem_cache_node *n, struct page *slab)
{
	n->nr_partial++;
	list_add_tail(&slab->lru, &n->partial);
}

static inline void remove_partial(struct kmem_cache_node *n, struct page *slab)
{
	list_del(&slab->lru);
	n->nr_partial--;
}

static inline void inc_slabs_node(struct kmem_cache_node *n, unsigned int objects)
{
	__atomic_add_fetch(&n->nr_slabs, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&n->total_objects, objects, __ATOMIC_RELAXED);
}

static inline void dec_slabs_node(struct kmem_cache_node *n, unsigned int objects)
{
	__atomic_sub_fetch(&n->nr_slabs, 1, __ATOMIC_RELAXED);
	__atomic_sub_fetch(&n->total_objects, objects, __ATOMIC_RELAXED);
}

/* ------------------------------------------------- slabs from the buddy */

/*
 * allocate_slab - a new slab, frozen, with every object on its freelist
 * (which the caller takes) and inuse == objects.  The constructor runs
 * here, once per object per slab, never on allocation.
 */
static struct page *allocate_slab(struct kmem_cache *s, gfp_t gfp, int node)
{
	struct kmem_cache_order_objects oo = s->oo;
	struct page *slab;
	unsigned int order, objects;
	char *start, *p;

	slab = __alloc_pages(node, gfp, oo_order(oo), NULL);
	if (unlikely(!slab) && oo.x != s->min.x) {
		oo = s->min;
		slab = __alloc_pages(node, gfp, oo_order(oo), NULL);
	}
	if (unlikely(!slab))
		return NULL;

	order = oo_order(oo);
	objects = oo_objects(oo);
	/*
	 * Tail pages say "slab" and name the cache too, so that kfree() finds
	 * the cache from any page of the slab without a compound_head() step;
	 * everything that needs the slab itself goes through compound_head().
	 */
	for (unsigned long i = 1; i < (1UL << order); i++) {
		slab[i].flags = PG_tail | PG_slab;
		slab[i].head_page = slab;
		slab[i].slab_cache = s;
	}
	slab->flags = PG_head | PG_slab;
	slab->slab_cache = s;
	slab->counters = 0;
	slab->objects = objects;
	slab->inuse = objects;
	slab->frozen = 1;
	slab->private = 0;

	start = slab_address(slab);
	for (unsigned int i = 0; i < objects; i++) {
		p = start + (size_t)i * s->size;
		if (s->ctor)
			s->ctor(p);
		set_freepointer(s, p, i + 1 < objects ? p + s->size : NULL);
	}
	slab->freelist = start;
	if (likely(get_node(s, page_to_nid(slab))))
		inc_slabs_node(get_node(s, page_to_nid(slab)), objects);
	return slab;
}

static void __free_slab(struct kmem_cache *s, struct page *slab)
{
	unsigned int order = slab->order;

	(void)s;
	for (unsigned long i = 1; i < (1UL << order); i++) {
		slab[i].flags = 0;
		slab[i].slab_cache = NULL;
	}
	slab->flags = PG_head;
	slab->slab_cache = NULL;
	slab->freelist = NULL;
	slab->counters = 0;
	__free_pages_ok(slab, order);
}

static void discard_slab(struct kmem_cache *s, struct page *slab)
{
	dec_slabs_node(get_node(s, page_to_nid(slab)), slab->objects);
	__free_slab(s, slab);
}

/* ---------------------------------------------------------- cpu slots */

static inline struct kmem_cache_cpu *area_slot(char *area, const struct kmem_cache *s)
{
	return (struct kmem_cache_cpu *)(area + s->cpu_offset);
}

/*
 * Owner-local frees.  A frozen slab names the cpu area of the thread that
 * froze it (slab->owner).  When that thread frees an object of such a
 * slab that is not its cpu slab (a cpu partial slab, most often), it
 * pushes the object on the slab's local freelist (slab->private) without
 * an atomic, as mimalloc's owner frees go to page->local_free; only frees
 * from other threads pay the compare-and-swap on slab->freelist.  Like
 * the cpu freelist, the local list is counted in slab->inuse until it is
 * handed back: it becomes the cpu freelist when the slab is the cpu slab,
 * and it is spliced onto slab->freelist when the slab is unfrozen.  Only
 * the owner writes owner and the local list, and it clears owner before
 * it unfreezes, so "owner == my area" can be true only of a slab this
 * thread has frozen.  Other threads may read owner while it holds a list
 * pointer (lru shares the word): that never equals a cpu area.
 */
static inline bool slab_owned_by_me(const struct page *slab)
{
	return __atomic_load_n(&slab->owner, __ATOMIC_RELAXED) == (void *)uslab_cpu_area;
}

static inline void set_slab_owner(struct page *slab, void *area)
{
	__atomic_store_n(&slab->owner, area, __ATOMIC_RELAXED);
}

/*
 * take_local_freelist - the slab's local freelist, linked in front of
 * @freelist; the slab's local list is left empty.
 */
static void *take_local_freelist(struct kmem_cache *s, struct page *slab, void *freelist)
{
	void *local = (void *)slab->private, *p = local;
	unsigned int n = 1;

	if (!local)
		return freelist;
	slab->private = 0;
	if (!freelist)		/* the local list already ends in NULL */
		return local;
	for (void *next; (next = get_freepointer(s, p)); p = next) {
		if (unlikely(++n > slab->objects)) {
			slab_bug(s, slab, "Freepointer corrupt", "local freelist longer than the slab");
			return freelist;
		}
	}
	set_freepointer(s, p, freelist);
	return local;
}

static inline void set_cpu_slab(struct kmem_cache *s, struct kmem_cache_cpu *c,
				struct page *slab)
{
	set_slab_owner(slab, uslab_cpu_area);
	c->slab = slab;
	c->base = (uintptr_t)slab_address(slab);
	c->span = (size_t)slab->objects * s->size;
}

static inline void clear_cpu_slab(struct kmem_cache_cpu *c)
{
	c->slab = NULL;
	c->freelist = NULL;
	c->base = 0;
	c->span = 0;
}

/*
 * deactivate_slab - give a cpu slab back: splice the slot's freelist onto
 * the slab's, unfreeze it, and file it as partial, full or empty.
 */
static void deactivate_slab(struct kmem_cache *s, struct page *slab, void *freelist)
{
	struct kmem_cache_node *n = get_node(s, page_to_nid(slab));
	union slab_counters old, new;
	void *tail = NULL, *old_fl, *new_fl;
	unsigned int count = 0;

	set_slab_owner(slab, NULL);
	freelist = take_local_freelist(s, slab, freelist);
	for (void *p = freelist; p; p = get_freepointer(s, p)) {
		tail = p;
		if (unlikely(++count > slab->objects)) {
			slab_bug(s, slab, "Freepointer corrupt", "cpu freelist longer than the slab");
			return;
		}
	}

	spin_lock(&n->list_lock);
	do {
		slab_snapshot(slab, &old_fl, &old);
		new.counters = old.counters;
		new_fl = old_fl;
		if (tail) {
			set_freepointer(s, tail, old_fl);
			new_fl = freelist;
			new.inuse -= count;
		}
		new.frozen = 0;
	} while (!cmpxchg_double_slab(slab, old_fl, old.counters, new_fl, new.counters));

	if (!new.inuse && n->nr_partial >= s->min_partial) {
		spin_unlock(&n->list_lock);
		discard_slab(s, slab);
		return;
	}
	if (new_fl)
		add_partial(n, slab);
	spin_unlock(&n->list_lock);
}

/* unfreeze_partials - move a slot's cpu partial chain to the node lists. */
static void unfreeze_partials(struct kmem_cache *s, struct kmem_cache_cpu *c)
{
	struct kmem_cache_node *n = NULL, *n2;
	struct page *slab, *discard = NULL;

	c->partial_slabs = 0;
	c->partial_objects = 0;
	while ((slab = c->partial)) {
		union slab_counters old, new;
		void *fl, *local, *tail = NULL;
		unsigned int count = 0;

		c->partial = slab->next;
		set_slab_owner(slab, NULL);
		local = take_local_freelist(s, slab, NULL);
		for (void *p = local; p; p = get_freepointer(s, p)) {
			tail = p;
			count++;
		}
		n2 = get_node(s, page_to_nid(slab));
		if (n != n2) {
			if (n)
				spin_unlock(&n->list_lock);
			n = n2;
			spin_lock(&n->list_lock);
		}
		do {
			slab_snapshot(slab, &fl, &old);
			new.counters = old.counters;
			new.frozen = 0;
			if (tail) {
				set_freepointer(s, tail, fl);
				new.inuse -= count;
			}
		} while (!cmpxchg_double_slab(slab, fl, old.counters, tail ? local : fl,
					      new.counters));

		if (!new.inuse && n->nr_partial >= s->min_partial) {
			slab->next = discard;
			discard = slab;
		} else if (tail || fl) {
			add_partial(n, slab);
		}
		/* else full: on no list until a free refiles it */
	}
	if (n)
		spin_unlock(&n->list_lock);
	while (discard) {
		slab = discard;
		discard = slab->next;
		discard_slab(s, slab);
	}
}

/*
 * put_cpu_partial - add a frozen slab to this thread's cpu partial chain;
 * with @drain, first unfreeze the chain if it already holds enough.
 */
static void put_cpu_partial(struct kmem_cache *s, struct page *slab, bool drain)
{
	struct kmem_cache_cpu *c = cpu_slot(s);

	if (drain && c->partial &&
	    (c->partial_objects > (int)s->cpu_partial ||
	     c->partial_slabs >= s->cpu_partial_slabs))
		unfreeze_partials(s, c);
	/*
	 * First in, first out: the oldest slab on the chain has had the
	 * longest to collect this thread's local frees, so it is the one to
	 * allocate from next (the kernel pushes and pops the chain's head).
	 */
	slab->next = NULL;
	set_slab_owner(slab, uslab_cpu_area);
	if (c->partial)
		c->partial_tail->next = slab;
	else
		c->partial = slab;
	c->partial_tail = slab;
	c->partial_slabs++;
	c->partial_objects += (int)(slab->objects - slab->inuse);
}

static void flush_slot(struct kmem_cache *s, struct kmem_cache_cpu *c)
{
	if (c->slab) {
		struct page *slab = c->slab;
		void *freelist = c->freelist;

		clear_cpu_slab(c);
		deactivate_slab(s, slab, freelist);
	}
	if (c->partial)
		unfreeze_partials(s, c);
}

/* Flush every cache's slot in @area (an exiting or vanished thread). */
static void slab_flush_area(char *area)
{
	struct kmem_cache *s;

	pthread_mutex_lock(&slab_mutex);
	list_for_each_entry(s, &slab_caches, list)
		flush_slot(s, area_slot(area, s));
	pthread_mutex_unlock(&slab_mutex);
}

static void flush_area_slot(char *area, void *arg)
{
	struct kmem_cache *s = arg;

	flush_slot(s, area_slot(area, s));
}

/* ------------------------------------------------------- the slow path */

/* get_freelist - take the cpu slab's remotely freed objects. */
static void *get_freelist(struct kmem_cache *s, struct page *slab)
{
	union slab_counters old, new;
	void *fl;

	(void)s;
	do {
		slab_snapshot(slab, &fl, &old);
		new.counters = old.counters;
		new.inuse = slab->objects;
		new.frozen = fl != NULL;
	} while (!cmpxchg_double_slab(slab, fl, old.counters, NULL, new.counters));
	return fl;
}

/*
 * acquire_slab - freeze a node partial slab for this slot, under
 * list_lock.  With @take_all the caller gets the whole freelist (the slab
 * becomes the cpu slab); otherwise the freelist stays in the slab.
 */
static void *acquire_slab(struct kmem_cache_node *n, struct page *slab,
			  bool take_all, unsigned int *avail)
{
	union slab_counters old, new;
	void *fl;

	do {
		slab_snapshot(slab, &fl, &old);
		new.counters = old.counters;
		*avail = old.objects - old.inuse;
		if (take_all)
			new.inuse = old.objects;
		new.frozen = 1;
	} while (!cmpxchg_double_slab(slab, fl, old.counters, take_all ? NULL : fl,
				      new.counters));
	remove_partial(n, slab);
	return fl;
}

static void *get_partial_node(struct kmem_cache *s, struct kmem_cache_node *n,
			      struct kmem_cache_cpu *c)
{
	struct page *slab, *tmp;
	void *object = NULL;
	unsigned int available = 0, avail;

	if (!n || !READ_ONCE(n->nr_partial))
		return NULL;
	spin_lock(&n->list_lock);
	list_for_each_entry_safe(slab, tmp, &n->partial, lru) {
		void *t = acquire_slab(n, slab, object == NULL, &avail);

		if (!object) {
			set_cpu_slab(s, c, slab);
			object = t;
		} else {
			put_cpu_partial(s, slab, false);
		}
		available += avail;
		if (!s->cpu_partial || available > s->cpu_partial / 2)
			break;
	}
	spin_unlock(&n->list_lock);
	return object;
}

static void *get_partial(struct kmem_cache *s, int node, struct kmem_cache_cpu *c)
{
	int searchnode = node == NUMA_NO_NODE ? numa_node_id() : node;
	void *object = get_partial_node(s, get_node(s, searchnode), c);

	if (object || node != NUMA_NO_NODE)
		return object;
	for (int nid = 0; nid < nr_node_ids && !object; nid++)
		if (nid != searchnode)
			object = get_partial_node(s, get_node(s, nid), c);
	return object;
}

static noinline void *slab_out_of_memory(struct kmem_cache *s, gfp_t gfp, int node)
{
	if (gfp & __GFP_NOFAIL)
		uslab_panic("SLUB: Unable to allocate memory on node %d, gfp=%#x (__GFP_NOFAIL)\n"
			    "  cache: %s, object size: %u, buffer size: %u\n",
			    node, gfp, s->name, s->object_size, s->size);
	if (!(gfp & __GFP_NOWARN)) {
		pr_warn("SLUB: Unable to allocate memory on node %d, gfp=%#x\n", node, gfp);
		pr_warn("  cache: %s, object size: %u, buffer size: %u, default order: %u, min order: %u\n",
			s->name, s->object_size, s->size, oo_order(s->oo), oo_order(s->min));
	}
	return NULL;
}

/*
 * alloc_single_nocpu - one object without a cpu slot: for a thread that is
 * attaching or has exited, as SLUB's debug caches allocate.  Everything
 * happens under list_lock on the node lists.
 */
static noinline void *alloc_single_nocpu(struct kmem_cache *s, gfp_t gfp, int node)
{
	int nid = node == NUMA_NO_NODE ? numa_node_id() : node;
	struct kmem_cache_node *n = get_node(s, nid);
	struct page *slab;
	void *object;

	spin_lock(&n->list_lock);
	if (!list_empty(&n->partial)) {
		union slab_counters old, new;
		void *next;

		slab = list_first_entry(&n->partial, struct page, lru);
		do {
			slab_snapshot(slab, &object, &old);
			next = get_freepointer(s, object);
			new.counters = old.counters;
			new.inuse++;
		} while (!cmpxchg_double_slab(slab, object, old.counters, next, new.counters));
		if (!next)
			remove_partial(n, slab);
		spin_unlock(&n->list_lock);
		return object;
	}
	spin_unlock(&n->list_lock);

	slab = allocate_slab(s, gfp, nid);
	if (!slab)
		return slab_out_of_memory(s, gfp, nid);
	/* Nobody else can see the slab yet: plain stores are enough. */
	object = slab->freelist;
	slab->freelist = get_freepointer(s, object);
	slab->inuse = 1;
	slab->frozen = 0;
	n = get_node(s, page_to_nid(slab));
	spin_lock(&n->list_lock);
	if (slab->freelist)
		add_partial(n, slab);
	spin_unlock(&n->list_lock);
	return object;
}

/*
 * ___slab_alloc - the slow path: the slot's freelist is empty (or the
 * caller wants another node).  Refill from the cpu slab's remote frees,
 * then the cpu partial chain, then the node partial lists, then a new slab.
 */
static void *___slab_alloc(struct kmem_cache *s, gfp_t gfp, int node,
			   struct kmem_cache_cpu *c)
{
	struct page *slab;
	void *freelist;

	if (unlikely(c->gen != READ_ONCE(s->flush_gen))) {
		flush_slot(s, c);
		c->gen = READ_ONCE(s->flush_gen);
	}
	slab = c->slab;
	if (!slab)
		goto new_slab;
	if (unlikely(node != NUMA_NO_NODE && page_to_nid(slab) != node)) {
		flush_slot(s, c);
		goto new_slab;
	}
	freelist = c->freelist;
	if (freelist)
		goto load_freelist;
	freelist = take_local_freelist(s, slab, NULL);
	if (freelist)
		goto load_freelist;
	if (c->partial && !READ_ONCE(slab->freelist) &&
	    c->partial_slabs + 1 < s->cpu_partial_slabs) {
		/*
		 * Used up, nothing freed into it from elsewhere, and another
		 * slab to go on with: keep it frozen and ours, at the tail of
		 * the partial chain, instead of unfreezing it with a
		 * compare-and-swap.  Our frees into it stay local; by the time
		 * it comes round again they are its freelist.  (The kernel
		 * unfreezes it, so that its next free refiles it; here that is
		 * this thread's own business.)
		 */
		clear_cpu_slab(c);
		put_cpu_partial(s, slab, false);
		goto new_slab;
	}
	set_slab_owner(slab, NULL);
	freelist = get_freelist(s, slab);
	if (!freelist) {
		/* The slab is full and unfrozen now; the next free refiles it. */
		clear_cpu_slab(c);
		goto new_slab;
	}
	set_slab_owner(slab, uslab_cpu_area);
load_freelist:
	c->freelist = get_freepointer(s, freelist);
	return freelist;

new_slab:
	while (c->partial && (node == NUMA_NO_NODE || page_to_nid(c->partial) == node)) {
		slab = c->partial;
		c->partial = slab->next;
		c->partial_slabs--;
		c->partial_objects = max_t(int, 0, c->partial_objects -
					   (int)(slab->objects - slab->inuse));
		freelist = take_local_freelist(s, slab, NULL);
		if (!freelist) {
			set_slab_owner(slab, NULL);
			freelist = get_freelist(s, slab);
			if (!freelist)
				continue;	/* full, and now unfrozen */
		}
		set_cpu_slab(s, c, slab);
		goto load_freelist;
	}
	freelist = get_partial(s, node, c);
	if (freelist)
		goto load_freelist;

	slab = allocate_slab(s, gfp, node);
	if (unlikely(!slab))
		return slab_out_of_memory(s, gfp, node);
	freelist = slab->freelist;
	slab->freelist = NULL;
	set_cpu_slab(s, c, slab);
	goto load_freelist;
}

static void *___slab_alloc_any(struct kmem_cache *s, gfp_t gfp, int node)
{
	struct kmem_cache_cpu *c;
	void *object;

	if (unlikely(!cpu_attached()) && cpu_attach())
		return alloc_single_nocpu(s, gfp, node);
	c = cpu_slot(s);
	object = c->freelist;
	if (object && (node == NUMA_NO_NODE || (c->slab && page_to_nid(c->slab) == node))) {
		c->freelist = get_freepointer(s, object);
		return object;
	}
	return ___slab_alloc(s, gfp, node, c);
}

/*
 * __slab_alloc - everything the fast path leaves out: an empty slot, a
 * node to match, and zeroing (kept out so the fast path needs no frame).
 */
noinline void *__slab_alloc(struct kmem_cache *s, gfp_t gfp, int node)
{
	void *object = ___slab_alloc_any(s, gfp, node);

	if (unlikely(!object))
		return NULL;
	clear_freepointer(s, object);
	if (unlikely(gfp & __GFP_ZERO))
		memset(object, 0, s->object_size);
	return object;
}

/* -------------------------------------------------------- freeing */

/*
 * __slab_free - free @cnt objects, linked from @head to @tail, into a
 * slab this slot does not own.  Lock-free unless the slab changes list.
 */
static void __slab_free(struct kmem_cache *s, struct page *slab, void *head,
			void *tail, unsigned int cnt)
{
	struct kmem_cache_node *n = NULL;
	union slab_counters old, new;
	bool was_frozen, freeze;
	void *prior;

	do {
		if (n) {
			spin_unlock(&n->list_lock);
			n = NULL;
		}
		slab_snapshot(slab, &prior, &old);
		if (unlikely(prior == head)) {
			object_err(s, slab, head, "Object already free");
			return;
		}
		set_freepointer(s, tail, prior);
		new.counters = old.counters;
		was_frozen = new.frozen;
		freeze = false;
		new.inuse -= cnt;
		if ((!new.inuse || !prior) && !was_frozen) {
			if (s->cpu_partial && !prior && cpu_attached()) {
				/*
				 * A full slab gets its first free: freeze it onto
				 * our chain, and put the objects on its local list
				 * rather than its freelist (so they stay counted
				 * in inuse), which spares the compare-and-swap
				 * that taking them back off the freelist would cost.
				 */
				freeze = true;
				new.frozen = 1;
				new.inuse += cnt;
			} else {
				n = get_node(s, page_to_nid(slab));
				spin_lock(&n->list_lock);
			}
		}
	} while (!cmpxchg_double_slab(slab, prior, old.counters, freeze ? prior : head,
				      new.counters));

	if (!n) {
		if (freeze) {
			/* an unfrozen slab's local list is empty; tail ends in NULL */
			slab->private = (unsigned long)head;
			put_cpu_partial(s, slab, true);
		}
		return;
	}
	if (!new.inuse && n->nr_partial >= s->min_partial) {
		if (prior)
			remove_partial(n, slab);
		spin_unlock(&n->list_lock);
		discard_slab(s, slab);
		return;
	}
	if (!prior)
		add_partial(n, slab);
	spin_unlock(&n->list_lock);
}

/*
 * lookup_slab - the slab of @x, or NULL after a report if @x cannot be a
 * slab object.  Frees of kmalloc_large blocks are told apart by the caller.
 */
static struct page *lookup_slab(const void *x, const char *who)
{
	struct page *page;

	if (!addr_in_arena(x)) {
		free_err(who, x, "outside every slab arena");
		return NULL;
	}
	if (page_index(x) < ARENA_META_PAGES) {
		free_err(who, x, "inside an arena's struct page array");
		return NULL;
	}
	page = virt_to_head_page(x);
	if (!(page->flags & PG_slab)) {
		bad_page(x, page, "kfree of a page that is not a slab");
		return NULL;
	}
	return page;
}

/*
 * check_live_object - whether @x is the start of an object of @slab that
 * is not already free; reports (kernel wording) if not.
 */
static bool check_live_object(struct kmem_cache *s, struct page *slab, const void *x)
{
	uintptr_t base = (uintptr_t)slab_address(slab);
	size_t span = (size_t)slab->objects * s->size;
	uintptr_t off = (uintptr_t)x - base;

	if (unlikely(off >= span || !is_object_offset(s, off))) {
		slab_bug(s, slab, "Invalid object pointer", "%p is not the start of an object", x);
		return false;
	}
	if (unlikely(object_looks_free(s, x, base, span))) {
		object_err(s, slab, x, "Object already free");
		return false;
	}
	return true;
}

/*
 * slab_free_slow - a free that is not into this slot's cpu slab: check
 * everything the fast path's range check proved, then __slab_free().
 */
noinline void slab_free_slow(struct kmem_cache *s, void *x, struct page *slab)
{
	if (!slab) {
		if (unlikely(!x))
			return;
		slab = lookup_slab(x, "kmem_cache_free");
		if (!slab)
			return;
	}
	if (unlikely(s && slab->slab_cache != s)) {
		pr_err("kmem_cache_free: Wrong slab cache. %s but object is from %s\n",
		       s->name, slab->slab_cache->name);
		uslab_count_error();
	}
	s = slab->slab_cache;
	if (!check_live_object(s, slab, x))
		return;
	if (slab_owned_by_me(slab)) {
		slab_push_local(s, slab, x);
		return;
	}
	__slab_free(s, slab, x, x, 1);
}

noinline void report_fast_free(struct kmem_cache *s, void *x, bool double_free)
{
	struct page *slab = cpu_slot(s)->slab;

	if (double_free)
		object_err(s, slab, x, "Object already free");
	else
		slab_bug(s, slab, "Invalid object pointer", "%p is not the start of an object", x);
}

/* ------------------------------------------------------------- the API */

USLAB_API void *kmem_cache_alloc(struct kmem_cache *s, gfp_t gfp)
{
	return slab_alloc_node(s, gfp, NUMA_NO_NODE);
}

USLAB_API void *kmem_cache_alloc_node(struct kmem_cache *s, gfp_t gfp, int node)
{
	if (node != NUMA_NO_NODE && (node < 0 || node >= nr_node_ids))
		node = NUMA_NO_NODE;
	return slab_alloc_node(s, gfp, node);
}

USLAB_API void kmem_cache_free(struct kmem_cache *s, void *x)
{
	/* NULL fails the range check and is let go on the slow path. */
	slab_free(s, x);
}

USLAB_API int kmem_cache_alloc_bulk(struct kmem_cache *s, gfp_t gfp, size_t size, void **p)
{
	struct kmem_cache_cpu *c;
	size_t i;

	if (!cpu_attached())
		cpu_attach();
	c = cpu_slot(s);
	for (i = 0; i < size; i++) {
		void *object = c->freelist;

		if (unlikely(!object)) {
			object = ___slab_alloc_any(s, gfp, NUMA_NO_NODE);
			if (unlikely(!object))
				goto error;
			c = cpu_slot(s);
		} else {
			c->freelist = get_freepointer(s, object);
		}
		clear_freepointer(s, object);
		p[i] = object;
	}
	if (unlikely(gfp & __GFP_ZERO))
		for (i = 0; i < size; i++)
			memset(p[i], 0, s->object_size);
	return (int)size;
error:
	kmem_cache_free_bulk(s, i, p);
	return 0;
}

USLAB_API void kmem_cache_free_bulk(struct kmem_cache *s, size_t size, void **p)
{
	for (size_t i = 0; i < size; i++) {
		if (s)
			kmem_cache_free(s, p[i]);
		else
			kfree(p[i]);
	}
}

/* ------------------------------------------------------------ kmalloc */

static noinline void *kmalloc_slow(size_t size, gfp_t gfp, int node)
{
	struct kmem_cache *s;

	if (size > KMALLOC_MAX_CACHE_SIZE)
		return kmalloc_large(size, gfp, node);
	if (!size)
		return ZERO_SIZE_PTR;
	kmem_cache_init();
	s = kmalloc_slab(size);
	return slab_alloc_node(s, gfp, node);
}

static __always_inline void *__do_kmalloc_node(size_t size, gfp_t gfp, int node)
{
	struct kmem_cache *s;

	if (unlikely(size - 1 >= KMALLOC_MAX_CACHE_SIZE))
		return kmalloc_slow(size, gfp, node);
	s = kmalloc_slab(size);
	if (unlikely(!s))
		return kmalloc_slow(size, gfp, node);
	return slab_alloc_node(s, gfp, node);
}

USLAB_API void *kmalloc(size_t size, gfp_t gfp)
{
	return __do_kmalloc_node(size, gfp, NUMA_NO_NODE);
}

USLAB_API void *kmalloc_node(size_t size, gfp_t gfp, int node)
{
	if (node != NUMA_NO_NODE && (node < 0 || node >= nr_node_ids))
		node = NUMA_NO_NODE;
	return __do_kmalloc_node(size, gfp, node);
}

noinline void kfree_slow(const void *x)
{
	struct page *page;

	if (ZERO_OR_NULL_PTR(x))
		return;
	if (!addr_in_arena(x)) {
		if (!large_unmap(x))
			free_err("kfree", x, "outside every slab arena");
		return;
	}
	if (page_index(x) < ARENA_META_PAGES) {
		free_err("kfree", x, "inside an arena's struct page array");
		return;
	}
	page = virt_to_head_page(x);
	if (page->flags & PG_slab) {
		slab_free_slow(page->slab_cache, (void *)x, page);
		return;
	}
	free_large_kmalloc(page, x);
}

USLAB_API void kfree(const void *x)
{
	kfree_inline(x);
}

/*
 * ksize_checked - the usable size of the allocated block at @x, for
 * callers about to reuse it (the shim's realloc): unlike ksize(), a
 * pointer that is not the start of a live block is reported in @who's
 * name, and 0 comes back if the report returns (a test hook).
 */
size_t ksize_checked(const void *x, const char *who)
{
	struct page *page;
	struct kmem_cache *s;
	size_t size;

	if (!addr_in_arena(x)) {
		size = large_size(x);
		if (!size)
			free_err(who, x, "outside every slab arena and every mapping of ours");
		return size;
	}
	if (page_index(x) < ARENA_META_PAGES) {
		free_err(who, x, "inside an arena's struct page array");
		return 0;
	}
	page = virt_to_head_page(x);
	if (page->flags & PG_slab) {
		s = page->slab_cache;
		return check_live_object(s, page, x) ? s->object_size : 0;
	}
	if ((page->flags & PG_large_kmalloc) && x == __page_address(page))
		return page->private << PAGE_SHIFT;
	bad_page(x, page, "not the start of an allocated kmalloc_large block");
	return 0;
}

size_t __ksize(const void *x)
{
	struct page *page;

	if (!addr_in_arena(x))
		return large_size(x);
	if (page_index(x) < ARENA_META_PAGES)
		return 0;
	page = virt_to_head_page(x);
	if (page->flags & PG_slab)
		return page->slab_cache->object_size;
	if ((page->flags & PG_large_kmalloc) && x == __page_address(page))
		return page->private << PAGE_SHIFT;
	return 0;
}

/* --------------------------------------------------- creating caches */

static unsigned int order_objects(unsigned int order, unsigned int size)
{
	return (unsigned int)((PAGE_SIZE << order) / size);
}

/*
 * calc_slab_order - the lowest order from min_order that holds
 * @min_objects and wastes at most 1/@fract_leftover of the slab.
 */
static unsigned int calc_slab_order(unsigned int size, unsigned int min_objects,
				    unsigned int max_order, unsigned int fract_leftover)
{
	unsigned int min_order = (unsigned int)uslab_opt(OPT_SLUB_MIN_ORDER);
	unsigned int order;

	if (order_objects(min_order, size) > MAX_OBJS_PER_PAGE)
		return get_order((size_t)size * MAX_OBJS_PER_PAGE) - 1;
	for (order = max_t(unsigned int, min_order, get_order((size_t)min_objects * size));
	     order <= max_order; order++) {
		unsigned long slab_size = PAGE_SIZE << order;
		unsigned long rem = slab_size % size;

		if (rem <= slab_size / fract_leftover)
			break;
	}
	return order;
}

/* calculate_order - SLUB's choice of slab order for objects of @size. */
static int calculate_order(unsigned int size)
{
	unsigned int max_order = (unsigned int)uslab_opt(OPT_SLUB_MAX_ORDER);
	unsigned int min_objects = (unsigned int)uslab_opt(OPT_SLUB_MIN_OBJECTS);
	unsigned int max_objects, order;

	if (!min_objects)
		min_objects = 4 * ((unsigned int)fls(os_nr_cpus()) + 1);
	max_objects = order_objects(max_order, size);
	min_objects = min_t(unsigned int, min_objects, max_objects);

	while (min_objects > 1) {
		for (unsigned int fraction = 16; fraction >= 4; fraction /= 2) {
			order = calc_slab_order(size, min_objects, max_order, fraction);
			if (order <= max_order)
				return (int)order;
		}
		min_objects--;
	}
	order = calc_slab_order(size, 1, max_order, 1);
	if (order <= max_order)
		return (int)order;
	order = calc_slab_order(size, 1, MAX_ORDER, 1);
	if (order <= MAX_ORDER)
		return (int)order;
	return -ENOSYS;
}

/* calculate_sizes - where the free pointer goes, the size, the order. */
static bool calculate_sizes(struct kmem_cache *s)
{
	unsigned int size = ALIGN(s->object_size, (unsigned int)sizeof(void *));
	int order;

	s->inuse = size;
	if ((s->flags & (SLAB_TYPESAFE_BY_RCU | SLAB_POISON)) || s->ctor) {
		/*
		 * The object must keep its contents while free (a constructed
		 * state, or readers under RCU): the pointer goes after it.
		 */
		s->offset = size;
		size += sizeof(void *);
	} else {
		/* Mid-object, away from the ends a small overflow would hit. */
		s->offset = ALIGN_DOWN(s->object_size / 2, (unsigned int)sizeof(void *));
	}
	size = ALIGN(size, s->align);
	s->size = size;
	order = calculate_order(size);
	if (order < 0)
		return false;
	s->oo = oo_make((unsigned int)order, size);
	s->min = oo_make(get_order(size), size);
	s->max = s->oo.x > s->min.x ? s->oo : s->min;
	return oo_objects(s->oo) > 0;
}

static void set_cpu_partial(struct kmem_cache *s)
{
	if (s->size >= PAGE_SIZE)
		s->cpu_partial = 2;
	else if (s->size >= 1024)
		s->cpu_partial = 6;
	else if (s->size >= 256)
		s->cpu_partial = 13;
	else
		s->cpu_partial = 30;
	/*
	 * The kernel's slub_set_cpu_partial() allows about twice that in
	 * slabs.  uslab allows more: a slab on the chain takes its owner's
	 * frees without atomics, and random frees over many small slabs
	 * otherwise freeze and unfreeze a slab per free or two (Larson: 27
	 * Mops with 8 slabs, 41 with 32).  The floor is up to 32 slabs, and no
	 * more than 512 KiB of slabs (128 pages) per cache per thread.
	 */
	s->cpu_partial_slabs = max_t(unsigned int,
				     clamp_t(unsigned int, 128u >> oo_order(s->oo), 8, 32),
				     DIV_ROUND_UP(s->cpu_partial * 2, oo_objects(s->oo)));
}

/*
 * early_kmem_cache_node_alloc - the first kmem_cache_node of a node, while
 * the kmem_cache_node cache itself is being made (slab_state DOWN): take
 * a fresh slab of that cache and use its first object for the node.
 */
static bool early_kmem_cache_node_alloc(int node)
{
	struct page *slab = allocate_slab(kmem_cache_node, GFP_NOWAIT, node);
	struct kmem_cache_node *n;

	if (!slab)
		return false;
	n = slab->freelist;
	slab->freelist = get_freepointer(kmem_cache_node, n);
	clear_freepointer(kmem_cache_node, n);
	slab->inuse = 1;
	slab->frozen = 0;
	init_kmem_cache_node(n);
	kmem_cache_node->node[page_to_nid(slab)] = n;
	inc_slabs_node(n, slab->objects);
	add_partial(n, slab);
	return true;
}

static void free_kmem_cache_nodes(struct kmem_cache *s)
{
	for (int node = 0; node < nr_node_ids; node++) {
		if (s->node[node])
			kmem_cache_free(kmem_cache_node, s->node[node]);
		s->node[node] = NULL;
	}
}

static bool init_kmem_cache_nodes(struct kmem_cache *s)
{
	for (int node = 0; node < nr_node_ids; node++) {
		struct kmem_cache_node *n;

		if (slab_state == DOWN) {
			if (!early_kmem_cache_node_alloc(node))
				return false;
			continue;
		}
		n = kmem_cache_alloc_node(kmem_cache_node, GFP_KERNEL, node);
		if (!n)
			return false;
		init_kmem_cache_node(n);
		s->node[node] = n;
	}
	return true;
}

int __kmem_cache_create(struct kmem_cache *s, slab_flags_t flags)
{
	int slot;

	s->flags = flags;
	/* Bit 56 set: a cleared free pointer never decodes to an address. */
	s->random = (uintptr_t)os_random() | (uintptr_t)1 << 56;
	if (!calculate_sizes(s))
		return -EINVAL;
	s->reciprocal_size = ((1ULL << RECIPROCAL_SHIFT) + s->size - 1) / s->size;
	s->divisor_magic = UINT64_MAX / s->size + 1;
	s->min_partial = min_t(unsigned long, 10, max_t(unsigned long, 5, ilog2(s->size) / 2));
	set_cpu_partial(s);

	slot = cpu_slot_alloc();
	if (slot < 0) {
		pr_err("SLUB: %s: all %d cpu slots are in use; destroy a cache first\n",
		       s->name, CPU_SLOTS_MAX - 1);
		return -ENOSPC;
	}
	s->cpu_id = (unsigned int)slot;
	s->cpu_offset = (unsigned int)slot * CPU_SLOT_SIZE;
	if (!init_kmem_cache_nodes(s)) {
		free_kmem_cache_nodes(s);
		cpu_slot_free(slot);
		return -ENOMEM;
	}
	return 0;
}

struct kmem_cache *__kmem_cache_alias(const char *name, unsigned int size,
				      unsigned int align, slab_flags_t flags,
				      void (*ctor)(void *))
{
	struct kmem_cache *s = find_mergeable(size, align, flags, name, ctor);

	if (s) {
		s->refcount++;
		s->object_size = max_t(unsigned int, s->object_size, size);
		s->inuse = max_t(unsigned int, s->inuse, ALIGN(size, (unsigned int)sizeof(void *)));
	}
	return s;
}

/* ------------------------------------------- shrinking and destroying */

/* Free every empty slab on the node lists; returns slabs still in use. */
static long free_partial_empty(struct kmem_cache *s)
{
	long remaining = 0;

	for (int node = 0; node < nr_node_ids; node++) {
		struct kmem_cache_node *n = get_node(s, node);
		struct page *slab, *tmp, *discard = NULL;

		spin_lock(&n->list_lock);
		list_for_each_entry_safe(slab, tmp, &n->partial, lru) {
			if (!slab->inuse) {
				remove_partial(n, slab);
				slab->next = discard;
				discard = slab;
			}
		}
		spin_unlock(&n->list_lock);
		while (discard) {
			slab = discard;
			discard = slab->next;
			discard_slab(s, slab);
		}
		remaining += __atomic_load_n(&n->nr_slabs, __ATOMIC_RELAXED);
	}
	return remaining;
}

int __kmem_cache_shrink(struct kmem_cache *s)
{
	__atomic_add_fetch(&s->flush_gen, 1, __ATOMIC_RELAXED);
	if (cpu_attached()) {
		struct kmem_cache_cpu *c = cpu_slot(s);

		flush_slot(s, c);
		c->gen = READ_ONCE(s->flush_gen);
	}
	free_partial_empty(s);
	return 0;
}

/* List the objects still allocated in a partial slab (as list_slab_objects). */
static void list_slab_objects(struct kmem_cache *s, struct page *slab)
{
	unsigned long map[MAX_OBJS_PER_PAGE / 64 + 1];
	char *start = slab_address(slab);
	unsigned int shown = 0;

	memset(map, 0, sizeof(map));
	for (void *p = slab->freelist; p; p = get_freepointer(s, p)) {
		uintptr_t idx = obj_index(s, (uintptr_t)p - (uintptr_t)start);

		if (idx >= slab->objects)
			break;
		map[idx / 64] |= 1UL << (idx % 64);
	}
	for (unsigned int i = 0; i < slab->objects && shown < 16; i++) {
		if (map[i / 64] & (1UL << (i % 64)))
			continue;
		pr_err("Object %p @offset=%u\n", start + (size_t)i * s->size, i * s->size);
		shown++;
	}
}

int __kmem_cache_shutdown(struct kmem_cache *s)
{
	long remaining;

	cpu_for_each_area(flush_area_slot, s);
	remaining = free_partial_empty(s);
	if (!remaining)
		return 0;

	for (int node = 0; node < nr_node_ids; node++) {
		struct kmem_cache_node *n = get_node(s, node);
		struct page *slab;

		spin_lock(&n->list_lock);
		list_for_each_entry(slab, &n->partial, lru) {
			slab_report_header(s, "Objects remaining in %s on __kmem_cache_shutdown()", s->name);
			slab_report_slab(slab);
			list_slab_objects(s, slab);
		}
		spin_unlock(&n->list_lock);
	}
	pr_err("%s: %ld slab(s) with objects in use remain\n", s->name, remaining);
	uslab_count_error();
	return -EBUSY;
}

void __kmem_cache_release(struct kmem_cache *s)
{
	free_kmem_cache_nodes(s);
	cpu_slot_free((int)s->cpu_id);
}

/* ------------------------------------------------------------- bootstrap */

/*
 * bootstrap - move a cache that lives in static storage into an object of
 * kmem_cache, and point its slabs at the copy.  The slot's cpu slab is
 * flushed first, so every slab is on a node list (the boot caches hold a
 * handful of objects: none of their slabs is full).
 */
static struct kmem_cache *bootstrap(struct kmem_cache *static_cache)
{
	struct kmem_cache *s = kmem_cache_zalloc(kmem_cache, GFP_NOWAIT);

	if (!s)
		uslab_panic("SLUB: cannot allocate the %s cache while bootstrapping\n",
			    static_cache->name);
	memcpy(s, static_cache, kmem_cache->object_size);
	if (cpu_attached())
		flush_slot(s, cpu_slot(s));
	for (int node = 0; node < nr_node_ids; node++) {
		struct kmem_cache_node *n = get_node(s, node);
		struct page *slab;

		list_for_each_entry(slab, &n->partial, lru)
			slab->slab_cache = s;
	}
	list_add(&s->list, &slab_caches);
	return s;
}

void __kmem_cache_init(void)
{
	static struct kmem_cache boot_kmem_cache, boot_kmem_cache_node;

	cpu_init(slab_flush_area);
	kmem_cache_node = &boot_kmem_cache_node;
	kmem_cache = &boot_kmem_cache;

	create_boot_cache(kmem_cache_node, "kmem_cache_node",
			  sizeof(struct kmem_cache_node), SLAB_HWCACHE_ALIGN);
	slab_state = PARTIAL;
	create_boot_cache(kmem_cache, "kmem_cache",
			  (unsigned int)(offsetof(struct kmem_cache, node) +
					 (size_t)nr_node_ids * sizeof(struct kmem_cache_node *)),
			  SLAB_HWCACHE_ALIGN);
	kmem_cache = bootstrap(&boot_kmem_cache);
	kmem_cache_node = bootstrap(&boot_kmem_cache_node);
}

/* ----------------------------------------------------------- slabinfo */

void get_slabinfo(struct kmem_cache *s, struct slabinfo *sinfo)
{
	unsigned long nr_slabs = 0, nr_objs = 0, nr_free = 0;

	for (int node = 0; node < nr_node_ids; node++) {
		struct kmem_cache_node *n = get_node(s, node);
		struct page *slab;

		nr_slabs += (unsigned long)__atomic_load_n(&n->nr_slabs, __ATOMIC_RELAXED);
		nr_objs += (unsigned long)__atomic_load_n(&n->total_objects, __ATOMIC_RELAXED);
		spin_lock(&n->list_lock);
		list_for_each_entry(slab, &n->partial, lru)
			nr_free += slab->objects - slab->inuse;
		spin_unlock(&n->list_lock);
	}
	memset(sinfo, 0, sizeof(*sinfo));
	sinfo->active_objs = nr_objs - nr_free;
	sinfo->num_objs = nr_objs;
	sinfo->active_slabs = nr_slabs;
	sinfo->num_slabs = nr_slabs;
	sinfo->objects_per_slab = oo_objects(s->oo);
	sinfo->cache_order = oo_order(s->oo);
}

/* ---------------------------------------------------------------- fork */

void slab_fork_prepare(void)
{
	struct kmem_cache *s;

	list_for_each_entry(s, &slab_caches, list)
		for (int node = 0; node < nr_node_ids; node++)
			spin_lock(&get_node(s, node)->list_lock);
}

void slab_fork_parent(void)
{
	struct kmem_cache *s;

	list_for_each_entry(s, &slab_caches, list)
		for (int node = 0; node < nr_node_ids; node++)
			spin_unlock(&get_node(s, node)->list_lock);
}

void slab_fork_child(void)
{
	slab_fork_parent();
}
