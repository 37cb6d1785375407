// SPDX-License-Identifier: MIT
/*
 * slab_common.c - what every back end shares (after Linux mm/slab_common.c).
 *
 * 1. The cache list.  slab_caches lists every cache (not aliases: a merged
 *    cache appears once, with a reference count), under slab_mutex.
 *
 * 2. Creation.  kmem_cache_create_usercopy() checks its arguments (a bad
 *    one is refused with a message, or with SLAB_PANIC an abort naming the
 *    cache), tries to merge with an existing cache (find_mergeable()), and
 *    otherwise allocates a struct kmem_cache from the kmem_cache cache and
 *    hands it to the back end.  Names are copied.
 *
 * 3. kmalloc.  The kernel's size classes, as the back end in force has
 *    them: SLUB's 8, 16, 32, 64, 96, 128, 192, 256, 512, 1k .. 8k (larger
 *    requests are whole pages from the page allocator, kmalloc_large, up
 *    to KMALLOC_MAX_SIZE); size_index[] maps sizes up to 192 to their
 *    cache (so that 65..96 goes to kmalloc-96), fls() the rest.  kvmalloc
 *    maps what is larger still.
 *
 * 4. The generic kmalloc paths, as Linux 6.1-6.7 has them here: kmalloc,
 *    kfree, ksize, krealloc, kmalloc_large and the kmem_cache_alloc/free
 *    entry points, on the back end's inline fast paths (slab_fast.h).
 *    Every pointer a free or ksize is handed goes through the page
 *    allocator's classifier (classify_ptr) when the inline path misses.
 *
 * 5. Initialisation (the seeds' story), driven by init.c: the back end's
 *    bootstrap (slab_state DOWN -> PARTIAL, the static boot caches copied
 *    into objects of themselves); create_kmalloc_caches() (-> UP); the
 *    back end's late init.  init.c then adds the thread-exit key and the
 *    fork handlers (-> FULL).
 */
#define _GNU_SOURCE
#include "slab_fast.h"
#include "cpu.h"
#include "stats.h"
#include "debug.h"
#include "slab_debug.h"
#include "sanitize.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

enum slab_state slab_state;
const struct slab_backend *slab_be = &slub_backend;
unsigned char slab_be_id = SLAB_BACKEND_SLUB;
unsigned char slab_fast_ool;
void *(*slab_alloc_ool)(struct kmem_cache *s, gfp_t gfp, int node);
void (*slab_free_ool)(struct kmem_cache *s, void *x, struct page *page);
pthread_mutex_t slab_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t fast_wrap_lock = PTHREAD_MUTEX_INITIALIZER;

void slab_fast_wrap(slab_alloc_fn alloc, slab_free_fn free,
		    slab_alloc_fn *next_alloc, slab_free_fn *next_free)
{
	pthread_mutex_lock(&fast_wrap_lock);
	*next_alloc = slab_alloc_ool;
	*next_free = slab_free_ool;
	__atomic_store_n(&slab_alloc_ool, alloc, __ATOMIC_RELEASE);
	__atomic_store_n(&slab_free_ool, free, __ATOMIC_RELEASE);
	__atomic_store_n(&slab_fast_ool, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&fast_wrap_lock);
}
struct list_head slab_caches = LIST_HEAD_INIT(slab_caches);
struct kmem_cache *kmem_cache;
struct kmem_cache *kmalloc_caches[KMALLOC_SHIFT_HIGH_MAX + 1];
unsigned int kmalloc_shift_low = 3, kmalloc_shift_high = KMALLOC_SHIFT_HIGH;
size_t kmalloc_max_cache_size = KMALLOC_MAX_CACHE_SIZE;
/*
 * kmalloc's inline path serves sizes 1..kmalloc_fast_limit; the rest go
 * to kmalloc_slow.  It is kmalloc_max_cache_size, or 0 when slab_debug
 * tracks the requested size of kmalloc objects (the kmalloc red zone),
 * which only kmalloc_slow knows to record: the inline path then costs
 * nothing more for it.
 */
size_t kmalloc_fast_limit = KMALLOC_MAX_CACHE_SIZE;

/*
 * Sizes 1..192 in steps of 8 -> kmalloc index (1 is kmalloc-96, 2
 * kmalloc-192), filled for the back end's smallest class at start-up
 * (setup_kmalloc_cache_index_table(), as the kernel's).
 */
unsigned char size_index[24];

/* The kmalloc classes by index, for every back end (mm/slab_common.c's kmalloc_info). */
const struct kmalloc_info_struct kmalloc_info[KMALLOC_SHIFT_HIGH_MAX + 1] = {
	[1] = { "kmalloc-96", 96 },	[2] = { "kmalloc-192", 192 },
	[3] = { "kmalloc-8", 8 },	[4] = { "kmalloc-16", 16 },
	[5] = { "kmalloc-32", 32 },	[6] = { "kmalloc-64", 64 },
	[7] = { "kmalloc-128", 128 },	[8] = { "kmalloc-256", 256 },
	[9] = { "kmalloc-512", 512 },	[10] = { "kmalloc-1k", 1024 },
	[11] = { "kmalloc-2k", 2048 },	[12] = { "kmalloc-4k", 4096 },
	[13] = { "kmalloc-8k", 8192 },	[14] = { "kmalloc-16k", 16384 },
	[15] = { "kmalloc-32k", 32768 }, [16] = { "kmalloc-64k", 65536 },
	[17] = { "kmalloc-128k", 131072 }, [18] = { "kmalloc-256k", 262144 },
	[19] = { "kmalloc-512k", 524288 }, [20] = { "kmalloc-1M", 1048576 },
	[21] = { "kmalloc-2M", 2097152 }, [22] = { "kmalloc-4M", 4194304 },
};

