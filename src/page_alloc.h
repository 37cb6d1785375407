/* SPDX-License-Identifier: MIT */
/*
 * page_alloc.h - struct page, arenas and the buddy allocator's interface
 * to the slab layer (the kernel's include/linux/mm_types.h + mm.h, in
 * small).
 *
 * Memory comes in arenas: 1 GiB of address space, aligned to 1 GiB.  The
 * first 16 MiB of an arena hold its struct page array, one 64-byte entry
 * per 4 KiB page of the arena, so that
 *
 *	virt_to_page(addr) = arena_base(addr) + page_index(addr)
 *
 * is two shifts and an add, and the metadata sits out of line from the
 * objects.  The entries that describe the metadata pages themselves are
 * never used as pages; the arena header lives there.  A byte per possible
 * arena (arena_map, indexed by addr >> 30) answers "is this ours?" with
 * one load.
 *
 * An arena always owns its whole 1 GiB slot in arena_map and always has
 * its whole struct page array mapped, but under an address-space limit
 * only the first part of the slot may be reserved (arena->end), grown in
 * place as the zone needs it.  The fast paths need not know: the struct
 * page of any address in the slot is readable (the part beyond the
 * reserved end reads as zeroes: not a slab, not allocated), so they fall
 * to the slow paths, which ask arena_reserved() before calling an address
 * ours.
 */
#ifndef USLAB_PAGE_ALLOC_H
#define USLAB_PAGE_ALLOC_H

#include "internal.h"

#define ARENA_SHIFT		30
#define ARENA_SIZE		(1UL << ARENA_SHIFT)
#define ARENA_PAGES		(ARENA_SIZE >> PAGE_SHIFT)
#define VA_BITS			47
#define NR_ARENA_SLOTS		(1UL << (VA_BITS - ARENA_SHIFT))
#define MAX_ORDER_NR_PAGES	(1UL << MAX_ORDER)
#define MAX_NUMNODES		64

struct kmem_cache;

/*
 * page->flags.  Block state (PG_buddy, PG_head, PG_isolated) sits on the
 * first page of a block only; every other page of a block has no flags
 * but a slab's PG_tail | PG_slab (page_alloc.c, section 6).
 */
enum {
	PG_buddy	= 1u << 0,	/* head of a free block in a free_area list */
	PG_head		= 1u << 1,	/* head of a block handed out by alloc_pages */
	PG_tail		= 1u << 2,	/* not the first page of a slab / large kmalloc */
	PG_slab		= 1u << 3,	/* head page of a slab */
	PG_large_kmalloc = 1u << 4,	/* head page of a kmalloc_large block */
	PG_clean	= 1u << 5,	/* free block known to hold no backed pages */
	PG_isolated	= 1u << 6,	/* free block taken off the lists to release */
};

/*
 * struct page - one per 4 KiB page of an arena, 64 bytes.  The page
 * allocator owns flags, lru (of a free block's head), order, node and, for
 * blocks it hands out, private; a slab back end overlays its own struct
 * slab on the head page of each slab (slub/slub_def.h, slab/slab_def.h),
 * as the kernel's mm/slab.h does, with static asserts on the offsets that
 * both views must agree on (SLAB_MATCH).  Every page of a slab names its
 * cache in slab_cache, so kfree() finds the cache from any page, and holds
 * the slab's order, so compound_head() finds the head by a mask.
 * slab_words and slab_aux are the back end's alone.
 */
struct page {
	unsigned long flags;
	union {
		struct list_head lru;		/* head of a free block: free_area list */
		struct page *next;		/* a block being released (PG_isolated) */
	};
	struct kmem_cache *slab_cache;		/* PG_slab, on every page of the slab */
	unsigned long slab_words[2] __attribute__((aligned(16)));	/* the back end's */
	unsigned short order;		/* of the block this page heads (slab pages: all) */
	unsigned short node;
	unsigned int slab_aux;		/* slab: the back end's */
	unsigned long private;		/* kmalloc_large: page count; slab: the back end's */
};

_Static_assert(sizeof(struct page) == 64, "struct page is one cache line");
_Static_assert(ARENA_SIZE % (sizeof(struct page) << MAX_ORDER) == 0, "compound_head() masks within the struct page array");

/* The arena header: kept in the unused struct page slots of the metadata. */
struct arena {
	uintptr_t base;
	unsigned int node;
	unsigned long fresh;		/* first page index not yet given to the buddy lists */
	unsigned long end;		/* first page index not reserved (ARENA_PAGES: all) */
	struct arena *next;
};

#define ARENA_META_PAGES	(ARENA_PAGES * sizeof(struct page) / PAGE_SIZE)
/* The least an arena reserves: its struct page array and one MAX_ORDER block. */
#define ARENA_MIN_PAGES		(ARENA_META_PAGES + MAX_ORDER_NR_PAGES)

extern unsigned char arena_map[NR_ARENA_SLOTS] __hidden;

static inline bool addr_in_arena(const void *p)
{
	uintptr_t i = (uintptr_t)p >> ARENA_SHIFT;

	return i < NR_ARENA_SLOTS && arena_map[i];
}

static inline struct page *__virt_to_page(const void *addr)
{
	uintptr_t a = (uintptr_t)addr;
	struct page *map = (struct page *)(a & ~(ARENA_SIZE - 1));

	return map + ((a & (ARENA_SIZE - 1)) >> PAGE_SHIFT);
}

