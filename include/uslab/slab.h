/* SPDX-License-Identifier: MIT */
/*
 * uslab/slab.h - the Linux kernel's slab API (include/linux/slab.h), in
 * userspace.
 *
 * Kernel-style C code that uses kmem_cache_create(), kmem_cache_alloc(),
 * kmalloc(), kfree() and friends compiles against this header unchanged.
 * Names, signatures and semantics follow Linux; where the kernel's answer
 * depends on the context (sleeping, interrupts) the userspace meaning is
 * documented next to the declaration.  Userspace extras (slabinfo,
 * buddyinfo, trimming, options) are in <uslab/uslab.h>.
 */
#ifndef USLAB_SLAB_H
#define USLAB_SLAB_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef USLAB_API
#define USLAB_API __attribute__((visibility("default")))
#endif

/* ---------------------------------------------------------------- types */

typedef unsigned int gfp_t;
typedef unsigned int slab_flags_t;

struct kmem_cache;

/* ------------------------------------------------------------ gfp flags */

/*
 * Only the bits that mean something to a userspace slab are kept; the
 * others are accepted and ignored so that kernel code compiles.
 *
 * __GFP_DIRECT_RECLAIM  the caller may sleep: the allocator may wait on a
 *                       sleeping lock (a mutex) and map fresh memory.
 *                       Without it (GFP_ATOMIC, GFP_NOWAIT) the allocator
 *                       only tries locks and may fail instead of waiting.
 * __GFP_ZERO            return zeroed memory.
 * __GFP_NOWARN          do not report an allocation failure.
 * __GFP_NOFAIL          never return NULL: retry, and if the OS refuses
 *                       memory for good, report and abort.
 */
#define ___GFP_DMA             0x01u
#define ___GFP_HIGH            0x20u
#define ___GFP_IO              0x40u
#define ___GFP_FS              0x80u
#define ___GFP_ZERO            0x100u
#define ___GFP_DIRECT_RECLAIM  0x400u
#define ___GFP_KSWAPD_RECLAIM  0x800u
#define ___GFP_NOWARN          0x2000u
#define ___GFP_RETRY_MAYFAIL   0x4000u
#define ___GFP_NOFAIL          0x8000u
#define ___GFP_NORETRY         0x10000u
#define ___GFP_COMP            0x40000u
#define ___GFP_ACCOUNT         0x400000u

#define __GFP_DMA            ((gfp_t)___GFP_DMA)
#define __GFP_HIGH           ((gfp_t)___GFP_HIGH)
#define __GFP_IO             ((gfp_t)___GFP_IO)
#define __GFP_FS             ((gfp_t)___GFP_FS)
#define __GFP_ZERO           ((gfp_t)___GFP_ZERO)
#define __GFP_DIRECT_RECLAIM ((gfp_t)___GFP_DIRECT_RECLAIM)
#define __GFP_KSWAPD_RECLAIM ((gfp_t)___GFP_KSWAPD_RECLAIM)
#define __GFP_RECLAIM        ((gfp_t)(___GFP_DIRECT_RECLAIM | ___GFP_KSWAPD_RECLAIM))
#define __GFP_NOWARN         ((gfp_t)___GFP_NOWARN)
#define __GFP_RETRY_MAYFAIL  ((gfp_t)___GFP_RETRY_MAYFAIL)
#define __GFP_NOFAIL         ((gfp_t)___GFP_NOFAIL)
#define __GFP_NORETRY        ((gfp_t)___GFP_NORETRY)
#define __GFP_COMP           ((gfp_t)___GFP_COMP)
#define __GFP_ACCOUNT        ((gfp_t)___GFP_ACCOUNT)

