// SPDX-License-Identifier: MIT
/*
 * malloc.c - the C allocator on top of the slab caches (libuslab-malloc.so).
 *
 * 1. Size classes.  kmalloc keeps the kernel's classes, which leave up to
 *    half of an object unused between 256 and 8192.  The shim has its own,
 *    finer set: every multiple of 16 up to 128, then four classes per
 *    power of two (160, 192, 224, 256, 320, ...) up to 16 KiB, each a
 *    kmem_cache named "malloc-<size>" (merged with a kmalloc-N cache of the
 *    same size, as any cache may be).  Worst-case internal waste is 25%
 *    above 128 bytes instead of 50%.  Larger requests are whole pages from
 *    the page allocator (kmalloc_large: exact page counts, not powers of
 *    two), and above 4 MiB a mapping of their own.
 *
 * 2. Alignment.  Every class above 8 is a multiple of 16 and slabs start
 *    on a page, so objects are 16-byte aligned, as glibc's are; the 8-byte
 *    class serves malloc(1..8).  Power-of-two classes are naturally
 *    aligned, which is what posix_memalign() and friends use.
 *
 * 3. Start-up.  The first call initialises the slab allocator
 *    (uslab_init) and then the classes.  Initialisation may re-enter
 *    malloc (creating a pthread key, registering fork handlers); until the
 *    classes exist those calls are served by kmalloc.  Nothing here calls
 *    dlsym or getenv.
 *
 * 4. Errors.  Failures return NULL with errno ENOMEM.  free() of a pointer
 *    the shim did not hand out, an interior pointer, or a repeated free is
 *    reported in the kernel's words and aborts (kfree's checks).
 */
#define _GNU_SOURCE
#include "slab_fast.h"

#include <errno.h>
#include <string.h>
#include <malloc.h>

#define SHIM_EXPORT __attribute__((visibility("default")))
#define SHIM_MAX_CLASS 16384

/* class sizes, ascending; filled at init */
static unsigned int class_size[64];
static struct kmem_cache *class_cache[64];
static unsigned int nr_classes;

/* size -> class: (size + 15) / 16 up to 1024, (size + 127) / 128 above. */
static struct kmem_cache *small_class[1024 / 16 + 1];
static struct kmem_cache *large_class[SHIM_MAX_CLASS / 128 + 1];
static int shim_ready;

static void build_classes(void)
{
	unsigned int n = 0;

	class_size[n++] = 8;
	for (unsigned int s = 16; s <= 128; s += 16)
		class_size[n++] = s;
	for (unsigned int base = 128; base < SHIM_MAX_CLASS; base *= 2)
		for (unsigned int q = 1; q <= 4; q++)
			class_size[n++] = base + q * base / 4;
	nr_classes = n;
}

static noinline void shim_init(void)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	char name[32];

	uslab_init();
	pthread_mutex_lock(&lock);
	if (__atomic_load_n(&shim_ready, __ATOMIC_ACQUIRE)) {
		pthread_mutex_unlock(&lock);
		return;
	}
	build_classes();
	for (unsigned int i = 0; i < nr_classes; i++) {
		unsigned int size = class_size[i];

		uslab_snprintf(name, sizeof(name), "malloc-%u", size);
		class_cache[i] = kmem_cache_create(name, size, size >= 16 ? 16 : 8,
						   SLAB_PANIC, NULL);
	}
	for (unsigned int sz = 0, i = 0; sz <= 1024; sz += 16) {
		while (class_size[i] < (sz ? sz : 1))
			i++;
		small_class[sz / 16] = class_cache[i];
	}
	for (unsigned int sz = 0, i = 0; sz <= SHIM_MAX_CLASS; sz += 128) {
		while (class_size[i] < (sz ? sz : 1))
			i++;
		large_class[sz / 128] = class_cache[i];
	}
	/* malloc(1..8) may take the 8-byte class */
	small_class[0] = class_cache[0];
	__atomic_store_n(&shim_ready, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&lock);
}

/*
 * The class of @size (1..SHIM_MAX_CLASS).  Sizes 1..8 map to index 0 of
 * small_class only through the explicit check; 9..16 to index 1.
 */
static __always_inline struct kmem_cache *size_class(size_t size)
{
	if (size <= 8)
		return small_class[0];
	if (size <= 1024)
		return small_class[(size + 15) >> 4];
	return large_class[(size + 127) >> 7];
}

static noinline void *shim_alloc_slow(size_t size, gfp_t gfp)
{
	void *p;

	if (!__atomic_load_n(&shim_ready, __ATOMIC_ACQUIRE)) {
		shim_init();
		if (!__atomic_load_n(&shim_ready, __ATOMIC_ACQUIRE)) {
			/* re-entered from initialisation: kmalloc is up */
			p = kmalloc(size ? size : 1, gfp | __GFP_NOWARN);
			goto out;
		}
	}
	if (size == 0)
		size = 1;
	if (size <= SHIM_MAX_CLASS)
		p = slab_alloc(size_class(size), gfp, NUMA_NO_NODE);
	else
		p = kvmalloc_node(size, gfp | __GFP_NOWARN, NUMA_NO_NODE);
out:
	if (unlikely(!p))
		errno = ENOMEM;
	return p;
}