/* Whether kmalloc index @i is one of the back end's classes. */
static bool kmalloc_index_used(unsigned int i)
{
	if (i == 1)
		return kmalloc_shift_low <= 6;
	if (i == 2)
		return kmalloc_shift_low <= 7;
	return i >= kmalloc_shift_low && i <= kmalloc_shift_high;
}

/*
 * setup_kmalloc_cache_index_table - the back end's class range, and
 * size_index[] for it: each size up to 192 goes to the smallest class
 * that holds it.
 */
static void setup_kmalloc_cache_index_table(void)
{
	kmalloc_shift_low = slab_be->kmalloc_shift_low;
	kmalloc_shift_high = slab_be->kmalloc_shift_high;
	kmalloc_max_cache_size = (size_t)1 << kmalloc_shift_high;
	kmalloc_fast_limit = kmalloc_max_cache_size;
	for (unsigned int i = 0; i < ARRAY_SIZE(size_index); i++) {
		unsigned int size = (i + 1) * 8, best = 0;

		for (unsigned int j = 1; j <= kmalloc_shift_high; j++)
			if (kmalloc_index_used(j) && kmalloc_info[j].size >= size &&
			    (!best || kmalloc_info[j].size < kmalloc_info[best].size))
				best = j;
		size_index[i] = (unsigned char)best;
	}
}

/* ------------------------------------------------------------ merging */

/*
 * calculate_alignment - SLAB_HWCACHE_ALIGN asks for a cache line, halved
 * while the object still fits in half of it; never below the word.
 */
unsigned int calculate_alignment(slab_flags_t flags, unsigned int align, unsigned int size)
{
	if (flags & SLAB_HWCACHE_ALIGN) {
		unsigned int ralign = CACHE_LINE_SIZE;

		while (size <= ralign / 2)
			ralign /= 2;
		align = max_t(unsigned int, align, ralign);
	}
	align = max_t(unsigned int, align, ARCH_KMALLOC_MINALIGN);
	return ALIGN(align, (unsigned int)sizeof(void *));
}

static bool slab_unmergeable(struct kmem_cache *s)
{
	if (uslab_opt(OPT_SLAB_NOMERGE) || (s->flags & SLAB_NEVER_MERGE))
		return true;
	if (s->ctor || s->usersize)
		return true;
	/* A cache still being set up (boot caches) is never a merge target. */
	return s->refcount < 0;
}

/*
 * find_mergeable - an existing cache whose objects can serve this one:
 * same merge-relevant flags, large enough, within a word, and aligned at
 * least as strictly.  Called with slab_mutex.
 */
struct kmem_cache *find_mergeable(unsigned int size, unsigned int align,
				  slab_flags_t flags, void (*ctor)(void *))
{
	struct kmem_cache *s;

	if (uslab_opt(OPT_SLAB_NOMERGE) || ctor || (flags & SLAB_NEVER_MERGE))
		return NULL;
	size = ALIGN(size, (unsigned int)sizeof(void *));
	align = calculate_alignment(flags, align, size);
	size = ALIGN(size, align);

	list_for_each_entry(s, &slab_caches, list) {
		if (slab_unmergeable(s))
			continue;
		if (size > s->size)
			continue;
		if ((flags & SLAB_MERGE_SAME) != (s->flags & SLAB_MERGE_SAME))
			continue;
		if ((s->size & ~(align - 1)) != s->size)
			continue;
		if (s->size - size >= sizeof(void *))
			continue;
		return s;
	}
	return NULL;
}

/* ------------------------------------------------------------ creating */

static void apply_slabinfo_env(const char *only);

static struct kmem_cache *create_cache(const char *name, unsigned int object_size,
				       unsigned int align, slab_flags_t flags,
				       unsigned int useroffset, unsigned int usersize,
				       void (*ctor)(void *), int *errp)
{
	struct kmem_cache *s = kmem_cache_zalloc(kmem_cache, GFP_KERNEL);
	int err;

	if (!s) {
		*errp = -ENOMEM;
		return NULL;
	}
	s->name = name;
	s->size = s->object_size = object_size;
	s->align = align;
	s->ctor = ctor;
	s->useroffset = useroffset;
	s->usersize = usersize;
	err = slab_be->create(s, kmem_cache_flags(flags, name));
	if (err) {
		kmem_cache_free(kmem_cache, s);
		*errp = err;
		return NULL;
	}
	s->refcount = 1;
	list_add_tail(&s->list, &slab_caches);
	return s;
}

static noinline struct kmem_cache *create_failed(const char *name, slab_flags_t flags,
						 int err, const char *why)
{
	if (flags & SLAB_PANIC)
		uslab_panic("kmem_cache_create: Failed to create slab '%s'. Error %d (%s)\n",
			    name ? name : "(null)", err, why);
	pr_warn("kmem_cache_create(%s) failed with error %d: %s\n",
		name ? name : "(null)", err, why);
	return NULL;
}