#define GFP_ATOMIC   (__GFP_HIGH | __GFP_KSWAPD_RECLAIM)
#define GFP_KERNEL   (__GFP_RECLAIM | __GFP_IO | __GFP_FS)
#define GFP_KERNEL_ACCOUNT (GFP_KERNEL | __GFP_ACCOUNT)
#define GFP_NOWAIT   (__GFP_KSWAPD_RECLAIM)
#define GFP_NOIO     (__GFP_RECLAIM)
#define GFP_NOFS     (__GFP_RECLAIM | __GFP_IO)
#define GFP_USER     (__GFP_RECLAIM | __GFP_IO | __GFP_FS)
#define GFP_DMA      __GFP_DMA

/* ----------------------------------------------------------- slab flags */

#define SLAB_CONSISTENCY_CHECKS ((slab_flags_t)0x00000100u)
#define SLAB_RED_ZONE           ((slab_flags_t)0x00000400u)
#define SLAB_POISON             ((slab_flags_t)0x00000800u)
#define SLAB_KMALLOC            ((slab_flags_t)0x00001000u)
#define SLAB_HWCACHE_ALIGN      ((slab_flags_t)0x00002000u)
#define SLAB_CACHE_DMA          ((slab_flags_t)0x00004000u)
#define SLAB_CACHE_DMA32        ((slab_flags_t)0x00008000u)
#define SLAB_STORE_USER         ((slab_flags_t)0x00010000u)
#define SLAB_PANIC              ((slab_flags_t)0x00040000u)
#define SLAB_TYPESAFE_BY_RCU    ((slab_flags_t)0x00080000u)
#define SLAB_MEM_SPREAD         ((slab_flags_t)0x00100000u)
#define SLAB_TRACE              ((slab_flags_t)0x00200000u)
#define SLAB_NOLEAKTRACE        ((slab_flags_t)0x00800000u)
#define SLAB_NO_MERGE           ((slab_flags_t)0x01000000u)
#define SLAB_FAILSLAB           ((slab_flags_t)0x02000000u)
#define SLAB_ACCOUNT            ((slab_flags_t)0x04000000u)
#define SLAB_KASAN              ((slab_flags_t)0x08000000u)
#define SLAB_NO_USER_FLAGS      ((slab_flags_t)0x10000000u)
#define SLAB_RECLAIM_ACCOUNT    ((slab_flags_t)0x00020000u)
#define SLAB_TEMPORARY          SLAB_RECLAIM_ACCOUNT

/* --------------------------------------------------------------- limits */

/* kmalloc(0) returns this: not NULL, never dereferenceable, kfree()-able. */
#define ZERO_SIZE_PTR ((void *)16)
#define ZERO_OR_NULL_PTR(x) ((unsigned long)(x) <= (unsigned long)ZERO_SIZE_PTR)

#define NUMA_NO_NODE (-1)

/* Sizes up to this come from the kmalloc-N caches; above, from pages. */
#define KMALLOC_SHIFT_HIGH     13
#define KMALLOC_MAX_CACHE_SIZE (1UL << KMALLOC_SHIFT_HIGH)
/*
 * The largest kmalloc(), as in the kernel: the largest block the page
 * allocator has, 2^(MAX_ORDER + PAGE_SHIFT) (4 MiB).  Larger requests
 * fail with a warning; kvmalloc() serves them with a mapping of their own.
 */
#define KMALLOC_SHIFT_MAX      (MAX_ORDER + PAGE_SHIFT)
#define KMALLOC_MAX_SIZE       ((size_t)1 << KMALLOC_SHIFT_MAX)
#define KMALLOC_MIN_SIZE       8
#define ARCH_KMALLOC_MINALIGN  8

/* ------------------------------------------------------------- caches */

/**
 * kmem_cache_create - create a cache of objects of one size.
 * @name:  the cache's name, shown in slabinfo; copied.
 * @size:  the object size.
 * @align: required alignment (0 or a power of two).
 * @flags: SLAB_* flags.
 * @ctor:  constructor run on each object when a slab is populated.
 *
 * Returns the cache, an existing compatible cache (merged, with one more
 * reference), or NULL with a report on bad arguments.  With SLAB_PANIC a
 * failure reports and aborts.
 */
