// SPDX-License-Identifier: MIT
/*
 * page_alloc.c - the buddy page allocator the slabs stand on.
 *
 * 1. Overview.  Memory is handed out in blocks of 2^order pages, order
 *    0..MAX_ORDER, each naturally aligned to its size.  A zone per node
 *    keeps free_area[order], a list of free blocks of that order.  An
 *    allocation takes the smallest free block that fits and splits it,
 *    giving the unused halves back to the lower lists (expand); a free
 *    merges the block with its buddy (the block whose index differs in bit
 *    @order) for as long as the buddy is free and of the same order.
 *
 * 2. Arenas.  A zone grows by arenas of 1 GiB of reserved address space
 *    (see page_alloc.h for their layout).  A new arena's MAX_ORDER blocks
 *    are not put on the free list at once: the zone carves them one at a
 *    time from the arena's "fresh" mark, so untouched address space never
 *    costs a page of metadata.  Carving commits the block; the struct page
 *    array is committed with the arena and backed as it is written.
 *    When the address space will not hold 1 GiB more (ulimit -v), an
 *    arena reserves only its struct page array and one block of its slot
 *    and grows in place, a block at a time, as it is carved: address space
 *    is then taken as memory is used, as brk would, and a second arena
 *    (another 16 MiB of metadata) is made only when the slot is full or
 *    something else was mapped in its way.
 *
 * 3. Giving memory back.  Free blocks are either clean (known not to be
 *    backed: fresh, or released with madvise) or dirty.  zone->nr_dirty
 *    counts the pages of dirty free blocks.  When a free leaves more than
 *    the zone's bound dirty, the zone releases its largest dirty blocks
 *    until three quarters of the bound remain; uslab_trim() releases all of
 *    them.  Dirty blocks sit at the head of the free lists and clean ones
 *    at the tail, so allocation reuses backed memory first (__rmqueue).  A
 *    release takes the blocks off the lists under the lock, drops the lock
 *    for the madvise calls, and frees them back as clean blocks.  Merging a
 *    clean block with a dirty one makes a dirty block (the count
 *    overestimates, never underestimates, what is resident).
 *
 *    The bound is page_retain_mb plus what churn taught the zone
 *    (retain_extra).  Pages a bound-forced release gave back are counted
 *    in recent_released, which halves every page_decay_ms; a clean block
 *    handed out while that count is not zero is released memory faulted
 *    back in, and raises retain_extra by as much (zone_refault), up to
 *    page_retain_max_mb.  A tick (a quarter of page_decay_ms) takes a
 *    step off retain_extra when it was of no use in the last interval,
 *    unless a refault raised it within page_decay_ms (zone_decay).  Ticks
 *    are taken by the free paths and the direct-mapping paths while
 *    decay_armed says something is left to decay (page_decay_maybe): no
 *    thread, no timer.
 *
 * 4. Direct mappings.  Requests above MAX_ORDER (kmalloc_large of more
 *    than 4 MiB) get a mapping of their own, with a header page before the
 *    data and a hash table of live mappings so that a free can tell ours
 *    from a foreign pointer without touching the pointer.  They count
 *    against page_limit_mb as carved blocks do, header page included.  A
 *    freed one waits in a small cache for a request it fits; it is
 *    released after page_decay_ms unused and unmapped after as long again
 *    (see the cache's comment below).
 *
 * 5. Locking.  zone->lock (a spinlock) guards the lists and counters and is
 *    never held across a system call.  zone->grow_lock (a mutex) serialises
 *    arena growth; GFP_ATOMIC / GFP_NOWAIT only try it.  large_lock guards
 *    the direct-mapping table and cache, and is not held across a system
 *    call either, nor while a zone lock is taken.  Order: grow_lock, then
 *    zone->lock or large_lock.  Around fork all of them are taken, so the
 *    child starts with them free.
 *
 * 6. Page flags.  Only the first page of a block carries block state:
 *    PG_buddy (free, on a list), PG_isolated (free, being released) or
 *    PG_head (handed out), with the block's order.  Every other page has
 *    no flags (a slab's tail pages carry PG_tail | PG_slab and the slab's
 *    order while the slab lives, for compound_head(); the back ends clear
 *    them before they free).  Whatever makes a head
 *    page a page inside a larger block - merging, a split's lower half
 *    being handed out - clears or rewrites its flags under zone->lock, so
 *    a stale head never survives.  That is what lets a free tell, from one
 *    struct page, the head of an allocated block from a tail page or from
 *    a page already merged into a free block (a double free), and find the
 *    block around a bad page in at most MAX_ORDER + 1 loads.
 *
 * 7. Failure.  __alloc_pages() fails quietly (the slab layer reports in its
 *    own words); alloc_pages_node() reports a failure as the kernel's
 *    warn_alloc() does, unless __GFP_NOWARN, and a __GFP_NOFAIL request
 *    that cannot be met (page_limit_mb reached, the OS refusing memory, an
 *    order above MAX_ORDER) reports and aborts, since returning NULL would
 *    break the caller's contract and waiting would never end.
 */
#define _GNU_SOURCE
#include "page_alloc.h"
#include "sanitize.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

extern char *program_invocation_short_name;

unsigned char arena_map[NR_ARENA_SLOTS];
int nr_node_ids = 1;

struct free_area {
	struct list_head free_list;
	unsigned long nr_free;
};

struct zone {
	spinlock_t lock;
	int node;
	struct free_area free_area[MAX_ORDER + 1];
	unsigned long nr_free;		/* pages in the free lists */
	unsigned long nr_dirty;		/* of which possibly backed */
	unsigned long nr_alloc;		/* pages handed out */
	unsigned long managed;		/* pages carved from arenas */
	unsigned long released;		/* pages ever released with madvise */
	unsigned long reserved;		/* pages of address space reserved in arenas */
	/* Adaptive retention (section 3): */
	unsigned long retain_extra;	/* dirty pages kept above retain_pages, from churn */
	unsigned long extra_step;	/* what one idle tick takes off retain_extra */
	unsigned long recent_released;	/* released lately (halved each page_decay_ms) */
	unsigned long dirty_low;	/* least nr_dirty since the last tick */
	unsigned long dirty_high;	/* most nr_dirty since the last tick */
	unsigned long refaulted;	/* released pages allocated again (statistics) */
	unsigned int hold;		/* ticks left without decay since a refault */
	unsigned int nr_arenas;
	struct arena *arenas;		/* newest first; the first may be fresh */
	pthread_mutex_t grow_lock;
};

static struct zone zones[MAX_NUMNODES];
static unsigned long retain_pages;	/* page_retain_mb: the base bound */
static unsigned long retain_extra_max;	/* page_retain_max_mb - page_retain_mb; 0: no adapting */

/*
 * Decay (section 3): a tick every decay_ns / DECAY_STEPS, taken by
 * whichever slow path sees it due first while decay_armed says there is
 * something to decay.  Extra retention falls by a quarter of its peak
 * per idle tick, so it is back at the base about page_decay_ms after the
 * churn stopped.
 */
#define DECAY_STEPS	4
static uint64_t decay_ns;		/* page_decay_ms; 0: no adapting, no mapping cache */
static uint64_t decay_next;		/* coarse ns of the next tick */
static bool decay_armed;		/* some zone or the mapping cache has work for a tick */
static unsigned int decay_ticks;	/* ticks taken */

/* The bound on dirty free pages of @z now. */
static inline unsigned long zone_retain_bound(const struct zone *z)
{
	return retain_pages + z->retain_extra;
}

/*
 * Past the bound, release down to three quarters of it: each release is
 * then a quarter of the bound, not half, so a program that frees and
 * reallocates around the bound faults less memory back in.
 */
static inline unsigned long retain_target(const struct zone *z)
{
	unsigned long bound = zone_retain_bound(z);

	return bound - bound / 4;
}

static void page_decay_maybe(void);
static bool large_cache_decay(uint64_t now);
static size_t large_cache_drain(void);
static unsigned long large_cache_max_pages;	/* 0: no mapping cache */
static unsigned long limit_pages;	/* 0: no limit but the OS's */
/*
 * What page_limit_mb caps: pages carved from arenas (never given back to
 * the OS's address space, only released) plus pages in direct mappings.
 * Zones grow under their own grow_lock and direct mappings under none, so
 * it is charged with a compare-and-swap, before the memory is mapped.
 */
static unsigned long charged_pages;
static unsigned int nr_cpus;