USLAB_API struct kmem_cache *kmem_cache_create_usercopy(const char *name,
		unsigned int size, unsigned int align, slab_flags_t flags,
		unsigned int useroffset, unsigned int usersize, void (*ctor)(void *))
{
	struct kmem_cache *s;
	const char *cache_name;
	int err = 0;

	uslab_init();
	if (!name)
		return create_failed(name, flags, -EINVAL, "NULL name");
	if (!size)
		return create_failed(name, flags, -EINVAL, "object size 0");
	if ((size_t)size > (PAGE_SIZE << MAX_ORDER))
		return create_failed(name, flags, -E2BIG,
				     "object larger than the largest slab (4 MiB)");
	if (align && !is_power_of_2(align))
		return create_failed(name, flags, -EINVAL, "alignment is not a power of two");
	if (align > (PAGE_SIZE << MAX_ORDER))
		return create_failed(name, flags, -EINVAL, "alignment larger than the largest slab");
	if (flags & ~SLAB_CREATE_MASK)
		return create_failed(name, flags, -EINVAL, "unknown SLAB_* flags");
	if (usersize && (useroffset > size || usersize > size - useroffset)) {
		pr_warn("kmem_cache_create(%s): usercopy region [%u, %u) outside the object of %u bytes; ignored\n",
			name, useroffset, useroffset + usersize, size);
		useroffset = usersize = 0;
	}

	/* What slab_debug gives this name, so that a debugged cache never merges. */
	flags = kmem_cache_flags(flags, name);
	pthread_mutex_lock(&slab_mutex);
	if (!usersize) {
		s = find_mergeable(size, align, flags, ctor);
		if (s) {
			s->refcount++;
			s->object_size = max_t(unsigned int, s->object_size, size);
			slab_be->alias(s, size);
			goto out;
		}
	}
	cache_name = kstrdup_const(name, GFP_KERNEL);
	if (!cache_name) {
		err = -ENOMEM;
		s = NULL;
		goto out;
	}
	s = create_cache(cache_name, size, calculate_alignment(flags, align, size),
			 flags & ~SLAB_PANIC, useroffset, usersize, ctor, &err);
	if (!s)
		kfree_const(cache_name);
	else
		apply_slabinfo_env(s->name);
out:
	pthread_mutex_unlock(&slab_mutex);
	if (!s)
		return create_failed(name, flags, err,
				     err == -ENOSPC ? "too many caches" :
				     err == -ENOMEM ? "out of memory" : "cannot lay out the object");
	return s;
}

USLAB_API struct kmem_cache *kmem_cache_create(const char *name, unsigned int size,
		unsigned int align, slab_flags_t flags, void (*ctor)(void *))
{
	return kmem_cache_create_usercopy(name, size, align, flags, 0, 0, ctor);
}

/*
 * Destroyed caches wait in a small quarantine before their struct
 * kmem_cache is freed, so that a cache created right after a destroy does
 * not get the same address: a second destroy through the stale pointer is
 * then seen for what it is (not on the list) instead of destroying the
 * new cache.  Under slab_mutex.
 */
#define CACHE_QUARANTINE 16
static struct kmem_cache *cache_quarantine[CACHE_QUARANTINE];
static unsigned int cache_quarantine_next;

/* Returns the cache that leaves the quarantine (to be freed), or NULL. */
static struct kmem_cache *quarantine_cache(struct kmem_cache *s)
{
	unsigned int i = cache_quarantine_next++ % CACHE_QUARANTINE;
	struct kmem_cache *old = cache_quarantine[i];

	cache_quarantine[i] = s;
	return old;
}

/* Whether @s is on the cache list; called with slab_mutex. */
static bool cache_is_live(const struct kmem_cache *s)
{
	struct kmem_cache *t;

	list_for_each_entry(t, &slab_caches, list)
		if (t == s)
			return true;
	return false;
}

USLAB_API void kmem_cache_destroy(struct kmem_cache *s)
{
	int err;

	if (!s)
		return;
	pthread_mutex_lock(&slab_mutex);
	/*
	 * Only a pointer on the cache list is looked into: a destroyed cache's
	 * memory may be free, or another cache's by now.
	 */
	if (!cache_is_live(s) || s->refcount <= 0) {
		pthread_mutex_unlock(&slab_mutex);
		slab_report_banner("kmem_cache_destroy", "Invalid cache pointer");
		pr_err("kmem_cache_destroy(%p): not a live cache (destroyed already, or never created)\n\n",
		       (void *)s);
		dump_stack();
		uslab_count_error();
		return;
	}
	if (--s->refcount)
		goto out;
	if (s->flags & SLAB_KMALLOC) {
		/* One destroy too many of a cache merged into kmalloc-N. */
		s->refcount = 1;
		pr_err("kmem_cache_destroy %s: refusing to destroy a kmalloc cache\n", s->name);
		uslab_count_error();
		goto out;
	}
	err = slab_be->shutdown(s);
	if (err) {
		/* As the kernel: the cache stays, with its objects; the program goes on. */
		s->refcount = 1;
		pr_err("kmem_cache_destroy %s: Slab cache still has objects when called from %p\n",
		       s->name, __builtin_return_address(0));
		goto out;
	}
	list_del(&s->list);
	slab_be->release(s);
	s = quarantine_cache(s);
	pthread_mutex_unlock(&slab_mutex);
	if (s) {
		kfree_const(s->name);
		kmem_cache_free(kmem_cache, s);
	}
	return;
out:
	pthread_mutex_unlock(&slab_mutex);
}

USLAB_API int kmem_cache_shrink(struct kmem_cache *s)
{
	return s ? slab_be->shrink(s) : 0;
}