USLAB_API struct kmem_cache *kmem_cache_create(const char *name, unsigned int size,
		unsigned int align, slab_flags_t flags, void (*ctor)(void *));

/**
 * kmem_cache_create_usercopy - as kmem_cache_create() with a usercopy window
 * [@useroffset, @useroffset + @usersize) inside the object.  A cache with a
 * usercopy window is never merged.
 */
USLAB_API struct kmem_cache *kmem_cache_create_usercopy(const char *name,
		unsigned int size, unsigned int align, slab_flags_t flags,
		unsigned int useroffset, unsigned int usersize, void (*ctor)(void *));

/** kmem_cache_destroy - drop a reference; the last one frees the cache. */
USLAB_API void kmem_cache_destroy(struct kmem_cache *s);
/** kmem_cache_shrink - give the cache's empty slabs back; returns 0. */
USLAB_API int kmem_cache_shrink(struct kmem_cache *s);
/** kmem_cache_size - the object size the cache was created with. */
USLAB_API unsigned int kmem_cache_size(struct kmem_cache *s);
/** kmem_cache_name - the cache's name (of the cache it was merged into). */
USLAB_API const char *kmem_cache_name(struct kmem_cache *s);

USLAB_API void *kmem_cache_alloc(struct kmem_cache *s, gfp_t flags);
USLAB_API void *kmem_cache_alloc_node(struct kmem_cache *s, gfp_t flags, int node);
USLAB_API void kmem_cache_free(struct kmem_cache *s, void *objp);

static inline void *kmem_cache_zalloc(struct kmem_cache *s, gfp_t flags)
{
	return kmem_cache_alloc(s, flags | __GFP_ZERO);
}

/**
 * kmem_cache_alloc_bulk - allocate @size objects into @p.
 * Returns @size, or 0 with nothing allocated.
 */
USLAB_API int kmem_cache_alloc_bulk(struct kmem_cache *s, gfp_t flags,
		size_t size, void **p);
/** kmem_cache_free_bulk - free @size objects; @s may be NULL (as kfree). */
USLAB_API void kmem_cache_free_bulk(struct kmem_cache *s, size_t size, void **p);

/**
 * kmem_cache_init - bring up the page allocator and the slab allocator.
 * Idempotent and thread-safe; every entry point calls it on first use, so
 * calling it is never necessary.
 */
USLAB_API void kmem_cache_init(void);

/*
 * KMEM_CACHE - a cache for a struct, named after it, aligned as it is.
 */
#define KMEM_CACHE(__struct, __flags)					\
	kmem_cache_create(#__struct, sizeof(struct __struct),		\
			  __alignof__(struct __struct), (__flags), NULL)

#define KMEM_CACHE_USERCOPY(__struct, __flags, __field)			\
	kmem_cache_create_usercopy(#__struct, sizeof(struct __struct),	\
		__alignof__(struct __struct), (__flags),		\
		offsetof(struct __struct, __field),			\
		sizeof(((struct __struct *)0)->__field), NULL)

/* ------------------------------------------------------------ kmalloc */

USLAB_API void *kmalloc(size_t size, gfp_t flags);
USLAB_API void *kmalloc_node(size_t size, gfp_t flags, int node);
USLAB_API void *krealloc(const void *p, size_t new_size, gfp_t flags);
USLAB_API void kfree(const void *objp);
USLAB_API void kfree_sensitive(const void *objp);
USLAB_API size_t ksize(const void *objp);
USLAB_API size_t kmalloc_size_roundup(size_t size);
USLAB_API char *kstrdup(const char *s, gfp_t gfp);
USLAB_API const char *kstrdup_const(const char *s, gfp_t gfp);
USLAB_API char *kstrndup(const char *s, size_t max, gfp_t gfp);
USLAB_API void *kmemdup(const void *src, size_t len, gfp_t gfp);
USLAB_API void kfree_const(const void *x);
USLAB_API void *kvmalloc_node(size_t size, gfp_t flags, int node);
USLAB_API void kvfree(const void *addr);
USLAB_API void kvfree_sensitive(const void *addr, size_t len);

