/* SPDX-License-Identifier: MIT */
/*
 * slub_def.h - SLUB's structures (the kernel's include/linux/slub_def.h and
 * SLUB's struct slab of mm/slab.h): its overlay of struct page, its part
 * of struct kmem_cache, its per-CPU and per-node structures.
 */
#ifndef USLAB_SLUB_DEF_H
#define USLAB_SLUB_DEF_H

#include "../slab.h"
#include "../cpu.h"

/*
 * struct slab - SLUB's view of a slab's head page.  The page allocator's
 * fields (flags, order, node) and slab_cache stay where struct page has
 * them (SLAB_MATCH below); the rest is SLUB's.
 */
struct slab {
	unsigned long __page_flags;
	union {
		struct list_head slab_list;	/* node partial list */
		struct {			/* frozen: cpu slab or cpu partial */
			struct slab *next;	/* the cpu partial chain */
			void *owner;		/* cpu area of the thread that froze it */
		};
	};
	struct kmem_cache *slab_cache;
	/* freelist and counters change together with one cmpxchg16b */
	union {
		struct {
			void *freelist;
			union {
				unsigned long counters;
				struct {
					unsigned inuse:16;
					unsigned objects:15;
					unsigned frozen:1;
				};
			};
		};
		__uint128_t freelist_counters;
	} __attribute__((aligned(16)));
	unsigned short __page_order;
	unsigned short __page_node;
	/* the owner's local freelist (slub.c): head, length, index of its last object */
	unsigned short local_count;
	unsigned short local_tail;
	unsigned long local_free;
};

/* A view of slab->counters to compute a new value in. */
union slab_counters {
	unsigned long counters;
	struct {
		unsigned inuse:16;
		unsigned objects:15;
		unsigned frozen:1;
	};
};

