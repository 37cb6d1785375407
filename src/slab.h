/* SPDX-License-Identifier: MIT */
/*
 * slab.h - the contract between slab_common.c and a back end (the kernel's
 * mm/slab.h of Linux 6.1-6.7, when SLAB and SLUB lived side by side).
 *
 * slab_common owns the cache list and its mutex, creation (argument
 * checks, merging, the name), destruction, the kmalloc size classes and
 * the generic kmalloc / kfree / ksize / krealloc / kmalloc_large code,
 * slabinfo, and the order of initialisation (with init.c).  A back end
 * owns the slabs, the per-CPU layer, the tail of struct kmem_cache
 * (kmem_cache_be()), and its overlay of struct page (struct slab).
 *
 * slab_common reaches a back end only through:
 *   - the functions declared at the end of this file, and
 *   - the inline fast paths of the dispatch header, slab_fast.h, which is
 *     the only header that includes a back end's headers.
 * This header includes none.
 */
#ifndef USLAB_SLAB_INTERNAL_H
#define USLAB_SLAB_INTERNAL_H

#include "internal.h"
#include "page_alloc.h"

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

/* Counters per cache a back end may keep (stats.h). */
#define SLAB_STAT_MAX	40

/*
 * struct kmem_cache - what every back end's cache has, then the back
 * end's own part.  The first group is what the fast paths read, kept on
 * the first cache line; slab_common reads the second.
 */
struct kmem_cache {
	/* Read by the fast paths. */
	unsigned int cpu_offset;	/* of this cache's slot in a thread's cpu area (cpu.h) */
	unsigned int offset;		/* of the free pointer in a free object */
	uintptr_t random;		/* per-cache secret: free pointer hardening */
	unsigned int size;		/* object with metadata and alignment */
	unsigned int object_size;	/* what the user asked for (the largest alias's) */
	uint64_t reciprocal_size;	/* ceil(2^45 / size): offset -> index */
	uint64_t divisor_magic;		/* UINT64_MAX / size + 1: "offset % size == 0" in one multiply */
	slab_flags_t flags;
	unsigned int cpu_id;		/* the cpu slot number, cpu_offset / CPU_SLOT_SIZE */

	/* slab_common's. */
	int refcount;			/* users (aliases); <= 0 while set up or torn down */
	unsigned int align;
	void (*ctor)(void *);
	const char *name;
	struct list_head list;		/* slab_caches */
	unsigned int useroffset;
	unsigned int usersize;
	/*
	 * Statistics (stats.h), kept only with the slab_stats option: the
	 * counts of threads that have exited (their per-thread blocks are
	 * folded in here), and the high-water items the back end keeps here
	 * directly (struct slab_backend's stat_max_mask).
	 */
	unsigned long stat_global[SLAB_STAT_MAX];

	/* The back end's part (kmem_cache_be()); its size is the back end's. */
	unsigned long be[] __attribute__((aligned(CACHE_LINE_SIZE)));
};

static inline void *kmem_cache_be(const struct kmem_cache *s)
{
	return (void *)s->be;
}

/* Object index arithmetic, shared by both back ends (mm/slab.h's obj_to_index). */
#define RECIPROCAL_SHIFT 45

/* ------------------------------------------------------------- kmalloc */

/*
 * The kmalloc classes are the back end's (struct slab_backend's
 * kmalloc_shift_low/high): SLUB's kmalloc-8 .. kmalloc-8k, SLAB's
 * kmalloc-32 .. kmalloc-4M, both with 96 and 192.
 */
#define KMALLOC_SHIFT_HIGH_MAX	22

struct kmalloc_info_struct {
	const char *name;
	unsigned int size;
};

extern const struct kmalloc_info_struct kmalloc_info[KMALLOC_SHIFT_HIGH_MAX + 1] __hidden;
extern struct kmem_cache *kmalloc_caches[KMALLOC_SHIFT_HIGH_MAX + 1] __hidden;
extern unsigned char size_index[24] __hidden;
extern unsigned int kmalloc_shift_low __hidden, kmalloc_shift_high __hidden;
extern size_t kmalloc_max_cache_size __hidden;
extern size_t kmalloc_fast_limit __hidden;