static inline void *kzalloc(size_t size, gfp_t flags)
{
	return kmalloc(size, flags | __GFP_ZERO);
}

static inline void *kzalloc_node(size_t size, gfp_t flags, int node)
{
	return kmalloc_node(size, flags | __GFP_ZERO, node);
}

static inline void *kmalloc_array(size_t n, size_t size, gfp_t flags)
{
	size_t bytes;

	if (__builtin_mul_overflow(n, size, &bytes))
		return NULL;
	return kmalloc(bytes, flags);
}

static inline void *kmalloc_array_node(size_t n, size_t size, gfp_t flags, int node)
{
	size_t bytes;

	if (__builtin_mul_overflow(n, size, &bytes))
		return NULL;
	return kmalloc_node(bytes, flags, node);
}

static inline void *kcalloc(size_t n, size_t size, gfp_t flags)
{
	return kmalloc_array(n, size, flags | __GFP_ZERO);
}

static inline void *kcalloc_node(size_t n, size_t size, gfp_t flags, int node)
{
	return kmalloc_array_node(n, size, flags | __GFP_ZERO, node);
}

static inline void *krealloc_array(void *p, size_t n, size_t size, gfp_t flags)
{
	size_t bytes;

	if (__builtin_mul_overflow(n, size, &bytes))
		return NULL;
	return krealloc(p, bytes, flags);
}

static inline void *kvmalloc(size_t size, gfp_t flags)
{
	return kvmalloc_node(size, flags, NUMA_NO_NODE);
}

static inline void *kvzalloc(size_t size, gfp_t flags)
{
	return kvmalloc_node(size, flags | __GFP_ZERO, NUMA_NO_NODE);
}

static inline void *kvmalloc_array(size_t n, size_t size, gfp_t flags)
{
	size_t bytes;

	if (__builtin_mul_overflow(n, size, &bytes))
		return NULL;
	return kvmalloc(bytes, flags);
}

static inline void *kvcalloc(size_t n, size_t size, gfp_t flags)
{
	return kvmalloc_array(n, size, flags | __GFP_ZERO);
}

/** kfree_bulk - kfree() each of @size pointers. */
static inline void kfree_bulk(size_t size, void **p)
{
	kmem_cache_free_bulk(NULL, size, p);
}

/* ------------------------------------------------------- page allocator */

/*
 * The buddy allocator under the slabs (mm/page_alloc.c).  Orders run from
 * 0 to MAX_ORDER (10: 4 MiB blocks of 4 KiB pages); blocks are naturally
 * aligned to their size.
 */
#define MAX_ORDER 10
#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)

struct page;

USLAB_API struct page *alloc_pages(gfp_t gfp, unsigned int order);
USLAB_API struct page *alloc_pages_node(int nid, gfp_t gfp, unsigned int order);
USLAB_API void __free_pages(struct page *page, unsigned int order);
USLAB_API unsigned long __get_free_pages(gfp_t gfp, unsigned int order);
USLAB_API unsigned long get_zeroed_page(gfp_t gfp);
USLAB_API void free_pages(unsigned long addr, unsigned int order);
USLAB_API void *page_address(const struct page *page);
USLAB_API struct page *virt_to_page(const void *addr);

#define alloc_page(gfp) alloc_pages(gfp, 0)
#define __get_free_page(gfp) __get_free_pages(gfp, 0)
#define __free_page(page) __free_pages(page, 0)
#define free_page(addr) free_pages(addr, 0)

#ifdef __cplusplus
}
#endif

#endif /* USLAB_SLAB_H */
