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
 *    The smallest class is 16, not kmalloc's 8: SLUB keeps a free
 *    object's (hardened) free pointer mid-object, at ALIGN_DOWN(size / 2,
 *    8), which is offset 0 in an 8-byte object, so the classic
 *    malloc(strlen(s)) + strcpy off-by-one would overwrite a free
 *    neighbour's free pointer: a "Freechain corrupt" report and a slab
 *    taken out of use at a later allocation (glibc, whose smallest
 *    chunk has 24 usable bytes, lets such programs run).  From 16 up
 *    the pointer sits at 8 or beyond: a one-byte overflow lands in the
 *    object's own slack or in the next object's first byte, never on a
 *    free pointer.  The measurements behind the choice are in
 *    docs/malloc.md.
 *
 * 2. Alignment.  Every class is a multiple of 16 and slabs start on a
 *    page, so every object is 16-byte aligned, as glibc's are.
 *    Power-of-two classes are naturally aligned, which is what
 *    posix_memalign() and friends use.
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
 *
 * 5. The fast path.  malloc() is an index, (size - 1) / 16, compared once
 *    with class_limit (which also catches size 0, sizes above the classes
 *    and a call before initialisation), one table load, and the back
 *    end's inline allocation (slab_fast.h).  errno is written only by
 *    shim_enomem(), out of line.  free() is kfree_inline() as it is: NULL
 *    already misses its arena test.
 *
 * 6. glibc's other names.  glibc exports its allocator a second time as
 *    __libc_malloc, __libc_free, ... (as mimalloc's alloc-override.c
 *    does, the shim takes those too, so a program or library that calls
 *    them mixes freely with malloc/free), and answers mallinfo(),
 *    mallinfo2() and malloc_stats() with uslab's figures.
 */
#define _GNU_SOURCE
#include "slab_fast.h"

#include <errno.h>
#include <string.h>
#include <malloc.h>
#include <unistd.h>

#define SHIM_EXPORT __attribute__((visibility("default")))
#define SHIM_MIN_CLASS 16
#define SHIM_MAX_CLASS 16384

/* class sizes, ascending; filled at init */
static unsigned int class_size[64];
static struct kmem_cache *class_cache[64];
static unsigned int nr_classes;

/*
 * size -> class, for every size from 1 to SHIM_MAX_CLASS: size_class[(size
 * - 1) / 16].  Every class is a multiple of 16, so a 16-byte step maps each
 * size to its class exactly, and one table (8 KiB, of which the common
 * sizes touch the first few lines) replaces a branch between a fine table
 * for small sizes and a coarse one for large.
 *
 * class_limit is the number of entries that may be used: 0 until the table
 * is filled, then ARRAY_SIZE(size_class).  So the one unsigned comparison
 * of the index with it sends three cases to the slow path: size 0 (the
 * index wraps to the top), sizes above SHIM_MAX_CLASS, and any call before
 * the classes exist.  It is stored with release after the table and loaded
 * with acquire (a plain load on x86).
 */
#define SHIM_CLASS_STEP 16
static struct kmem_cache *size_class[SHIM_MAX_CLASS / SHIM_CLASS_STEP];
static size_t class_limit;

static void build_classes(void)
{
	unsigned int n = 0;

	for (unsigned int s = SHIM_MIN_CLASS; s <= 128; s += 16)
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
	if (__atomic_load_n(&class_limit, __ATOMIC_ACQUIRE)) {
		pthread_mutex_unlock(&lock);
		return;
	}
	build_classes();
	for (unsigned int i = 0; i < nr_classes; i++) {
		unsigned int size = class_size[i];

		uslab_snprintf(name, sizeof(name), "malloc-%u", size);
		/*
		 * Power-of-two classes ask for their natural alignment, which
		 * aligned_block() relies on: the layout is the same without
		 * slab_debug, and with it the red zone before each object
		 * keeps the object aligned.
		 */
		class_cache[i] = kmem_cache_create(name, size,
						   is_power_of_2(size) ? size : 16,
						   SLAB_PANIC, NULL);
	}
	for (unsigned int k = 0, i = 0; k < ARRAY_SIZE(size_class); k++) {
		/* the largest size of entry k is (k + 1) * SHIM_CLASS_STEP */
		while (class_size[i] < (k + 1) * SHIM_CLASS_STEP)
			i++;
		size_class[k] = class_cache[i];
	}
	__atomic_store_n(&class_limit, ARRAY_SIZE(size_class), __ATOMIC_RELEASE);
	pthread_mutex_unlock(&lock);
}