USLAB_API unsigned int kmem_cache_size(struct kmem_cache *s)
{
	return s->object_size;
}

USLAB_API const char *kmem_cache_name(struct kmem_cache *s)
{
	return s->name;
}

/* ------------------------------------------------------- boot caches */

/* create_boot_cache - set up a cache in memory the caller provides. */
void create_boot_cache(struct kmem_cache *s, const char *name, unsigned int size,
		       slab_flags_t flags)
{
	int err;

	s->name = name;
	s->size = s->object_size = size;
	s->align = calculate_alignment(flags, ARCH_KMALLOC_MINALIGN, size);
	s->useroffset = 0;
	s->usersize = 0;
	err = slab_be->create(s, kmem_cache_flags(flags, name));
	if (err)
		uslab_panic("Creation of kmalloc slab %s size=%u failed. Reason %d\n",
			    name, size, err);
	s->refcount = -1;	/* not mergeable until it is set up */
}

/*
 * create_kmalloc_cache - a kmalloc cache, during start-up (a back end's
 * bootstrap may make one early, as SLAB makes the cache that holds its
 * kmem_cache_node first).  Start-up cannot go on without it.
 */
struct kmem_cache *create_kmalloc_cache(const char *name, unsigned int size,
					slab_flags_t flags)
{
	struct kmem_cache *s = kmem_cache_zalloc(kmem_cache, GFP_NOWAIT);

	if (!s)
		uslab_panic("Out of memory when creating slab %s\n", name);
	create_boot_cache(s, name, size, flags | SLAB_KMALLOC);
	list_add_tail(&s->list, &slab_caches);
	s->refcount = 1;
	return s;
}

/* Every kmalloc class of the back end not made yet, smallest first; -> UP. */
void create_kmalloc_caches(void)
{
	for (unsigned int i = kmalloc_shift_low; i <= kmalloc_shift_high; i++) {
		if (!kmalloc_caches[i])
			__atomic_store_n(&kmalloc_caches[i],
					 create_kmalloc_cache(kmalloc_info[i].name,
							      kmalloc_info[i].size, 0),
					 __ATOMIC_RELEASE);
		/* 96 and 192 right after 64 and 128, as the kernel orders them */
		for (unsigned int j = 1; j <= 2; j++)
			if (i == j + 5 && kmalloc_index_used(j) && !kmalloc_caches[j])
				__atomic_store_n(&kmalloc_caches[j],
						 create_kmalloc_cache(kmalloc_info[j].name,
								      kmalloc_info[j].size, 0),
						 __ATOMIC_RELEASE);
	}
	/* A kmalloc cache that tracks the size asked for takes kmalloc off its inline path. */
	for (unsigned int i = 0; i <= kmalloc_shift_high; i++)
		if (kmalloc_caches[i] && (kmalloc_caches[i]->flags & SLAB_STORE_USER) &&
		    slab_be->set_orig_size)
			kmalloc_fast_limit = 0;
	slab_state = UP;
}

/*
 * kmem_cache_init_slab - the slab layer's part of start-up (init.c calls
 * it once, after the page allocator and the cpu layer): the back end's
 * bootstrap, the kmalloc caches, the back end's late init.
 */
void kmem_cache_init_slab(void)
{
	setup_kmalloc_cache_index_table();
	slab_be->init();
	create_kmalloc_caches();
	slab_be->init_late();
}

/* -------------------------------------------------------- kmalloc_large */

/*
 * A request above KMALLOC_MAX_SIZE can never be met: the kernel warns
 * (WARN_ON_ONCE in the page allocator) and returns NULL, __GFP_NOFAIL or
 * not, since no amount of waiting would help.
 */
static noinline __cold void *kmalloc_too_large(size_t size, gfp_t gfp)
{
	static struct ratelimit_state rs;

	if ((!(gfp & __GFP_NOWARN) || (gfp & __GFP_NOFAIL)) && __ratelimit(&rs, "kmalloc")) {
		pr_warn("kmalloc: %zu bytes is above KMALLOC_MAX_SIZE (%zu)%s\n", size,
			(size_t)KMALLOC_MAX_SIZE,
			(gfp & __GFP_NOFAIL) ? "; failing it despite __GFP_NOFAIL" : "");
		dump_stack();
	}
	return NULL;
}

void *kmalloc_large(size_t size, gfp_t gfp, int node)
{
	static struct ratelimit_state rs;
	unsigned long nr;
	struct page *page;
	bool zeroed;
	void *p;

	if (unlikely(size > KMALLOC_MAX_SIZE))
		return kmalloc_too_large(size, gfp);
	uslab_init();
	/* Whole pages, not a power of two of them: the tail goes back. */
	nr = DIV_ROUND_UP(size, PAGE_SIZE);
	page = __alloc_pages_exact(node, gfp, nr, &zeroed);
	if (unlikely(!page)) {
		if (gfp & __GFP_NOFAIL)
			uslab_panic("kmalloc_large: out of memory for %zu bytes (__GFP_NOFAIL)\n", size);
		if (!(gfp & __GFP_NOWARN) && __ratelimit(&rs, "kmalloc_large"))
			pr_warn("kmalloc_large: page allocation failure: %zu bytes, order:%u, mode:%#x\n",
				size, get_order(size), gfp);
		return NULL;
	}
	page->flags |= PG_large_kmalloc;
	p = __page_address(page);
	sanitize_large_alloc(p, nr << PAGE_SHIFT, gfp);
	if ((gfp & __GFP_ZERO) && !zeroed)
		memset(p, 0, nr << PAGE_SHIFT);
	return p;
}

