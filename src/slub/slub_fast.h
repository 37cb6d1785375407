/* SPDX-License-Identifier: MIT */
/*
 * slub_fast.h - SLUB's fast paths, inline: slub_alloc_node() and
 * slub_free(), reached only through the dispatch header slab_fast.h.
 * What they fall back to is declared first and lives in slub.c.
 */
#ifndef USLAB_SLUB_FAST_H
#define USLAB_SLUB_FAST_H

#include "slub_def.h"
#include "../stats.h"

void *__slab_alloc(struct kmem_cache *s, gfp_t gfp, int node) __hidden;
void slab_free_slow(struct kmem_cache *s, void *x, struct page *page) __hidden;
void report_fast_free(struct kmem_cache *s, void *x, bool double_free) __hidden;
void *alloc_corrupt_sheaf(struct kmem_cache *s, gfp_t gfp, int node) __hidden;

/* ------------------------------------------------------ free pointers */

/*
 * The free pointer is stored as ptr ^ s->random ^ swab(&ptr), as the
 * kernel's CONFIG_SLAB_FREELIST_HARDENED stores it.  The byte swap
 * matters: a stored word copied to another address B (a realloc that
 * copies uninitialised padding, say) decodes to ptr ^ swab(A) ^ swab(B),
 * whose differing low address bits land in the top bytes, far from any
 * slab; with a plain "^ addr" it would decode to a neighbour of B.
 */
static __always_inline uintptr_t freeptr_mask(const struct kmem_cache *s, uintptr_t addr)
{
	return s->random ^ __builtin_bswap64(addr);
}

static __always_inline void *get_freepointer(const struct kmem_cache *s, const void *object)
{
	uintptr_t addr = (uintptr_t)object + s->offset;

	return (void *)(*(const uintptr_t *)addr ^ freeptr_mask(s, addr));
}

static __always_inline void set_freepointer(const struct kmem_cache *s, void *object, void *fp)
{
	uintptr_t addr = (uintptr_t)object + s->offset;

	*(uintptr_t *)addr = (uintptr_t)fp ^ freeptr_mask(s, addr);
}

/*
 * Free-state marking.  A free object's word at s->offset always decodes to
 * NULL or to an object of the same slab; an allocated object's never does,
 * because every path that hands an object out clears that word first
 * (clear_freepointer), and a cleared word decodes to s->random ^
 * swab(addr), whose bit 56 is set (s->random has bit 56 set and the
 * word's address is 8-byte aligned, so swab(addr) has bit 56 clear): no
 * user address.  That makes "is this object already free?" one load and a
 * compare on every free, which catches a double free however many frees
 * came between, and from any thread, not only the kernel's naive
 * "object == freelist head" case.  User data would have to equal
 * s->random ^ swab(addr) ^ (an address inside this slab) to look free:
 * with a 64-bit secret, about span / 2^64 for any one word; and a word
 * copied from another address decodes far outside every slab (above).
 */
static __always_inline void clear_freepointer(const struct kmem_cache *s, void *object)
{
	*(uintptr_t *)((uintptr_t)object + s->offset) = 0;
}

/* Whether @object of the slab at @base (@span bytes of objects) looks free. */
static __always_inline bool object_looks_free(const struct kmem_cache *s, const void *object,
					      uintptr_t base, size_t span)
{
	uintptr_t fp = (uintptr_t)get_freepointer(s, object);

	return fp - base < span || fp == 0;
}

/*
 * is_object_offset - whether @off (< 2^32) is a multiple of s->size, with
 * one multiply: off * M mod 2^64 < M for M = floor((2^64 - 1) / size) + 1
 * (Lemire, Kaser and Kurz, "Faster remainder by direct computation", 2019).
 */
static __always_inline bool is_object_offset(const struct kmem_cache *s, uintptr_t off)
{
	return (uint64_t)off * s->divisor_magic < s->divisor_magic;
}

/* Whether @p is the start of an object of the slab whose objects span [@base, @base + @span). */
static __always_inline bool is_object_in(const struct kmem_cache *s, uintptr_t base,
					 size_t span, uintptr_t p)
{
	return p - base < span && is_object_offset(s, p - base);
}

/* The index of the object at @off bytes into a slab (reciprocal multiply). */
static __always_inline uintptr_t obj_index(const struct kmem_cache *s, uintptr_t off)
{
	return (uintptr_t)(((uint64_t)off * s->reciprocal_size) >> RECIPROCAL_SHIFT);
}

static inline struct kmem_cache_cpu *cpu_slot(const struct kmem_cache *s)
{
	return this_cpu_slot(s->cpu_offset);
}

/*
 * freeptr_ok - whether @fp, decoded from an object popped off the cpu
 * freelist, is what a free object's word must hold: NULL, or the start of
 * an object of the cpu slab.  Anything else means the object was written
 * after it was freed (a use after free, an overflow from its neighbour)
 * or is on two freelists (a double free that raced past the free-time
 * check), and neither it nor what it points to may be handed out.
 */
