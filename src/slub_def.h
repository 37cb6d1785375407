/* SPDX-License-Identifier: MIT */
/*
 * slub_def.h - SLUB's structures (the kernel's include/linux/slub_def.h).
 */
#ifndef USLAB_SLUB_DEF_H
#define USLAB_SLUB_DEF_H

#include "page_alloc.h"

/*
 * kmem_cache_cpu - a cache's state on one "CPU" (a thread slot, see cpu.h).
 * Only the owning thread reads or writes it, so the fast paths need no
 * atomics.  base/span describe the objects of the cpu slab: the free fast
 * path's single range check both finds the slab and proves the pointer is
 * one of this cache's objects in memory we own.
 */
struct kmem_cache_cpu {
	void *freelist;		/* next free object of the cpu slab (hardened links) */
	uintptr_t base;		/* address of the cpu slab's first object */
	size_t span;		/* objects * size of the cpu slab; 0 when none */
	struct page *slab;	/* the cpu slab, frozen */
	struct page *partial;	/* frozen partial slabs, linked through page->next */
	unsigned long gen;	/* the cache's flush_gen this slot has seen */
	unsigned int partial_slabs;	/* slabs on the partial chain */
	int partial_objects;	/* free objects on it when they joined, approx */
	struct page *partial_tail;	/* the newest slab on the chain */
};

_Static_assert(sizeof(struct kmem_cache_cpu) == 64, "one slot, one cache line");

/* The order of a slab and its number of objects, packed as the kernel does. */
struct kmem_cache_order_objects {
	unsigned int x;
};

#define OO_SHIFT	16
#define OO_MASK		((1u << OO_SHIFT) - 1)
#define MAX_OBJS_PER_PAGE 32767	/* page->objects is 15 bits */

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
};

struct kmem_cache {
	/* Read by the fast paths: keep together at the start. */
	unsigned int cpu_offset;	/* of this cache's slot in a thread's cpu area */
	unsigned int offset;		/* of the free pointer in an object */
	uintptr_t random;		/* free pointer hardening: ptr ^ random ^ swab(&ptr) */
	unsigned int size;		/* object with metadata and alignment */
	unsigned int object_size;	/* what the user asked for */
	uint64_t reciprocal_size;	/* ceil(2^45 / size): offset -> index */
	uint64_t divisor_magic;		/* UINT64_MAX / size + 1: offset % size == 0 test */
	slab_flags_t flags;
	unsigned int inuse;		/* offset to metadata after the object */
	unsigned int align;
	unsigned int red_left_pad;
	struct kmem_cache_order_objects oo;	/* preferred slab order and objects */
	struct kmem_cache_order_objects min;	/* when the preferred order fails */
	struct kmem_cache_order_objects max;
	unsigned long min_partial;	/* empty slabs kept on a node's partial list */
	unsigned int cpu_partial;	/* free objects kept on a cpu partial chain */
	unsigned int cpu_partial_slabs;	/* and at most this many slabs */
	int refcount;			/* merged users; 0 when being destroyed */
	void (*ctor)(void *);
	const char *name;
	struct list_head list;		/* slab_caches */
	unsigned int useroffset;
	unsigned int usersize;
	unsigned long flush_gen;	/* bumped to ask every slot to flush */
	unsigned int cpu_id;		/* index of the cpu slot (cpu.h) */
	struct kmem_cache_node *node[MAX_NUMNODES];	/* nr_node_ids used */
};

#define RECIPROCAL_SHIFT 45

#endif /* USLAB_SLUB_DEF_H */