/*
 * kvmalloc_huge - what the kernel's kvmalloc does with vmalloc above
 * KMALLOC_MAX_SIZE: a mapping of its own, or a recently freed one of the
 * page allocator's cache (cleared only for __GFP_ZERO: large_map_gfp),
 * aligned to its size up to an arena for power-of-two sizes.  The OS's
 * overcommit policy decides whether it exists.
 */
void *kvmalloc_huge(size_t size, gfp_t gfp)
{
	static struct ratelimit_state rs;
	void *p;

	uslab_init();
	p = large_map_gfp(size, is_power_of_2(size) ? min_t(size_t, size, ARENA_SIZE) : PAGE_SIZE,
			  gfp);
	if (unlikely(!p) && !(gfp & __GFP_NOWARN) && __ratelimit(&rs, "kvmalloc"))
		pr_warn("kvmalloc: cannot map %zu bytes, mode:%#x\n", size, gfp);
	return p;
}

/* ------------------------------------------- kmem_cache_alloc and free */

USLAB_API void *kmem_cache_alloc(struct kmem_cache *s, gfp_t gfp)
{
	return slab_alloc(s, gfp, NUMA_NO_NODE);
}

USLAB_API void *kmem_cache_alloc_node(struct kmem_cache *s, gfp_t gfp, int node)
{
	if (node != NUMA_NO_NODE && (node < 0 || node >= nr_node_ids))
		node = NUMA_NO_NODE;
	return slab_alloc(s, gfp, node);
}

USLAB_API void kmem_cache_free(struct kmem_cache *s, void *x)
{
	/* NULL fails the fast path's range check and is let go on the slow path. */
	slab_free(s, x, NULL);
}

USLAB_API int kmem_cache_alloc_bulk(struct kmem_cache *s, gfp_t gfp, size_t size, void **p)
{
	size_t i;

	for (i = 0; i < size; i++) {
		p[i] = slab_alloc(s, gfp, NUMA_NO_NODE);
		if (unlikely(!p[i])) {
			kmem_cache_free_bulk(s, i, p);
			return 0;
		}
	}
	return (int)size;
}

USLAB_API void kmem_cache_free_bulk(struct kmem_cache *s, size_t size, void **p)
{
	for (size_t i = 0; i < size; i++) {
		if (s)
			kmem_cache_free(s, p[i]);
		else
			kfree(p[i]);
	}
}

/* ------------------------------------------------------------ kmalloc */

static noinline void *kmalloc_slow(size_t size, gfp_t gfp, int node)
{
	struct kmem_cache *s;
	void *p;

	if (size > kmalloc_max_cache_size)
		return kmalloc_large(size, gfp, node);
	if (!size)
		return ZERO_SIZE_PTR;
	uslab_init();
	s = kmalloc_slab(size);
	p = slab_alloc(s, gfp, node);
	/* slab_debug U on a kmalloc cache: the size asked for, and the red zone after it */
	if (p && (s->flags & SLAB_STORE_USER) && slab_be->set_orig_size)
		slab_be->set_orig_size(s, p, (unsigned int)size);
	return p;
}

static __always_inline void *__do_kmalloc_node(size_t size, gfp_t gfp, int node)
{
	struct kmem_cache *s;

	if (unlikely(size - 1 >= kmalloc_fast_limit))
		return kmalloc_slow(size, gfp, node);
	s = kmalloc_slab(size);
	if (unlikely(!s))
		return kmalloc_slow(size, gfp, node);
	return slab_alloc(s, gfp, node);
}

USLAB_API void *kmalloc(size_t size, gfp_t gfp)
{
	return __do_kmalloc_node(size, gfp, NUMA_NO_NODE);
}

USLAB_API void *kmalloc_node(size_t size, gfp_t gfp, int node)
{
	if (node != NUMA_NO_NODE && (node < 0 || node >= nr_node_ids))
		node = NUMA_NO_NODE;
	return __do_kmalloc_node(size, gfp, node);
}

/* -------------------------------------------------------------- kfree */

/*
 * kfree_slow - what kfree_inline() did not take: NULL, a kmalloc_large
 * block, a direct mapping, or a bad pointer (reported).
 */
noinline void kfree_slow(const void *x)
{
	struct ptr_info info;
	enum ptr_kind kind = classify_ptr(x, &info);

	switch (kind) {
	case PTR_NULL:
		return;
	case PTR_SLAB:
		slab_be->free_slab_object(info.page->slab_cache, (void *)x, info.page);
		return;
	case PTR_LARGE:
		sanitize_large_free(x, info.page->private << PAGE_SHIFT);
		__free_pages_exact(info.page, info.page->private);
		return;
	case PTR_MAPPING:
		if (!large_unmap(x))	/* a racing free took it first */
			free_err("kfree", x, "Object already free",
				 "a direct mapping that is already free (double free)");
		return;
	default:
		report_bad_ptr("kfree", x, kind, &info);
	}
}

USLAB_API void kfree(const void *x)
{
	kfree_inline(x);
}

struct page *kmem_cache_free_lookup(const void *x)
{
	struct ptr_info info;
	enum ptr_kind kind;

	if (unlikely(!x))
		return NULL;
	kind = classify_ptr(x, &info);
	if (kind == PTR_SLAB)
		return info.page;
	if (kind == PTR_LARGE || kind == PTR_MAPPING)
		free_err("kmem_cache_free", x, "Invalid object pointer",
			 "not a slab object: a kmalloc_large block or a mapping");
	else
		report_bad_ptr("kmem_cache_free", x, kind, &info);
	return NULL;
}

