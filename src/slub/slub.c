// SPDX-License-Identifier: MIT
/*
 * slub.c - SLUB: the unqueued slab allocator (after Linux mm/slub.c).
 *
 * 1. Slabs.  A slab is a block of 2^order pages from the buddy allocator
 *    cut into objects of s->size bytes.  A free object holds, at
 *    s->offset, a pointer to the next free object; the pointer is stored
 *    hardened (ptr ^ s->random ^ swab(its own address)) so that a stray
 *    write or a use-after-free cannot aim the allocator at chosen memory.
 *    The slab's head page, seen as SLUB's struct slab (slub_def.h),
 *    carries its freelist and counters (inuse, objects, frozen), changed
 *    together by one 16-byte compare-and-swap.
 *
 * 2. Sheaves, then slab states.  In front of the slabs each slot keeps
 *    arrays of free objects, the sheaves, which the fast paths pop and
 *    push (section "Sheaves" below); they are refilled from, and flushed
 *    to, the slabs, whose states are these:
 *    - cpu slab: frozen, owned by one cpu slot (a thread, cpu.h).  The
 *      owner allocates from c->freelist without atomics; the slab's own
 *      freelist collects frees from other threads, and the owner takes it
 *      (get_freelist) when c->freelist runs dry.
 *    - cpu partial: frozen, on a slot's c->partial chain; becomes the cpu
 *      slab when that runs out.  A thread that frees into a full slab
 *      freezes it onto its own chain (no lock); when the chain holds more
 *      than cpu_partial free objects it is unfrozen onto the node lists.
 *    - node partial: not frozen, on n->partial under n->list_lock.
 *    - full: not frozen, on no list; the first free into it makes it
 *      partial again.
 *    - empty: on n->partial while the node keeps fewer than min_partial
 *      partial slabs; else kept, not frozen, on n->empty with its
 *      freelist built while the node's adaptive bound allows ("Empty
 *      slabs" below); else freed to the buddy allocator.
 *    - isolated: frozen and owned by nobody, after a corrupt freechain
 *      (isolate_cpu_slab): never allocated from again.
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
 * 4. Flushing.  The kernel flushes other CPUs with IPIs.  Here a slot
 *    (its sheaves, then its cpu slab and chain) is flushed by its owner:
 *    at thread exit, on kmem_cache_shrink() for the caller's own slot,
 *    and on any slow path that sees the cache's flush_gen move on
 *    (slot_catch_up).  kmem_cache_destroy() flushes every thread's slot
 *    directly, since the API promises nobody uses a cache being destroyed.
 *
 * 5. Cheap checks, on in every build (their cost is in docs/checks.md):
 *    a free of an address that is not the start of an object, into the
 *    wrong cache, or of an object that is already free (its free-pointer
 *    word says so, however many frees came between, from any thread, in
 *    a sheaf or on a freelist: slub_fast.h); every object leaving a sheaf
 *    must still carry its free mark (sheaf_mark_ok), or it is reported and
 *    left out; every free pointer popped off a cpu freelist must be NULL
 *    or an object of the cpu slab (freeptr_ok), or the slab is isolated;
 *    and free lists walked whole are cut at a bad link (freelist_tail).
 *    Pointers that are no slab object at all are told apart by the page
 *    allocator's classifier (classify_ptr) in slab_common.
 *
 * 6. slab_debug.  A cache with debug flags (USLAB_SLAB_DEBUG, or its
 *    creator's SLAB_RED_ZONE and the rest) gets the kernel's layout
 *    (calculate_sizes: red zones, the free pointer after the object,
 *    tracks, the kmalloc size) and only the slow paths: one object at a
 *    time under list_lock, checked on the way out and back in by
 *    slub_debug.c, with full slabs on n->full ("slab_debug slow paths"
 *    below).  Its reports count and never abort.
 */
#define _GNU_SOURCE
#define SLUB_INTERNAL	/* slub_def.h: slub_debug.c's functions */
#include "slub_fast.h"
#include "../debug.h"
#include "../slab_debug.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

static struct kmem_cache *kmem_cache_node;

/* ------------------------------------------------------------- reports */

/*
 * The cheap checks' reports (section 5 above), BUG-class: they abort
 * unless a test hook counts them.  slab_debug's reports, which count and
 * go on, are slub_debug.c's slab_err and object_err.
 */

/* slab_bug - a BUG-class report about @slab: banner, slab, @fmt, trace. */
static __cold __attribute__((format(printf, 4, 5)))
void slab_bug(struct kmem_cache *s, struct slab *slab, const char *title, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	slab_report_banner(s ? s->name : "slab", title);
	print_slab(slab);
	va_start(ap, fmt);
	uslab_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	pr_err("%s\n\n", line);
	dump_stack();
	uslab_bug_end(title);
}

/* object_bug - a BUG-class report about one object of @slab. */
static __cold void object_bug(struct kmem_cache *s, struct slab *slab, const void *object,
			      const char *reason)
{
	uintptr_t off = slab ? (uintptr_t)object - (uintptr_t)slab_address(slab) : 0;

	slab_report_banner(s ? s->name : "slab", reason);
	print_slab(slab);
	pr_err("Object %p @offset=%lu\n\n", object, (unsigned long)off);
	dump_stack();
	uslab_bug_end(reason);
}

static inline struct kmem_cache_node *get_node(const struct kmem_cache *s, int node)
{
	return slub_cache(s)->node[node];
}

/* ------------------------------------------------ freelist + counters */

static inline bool cmpxchg_double_slab(struct slab *slab, void *old_fl, unsigned long old_c,
				       void *new_fl, unsigned long new_c)
{
	__uint128_t old = (__uint128_t)old_c << 64 | (uintptr_t)old_fl;
	__uint128_t new = (__uint128_t)new_c << 64 | (uintptr_t)new_fl;

	if (likely(__sync_bool_compare_and_swap(&slab->freelist_counters, old, new)))
		return true;
	stat(slab->slab_cache, CMPXCHG_DOUBLE_FAIL);
	return false;
}

static inline void slab_snapshot(struct slab *slab, void **fl, union slab_counters *c)
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
	INIT_LIST_HEAD(&n->full);
	INIT_LIST_HEAD(&n->barn_full);
	INIT_LIST_HEAD(&n->barn_empty);
	n->nr_barn_full = 0;
	n->nr_barn_empty = 0;
	INIT_LIST_HEAD(&n->empty);
	n->nr_empty = 0;
	n->empty_max = 0;
	n->empty_churn = 0;
	n->empty_stamp = 0;
}

static inline void add_partial(struct kmem_cache_node *n, struct slab *slab)
{
	VM_BUG_ON(slab->frozen);
	n->nr_partial++;
	list_add_tail(&slab->slab_list, &n->partial);
}

static inline void remove_partial(struct kmem_cache_node *n, struct slab *slab)
{
	VM_BUG_ON(!n->nr_partial);
	list_del(&slab->slab_list);
	n->nr_partial--;
}

/*
 * A slab_debug cache's full slabs are on n->full, so that validation and
 * shutdown reach every slab (the kernel keeps the list with 'U' only).
 */
static inline void add_full(struct kmem_cache_node *n, struct slab *slab)
{
	list_add_tail(&slab->slab_list, &n->full);
}

