/* SPDX-License-Identifier: MIT */
/*
 * sanitize.h - what the page allocator and slab_common tell sanitize.c
 * about blocks of memory that are not slab objects: page blocks (the
 * buddy allocator's), kmalloc_large blocks and direct mappings.  Slab
 * objects need no call here: sanitize.c sits in front of the dispatch
 * (slab_fast_wrap) and sees every one.
 *
 * Each hook is one test of a byte that is set only when a checker is in
 * force (valgrind memcheck, found at start-up, or the USLAB_ASAN_POISON
 * build), so that the paths that call them (all slow: the buddy
 * allocator, kmalloc_large, the direct mappings) cost nothing more
 * otherwise.  The hooks annotate; they never allocate and never fail.
 * This header includes nothing above the page allocator, which calls it.
 */
#ifndef USLAB_SANITIZE_H
#define USLAB_SANITIZE_H

#include "internal.h"

#ifdef USLAB_ASAN_POISON
/* The poisoning build checks from the first page on. */
#define sanitize_active() true
#else
/* Set once, at start-up, when the process runs under memcheck (sanitize.c). */
extern unsigned char sanitize_memcheck __hidden;
#define sanitize_active() unlikely(sanitize_memcheck)
#endif

void __sanitize_pages_alloc(void *addr, size_t bytes, bool zeroed) __hidden;
void __sanitize_pages_free(void *addr, size_t bytes) __hidden;
void __sanitize_large_alloc(void *addr, size_t bytes, gfp_t gfp) __hidden;
void __sanitize_large_free(const void *addr, size_t bytes) __hidden;
void __sanitize_map_alloc(void *addr, size_t bytes) __hidden;
void __sanitize_map_free(const void *addr) __hidden;

/*
 * A block of the buddy allocator handed out (@zeroed: known to read as
 * zeroes) or taken back: for a slab, a kmalloc_large block or
 * alloc_pages().  Free pages may be neither read nor written.
 */
static inline void sanitize_pages_alloc(void *addr, size_t bytes, bool zeroed)
{
	if (sanitize_active())
		__sanitize_pages_alloc(addr, bytes, zeroed);
}

static inline void sanitize_pages_free(void *addr, size_t bytes)
{
	if (sanitize_active())
		__sanitize_pages_free(addr, bytes);
}

/*
 * A kmalloc_large block of @bytes (its ksize, whole pages) handed out,
 * before __GFP_ZERO clears it; and one about to go back.  A heap block
 * for memcheck (leaks, use after free); unpoisoned, then poisoned, for
 * ASan.
 */
static inline void sanitize_large_alloc(void *addr, size_t bytes, gfp_t gfp)
{
	if (sanitize_active())
		__sanitize_large_alloc(addr, bytes, gfp);
}

static inline void sanitize_large_free(const void *addr, size_t bytes)
{
	if (sanitize_active())
		__sanitize_large_free(addr, bytes);
}

/*
 * A direct mapping (kvmalloc above KMALLOC_MAX_SIZE, the shim's largest
 * blocks) of @bytes usable bytes, fresh and so zero; and one about to be
 * unmapped.  A heap block for memcheck; ASan needs nothing, the mapping
 * comes and goes with its shadow clean.
 */
static inline void sanitize_map_alloc(void *addr, size_t bytes)
{
	if (sanitize_active())
		__sanitize_map_alloc(addr, bytes);
}

static inline void sanitize_map_free(const void *addr)
{
	if (sanitize_active())
		__sanitize_map_free(addr);
}

#endif /* USLAB_SANITIZE_H */
