/* SPDX-License-Identifier: MIT */
/*
 * slab_fast.h - the dispatch header: the back ends' inline fast paths
 * behind one set of names, for the callers that must not pay a call
 * (slab_common's kmalloc / kfree / kmem_cache_* entry points and the
 * malloc shim).  It is the only header that includes a back end's
 * headers; slab.h, the contract, includes none.
 *
 *   slab_alloc(s, gfp, node)	kmem_cache_alloc_node without the call
 *   slab_free(s, x, page)	kmem_cache_free; @page is any page of @x's
 *				slab if the caller knows it (kfree), else NULL
 *   kfree_inline(x)		kfree: a slab object inline, the rest out of line
 *
 * The back end is chosen once at start-up (USLAB_ALLOCATOR, init.c) and
 * never changes, so the test of slab_fast_ool (one byte compared in
 * memory and a branch, always the same way) is all the choice costs a
 * fast path.  SLUB's code stays in line; SLAB's fast paths, and with the
 * statistics counters on the counting copies of either back end's
 * (stats.h), are reached out of line through slab_alloc_ool and
 * slab_free_ool: a tail jump with the arguments already in place, so
 * SLUB's inline path keeps its registers.
 */
#ifndef USLAB_SLAB_FAST_H
#define USLAB_SLAB_FAST_H

#include "slab.h"
#include "slub/slub_fast.h"

static __always_inline void *slab_alloc(struct kmem_cache *s, gfp_t gfp, int node)
{
	if (unlikely(slab_fast_ool))
		return slab_alloc_ool(s, gfp, node);
	return slub_alloc_node(s, gfp, node);
}

static __always_inline void slab_free(struct kmem_cache *s, void *x, struct page *page)
{
	if (unlikely(slab_fast_ool))
		slab_free_ool(s, x, page);
	else
		slub_free(s, x, page);
}

/*
 * kfree_inline - any page of a slab names its cache (PG_slab and
 * page->slab_cache on every page), so the fast path is: is the address in
 * an arena (NULL and ZERO_SIZE_PTR are not), is its page part of a slab,
 * then the cache's free fast path, given the page so that a miss need not
 * look it up again.  Everything else is kfree_slow() in slab_common.c.
 */
static __always_inline void kfree_inline(const void *x)
{
	struct page *page;

	if (unlikely(!addr_in_arena(x)))
		goto slow;
	page = __virt_to_page(x);
	if (unlikely(!(page->flags & PG_slab)))
		goto slow;
	slab_free(page->slab_cache, (void *)x, page);
	return;
slow:
	kfree_slow(x);
}

#endif /* USLAB_SLAB_FAST_H */