static inline void *__page_address(const struct page *page)
{
	uintptr_t p = (uintptr_t)page;
	uintptr_t base = p & ~(ARENA_SIZE - 1);

	return (void *)(base + (((p - base) / sizeof(struct page)) << PAGE_SHIFT));
}

/* The page index inside its arena; below ARENA_META_PAGES is metadata. */
static inline unsigned long page_index(const void *addr)
{
	return ((uintptr_t)addr & (ARENA_SIZE - 1)) >> PAGE_SHIFT;
}

/*
 * compound_head - the first page of the slab @page (PG_slab) belongs to,
 * with no branch: every page of a slab holds the slab's order, a slab is
 * aligned to its size, and the struct page array starts an arena (aligned
 * far beyond 64 << MAX_ORDER), so clearing the low bits of @page's own
 * address gives the head.  (The kernel tests a tail bit and loads a
 * pointer; the test mispredicts whenever frees mix head and tail pages.)
 */
static inline struct page *compound_head(struct page *page)
{
	return (struct page *)((uintptr_t)page &
			       ~(((uintptr_t)sizeof(struct page) << page->order) - 1));
}

static inline struct page *virt_to_head_page(const void *addr)
{
	return compound_head(__virt_to_page(addr));
}

static inline int page_to_nid(const struct page *page)
{
	return (int)page->node;
}

/* ------------------------------------------------------- page_alloc.c */

/*
 * With @zeroed: set when the block is known to read as zeroes.  Fails
 * without a report; the caller says what failed.
 */
struct page *__alloc_pages(int nid, gfp_t gfp, unsigned int order, bool *zeroed) __hidden;
void __free_pages_ok(struct page *page, unsigned int order) __hidden;
struct page *__alloc_pages_exact(int nid, gfp_t gfp, unsigned long nr, bool *zeroed) __hidden;
void __free_pages_exact(struct page *page, unsigned long nr) __hidden;
/* Bring the page allocator up (options first); idempotent, thread-safe. */
void page_alloc_init(void) __hidden;
int numa_node_id(void) __hidden;
extern int nr_node_ids __hidden;
size_t page_alloc_trim(void) __hidden;

/*
 * The pointer classifier: what an address handed to a free (or to ksize,
 * uslab_owns, realloc) is, worked out in one place for every caller.
 */
enum ptr_kind {
	PTR_NULL,	/* NULL or ZERO_SIZE_PTR */
	PTR_FOREIGN,	/* in no arena and no direct mapping of ours */
	PTR_META,	/* inside an arena's struct page array */
	PTR_SLAB,	/* inside a slab: page is the slab's head page */
	PTR_LARGE,	/* the start of a live kmalloc_large block: page, size */
	PTR_MAPPING,	/* the start of a live direct mapping: size */
	PTR_BAD,	/* in an arena, but not the start of a live block: why */
	PTR_FREED_MAPPING,	/* a direct mapping that was freed (double free) */
};

struct ptr_info {
	struct page *page;
	size_t size;
	const char *why;
	char why_buf[128];
};

enum ptr_kind classify_ptr(const void *p, struct ptr_info *info) __hidden;
/*
 * report_bad_ptr - the report for a pointer @who (kfree, realloc, ...)
 * cannot take, in the kernel's words: "Invalid object pointer" for one in
 * no arena, "Bad page state" for a page that is not a live block.
 * BUG-class: returns only with a test hook set.
 */
void report_bad_ptr(const char *who, const void *p, enum ptr_kind kind,
		    const struct ptr_info *info) __hidden;

/*
 * arena_reserved - for an address in a slot arena_map claims: whether it
 * lies in the reserved part of that arena (always, for a full one).  An
 * address in the unreserved tail is not ours: it may even belong to a
 * mapping of someone else's, or to a direct mapping of ours.  For the
 * slow paths; the fast paths never need it.
 */
static inline bool arena_reserved(const void *p)
{
	const struct arena *a = (const struct arena *)((uintptr_t)p & ~(ARENA_SIZE - 1));

	return page_index(p) < __atomic_load_n(&a->end, __ATOMIC_ACQUIRE);
}

/*
 * What of os.c only the page allocator uses (declared here rather than
 * with the rest of os.c in internal.h): the placement of aligned
 * mappings, mincore, and the coarse clock its decay reads.
 */
int os_reserve_at(void *addr, size_t size) __hidden;
void *os_map_aligned(size_t size, size_t align, size_t skew) __hidden;
int os_resident(void *addr, size_t size, unsigned char *vec) __hidden;
uint64_t os_coarse_ns(void) __hidden;

/*
 * Direct mappings, for blocks above MAX_ORDER.  large_map() memory reads
 * as zeroes (a fresh mapping, or a reused one cleared); large_map_gfp()
 * clears a reused one only for __GFP_ZERO, so callers that overwrite the
 * block anyway skip the clearing.
 */
void *large_map(size_t size, size_t align) __hidden;
void *large_map_gfp(size_t size, size_t align, gfp_t gfp) __hidden;
bool large_unmap(const void *p) __hidden;
size_t large_size(const void *p) __hidden;

/*
 * For the statistics (stats.c): the buddy lists of node @nid, and the
 * page allocator's figures; false if a zone lock stays held during a
 * non-blocking snapshot (internal.h).
 */
bool buddy_snapshot(int nid, unsigned long *nr) __hidden;
bool page_stats_snapshot(struct uslab_page_stats *st) __hidden;

#endif /* USLAB_PAGE_ALLOC_H */