struct kmem_cache *cache_from_obj(struct kmem_cache *s, struct page *head)
{
	if (unlikely(s && head->slab_cache != s)) {
		pr_err("kmem_cache_free: Wrong slab cache. %s but object is from %s\n",
		       s->name, head->slab_cache->name);
		uslab_count_error();
	}
	return head->slab_cache;
}

/*
 * ksize_checked - the usable size of the allocated block at @x, for
 * callers about to reuse it (krealloc, the shim's realloc): unlike
 * ksize(), a pointer that is not the start of a live block is reported
 * in @who's name, and 0 comes back if the report returns (a test hook).
 */
size_t ksize_checked(const void *x, const char *who)
{
	struct ptr_info info;
	enum ptr_kind kind = classify_ptr(x, &info);
	struct kmem_cache *s;

	switch (kind) {
	case PTR_SLAB:
		s = info.page->slab_cache;
		return slab_be->check_object(s, info.page, x) ? s->object_size : 0;
	case PTR_LARGE:
	case PTR_MAPPING:
		return info.size;
	case PTR_NULL:
		return 0;
	default:
		report_bad_ptr(who, x, kind, &info);
		return 0;
	}
}

/* ------------------------------------------------ the rest of kmalloc */

USLAB_API size_t ksize(const void *objp)
{
	struct ptr_info info;

	struct kmem_cache *s;

	switch (classify_ptr(objp, &info)) {
	case PTR_SLAB:
		s = info.page->slab_cache;
		/*
		 * With the kmalloc red zone, the caller may now use all it is
		 * told (the kernel's skip_orig_size_check): the zone goes.
		 */
		if (unlikely((s->flags & (SLAB_KMALLOC | SLAB_STORE_USER)) ==
			     (SLAB_KMALLOC | SLAB_STORE_USER)) && slab_be->set_orig_size &&
		    slab_be->check_object(s, info.page, objp))
			slab_be->set_orig_size(s, (void *)objp, s->object_size);
		return s->object_size;
	case PTR_LARGE:
	case PTR_MAPPING:
		return info.size;
	default:
		return 0;
	}
}

USLAB_API size_t kmalloc_size_roundup(size_t size)
{
	uslab_init();
	if (size && size <= kmalloc_max_cache_size)
		return kmalloc_info[kmalloc_index(size)].size;
	if (size > KMALLOC_MAX_SIZE)
		return SIZE_MAX;	/* as the kernel: no kmalloc bucket serves it */
	if (!size)
		return 0;
	return ALIGN(size, PAGE_SIZE);
}

/*
 * krealloc - the kernel's rule: stay in place while the block holds
 * @new_size, else allocate, copy and free.  __GFP_ZERO is honoured as the
 * kernel documents it, for callers that pass it on every call for the
 * block: shrinking in place zeroes what the caller gave up, so that
 * growing in place later hands back zeroes.  The pointer is checked as
 * kfree checks it: a freed or interior pointer is reported, and NULL
 * comes back if the report returns.
 */
/* The cache of a block ksize_checked() has passed, or NULL (not a slab object). */
static struct kmem_cache *slab_cache_of(const void *p)
{
	struct page *page;

	if (!addr_in_arena(p))
		return NULL;
	page = __virt_to_page(p);
	return (page->flags & PG_slab) ? page->slab_cache : NULL;
}

/*
 * kmalloc_resized - @p (a block ksize_checked() has passed) now holds
 * @size bytes in place: with the kmalloc red zone (slab_debug Z and U on
 * its cache) the size asked for and the zone after it follow.  For the
 * shim's realloc.
 */
void kmalloc_resized(const void *p, size_t size)
{
	struct kmem_cache *s = slab_cache_of(p);

	if (s && slab_be->get_orig_size && slab_be->get_orig_size(s, p))
		slab_be->set_orig_size(s, (void *)p, (unsigned int)size);
}

USLAB_API void *krealloc(const void *p, size_t new_size, gfp_t flags)
{
	struct kmem_cache *s;
	unsigned int orig;
	size_t ks;
	void *ret;

	if (unlikely(!new_size)) {
		kfree(p);
		return ZERO_SIZE_PTR;
	}
	if (ZERO_OR_NULL_PTR(p))
		return kmalloc(new_size, flags);
	ks = ksize_checked(p, "krealloc");
	if (!ks)
		return NULL;
	s = slab_cache_of(p);
	orig = s && slab_be->get_orig_size ? slab_be->get_orig_size(s, p) : 0;
	if (ks >= new_size) {
		/*
		 * With the kmalloc red zone the bytes past the size asked for
		 * are red zone, not the caller's: growing zeroes from there.
		 */
		if (orig && orig < new_size) {
			/* growing: the zone moves first, so what is zeroed is never zone */
			slab_be->set_orig_size(s, (void *)p, (unsigned int)new_size);
			if (flags & __GFP_ZERO)
				memset((char *)p + orig, 0, new_size - orig);
			return (void *)p;
		}
		if (flags & __GFP_ZERO)
			memset((char *)p + new_size, 0, ks - new_size);
		if (orig)
			slab_be->set_orig_size(s, (void *)p, (unsigned int)new_size);
		return (void *)p;
	}
	ret = kmalloc(new_size, flags);
	if (!ret)
		return NULL;
	memcpy(ret, p, orig ? orig : ks);
	kfree(p);
	return ret;
}