static bool limit_charge(unsigned long nr)
{
	unsigned long old = __atomic_load_n(&charged_pages, __ATOMIC_RELAXED), new;

	do {
		if (__builtin_add_overflow(old, nr, &new) ||
		    (limit_pages && new > limit_pages))
			return false;
	} while (!__atomic_compare_exchange_n(&charged_pages, &old, new, true,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return true;
}

static void limit_uncharge(unsigned long nr)
{
	__atomic_sub_fetch(&charged_pages, nr, __ATOMIC_RELAXED);
}

/* Whether @nr more pages would pass page_limit_mb now (racy: for checks). */
static bool limit_allows(unsigned long nr)
{
	return !limit_pages ||
	       __atomic_load_n(&charged_pages, __ATOMIC_RELAXED) + nr <= limit_pages;
}

/* ----------------------------------------------------------- reports */

static void bad_page(const void *addr, const struct page *page, const char *reason)
{
	pr_err("BUG: Bad page state in process %s  addr:%p\n",
	       program_invocation_short_name, addr);
	if (page)
		pr_err("page:%p flags:%#lx order:%u\n", (void *)page,
		       page->flags, page->order);
	pr_err("page dumped because: %s\n", reason);
	uslab_bug_end("Bad page state");
}

/* --------------------------------------------------------- free lists */

static inline struct page *pfn_page(struct page *map, unsigned long idx)
{
	return map + idx;
}

static inline void set_buddy(struct zone *z, struct page *page, unsigned int order,
			     bool clean)
{
	page->flags = PG_buddy | (clean ? PG_clean : 0);
	page->order = order;
	page->node = (unsigned int)z->node;
	/*
	 * Dirty blocks at the head, clean ones at the tail: allocation takes
	 * from the head, so it reuses memory that is still backed before it
	 * faults in released memory, and release (largest dirty first) finds
	 * the dirty blocks first.
	 */
	if (clean)
		list_add_tail(&page->lru, &z->free_area[order].free_list);
	else
		list_add(&page->lru, &z->free_area[order].free_list);
	z->free_area[order].nr_free++;
	z->nr_free += 1UL << order;
	if (!clean)
		z->nr_dirty += 1UL << order;
}

static inline void del_buddy(struct zone *z, struct page *page, unsigned int order)
{
	list_del(&page->lru);
	z->free_area[order].nr_free--;
	z->nr_free -= 1UL << order;
	if (!(page->flags & PG_clean))
		z->nr_dirty -= 1UL << order;
	page->flags = 0;
}

/*
 * __free_one_page - put a block on the lists, merging it with its buddy
 * while the buddy is a free block of the same order.
 */
static void __free_one_page(struct zone *z, struct page *page, unsigned int order,
			    bool clean)
{
	struct page *map = (struct page *)((uintptr_t)page & ~(ARENA_SIZE - 1));
	unsigned long idx = (unsigned long)(page - map);

	/*
	 * If @page merges as an upper half it is no head any more; a PG_head
	 * left on it would let a second free of it pass the checks and put
	 * it on a list inside the merged free block.
	 */
	page->flags = 0;
	while (order < MAX_ORDER) {
		unsigned long buddy_idx = idx ^ (1UL << order);
		struct page *buddy = pfn_page(map, buddy_idx);

		if (!(buddy->flags & PG_buddy) || buddy->order != order)
			break;
		clean = clean && (buddy->flags & PG_clean);
		del_buddy(z, buddy, order);
		idx &= buddy_idx;
		order++;
	}
	set_buddy(z, pfn_page(map, idx), order, clean);
}

/* expand - split @page (order @high) down to @low, freeing the upper halves. */
static void expand(struct zone *z, struct page *page, unsigned int low,
		   unsigned int high, bool clean)
{
	while (high > low) {
		high--;
		set_buddy(z, page + (1UL << high), high, clean);
	}
}

/*
 * zone_refault - @nr clean pages are being handed out while memory
 * released lately is on the books: dirty memory ran out and released
 * memory is faulted back in, so the release was premature.  Raise the
 * zone's bound by what came back (up to page_retain_max_mb), so that the
 * next round of the same churn keeps it.  mimalloc and jemalloc delay
 * their purges for the same reason; here the delay is learnt, not fixed.
 * Under zone->lock.
 */
static void zone_refault(struct zone *z, unsigned long nr)
{
	unsigned long n = min_t(unsigned long, nr, z->recent_released);
	unsigned long room = retain_extra_max - z->retain_extra;

	z->recent_released -= n;
	z->refaulted += n;
	z->retain_extra += min_t(unsigned long, n, room);
	z->extra_step = DIV_ROUND_UP(z->retain_extra, DECAY_STEPS);
	z->hold = DECAY_STEPS;
}

/*
 * dirty_block_above - a dirty free block of an order above @order, the
 * smallest there is, or NULL.  Dirty blocks head their lists, so one look
 * per order tells.
 */
static struct page *dirty_block_above(struct zone *z, unsigned int order)
{
	for (unsigned int o = order + 1; o <= MAX_ORDER; o++) {
		struct list_head *list = &z->free_area[o].free_list;
		struct page *page;

		if (list_empty(list))
			continue;
		page = list_first_entry(list, struct page, lru);
		if (!(page->flags & PG_clean))
			return page;
	}
	return NULL;
}

/*
 * __rmqueue - take a block of @order off the lists and mark it handed out:
 * the smallest that fits, unless that one is clean and a larger dirty one
 * is free (resident memory is used before more is faulted in).  The head
 * state is set here, under the lock, so that no free ever sees a block
 * that is neither on a list nor marked PG_head.
 */
static struct page *__rmqueue(struct zone *z, unsigned int order, bool *clean)
{
	for (unsigned int o = order; o <= MAX_ORDER; o++) {
		struct free_area *area = &z->free_area[o];
		struct page *page;

		if (list_empty(&area->free_list))
			continue;
		page = list_first_entry(&area->free_list, struct page, lru);
		if ((page->flags & PG_clean) && z->nr_dirty) {
			struct page *dirty = dirty_block_above(z, o);

			/*
			 * Split a dirty block rather than fault in a clean one:
			 * the dirty one is resident already.
			 */
			if (dirty) {
				page = dirty;
				o = dirty->order;
			}
		}
		*clean = page->flags & PG_clean;
		del_buddy(z, page, o);
		expand(z, page, order, o, *clean);
		page->flags = PG_head;
		page->order = order;
		page->node = (unsigned int)z->node;
		z->nr_alloc += 1UL << order;
		if (z->nr_dirty < z->dirty_low)
			z->dirty_low = z->nr_dirty;
		if (unlikely(*clean && z->recent_released))
			zone_refault(z, 1UL << order);
		return page;
	}
	return NULL;
}

/* ------------------------------------------------------------- arenas */

/* Bytes of struct page array that describe pages [0, @end) of an arena. */
static inline size_t meta_bytes(unsigned long end)
{
	return end * sizeof(struct page);
}

/*
 * arena_create - reserve a new arena: its whole 1 GiB slot if the address
 * space allows, else (an address-space limit) only the struct page array
 * and one MAX_ORDER block, for carve_fresh() to grow in place.  The caller
 * links it into the zone.
 */
static struct arena *arena_create(struct zone *z)
{
	unsigned long end = ARENA_PAGES;
	size_t meta;
	void *base;

	if (!limit_allows(MAX_ORDER_NR_PAGES))
		return NULL;
	base = os_reserve(ARENA_SIZE, ARENA_SIZE);
	if (!base) {
		end = ARENA_MIN_PAGES;
		base = os_reserve(end << PAGE_SHIFT, ARENA_SIZE);
		if (!base)
			return NULL;
	}
	if ((uintptr_t)base >> ARENA_SHIFT >= NR_ARENA_SLOTS) {
		os_unmap(base, end << PAGE_SHIFT);
		pr_err("uslab: arena at %p is above the %d-bit address space it can map\n",
		       base, VA_BITS);
		return NULL;
	}
	/*
	 * The whole struct page array is mapped: pages of it that are only
	 * read map the zero page, so any address in the slot has a readable
	 * struct page (all zero: "not a slab, not allocated") and a free of
	 * an address never carved, or beyond the reserved end, is reported,
	 * not a fault.  The part that describes reserved pages is committed
	 * read-write; the rest is read-only until the arena grows over it,
	 * so that it costs no commit charge and a stray write faults.
	 */
	meta = meta_bytes(end);
	if (os_commit(base, meta) ||
	    (meta < meta_bytes(ARENA_PAGES) &&
	     os_protect_readonly((char *)base + meta, meta_bytes(ARENA_PAGES) - meta))) {
		os_unmap(base, end << PAGE_SHIFT);
		return NULL;
	}

	struct arena *a = base;

	a->base = (uintptr_t)base;
	a->node = (unsigned int)z->node;
	a->fresh = ARENA_META_PAGES;
	a->end = end;
	a->next = z->arenas;
	__atomic_store_n(&arena_map[a->base >> ARENA_SHIFT], 1, __ATOMIC_RELEASE);
	return a;
}

/*
 * arena_extend - grow a partly reserved arena in place by one MAX_ORDER
 * block, and its read-write struct pages with it.  Fails if the address
 * space limit refuses, or if something else was mapped there meanwhile.
 * Called with grow_lock.
 */
static bool arena_extend(struct zone *z, struct arena *a)
{
	unsigned long end = a->end, new_end = end + MAX_ORDER_NR_PAGES;
	char *data = (char *)(a->base + (end << PAGE_SHIFT));

	if (new_end > ARENA_PAGES ||
	    os_reserve_at(data, MAX_ORDER_NR_PAGES << PAGE_SHIFT))
		return false;
	if (os_commit((char *)a->base + meta_bytes(end), meta_bytes(new_end) - meta_bytes(end))) {
		os_unmap(data, MAX_ORDER_NR_PAGES << PAGE_SHIFT);
		return false;
	}
	__atomic_store_n(&a->end, new_end, __ATOMIC_RELEASE);
	spin_lock(&z->lock);
	z->reserved += MAX_ORDER_NR_PAGES;
	spin_unlock(&z->lock);
	return true;
}

/*
 * carve_fresh - commit the next MAX_ORDER block of the newest arena (and
 * its struct pages), growing the arena in place first if it is only
 * partly reserved, and put it on the free list.  Called with grow_lock.
 */
static bool carve_fresh(struct zone *z, struct arena *a)
{
	unsigned long idx = a->fresh;
	struct page *map = (struct page *)a->base;
	void *data = (void *)(a->base + (idx << PAGE_SHIFT));

	if (idx >= ARENA_PAGES)
		return false;
	if (!limit_charge(MAX_ORDER_NR_PAGES))
		return false;
	if ((idx >= a->end && !arena_extend(z, a)) ||
	    os_commit(data, MAX_ORDER_NR_PAGES << PAGE_SHIFT)) {
		limit_uncharge(MAX_ORDER_NR_PAGES);
		return false;
	}
	a->fresh = idx + MAX_ORDER_NR_PAGES;

	spin_lock(&z->lock);
	z->managed += MAX_ORDER_NR_PAGES;
	set_buddy(z, map + idx, MAX_ORDER, true);
	spin_unlock(&z->lock);
	return true;
}

/* zone_has_block - whether a free block of @order or more is on the lists. */
static bool zone_has_block(struct zone *z, unsigned int order)
{
	bool found = false;

	spin_lock(&z->lock);
	for (unsigned int o = order; o <= MAX_ORDER && !found; o++)
		found = !list_empty(&z->free_area[o].free_list);
	spin_unlock(&z->lock);
	return found;
}

/*
 * zone_grow - make a free block of @order available: one that appeared
 * while we waited for grow_lock, else a MAX_ORDER block from the newest
 * arena or a new one.  Returns false if the OS (or page_limit_mb)
 * refuses, or if the caller may not wait and someone else is growing.
 * __GFP_NOFAIL waits like __GFP_DIRECT_RECLAIM: a busy lock is no reason
 * for a request that must not fail to give up.
 */
static noinline bool zone_grow(struct zone *z, gfp_t gfp, unsigned int order)
{
	bool ok;

	if (gfp & (__GFP_DIRECT_RECLAIM | __GFP_NOFAIL))
		pthread_mutex_lock(&z->grow_lock);
	else if (pthread_mutex_trylock(&z->grow_lock))
		return false;

	/*
	 * Someone else may have grown the zone, or freed a block, while we
	 * waited.  Only a block big enough counts: "enough free pages" in
	 * smaller blocks would send the caller back to a __rmqueue() that
	 * fails again, for ever.
	 */
	ok = zone_has_block(z, order);

	for (int tries = 0; !ok && tries < 2; tries++) {
		if (z->arenas)
			ok = carve_fresh(z, z->arenas);
		if (!ok) {
			struct arena *a = arena_create(z);

			if (a) {
				spin_lock(&z->lock);
				z->arenas = a;
				z->nr_arenas++;
				z->reserved += a->end;
				spin_unlock(&z->lock);
				ok = carve_fresh(z, a);
			}
		}
		/* Refused: a block freed meanwhile still serves. */
		if (!ok)
			ok = zone_has_block(z, order);
		/*
		 * Cached direct mappings hold page_limit_mb charge and address
		 * space that the zone may need more: give them up and try once
		 * more.
		 */
		if (!ok && !large_cache_drain())
			break;
	}
	pthread_mutex_unlock(&z->grow_lock);
	return ok;
}

/* ------------------------------------------------------- give back */

/*
 * zone_release - madvise dirty free blocks, largest first, until at most
 * @target pages of the free lists are dirty.  Returns the pages released.
 * With @adapt (a release the bound forced, not uslab_trim), what is
 * released is remembered for a while, so that faulting it back in soon
 * raises the bound (zone_refault).
 */
static size_t zone_release(struct zone *z, unsigned long target, bool adapt)
{
	struct page *batch = NULL;
	size_t released = 0;

	for (;;) {
		unsigned int n = 0;

		spin_lock(&z->lock);
		for (int o = MAX_ORDER; o >= 0 && z->nr_dirty > target && n < 64; o--) {
			struct page *page, *tmp;

			list_for_each_entry_safe(page, tmp, &z->free_area[o].free_list, lru) {
				if (z->nr_dirty <= target || n >= 64)
					break;
				if (page->flags & PG_clean)
					continue;
				del_buddy(z, page, (unsigned int)o);
				page->flags = PG_isolated;
				page->order = (unsigned int)o;
				page->next = batch;
				batch = page;
				n++;
			}
		}
		spin_unlock(&z->lock);
		if (!batch)
			return released;

		for (struct page *p = batch; p; p = p->next)
			os_release(__page_address(p), PAGE_SIZE << p->order);

		spin_lock(&z->lock);
		while (batch) {
			struct page *p = batch;

			batch = p->next;
			released += 1UL << p->order;
			z->released += 1UL << p->order;
			if (adapt && retain_extra_max)
				z->recent_released += 1UL << p->order;
			__free_one_page(z, p, p->order, true);
		}
		if (adapt && retain_extra_max)
			__atomic_store_n(&decay_armed, true, __ATOMIC_RELAXED);
		spin_unlock(&z->lock);
	}
}

/* ---------------------------------------------------------- interface */

int numa_node_id(void)
{
	if (nr_node_ids == 1)
		return 0;
	return (int)((unsigned int)os_current_cpu() % nr_cpus * (unsigned int)nr_node_ids / nr_cpus);
}

static pthread_mutex_t page_alloc_init_lock = PTHREAD_MUTEX_INITIALIZER;
static bool page_alloc_ready;

/*
 * page_alloc_init - bring the zones up.  The page allocator starts itself:
 * every public entry point calls this, and it never starts a layer above.
 */
void page_alloc_init(void)
{
	if (likely(__atomic_load_n(&page_alloc_ready, __ATOMIC_ACQUIRE)))
		return;
	pthread_mutex_lock(&page_alloc_init_lock);
	if (page_alloc_ready) {
		pthread_mutex_unlock(&page_alloc_init_lock);
		return;
	}
	uslab_options_init();
	if (os_page_size() != (long)PAGE_SIZE)
		uslab_panic("uslab: the system page size is %ld bytes; uslab is built for %lu-byte pages\n",
			    os_page_size(), PAGE_SIZE);
	nr_cpus = os_nr_cpus();
	nr_node_ids = (int)uslab_opt(OPT_NUMA_NODES);
	retain_pages = (unsigned long)uslab_opt(OPT_PAGE_RETAIN_MB) << (20 - PAGE_SHIFT);
	decay_ns = (uint64_t)uslab_opt(OPT_PAGE_DECAY_MS) * 1000000ull;
	/*
	 * page_retain_mb=0 asks for the lowest RSS, page_decay_ms=0 for no
	 * memory kept beyond the bound: either turns adapting off.
	 */
	if (retain_pages && decay_ns) {
		unsigned long max = (unsigned long)uslab_opt(OPT_PAGE_RETAIN_MAX_MB) << (20 - PAGE_SHIFT);

		retain_extra_max = max > retain_pages ? max - retain_pages : 0;
		large_cache_max_pages = 2 * retain_pages;
		decay_next = os_coarse_ns() + decay_ns / DECAY_STEPS;
	}
	limit_pages = (unsigned long)uslab_opt(OPT_PAGE_LIMIT_MB) << (20 - PAGE_SHIFT);
	/*
	 * Below a MAX_ORDER block per node no block can ever be carved, and
	 * the slab bootstrap, which needs slabs on every node, could only
	 * panic.  Such a limit is raised to that minimum (not dropped: a
	 * program that asked for a few MiB wants a tight cap, and gets the
	 * tightest one the allocator can start in).
	 */
	if (limit_pages && limit_pages < (unsigned long)nr_node_ids * MAX_ORDER_NR_PAGES) {
		unsigned long min_mb = ((unsigned long)nr_node_ids * MAX_ORDER_NR_PAGES) >> (20 - PAGE_SHIFT);

		pr_warn("uslab: page_limit_mb=%ld is below the %lu MiB the page allocator needs to start "
			"(a %lu MiB block per node, %d node(s)); using %lu MiB\n",
			uslab_opt(OPT_PAGE_LIMIT_MB), min_mb,
			(MAX_ORDER_NR_PAGES << PAGE_SHIFT) >> 20, nr_node_ids, min_mb);
		limit_pages = (unsigned long)nr_node_ids * MAX_ORDER_NR_PAGES;
	}
	for (int nid = 0; nid < nr_node_ids; nid++) {
		struct zone *z = &zones[nid];

		spin_lock_init(&z->lock);
		z->node = nid;
		for (int o = 0; o <= MAX_ORDER; o++)
			INIT_LIST_HEAD(&z->free_area[o].free_list);
		pthread_mutex_init(&z->grow_lock, NULL);
	}
	__atomic_store_n(&page_alloc_ready, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&page_alloc_init_lock);
}

/**
 * __alloc_pages - a block of 2^@order pages from node @nid's zone.
 * Returns its head page, or NULL (order out of range, or no memory),
 * without a report: the caller knows what failed and says so.
 * *@zeroed tells the caller whether the block is known to read as zeroes.
 */
struct page *__alloc_pages(int nid, gfp_t gfp, unsigned int order, bool *zeroed)
{
	struct zone *z;
	struct page *page;
	bool clean = false;

	if (unlikely(order > MAX_ORDER))
		return NULL;
	if (nid < 0 || nid >= nr_node_ids)
		nid = numa_node_id();
	z = &zones[nid];
	for (;;) {
		spin_lock(&z->lock);
		page = __rmqueue(z, order, &clean);
		spin_unlock(&z->lock);
		if (page)
			break;
		if (!zone_grow(z, gfp, order))
			return NULL;
	}
	sanitize_pages_alloc(__page_address(page), PAGE_SIZE << order, clean);
	if (zeroed)
		*zeroed = clean;
	return page;
}

/*
 * zone_freed - after a free, with zone->lock held, which it drops: past
 * the bound, release down to three quarters of it; then let a due decay
 * tick run.
 */
static void zone_freed(struct zone *z)
{
	bool over = z->nr_dirty > zone_retain_bound(z);
	unsigned long target = retain_target(z);

	if (z->nr_dirty > z->dirty_high)
		z->dirty_high = z->nr_dirty;

	spin_unlock(&z->lock);
	if (over)
		zone_release(z, target, true);
	if (__atomic_load_n(&decay_armed, __ATOMIC_RELAXED))
		page_decay_maybe();
}

/*
 * __free_pages_ok - give back a block that alloc_pages handed out.  The
 * caller has checked that @page heads an allocated block of @order; the
 * check is repeated under the lock, where it is one load, because two
 * threads freeing the same block at once would both have passed it.
 */
void __free_pages_ok(struct page *page, unsigned int order)
{
	struct zone *z = &zones[page->node];

	spin_lock(&z->lock);
	if (unlikely((page->flags & (PG_head | PG_buddy | PG_isolated)) != PG_head ||
		     page->order != order)) {
		spin_unlock(&z->lock);
		bad_page(__page_address(page), page, "page is already free (double free)");
		return;
	}
	z->nr_alloc -= 1UL << order;
	sanitize_pages_free(__page_address(page), PAGE_SIZE << order);
	__free_one_page(z, page, order, false);
	zone_freed(z);
}

/*
 * free_range - put pages [@idx, @end) of the block at @base back on the
 * lists, as the largest naturally aligned blocks that tile the range.
 * Called with the zone lock.
 */
static void free_range(struct zone *z, struct page *base, unsigned long idx,
		       unsigned long end, bool clean)
{
	while (idx < end) {
		unsigned int order = idx ? (unsigned int)__builtin_ctzl(idx) : MAX_ORDER;

		while (idx + (1UL << order) > end)
			order--;
		z->nr_alloc -= 1UL << order;
		__free_one_page(z, base + idx, order, clean);
		idx += 1UL << order;
	}
}

/**
 * __alloc_pages_exact - @nr pages (1..MAX_ORDER_NR_PAGES) as the start of a
 * block of get_order() pages whose unused tail goes straight back to the
 * free lists (the kernel's alloc_pages_exact()).  page->private keeps @nr.
 */
struct page *__alloc_pages_exact(int nid, gfp_t gfp, unsigned long nr, bool *zeroed)
{
	unsigned int order = get_order(nr << PAGE_SHIFT);
	struct page *page;
	bool clean;
	struct zone *z;

	page = __alloc_pages(nid, gfp, order, &clean);
	if (!page)
		return NULL;
	if (nr < (1UL << order)) {
		z = &zones[page->node];
		spin_lock(&z->lock);
		free_range(z, page, nr, 1UL << order, clean);
		spin_unlock(&z->lock);
	}
	page->private = nr;
	if (zeroed)
		*zeroed = clean;
	return page;
}

/* __free_pages_exact - give back what __alloc_pages_exact() handed out. */
void __free_pages_exact(struct page *page, unsigned long nr)
{
	struct zone *z = &zones[page->node];

	page->flags = 0;
	spin_lock(&z->lock);
	free_range(z, page, 0, nr, false);
	zone_freed(z);
}

/*
 * block_head - the head of the block (free, being released, or handed out)
 * that holds @page, or NULL if none does (a part of the arena never
 * carved).  Only heads carry block state (section 6 above), so the first
 * naturally aligned head at or below @page whose order reaches over it is
 * that block's.  For reports: not under the lock, and a racing free may
 * change the answer.
 */
static struct page *block_head(struct page *page)
{
	struct page *map = (struct page *)((uintptr_t)page & ~(ARENA_SIZE - 1));
	unsigned long idx = (unsigned long)(page - map);

	for (unsigned int o = 0; o <= MAX_ORDER; o++) {
		struct page *head = map + (idx & ~((1UL << o) - 1));

		if ((head->flags & (PG_buddy | PG_isolated | PG_head)) && head->order >= o)
			return head;
	}
	return NULL;
}

/* Checks every free must pass; a test hook may let a bad one return. */
static bool free_pages_check(const void *addr, struct page *page, unsigned int order)
{
	char why[128];

	if (!addr_in_arena(addr) || !arena_reserved(addr)) {
		bad_page(addr, NULL, "address outside every uslab arena");
		return false;
	}
	if (page_index(addr) < ARENA_META_PAGES) {
		bad_page(addr, NULL, "address inside an arena's page array");
		return false;
	}
	if (page->flags & (PG_buddy | PG_isolated)) {
		bad_page(addr, page, "page is already free (double free)");
		return false;
	}
	if (!(page->flags & PG_head)) {
		/* Say which: freed before and merged, or a tail page. */
		struct page *head = block_head(page);

		if (head && (head->flags & (PG_buddy | PG_isolated)))
			uslab_snprintf(why, sizeof(why), "page is already free (double free): "
				       "inside the free order-%u block at %p",
				       head->order, __page_address(head));
		else if (head)
			uslab_snprintf(why, sizeof(why), "not the first page of an allocated block: "
				       "a tail page of the order-%u block at %p",
				       head->order, __page_address(head));
		else
			uslab_snprintf(why, sizeof(why), "not the first page of an allocated block");
		bad_page(addr, page, why);
		return false;
	}
	if (page->flags & (PG_slab | PG_large_kmalloc)) {
		bad_page(addr, page, "page still in use by the slab allocator");
		return false;
	}
	if (page->order != order) {
		uslab_snprintf(why, sizeof(why), "freed as order %u, allocated as order %u",
			       order, page->order);
		bad_page(addr, page, why);
		return false;
	}
	return true;
}

/* --------------------------------------------------- allocation failure */

/* The kernel's gfpflag_names, for the flags uslab keeps: composites first. */
static const struct {
	gfp_t mask;
	const char *name;
} gfp_names[] = {
	{ GFP_KERNEL_ACCOUNT,	"GFP_KERNEL_ACCOUNT" },
	{ GFP_KERNEL,		"GFP_KERNEL" },
	{ GFP_NOFS,		"GFP_NOFS" },
	{ GFP_ATOMIC,		"GFP_ATOMIC" },
	{ GFP_NOIO,		"GFP_NOIO" },
	{ GFP_NOWAIT,		"GFP_NOWAIT" },
	{ GFP_DMA,		"GFP_DMA" },
	{ __GFP_HIGH,		"__GFP_HIGH" },
	{ __GFP_IO,		"__GFP_IO" },
	{ __GFP_FS,		"__GFP_FS" },
	{ __GFP_ZERO,		"__GFP_ZERO" },
	{ __GFP_DIRECT_RECLAIM,	"__GFP_DIRECT_RECLAIM" },
	{ __GFP_KSWAPD_RECLAIM,	"__GFP_KSWAPD_RECLAIM" },
	{ __GFP_NOWARN,		"__GFP_NOWARN" },
	{ __GFP_RETRY_MAYFAIL,	"__GFP_RETRY_MAYFAIL" },
	{ __GFP_NOFAIL,		"__GFP_NOFAIL" },
	{ __GFP_NORETRY,	"__GFP_NORETRY" },
	{ __GFP_COMP,		"__GFP_COMP" },
	{ __GFP_ACCOUNT,	"__GFP_ACCOUNT" },
};

/* "GFP_KERNEL|__GFP_ZERO", as the kernel's %pGg prints a gfp mask. */
static void gfp_format(struct seq_buf *m, gfp_t gfp)
{
	const char *sep = "";

	for (size_t i = 0; i < ARRAY_SIZE(gfp_names); i++) {
		if ((gfp & gfp_names[i].mask) != gfp_names[i].mask)
			continue;
		seq_printf(m, "%s%s", sep, gfp_names[i].name);
		gfp &= ~gfp_names[i].mask;
		sep = "|";
	}
	if (gfp)
		seq_printf(m, "%s%#x", sep, gfp);
}

/*
 * warn_ratelimit - the kernel's nopage_rs: at most 10 reports in 5 s, so a
 * program that keeps running out of memory does not drown its stderr.
 * Racing threads may print one or two more; that is harmless.
 */
static bool warn_ratelimit(void)
{
	static uint64_t begin;
	static unsigned int printed;
	uint64_t now = os_now_ns(), b = __atomic_load_n(&begin, __ATOMIC_RELAXED);

	if (!b || now - b >= 5000000000ull) {
		if (__atomic_compare_exchange_n(&begin, &b, now, false,
						__ATOMIC_RELAXED, __ATOMIC_RELAXED))
			__atomic_store_n(&printed, 0, __ATOMIC_RELAXED);
	}
	return __atomic_add_fetch(&printed, 1, __ATOMIC_RELAXED) <= 10;
}

/*
 * warn_alloc - the kernel's report of a failed allocation: the request,
 * then (as show_free_areas) each zone's free blocks, then @why, if given,
 * the zone could not grow.  Written a line at a time with pr_warn:
 * nothing allocates.
 */
static noinline __cold void warn_alloc(gfp_t gfp, unsigned int order, const char *why)
{
	char line[320];
	struct seq_buf m = { line, sizeof(line), 0 };

	gfp_format(&m, gfp);
	seq_finish(&m);
	pr_warn("%s: page allocation failure: order:%u, mode:%#x(%s), nodemask=(null)\n",
		program_invocation_short_name, order, gfp, line);
	for (int nid = 0; nid < nr_node_ids; nid++) {
		struct zone *z = &zones[nid];
		unsigned long nr[MAX_ORDER + 1], total = 0, managed, nr_free, nr_alloc;

		spin_lock(&z->lock);
		for (int o = 0; o <= MAX_ORDER; o++)
			nr[o] = z->free_area[o].nr_free;
		managed = z->managed;
		nr_free = z->nr_free;
		nr_alloc = z->nr_alloc;
		spin_unlock(&z->lock);

		m.len = 0;
		seq_printf(&m, "Node %d Normal:", nid);
		for (int o = 0; o <= MAX_ORDER; o++) {
			seq_printf(&m, " %lu*%lukB", nr[o], (PAGE_SIZE << o) >> 10);
			total += nr[o] << o;
		}
		seq_printf(&m, " = %lukB", (total * PAGE_SIZE) >> 10);
		seq_finish(&m);
		pr_warn("%s\n", line);
		pr_warn("Node %d Normal: managed:%lukB free:%lukB allocated:%lukB\n", nid,
			(managed * PAGE_SIZE) >> 10, (nr_free * PAGE_SIZE) >> 10,
			(nr_alloc * PAGE_SIZE) >> 10);
	}
	if (why)
		pr_warn("uslab: %s\n", why);
}

/* Why an allocation of @order failed, as well as can be told afterwards. */
static const char *alloc_fail_reason(gfp_t gfp, unsigned int order, char *buf, size_t size)
{
	if (order > MAX_ORDER)
		uslab_snprintf(buf, size, "order %u is above MAX_ORDER (%d)", order, MAX_ORDER);
	else if (!limit_allows(MAX_ORDER_NR_PAGES))
		uslab_snprintf(buf, size, "page_limit_mb (%lu MiB) reached and no free block "
			       "of order %u or more", limit_pages >> (20 - PAGE_SHIFT), order);
	else if (!(gfp & (__GFP_DIRECT_RECLAIM | __GFP_NOFAIL)))
		uslab_snprintf(buf, size, "no free block of order %u or more, and the caller "
			       "may not wait for the zone to grow", order);
	else
		uslab_snprintf(buf, size, "the system refused memory for a new block (mmap/mprotect)");
	return buf;
}

/*
 * alloc_pages_failed - report a failed alloc_pages_node() unless
 * __GFP_NOWARN; abort if the caller said __GFP_NOFAIL.  By the time
 * __alloc_pages() gives up on a __GFP_NOFAIL request it has waited for the
 * grow lock and looked at the lists once more after the refusal, so the
 * memory is refused for good: page_limit_mb is reached, the OS said no, or
 * the order can never be served.
 */
static noinline __cold struct page *alloc_pages_failed(gfp_t gfp, unsigned int order)
{
	char why[128];

	alloc_fail_reason(gfp, order, why, sizeof(why));
	if (gfp & __GFP_NOFAIL) {
		warn_alloc(gfp, order, NULL);	/* the panic line says why */
		uslab_panic("Out of memory: a __GFP_NOFAIL allocation of order %u cannot be met: %s\n",
			    order, why);
	}
	if (!(gfp & __GFP_NOWARN) && warn_ratelimit())
		warn_alloc(gfp, order, why);
	return NULL;
}

USLAB_API struct page *alloc_pages_node(int nid, gfp_t gfp, unsigned int order)
{
	struct page *page;
	bool zeroed;

	page_alloc_init();
	page = __alloc_pages(nid, gfp, order, &zeroed);
	if (unlikely(!page))
		return alloc_pages_failed(gfp, order);
	if ((gfp & __GFP_ZERO) && !zeroed)
		memset(__page_address(page), 0, PAGE_SIZE << order);
	return page;
}

USLAB_API struct page *alloc_pages(gfp_t gfp, unsigned int order)
{
	return alloc_pages_node(NUMA_NO_NODE, gfp, order);
}

USLAB_API void __free_pages(struct page *page, unsigned int order)
{
	const void *addr;

	if (!page)
		return;
	/* A struct page pointer is as untrusted as an address: check it first. */
	if (!addr_in_arena(page) || page_index(page) >= ARENA_META_PAGES ||
	    ((uintptr_t)page & (sizeof(struct page) - 1)) ||
	    page_index(__page_address(page)) < ARENA_META_PAGES ||
	    !arena_reserved(__page_address(page))) {
		bad_page(page, NULL, "not a struct page of a uslab arena");
		return;
	}
	addr = __page_address(page);
	if (free_pages_check(addr, page, order))
		__free_pages_ok(page, order);
}

USLAB_API unsigned long __get_free_pages(gfp_t gfp, unsigned int order)
{
	struct page *page = alloc_pages(gfp, order);

	return page ? (unsigned long)__page_address(page) : 0;
}

USLAB_API unsigned long get_zeroed_page(gfp_t gfp)
{
	return __get_free_pages(gfp | __GFP_ZERO, 0);
}

USLAB_API void free_pages(unsigned long addr, unsigned int order)
{
	struct page *page;

	if (!addr)
		return;
	if (!addr_in_arena((void *)addr) || !arena_reserved((void *)addr)) {
		bad_page((void *)addr, NULL, "address outside every uslab arena");
		return;
	}
	page = __virt_to_page((void *)addr);
	if (!IS_ALIGNED(addr, PAGE_SIZE)) {
		bad_page((void *)addr, page, "address is not the start of a page");
		return;
	}
	if (free_pages_check((void *)addr, page, order))
		__free_pages_ok(page, order);
}

USLAB_API void *page_address(const struct page *page)
{
	return __page_address(page);
}

USLAB_API struct page *virt_to_page(const void *addr)
{
	return addr_in_arena(addr) && arena_reserved(addr) ? __virt_to_page(addr) : NULL;
}

/*
 * page_alloc_trim - release every dirty free page and every cached direct
 * mapping; the zones forget what churn taught them (the program said it
 * is done with that memory).  Returns the bytes given back.
 */
size_t page_alloc_trim(void)
{
	size_t pages = 0;

	page_alloc_init();
	for (int nid = 0; nid < nr_node_ids; nid++) {
		struct zone *z = &zones[nid];

		spin_lock(&z->lock);
		z->retain_extra = 0;
		z->recent_released = 0;
		z->hold = 0;
		spin_unlock(&z->lock);
		pages += zone_release(z, 0, false);
	}
	return (pages << PAGE_SHIFT) + large_cache_drain();
}

/* ------------------------------------------------------------- decay */

/*
 * zone_decay - one tick for @z.  Unless a refault raised the bound in the
 * last DECAY_STEPS ticks, the extra falls by a step (a quarter of its
 * peak) when it was of no use during the last interval: the zone's dirty
 * pages stayed above retain_pages all along (memory that sat there,
 * unused), or never went above it (nothing to keep).  A zone whose free
 * memory is used up and freed again within each interval, as a churning
 * program's is, keeps its bound.  What is over the bound then is
 * released.  At the end of each @period (DECAY_STEPS ticks) the count of
 * recently released pages halves.  Returns whether the zone still has
 * something to decay.
 */
static bool zone_decay(struct zone *z, bool period)
{
	unsigned long idle, bound, dirty;
	bool pending;

	spin_lock(&z->lock);
	idle = min_t(unsigned long, z->dirty_low, z->nr_dirty);
	if (z->hold)
		z->hold--;
	else if (z->retain_extra && (idle > retain_pages || z->dirty_high <= retain_pages))
		z->retain_extra -= min_t(unsigned long, z->extra_step, z->retain_extra);
	if (period)
		z->recent_released /= 2;
	z->dirty_low = z->dirty_high = z->nr_dirty;
	bound = zone_retain_bound(z);
	dirty = z->nr_dirty;
	pending = z->retain_extra || z->recent_released || z->hold;
	spin_unlock(&z->lock);
	if (dirty > bound)
		zone_release(z, bound, true);
	return pending;
}

/*
 * page_decay_maybe - the slow paths' clock: at most once per tick, one
 * caller (whoever wins the compare-and-swap) decays every zone and the
 * mapping cache.  Called with no lock held.  No thread and no timer: a
 * program that stops calling the allocator keeps what it has until it
 * calls again, or calls uslab_trim().
 */
static void page_decay_maybe(void)
{
	uint64_t now = os_coarse_ns(), next = __atomic_load_n(&decay_next, __ATOMIC_RELAXED);
	bool pending = false, period;

	if (now < next)
		return;
	if (!__atomic_compare_exchange_n(&decay_next, &next, now + decay_ns / DECAY_STEPS,
					 false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;
	/*
	 * Disarm first: whatever arms it again while the zones are looked at
	 * is then not lost.
	 */
	__atomic_store_n(&decay_armed, false, __ATOMIC_RELAXED);
	period = __atomic_add_fetch(&decay_ticks, 1, __ATOMIC_RELAXED) % DECAY_STEPS == 0;
	for (int nid = 0; nid < nr_node_ids; nid++)
		pending |= zone_decay(&zones[nid], period);
	pending |= large_cache_decay(now);
	if (pending)
		__atomic_store_n(&decay_armed, true, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------ observability */

/* Node @nid's free blocks per order; false if its lock stays held (stats.h). */
bool buddy_snapshot(int nid, unsigned long *nr)
{
	struct zone *z = &zones[nid];

	if (!stats_spin_lock(&z->lock))
		return false;
	for (int o = 0; o <= MAX_ORDER; o++)
		nr[o] = z->free_area[o].nr_free;
	spin_unlock(&z->lock);
	return true;
}

USLAB_API size_t uslab_buddyinfo(char *buf, size_t size)
{
	struct seq_buf m = { buf, size, 0 };

	page_alloc_init();
	for (int nid = 0; nid < nr_node_ids; nid++) {
		unsigned long nr[MAX_ORDER + 1];

		buddy_snapshot(nid, nr);
		seq_printf(&m, "Node %d, zone %8s ", nid, "Normal");
		for (int o = 0; o <= MAX_ORDER; o++)
			seq_printf(&m, "%6lu ", nr[o]);
		seq_printf(&m, "\n");
	}
	return seq_finish(&m);
}

static unsigned long large_pages;		/* in live direct mappings */
static unsigned long large_cached_pages;	/* in cached ones */
static unsigned long large_reused;		/* mappings handed out again */

bool page_stats_snapshot(struct uslab_page_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (int nid = 0; nid < nr_node_ids; nid++) {
		struct zone *z = &zones[nid];

		if (!stats_spin_lock(&z->lock))
			return false;
		st->reserved += z->reserved;
		st->managed += z->managed;
		st->free += z->nr_free;
		st->free_dirty += z->nr_dirty;
		st->allocated += z->nr_alloc;
		st->released += z->released;
		st->nr_arenas += z->nr_arenas;
		st->retain_bound += zone_retain_bound(z);
		st->refaulted += z->refaulted;
		spin_unlock(&z->lock);
	}
	st->direct_mapped = __atomic_load_n(&large_pages, __ATOMIC_RELAXED);
	st->direct_cached = __atomic_load_n(&large_cached_pages, __ATOMIC_RELAXED);
	st->direct_reused = __atomic_load_n(&large_reused, __ATOMIC_RELAXED);
	st->nr_nodes = (unsigned int)nr_node_ids;
	return true;
}

USLAB_API void uslab_page_stats(struct uslab_page_stats *st)
{
	page_alloc_init();
	page_stats_snapshot(st);
}

/* ---------------------------------------------------- direct mappings */

#define LARGE_MAGIC	0x75736c61626c6731ull	/* "uslablg1" */
#define LARGE_BUCKETS	4096

struct large_hdr {
	uint64_t magic;
	void *map;		/* the whole mapping */
	size_t map_size;
	size_t size;		/* usable bytes from the data start, as handed out */
	struct large_hdr *next;	/* hash chain; a list of mappings to unmap */
	uint64_t cached_at;	/* in the cache: coarse ns it came in or was cleaned */
	bool clean;		/* in the cache: released with madvise, reads as zeroes */
	bool busy;		/* in the cache: being released, not to be taken */
};

static struct large_hdr *large_table[LARGE_BUCKETS];
static pthread_mutex_t large_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * The starts of the last FREED_MAPS direct mappings freed, so that a
 * second free of one is reported as a double free rather than as a
 * pointer we never saw.  A new mapping at the same address takes its
 * entry out.  Under large_lock.
 */
#define FREED_MAPS 64
static const void *freed_maps[FREED_MAPS];
static unsigned int freed_maps_next;

/*
 * The mapping cache.  A direct mapping that is freed stays mapped, pages
 * and all, in a small cache (oldest first), so that a program that
 * allocates and frees the same big size in a loop pays neither mmap and
 * munmap nor the page faults of a fresh mapping each time (glibc gets
 * the same effect by raising its mmap threshold to the size of a freed
 * chunk; mimalloc and jemalloc keep freed spans for a while).  At most
 * LARGE_CACHE_MAX mappings and large_cache_max_pages (twice
 * page_retain_mb) are cached; the oldest go first.  A cached mapping is
 * released with madvise once it has been unused for page_decay_ms, and
 * unmapped after as long again; uslab_trim(), a zone that cannot grow
 * and a direct mapping that cannot be made unmap every cached one.
 * Cached mappings are out of large_table, so nothing takes them for live
 * blocks, and large_was_freed() knows them as freed.  Not used under
 * memcheck or ASan poisoning, which must see a freed mapping go.  Under
 * large_lock.
 */
#define LARGE_CACHE_MAX	8
/* A cached mapping serves a request that leaves at most this fraction unused. */
#define LARGE_CACHE_SLACK 4
static struct large_hdr *large_cache[LARGE_CACHE_MAX];
static unsigned int large_cache_nr;

static inline char *large_data(const struct large_hdr *h)
{
	return (char *)h->map + PAGE_SIZE;
}

static void freed_maps_forget(const void *p)
{
	for (unsigned int i = 0; i < FREED_MAPS; i++)
		if (freed_maps[i] == p)
			freed_maps[i] = NULL;
}

static bool large_was_freed(const void *p)
{
	bool found = false;

	pthread_mutex_lock(&large_lock);
	for (unsigned int i = 0; i < FREED_MAPS && !found; i++)
		found = freed_maps[i] == p;
	for (unsigned int i = 0; i < large_cache_nr && !found; i++)
		found = large_data(large_cache[i]) == p;
	pthread_mutex_unlock(&large_lock);
	return found;
}

static inline unsigned int large_hash(const void *p)
{
	uint64_t v = (uintptr_t)p >> PAGE_SHIFT;

	return (unsigned int)((v * 0x9e3779b97f4a7c15ull) >> 52) & (LARGE_BUCKETS - 1);
}

/* Unmap a mapping that is in neither the table nor the cache. */
static void large_destroy(struct large_hdr *h)
{
	size_t map_size = h->map_size;	/* h lives in the mapping */

	os_unmap(h->map, map_size);
	limit_uncharge(map_size >> PAGE_SHIFT);
}

/* Unmap a list of mappings chained by ->next; returns their bytes. */
static size_t large_destroy_list(struct large_hdr *h)
{
	size_t bytes = 0;

	while (h) {
		struct large_hdr *next = h->next;

		bytes += h->map_size;
		large_destroy(h);
		h = next;
	}
	return bytes;
}

/* Take cache entry @i out, keeping the rest in age order.  Under large_lock. */
static struct large_hdr *large_cache_del(unsigned int i)
{
	struct large_hdr *h = large_cache[i];

	memmove(&large_cache[i], &large_cache[i + 1],
		(large_cache_nr - i - 1) * sizeof(large_cache[0]));
	large_cache_nr--;
	__atomic_sub_fetch(&large_cached_pages, h->map_size >> PAGE_SHIFT, __ATOMIC_RELAXED);
	return h;
}

/* Whether the mapping cache has a slot and the pages for @pages more (under large_lock). */
static bool large_cache_room(unsigned long pages)
{
	return large_cache_nr < LARGE_CACHE_MAX &&
	       __atomic_load_n(&large_cached_pages, __ATOMIC_RELAXED) + pages <= large_cache_max_pages;
}

/*
 * large_cache_put - cache the freed mapping @h, first evicting the
 * oldest idle entries (onto *@evict) until it fits.  False if it cannot
 * be cached: the caller unmaps it.  Under large_lock.
 */
static bool large_cache_put(struct large_hdr *h, uint64_t now, struct large_hdr **evict)
{
	unsigned long pages = h->map_size >> PAGE_SHIFT;

	if (pages > large_cache_max_pages || sanitize_active())
		return false;
	for (unsigned int i = 0; i < large_cache_nr && !large_cache_room(pages);) {
		struct large_hdr *old;

		if (large_cache[i]->busy) {
			i++;
			continue;
		}
		old = large_cache_del(i);
		old->next = *evict;
		*evict = old;
	}
	if (!large_cache_room(pages))
		return false;	/* what is left is busy being released */
	h->cached_at = now;
	h->clean = false;
	h->busy = false;
	large_cache[large_cache_nr++] = h;
	__atomic_add_fetch(&large_cached_pages, pages, __ATOMIC_RELAXED);
	__atomic_store_n(&decay_armed, true, __ATOMIC_RELAXED);
	return true;
}

/*
 * large_cache_take - the cached mapping that best fits @data bytes at
 * @align: big enough, wasting at most a LARGE_CACHE_SLACK-th of the
 * request, its data start aligned; the smallest such, the newest of
 * equals.  Under large_lock.
 */
static struct large_hdr *large_cache_take(size_t data, size_t align)
{
	int best = -1;

	for (int i = (int)large_cache_nr - 1; i >= 0; i--) {
		const struct large_hdr *h = large_cache[i];
		size_t room = h->map_size - PAGE_SIZE;

		if (h->busy || room < data || room - data > data / LARGE_CACHE_SLACK ||
		    !IS_ALIGNED((uintptr_t)large_data(h), align))
			continue;
		if (best < 0 || room < large_cache[best]->map_size - PAGE_SIZE)
			best = i;
	}
	return best < 0 ? NULL : large_cache_del((unsigned int)best);
}

/*
 * large_cache_drain - unmap every cached mapping not being released right
 * now; returns their bytes.
 */
static size_t large_cache_drain(void)
{
	struct large_hdr *gone = NULL;

	if (!__atomic_load_n(&large_cached_pages, __ATOMIC_RELAXED))
		return 0;
	pthread_mutex_lock(&large_lock);
	for (unsigned int i = 0; i < large_cache_nr;) {
		struct large_hdr *h;

		if (large_cache[i]->busy) {
			i++;
			continue;
		}
		h = large_cache_del(i);
		h->next = gone;
		gone = h;
	}
	pthread_mutex_unlock(&large_lock);
	return large_destroy_list(gone);
}

/*
 * large_cache_decay - the mapping cache's tick: a mapping cached for
 * page_decay_ms is released (madvise, outside the lock, marked busy
 * meanwhile so nobody takes or evicts it), one clean for as long again
 * is unmapped.  Returns whether anything is left to decay.
 */
static bool large_cache_decay(uint64_t now)
{
	struct large_hdr *stale[LARGE_CACHE_MAX], *gone = NULL;
	unsigned int nr_stale = 0;
	bool pending;

	if (!__atomic_load_n(&large_cached_pages, __ATOMIC_RELAXED))
		return false;
	pthread_mutex_lock(&large_lock);
	for (unsigned int i = 0; i < large_cache_nr;) {
		struct large_hdr *h = large_cache[i];

		if (h->busy || now - h->cached_at < decay_ns) {
			i++;
		} else if (h->clean) {
			large_cache_del(i);
			h->next = gone;
			gone = h;
		} else {
			h->busy = true;
			stale[nr_stale++] = h;
			i++;
		}
	}
	pthread_mutex_unlock(&large_lock);

	for (unsigned int i = 0; i < nr_stale; i++)
		os_release(large_data(stale[i]), stale[i]->map_size - PAGE_SIZE);
	large_destroy_list(gone);

	pthread_mutex_lock(&large_lock);
	for (unsigned int i = 0; i < nr_stale; i++) {
		stale[i]->clean = true;
		stale[i]->cached_at = now;
		stale[i]->busy = false;
	}
	pending = large_cache_nr != 0;
	pthread_mutex_unlock(&large_lock);
	return pending;
}

/*
 * large_zero - make the @size bytes at @p, part of a cached mapping,
 * read as zeroes: pages in memory are cleared with memset, the others
 * (never touched, or swapped out) dropped with madvise, so a page never
 * touched is not faulted in only to be cleared.  mincore() reads 4 MiB
 * at a time into a stack buffer.
 */
static void large_zero(char *p, size_t size)
{
	unsigned char vec[1024];

	for (size_t off = 0; off < size;) {
		size_t len = min_t(size_t, size - off, sizeof(vec) << PAGE_SHIFT);
		size_t n = len >> PAGE_SHIFT;

		if (os_resident(p + off, len, vec)) {
			os_release(p + off, len);
			off += len;
			continue;
		}
		for (size_t i = 0, j; i < n; i = j) {
			bool in = vec[i] & 1;

			for (j = i + 1; j < n && (bool)(vec[j] & 1) == in; j++)
				;
			if (in)
				memset(p + off + (i << PAGE_SHIFT), 0, (j - i) << PAGE_SHIFT);
			else
				os_release(p + off + (i << PAGE_SHIFT), (j - i) << PAGE_SHIFT);
		}
		off += len;
	}
}

/* large_register - make @h a live mapping of @data usable bytes. */
static void *large_register(struct large_hdr *h, size_t data)
{
	char *start = large_data(h);
	unsigned int b = large_hash(start);

	h->size = data;
	pthread_mutex_lock(&large_lock);
	freed_maps_forget(start);
	h->next = large_table[b];
	large_table[b] = h;
	pthread_mutex_unlock(&large_lock);
	__atomic_add_fetch(&large_pages, h->map_size >> PAGE_SHIFT, __ATOMIC_RELAXED);
	sanitize_map_alloc(start, data);
	return start;
}

/*
 * large_map_gfp - a mapping of its own with @size usable bytes aligned to
 * @align (a power of two, at least a page); the header page sits just
 * below the data.  A cached mapping that fits is taken first (cleared
 * for __GFP_ZERO unless it was released); a new one reads as zeroes.
 */
void *large_map_gfp(size_t size, size_t align, gfp_t gfp)
{
	size_t data = ALIGN(size, PAGE_SIZE), span;
	struct large_hdr *h = NULL;
	char *keep;

	if (size == 0 || data < size)
		return NULL;
	if (__builtin_add_overflow(data, PAGE_SIZE, &span))
		return NULL;
	page_alloc_init();
	if (__atomic_load_n(&large_cached_pages, __ATOMIC_RELAXED)) {
		pthread_mutex_lock(&large_lock);
		h = large_cache_take(data, align);
		pthread_mutex_unlock(&large_lock);
	}
	if (h) {
		if ((gfp & __GFP_ZERO) && !h->clean)
			large_zero(large_data(h), data);
		__atomic_add_fetch(&large_reused, 1, __ATOMIC_RELAXED);
		return large_register(h, data);
	}

	for (int tries = 0;; tries++) {
		keep = NULL;
		if (limit_charge(span >> PAGE_SHIFT)) {
			/* The header page first, the data aligned just above it. */
			keep = os_map_aligned(span, align, PAGE_SIZE);
			if (!keep)
				limit_uncharge(span >> PAGE_SHIFT);
		}
		/* Refused: what the cache holds may be in the way. */
		if (keep || tries || !large_cache_drain())
			break;
	}
	if (!keep)
		return NULL;
	h = (struct large_hdr *)keep;
	h->magic = LARGE_MAGIC;
	h->map = keep;
	h->map_size = span;
	return large_register(h, data);
}

void *large_map(size_t size, size_t align)
{
	return large_map_gfp(size, align, __GFP_ZERO);
}

static struct large_hdr **large_find(const void *p)
{
	struct large_hdr **pp = &large_table[large_hash(p)];

	for (; *pp; pp = &(*pp)->next)
		if (large_data(*pp) == (const char *)p)
			return pp;
	return NULL;
}

/*
 * large_unmap - free a direct mapping: into the cache if it fits, else
 * unmapped; false if @p is not the start of a live one.
 */
bool large_unmap(const void *p)
{
	struct large_hdr **pp, *h, *evict = NULL;
	bool cached = false;

	if (!IS_ALIGNED((uintptr_t)p, PAGE_SIZE))
		return false;
	pthread_mutex_lock(&large_lock);
	pp = large_find(p);
	h = pp ? *pp : NULL;
	if (h) {
		*pp = h->next;
		freed_maps[freed_maps_next++ % FREED_MAPS] = p;
		__atomic_sub_fetch(&large_pages, h->map_size >> PAGE_SHIFT, __ATOMIC_RELAXED);
		sanitize_map_free(p);
		if (large_cache_max_pages)
			cached = large_cache_put(h, os_coarse_ns(), &evict);
	}
	pthread_mutex_unlock(&large_lock);
	if (!h)
		return false;
	large_destroy_list(evict);
	if (!cached)
		large_destroy(h);
	if (__atomic_load_n(&decay_armed, __ATOMIC_RELAXED))
		page_decay_maybe();
	return true;
}

/* large_size - usable bytes of a live direct mapping, 0 if @p is not one. */
size_t large_size(const void *p)
{
	struct large_hdr **pp;
	size_t size = 0;

	if (!IS_ALIGNED((uintptr_t)p, PAGE_SIZE))
		return 0;
	pthread_mutex_lock(&large_lock);
	pp = large_find(p);
	if (pp)
		size = (*pp)->size;
	pthread_mutex_unlock(&large_lock);
	return size;
}

/* ------------------------------------------------- the pointer classifier */

/**
 * classify_ptr - what @p is: the one answer to "is this pointer ours,
 * which arena, which page, a slab, a kmalloc_large block or a direct
 * mapping" that kfree, ksize, realloc, uslab_owns and the checks share.
 * For PTR_BAD, info->why says what is wrong, for the report.
 */
enum ptr_kind classify_ptr(const void *p, struct ptr_info *info)
{
	struct page *page, *head;

	info->page = NULL;
	info->size = 0;
	info->why = NULL;
	if (ZERO_OR_NULL_PTR(p))
		return PTR_NULL;
	/* The unreserved tail of a slot may hold anyone's mapping, ours too. */
	if (!addr_in_arena(p) || !arena_reserved(p)) {
		info->size = large_size(p);
		if (info->size)
			return PTR_MAPPING;
		return large_was_freed(p) ? PTR_FREED_MAPPING : PTR_FOREIGN;
	}
	if (page_index(p) < ARENA_META_PAGES)
		return PTR_META;
	page = __virt_to_page(p);
	if (page->flags & PG_slab) {
		info->page = compound_head(page);
		return PTR_SLAB;
	}
	info->page = page;
	if ((page->flags & (PG_head | PG_large_kmalloc)) == (PG_head | PG_large_kmalloc) &&
	    p == __page_address(page)) {
		info->size = page->private << PAGE_SHIFT;
		return PTR_LARGE;
	}
	head = block_head(page);
	if (head && (head->flags & (PG_buddy | PG_isolated)))
		uslab_snprintf(info->why_buf, sizeof(info->why_buf),
			       "page is already free (double free): inside the free order-%u block at %p",
			       head->order, __page_address(head));
	else if (head && (head->flags & PG_large_kmalloc))
		uslab_snprintf(info->why_buf, sizeof(info->why_buf),
			       "not the start of the kmalloc_large block at %p", __page_address(head));
	else if (head)
		uslab_snprintf(info->why_buf, sizeof(info->why_buf),
			       "not a slab or a kmalloc_large block: a page of the order-%u block at %p",
			       head->order, __page_address(head));
	else
		uslab_snprintf(info->why_buf, sizeof(info->why_buf),
			       "not part of any allocated block");
	info->why = info->why_buf;
	return PTR_BAD;
}

void report_bad_ptr(const char *who, const void *p, enum ptr_kind kind,
		    const struct ptr_info *info)
{
	switch (kind) {
	case PTR_FOREIGN:
		free_err(who, p, "Invalid object pointer",
			 "outside every slab arena and every mapping of ours");
		break;
	case PTR_META:
		free_err(who, p, "Invalid object pointer", "inside an arena's struct page array");
		break;
	case PTR_FREED_MAPPING:
		free_err(who, p, "Object already free",
			 "a direct mapping that is already free (double free)");
		break;
	case PTR_BAD:
		bad_page(p, info->page, info->why);
		break;
	default:
		break;
	}
}

/* --------------------------------------------------------------- fork */

static void page_alloc_fork_prepare(void)
{
	for (int nid = 0; nid < nr_node_ids; nid++)
		pthread_mutex_lock(&zones[nid].grow_lock);
	for (int nid = 0; nid < nr_node_ids; nid++)
		spin_lock(&zones[nid].lock);
	pthread_mutex_lock(&large_lock);
}

static void page_alloc_fork_parent(void)
{
	pthread_mutex_unlock(&large_lock);
	for (int nid = nr_node_ids - 1; nid >= 0; nid--)
		spin_unlock(&zones[nid].lock);
	for (int nid = nr_node_ids - 1; nid >= 0; nid--)
		pthread_mutex_unlock(&zones[nid].grow_lock);
}

static void page_alloc_fork_child(void)
{
	/*
	 * A cached mapping another thread was releasing stays as it was
	 * found: dirty, and free to take, since that thread is not here.
	 */
	for (unsigned int i = 0; i < large_cache_nr; i++)
		large_cache[i]->busy = false;
	pthread_mutex_init(&large_lock, NULL);
	for (int nid = 0; nid < nr_node_ids; nid++) {
		spin_lock_init(&zones[nid].lock);
		pthread_mutex_init(&zones[nid].grow_lock, NULL);
	}
}

/*
 * The page allocator's fork handlers are registered by its own
 * constructor, the first of the library's (init.c's come next): glibc
 * runs prepare handlers in reverse order of registration, so the zone
 * locks are taken after the slab layer's locks, as the lock order says,
 * and released before them.  A constructor, not page_alloc_init(),
 * because pthread_atfork() allocates under glibc's atfork lock: called
 * from an allocation made inside somebody else's pthread_atfork() it
 * would deadlock (init.c explains the ordering against the program's
 * own handlers).
 */
__attribute__((constructor(101))) static void page_alloc_register_fork(void)
{
	pthread_atfork(page_alloc_fork_prepare, page_alloc_fork_parent, page_alloc_fork_child);
}
