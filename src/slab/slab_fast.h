/* SPDX-License-Identifier: MIT */
/*
 * slab_fast.h - SLAB's fast paths, inline: slab_alloc_node_slab() and
 * slab_free_slab(), compiled into slab.c's out-of-line entries, which the
 * dispatch header (src/slab_fast.h) reaches.  A pop from and a push onto
 * this thread's array cache, the kernel's ____cache_alloc() and
 * __cache_free(), with uslab's checks.  What they fall back to is declared
 * first and lives in slab.c.
 *
 * Each is written once, with a constant @stats: false for the plain
 * entries, whose code is then exactly the uncounted path, true for the
 * counting entries used with the slab_stats option (stats.h), which add
 * the kernel's ALLOCHIT / ALLOCMISS and FREEHIT / FREEMISS.
 */
#ifndef USLAB_SLAB_SLAB_FAST_H
#define USLAB_SLAB_SLAB_FAST_H

#include "slab_def.h"
#include "../stats.h"

void *sl_cache_alloc_slow(struct kmem_cache *s, gfp_t gfp, int node) __hidden;
void *sl_alloc_bad_marker(struct kmem_cache *s, void *objp, gfp_t gfp, int node) __hidden;
void sl_cache_free_slow(struct kmem_cache *s, void *x, struct page *page) __hidden;

/* ------------------------------------------------------ free markers */

/*
 * The free marker.  Every free object holds at s->offset a word derived
 * from the cache's secret and the word's own address:
 *
 *	m = s->random ^ swab(address of the word)	free, in an array
 *	m ^ 1						free, on its slab's freelist
 *
 * and every path that hands an object out clears it.  So "is this object
 * already free?" is one load and one compare on every free ((word ^ m) <
 * 2), from any thread, however many frees came between; a popped object
 * whose word is not m was written after it was freed or handed out
 * twice; and free_block() refuses an object that is already on its slab
 * (two threads freeing it at the same instant, the one race the free-time
 * check cannot see).  s->random has bit 56 set and the word is 8-byte
 * aligned, so m has bit 56 set: a cleared word is never a marker.  The
 * byte swap keeps a marker copied to another address (a realloc copying
 * stale bytes) from being the marker there.  The word is the last of the
 * object, or just after it for objects that keep their contents while
 * free (a constructor, SLAB_TYPESAFE_BY_RCU, SLAB_POISON).  docs/slab.md
 * has the cost.
 */
static __always_inline uintptr_t sl_marker(const struct kmem_cache *s, uintptr_t word)
{
	return s->random ^ __builtin_bswap64(word);
}

static __always_inline uintptr_t *sl_marker_word(const struct kmem_cache *s, const void *objp)
{
	return (uintptr_t *)((uintptr_t)objp + s->offset);
}

/* Free in any state: in an array, or on its slab. */
static __always_inline bool sl_object_is_free(const struct kmem_cache *s, const void *objp)
{
	uintptr_t *w = sl_marker_word(s, objp);

	return (*w ^ sl_marker(s, (uintptr_t)w)) < 2;
}

/* Free, in an array cache (a thread's, a shared or an alien one). */
static __always_inline bool sl_object_in_array(const struct kmem_cache *s, const void *objp)
{
	uintptr_t *w = sl_marker_word(s, objp);

	return *w == sl_marker(s, (uintptr_t)w);
}

static __always_inline void sl_mark_free(const struct kmem_cache *s, void *objp)
{
	uintptr_t *w = sl_marker_word(s, objp);

	*w = sl_marker(s, (uintptr_t)w);
}

static __always_inline void sl_mark_allocated(const struct kmem_cache *s, void *objp)
{
	*sl_marker_word(s, objp) = 0;
}

/* Whether @off (< 2^32) is a multiple of s->size: one multiply (slab.h). */
static __always_inline bool sl_is_object_offset(const struct kmem_cache *s, uintptr_t off)
{
	return (uint64_t)off * s->divisor_magic < s->divisor_magic;
}

/* The index of the object @off bytes past s_mem (the kernel's reciprocal_divide). */
static __always_inline unsigned int sl_obj_index(const struct kmem_cache *s, uintptr_t off)
{
	return (unsigned int)(((uint64_t)off * s->reciprocal_size) >> RECIPROCAL_SHIFT);
}