/* kfree_sensitive - check the pointer first, then clear, then free. */
USLAB_API void kfree_sensitive(const void *p)
{
	size_t ks;

	if (ZERO_OR_NULL_PTR(p))
		return;
	ks = ksize_checked(p, "kfree_sensitive");
	if (!ks)
		return;
	memset((void *)p, 0, ks);
	__asm__ __volatile__("" : : "r"(p) : "memory");
	kfree(p);
}

USLAB_API char *kstrdup(const char *s, gfp_t gfp)
{
	size_t len;
	char *buf;

	if (!s)
		return NULL;
	len = strlen(s) + 1;
	buf = kmalloc(len, gfp);
	if (buf)
		memcpy(buf, s, len);
	return buf;
}

USLAB_API const char *kstrdup_const(const char *s, gfp_t gfp)
{
	return kstrdup(s, gfp);
}

/*
 * kfree_const - the kernel frees what is not in its read-only data; here
 * what uslab does not own (a string literal, say) is neither freed nor
 * reported, and everything else is kfree()d with kfree's checks.
 */
USLAB_API void kfree_const(const void *x)
{
	if (uslab_owns(x))
		kfree(x);
}

USLAB_API char *kstrndup(const char *s, size_t max, gfp_t gfp)
{
	size_t len;
	char *buf;

	if (!s)
		return NULL;
	len = strnlen(s, max);
	buf = kmalloc(len + 1, gfp);
	if (buf) {
		memcpy(buf, s, len);
		buf[len] = '\0';
	}
	return buf;
}

USLAB_API void *kmemdup(const void *src, size_t len, gfp_t gfp)
{
	void *p = kmalloc(len, gfp);

	if (p && !ZERO_OR_NULL_PTR(p))
		memcpy(p, src, len);
	return p;
}

/* Userspace has no vmalloc area: above KMALLOC_MAX_SIZE, a mapping of its own. */
USLAB_API void *kvmalloc_node(size_t size, gfp_t flags, int node)
{
	if (size > KMALLOC_MAX_SIZE)
		return kvmalloc_huge(size, flags);
	return kmalloc_node(size, flags, node);
}

USLAB_API void kvfree(const void *addr)
{
	kfree(addr);
}

USLAB_API void kvfree_sensitive(const void *addr, size_t len)
{
	if (!ZERO_OR_NULL_PTR(addr)) {
		memset((void *)addr, 0, len);
		__asm__ __volatile__("" : : "r"(addr) : "memory");
	}
	kvfree(addr);
}

/* ------------------------------------------------------------ slabinfo */

USLAB_API size_t uslab_slabinfo(char *buf, size_t size)
{
	struct seq_buf m = { buf, size, 0 };
	struct kmem_cache *s;

	uslab_init();
	bool stats = slab_stats_enabled && slab_be->slabinfo_stats;

	/* With SLAB's statistics, the kernel's CONFIG_DEBUG_SLAB header. */
	seq_printf(&m, "slabinfo - version: 2.1%s\n", stats ? " (statistics)" : "");
	seq_printf(&m, "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>"
		   " : tunables <limit> <batchcount> <sharedfactor>"
		   " : slabdata <active_slabs> <num_slabs> <sharedavail>");
	if (stats)
		seq_printf(&m, " : globalstat <listallocs> <maxobjs> <grown> <reaped> <error>"
			   " <maxfreeable> <nodeallocs> <remotefrees> <alienoverflow>"
			   " : cpustat <allochit> <allocmiss> <freehit> <freemiss>");
	seq_printf(&m, "\n");
	pthread_mutex_lock(&slab_mutex);
	/* Newest first, as the kernel lists them (new caches go at the tail). */
	list_for_each_entry_reverse(s, &slab_caches, list) {
		struct slab_cache_info info;
		const struct slabinfo *si = &info.si;

		slab_be->get_info(s, &info);
		seq_printf(&m, "%-17s %6lu %6lu %6u %4u %4d", s->name, si->active_objs,
			   si->num_objs, s->size, si->objects_per_slab, 1 << si->cache_order);
		seq_printf(&m, " : tunables %4u %4u %4u", si->limit, si->batchcount, si->shared);
		seq_printf(&m, " : slabdata %6lu %6lu %6lu", si->active_slabs, si->num_slabs,
			   si->shared_avail);
		if (stats) {
			unsigned long counts[SLAB_STAT_MAX];

			stats_read(s, counts);
			slab_be->slabinfo_stats(&m, s, counts);
		}
		seq_printf(&m, "\n");
	}
	pthread_mutex_unlock(&slab_mutex);
	return seq_finish(&m);
}

/* ------------------------------------------------------ slabinfo writes */

/* Parse a decimal int (optionally negative) at *@p; false if there is none. */
static bool parse_int(const char **p, int *out)
{
	const char *q = *p;
	long v = 0;
	bool neg = false;

	while (*q == ' ' || *q == '\t')
		q++;
	if (*q == '-') {
		neg = true;
		q++;
	}
	if (*q < '0' || *q > '9')
		return false;
	while (*q >= '0' && *q <= '9') {
		v = v * 10 + (*q++ - '0');
		if (v > INT32_MAX)
			return false;
	}
	*out = (int)(neg ? -v : v);
	*p = q;
	return true;
}