static inline void remove_full(struct slab *slab)
{
	list_del(&slab->slab_list);
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

/* ------------------------------------------------ freelist randomisation */

/*
 * CONFIG_SLAB_FREELIST_RANDOM: each cache gets a random permutation of
 * its object indices when it is set up (random_seq), and each new slab
 * links its free objects in that order from a random starting point, so
 * the order in which objects are handed out cannot be guessed from their
 * addresses.  The sequence is kmalloc'd, so the caches made before the
 * kmalloc caches get theirs in init_late.  Option slab_freelist_random.
 */
static __thread uint64_t slub_rand_state __attribute__((tls_model("initial-exec")));

static uint64_t slub_rand(void)
{
	uint64_t x = slub_rand_state;

	if (unlikely(!x))
		x = os_random() | 1;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	slub_rand_state = x;
	return x;
}

static void init_cache_random_seq(struct kmem_cache *s)
{
	struct slub_cache *sc = slub_cache(s);
	unsigned int count = oo_objects(sc->oo);
	unsigned int *seq;

	if (!uslab_opt(OPT_SLAB_FREELIST_RANDOM) || count < 2 || sc->random_seq)
		return;
	seq = kmalloc_array(count, sizeof(*seq), GFP_KERNEL | __GFP_NOWARN);
	if (!seq)
		return;		/* linear freelists: correct, only less random */
	for (unsigned int i = 0; i < count; i++)
		seq[i] = i;
	for (unsigned int i = count - 1; i > 0; i--) {	/* Fisher-Yates */
		unsigned int j = (unsigned int)(slub_rand() % (i + 1)), t = seq[i];

		seq[i] = seq[j];
		seq[j] = t;
	}
	sc->random_seq = seq;
}

/*
 * shuffle_freelist - link a new slab's @objects objects in the cache's
 * random order, starting anywhere in it (a slab of the fallback order has
 * fewer objects: indices past the end are skipped).  Constructors run
 * first, in address order.  False if the cache has no sequence.
 */
static bool shuffle_freelist(struct kmem_cache *s, struct slab *slab, char *start,
			     unsigned int objects)
{
	const unsigned int *seq = slub_cache(s)->random_seq;
	unsigned int count = oo_objects(slub_cache(s)->oo), pos, linked = 0;
	void *prev = NULL;

	if (!seq || objects < 2)
		return false;
	if (s->ctor)
		for (unsigned int i = 0; i < objects; i++)
			s->ctor(start + (size_t)i * s->size);
	pos = (unsigned int)(slub_rand() % count);
	for (unsigned int n = 0; n < count && linked < objects; n++) {
		unsigned int idx = seq[(pos + n) % count];
		void *p;

		if (idx >= objects)
			continue;
		p = start + (size_t)idx * s->size;
		if (prev)
			set_freepointer(s, prev, p);
		else
			slab->freelist = p;
		prev = p;
		linked++;
	}
	set_freepointer(s, prev, NULL);
	return true;
}

/*
 * allocate_slab - a new slab, frozen, with every object on its freelist
 * (which the caller takes) and inuse == objects.  The constructor runs
 * here, once per object per slab, never on allocation.
 */
static bool reclaim_kept_slabs(void);

static struct slab *allocate_slab(struct kmem_cache *s, gfp_t gfp, int node)
{
	struct kmem_cache_order_objects oo = slub_cache(s)->oo;
	struct page *page;
	struct slab *slab;
	unsigned int order, objects;
	char *start, *p;

	page = __alloc_pages(node, gfp, oo_order(oo), NULL);
	if (unlikely(!page) && oo.x != slub_cache(s)->min.x) {
		oo = slub_cache(s)->min;
		page = __alloc_pages(node, gfp, oo_order(oo), NULL);
		if (page)
			stat(s, ORDER_FALLBACK);
	}
	/* Memory is short (page_limit_mb, the address space): kept empty slabs go first. */
	if (unlikely(!page) && reclaim_kept_slabs())
		page = __alloc_pages(node, gfp, oo_order(oo), NULL);
	if (unlikely(!page))
		return NULL;
	stat(s, ALLOC_SLAB);

	order = oo_order(oo);
	objects = oo_objects(oo);
	/*
	 * Tail pages say "slab" and name the cache and the order too, so
	 * that a free finds the cache and the slab's first byte (a slab is
	 * aligned to its size) from any page of the slab (slub_free), and
	 * compound_head() finds struct slab by masking, with no branch.
	 */
	for (unsigned long i = 1; i < (1UL << order); i++) {
		page[i].flags = PG_tail | PG_slab;
		page[i].slab_cache = s;
		page[i].order = order;
	}
	slab = page_slab(page);
	slab->__page_flags = PG_head | PG_slab;
	slab->slab_cache = s;
	slab->counters = 0;
	slab->objects = objects;
	slab->inuse = objects;
	slab->frozen = 1;
	slab->local_free = 0;
	slab->local_count = 0;

	start = (char *)slab_obj_base(s, slab);
	if (unlikely(kmem_cache_debug(s)))
		setup_slab_debug(s, slab);
	if (shuffle_freelist(s, slab, start, objects))
		goto done;
	for (unsigned int i = 0; i < objects; i++) {
		p = start + (size_t)i * s->size;
		if (s->ctor)
			s->ctor(p);
		set_freepointer(s, p, i + 1 < objects ? p + s->size : NULL);
	}
	slab->freelist = start;
done:
	/* A debug cache counts its slab under list_lock, as it lists it (slab_alloc_debug). */
	if (likely(get_node(s, slab_nid(slab))) && !kmem_cache_debug(s))
		inc_slabs_node(get_node(s, slab_nid(slab)), objects);
	return slab;
}

static void __free_slab(struct slab *slab)
{
	struct page *page = slab_page(slab);
	unsigned int order = slab_order(slab);

	for (unsigned long i = 1; i < (1UL << order); i++) {
		page[i].flags = 0;
		page[i].slab_cache = NULL;
		page[i].order = 0;
	}
	slab->freelist = NULL;
	slab->counters = 0;
	slab->local_free = 0;
	slab->local_count = 0;
	page->slab_cache = NULL;
	page->flags = PG_head;
	__free_pages_ok(page, order);
}

/* free_slab - give back a slab already off every list and count. */
static void free_slab(struct kmem_cache *s, struct slab *slab)
{
	stat(s, FREE_SLAB);
	if (unlikely(s->flags & SLAB_CONSISTENCY_CHECKS))
		free_slab_debug(s, slab);
	__free_slab(slab);
}

static void discard_slab(struct kmem_cache *s, struct slab *slab)
{
	dec_slabs_node(get_node(s, slab_nid(slab)), slab->objects);
	free_slab(s, slab);
}

/* --------------------------------------------------------- empty slabs */

/*
 * Empty slabs.  The kernel keeps min_partial slabs on a node's partial
 * list, empty or not, and gives every other slab that empties back to
 * the page allocator; a program that frees a batch and allocates it again
 * then rebuilds every slab's freelist, and every page goes through the
 * buddy lists both ways.  Here a node also keeps up to empty_max empty
 * slabs, freelists built, on n->empty, for the next allocation that needs
 * a slab (get_partial_node takes them after the partial slabs).  The
 * bound adapts as the page allocator's retention does (page_alloc.c):
 * it is 0 while nothing churns; each new slab the node allocates while
 * slabs it gave back (empty_churn) are unaccounted for raises it by one,
 * up to empty_limit (slub_empty_max_kb of slabs); once it has not risen
 * for page_decay_ms, the next use of the node's lists (a slab emptying,
 * get_partial_node) halves it and the churn count and gives back the
 * kept slabs over it (empty_decay).  A slab that empties over the bound
 * is given back.  kmem_cache_shrink(), uslab_trim() and a slab allocation
 * the page allocator refuses (reclaim_kept_slabs) give every kept slab
 * back and reset the bound.  Debug caches keep none (their slabs take the
 * kernel's paths).
 */
/*
 * empty_decay - under n->list_lock: if the bound of @n has not risen for
 * page_decay_ms, halve it (and what counts as churn), and take the kept
 * slabs over it, oldest first, off the list onto *@discard (linked
 * through slab->next), for the caller to give back after unlock
 * (discard_slabs).
 */
static void empty_decay(struct kmem_cache_node *n, struct slab **discard)
{
	uint64_t now;

	if (!n->empty_max && !n->nr_empty)
		return;
	now = os_coarse_ns();
	if (now - n->empty_stamp < (uint64_t)uslab_opt(OPT_PAGE_DECAY_MS) * 1000000ull)
		return;
	n->empty_max /= 2;
	n->empty_stamp = now;
	__atomic_store_n(&n->empty_churn, __atomic_load_n(&n->empty_churn, __ATOMIC_RELAXED) / 2,
			 __ATOMIC_RELAXED);
	while (n->nr_empty > n->empty_max) {
		struct slab *slab = list_last_entry(&n->empty, struct slab, slab_list);

		list_del(&slab->slab_list);
		n->nr_empty--;
		slab->next = *discard;
		*discard = slab;
	}
}

/* discard_slabs - give back a chain of slabs off every list (empty_decay). */
static void discard_slabs(struct kmem_cache *s, struct slab *chain)
{
	while (chain) {
		struct slab *slab = chain;

		chain = slab->next;
		discard_slab(s, slab);
	}
}

/*
 * keep_empty_slab - @slab (of @n, unfrozen, on no list, under
 * n->list_lock) has just emptied past min_partial: keep it on n->empty if
 * the bound allows.  What the caller gives back after unlock
 * (discard_slabs) goes onto *@discard: @slab if it is not kept, and what
 * a due decay took off.
 */
static void keep_empty_slab(struct kmem_cache *s, struct kmem_cache_node *n,
			    struct slab *slab, struct slab **discard)
{
	empty_decay(n, discard);
	if (n->nr_empty < n->empty_max) {
		list_add(&slab->slab_list, &n->empty);
		n->nr_empty++;
		stat(s, EMPTY_KEEP);
		return;
	}
	if (slub_cache(s)->empty_limit &&
	    __atomic_load_n(&n->empty_churn, __ATOMIC_RELAXED) < slub_cache(s)->empty_limit)
		__atomic_add_fetch(&n->empty_churn, 1, __ATOMIC_RELAXED);
	slab->next = *discard;
	*discard = slab;
}

/*
 * empty_refault - the node is about to allocate a new slab: if it gave
 * empty slabs back lately, let it keep one more next time.
 */
static void empty_refault(struct kmem_cache *s, struct kmem_cache_node *n)
{
	unsigned long churn = __atomic_load_n(&n->empty_churn, __ATOMIC_RELAXED);

	if (!churn || !__atomic_compare_exchange_n(&n->empty_churn, &churn, churn - 1, false,
						   __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;
	spin_lock(&n->list_lock);
	if (n->empty_max < slub_cache(s)->empty_limit)
		n->empty_max++;
	n->empty_stamp = os_coarse_ns();
	spin_unlock(&n->list_lock);
}

/* take_empty_slab - a kept empty slab of @n, off its list (under list_lock), or NULL. */
static struct slab *take_empty_slab(struct kmem_cache_node *n)
{
	struct slab *slab;

	if (list_empty(&n->empty))
		return NULL;
	slab = list_first_entry(&n->empty, struct slab, slab_list);
	list_del(&slab->slab_list);
	n->nr_empty--;
	return slab;
}

/*
 * release_empty_slabs - give back every kept empty slab of @n and reset
 * its bound; the slabs are counted off under the lock and freed after.
 */
static void release_empty_slabs(struct kmem_cache *s, struct kmem_cache_node *n)
{
	struct slab *slab, *discard = NULL;

	spin_lock(&n->list_lock);
	while ((slab = take_empty_slab(n))) {
		dec_slabs_node(n, slab->objects);
		slab->next = discard;
		discard = slab;
	}
	n->empty_max = 0;
	__atomic_store_n(&n->empty_churn, 0, __ATOMIC_RELAXED);
	spin_unlock(&n->list_lock);
	while (discard) {
		slab = discard;
		discard = slab->next;
		free_slab(s, slab);
	}
}

/*
 * reclaim_kept_slabs - a slab could not be had: give back every cache's
 * kept empty slabs (and reset their bounds), so that the pages go where
 * they are needed; whether there were any.  Skipped when slab_mutex is
 * held (by this thread, creating a cache, or by another): then the
 * allocation fails as it would have.  allocate_slab's callers hold no
 * list_lock.
 */
static bool reclaim_kept_slabs(void)
{
	struct kmem_cache *s;
	bool any = false;

	if (pthread_mutex_trylock(&slab_mutex))
		return false;
	list_for_each_entry(s, &slab_caches, list) {
		for (int node = 0; node < nr_node_ids; node++) {
			struct kmem_cache_node *n = get_node(s, node);

			if (n && READ_ONCE(n->nr_empty)) {
				release_empty_slabs(s, n);
				any = true;
			}
		}
	}
	pthread_mutex_unlock(&slab_mutex);
	return any;
}

/* ---------------------------------------------------------- cpu slots */

static inline struct kmem_cache_cpu *area_slot(char *area, const struct kmem_cache *s)
{
	return (struct kmem_cache_cpu *)(area + s->cpu_offset);
}

/* What slub_get_info counts over the threads' areas. */
struct kmem_cache_info_walk {
	struct kmem_cache *s;
	unsigned long cpu_slabs;
};

/*
 * Owner-local frees.  A frozen slab names the cpu area of the thread that
 * froze it (slab->owner).  When that thread frees an object of such a
 * slab that is not its cpu slab (a cpu partial slab, most often), it
 * pushes the object on the slab's local freelist (slab->local_free) without
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
static inline bool slab_owned_by_me(const struct slab *slab)
{
	return __atomic_load_n(&slab->owner, __ATOMIC_RELAXED) == (void *)uslab_cpu_area;
}

static inline void set_slab_owner(struct slab *slab, void *area)
{
	__atomic_store_n(&slab->owner, area, __ATOMIC_RELAXED);
}

/*
 * freelist_tail - the last object of the free list at @head in @slab, and
 * how many objects it links (*@count).  A link that is not an object of
 * @slab (the object was written after it was freed), or one link too
 * many (a loop), ends the list there with a report, counted and not
 * fatal: the objects past it stay counted as in use, never handed out.
 */
static void *freelist_tail(struct kmem_cache *s, struct slab *slab, void *head,
			   unsigned int *count)
{
	uintptr_t base = slab_obj_base(s, slab);
	size_t span = (size_t)slab->objects * s->size;
	unsigned int n = 0;
	void *p = head;

	*count = 0;
	if (!p)
		return NULL;
	for (;;) {
		uintptr_t next = (uintptr_t)get_freepointer(s, p);

		n++;
		if (!next)
			break;
		if (unlikely(!is_object_in(s, base, span, next) || n >= slab->objects)) {
			slab_report_banner(s->name, "Freechain corrupt");
			print_slab(slab);
			pr_err("Object %p @offset=%lu: its free pointer decodes to %p, not an object of this slab\n",
			       p, (unsigned long)((uintptr_t)p - base), (void *)next);
			pr_err("FIX %s: Isolate corrupted freechain: the objects past it are not handed out again\n\n",
			       s->name);
			dump_stack();
			uslab_count_error();
			set_freepointer(s, p, NULL);
			break;
		}
		p = (void *)next;
	}
	*count = n;
	return p;
}

/*
 * The local list keeps its length and the index of its last object, so
 * that it moves as a whole (onto the cpu freelist, or spliced in front of
 * the slab's freelist when the slab is unfrozen) in one step, without a
 * walk (the "cheaper slab life cycle").  The last object's word
 * always decodes to NULL; take_local_list checks that, and walks the list
 * (freelist_tail, which reports and cuts a bad link) only if it does not.
 * Other links broken by a write after free are found when the objects
 * are next handed out (freeptr_ok) or validated, as on any freelist.
 *
 * Only the owner changes the list, but a fork() may snapshot it half
 * changed, and the child flushes the slabs of threads that did not
 * survive: the stores are ordered so that such a snapshot can only leave
 * an object out of the list while it is counted in use (a leak), never
 * count or link an object the list does not hold.
 */
static inline void *local_list_tail(const struct kmem_cache *s, const struct slab *slab)
{
	return (void *)(slab_obj_base(s, slab) + (uintptr_t)slab->local_tail * s->size);
}

/* local_list_set - make @head .. @tail (@cnt objects, @tail's word NULL) the local list. */
static inline void local_list_set(const struct kmem_cache *s, struct slab *slab, void *head,
				  void *tail, unsigned int cnt)
{
	slab->local_count = (unsigned short)cnt;
	slab->local_tail = (unsigned short)obj_index(s, (uintptr_t)tail - slab_obj_base(s, slab));
	__atomic_signal_fence(__ATOMIC_RELEASE);	/* length and tail before the head */
	slab->local_free = (unsigned long)head;
}

/*
 * local_list_add - put @head .. @tail (@cnt objects, linked) in front of
 * the slab's local list.
 */
static inline void local_list_add(const struct kmem_cache *s, struct slab *slab, void *head,
				  void *tail, unsigned int cnt)
{
	if (!slab->local_free) {
		set_freepointer(s, tail, NULL);
		local_list_set(s, slab, head, tail, cnt);
		return;
	}
	set_freepointer(s, tail, (void *)slab->local_free);
	__atomic_signal_fence(__ATOMIC_RELEASE);	/* the link before the head */
	slab->local_free = (unsigned long)head;
	__atomic_signal_fence(__ATOMIC_RELEASE);	/* the head before the length */
	slab->local_count += (unsigned short)cnt;
}

static inline void local_list_clear(struct slab *slab)
{
	slab->local_free = 0;
	slab->local_count = 0;
	slab->local_tail = 0;
}

/*
 * slab_push_local - free @x onto the local list of @slab, which this
 * thread has frozen (Owner-local frees above): plain stores only.
 */
static inline void slab_push_local(const struct kmem_cache *s, struct slab *slab, void *x)
{
	local_list_add(s, slab, x, x, 1);
}

/*
 * take_local_list - the slab's local freelist (ending in NULL), its last
 * object (*@tail) and its length (*@count); the slab's local list is left
 * empty.
 */
static void *take_local_list(struct kmem_cache *s, struct slab *slab, void **tail,
			     unsigned int *count)
{
	void *local = (void *)slab->local_free;

	*tail = NULL;
	*count = 0;
	if (!local)
		return NULL;
	*tail = local_list_tail(s, slab);
	*count = slab->local_count;
	if (unlikely(get_freepointer(s, *tail)))	/* written after it was freed */
		*tail = freelist_tail(s, slab, local, count);
	local_list_clear(slab);
	return local;
}

static inline void set_cpu_slab(struct kmem_cache *s, struct kmem_cache_cpu *c,
				struct slab *slab)
{
	set_slab_owner(slab, uslab_cpu_area);
	c->slab = slab;
	c->base = slab_obj_base(s, slab);
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
static void deactivate_slab(struct kmem_cache *s, struct slab *slab, void *freelist)
{
	struct kmem_cache_node *n = get_node(s, slab_nid(slab));
	union slab_counters old, new;
	void *tail, *old_fl, *new_fl, *local, *local_tail;
	unsigned int count, local_count;

	VM_BUG_ON(!slab->frozen);
	set_slab_owner(slab, NULL);
	/* the cpu freelist has no count: walk it; the local list has one */
	tail = freelist_tail(s, slab, freelist, &count);
	local = take_local_list(s, slab, &local_tail, &local_count);
	if (local) {
		set_freepointer(s, local_tail, freelist);
		if (!tail)
			tail = local_tail;
		freelist = local;
		count += local_count;
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

	if (old_fl)
		stat(s, DEACTIVATE_REMOTE_FREES);
	if (!new.inuse && n->nr_partial >= slub_cache(s)->min_partial) {
		struct slab *discard = NULL;

		keep_empty_slab(s, n, slab, &discard);
		spin_unlock(&n->list_lock);
		stat(s, DEACTIVATE_EMPTY);
		discard_slabs(s, discard);
		return;
	}
	if (new_fl) {
		add_partial(n, slab);
		stat(s, DEACTIVATE_TO_TAIL);
	} else {
		stat(s, DEACTIVATE_FULL);
	}
	spin_unlock(&n->list_lock);
}

/* unfreeze_partials - move a slot's cpu partial chain to the node lists. */
static void unfreeze_partials(struct kmem_cache *s, struct kmem_cache_cpu *c)
{
	struct kmem_cache_node *n = NULL, *n2;
	struct slab *slab, *discard = NULL;

	c->partial_slabs = 0;
	c->partial_objects = 0;
	while ((slab = c->partial)) {
		union slab_counters old, new;
		void *fl, *local, *tail;
		unsigned int count;

		c->partial = slab->next;
		set_slab_owner(slab, NULL);
		local = take_local_list(s, slab, &tail, &count);
		n2 = get_node(s, slab_nid(slab));
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

		if (!new.inuse && n->nr_partial >= slub_cache(s)->min_partial)
			keep_empty_slab(s, n, slab, &discard);
		else if (tail || fl)
			add_partial(n, slab);
		/* else full: on no list until a free refiles it */
	}
	if (n)
		spin_unlock(&n->list_lock);
	discard_slabs(s, discard);
}

/*
 * put_cpu_partial - add a frozen slab to this thread's cpu partial chain;
 * with @drain, first unfreeze the chain if it already holds enough.
 */
static void put_cpu_partial(struct kmem_cache *s, struct slab *slab, bool drain)
{
	struct kmem_cache_cpu *c = cpu_slot(s);

	if (drain && c->partial &&
	    (c->partial_objects > (int)slub_cache(s)->cpu_partial ||
	     c->partial_slabs >= slub_cache(s)->cpu_partial_slabs)) {
		unfreeze_partials(s, c);
		stat(s, CPU_PARTIAL_DRAIN);
	}
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

/* flush_cpu_slab - give back the slot's cpu slab and cpu partial chain. */
static void flush_cpu_slab(struct kmem_cache *s, struct kmem_cache_cpu *c)
{
	if (c->slab) {
		struct slab *slab = c->slab;
		void *freelist = c->freelist;

		clear_cpu_slab(c);
		stat(s, CPUSLAB_FLUSH);
		deactivate_slab(s, slab, freelist);
	}
	if (c->partial)
		unfreeze_partials(s, c);
}

static void flush_slot(struct kmem_cache *s, struct kmem_cache_cpu *c);
static bool flush_sheaves(struct kmem_cache *s, struct kmem_cache_cpu *c);

/*
 * Flush every cache's slot in @area (an exiting or vanished thread):
 * every sheaf first, since giving back a sheaf frees an object of the
 * slub_sheaf cache (and its objects may freeze slabs onto our own
 * chain), then every cpu slab and chain.
 */
static void slub_flush_area(char *area)
{
	struct kmem_cache *s;

	pthread_mutex_lock(&slab_mutex);
	list_for_each_entry(s, &slab_caches, list)
		flush_sheaves(s, area_slot(area, s));
	list_for_each_entry(s, &slab_caches, list)
		flush_cpu_slab(s, area_slot(area, s));
	pthread_mutex_unlock(&slab_mutex);
}

static void flush_area_slot(char *area, void *arg)
{
	struct kmem_cache *s = arg;

	flush_slot(s, area_slot(area, s));
}

static void flush_area_sheaves(char *area, void *arg)
{
	struct kmem_cache *s = arg;

	flush_sheaves(s, area_slot(area, s));
}

/* ------------------------------------------------------- the slow path */

/* get_freelist - take the cpu slab's remotely freed objects. */
static void *get_freelist(struct kmem_cache *s, struct slab *slab)
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
static void *acquire_slab(struct kmem_cache_node *n, struct slab *slab,
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

/* freeze_empty_slab - freeze a kept empty slab (off every list) and take its freelist. */
static void *freeze_empty_slab(struct slab *slab)
{
	union slab_counters old, new;
	void *fl;

	do {
		slab_snapshot(slab, &fl, &old);
		new.counters = old.counters;
		new.inuse = old.objects;
		new.frozen = 1;
	} while (!cmpxchg_double_slab(slab, fl, old.counters, NULL, new.counters));
	return fl;
}

static void *get_partial_node(struct kmem_cache *s, struct kmem_cache_node *n,
			      struct kmem_cache_cpu *c)
{
	struct slab *slab, *tmp, *discard = NULL;
	void *object = NULL;
	unsigned int available = 0, avail;

	if (!n || (!READ_ONCE(n->nr_partial) && !READ_ONCE(n->nr_empty)))
		return NULL;
	spin_lock(&n->list_lock);
	list_for_each_entry_safe(slab, tmp, &n->partial, slab_list) {
		void *t = acquire_slab(n, slab, object == NULL, &avail);

		if (!object) {
			set_cpu_slab(s, c, slab);
			object = t;
			stat(s, ALLOC_FROM_PARTIAL);
		} else {
			put_cpu_partial(s, slab, false);
			stat(s, CPU_PARTIAL_NODE);
		}
		available += avail;
		if (!slub_cache(s)->cpu_partial || available > slub_cache(s)->cpu_partial / 2)
			break;
	}
	/* a program that runs from partial slabs empties none: kept ones decay here too */
	empty_decay(n, &discard);
	if (!object && (slab = take_empty_slab(n))) {
		object = freeze_empty_slab(slab);
		set_cpu_slab(s, c, slab);
		stat(s, EMPTY_REUSE);
	}
	spin_unlock(&n->list_lock);
	discard_slabs(s, discard);
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
	static struct ratelimit_state slub_oom_rs;

	if (gfp & __GFP_NOFAIL)
		uslab_panic("SLUB: Unable to allocate memory on node %d, gfp=%#x (__GFP_NOFAIL)\n"
			    "  cache: %s, object size: %u, buffer size: %u\n",
			    node, gfp, s->name, s->object_size, s->size);
	if (!(gfp & __GFP_NOWARN) && __ratelimit(&slub_oom_rs, "slab_out_of_memory")) {
		pr_warn("SLUB: Unable to allocate memory on node %d, gfp=%#x\n", node, gfp);
		pr_warn("  cache: %s, object size: %u, buffer size: %u, default order: %u, min order: %u\n",
			s->name, s->object_size, s->size, oo_order(slub_cache(s)->oo), oo_order(slub_cache(s)->min));
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
	struct slab *slab;
	void *object;

	spin_lock(&n->list_lock);
	if (!list_empty(&n->partial)) {
		union slab_counters old, new;
		void *next;

		slab = list_first_entry(&n->partial, struct slab, slab_list);
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
	n = get_node(s, slab_nid(slab));
	spin_lock(&n->list_lock);
	if (slab->freelist)
		add_partial(n, slab);
	spin_unlock(&n->list_lock);
	return object;
}

/* ------------------------------------------------- slab_debug slow paths */

/*
 * A cache with slab_debug flags never takes the fast paths, as in the
 * kernel: its cpu slot never gets a cpu slab, a freelist or a span, so
 * slub_alloc_node() always falls to __slab_alloc(), and slub_free()'s
 * range check and owner-local tier always miss (its slabs are never
 * frozen, so no slab names an owner).  Every allocation takes one object
 * under the node's list_lock, every free gives one back under it, and
 * the checks of slub_debug.c run on each; all changes to a debug slab's
 * freelist and counters are made under list_lock, with plain stores.
 * Slabs are on n->partial or n->full; a slab that failed a check on
 * allocation is isolated (frozen, owned by nobody, on no list), as the
 * kernel does.
 */

/* @slab's inuse and freelist as trace() prints them: a racy look, for the log only. */
static void trace_slab(struct kmem_cache *s, struct slab *slab, void *object, bool alloc)
{
	union slab_counters c;

	c.counters = READ_ONCE(slab->counters);
	trace(s, object, alloc, c.inuse, READ_ONCE(slab->freelist));
}

/* Take @slab (failed alloc_debug_processing) off its list: nothing is allocated from it again. */
static void isolate_debug_slab(struct kmem_cache_node *n, struct slab *slab, bool on_partial)
{
	if (on_partial)
		remove_partial(n, slab);
	slab->next = NULL;
	set_slab_owner(slab, NULL);
}

/* The kernel's alloc_single_from_partial: one object of a node partial slab, under list_lock. */
static void *alloc_single_from_partial(struct kmem_cache *s, struct kmem_cache_node *n,
				       struct slab *slab)
{
	void *object = slab->freelist;
	void *next = get_freepointer(s, object);

	if (!alloc_debug_processing(s, slab, object, next)) {
		isolate_debug_slab(n, slab, true);
		return NULL;
	}
	slab->freelist = next;
	slab->inuse++;
	if (slab->inuse == slab->objects) {
		remove_partial(n, slab);
		add_full(n, slab);
	}
	return object;
}

/* The kernel's alloc_single_from_new_slab: the first object of @slab, then list it. */
static void *alloc_single_from_new_slab(struct kmem_cache *s, struct slab *slab)
{
	struct kmem_cache_node *n = get_node(s, slab_nid(slab));
	void *object = slab->freelist;
	void *next = get_freepointer(s, object);

	/* allocate_slab made it frozen and full: nobody else sees it yet. */
	slab->frozen = 0;
	slab->inuse = 0;
	if (!alloc_debug_processing(s, slab, object, next)) {
		/* only a write into the new slab from elsewhere gets here; it is left alone */
		set_slab_owner(slab, NULL);
		return NULL;
	}
	slab->freelist = next;
	slab->inuse = 1;
	spin_lock(&n->list_lock);
	if (next)
		add_partial(n, slab);
	else
		add_full(n, slab);
	inc_slabs_node(n, slab->objects);
	spin_unlock(&n->list_lock);
	return object;
}

/*
 * slab_alloc_debug - ___slab_alloc for a slab_debug cache: an object of a
 * node partial slab (this node's first, then the others', unless @node is
 * asked for), else of a new slab.  @slabp gets the slab, for trace().
 */
static void *slab_alloc_debug_object(struct kmem_cache *s, gfp_t gfp, int node,
				     struct slab **slabp)
{
	int searchnode = node == NUMA_NO_NODE ? numa_node_id() : node;
	void *object;

	for (;;) {
		for (int i = 0; i < nr_node_ids; i++) {
			int nid = (searchnode + i) % nr_node_ids;
			struct kmem_cache_node *n = get_node(s, nid);
			struct slab *slab, *tmp;

			if (i && node != NUMA_NO_NODE)
				break;
			if (!n || !READ_ONCE(n->nr_partial))
				continue;
			spin_lock(&n->list_lock);
			list_for_each_entry_safe(slab, tmp, &n->partial, slab_list) {
				object = alloc_single_from_partial(s, n, slab);
				if (object) {
					*slabp = slab;
					spin_unlock(&n->list_lock);
					return object;
				}
			}
			spin_unlock(&n->list_lock);
		}
		*slabp = allocate_slab(s, gfp, node);
		if (unlikely(!*slabp))
			return slab_out_of_memory(s, gfp, node);
		object = alloc_single_from_new_slab(s, *slabp);
		if (object)
			return object;
	}
}

static noinline void *slab_alloc_debug(struct kmem_cache *s, gfp_t gfp, int node)
{
	struct slab *slab = NULL;
	void *object = slab_alloc_debug_object(s, gfp, node, &slab);

	if (unlikely(!object))
		return NULL;
	if (s->flags & SLAB_STORE_USER) {
		struct track t;

		/* Outside list_lock: the call trace may take the loader's lock. */
		set_track(&t);
		set_alloc_track(s, object, &t);
	}
	if (s->flags & SLAB_TRACE)
		trace_slab(s, slab, object, true);
	return object;
}

/*
 * slab_free_debug - the kernel's free_to_partial_list: @x goes back to
 * @slab under list_lock, once free_debug_processing has passed it; the
 * slab moves from the full list to the partial list, or back to the page
 * allocator when it is empty and the node keeps enough partial slabs.
 */
static noinline void slab_free_debug(struct kmem_cache *s, struct slab *slab, void *x)
{
	struct kmem_cache_node *n = get_node(s, slab_nid(slab));
	bool discard = false;
	struct track t;

	if (s->flags & SLAB_STORE_USER)
		set_track(&t);
	if (s->flags & SLAB_TRACE)
		trace_slab(s, slab, x, false);
	stat(s, FREE_SLOWPATH);
	spin_lock(&n->list_lock);
	if (free_debug_processing(s, slab, x, &t)) {
		void *prior = slab->freelist;

		set_freepointer(s, x, prior);
		slab->freelist = x;
		slab->inuse--;
		discard = !slab->inuse && n->nr_partial >= slub_cache(s)->min_partial;
		if (!prior) {
			remove_full(slab);
			if (!discard) {
				add_partial(n, slab);
				stat(s, FREE_ADD_PARTIAL);
			}
		} else if (discard) {
			remove_partial(n, slab);
			stat(s, FREE_REMOVE_PARTIAL);
		}
		if (discard)
			dec_slabs_node(n, slab->objects);
	}
	spin_unlock(&n->list_lock);
	if (discard)
		free_slab(s, slab);
}

/*
 * isolate_cpu_slab - @object, about to be popped off the cpu freelist,
 * holds a free pointer that is neither NULL nor an object of the cpu slab
 * (freeptr_ok).  As the kernel's slab_debug does with a corrupt
 * freechain, report it and isolate: the cpu freelist and the slab's local
 * list are dropped (their objects stay counted as in use, so they are
 * never handed out again), and the slab leaves the slot still frozen but
 * owned by nobody, so that nothing allocates from it again; frees into it
 * still work and are simply kept.  Not fatal: the program goes on.
 */
static noinline __cold void isolate_cpu_slab(struct kmem_cache *s, struct kmem_cache_cpu *c,
					     void *object)
{
	struct slab *slab = c->slab;
	void *fp = get_freepointer(s, object);

	slab_report_banner(s->name, "Freechain corrupt");
	print_slab(slab);
	pr_err("Object %p @offset=%lu: its free pointer decodes to %p, not an object of this slab\n",
	       object, (unsigned long)((uintptr_t)object - c->base), fp);
	pr_err("(written after it was freed, overflowed into by its neighbour, or freed twice at once)\n");
	pr_err("FIX %s: Isolate corrupted freechain: the slab's free objects are not handed out again\n\n",
	       s->name);
	dump_stack();
	uslab_count_error();
	set_slab_owner(slab, NULL);
	local_list_clear(slab);
	clear_cpu_slab(c);
}

/*
 * ___slab_alloc - the slow path: the slot's freelist is empty (or the
 * caller wants another node).  Refill from the cpu slab's remote frees,
 * then the cpu partial chain, then the node partial lists, then a new slab.
 */
static void *___slab_alloc(struct kmem_cache *s, gfp_t gfp, int node,
			   struct kmem_cache_cpu *c)
{
	struct slab *slab;
	void *freelist, *local_tail;
	unsigned int local_count;

	slab = c->slab;
	if (!slab)
		goto new_slab;
	if (unlikely(node != NUMA_NO_NODE && slab_nid(slab) != node)) {
		stat(s, ALLOC_NODE_MISMATCH);
		flush_cpu_slab(s, c);
		goto new_slab;
	}
	freelist = c->freelist;
	if (freelist)
		goto load_freelist;
	freelist = take_local_list(s, slab, &local_tail, &local_count);
	if (freelist) {
		stat(s, ALLOC_REFILL);
		goto load_freelist;
	}
	if (c->partial && !READ_ONCE(slab->freelist) &&
	    c->partial_slabs + 1 < slub_cache(s)->cpu_partial_slabs) {
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
		stat(s, DEACTIVATE_BYPASS);
		goto new_slab;
	}
	set_slab_owner(slab, NULL);
	freelist = get_freelist(s, slab);
	if (!freelist) {
		/* The slab is full and unfrozen now; the next free refiles it. */
		clear_cpu_slab(c);
		stat(s, DEACTIVATE_BYPASS);
		goto new_slab;
	}
	stat(s, ALLOC_REFILL);
	set_slab_owner(slab, uslab_cpu_area);
load_freelist:
	if (unlikely(!freeptr_ok(s, c, (uintptr_t)get_freepointer(s, freelist)))) {
		isolate_cpu_slab(s, c, freelist);
		goto new_slab;
	}
	c->freelist = get_freepointer(s, freelist);
	return freelist;

new_slab:
	while (c->partial && (node == NUMA_NO_NODE || slab_nid(c->partial) == node)) {
		slab = c->partial;
		c->partial = slab->next;
		c->partial_slabs--;
		c->partial_objects = max_t(int, 0, c->partial_objects -
					   (int)(slab->objects - slab->inuse));
		freelist = take_local_list(s, slab, &local_tail, &local_count);
		if (!freelist) {
			set_slab_owner(slab, NULL);
			freelist = get_freelist(s, slab);
			if (!freelist)
				continue;	/* full, and now unfrozen */
		}
		set_cpu_slab(s, c, slab);
		stat(s, CPU_PARTIAL_ALLOC);
		goto load_freelist;
	}
	freelist = get_partial(s, node, c);
	if (freelist)
		goto load_freelist;

	empty_refault(s, get_node(s, node == NUMA_NO_NODE ? numa_node_id() : node));
	slab = allocate_slab(s, gfp, node);
	if (unlikely(!slab))
		return slab_out_of_memory(s, gfp, node);
	freelist = slab->freelist;
	slab->freelist = NULL;
	set_cpu_slab(s, c, slab);
	goto load_freelist;
}

/* slab_alloc_cpu - one object off the cpu slab, or from what lies behind it. */
static inline void *slab_alloc_cpu(struct kmem_cache *s, gfp_t gfp, int node,
				   struct kmem_cache_cpu *c)
{
	void *object = c->freelist;

	if (object && (node == NUMA_NO_NODE || (c->slab && slab_nid(c->slab) == node))) {
		uintptr_t next = (uintptr_t)get_freepointer(s, object);

		if (likely(freeptr_ok(s, c, next))) {
			c->freelist = (void *)next;
			return object;
		}
		isolate_cpu_slab(s, c, object);
	}
	return ___slab_alloc(s, gfp, node, c);
}

static void __slab_free(struct kmem_cache *s, struct slab *slab, void *head,
			void *tail, unsigned int cnt);

/* ------------------------------------------------------------- sheaves */

/*
 * Sheaves (Linux 6.18's per-CPU sheaves in mm/slub.c; per thread here,
 * as the rest of the cpu layer).  In front of the cpu slab each slot
 * keeps a main and a spare sheaf, arrays of up to sheaf_capacity free
 * objects, and the fast paths only pop and push the main one
 * (slub_fast.h).  When it runs empty (allocation) or full (free), the
 * slow path swaps in the spare if that can serve; else trades with the
 * node's barn (a few full and empty sheaves under list_lock, for any
 * thread of the node); else refills the main sheaf from the cpu slab
 * (sheaf_refill) or flushes it to the slabs (sheaf_flush).  Slabs,
 * partial lists and frozen slabs are so touched in batches, and a thread
 * that frees as much as it allocates recycles objects through its
 * sheaves without reaching a slab.
 *
 * What uslab keeps that the kernel's sheaves give up: every object in a
 * sheaf is marked free in its free-pointer word (it encodes NULL), so a
 * second free of it is caught (object_looks_free) whichever sheaf holds
 * it; the mark is checked when the object leaves (sheaf_mark_ok); and a
 * pointer that is not an object of the cache never gets in.
 *
 * Memory in sheaves is bounded: two per slot and cache, and
 * MAX_BARN_FULL full plus MAX_BARN_EMPTY empty ones per barn.  It goes
 * back when the thread exits (flush_area), on kmem_cache_shrink() and
 * uslab_trim() (the caller's at once, other threads' on their next slow
 * path through flush_gen) and on destroy.  A slab_debug cache has no
 * sheaves (its objects take only the slow paths), nor a cache whose
 * objects are so large that fewer than SHEAF_MIN_OBJECTS fit in
 * SHEAF_MAX_BYTES, nor any with the slub_sheaf_capacity option at 0.
 * The sheaves themselves are objects of the slub_sheaf cache, which has
 * none.  Only the slot reaches its sheaves, so a per-CPU owner (rseq)
 * could hold them as it would hold the cpu slab.
 */
#define MAX_BARN_FULL		10
#define MAX_BARN_EMPTY		10
#define SHEAF_MAX_BYTES		(64u << 10)
#define SHEAF_MIN_OBJECTS	4
#define SHEAF_FIRST_REFILL	8

static struct kmem_cache *sheaf_cache;

static unsigned int sheaf_capacity_for(const struct kmem_cache *s)
{
	unsigned int fit = SHEAF_MAX_BYTES / s->size;

	if (!sheaf_cache || s == sheaf_cache || kmem_cache_debug(s) || fit < SHEAF_MIN_OBJECTS)
		return 0;
	return min_t(unsigned int, fit, (unsigned int)uslab_opt(OPT_SLUB_SHEAF_CAPACITY));
}

static struct slab_sheaf *sheaf_new(struct kmem_cache *s)
{
	struct slab_sheaf *sh = __slab_alloc(sheaf_cache, GFP_NOWAIT | __GFP_NOWARN, NUMA_NO_NODE);

	if (!sh)
		return NULL;
	sh->size = 0;
	sh->capacity = slub_cache(s)->sheaf_capacity;
	stat(s, SHEAF_ALLOC);
	return sh;
}

static void sheaf_free(struct kmem_cache *s, struct slab_sheaf *sh)
{
	stat(s, SHEAF_FREE);
	slab_free_slow(sheaf_cache, sh, NULL);
}

/* The main sheaf's size and capacity, which the slot keeps as pointers. */
static inline unsigned int sheaf_size(const struct kmem_cache_cpu *c)
{
	return (unsigned int)(c->sheaf_top - c->sheaf_objects);
}

static inline void sheaf_set_size(struct kmem_cache_cpu *c, unsigned int n)
{
	c->sheaf_top = c->sheaf_objects + n;
}

static inline unsigned int sheaf_capacity(const struct kmem_cache_cpu *c)
{
	return (unsigned int)(c->sheaf_end - c->sheaf_objects);
}

/* Make @sh the slot's main sheaf (its array and size copied into the slot). */
static inline void sheaf_load(struct kmem_cache_cpu *c, struct slab_sheaf *sh)
{
	c->main = sh;
	c->sheaf_objects = sh->objects;
	c->sheaf_end = sh->objects + sh->capacity;
	sheaf_set_size(c, sh->size);
}

/* A sheaf from @n's barn, full or empty; NULL if there is none. */
static struct slab_sheaf *barn_take(struct kmem_cache_node *n, bool full)
{
	struct list_head *list = full ? &n->barn_full : &n->barn_empty;
	unsigned int *nr = full ? &n->nr_barn_full : &n->nr_barn_empty;
	struct slab_sheaf *sh = NULL;

	if (!READ_ONCE(*nr))
		return NULL;
	spin_lock(&n->list_lock);
	if (!list_empty(list)) {
		sh = list_first_entry(list, struct slab_sheaf, barn_list);
		list_del(&sh->barn_list);
		(*nr)--;
	}
	spin_unlock(&n->list_lock);
	return sh;
}

/* Put @sh in @n's barn; false if there is no room for it. */
static bool barn_give(struct kmem_cache_node *n, struct slab_sheaf *sh, bool full)
{
	unsigned int *nr = full ? &n->nr_barn_full : &n->nr_barn_empty;
	bool ok = false;

	if (READ_ONCE(*nr) >= (full ? MAX_BARN_FULL : MAX_BARN_EMPTY))
		return false;
	spin_lock(&n->list_lock);
	if (*nr < (full ? MAX_BARN_FULL : MAX_BARN_EMPTY)) {
		list_add(&sh->barn_list, full ? &n->barn_full : &n->barn_empty);
		(*nr)++;
		ok = true;
	}
	spin_unlock(&n->list_lock);
	return ok;
}

static inline struct kmem_cache_node *barn_node(const struct kmem_cache *s)
{
	return get_node(s, numa_node_id());
}

static void sheaf_mark_report(struct kmem_cache *s, void *object);

/*
 * sheaf_flush - give @cnt objects of a sheaf back to their slabs.  Each
 * was checked when it entered the sheaf.  An object of the calling
 * thread's cpu slab goes back onto the cpu freelist.  The others are
 * grouped by slab, looking a few entries ahead (the kernel's
 * build_detached_freelist() does so too): a slab is aligned to its size,
 * so "same slab" is one range check.  A group goes onto the local list
 * of a slab this thread has frozen with plain stores, or into any other
 * slab with one compare-and-swap.  @objs is clobbered.
 */
static void sheaf_flush(struct kmem_cache *s, void **objs, unsigned int cnt)
{
	struct kmem_cache_cpu *c = cpu_slot(s);	/* the dummy slot matches nothing */
	const uintptr_t random = s->random;

	stat_add(s, SHEAF_FLUSH, cnt);
	for (unsigned int i = 0; i < cnt; i++) {
		void *x = objs[i], *head = x;
		uintptr_t base, bytes, addr, mask;
		struct page *page;
		struct slab *slab;
		unsigned int nr = 1, misses = 0;

		if (!x)
			continue;
		/*
		 * Its mark gone: the object was written after it was freed, or
		 * it is in two sheaves (a double free that raced past the
		 * free-time check) and the other copy was handed out.  Leave it.
		 */
		if (unlikely(!sheaf_mark_ok(s, x))) {
			sheaf_mark_report(s, x);
			continue;
		}
		if ((uintptr_t)x - c->base < c->span) {
			set_freepointer(s, x, c->freelist);
			c->freelist = x;
			continue;
		}
		page = virt_to_head_page(x);
		slab = page_slab(page);
		bytes = PAGE_SIZE << page->order;
		base = (uintptr_t)x & ~(bytes - 1);
		for (unsigned int j = i + 1; j < cnt && misses < 3; j++) {
			void *y = objs[j];

			if (!y)
				continue;
			if ((uintptr_t)y - base >= bytes) {
				misses++;
				continue;
			}
			objs[j] = NULL;
			/* sheaf_mark_ok(), then set_freepointer(s, y, head), with one mask */
			addr = (uintptr_t)y + s->offset;
			mask = random ^ __builtin_bswap64(addr);
			if (unlikely(*(uintptr_t *)addr != mask)) {
				sheaf_mark_report(s, y);
				continue;
			}
			*(uintptr_t *)addr = (uintptr_t)head ^ mask;
			head = y;
			nr++;
		}
		if (!slab_owned_by_me(slab))
			__slab_free(s, slab, head, x, nr);
		else
			local_list_add(s, slab, head, x, nr);
	}
}

/*
 * sheaf_refill - fill the main sheaf from the cpu slab (and what lies
 * behind it); false if not one object could be had.  The sheaf is filled
 * from the top down, so that pops (which take the top first) hand the
 * objects out in the order the slabs gave them (address order in a fresh
 * slab), and a slab is used up before the next one is started.
 */
static bool sheaf_refill(struct kmem_cache *s, struct kmem_cache_cpu *c, gfp_t gfp)
{
	unsigned int first = sheaf_size(c), cap = sheaf_capacity(c), want, top;
	void **objs = c->sheaf_objects;

	/*
	 * A thread that allocates a few objects of a cache should not pull a
	 * whole sheaf's worth: the first refill takes SHEAF_FIRST_REFILL,
	 * each next one twice as many, up to the capacity.
	 */
	want = clamp_t(unsigned int, c->sheaf_refill, SHEAF_FIRST_REFILL, cap);
	c->sheaf_refill = min_t(unsigned int, want * 2, cap);
	want = min_t(unsigned int, cap, first + want);
	top = want;
	gfp &= ~__GFP_ZERO;
	while (top > first) {
		void *object = c->freelist;
		uintptr_t base = c->base, span = c->span;

		/* off the cpu freelist: each link checked (freeptr_ok), each object marked */
		while (object && top > first) {
			uintptr_t addr = (uintptr_t)object + s->offset;
			uintptr_t mask = freeptr_mask(s, addr), next = *(uintptr_t *)addr ^ mask;

			if (unlikely(!is_object_in(s, base, span, next) && next))
				break;
			*(uintptr_t *)addr = mask;	/* encodes NULL: the free mark */
			objs[--top] = object;
			object = (void *)next;
		}
		c->freelist = object;
		/*
		 * Stop at the end of the cpu slab's freelist once the sheaf has
		 * something, rather than take another slab to fill it up: a
		 * thread that allocates a few objects of many caches (or of
		 * many sizes one kmalloc class serves) should not hold two
		 * slabs of each; a slab of large objects holds fewer than a
		 * refill asks for.
		 */
		if (top == first || (top < want && !object))
			break;
		/* the slow path, which also isolates a slab whose link was bad */
		object = slab_alloc_cpu(s, gfp, NUMA_NO_NODE, c);
		if (!object)
			break;
		set_freepointer(s, object, NULL);
		objs[--top] = object;
		/* Past the first object a shortage is no failure: no warning, no panic. */
		gfp = (gfp | __GFP_NOWARN) & ~__GFP_NOFAIL;
	}
	/*
	 * A short refill: move what came down to the bottom.  By hand, not
	 * memmove(): a sheaf is a slab object, poisoned for ASan while the
	 * allocator owns it (sanitize.c), and ASan checks libc's copies.
	 */
	for (unsigned int i = first, j = top; top > first && j < want; i++, j++)
		objs[i] = objs[j];
	sheaf_set_size(c, first + (want - top));
	stat_add(s, SHEAF_REFILL, want - top);
	return want > top;
}

/* sheaf_setup - give the slot a main sheaf, empty; false if none can be had. */
static bool sheaf_setup(struct kmem_cache *s, struct kmem_cache_cpu *c)
{
	struct slab_sheaf *sh = barn_take(barn_node(s), false);

	if (!sh)
		sh = sheaf_new(s);
	if (!sh)
		return false;
	sh->size = 0;
	sheaf_load(c, sh);
	return true;
}

/*
 * sheaf_fill_main - the main sheaf is empty: swap in the spare if it has
 * objects, else trade it for a full sheaf of the barn, else refill it.
 * False if the slot has no sheaves and cannot have one, or no object
 * could be had.
 */
static bool sheaf_fill_main(struct kmem_cache *s, struct kmem_cache_cpu *c, gfp_t gfp)
{
	struct slab_sheaf *spare = c->spare, *full;
	struct kmem_cache_node *n;

	if (!c->main && !sheaf_setup(s, c))
		return false;
	c->main->size = sheaf_size(c);
	if (spare && spare->size) {
		c->spare = c->main;
		sheaf_load(c, spare);
		return true;
	}
	n = barn_node(s);
	full = barn_take(n, true);
	if (full) {
		stat(s, BARN_GET);
		if (!spare)
			c->spare = c->main;
		else if (!barn_give(n, c->main, false))
			sheaf_free(s, c->main);
		sheaf_load(c, full);
		return true;
	}
	stat(s, BARN_GET_FAIL);
	return sheaf_refill(s, c, gfp);
}

/*
 * sheaf_make_room - the main sheaf is full (or the slot has none yet):
 * swap in the spare if it is empty; else put the full sheaf aside (as
 * the spare, or in the barn) for an empty one; else flush it to the
 * slabs.  False only if the slot has no sheaves and cannot have one.
 */
static bool sheaf_make_room(struct kmem_cache *s, struct kmem_cache_cpu *c)
{
	struct slab_sheaf *spare = c->spare, *empty;
	struct kmem_cache_node *n;

	if (!c->main)
		return sheaf_setup(s, c);
	c->main->size = sheaf_size(c);
	if (spare && !spare->size) {
		c->spare = c->main;
		sheaf_load(c, spare);
		return true;
	}
	n = barn_node(s);
	if (!spare || READ_ONCE(n->nr_barn_full) < MAX_BARN_FULL) {
		empty = barn_take(n, false);
		if (!empty)
			empty = sheaf_new(s);
		if (empty) {
			empty->size = 0;
			if (!spare) {
				c->spare = c->main;
				sheaf_load(c, empty);
				return true;
			}
			if (barn_give(n, c->main, true)) {
				stat(s, BARN_PUT);
				sheaf_load(c, empty);
				return true;
			}
			if (!barn_give(n, empty, false))
				sheaf_free(s, empty);
		}
	}
	stat(s, BARN_PUT_FAIL);
	sheaf_flush(s, c->sheaf_objects, sheaf_size(c));
	sheaf_set_size(c, 0);
	return true;
}

/*
 * alloc_corrupt_sheaf - the object on top of the main sheaf has lost its
 * free mark (sheaf_mark_ok).  Report it and leave it out: it stays
 * counted as in use, so it is never handed out, and nothing it holds is
 * trusted.  Not fatal: the allocation goes on with the next object.
 */
static noinline __cold void sheaf_mark_report(struct kmem_cache *s, void *object)
{
	struct slab *slab = page_slab(virt_to_head_page(object));

	slab_report_banner(s->name, "Freechain corrupt");
	print_slab(slab);
	pr_err("Object %p @offset=%lu: its free mark was overwritten while it sat in a sheaf\n",
	       object, (unsigned long)((uintptr_t)object - (uintptr_t)slab_address(slab)));
	pr_err("(written after it was freed, overflowed into by its neighbour, or freed twice at once)\n");
	pr_err("FIX %s: Object at %p not handed out again: it stays allocated\n\n", s->name, object);
	dump_stack();
	uslab_count_error();
}

static void sheaf_drop_corrupt(struct kmem_cache *s, struct kmem_cache_cpu *c)
{
	sheaf_mark_report(s, *--c->sheaf_top);
}

noinline void *alloc_corrupt_sheaf(struct kmem_cache *s, gfp_t gfp, int node)
{
	sheaf_drop_corrupt(s, cpu_slot(s));
	return __slab_alloc(s, gfp, node);
}

/*
 * sheaf_alloc - an object off the main sheaf, filling it first if it is
 * empty; NULL if the slot cannot have sheaves now or no object could be
 * had (the caller then takes the cpu slab's path).
 */
static void *sheaf_alloc(struct kmem_cache *s, struct kmem_cache_cpu *c, gfp_t gfp)
{
	for (;;) {
		void *object;

		if (!sheaf_size(c) && !sheaf_fill_main(s, c, gfp))
			return NULL;
		object = c->sheaf_top[-1];
		if (likely(sheaf_mark_ok(s, object))) {
			c->sheaf_top--;
			return object;
		}
		sheaf_drop_corrupt(s, c);
	}
}

/* sheaves_free - the free of @x (checked) onto the main sheaf; false if the slot has none. */
static bool sheaves_free(struct kmem_cache *s, struct kmem_cache_cpu *c, void *x)
{
	if (c->sheaf_top >= c->sheaf_end && !sheaf_make_room(s, c))
		return false;
	set_freepointer(s, x, NULL);
	*c->sheaf_top++ = x;
	return true;
}

/*
 * flush_sheaves - give back everything in the slot's sheaves, and the
 * sheaves; whether there were any.
 */
static bool flush_sheaves(struct kmem_cache *s, struct kmem_cache_cpu *c)
{
	struct slab_sheaf *main = c->main, *spare = c->spare;
	unsigned int size = sheaf_size(c);
	bool busy = c->sheaf_busy;

	if (!main && !spare)
		return false;
	c->main = NULL;
	c->spare = NULL;
	c->sheaf_top = NULL;
	c->sheaf_objects = NULL;
	c->sheaf_end = NULL;
	c->sheaf_refill = 0;
	c->sheaf_busy = 0;
	if (unlikely(busy)) {
		/*
		 * A thread that did not survive fork(), caught changing its
		 * sheaves: they may be half swapped.  Leave what they hold
		 * (counted as in use; at most two sheaves' worth), rather
		 * than risk freeing an object twice.
		 */
		return false;
	}
	/*
	 * The slot forgets its sheaves before any object goes back: a fork
	 * in between must not see them in both the sheaves and the slabs.
	 */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (main) {
		sheaf_flush(s, main->objects, size);
		sheaf_free(s, main);
	}
	if (spare) {
		sheaf_flush(s, spare->objects, spare->size);
		sheaf_free(s, spare);
	}
	return true;
}

/* flush_barn - empty every node's barn into the slabs; whether there was anything. */
static bool flush_barn(struct kmem_cache *s)
{
	bool any = false;

	for (int node = 0; node < nr_node_ids; node++) {
		struct kmem_cache_node *n = get_node(s, node);
		struct slab_sheaf *sh, *tmp;
		struct list_head full, empty;

		if (!READ_ONCE(n->nr_barn_full) && !READ_ONCE(n->nr_barn_empty))
			continue;
		INIT_LIST_HEAD(&full);
		INIT_LIST_HEAD(&empty);
		spin_lock(&n->list_lock);
		while (!list_empty(&n->barn_full)) {
			sh = list_first_entry(&n->barn_full, struct slab_sheaf, barn_list);
			list_del(&sh->barn_list);
			list_add(&sh->barn_list, &full);
		}
		while (!list_empty(&n->barn_empty)) {
			sh = list_first_entry(&n->barn_empty, struct slab_sheaf, barn_list);
			list_del(&sh->barn_list);
			list_add(&sh->barn_list, &empty);
		}
		n->nr_barn_full = 0;
		n->nr_barn_empty = 0;
		spin_unlock(&n->list_lock);
		any = true;
		list_for_each_entry_safe(sh, tmp, &full, barn_list) {
			sheaf_flush(s, sh->objects, sh->size);
			sheaf_free(s, sh);
		}
		list_for_each_entry_safe(sh, tmp, &empty, barn_list)
			sheaf_free(s, sh);
	}
	return any;
}

/*
 * sheaf_begin / sheaf_end - around the slow paths' changes to a slot's
 * sheaves.  fork() may copy the memory of a thread that is halfway
 * through one (a swap stores main and spare, then the array pointers, in
 * several steps); the child flushes the slots of the threads that did not
 * survive, and must not trust one caught so (flush_sheaves).  The fast
 * paths need no mark: a push stores the object before the top pointer
 * that makes it part of the sheaf, and a pop moves the top down before
 * it clears the object's mark, so a copy taken in between leaks one
 * object at most, never frees one twice.
 */
static inline void sheaf_begin(struct kmem_cache_cpu *c)
{
	c->sheaf_busy = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static inline void sheaf_end(struct kmem_cache_cpu *c)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	c->sheaf_busy = 0;
}

/* flush_slot - give back a slot's sheaves, then its cpu slab and chain. */
static void flush_slot(struct kmem_cache *s, struct kmem_cache_cpu *c)
{
	flush_sheaves(s, c);
	flush_cpu_slab(s, c);
}

/* slot_catch_up - flush the slot if a shrink has asked every slot to (flush_gen). */
static inline void slot_catch_up(struct kmem_cache *s, struct kmem_cache_cpu *c)
{
	if (unlikely(c->gen != READ_ONCE(slub_cache(s)->flush_gen))) {
		flush_slot(s, c);
		c->gen = READ_ONCE(slub_cache(s)->flush_gen);
	}
}

static void *___slab_alloc_any(struct kmem_cache *s, gfp_t gfp, int node)
{
	struct kmem_cache_cpu *c;

	if (unlikely(!cpu_attached()) && cpu_attach())
		return alloc_single_nocpu(s, gfp, node);
	c = cpu_slot(s);
	slot_catch_up(s, c);
	if (node == NUMA_NO_NODE && slub_cache(s)->sheaf_capacity) {
		void *object;

		sheaf_begin(c);
		object = sheaf_alloc(s, c, gfp);
		sheaf_end(c);
		/* with sheaves, NULL means the slabs had nothing: do not try twice */
		if (object || c->main)
			return object;
	}
	return slab_alloc_cpu(s, gfp, node, c);
}

/*
 * __slab_alloc - everything the fast path leaves out: an empty slot, a
 * node to match, and zeroing (kept out so the fast path needs no frame).
 */
noinline void *__slab_alloc(struct kmem_cache *s, gfp_t gfp, int node)
{
	void *object;

	stat(s, ALLOC_SLOWPATH);
	if (unlikely(kmem_cache_debug(s)))
		object = slab_alloc_debug(s, gfp, node);
	else
		object = ___slab_alloc_any(s, gfp, node);

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
static void __slab_free(struct kmem_cache *s, struct slab *slab, void *head,
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
		/*
		 * The object is the freelist's head, or the slab has fewer
		 * objects in use than are being freed: a double free (two
		 * frees of one object that raced past the free-time check,
		 * from its owner and from another thread).  Leave the object
		 * alone: writing its free pointer would cut the list it is on.
		 */
		new.counters = old.counters;
		if (unlikely(prior == head || new.inuse < cnt)) {
			object_bug(s, slab, head, "Object already free");
			return;
		}
		set_freepointer(s, tail, prior);
		was_frozen = new.frozen;
		freeze = false;
		new.inuse -= cnt;
		if ((!new.inuse || !prior) && !was_frozen) {
			if (slub_cache(s)->cpu_partial && !prior && cpu_attached()) {
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
				n = get_node(s, slab_nid(slab));
				spin_lock(&n->list_lock);
			}
		}
	} while (!cmpxchg_double_slab(slab, prior, old.counters, freeze ? prior : head,
				      new.counters));

	if (!n) {
		if (freeze) {
			/* an unfrozen slab's local list is empty; tail ends in NULL */
			local_list_set(s, slab, head, tail, cnt);
			put_cpu_partial(s, slab, true);
			stat(s, CPU_PARTIAL_FREE);
		} else if (was_frozen) {
			stat(s, FREE_FROZEN);
		}
		return;
	}
	if (!new.inuse && n->nr_partial >= slub_cache(s)->min_partial) {
		struct slab *discard = NULL;

		if (prior) {
			remove_partial(n, slab);
			stat(s, FREE_REMOVE_PARTIAL);
		}
		keep_empty_slab(s, n, slab, &discard);
		spin_unlock(&n->list_lock);
		discard_slabs(s, discard);
		return;
	}
	if (!prior) {
		add_partial(n, slab);
		stat(s, FREE_ADD_PARTIAL);
	}
	spin_unlock(&n->list_lock);
}

/*
 * check_live_object - whether @x is the start of an object of @slab that
 * is not already free; reports (kernel wording) if not: BUG-class, or for
 * a slab_debug cache counted and not fatal, as its other reports.
 */
static bool check_live_object(struct kmem_cache *s, struct slab *slab, const void *x)
{
	uintptr_t base = slab_obj_base(s, slab);
	size_t span = (size_t)slab->objects * s->size;
	uintptr_t off = (uintptr_t)x - base;

	if (unlikely(off >= span || !is_object_offset(s, off))) {
		if (kmem_cache_debug(s))
			slab_err(s, slab, "Invalid object pointer %p", x);
		else
			slab_bug(s, slab, "Invalid object pointer", "%p is not the start of an object", x);
		return false;
	}
	if (unlikely(object_looks_free(s, x, base, span))) {
		if (kmem_cache_debug(s))
			object_err(s, slab, x, "Object already free");
		else
			object_bug(s, slab, x, "Object already free");
		return false;
	}
	return true;
}

/*
 * slab_free_slow - a free the fast path did not finish: the main sheaf
 * is full or the slot has none, or @page (any page of @x's slab, or
 * NULL) did not show @x to be in a slab of @s.  Check everything, then
 * the sheaves, or the slab: its owner's local list, or __slab_free().
 */
noinline void slab_free_slow(struct kmem_cache *s, void *x, struct page *page)
{
	struct slab *slab;

	if (page && (page->flags & PG_slab))
		page = compound_head(page);
	else if (!(page = kmem_cache_free_lookup(x)))
		return;
	slab = page_slab(page);
	s = cache_from_obj(s, page);
	if (unlikely(kmem_cache_debug(s))) {
		slab_free_debug(s, slab, x);
		return;
	}
	if (!check_live_object(s, slab, x))
		return;
	/* a thread that only frees (a consumer) gets sheaves too */
	if (slub_cache(s)->sheaf_capacity && (cpu_attached() || !cpu_attach())) {
		struct kmem_cache_cpu *c = cpu_slot(s);
		bool done;

		slot_catch_up(s, c);	/* @x stays counted in use meanwhile */
		sheaf_begin(c);
		done = sheaves_free(s, c, x);
		sheaf_end(c);
		if (done) {
			stat(s, FREE_SLOWPATH);
			return;
		}
	}
	if (slab == cpu_slot(s)->slab) {
		struct kmem_cache_cpu *c = cpu_slot(s);

		set_freepointer(s, x, c->freelist);
		c->freelist = x;
		stat(s, FREE_LOCAL);
		return;
	}
	if (slab_owned_by_me(slab)) {
		slab_push_local(s, slab, x);
		stat(s, FREE_LOCAL);
		return;
	}
	stat(s, FREE_SLOWPATH);
	__slab_free(s, slab, x, x, 1);
}

noinline void report_fast_free(struct kmem_cache *s, void *x, bool double_free)
{
	struct slab *slab = page_slab(virt_to_head_page(x));

	if (double_free)
		object_bug(s, slab, x, "Object already free");
	else
		slab_bug(s, slab, "Invalid object pointer", "%p is not the start of an object", x);
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

/*
 * calculate_sizes - the object's layout, the size of its slot, the order.
 * With slab_debug flags (docs/slub.md has the picture), in this order
 * from the slot's start:
 *
 *	left red zone	red_left_pad bytes (Z); the object pointer is past it
 *	object		object_size bytes; poisoned while free (P)
 *	right red zone	to the next word, at least one word (Z): up to inuse
 *	free pointer	here when a free object must keep its bytes (P, a
 *			constructor, RCU; a red-zoned object smaller than a
 *			word, or one whose kmalloc size is kept); else in the
 *			object's middle
 *	two tracks	who allocated and freed it (U)
 *	orig_size	the size kmalloc was asked for (U on a kmalloc cache)
 *	padding		a word with Z, then to the alignment; 0x5a with P
 */
static bool calculate_sizes(struct kmem_cache *s)
{
	slab_flags_t flags = s->flags;
	struct slub_cache *sc = slub_cache(s);
	unsigned int size = ALIGN(s->object_size, (unsigned int)sizeof(void *));
	int order;

	sc->object_poison = (flags & SLAB_POISON) && !(flags & SLAB_TYPESAFE_BY_RCU) && !s->ctor;
	if ((flags & SLAB_RED_ZONE) && size == s->object_size)
		size += sizeof(void *);
	sc->inuse = size;
	if ((flags & (SLAB_TYPESAFE_BY_RCU | SLAB_POISON)) || s->ctor ||
	    ((flags & SLAB_RED_ZONE) &&
	     (s->object_size < sizeof(void *) || slub_debug_orig_size(s)))) {
		/*
		 * The object must keep its contents while free (a constructed
		 * state, readers under RCU, poison), or its red zone may
		 * reach into it: the pointer goes after it.
		 */
		s->offset = size;
		size += sizeof(void *);
	} else {
		/* Mid-object, away from the ends a small overflow would hit. */
		s->offset = ALIGN_DOWN(s->object_size / 2, (unsigned int)sizeof(void *));
	}
	if (flags & SLAB_STORE_USER) {
		size += 2 * sizeof(struct track);
		if (flags & SLAB_KMALLOC)
			size += sizeof(unsigned int);
	}
	sc->red_left_pad = 0;
	if (flags & SLAB_RED_ZONE) {
		/*
		 * A word of padding, so that a write before the next object
		 * hits padding rather than this one's tracks, then the next
		 * object's left red zone, as wide as its alignment.
		 */
		size += sizeof(void *);
		sc->red_left_pad = ALIGN((unsigned int)sizeof(void *), s->align);
		size += sc->red_left_pad;
	}
	size = ALIGN(size, s->align);
	s->size = size;
	order = calculate_order(size);
	if (order < 0)
		return false;
	slub_cache(s)->oo = oo_make((unsigned int)order, size);
	slub_cache(s)->min = oo_make(get_order(size), size);
	return oo_objects(slub_cache(s)->oo) > 0;
}

static void set_cpu_partial(struct kmem_cache *s)
{
	if (s->size >= PAGE_SIZE)
		slub_cache(s)->cpu_partial = 2;
	else if (s->size >= 1024)
		slub_cache(s)->cpu_partial = 6;
	else if (s->size >= 256)
		slub_cache(s)->cpu_partial = 13;
	else
		slub_cache(s)->cpu_partial = 30;
	/*
	 * The kernel's slub_set_cpu_partial() allows about twice that in
	 * slabs.  uslab allows more: a slab on the chain takes its owner's
	 * frees without atomics, and random frees over many small slabs
	 * otherwise freeze and unfreeze a slab per free or two (Larson: 27
	 * Mops with 8 slabs, 41 with 32).  The floor is up to 32 slabs, and no
	 * more than 512 KiB of slabs (128 pages) per cache per thread.
	 */
	slub_cache(s)->cpu_partial_slabs = max_t(unsigned int,
				     clamp_t(unsigned int, 128u >> oo_order(slub_cache(s)->oo), 8, 32),
				     DIV_ROUND_UP(slub_cache(s)->cpu_partial * 2, oo_objects(slub_cache(s)->oo)));
}

/*
 * early_kmem_cache_node_alloc - the first kmem_cache_node of a node, while
 * the kmem_cache_node cache itself is being made (slab_state DOWN): take
 * a fresh slab of that cache and use its first object for the node.
 */
static bool early_kmem_cache_node_alloc(int node)
{
	struct slab *slab = allocate_slab(kmem_cache_node, GFP_NOWAIT, node);
	struct kmem_cache_node *n;

	if (!slab)
		return false;
	n = slab->freelist;
	slab->freelist = get_freepointer(kmem_cache_node, n);
	clear_freepointer(kmem_cache_node, n);
	slab->inuse = 1;
	slab->frozen = 0;
	if (kmem_cache_debug(kmem_cache_node))
		init_object_active(kmem_cache_node, n);
	init_kmem_cache_node(n);
	slub_cache(kmem_cache_node)->node[slab_nid(slab)] = n;
	inc_slabs_node(n, slab->objects);
	add_partial(n, slab);
	return true;
}

static void free_kmem_cache_nodes(struct kmem_cache *s)
{
	for (int node = 0; node < nr_node_ids; node++) {
		if (slub_cache(s)->node[node])
			kmem_cache_free(kmem_cache_node, slub_cache(s)->node[node]);
		slub_cache(s)->node[node] = NULL;
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
		slub_cache(s)->node[node] = n;
	}
	return true;
}

static int slub_create(struct kmem_cache *s, slab_flags_t flags)
{
	int slot;

	s->flags = flags & ~SLAB_DEBUG_ORDER_OFF;
	/*
	 * kmalloc(2^n) is aligned to 2^n whatever the debugging, as the
	 * kernel's create_boot_cache() makes it: without slab_debug's
	 * metadata the slot size alone gives it, with it the alignment must.
	 */
	if ((s->flags & SLAB_KMALLOC) && kmem_cache_debug(s) && is_power_of_2(s->object_size))
		s->align = max_t(unsigned int, s->align, s->object_size);
	/* Bit 56 set: a cleared free pointer never decodes to an address. */
	s->random = (uintptr_t)os_random() | (uintptr_t)1 << 56;
	if (!calculate_sizes(s))
		return -EINVAL;
	/*
	 * slab_debug 'O' (the kernel's disable_higher_order_debug): no
	 * metadata where it would raise the smallest order the objects need.
	 */
	if ((flags & SLAB_DEBUG_ORDER_OFF) && get_order(s->size) > get_order(s->object_size)) {
		s->flags &= ~SLAB_DEBUG_LAYOUT_FLAGS;
		if (!calculate_sizes(s))
			return -EINVAL;
	}
	s->reciprocal_size = ((1ULL << RECIPROCAL_SHIFT) + s->size - 1) / s->size;
	s->divisor_magic = UINT64_MAX / s->size + 1;
	slub_cache(s)->min_partial = min_t(unsigned long, 10, max_t(unsigned long, 5, ilog2(s->size) / 2));
	set_cpu_partial(s);
	if (kmem_cache_debug(s))
		slub_cache(s)->cpu_partial = 0;	/* no cpu partial chain: see slab_alloc_debug */
	slub_cache(s)->sheaf_capacity = sheaf_capacity_for(s);
	/* no empty slabs kept where pages are not either (page_retain_mb or page_decay_ms 0) */
	slub_cache(s)->empty_limit = 0;
	if (!kmem_cache_debug(s) && uslab_opt(OPT_PAGE_RETAIN_MB) && uslab_opt(OPT_PAGE_DECAY_MS))
		slub_cache(s)->empty_limit = ((unsigned long)uslab_opt(OPT_SLUB_EMPTY_MAX_KB) << 10) >>
					     (PAGE_SHIFT + oo_order(slub_cache(s)->oo));

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
	if (slab_state >= UP)
		init_cache_random_seq(s);
	return 0;
}

/* A new user of @size bytes shares @s: its objects must cover them. */
static void slub_alias(struct kmem_cache *s, unsigned int size)
{
	struct slub_cache *sc = slub_cache(s);

	sc->inuse = max_t(unsigned int, sc->inuse, ALIGN(size, (unsigned int)sizeof(void *)));
}

/* ------------------------------------------- shrinking and destroying */

/* Free every empty slab on the node lists; returns slabs still in use. */
static long free_partial_empty(struct kmem_cache *s)
{
	long remaining = 0;

	for (int node = 0; node < nr_node_ids; node++) {
		struct kmem_cache_node *n = get_node(s, node);
		struct slab *slab, *tmp, *discard = NULL;

		release_empty_slabs(s, n);
		spin_lock(&n->list_lock);
		list_for_each_entry_safe(slab, tmp, &n->partial, slab_list) {
			if (!slab->inuse) {
				remove_partial(n, slab);
				/* counted off under the lock, so validation never sees it half gone */
				dec_slabs_node(n, slab->objects);
				slab->next = discard;
				discard = slab;
			}
		}
		spin_unlock(&n->list_lock);
		while (discard) {
			slab = discard;
			discard = slab->next;
			free_slab(s, slab);
		}
		remaining += __atomic_load_n(&n->nr_slabs, __ATOMIC_RELAXED);
	}
	return remaining;
}

/*
 * slub_shrink - the caller's sheaves, the barns, then the caller's cpu
 * slab (last: giving objects back may freeze slabs onto its chain), and
 * every empty slab on the node lists.  Other threads flush on their next
 * slow path (flush_gen).
 */
static int slub_shrink(struct kmem_cache *s)
{
	bool freed_sheaves = false;

	__atomic_add_fetch(&slub_cache(s)->flush_gen, 1, __ATOMIC_RELAXED);
	if (cpu_attached())
		freed_sheaves = flush_sheaves(s, cpu_slot(s));
	freed_sheaves |= flush_barn(s);
	if (cpu_attached()) {
		struct kmem_cache_cpu *c = cpu_slot(s);

		flush_cpu_slab(s, c);
		c->gen = READ_ONCE(slub_cache(s)->flush_gen);
	}
	free_partial_empty(s);
	/* The sheaves went back to slub_sheaf, which may have been shrunk already. */
	if (freed_sheaves) {
		if (cpu_attached())
			flush_cpu_slab(sheaf_cache, cpu_slot(sheaf_cache));
		free_partial_empty(sheaf_cache);
	}
	return 0;
}

/*
 * slub_shutdown - the kernel's __kmem_cache_shutdown: flush every slot,
 * free the empty slabs, and report each slab that still has objects
 * with each of its objects (list_slab_objects: counted once per slab and
 * once per object, as the kernel counts).  Like the kernel, only the
 * slabs on a list are seen: a full slab of a cache without slab_debug is
 * on none.  slab_common says the cache stays.
 */
static int slub_shutdown(struct kmem_cache *s)
{
	static const char text[] = "Objects remaining in %s on __kmem_cache_shutdown()";

	/* sheaves first: giving their objects back may freeze slabs onto our chain */
	cpu_for_each_area(flush_area_sheaves, s);
	flush_barn(s);
	cpu_for_each_area(flush_area_slot, s);
	if (!free_partial_empty(s))
		return 0;

	for (int node = 0; node < nr_node_ids; node++) {
		struct kmem_cache_node *n = get_node(s, node);
		struct slab *slab;

		spin_lock(&n->list_lock);
		list_for_each_entry(slab, &n->partial, slab_list)
			list_slab_objects(s, slab, text);
		if (kmem_cache_debug(s))
			list_for_each_entry(slab, &n->full, slab_list)
				list_slab_objects(s, slab, text);
		spin_unlock(&n->list_lock);
	}
	return -EBUSY;
}

static void slub_release(struct kmem_cache *s)
{
	kfree(slub_cache(s)->random_seq);
	slub_cache(s)->random_seq = NULL;
	free_kmem_cache_nodes(s);
	cpu_slot_free((int)s->cpu_id);
}

/* ------------------------------------------------------------- bootstrap */

/* Point every page of @slab at @s (allocate_slab names the cache on tail pages too). */
static void slab_set_cache(struct slab *slab, struct kmem_cache *s)
{
	struct page *page = slab_page(slab);

	for (unsigned long i = 0; i < (1UL << slab_order(slab)); i++)
		page[i].slab_cache = s;
}

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
		struct slab *slab;

		list_for_each_entry(slab, &n->partial, slab_list)
			slab_set_cache(slab, s);
		list_for_each_entry(slab, &n->full, slab_list)	/* slab_debug caches' */
			slab_set_cache(slab, s);
		list_for_each_entry(slab, &n->empty, slab_list)	/* none this early; kept slabs */
			slab_set_cache(slab, s);
	}
	list_add(&s->list, &slab_caches);
	return s;
}

static size_t slub_cache_be_size(void)
{
	return sizeof(struct slub_cache) + (size_t)nr_node_ids * sizeof(struct kmem_cache_node *);
}

#define BOOT_CACHE_SIZE (sizeof(struct kmem_cache) + sizeof(struct slub_cache) +	\
			 MAX_NUMNODES * sizeof(struct kmem_cache_node *))

/*
 * slub_init - the bootstrap of the seeds: kmem_cache_node and kmem_cache
 * are set up in static storage (kmem_cache_node first, its own first
 * node structure carved by hand from its first slab: slab_state DOWN ->
 * PARTIAL), then both are copied into objects of kmem_cache.
 */
static void slub_init(void)
{
	static char boot_kmem_cache[BOOT_CACHE_SIZE] __attribute__((aligned(CACHE_LINE_SIZE)));
	static char boot_kmem_cache_node[BOOT_CACHE_SIZE] __attribute__((aligned(CACHE_LINE_SIZE)));

	kmem_cache_node = (struct kmem_cache *)boot_kmem_cache_node;
	kmem_cache = (struct kmem_cache *)boot_kmem_cache;

	create_boot_cache(kmem_cache_node, "kmem_cache_node",
			  sizeof(struct kmem_cache_node), SLAB_HWCACHE_ALIGN);
	slab_state = PARTIAL;
	create_boot_cache(kmem_cache, "kmem_cache",
			  (unsigned int)(sizeof(struct kmem_cache) + slub_cache_be_size()),
			  SLAB_HWCACHE_ALIGN);
	kmem_cache = bootstrap(kmem_cache);
	kmem_cache_node = bootstrap(kmem_cache_node);
}

/* Once kmalloc works: the random sequences of the caches made before it. */
static void slub_init_late(void)
{
	struct kmem_cache *s;

	list_for_each_entry(s, &slab_caches, list)
		init_cache_random_seq(s);
	/*
	 * The sheaves' own cache, never merged (a cache it merged into would
	 * have sheaves made of itself); then sheaves for the caches made so far.
	 */
	s = kmem_cache_zalloc(kmem_cache, GFP_NOWAIT);
	if (!s)
		uslab_panic("SLUB: cannot allocate the slub_sheaf cache\n");
	create_boot_cache(s, "slub_sheaf", sizeof(struct slab_sheaf),
			  SLAB_HWCACHE_ALIGN | SLAB_NO_MERGE);
	list_add_tail(&s->list, &slab_caches);
	s->refcount = 1;
	sheaf_cache = s;
	list_for_each_entry(s, &slab_caches, list)
		slub_cache(s)->sheaf_capacity = sheaf_capacity_for(s);
}

/* ----------------------------------------------------------- slabinfo */

static void count_cpu_slabs(char *area, void *arg)
{
	struct kmem_cache_info_walk *w = arg;
	const struct kmem_cache_cpu *c = area_slot(area, w->s);

	w->cpu_slabs += (READ_ONCE(c->slab) ? 1 : 0) + READ_ONCE(c->partial_slabs);
}

/*
 * slub_get_info - /proc/slabinfo and /sys/kernel/slab/<cache>/, as the
 * kernel's SLUB counts them: objects in cpu slabs and on cpu partial
 * chains count as in use (only node partial slabs are walked for free
 * objects), and cpu_slabs is every thread's cpu slab and cpu partial slabs.
 */
static int slub_get_info(struct kmem_cache *s, struct slab_cache_info *info)
{
	struct kmem_cache_info_walk w = { .s = s };
	unsigned long nr_slabs = 0, nr_objs = 0, nr_free = 0, nr_partial = 0;

	for (int node = 0; node < nr_node_ids; node++) {
		struct kmem_cache_node *n = get_node(s, node);
		struct slab *slab;

		if (!stats_spin_lock(&n->list_lock))
			return -EBUSY;
		nr_slabs += (unsigned long)__atomic_load_n(&n->nr_slabs, __ATOMIC_RELAXED);
		nr_objs += (unsigned long)__atomic_load_n(&n->total_objects, __ATOMIC_RELAXED);
		nr_partial += n->nr_partial + n->nr_empty;
		list_for_each_entry(slab, &n->partial, slab_list)
			nr_free += slab->objects - slab->inuse;
		list_for_each_entry(slab, &n->empty, slab_list)
			nr_free += slab->objects;
		spin_unlock(&n->list_lock);
	}
	if (!cpu_for_each_area(count_cpu_slabs, &w))
		return -EBUSY;
	memset(info, 0, sizeof(*info));
	info->si.active_objs = nr_objs - nr_free;
	info->si.num_objs = nr_objs;
	info->si.active_slabs = nr_slabs;
	info->si.num_slabs = nr_slabs;
	info->si.objects_per_slab = oo_objects(slub_cache(s)->oo);
	info->si.cache_order = oo_order(slub_cache(s)->oo);
	info->partial = nr_partial;
	info->free_objects = nr_free;
	info->cpu_slabs = w.cpu_slabs;
	info->min_partial = slub_cache(s)->min_partial;
	info->cpu_partial = slub_cache(s)->cpu_partial;
	return 0;
}

/* ---------------------------------------------------------- statistics */

static const char *const slub_stat_names[NR_SLUB_STAT_ITEMS] = {
	[ALLOC_FASTPATH] = "alloc_fastpath",
	[ALLOC_SLOWPATH] = "alloc_slowpath",
	[FREE_FASTPATH] = "free_fastpath",
	[FREE_SLOWPATH] = "free_slowpath",
	[FREE_FROZEN] = "free_frozen",
	[FREE_ADD_PARTIAL] = "free_add_partial",
	[FREE_REMOVE_PARTIAL] = "free_remove_partial",
	[ALLOC_FROM_PARTIAL] = "alloc_from_partial",
	[ALLOC_SLAB] = "alloc_slab",
	[ALLOC_REFILL] = "alloc_refill",
	[ALLOC_NODE_MISMATCH] = "alloc_node_mismatch",
	[FREE_SLAB] = "free_slab",
	[CPUSLAB_FLUSH] = "cpuslab_flush",
	[DEACTIVATE_FULL] = "deactivate_full",
	[DEACTIVATE_EMPTY] = "deactivate_empty",
	[DEACTIVATE_TO_HEAD] = "deactivate_to_head",
	[DEACTIVATE_TO_TAIL] = "deactivate_to_tail",
	[DEACTIVATE_REMOTE_FREES] = "deactivate_remote_frees",
	[DEACTIVATE_BYPASS] = "deactivate_bypass",
	[ORDER_FALLBACK] = "order_fallback",
	[CMPXCHG_DOUBLE_CPU_FAIL] = "cmpxchg_double_cpu_fail",
	[CMPXCHG_DOUBLE_FAIL] = "cmpxchg_double_fail",
	[CPU_PARTIAL_ALLOC] = "cpu_partial_alloc",
	[CPU_PARTIAL_FREE] = "cpu_partial_free",
	[CPU_PARTIAL_NODE] = "cpu_partial_node",
	[CPU_PARTIAL_DRAIN] = "cpu_partial_drain",
	[FREE_LOCAL] = "free_local",
	[SHEAF_FLUSH] = "sheaf_flush",
	[SHEAF_REFILL] = "sheaf_refill",
	[SHEAF_ALLOC] = "sheaf_alloc",
	[SHEAF_FREE] = "sheaf_free",
	[BARN_GET] = "barn_get",
	[BARN_GET_FAIL] = "barn_get_fail",
	[BARN_PUT] = "barn_put",
	[BARN_PUT_FAIL] = "barn_put_fail",
	[EMPTY_KEEP] = "empty_keep",
	[EMPTY_REUSE] = "empty_reuse",
};

/*
 * The fast paths out of line: what the dispatch calls when something
 * stands in front of them (slab_fast_wrap), and the counting copies
 * (slab_fast.h, stats.h).
 */
void *slub_alloc_entry(struct kmem_cache *s, gfp_t gfp, int node)
{
	return slub_alloc_node(s, gfp, node);
}

void slub_free_entry(struct kmem_cache *s, void *x, struct page *page)
{
	slub_free(s, x, page);
}

void *slub_alloc_entry_stats(struct kmem_cache *s, gfp_t gfp, int node)
{
	return slub_alloc_node_x(s, gfp, node, true);
}

void slub_free_entry_stats(struct kmem_cache *s, void *x, struct page *page)
{
	slub_free_x(s, x, page, true);
}

/* ---------------------------------------------------------------- fork */

static void slub_fork_prepare(void)
{
	struct kmem_cache *s;

	list_for_each_entry(s, &slab_caches, list)
		for (int node = 0; node < nr_node_ids; node++)
			spin_lock(&get_node(s, node)->list_lock);
}

static void slub_fork_parent(void)
{
	struct kmem_cache *s;

	list_for_each_entry(s, &slab_caches, list)
		for (int node = 0; node < nr_node_ids; node++)
			spin_unlock(&get_node(s, node)->list_lock);
}

static void slub_fork_child(void)
{
	slub_fork_parent();
}

/* ------------------------------------------------------------ validation */

/*
 * validate_node - the kernel's validate_slab_node: every slab on @n's
 * partial list (and, for a slab_debug cache, its full list), checked and
 * repaired by validate_slab; then the lists against their counters.
 */
static void validate_node(struct kmem_cache *s, struct kmem_cache_node *n)
{
	unsigned long count = 0, kept = 0;
	struct slab *slab;

	spin_lock(&n->list_lock);
	list_for_each_entry(slab, &n->partial, slab_list) {
		count++;
		if (slab->frozen && !kmem_cache_debug(s))
			slab_err(s, slab, "Frozen slab on node %d's partial list", slab_nid(slab));
		validate_slab(s, slab);
	}
	if (count != n->nr_partial) {
		pr_err("SLUB %s: %lu partial slabs counted but counter=%lu\n",
		       s->name, count, n->nr_partial);
		slub_count_report();
	}
	list_for_each_entry(slab, &n->empty, slab_list) {
		kept++;
		if (slab->frozen || slab->inuse)
			slab_err(s, slab, "Kept empty slab on node %d is frozen or has %u objects in use",
				 slab_nid(slab), slab->inuse);
		validate_slab(s, slab);
	}
	if (kept != n->nr_empty) {
		pr_err("SLUB %s: %lu empty slabs counted but counter=%lu\n",
		       s->name, kept, n->nr_empty);
		slub_count_report();
	}
	if (kmem_cache_debug(s)) {
		long nr_slabs = __atomic_load_n(&n->nr_slabs, __ATOMIC_RELAXED);

		list_for_each_entry(slab, &n->full, slab_list) {
			count++;
			validate_slab(s, slab);
		}
		if ((long)count != nr_slabs) {
			pr_err("SLUB: %s %lu slabs counted but counter=%ld\n", s->name, count, nr_slabs);
			slub_count_report();
		}
	}
	spin_unlock(&n->list_lock);
}

/*
 * slub_validate - the kernel's validate_slab_cache(): the slabs on every
 * node's lists (a cache without slab_debug keeps no full list: its full
 * slabs are out of reach, as in the kernel), and the calling thread's cpu
 * slab and cpu partial chain, whose free counts are not settled while
 * frozen.  Returns the reports made, each counted in uslab_error_count().
 */
static long slub_validate(struct kmem_cache *s)
{
	unsigned long before = slub_reports_made();

	for (int node = 0; node < nr_node_ids; node++)
		validate_node(s, get_node(s, node));
	if (cpu_attached() && !kmem_cache_debug(s)) {
		struct kmem_cache_cpu *c = cpu_slot(s);

		if (c->slab)
			validate_slab(s, c->slab);
		for (struct slab *slab = c->partial; slab; slab = slab->next) {
			if (!slab->frozen)
				slab_err(s, slab, "Cpu partial slab is not frozen");
			validate_slab(s, slab);
		}
	}
	return (long)(slub_reports_made() - before);
}

/* ------------------------------------------------------------ the contract */

static bool slub_check_object(struct kmem_cache *s, struct page *page, const void *x)
{
	return check_live_object(s, page_slab(page), x);
}

static void slub_free_slab_object(struct kmem_cache *s, void *x, struct page *page)
{
	slab_free_slow(s, x, page);
}

const struct slab_backend slub_backend = {
	.name			= "slub",
	.kmalloc_shift_low	= 3,
	.kmalloc_shift_high	= KMALLOC_SHIFT_HIGH,
	.init			= slub_init,
	.init_late		= slub_init_late,
	.create			= slub_create,
	.alias			= slub_alias,
	.shutdown		= slub_shutdown,
	.release		= slub_release,
	.shrink			= slub_shrink,
	.get_info		= slub_get_info,
	.stat_names		= slub_stat_names,
	.nr_stats		= NR_SLUB_STAT_ITEMS,
	.check_object		= slub_check_object,
	.get_orig_size		= slub_get_orig_size,
	.set_orig_size		= slub_set_orig_size,
	.free_slab_object	= slub_free_slab_object,
	.validate		= slub_validate,
	.cache_be_size		= slub_cache_be_size,
	.fork_prepare		= slub_fork_prepare,
	.fork_parent		= slub_fork_parent,
	.fork_child		= slub_fork_child,
	.flush_area		= slub_flush_area,
};
