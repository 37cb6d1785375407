/* SPDX-License-Identifier: MIT */
/*
 * slab_def.h - SLAB's structures (the kernel's include/linux/slab_def.h and
 * SLAB's struct slab of mm/slab.h, Linux 5.10-6.7): its overlay of struct
 * page, its part of struct kmem_cache, the per-thread array cache, the
 * per-node lists with their shared array and alien caches.
 *
 * Every name here carries a slab_ / sl_ prefix (or is SLAB's own kernel
 * name that SLUB does not use: array_cache, alien_cache), because SLUB's
 * headers are included into the same translation units (slab_fast.h) and
 * own struct slab, kmem_cache_node, slab_address() and friends.
 */
#ifndef USLAB_SLAB_DEF_H
#define USLAB_SLAB_DEF_H

#include "../slab.h"
#include "../cpu.h"

/*
 * freelist_idx_t - an object's index in its slab's freelist array.  The
 * kernel picks a byte when a page can hold no more than 256 of the
 * smallest objects (FREELIST_BYTE_INDEX: 4 KiB pages, 16-byte objects),
 * else a short; so do we, at compile time as it does.
 */
#define SLAB_OBJ_MIN_SIZE	16
#define FREELIST_BYTE_INDEX	(((PAGE_SIZE >> 8) <= SLAB_OBJ_MIN_SIZE) ? 1 : 0)
#if ((PAGE_SIZE >> 8) <= SLAB_OBJ_MIN_SIZE)
typedef unsigned char freelist_idx_t;
#else
typedef unsigned short freelist_idx_t;
#endif
_Static_assert(sizeof(freelist_idx_t) == (FREELIST_BYTE_INDEX ? 1 : 2),
	       "freelist_idx_t follows FREELIST_BYTE_INDEX");
#define SLAB_OBJ_MAX_NUM	((1u << (sizeof(freelist_idx_t) * 8)) - 1)

/*
 * struct slab_slab - SLAB's view of a slab's head page.  The page
 * allocator's fields (flags, order, node) and slab_cache stay where struct
 * page has them (SLAB_MATCH below).  SLAB's own: the list the slab is on
 * (full, partial, free), the freelist index array, the first object
 * (s_mem: the page address plus this slab's colour), the number of objects
 * handed out (active), and num * size (span), which lets the free fast
 * path prove an address is an object start without the cache's tail.
 */
struct slab_slab {
	unsigned long __page_flags;
	struct list_head slab_list;	/* n->slabs_full / _partial / _free */
	struct kmem_cache *slab_cache;
	void *freelist;			/* freelist_idx_t[num]: on, off, or in an object */
	void *s_mem;			/* the first object */
	unsigned short __page_order;
	unsigned short __page_node;
	unsigned int active;		/* objects not on the freelist array */
	unsigned int span;		/* num * size */
};