/*
 * kmalloc_index - which kmalloc cache serves @size (1..kmalloc_max_cache_size):
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
/* Every flag kmem_cache_create() accepts. */
#define SLAB_CREATE_MASK (SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE |		\
			  SLAB_POISON | SLAB_KMALLOC | SLAB_HWCACHE_ALIGN |	\
			  SLAB_CACHE_DMA | SLAB_CACHE_DMA32 | SLAB_STORE_USER |	\
			  SLAB_PANIC | SLAB_TYPESAFE_BY_RCU | SLAB_MEM_SPREAD |	\
			  SLAB_TRACE | SLAB_NOLEAKTRACE | SLAB_NO_MERGE |	\
			  SLAB_FAILSLAB | SLAB_ACCOUNT | SLAB_KASAN |		\
			  SLAB_NO_USER_FLAGS | SLAB_RECLAIM_ACCOUNT)

/* ------------------------------------------ debug-build assertions */

/*
 * VM_BUG_ON - the kernel's debug assertion: checked in builds with
 * USLAB_DEBUG_VM (CMake's Debug type, the sanitizer build), compiled to
 * nothing otherwise, but always type-checked (as jemalloc's config_debug).
 */
#ifdef USLAB_DEBUG_VM
static const bool config_debug_vm = true;
#else
static const bool config_debug_vm = false;
#endif

void vm_bug(const char *cond, const char *file, int line) __hidden __attribute__((noreturn));

