/* SPDX-License-Identifier: MIT */
/*
 * slab.h - the contract between slab_common.c and a back end (the kernel's
 * mm/slab.h).
 *
 * slab_common owns the cache list, its mutex, creation (argument checks,
 * merging, the name), destruction, the kmalloc size classes, slabinfo and
 * the order of initialisation.  A back end (SLUB today; SLAB plugs in the
 * same way, chosen at build time as CONFIG_SLUB / CONFIG_SLAB) owns struct
 * kmem_cache's layout, slabs, the per-CPU layer and the allocation and
 * free paths, including kmalloc()/kfree() so that their fast paths are
 * inline.  slab_common reaches a back end only through the functions
 * declared here and the common fields every back end's struct kmem_cache
 * has: name, size, object_size, align, flags, ctor, refcount, list,
 * useroffset, usersize.
 */
#ifndef USLAB_SLAB_INTERNAL_H
#define USLAB_SLAB_INTERNAL_H

#include "internal.h"
#include "page_alloc.h"
#include "slub_def.h"
#include "slub_fast.h"

/* How far initialisation has come (mm/slab.h). */
enum slab_state {
	DOWN,		/* no slab functionality yet */
	PARTIAL,	/* SLUB: kmem_cache_node works */
	PARTIAL_NODE,	/* SLAB: kmalloc size for the node structure works */
	UP,		/* kmem_cache and the kmalloc caches work */
	FULL		/* everything works, thread exit and fork hooks too */
};

extern enum slab_state slab_state __hidden;
extern pthread_mutex_t slab_mutex __hidden;
extern struct list_head slab_caches __hidden;
extern struct kmem_cache *kmem_cache __hidden;

/* ------------------------------------------------------------- kmalloc */

#define KMALLOC_SHIFT_LOW	3
#define KMALLOC_MIN_CACHE	8

extern struct kmem_cache *kmalloc_caches[KMALLOC_SHIFT_HIGH + 1] __hidden;
extern const unsigned char size_index[24] __hidden;

/*
 * kmalloc_index - which kmalloc cache serves @size (1..KMALLOC_MAX_CACHE_SIZE):
 * index i is the 2^i cache, except 1 (96) and 2 (192).
 */
static inline unsigned int kmalloc_index(size_t size)
{
	if (size <= 192)
		return size_index[(size - 1) / 8];
	return (unsigned int)fls((unsigned int)(size - 1));
}

static inline struct kmem_cache *kmalloc_slab(size_t size)
{
	return kmalloc_caches[kmalloc_index(size)];
}

/* --------------------------------------------- flags slab_common knows */

/* Caches with any of these are never merged. */
#define SLAB_NEVER_MERGE (SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER |	\
			  SLAB_TRACE | SLAB_TYPESAFE_BY_RCU | SLAB_NOLEAKTRACE | \
			  SLAB_FAILSLAB | SLAB_NO_MERGE | SLAB_KASAN |		\
			  SLAB_CONSISTENCY_CHECKS)
/* Caches merge only with caches that agree on these. */
#define SLAB_MERGE_SAME (SLAB_RECLAIM_ACCOUNT | SLAB_CACHE_DMA |		\
			 SLAB_CACHE_DMA32 | SLAB_ACCOUNT)
#define SLAB_DEBUG_FLAGS (SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER |	\
			  SLAB_TRACE | SLAB_CONSISTENCY_CHECKS)
/* Every flag kmem_cache_create() accepts. */
#define SLAB_CREATE_MASK (SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE |		\
			  SLAB_POISON | SLAB_KMALLOC | SLAB_HWCACHE_ALIGN |	\
			  SLAB_CACHE_DMA | SLAB_CACHE_DMA32 | SLAB_STORE_USER |	\
			  SLAB_PANIC | SLAB_TYPESAFE_BY_RCU | SLAB_MEM_SPREAD |	\
			  SLAB_TRACE | SLAB_NOLEAKTRACE | SLAB_NO_MERGE |	\
			  SLAB_FAILSLAB | SLAB_ACCOUNT | SLAB_KASAN |		\
			  SLAB_NO_USER_FLAGS | SLAB_RECLAIM_ACCOUNT)

/* ----------------------------------------------------- slab_common.c */

unsigned int calculate_alignment(slab_flags_t flags, unsigned int align,
				 unsigned int size) __hidden;
struct kmem_cache *find_mergeable(unsigned int size, unsigned int align,
				  slab_flags_t flags, const char *name,
				  void (*ctor)(void *)) __hidden;
void create_boot_cache(struct kmem_cache *s, const char *name, unsigned int size,
		       slab_flags_t flags) __hidden;
void create_kmalloc_caches(void) __hidden;
void kmem_cache_init_late(void) __hidden;

/* ----------------------------------------------------- the back end */

/* Lay out and open @s (fields name..ctor set); 0 or a negative errno. */
int __kmem_cache_create(struct kmem_cache *s, slab_flags_t flags) __hidden;
/* A mergeable cache for these arguments, with its reference taken, or NULL. */
struct kmem_cache *__kmem_cache_alias(const char *name, unsigned int size,
				      unsigned int align, slab_flags_t flags,
				      void (*ctor)(void *)) __hidden;
/* Flush everything and free empty slabs; -EBUSY if objects remain. */
int __kmem_cache_shutdown(struct kmem_cache *s) __hidden;
/* Free the back end's parts of @s after a successful shutdown. */
void __kmem_cache_release(struct kmem_cache *s) __hidden;
int __kmem_cache_shrink(struct kmem_cache *s) __hidden;
/* The back end's bootstrap: sets slab_state up to UP and kmem_cache. */
void __kmem_cache_init(void) __hidden;
/* Objects on the per-CPU layer count as free as well as they can be told. */
struct slabinfo {
	unsigned long active_objs;
	unsigned long num_objs;
	unsigned long active_slabs;
	unsigned long num_slabs;
	unsigned long shared_avail;
	unsigned int limit;
	unsigned int batchcount;
	unsigned int shared;
	unsigned int objects_per_slab;
	unsigned int cache_order;
};
void get_slabinfo(struct kmem_cache *s, struct slabinfo *sinfo) __hidden;
/* Size of an object for ksize(), or 0 if @p is not one of ours. */
size_t __ksize(const void *p) __hidden;
/* The same, but a pointer that is not a live block's start is reported. */
size_t ksize_checked(const void *p, const char *who) __hidden;
void slab_fork_prepare(void) __hidden;
void slab_fork_parent(void) __hidden;
void slab_fork_child(void) __hidden;

/* kmalloc above KMALLOC_MAX_CACHE_SIZE: pages, or a mapping of its own. */
void *kmalloc_large(size_t size, gfp_t flags, int node) __hidden;
void free_large_kmalloc(struct page *page, const void *object) __hidden;

#endif /* USLAB_SLAB_INTERNAL_H */