/* The one place a failed allocation sets errno: never on the fast path. */
static noinline __cold void *shim_enomem(void)
{
	errno = ENOMEM;
	return NULL;
}

static noinline void *shim_alloc_slow(size_t size, gfp_t gfp)
{
	void *p;

	if (!__atomic_load_n(&class_limit, __ATOMIC_ACQUIRE)) {
		shim_init();
		if (!__atomic_load_n(&class_limit, __ATOMIC_ACQUIRE)) {
			/* re-entered from initialisation: kmalloc is up */
			p = kmalloc(size < SHIM_MIN_CLASS ? SHIM_MIN_CLASS : size,
				    gfp | __GFP_NOWARN);
			return p ? p : shim_enomem();
		}
	}
	if (size == 0)
		size = 1;
	if (size <= SHIM_MAX_CLASS)
		p = slab_alloc(size_class[(size - 1) / SHIM_CLASS_STEP], gfp, NUMA_NO_NODE);
	else
		p = kvmalloc_node(size, gfp | __GFP_NOWARN, NUMA_NO_NODE);
	return p ? p : shim_enomem();
}

/*
 * shim_alloc - the fast path: one comparison, one table load, then the
 * back end's own fast path.  slab_alloc() returns NULL only from its slow
 * path, so the NULL test and errno stay off SLUB's inline fast path (whose
 * object the compiler knows is not NULL).
 */
static __always_inline void *shim_alloc(size_t size, gfp_t gfp)
{
	size_t i = (size - 1) / SHIM_CLASS_STEP;
	void *p;

	if (unlikely(i >= __atomic_load_n(&class_limit, __ATOMIC_ACQUIRE)))
		return shim_alloc_slow(size, gfp);
	p = slab_alloc(size_class[i], gfp, NUMA_NO_NODE);
	if (unlikely(!p))
		return shim_enomem();
	return p;
}

SHIM_EXPORT void *malloc(size_t size)
{
	return shim_alloc(size, GFP_KERNEL | __GFP_NOWARN);
}

/* No NULL test here: NULL is in no arena, so kfree_inline() hands it to
 * kfree_slow(), which returns. */