static __always_inline void *shim_alloc(size_t size, gfp_t gfp)
{
	void *p;

	if (unlikely(size - 1 >= SHIM_MAX_CLASS))
		return shim_alloc_slow(size, gfp);
	struct kmem_cache *s = size_class(size);
	if (unlikely(!s))
		return shim_alloc_slow(size, gfp);
	p = slab_alloc(s, gfp, NUMA_NO_NODE);
	if (unlikely(!p))
		errno = ENOMEM;
	return p;
}

SHIM_EXPORT void *malloc(size_t size)
{
	return shim_alloc(size, GFP_KERNEL | __GFP_NOWARN);
}

SHIM_EXPORT void free(void *p)
{
	if (likely(p))
		kfree_inline(p);
}

SHIM_EXPORT void *calloc(size_t n, size_t size)
{
	size_t bytes;

	if (unlikely(__builtin_mul_overflow(n, size, &bytes))) {
		errno = ENOMEM;
		return NULL;
	}
	return shim_alloc(bytes, GFP_KERNEL | __GFP_NOWARN | __GFP_ZERO);
}

SHIM_EXPORT size_t malloc_usable_size(void *p)
{
	return p ? ksize(p) : 0;
}

SHIM_EXPORT void *realloc(void *p, size_t size)
{
	size_t old;
	void *q;

	if (!p)
		return malloc(size);
	if (size == 0) {
		free(p);
		return NULL;
	}
	old = ksize_checked(p, "realloc");
	if (old == 0) {
		/* reported; only a test hook lets the report return */
		errno = EINVAL;
		return NULL;
	}
	/* Stay in place unless the block would be more than half empty. */
	if (size <= old && (size > old / 2 || old <= 16))
		return p;
	q = malloc(size);
	if (!q)
		return NULL;	/* the old block stays valid */
	memcpy(q, p, size < old ? size : old);
	free(p);
	return q;
}

SHIM_EXPORT void *reallocarray(void *p, size_t n, size_t size)
{
	size_t bytes;

	if (__builtin_mul_overflow(n, size, &bytes)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, bytes);
}

/*
 * aligned_block - @size bytes at a multiple of @align (a power of two).
 * Power-of-two classes and page blocks are naturally aligned, so the
 * request is rounded up to one of those.
 */
static void *aligned_block(size_t align, size_t size)
{
	size_t need;

	/* Every class from 16 up is 16-byte aligned; the 8-byte one is not. */
	if (align <= 16)
		return malloc(align == 16 && size < 16 ? 16 : size);
	need = size > align ? size : align;
	if (need <= SHIM_MAX_CLASS) {
		size_t pow2 = (size_t)1 << (64 - __builtin_clzl(need - 1));

		return shim_alloc(pow2, GFP_KERNEL | __GFP_NOWARN);
	}
	if (align <= PAGE_SIZE)
		return shim_alloc(size, GFP_KERNEL | __GFP_NOWARN);
	/* A block of get_order(need) pages is aligned to its own size. */
	uslab_init();
	unsigned int order = get_order(need);
	void *p;

	if (order <= MAX_ORDER)
		p = kmalloc_large((size_t)PAGE_SIZE << order, GFP_KERNEL | __GFP_NOWARN,
				  NUMA_NO_NODE);
	else	/* a mapping of its own, aligned however far it must be */
		p = large_map(size, align);
	if (!p)
		errno = ENOMEM;
	return p;
}

SHIM_EXPORT int posix_memalign(void **memptr, size_t align, size_t size)
{
	void *p;
	int saved = errno;

	if (align < sizeof(void *) || !is_power_of_2(align))
		return EINVAL;
	p = aligned_block(align, size ? size : 1);
	if (!p) {
		errno = saved;
		return ENOMEM;
	}
	*memptr = p;
	return 0;
}

SHIM_EXPORT void *aligned_alloc(size_t align, size_t size)
{
	if (!is_power_of_2(align)) {
		errno = EINVAL;
		return NULL;
	}
	return aligned_block(align, size ? size : 1);
}

SHIM_EXPORT void *memalign(size_t align, size_t size)
{
	/* glibc rounds an alignment that is not a power of two up to one */
	if (align && !is_power_of_2(align)) {
		if (align > ((size_t)1 << 62)) {
			errno = EINVAL;
			return NULL;
		}
		align = (size_t)1 << (64 - __builtin_clzl(align));
	}
	return aligned_block(align, size ? size : 1);
}

SHIM_EXPORT void *valloc(size_t size)
{
	return aligned_block(PAGE_SIZE, size ? size : 1);
}

SHIM_EXPORT void *pvalloc(size_t size)
{
	size_t rounded = ALIGN(size ? size : 1, PAGE_SIZE);

	if (rounded < size) {
		errno = ENOMEM;
		return NULL;
	}
	return aligned_block(PAGE_SIZE, rounded);
}

SHIM_EXPORT int malloc_trim(size_t pad)
{
	(void)pad;
	return uslab_trim() > 0;
}

SHIM_EXPORT void free_sized(void *p, size_t size)
{
	(void)size;
	free(p);
}

SHIM_EXPORT void free_aligned_sized(void *p, size_t align, size_t size)
{
	(void)align;
	(void)size;
	free(p);
}

SHIM_EXPORT void cfree(void *p)
{
	free(p);
}