/* ------------------------------------------------------- fast paths */

/*
 * slab_alloc_node_slab_x - pop this thread's array (____cache_alloc).  The
 * popped object must carry its free marker; the marker is cleared.  An
 * empty array, a node this thread is not on, or __GFP_ZERO go to the slow
 * path (cache_alloc_refill, ____cache_alloc_node).  With @stats, a pop is
 * an allochit and every way into the slow path an allocmiss, so that the
 * two add up to the allocations made here: unlike the kernel, which
 * counts a hit for the slow path's own pop, __GFP_ZERO and node-specific
 * allocations are misses even when the array had an object.
 */
static __always_inline void *slab_alloc_node_slab_x(struct kmem_cache *s, gfp_t gfp, int node,
						    const bool stats)
{
	struct array_cache *ac = sl_cpu_cache(s);
	unsigned int avail = ac->avail;
	void *objp;

	if (unlikely(!avail || (gfp & __GFP_ZERO) ||
		     (node != NUMA_NO_NODE && (unsigned int)node != ac->node)))
		goto slow;
	objp = ac->entry[avail - 1];
	if (unlikely(!sl_object_in_array(s, objp))) {
		if (stats)
			stat_add_on(s, SL_STAT_ALLOCMISS, 1);
		return sl_alloc_bad_marker(s, objp, gfp, node);
	}
	ac->avail = avail - 1;
	ac->touched = 1;
	sl_mark_allocated(s, objp);
	if (stats)
		stat_add_on(s, SL_STAT_ALLOCHIT, 1);
	return objp;
slow:
	if (stats)
		stat_add_on(s, SL_STAT_ALLOCMISS, 1);
	return sl_cache_alloc_slow(s, gfp, node);
}

static __always_inline void *slab_alloc_node_slab(struct kmem_cache *s, gfp_t gfp, int node)
{
	return slab_alloc_node_slab_x(s, gfp, node, false);
}

/*
 * slab_free_slab_x - push onto this thread's array (__cache_free).  The
 * page proves @x is in a slab of @s; s_mem and span prove it is an object
 * start; the marker that it is not free already.  An object of another
 * node (alien), a full array, or anything odd goes to the slow path,
 * which reports bad pointers in the kernel's words.  @page is any page of
 * @x's slab if the caller knows it (kfree), else NULL.  With @stats, a
 * push is a freehit and the slow path a freemiss: the two add up to the
 * frees made here (the kernel counts alien frees as neither).
 */
static __always_inline void slab_free_slab_x(struct kmem_cache *s, void *x, struct page *page,
					     const bool stats)
{
	struct array_cache *ac = sl_cpu_cache(s);
	struct slab_slab *slab;
	uintptr_t off;
	unsigned int avail;

	if (!page) {
		/* as kfree_inline(): a metadata page never says PG_slab */
		if (unlikely(!addr_in_arena(x)))
			goto slow;
		page = __virt_to_page(x);
		if (unlikely(!(page->flags & PG_slab)))
			goto slow;
	}
	if (unlikely(page->slab_cache != s))
		goto slow;
	slab = sl_page_slab(compound_head(page));
	off = (uintptr_t)x - (uintptr_t)slab->s_mem;
	if (unlikely(off >= slab->span || !sl_is_object_offset(s, off)))
		goto slow;
	avail = ac->avail;
	if (unlikely(avail >= ac->limit || slab->__page_node != ac->node ||
		     sl_object_is_free(s, x)))
		goto slow;
	sl_mark_free(s, x);
	ac->entry[avail] = x;
	ac->avail = avail + 1;
	if (stats)
		stat_add_on(s, SL_STAT_FREEHIT, 1);
	return;
slow:
	if (stats)
		stat_add_on(s, SL_STAT_FREEMISS, 1);
	sl_cache_free_slow(s, x, page);
}

static __always_inline void slab_free_slab(struct kmem_cache *s, void *x, struct page *page)
{
	slab_free_slab_x(s, x, page, false);
}

#endif /* USLAB_SLAB_SLAB_FAST_H */