#define VM_BUG_ON(cond)								\
	do {									\
		if (config_debug_vm && unlikely(cond))				\
			vm_bug(#cond, __FILE__, __LINE__);			\
	} while (0)

/* ----------------------------------------------------- slab_common.c */

unsigned int calculate_alignment(slab_flags_t flags, unsigned int align,
				 unsigned int size) __hidden;
struct kmem_cache *find_mergeable(unsigned int size, unsigned int align,
				  slab_flags_t flags, void (*ctor)(void *)) __hidden;
void create_boot_cache(struct kmem_cache *s, const char *name, unsigned int size,
		       slab_flags_t flags) __hidden;
struct kmem_cache *create_kmalloc_cache(const char *name, unsigned int size,
					slab_flags_t flags) __hidden;
void create_kmalloc_caches(void) __hidden;
/* slab_state DOWN -> FULL: the back end's bootstrap, kmalloc, late init. */
void kmem_cache_init_slab(void) __hidden;
/* USLAB_SLABINFO's lines, for the caches that exist (init.c, once FULL). */
void slabinfo_env_apply(void) __hidden;
void slab_common_fork_prepare(void) __hidden;
void slab_common_fork_parent(void) __hidden;
void slab_common_fork_child(void) __hidden;

/* kmalloc above KMALLOC_MAX_CACHE_SIZE: whole pages, up to KMALLOC_MAX_SIZE. */
void *kmalloc_large(size_t size, gfp_t flags, int node) __hidden;
/* Above KMALLOC_MAX_SIZE (kvmalloc, the shim): a mapping of its own. */
void *kvmalloc_huge(size_t size, gfp_t flags) __hidden;
/* The generic kfree of what the inline path did not take. */
void kfree_slow(const void *x) __hidden;
/*
 * kmem_cache_free_lookup - the head page of the slab of @x, for a
 * kmem_cache_free() whose fast path could not see it; NULL (after a
 * report, unless @x is NULL) if @x is no slab object.
 */
struct page *kmem_cache_free_lookup(const void *x) __hidden;
/*
 * cache_from_obj - the cache an object of the slab headed by @head
 * belongs to; a free into another cache @s is reported (counted, not
 * fatal) and the object goes to its own cache, as the kernel does.
 */
struct kmem_cache *cache_from_obj(struct kmem_cache *s, struct page *head) __hidden;
/* A block resized in place (the shim's realloc): keeps the kmalloc red zone right. */
void kmalloc_resized(const void *p, size_t size) __hidden;
/* The usable size at @x, reporting in @who's name if it is not a live block. */
size_t ksize_checked(const void *x, const char *who) __hidden;

/* --------------------------------------------------- the back end */

/*
 * struct slab_backend - the back end's half of the contract, one per
 * back end, chosen once at start-up (USLAB_ALLOCATOR).  The fast paths
 * are not here: slab_fast.h inlines them.
 */
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

/*
 * struct slab_cache_info - one cache as /proc/slabinfo and
 * /sys/kernel/slab/<cache>/ show it, read under the cache's node locks so
 * that it is consistent (stats.c, uslab_slabinfo).
 */
struct slab_cache_info {
	struct slabinfo si;		/* active_objs = objects, num_objs = total_objects */
	unsigned long partial;		/* slabs on the node partial lists */
	unsigned long cpu_slabs;	/* SLUB: cpu slabs and cpu partial slabs of every thread */
	unsigned long free_objects;	/* free objects on the slabs of the node lists */
	unsigned long min_partial;	/* SLUB's; 0 on SLAB */
	unsigned int cpu_partial;	/* SLUB's; 0 on SLAB */
};

struct slab_backend {
	const char *name;		/* "slub", "slab": the USLAB_ALLOCATOR value */
	unsigned int kmalloc_shift_low;	/* the smallest kmalloc class, 2^low */
	unsigned int kmalloc_shift_high; /* the largest, 2^high (<= KMALLOC_SHIFT_HIGH_MAX) */
	/*
	 * Bootstrap: make kmem_cache (and the back end's own caches) out of
	 * static storage, then copy them into objects of themselves;
	 * slab_state DOWN -> PARTIAL(_NODE) on the way, kmem_cache set.
	 */
	void (*init)(void);
	/* Once the kmalloc caches exist (slab_state UP): final sizes. */
	void (*init_late)(void);
	/* Lay out and open @s (name..ctor set); 0 or a negative errno. */
	int (*create)(struct kmem_cache *s, slab_flags_t flags);
	/* Merge into @s a new user of @size bytes (find_mergeable chose it). */
	void (*alias)(struct kmem_cache *s, unsigned int size);
	/* Flush everything and free empty slabs; -EBUSY if objects remain. */
	int (*shutdown)(struct kmem_cache *s);
	/* Free the back end's parts of @s after a successful shutdown. */
	void (*release)(struct kmem_cache *s);
	/* Give empty slabs back; this thread's cached objects too. */
	int (*shrink)(struct kmem_cache *s);
	/*
	 * Fill @info for @s.  Node locks are taken with stats_spin_lock()
	 * (stats.h), which may fail when the snapshot is taken from a signal
	 * handler: then -EBUSY, else 0.
	 */
	int (*get_info)(struct kmem_cache *s, struct slab_cache_info *info);
	/*
	 * The back end's statistics counters (SLUB_STATS, SLAB's STATS):
	 * their names, in the order of its enum; the items in stat_max_mask
	 * are high-water marks kept in s->stat_global, not per-thread sums.
	 */
	const char *const *stat_names;
	unsigned int nr_stats;
	unsigned long stat_max_mask;
	/*
	 * /proc/slabinfo's statistics columns (SLAB's " : globalstat ...
	 * : cpustat ..."), given the summed @counts; NULL: none (SLUB).
	 */
	void (*slabinfo_stats)(struct seq_buf *m, struct kmem_cache *s, const unsigned long *counts);
	/*
	 * A write to /proc/slabinfo (do_tune_cpucache): 0, or -EINVAL for
	 * values the back end refuses.  NULL: the back end has no tunables
	 * (SLUB), and every write gives -EIO, as the kernel's SLUB.
	 */
	int (*tune)(struct kmem_cache *s, int limit, int batchcount, int shared);
	/*
	 * The slab of a PTR_SLAB pointer: whether @x is the start of an
	 * allocated object of @slab's cache; reported in the kernel's words
	 * if not.  For ksize_checked and krealloc.
	 */
	bool (*check_object)(struct kmem_cache *s, struct page *slab, const void *x);
	/*
	 * The kmalloc red zone (slab_debug Z and U on a kmalloc cache): the
	 * size kmalloc was asked for at @x, or 0 if @s does not track it;
	 * and setting it, which also red-zones [@size, object_size) when @s
	 * has SLAB_RED_ZONE.  NULL: the back end has no slab_debug.
	 */
	unsigned int (*get_orig_size)(struct kmem_cache *s, const void *x);
	void (*set_orig_size)(struct kmem_cache *s, void *x, unsigned int size);
	/* Free @x whose slab's head page is @slab (the slow half of kfree). */
	void (*free_slab_object)(struct kmem_cache *s, void *x, struct page *slab);
	/* Check every slab of @s; the number of inconsistencies found. */
	long (*validate)(struct kmem_cache *s);
	/* Bytes of the back end's tail of struct kmem_cache. */
	size_t (*cache_be_size)(void);
	/* Fork: every lock of every cache, in the lock order, and back. */
	void (*fork_prepare)(void);
	void (*fork_parent)(void);
	void (*fork_child)(void);
	/* Give back what a thread cached in @area (it exits, or vanished in fork). */
	void (*flush_area)(char *area);
};

enum slab_backend_id { SLAB_BACKEND_SLUB, SLAB_BACKEND_SLAB, SLAB_BACKEND__COUNT };

extern const struct slab_backend slub_backend __hidden;
extern const struct slab_backend slab_backend_slab __hidden;
extern const struct slab_backend *slab_be __hidden;
/* enum slab_backend_id of slab_be */
extern unsigned char slab_be_id __hidden;
/*
 * The fast paths' dispatch (slab_fast.h): 0 when SLUB's inline fast
 * paths serve; otherwise these out-of-line entries do (SLAB, or either
 * back end with the slab_stats counters on).  Set once, at start-up.
 */
extern unsigned char slab_fast_ool __hidden;
extern void *(*slab_alloc_ool)(struct kmem_cache *s, gfp_t gfp, int node) __hidden;
extern void (*slab_free_ool)(struct kmem_cache *s, void *x, struct page *page) __hidden;
typedef void *(*slab_alloc_fn)(struct kmem_cache *s, gfp_t gfp, int node);
typedef void (*slab_free_fn)(struct kmem_cache *s, void *x, struct page *page);
/*
 * slab_fast_wrap - put @alloc and @free in front of every allocation and
 * free of a slab object (failslab, the sanitizer and valgrind hooks):
 * they get what stood there before in *@next_alloc and *@next_free, to
 * call on, and the dispatch goes out of line from then on.  At start-up,
 * or later (fail-nth is armed at run time): threads in flight use the
 * old entry or the new, both complete.  Wrappers never come off.
 */
void slab_fast_wrap(slab_alloc_fn alloc, slab_free_fn free,
		    slab_alloc_fn *next_alloc, slab_free_fn *next_free) __hidden;
/* The back ends' entries: plain, and counting (stats.h). */
void *slab_alloc_slab_entry(struct kmem_cache *s, gfp_t gfp, int node) __hidden;
void slab_free_slab_entry(struct kmem_cache *s, void *x, struct page *page) __hidden;
void *slab_alloc_slab_entry_stats(struct kmem_cache *s, gfp_t gfp, int node) __hidden;
void slab_free_slab_entry_stats(struct kmem_cache *s, void *x, struct page *page) __hidden;
void *slub_alloc_entry(struct kmem_cache *s, gfp_t gfp, int node) __hidden;
void slub_free_entry(struct kmem_cache *s, void *x, struct page *page) __hidden;
void *slub_alloc_entry_stats(struct kmem_cache *s, gfp_t gfp, int node) __hidden;
void slub_free_entry_stats(struct kmem_cache *s, void *x, struct page *page) __hidden;

/* Fault injection (failslab.c) and the sanitizer / valgrind hooks (sanitize.c), at start-up. */
void failslab_init(void) __hidden;
void sanitize_init(void) __hidden;
/*
 * failslab_fired - this thread's latest slab allocation was failed on
 * purpose (failslab.c).  A back end whose allocation failed because an
 * allocation of its own was failed so reports no shortage.
 */
extern __thread bool failslab_fired __attribute__((tls_model("initial-exec"))) __hidden;

#endif /* USLAB_SLAB_INTERNAL_H */