#define SLAB_MATCH(pg, sl)						\
	_Static_assert(offsetof(struct page, pg) == offsetof(struct slab, sl), \
		       "struct slab and struct page disagree on " #pg)
SLAB_MATCH(flags, __page_flags);
SLAB_MATCH(lru, slab_list);
SLAB_MATCH(slab_cache, slab_cache);
SLAB_MATCH(slab_words, freelist);
SLAB_MATCH(order, __page_order);
SLAB_MATCH(node, __page_node);
SLAB_MATCH(slab_aux, local_count);
SLAB_MATCH(private, local_free);
#undef SLAB_MATCH
_Static_assert(sizeof(struct slab) == sizeof(struct page), "struct slab overlays struct page");

static inline struct slab *page_slab(const struct page *page)
{
	return (struct slab *)page;
}

static inline struct page *slab_page(const struct slab *slab)
{
	return (struct page *)slab;
}

static inline void *slab_address(const struct slab *slab)
{
	return __page_address(slab_page(slab));
}

static inline int slab_nid(const struct slab *slab)
{
	return (int)slab->__page_node;
}

static inline unsigned int slab_order(const struct slab *slab)
{
	return slab->__page_order;
}

/*
 * slab_sheaf - an array of free objects in front of the slabs (Linux
 * 6.18's sheaves, slub.c "Sheaves").  A thread has a main and a spare
 * sheaf per cache; a node keeps a few more, full and empty, in its barn.
 * Every object in a sheaf is marked free in its free-pointer word (it
 * encodes NULL), so a second free of it is caught like any double free.
 */
#define SHEAF_CAPACITY_MAX	64

struct slab_sheaf {
	/*
	 * Nothing lives in the first word: a program's one-byte overflow off
	 * the end of the last object of the slab before this one lands here
	 * (the shim's string tests do it), and a list pointer there would be
	 * cut.  The shim lets such programs run; this keeps them running.
	 */
	unsigned long guard;
	struct list_head barn_list;	/* on a barn's full or empty list */
	unsigned int size;		/* objects held (stale while it is a slot's main) */
	unsigned int capacity;
	void *objects[SHEAF_CAPACITY_MAX];
};

/*
 * kmem_cache_cpu - a cache's state on one "CPU" (a thread slot, see cpu.h).
 * Only the owning thread reads or writes it, so the fast paths need no
 * atomics.  The first line is the sheaves': the fast paths pop and push
 * at sheaf_top in the main sheaf's array (its bounds copied here, so that
 * a slot without sheaves, all three NULL, sends both paths to the slow
 * path with no test of its own).  The second line is the cpu
 * slab, which refills and takes back sheaves, and serves caches without
 * them.  base/span describe the objects of the cpu slab.
 */
struct kmem_cache_cpu {
	void **sheaf_top;	/* the main sheaf's next free entry */
	void **sheaf_objects;	/* main->objects: its first entry */
	void **sheaf_end;	/* past its last entry (all three NULL: no sheaves yet) */
	struct slab_sheaf *main;	/* NULL until the slot has sheaves */
	struct slab_sheaf *spare;	/* empty, full or partly full; or NULL */
	unsigned long gen;	/* the cache's flush_gen this slot has seen */
	/*
	 * Set while the owner changes its sheaves on a slow path: a forked
	 * child does not trust such a slot of a thread that did not survive
	 * the fork (slub.c, sheaf_begin).
	 */
	unsigned int sheaf_busy;
	/* objects the next refill takes: doubles up to the capacity (slub.c) */
	unsigned int sheaf_refill;

	/* next free object of the cpu slab (hardened links) */
	void *freelist __attribute__((aligned(CACHE_LINE_SIZE)));
	uintptr_t base;		/* address of the cpu slab's first object */
	size_t span;		/* objects * size of the cpu slab; 0 when none */
	struct slab *slab;	/* the cpu slab, frozen */
	struct slab *partial;	/* frozen partial slabs, linked through slab->next */
	struct slab *partial_tail;	/* the newest slab on the chain */
	unsigned int partial_slabs;	/* slabs on the partial chain */
	int partial_objects;	/* free objects on it when they joined, approx */
};

_Static_assert(sizeof(struct kmem_cache_cpu) == CPU_SLOT_SIZE, "one slot, two cache lines");

/* The order of a slab and its number of objects, packed as the kernel does. */
struct kmem_cache_order_objects {
	unsigned int x;
};

#define OO_SHIFT	16
#define OO_MASK		((1u << OO_SHIFT) - 1)
#define MAX_OBJS_PER_PAGE 32767	/* slab->objects is 15 bits */

static inline struct kmem_cache_order_objects oo_make(unsigned int order, unsigned int size)
{
	struct kmem_cache_order_objects x = {
		(order << OO_SHIFT) + (unsigned int)((PAGE_SIZE << order) / size)
	};
	return x;
}

static inline unsigned int oo_order(struct kmem_cache_order_objects x)
{
	return x.x >> OO_SHIFT;
}

static inline unsigned int oo_objects(struct kmem_cache_order_objects x)
{
	return x.x & OO_MASK;
}

/*
 * kmem_cache_node - a cache's slabs on one node.  Partial slabs (some free
 * objects, not frozen by any CPU) sit on @partial under @list_lock; full
 * slabs are on no list (SLUB keeps no full list without debugging).
 */
struct kmem_cache_node {
	spinlock_t list_lock;
	unsigned long nr_partial;
	struct list_head partial;
	long nr_slabs;		/* atomic: all slabs of the cache on this node */
	long total_objects;	/* atomic */
	struct list_head full;	/* slab_debug caches only: their full slabs */
	/* the barn: sheaves kept for any thread of the node, under list_lock */
	struct list_head barn_full;
	struct list_head barn_empty;
	unsigned int nr_barn_full;
	unsigned int nr_barn_empty;
	/* empty slabs kept with their freelists built (slub.c, "Empty slabs") */
	struct list_head empty;
	unsigned long nr_empty;		/* under list_lock */
	unsigned long empty_max;	/* how many may be kept now: raised by churn, decays */
	unsigned long empty_churn;	/* empty slabs given back lately (atomic) */
	uint64_t empty_stamp;		/* coarse ns empty_max last rose or decayed */
};

/* SLUB's part of struct kmem_cache (kmem_cache_be()). */
struct slub_cache {
	unsigned int inuse;		/* offset to metadata after the object */
	struct kmem_cache_order_objects oo;	/* preferred slab order and objects */
	struct kmem_cache_order_objects min;	/* when the preferred order fails */
	unsigned long min_partial;	/* empty slabs kept on a node's partial list */
	unsigned int cpu_partial;	/* free objects kept on a cpu partial chain */
	unsigned int cpu_partial_slabs;	/* and at most this many slabs */
	unsigned long flush_gen;	/* bumped to ask every slot to flush */
	unsigned int *random_seq;	/* freelist order of a new slab, or NULL */
	unsigned int red_left_pad;	/* slab_debug Z: red zone before each object */
	bool object_poison;		/* slab_debug P on a cache whose free objects may be poisoned */
	unsigned int sheaf_capacity;	/* objects per sheaf; 0: no sheaves (slub.c) */
	unsigned long empty_limit;	/* most empty slabs kept per node (slub_empty_max_kb) */
	struct kmem_cache_node *node[];	/* nr_node_ids of them */
};

/*
 * SLUB's statistics counters (the kernel's enum stat_item, counted with
 * stat() from stats.h; on with the slab_stats option), and its sheaf and
 * barn counters (Linux 6.18).  FREE_LOCAL is uslab's: a free, in a cache
 * without sheaves, onto the cpu slab or a frozen slab's owner-local list
 * (slub.c), so that free_fastpath + free_local + free_slowpath is every
 * free, as alloc_fastpath + alloc_slowpath is every allocation.  The
 * objects sheaves move in bulk count in sheaf_refill and sheaf_flush.
 */
enum stat_item {
	ALLOC_FASTPATH,		/* off the main sheaf (slub_fast.h) */
	ALLOC_SLOWPATH,		/* through __slab_alloc */
	FREE_FASTPATH,		/* onto the main sheaf */
	FREE_SLOWPATH,		/* through slab_free_slow: a sheaf made room for, or __slab_free */
	FREE_FROZEN,		/* into a slab frozen by another thread */
	FREE_ADD_PARTIAL,	/* a full slab's first free put it on a node list */
	FREE_REMOVE_PARTIAL,	/* a free emptied a partial slab, freed */
	ALLOC_FROM_PARTIAL,	/* cpu slab taken from a node partial list */
	ALLOC_SLAB,		/* a new slab */
	ALLOC_REFILL,		/* the cpu slab's remote or local frees taken */
	ALLOC_NODE_MISMATCH,	/* the cpu slab was on the wrong node */
	FREE_SLAB,		/* a slab given back to the page allocator */
	CPUSLAB_FLUSH,		/* a cpu slab flushed */
	DEACTIVATE_FULL,	/* a cpu slab unfrozen full */
	DEACTIVATE_EMPTY,	/* ... empty */
	DEACTIVATE_TO_HEAD,	/* always 0: add_partial() files at the tail */
	DEACTIVATE_TO_TAIL,	/* ... onto the tail of a node partial list */
	DEACTIVATE_REMOTE_FREES, /* ... with objects freed by other threads */
	DEACTIVATE_BYPASS,	/* a used-up cpu slab left without unfreezing */
	ORDER_FALLBACK,		/* a slab of the minimum order */
	CMPXCHG_DOUBLE_CPU_FAIL, /* always 0: the cpu freelist needs no cmpxchg */
	CMPXCHG_DOUBLE_FAIL,	/* slab freelist/counters cmpxchg16b retried */
	CPU_PARTIAL_ALLOC,	/* cpu slab taken from the cpu partial chain */
	CPU_PARTIAL_FREE,	/* a free froze a slab onto the cpu partial chain */
	CPU_PARTIAL_NODE,	/* node partial slabs moved to the cpu partial chain */
	CPU_PARTIAL_DRAIN,	/* the cpu partial chain drained to the node */
	FREE_LOCAL,		/* uslab, without sheaves: onto the cpu slab or an owned slab */
	SHEAF_FLUSH,		/* objects flushed from a sheaf to the slabs */
	SHEAF_REFILL,		/* objects moved from the slabs into a sheaf */
	SHEAF_ALLOC,		/* a sheaf allocated */
	SHEAF_FREE,		/* a sheaf freed */
	BARN_GET,		/* a full sheaf taken from the barn */
	BARN_GET_FAIL,		/* ... none there */
	BARN_PUT,		/* a full sheaf put in the barn */
	BARN_PUT_FAIL,		/* ... no room */
	EMPTY_KEEP,		/* an empty slab kept with its freelist built */
	EMPTY_REUSE,		/* a kept empty slab taken for allocation */
	NR_SLUB_STAT_ITEMS
};

_Static_assert(NR_SLUB_STAT_ITEMS <= SLAB_STAT_MAX, "SLUB's counters fit a block");

static inline struct slub_cache *slub_cache(const struct kmem_cache *s)
{
	return (struct slub_cache *)kmem_cache_be(s);
}

/*
 * The first object of @slab.  A slab_debug cache with red zones puts
 * red_left_pad bytes before every object, so its objects start that far
 * into the slab; for every other cache it is the slab's first byte.
 */
static inline uintptr_t slab_obj_base(const struct kmem_cache *s, const struct slab *slab)
{
	return (uintptr_t)slab_address(slab) + slub_cache(s)->red_left_pad;
}

/* slab_debug U on a kmalloc cache: the size kmalloc was asked for is kept. */
static inline bool slub_debug_orig_size(const struct kmem_cache *s)
{
	return (s->flags & (SLAB_STORE_USER | SLAB_KMALLOC)) == (SLAB_STORE_USER | SLAB_KMALLOC);
}

#ifdef SLUB_INTERNAL
/*
 * slub_debug.c, SLUB's slab_debug (the kernel's CONFIG_SLUB_DEBUG part of
 * mm/slub.c): checks, reports and repairs of objects and slabs, for
 * slub.c's debug slow paths, validation and shutdown.  Every report
 * here is counted in uslab_error_count() where the kernel's
 * slab_add_kunit_errors() counts, and none aborts.  Only slub.c and
 * slub_debug.c see these (they define SLUB_INTERNAL): the names are the
 * kernel's, which other files that include this header use for their own.
 */
struct track;
void print_slab(const struct slab *slab) __hidden;
/* The kernel's slab_err and object_err: counted, never fatal. */
void slab_err(struct kmem_cache *s, struct slab *slab, const char *fmt, ...)
	__attribute__((format(printf, 3, 4))) __hidden;
void object_err(struct kmem_cache *s, struct slab *slab, const void *object,
		const char *reason) __hidden;
/* A counted report printed by the caller (validate's list counts). */
void slub_count_report(void) __hidden;
/* Counted reports this thread has made so far: validate's return value. */
unsigned long slub_reports_made(void) __hidden;
/* Poison and red-zone a new slab's objects (before links and constructors). */
void setup_slab_debug(struct kmem_cache *s, struct slab *slab) __hidden;
/* An early object handed out by hand (kmem_cache_node's first). */
void init_object_active(struct kmem_cache *s, void *object) __hidden;
/*
 * alloc_debug_processing - @object, the head of @slab's freelist, whose
 * free pointer decodes to @next, is about to be handed out: check it
 * (F; without F only that @next is in the slab), then red-zone and
 * poison it as allocated.  False if it or the slab failed: the slab is
 * then marked all used and frozen for nobody, and the caller takes it
 * off its list.  Under list_lock, or on a slab nobody else sees yet.
 */
bool alloc_debug_processing(struct kmem_cache *s, struct slab *slab, void *object,
			    void *next) __hidden;
/*
 * free_debug_processing - check @object before it goes back to @slab
 * (under list_lock), store its free track @t (U) and poison it.  False
 * if it must not be freed (reported; "Object at ... not freed").
 */
bool free_debug_processing(struct kmem_cache *s, struct slab *slab, void *object,
			   const struct track *t) __hidden;
/* Store @t (taken with set_track() outside list_lock) as @object's alloc track. */
void set_alloc_track(struct kmem_cache *s, void *object, const struct track *t) __hidden;
/* slab_debug T: "TRACE <cache> alloc|free <object> inuse=<n> fp=<fp>", and the stack. */
void trace(struct kmem_cache *s, void *object, bool alloc, unsigned int inuse, void *fp) __hidden;
/* F: check a slab that is about to go back to the page allocator. */
void free_slab_debug(struct kmem_cache *s, struct slab *slab) __hidden;
/* The kernel's validate_slab: check and repair @slab; the reports it made. */
unsigned long validate_slab(struct kmem_cache *s, struct slab *slab) __hidden;
/* Report the objects still allocated in @slab: @text (with the cache's name), then each. */
void list_slab_objects(struct kmem_cache *s, struct slab *slab, const char *text) __hidden;
/* struct slab_backend's get_orig_size and set_orig_size. */
unsigned int slub_get_orig_size(struct kmem_cache *s, const void *x) __hidden;
void slub_set_orig_size(struct kmem_cache *s, void *x, unsigned int size) __hidden;
#endif /* SLUB_INTERNAL */

#endif /* USLAB_SLUB_DEF_H */