SHIM_EXPORT void free(void *p)
{
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
	if (size <= old && (size > old / 2 || old <= 16)) {
		kmalloc_resized(p, size);
		return p;
	}
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

	/* Every class is 16-byte aligned. */
	if (align <= 16)
		return malloc(size);
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
		p = large_map_gfp(size, align, 0);	/* posix_memalign: no zeroing */
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

/* ------------------------------------------------- glibc's second names */

/*
 * glibc exports its allocator a second time under __libc_* names (2.36:
 * malloc, free, calloc, realloc, memalign, valloc, pvalloc, mallinfo;
 * there is no __libc_malloc_usable_size or __libc_posix_memalign, and
 * __libc_reallocarray is GLIBC_PRIVATE).  Some programs and libraries
 * call them - malloc hooks, tools that wrap malloc - and a block from
 * glibc's heap freed here (or the reverse) would be a bad free.  The
 * aliases are the same code, so they cost nothing.
 */
#if defined(__has_attribute)
#if __has_attribute(copy)
#define SHIM_COPY(target) __attribute__((copy(target)))
#endif
#endif
#ifndef SHIM_COPY
#define SHIM_COPY(target)	/* clang: the attributes stay behind, the code is the same */
#endif
#define SHIM_ALIAS(name, target) \
	SHIM_EXPORT __typeof__(target) name __attribute__((alias(#target))) SHIM_COPY(target)

SHIM_ALIAS(__libc_malloc, malloc);
SHIM_ALIAS(__libc_free, free);
SHIM_ALIAS(__libc_calloc, calloc);
SHIM_ALIAS(__libc_realloc, realloc);
SHIM_ALIAS(__libc_memalign, memalign);
SHIM_ALIAS(__libc_valloc, valloc);
SHIM_ALIAS(__libc_pvalloc, pvalloc);

/* ------------------------------------------------------------ statistics */

/*
 * What mallinfo2() and malloc_stats() report, from the page allocator's
 * counters and the caches' slabinfo (the same figures uslab_page_stats()
 * and uslab_slabinfo() give).  A snapshot: objects cached by other
 * threads are counted approximately, as in slabinfo.
 */
struct shim_usage {
	size_t system;		/* backed bytes in the zones: pages handed out + free dirty pages */
	size_t in_use;		/* bytes in live objects (s->size each) and page blocks */
	size_t free_objects;	/* free objects in slabs */
	size_t mapped;		/* bytes in direct mappings (above 4 MiB) */
	size_t releasable;	/* free pages still backed: what malloc_trim can give back */
	struct uslab_page_stats ps;
};

static void shim_usage(struct shim_usage *u)
{
	size_t slab_pages = 0, obj_bytes = 0, free_objs = 0, blocks;
	struct kmem_cache *s;

	uslab_init();
	memset(u, 0, sizeof(*u));
	pthread_mutex_lock(&slab_mutex);
	list_for_each_entry(s, &slab_caches, list) {
		struct slab_cache_info info;
		const struct slabinfo *si = &info.si;

		slab_be->get_info(s, &info);
		slab_pages += (size_t)si->num_slabs << si->cache_order;
		obj_bytes += (size_t)si->active_objs * s->size;
		free_objs += si->num_objs - si->active_objs;
	}
	pthread_mutex_unlock(&slab_mutex);
	uslab_page_stats(&u->ps);
	/* pages handed out that are not slabs: page blocks (kmalloc_large) */
	blocks = u->ps.allocated > slab_pages ? u->ps.allocated - slab_pages : 0;
	u->system = (u->ps.allocated + u->ps.free_dirty) * PAGE_SIZE;
	u->in_use = blocks * PAGE_SIZE + obj_bytes;
	if (u->in_use > u->system)	/* the two snapshots raced */
		u->in_use = u->system;
	u->free_objects = free_objs;
	/* freed direct mappings kept for reuse are still mapped */
	u->mapped = (u->ps.direct_mapped + u->ps.direct_cached) * PAGE_SIZE;
	u->releasable = u->ps.free_dirty * PAGE_SIZE;
}

/*
 * glibc's fields, uslab's meaning: arena is the zones' backed memory,
 * uordblks what of it is in use, fordblks the rest (free objects, slab
 * tails, free pages not yet given back), ordblks the number of free
 * objects, hblkhd the direct mappings, keepcost what malloc_trim(0)
 * would give back.  uslab has no fastbins (smblks, fsmblks: 0), usmblks
 * is 0 as in glibc, and hblks (the number of direct mappings) is not
 * counted: 0.
 */
SHIM_EXPORT struct mallinfo2 mallinfo2(void)
{
	struct mallinfo2 mi = { 0 };
	struct shim_usage u;

	shim_usage(&u);
	mi.arena = u.system;
	mi.ordblks = u.free_objects;
	mi.hblkhd = u.mapped;
	mi.uordblks = u.in_use;
	mi.fordblks = u.system - u.in_use;
	mi.keepcost = u.releasable;
	return mi;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
/* The old interface: the same figures cut to int, as glibc does. */
SHIM_EXPORT struct mallinfo mallinfo(void)
{
	struct mallinfo2 m2 = mallinfo2();
	struct mallinfo mi = {
		.arena = (int)m2.arena,
		.ordblks = (int)m2.ordblks,
		.smblks = (int)m2.smblks,
		.hblks = (int)m2.hblks,
		.hblkhd = (int)m2.hblkhd,
		.usmblks = (int)m2.usmblks,
		.fsmblks = (int)m2.fsmblks,
		.uordblks = (int)m2.uordblks,
		.fordblks = (int)m2.fordblks,
		.keepcost = (int)m2.keepcost,
	};

	return mi;
}

SHIM_ALIAS(__libc_mallinfo, mallinfo);
#pragma GCC diagnostic pop

/* Text for malloc_stats(), written to stderr in pieces: no stdio. */
struct stats_out {
	char buf[2048];
	size_t len;
};

static void stats_flush(struct stats_out *o)
{
	const char *p = o->buf;

	while (o->len) {
		ssize_t w = write(STDERR_FILENO, p, o->len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		p += w;
		o->len -= (size_t)w;
	}
	o->len = 0;
}

static __attribute__((format(printf, 2, 3))) void stats_printf(struct stats_out *o,
							       const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sizeof(o->buf) - o->len < 256)
		stats_flush(o);
	va_start(ap, fmt);
	n = uslab_vsnprintf(o->buf + o->len, sizeof(o->buf) - o->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n < sizeof(o->buf) - o->len ? (size_t)n
							       : sizeof(o->buf) - o->len - 1;
}

/*
 * glibc's block first (one "arena": uslab's zones), so that whatever
 * reads malloc_stats() output finds its lines; glibc's two "max mmap"
 * peaks are not kept, so the current direct mappings are printed in
 * their place.  Then uslab's own: the page allocator and every cache
 * that holds slabs.  errno is left alone.
 */
SHIM_EXPORT void malloc_stats(void)
{
	struct stats_out o = { .len = 0 };
	struct shim_usage u;
	struct kmem_cache *s;
	int saved = errno;

	shim_usage(&u);
	stats_printf(&o, "Arena 0:\n");
	stats_printf(&o, "system bytes     = %10zu\n", u.system);
	stats_printf(&o, "in use bytes     = %10zu\n", u.in_use);
	stats_printf(&o, "Total (incl. mmap):\n");
	stats_printf(&o, "system bytes     = %10zu\n", u.system + u.mapped);
	stats_printf(&o, "in use bytes     = %10zu\n", u.in_use + u.mapped);
	stats_printf(&o, "mmap bytes       = %10zu\n", u.mapped);
	stats_printf(&o, "uslab pages: %zu in use, %zu free (%zu of them backed), "
		     "%zu released to the OS, %zu direct-mapped; %u arena(s), %u node(s)\n",
		     u.ps.allocated, u.ps.free, u.ps.free_dirty, u.ps.released,
		     u.ps.direct_mapped, u.ps.nr_arenas, u.ps.nr_nodes);
	stats_printf(&o, "%-17s %10s %10s %6s %8s\n", "cache", "active", "objects",
		     "size", "slabs");
	pthread_mutex_lock(&slab_mutex);
	list_for_each_entry(s, &slab_caches, list) {
		struct slab_cache_info info;
		const struct slabinfo *si = &info.si;

		slab_be->get_info(s, &info);
		if (!si->num_slabs)
			continue;
		stats_printf(&o, "%-17s %10lu %10lu %6u %8lu\n", s->name, si->active_objs,
			     si->num_objs, s->size, si->num_slabs);
	}
	pthread_mutex_unlock(&slab_mutex);
	stats_flush(&o);
	errno = saved;
}

/* ---------------------------------------------------------------- start */

/*
 * USLAB_SHIM_VERBOSE=1: one line on stderr from every process that loads
 * the shim, so that a user (and uslab-run --check) can see it is active.
 * A constructor, so that it shows even in a program that never
 * allocates; it does not start the allocator.
 */
__attribute__((constructor(103))) static void shim_announce(void)
{
	const char *v = os_getenv("USLAB_SHIM_VERBOSE");

	if (v && *v && strcmp(v, "0"))
		uslab_printk("uslab: malloc shim active (libuslab-malloc.so, pid %d)\n",
			     (int)getpid());
}