#define SLAB_MATCH(pg, sl)						\
	_Static_assert(offsetof(struct page, pg) == offsetof(struct slab_slab, sl), \
		       "struct slab_slab and struct page disagree on " #pg)
SLAB_MATCH(flags, __page_flags);
SLAB_MATCH(lru, slab_list);
SLAB_MATCH(slab_cache, slab_cache);
SLAB_MATCH(slab_words, freelist);
SLAB_MATCH(order, __page_order);
SLAB_MATCH(node, __page_node);
SLAB_MATCH(slab_aux, active);
#undef SLAB_MATCH
_Static_assert(sizeof(struct slab_slab) == sizeof(struct page), "struct slab_slab overlays struct page");

static inline struct slab_slab *sl_page_slab(const struct page *page)
{
	return (struct slab_slab *)page;
}

static inline struct page *sl_slab_page(const struct slab_slab *slab)
{
	return (struct page *)slab;
}

static inline int sl_slab_nid(const struct slab_slab *slab)
{
	return (int)slab->__page_node;
}

/*
 * struct array_cache - a thread's LIFO of free objects of one cache, and
 * the cache's one-slot view for that thread (cpu.h): it *is* the 64-byte
 * cpu slot.  avail, limit, batchcount and touched are the kernel's.
 * entry points at a kmalloc'd array of limit pointers, or at inline_entry
 * while the kmalloc caches do not exist yet (the kernel's static
 * initarray_cache) or the array could not be allocated.  Until the thread
 * attaches, the slot reads as zeroes: avail == 0 sends allocations to the
 * slow path and limit == 0 sends frees there.  gen is the cache's tuning
 * generation this slot was sized for (slab_cache_be.gen); node is the
 * thread's node as of its last slow path, so that the free fast path can
 * send other nodes' objects to the alien caches without a system call.
 */
#define SL_INLINE_ENTRIES	4
struct array_cache {
	unsigned int avail;
	unsigned int limit;
	unsigned int batchcount;
	unsigned int touched;
	void **entry;
	unsigned int gen;
	unsigned int node;
	void *inline_entry[SL_INLINE_ENTRIES];
};

_Static_assert(sizeof(struct array_cache) <= CPU_SLOT_SIZE, "fits one slot (its first cache line)");

/*
 * SLAB's own bookkeeping (shared and alien arrays, alien tables, node
 * structures, thread entry arrays, random sequences, off-slab freelists)
 * is kmalloc'd, from the same kmalloc classes as the program's objects,
 * whose neighbour it can be.  Every such object starts with a word the
 * allocator never reads (struct members, or SL_META_GUARD bytes in front
 * of what sl_meta_alloc() returns), so that an overflow of a few bytes out
 * of the object before it (the classic off-by-one NUL of a string) lands
 * there and not on a lock, a count or a pointer of the allocator's.
 */
#define SL_META_GUARD	sizeof(unsigned long)

/*
 * struct sl_array - a shared or alien array: a header and limit entries,
 * kmalloc'd on its node (alloc_arraycache).  A shared array is guarded by
 * its node's list_lock, an alien array by its own lock.
 */
struct sl_array {
	unsigned long guard;		/* never read: see SL_META_GUARD */
	spinlock_t lock;		/* alien caches only */
	unsigned int avail;
	unsigned int limit;
	unsigned int batchcount;
	unsigned int touched;
	void *entry[];
};

/*
 * struct slab_node - a cache's slabs on one node (the kernel's
 * kmem_cache_node for SLAB): three lists under list_lock, the counts
 * slabinfo reads, the node's shared array and its alien caches (one per
 * other node, for objects of that node freed here), and the reaping state.
 */
struct slab_node {
	unsigned long guard;		/* never read: see SL_META_GUARD */
	spinlock_t list_lock;
	struct list_head slabs_partial;	/* partial list first: it is searched first */
	struct list_head slabs_full;
	struct list_head slabs_free;
	unsigned long total_slabs;
	unsigned long free_slabs;
	unsigned long free_objects;	/* free objects in the slabs (not in arrays) */
	unsigned int free_limit;	/* free objects kept before empty slabs go back */
	unsigned int colour_next;	/* the colour of the next slab of this node */
	struct sl_array *shared;
	struct sl_array **alien;	/* nr_node_ids entries, or NULL */
	uint64_t next_reap;		/* os_now_ns() of the next node reap */
	int free_touched;		/* a free slab was used since the last reap */
};

/*
 * enum slab_stat_item - SLAB's statistics counters (the kernel's STATS,
 * CONFIG_DEBUG_SLAB), counted with stat() and friends (stats.h) only with
 * the slab_stats option, and shown in /proc/slabinfo's globalstat and
 * cpustat columns in this order.  HIGH_MARK and MAX_FREEABLE are
 * high-water marks kept in s->stat_global (SL_STAT_MAX_MASK); the others
 * are sums of per-thread counts.  slab.c says where each is counted.
 */
enum slab_stat_item {
	SL_STAT_ALLOCS,		/* objects taken off slabs into arrays (num_allocations) */
	SL_STAT_HIGH_MARK,	/* most objects off the slabs at once (num_active's maximum) */
	SL_STAT_GROWN,		/* slabs allocated */
	SL_STAT_REAPED,		/* free slabs given back by the reaper */
	SL_STAT_ERRORS,		/* slabs that could not be grown, corrupt objects dropped */
	SL_STAT_MAX_FREEABLE,	/* most free slabs on a node seen after an array flush */
	SL_STAT_NODE_ALLOCS,	/* objects taken straight off a node's slabs, no array */
	SL_STAT_NODE_FREES,	/* frees of another node's objects (to the alien caches) */
	SL_STAT_NODE_OVERFLOW,	/* alien caches found full and given back */
	SL_STAT_ALLOCHIT,	/* allocations served from this thread's array */
	SL_STAT_ALLOCMISS,	/* allocations that took the slow path */
	SL_STAT_FREEHIT,	/* frees pushed onto this thread's array */
	SL_STAT_FREEMISS,	/* frees that took the slow path */
	SL_STAT_NR
};

_Static_assert(SL_STAT_NR <= SLAB_STAT_MAX, "SLAB's counters fit SLAB_STAT_MAX");

#define SL_STAT_MAX_MASK	((1UL << SL_STAT_HIGH_MARK) | (1UL << SL_STAT_MAX_FREEABLE))

/*
 * Placement of a slab's freelist array (the kernel's CFLGS_*), in bits
 * no SLAB_* flag uses (slab_debug's SLAB_DEBUG_ORDER_OFF has 0x80000000).
 */
#define CFLGS_OBJFREELIST_SLAB	((slab_flags_t)0x40000000u)	/* in a free object */
#define CFLGS_OFF_SLAB		((slab_flags_t)0x20000000u)	/* kmalloc'd */

/*
 * struct slab_cache_be - SLAB's part of struct kmem_cache
 * (kmem_cache_be()).  The tunables (limit, batchcount, shared) are the
 * ones slabinfo shows and slab_tune_cpucache() changes; gen moves on with
 * every change so that each thread resizes its own array on its next
 * slow path.
 */
struct slab_cache_be {
	unsigned int num;		/* objects per slab */
	unsigned int gfporder;		/* 2^gfporder pages per slab */
	unsigned int colour;		/* colours: left_over / colour_off */
	unsigned int colour_off;	/* the colour step: a cache line, or the alignment */
	unsigned int freelist_size;	/* num * sizeof(freelist_idx_t) */
	unsigned int limit;
	unsigned int batchcount;
	unsigned int shared;
	unsigned int gen;		/* tuning generation; slots hold the one they saw */
	unsigned int *random_seq;	/* the pre-shuffled index sequence, or NULL */
	/*
	 * slab_debug's layout of an object (slab.c, "slab_debug"), in bytes
	 * from the address the caller gets; all but inuse and meta_end are 0
	 * in a cache without debug flags.
	 */
	unsigned int red_left;		/* the left red zone before the object (Z) */
	unsigned int inuse;		/* end of the object and its right red zone or alignment */
	unsigned int track_off;		/* the two struct track (U) */
	unsigned int orig_off;		/* the size kmalloc was asked for (U on a kmalloc cache) */
	unsigned int meta_end;		/* end of the metadata; padding (0x5a with P) up to the next slot */
	struct slab_node *node[];	/* nr_node_ids of them */
};

static inline struct slab_cache_be *slab_cache_be(const struct kmem_cache *s)
{
	return (struct slab_cache_be *)kmem_cache_be(s);
}

#define OBJFREELIST_SLAB(s)	((s)->flags & CFLGS_OBJFREELIST_SLAB)
#define OFF_SLAB(s)		((s)->flags & CFLGS_OFF_SLAB)

/* kmem_cache_cpu in SLUB's words: this thread's array for @s. */
static __always_inline struct array_cache *sl_cpu_cache(const struct kmem_cache *s)
{
	return (struct array_cache *)this_cpu_slot(s->cpu_offset);
}

/*
 * slab_tune_cpucache - the kernel's do_tune_cpucache() behind
 * /proc/slabinfo writes: new per-thread limit and batchcount and a shared
 * factor for @s.  0, or -EINVAL for limit < 1, batchcount < 1 or > limit,
 * shared < 0 (and for sizes whose arrays could not be allocated at all).
 * Called with slab_mutex held; other threads go on allocating and pick the
 * new sizes up on their next slow path.  A slab_debug cache keeps its
 * arrays off (limit 0, batchcount 1, shared 0) whatever is written.
 */
int slab_tune_cpucache(struct kmem_cache *s, int limit, int batchcount, int shared) __hidden;

#endif /* USLAB_SLAB_DEF_H */