static __always_inline bool freeptr_ok(const struct kmem_cache *s,
				       const struct kmem_cache_cpu *c, uintptr_t fp)
{
	return likely(is_object_in(s, c->base, c->span, fp)) || !fp;
}

/*
 * sheaf_mark_ok - whether the free-pointer word of @object, popped off a
 * sheaf, still holds the mark every object in a sheaf carries (NULL,
 * encoded): if not, it was written after it was freed (a use after free,
 * an overflow from its neighbour) or it is in two sheaves at once (a
 * double free that raced past the free-time check and was handed out).
 */
static __always_inline bool sheaf_mark_ok(const struct kmem_cache *s, const void *object)
{
	uintptr_t addr = (uintptr_t)object + s->offset;

	return *(const uintptr_t *)addr == freeptr_mask(s, addr);
}

/*
 * slub_alloc_node - the allocation fast path: pop the main sheaf of the
 * slot and check the object's free mark (docs/checks.md has the count).
 * With @stats (a compile-time constant) it is the counting copy that
 * slab_fast.h dispatches to when the counters are on (stats.h).
 */
static __always_inline void *slub_alloc_node_x(struct kmem_cache *s, gfp_t gfp, int node,
					       const bool stats)
{
	struct kmem_cache_cpu *c = cpu_slot(s);
	void **top = c->sheaf_top;
	void *object;

	if (unlikely(top == c->sheaf_objects || (gfp & __GFP_ZERO) || node != NUMA_NO_NODE))
		return __slab_alloc(s, gfp, node);
	object = top[-1];
	if (unlikely(!sheaf_mark_ok(s, object)))
		return alloc_corrupt_sheaf(s, gfp, node);
	c->sheaf_top = top - 1;
	clear_freepointer(s, object);
	if (stats)
		stat_add_on(s, ALLOC_FASTPATH, 1);
	return object;
}

static __always_inline void *slub_alloc_node(struct kmem_cache *s, gfp_t gfp, int node)
{
	return slub_alloc_node_x(s, gfp, node, false);
}

/*
 * slub_free - the free fast path: prove that @x is the start of an
 * object of @s that is not already free, mark it free and push it on the
 * main sheaf.  An object of the slot's cpu slab (most often: sheaves are
 * refilled from it) is proved by one range check against it.  Any other
 * needs its page: every page of a slab names its cache and the slab's
 * order, and a slab is aligned to its size, so the slab's first byte is
 * @x with the low bits cleared, with no step to the head page.  @page is
 * any page of @x's slab if the caller knows it (kfree, which has checked
 * that it is a slab page of @s), else NULL.
 */
static __always_inline void slub_free_x(struct kmem_cache *s, void *x, struct page *page,
					const bool stats)
{
	struct kmem_cache_cpu *c = cpu_slot(s);
	void **top = c->sheaf_top;
	uintptr_t base = c->base, off = (uintptr_t)x - base, bytes = c->span;
	uintptr_t addr, mask, fp;

	if (unlikely(top >= c->sheaf_end))
		goto slow;
	if (unlikely(off >= bytes)) {
		if (!page) {
			if (unlikely(!addr_in_arena(x)))
				goto slow;
			page = __virt_to_page(x);
			if (unlikely(page->slab_cache != s || !(page->flags & PG_slab)))
				goto slow;
		}
		bytes = PAGE_SIZE << page->order;
		off = (uintptr_t)x & (bytes - 1);
		base = (uintptr_t)x - off;
		if (unlikely(off > bytes - s->size)) {
			report_fast_free(s, x, false);
			return;
		}
	}
	if (unlikely(!is_object_offset(s, off))) {
		report_fast_free(s, x, false);
		return;
	}
	/* object_looks_free(), with the mask kept for the mark */
	addr = (uintptr_t)x + s->offset;
	mask = freeptr_mask(s, addr);
	fp = *(uintptr_t *)addr ^ mask;
	/* test fp itself: "word == mask" would keep the word live, and cost a push and a pop */
	__asm__("" : "+r"(fp));
	if (unlikely(!fp || fp - base < bytes)) {
		report_fast_free(s, x, true);
		return;
	}
	*(uintptr_t *)addr = mask;	/* set_freepointer(s, x, NULL): the free mark */
	*top = x;
	/* the object before the top that takes it in (slub.c, sheaf_begin) */
	__atomic_signal_fence(__ATOMIC_RELEASE);
	c->sheaf_top = top + 1;
	if (stats)
		stat_add_on(s, FREE_FASTPATH, 1);
	return;
slow:
	slab_free_slow(s, x, page);
}

static __always_inline void slub_free(struct kmem_cache *s, void *x, struct page *page)
{
	slub_free_x(s, x, page, false);
}

#endif /* USLAB_SLUB_FAST_H */