/*
 * parse_slabinfo_line - "<cache> <limit> <batchcount> <shared>" (the
 * kernel's slabinfo_write format); the name is copied into @name.
 */
static bool parse_slabinfo_line(const char *line, char *name, size_t size,
				int *limit, int *batchcount, int *shared)
{
	const char *p = line;
	size_t n = 0;

	while (*p == ' ' || *p == '\t')
		p++;
	while (*p && *p != ' ' && *p != '\t' && *p != '\n') {
		if (n + 1 >= size)
			return false;
		name[n++] = *p++;
	}
	name[n] = '\0';
	if (!n || !parse_int(&p, limit) || !parse_int(&p, batchcount) || !parse_int(&p, shared))
		return false;
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	return *p == '\0';
}

static bool cache_named(const char *name)
{
	struct kmem_cache *s;

	list_for_each_entry(s, &slab_caches, list)
		if (!strcmp(s->name, name))
			return true;
	return false;
}

static int slabinfo_write_locked(const char *line)
{
	char name[128];
	int limit, batchcount, shared;
	struct kmem_cache *s;

	if (!slab_be->tune)
		return -EIO;
	if (!line || !parse_slabinfo_line(line, name, sizeof(name), &limit, &batchcount, &shared))
		return -EINVAL;
	/* The kernel's checks (slabinfo_write in mm/slab.c). */
	if (limit < 1 || batchcount < 1 || batchcount > limit || shared < 0)
		return -EINVAL;
	list_for_each_entry(s, &slab_caches, list)
		if (!strcmp(s->name, name))
			return slab_be->tune(s, limit, batchcount, shared);
	return -EINVAL;
}

USLAB_API int uslab_slabinfo_write(const char *line)
{
	int ret;

	uslab_init();
	pthread_mutex_lock(&slab_mutex);
	ret = slabinfo_write_locked(line);
	pthread_mutex_unlock(&slab_mutex);
	return ret;
}

/*
 * USLAB_SLABINFO: slabinfo lines separated by ';', applied to the caches
 * that exist at start-up and, by name, to every cache created later.
 * Bad lines are reported once, at start-up.  Called with slab_mutex.
 */
static void apply_slabinfo_env(const char *only)
{
	const char *env = os_getenv("USLAB_SLABINFO");
	char line[160];

	if (!env || !slab_be->tune)
		return;
	while (*env) {
		size_t n = 0;
		char name[128];
		int limit, batchcount, shared, err;

		while (*env && *env != ';' && n + 1 < sizeof(line))
			line[n++] = *env++;
		line[n] = '\0';
		while (*env && *env != ';')
			env++;
		if (*env == ';')
			env++;
		if (!parse_slabinfo_line(line, name, sizeof(name), &limit, &batchcount, &shared)) {
			if (!only && n)
				pr_warn("uslab: USLAB_SLABINFO: '%s' is not \"<cache> <limit> <batchcount> <shared>\"\n",
					line);
			continue;
		}
		if (only && strcmp(only, name))
			continue;
		err = slabinfo_write_locked(line);
		/* an unknown name may be a cache made later (the shim's) */
		if (!only && err && (err != -EINVAL || cache_named(name)))
			pr_warn("uslab: USLAB_SLABINFO: '%s' refused (error %d)\n", line, err);
	}
}

void slabinfo_env_apply(void)
{
	pthread_mutex_lock(&slab_mutex);
	apply_slabinfo_env(NULL);
	pthread_mutex_unlock(&slab_mutex);
}

/* --------------------------------------------------- userspace extras */

USLAB_API size_t uslab_trim(void)
{
	struct kmem_cache *s;

	/* Nothing to shrink before the slab layer is up; pages may be. */
	if (__atomic_load_n(&slab_state, __ATOMIC_ACQUIRE) == FULL) {
		pthread_mutex_lock(&slab_mutex);
		list_for_each_entry(s, &slab_caches, list)
			slab_be->shrink(s);
		pthread_mutex_unlock(&slab_mutex);
	}
	return page_alloc_trim();
}

USLAB_API void uslab_thread_exit(void)
{
	cpu_flush_self();
}

USLAB_API int uslab_owns(const void *p)
{
	struct ptr_info info;

	switch (classify_ptr(p, &info)) {
	case PTR_SLAB:
	case PTR_LARGE:
	case PTR_MAPPING:
	case PTR_BAD:	/* inside an arena's pages: ours, though not a live block */
		return 1;
	default:
		return 0;
	}
}

USLAB_API int uslab_validate(struct kmem_cache *s)
{
	long errors = 0;

	uslab_init();
	pthread_mutex_lock(&slab_mutex);
	if (s) {
		if (cache_is_live(s))
			errors = slab_be->validate(s);
	} else {
		list_for_each_entry(s, &slab_caches, list)
			errors += slab_be->validate(s);
	}
	pthread_mutex_unlock(&slab_mutex);
	return errors > INT_MAX ? INT_MAX : (int)errors;
}

/* ------------------------------------------------------------------ fork */

void slab_common_fork_prepare(void)
{
	pthread_mutex_lock(&slab_mutex);
	cpu_fork_prepare();
	slab_be->fork_prepare();
}

void slab_common_fork_parent(void)
{
	slab_be->fork_parent();
	cpu_fork_parent();
	pthread_mutex_unlock(&slab_mutex);
}

void slab_common_fork_child(void)
{
	slab_be->fork_child();
	pthread_mutex_init(&slab_mutex, NULL);
	cpu_fork_child();
	stats_fork_child();
}
