// SPDX-License-Identifier: MIT
/*
 * sanitize.c - slab objects as the program's memory checkers see them:
 * heap blocks for valgrind memcheck, poisoned memory for AddressSanitizer
 * (the kernel's KASAN hooks, in userspace terms).
 *
 * 1. Why.  Both checkers know malloc's blocks and nothing else.  To them
 *    a slab is one big mapping whose every byte may be read and written,
 *    so a use after free or an overflow of a kmem_cache object goes
 *    unseen.  Telling them where objects begin and end, and when they are
 *    free, makes those errors theirs to report, with their stacks.
 *
 * 2. Where it hooks in.  Every allocation and free of a slab object
 *    (kmem_cache_*, kmalloc up to the largest class, the malloc shim)
 *    goes through the dispatch, so slab_fast_wrap() puts a wrapper in
 *    front of all of them; a free that kfree_slow() hands the back end
 *    directly goes through struct slab_backend's free_slab_object, which
 *    is wrapped by pointing slab_be at a copy of the back end's table.
 *    Blocks that are not slab objects are annotated where they are made
 *    and freed (sanitize.h): buddy pages in the page allocator,
 *    kmalloc_large blocks in slab_common, direct mappings in the page
 *    allocator.  Nothing is installed unless a checker is there, so a
 *    normal build's fast paths are what they were (bench/entry_counts.sh).
 *
 * 3. Valgrind memcheck, found at start-up (RUNNING_ON_VALGRIND, and a
 *    memcheck client request that only memcheck answers: callgrind, which
 *    bench/entry_counts.sh runs, must count the unwrapped fast paths).
 *    - An object the program gets is a heap block (VALGRIND_MALLOCLIKE_BLOCK)
 *      of its usable size, s->object_size (a kmalloc object: its class's
 *      size, which ksize() and an in-place realloc may use), from when the
 *      back end hands it out until it is given back (VALGRIND_FREELIKE_BLOCK,
 *      before the back end sees it again).  Memcheck then reports a use
 *      after free, a read of memory never written (a new block is
 *      undefined, unless __GFP_ZERO or a constructor filled it), a double
 *      or invalid free, and leaks, each with the allocating stack.  The
 *      bytes between object_size and the next object (alignment, the
 *      free pointer of a constructed object, slab_debug's metadata) are
 *      made inaccessible while it is live.
 *    - uslab's own code reads and writes free objects (free pointers, free
 *      markers, slab_debug's poison) and reads the free-pointer word of
 *      live ones.  Those accesses are not the program's errors, so every
 *      call into the back end runs "inside uslab" (uslab_depth), with
 *      memcheck's error reporting off for the thread (it nests): the
 *      allocation and free wrappers, and every operation of the wrapped
 *      struct slab_backend (flush at thread exit, shrink, destroy,
 *      validate, slabinfo, check_object, fork, ...).  An answer such an
 *      operation gives is marked defined as it leaves.  Blocks allocated
 *      and freed inside uslab are the back end's bookkeeping and are not
 *      annotated (below).  A constructor runs inside the allocation, so
 *      its own errors go unreported.
 *    - Pages are made accessible when the buddy allocator hands them out
 *      (defined if known to be zero) and inaccessible when they come
 *      back: a slab's pages may next serve alloc_pages() or a
 *      kmalloc_large block.  kmalloc_large blocks and direct mappings are
 *      heap blocks of their ksize.
 *    - Leaks: memcheck scans every mapping of the process for pointers,
 *      uslab's among them, so a block that only a leaked block points to
 *      is "still reachable", not "indirectly lost", and so is a leaked
 *      object that uslab's metadata still names: the first object of a
 *      slab (SLAB's s_mem; the start of a thread's current SLUB slab) and
 *      one just taken from a SLAB array whose vacated slot keeps the
 *      pointer until the next free.  Any other leaked object is
 *      "definitely lost", with its allocation's stack.
 *    - The malloc shim: memcheck puts its own malloc in place of every
 *      library's that exports one unless run with
 *      --soname-synonyms=somalloc=nouserintercepts; the shim says so when
 *      that happened.
 *
 * 4. AddressSanitizer (the USLAB_ASAN_POISON build, with USLAB_SANITIZE).
 *    The library is then compiled without address instrumentation (UBSan
 *    stays), so that its own accesses to free objects and metadata are
 *    not checked and only the program's are; the regular sanitizer build
 *    instruments uslab itself.  (Instrumented, uslab trips over the
 *    poison at once: its free-pointer writes into a new slab, whose
 *    objects are poisoned until handed out.)  With the manual-poisoning
 *    interface:
 *    - a handed-out object is unpoisoned over exactly s->object_size and
 *      the rest of its slot (to s->size) poisoned, so an overflow past
 *      object_size is reported even into padding; __GFP_ZERO is applied
 *      here, after the unpoisoning, since libc's memset is ASan's;
 *    - an object is poisoned, slot and all, before the back end takes it
 *      back (not after: another thread may have it by then);
 *    - buddy pages are poisoned while free; a new slab's pages are
 *      poisoned as they leave the buddy allocator when the allocation
 *      that needs them is for a cache without a constructor, so its
 *      objects stay poisoned until handed out, and unpoisoned for a cache
 *      with one, so that the constructor (the program's code, checked)
 *      can run over them; kmalloc_large blocks are unpoisoned whole pages
 *      (their ksize) and poisoned when freed.
 *    Caches with SLAB_TYPESAFE_BY_RCU (reads after free are the contract)
 *    and caches with slab_debug flags (which check free objects with
 *    their own poison bytes, through libc functions ASan checks) are not
 *    poisoned.  Direct mappings come and go with the mapping.
 *
 * 5. What is never annotated: the struct page arrays, arena headers and
 *    cpu areas (uslab's own mappings, outside every slab, never handed
 *    out).  struct kmem_cache and cache names are heap blocks, reachable
 *    from the cache list; the back ends' own structures (nodes, arrays,
 *    off-slab freelists, random sequences) are allocated inside uslab and
 *    left alone, under memcheck as the bootstrap's objects are (made
 *    before the wrappers went in); under ASan they are unpoisoned as any
 *    object handed out.
  */
#define _GNU_SOURCE
#include "slab.h"
#include "sanitize.h"
#include "slab_debug.h"

#include <stdlib.h>
#include <string.h>

#if defined(USLAB_ASAN_POISON)
#include <sanitizer/asan_interface.h>
#define SANITIZE_ASAN 1
#elif defined(USLAB_HAVE_VALGRIND)
#include <valgrind/valgrind.h>
#include <valgrind/memcheck.h>
#define SANITIZE_MEMCHECK 1
#endif

#if defined(SANITIZE_MEMCHECK) || defined(SANITIZE_ASAN)
static slab_alloc_fn sanitize_next_alloc;
static slab_free_fn sanitize_next_free;
/* The back end's own table, and the copy slab_be points at once wrapped. */
static const struct slab_backend *real_be;
static struct slab_backend wrapped_be;

/*
 * The cache whose slab holds @x, or NULL if @x is in no slab: what a free
 * will really free, whatever cache the caller named.
 */
static struct kmem_cache *object_cache(const void *x)
{
	struct page *page;

	if (!addr_in_arena(x) || page_index(x) < ARENA_META_PAGES)
		return NULL;
	page = __virt_to_page(x);
	return (page->flags & PG_slab) ? page->slab_cache : NULL;
}
#endif

#ifndef USLAB_ASAN_POISON
unsigned char sanitize_memcheck;
#endif

/* ================================================== valgrind memcheck */
#ifdef SANITIZE_MEMCHECK

/*
 * How deep this thread is inside uslab: in an allocation or free wrapper
 * or a back-end operation.  Memcheck's error reporting is off while it
 * is above 0, and what is allocated or freed then is uslab's own
 * bookkeeping (a back end's nodes, arrays and off-slab freelists), made
 * and given back inside the back end: not the program's blocks, so not
 * annotated.  That keeps them out of the leak check, where a structure
 * known only by a pointer into its middle (SLAB's guarded bookkeeping)
 * would be "possibly lost", and it covers the bootstrap's objects, which
 * were never annotated when the back end frees them.
 */
static __thread unsigned int uslab_depth __attribute__((tls_model("initial-exec")));

static inline bool enter_uslab(void)
{
	VALGRIND_DISABLE_ERROR_REPORTING;
	return uslab_depth++ == 0;
}

static inline void leave_uslab(void)
{
	uslab_depth--;
	VALGRIND_ENABLE_ERROR_REPORTING;
}

static void object_allocated(struct kmem_cache *s, void *p, gfp_t gfp)
{
	VALGRIND_MALLOCLIKE_BLOCK(p, s->object_size, 0, (gfp & __GFP_ZERO) || s->ctor);
	/*
	 * The slot's padding; a slab_debug cache's slot is laid out
	 * differently (a left red zone before the object), and its own
	 * checks guard the red zones.
	 */
	if (s->size > s->object_size && !(s->flags & SLAB_DEBUG_FLAGS))
		VALGRIND_MAKE_MEM_NOACCESS((char *)p + s->object_size, s->size - s->object_size);
}

static void object_freeing(struct kmem_cache *s, void *x)
{
	struct kmem_cache *owner = object_cache(x);

	if (ZERO_OR_NULL_PTR(x))
		return;		/* not a block: the back end says what it thinks of it */
	VALGRIND_FREELIKE_BLOCK(x, 0);
	if (!owner)
		owner = s;
	if (owner && (owner->flags & SLAB_TYPESAFE_BY_RCU))
		VALGRIND_MAKE_MEM_DEFINED(x, owner->object_size);
}

static void *sanitize_alloc(struct kmem_cache *s, gfp_t gfp, int node)
{
	bool program = enter_uslab();
	void *p = sanitize_next_alloc(s, gfp, node);

	leave_uslab();
	if (p && program)
		object_allocated(s, p, gfp);
	return p;
}

/* The block goes first, so that memcheck sees any later access as one after free. */
static void sanitize_free(struct kmem_cache *s, void *x, struct page *page)
{
	if (!uslab_depth)
		object_freeing(s, x);
	enter_uslab();
	sanitize_next_free(s, x, page);
	leave_uslab();
}

static void sanitize_free_slab_object(struct kmem_cache *s, void *x, struct page *slab)
{
	if (!uslab_depth)
		object_freeing(s, x);
	enter_uslab();
	real_be->free_slab_object(s, x, slab);
	leave_uslab();
}

/*
 * The back end's other operations, each inside uslab (section 3): they
 * walk free objects and touch the back end's bookkeeping.  Those the
 * table leaves NULL stay NULL; init and init_late ran before this.  An
 * answer is uslab's own even when it was worked out from the program's
 * bytes (check_object reads the free-pointer word of a live object, which
 * the program may not have written yet), so it leaves defined.
 */
#define INSIDE_RET(type, call)				\
	do {						\
		type ret_;				\
		enter_uslab();				\
		ret_ = call;				\
		leave_uslab();				\
		VALGRIND_MAKE_MEM_DEFINED(&ret_, sizeof(ret_));	\
		return ret_;				\
	} while (0)
#define INSIDE(call)					\
	do {						\
		enter_uslab();				\
		call;					\
		leave_uslab();				\
	} while (0)

static int inside_create(struct kmem_cache *s, slab_flags_t flags)
{
	INSIDE_RET(int, real_be->create(s, flags));
}

static void inside_alias(struct kmem_cache *s, unsigned int size)
{
	INSIDE(real_be->alias(s, size));
}

static int inside_shutdown(struct kmem_cache *s)
{
	INSIDE_RET(int, real_be->shutdown(s));
}

static void inside_release(struct kmem_cache *s)
{
	INSIDE(real_be->release(s));
}

static int inside_shrink(struct kmem_cache *s)
{
	INSIDE_RET(int, real_be->shrink(s));
}

static int inside_get_info(struct kmem_cache *s, struct slab_cache_info *info)
{
	INSIDE_RET(int, real_be->get_info(s, info));
}

static void inside_slabinfo_stats(struct seq_buf *m, struct kmem_cache *s,
				  const unsigned long *counts)
{
	INSIDE(real_be->slabinfo_stats(m, s, counts));
}

static int inside_tune(struct kmem_cache *s, int limit, int batchcount, int shared)
{
	INSIDE_RET(int, real_be->tune(s, limit, batchcount, shared));
}

static bool inside_check_object(struct kmem_cache *s, struct page *slab, const void *x)
{
	INSIDE_RET(bool, real_be->check_object(s, slab, x));
}

static unsigned int inside_get_orig_size(struct kmem_cache *s, const void *x)
{
	INSIDE_RET(unsigned int, real_be->get_orig_size(s, x));
}

static void inside_set_orig_size(struct kmem_cache *s, void *x, unsigned int size)
{
	INSIDE(real_be->set_orig_size(s, x, size));
}

static long inside_validate(struct kmem_cache *s)
{
	INSIDE_RET(long, real_be->validate(s));
}

static void inside_fork_prepare(void)
{
	INSIDE(real_be->fork_prepare());
}

static void inside_fork_parent(void)
{
	INSIDE(real_be->fork_parent());
}

static void inside_fork_child(void)
{
	INSIDE(real_be->fork_child());
}

static void inside_flush_area(char *area)
{
	INSIDE(real_be->flush_area(area));
}

static void wrap_backend_ops(struct slab_backend *be)
{
#define WRAP_OP(op) do { if (be->op) be->op = inside_##op; } while (0)
	WRAP_OP(create);
	WRAP_OP(alias);
	WRAP_OP(shutdown);
	WRAP_OP(release);
	WRAP_OP(shrink);
	WRAP_OP(get_info);
	WRAP_OP(slabinfo_stats);
	WRAP_OP(tune);
	WRAP_OP(check_object);
	WRAP_OP(get_orig_size);
	WRAP_OP(set_orig_size);
	WRAP_OP(validate);
	WRAP_OP(fork_prepare);
	WRAP_OP(fork_parent);
	WRAP_OP(fork_child);
	WRAP_OP(flush_area);
#undef WRAP_OP
}

/*
 * Only memcheck answers its own client requests (with -1); under
 * another tool, or none, this is 0.
 */
static bool running_on_memcheck(void)
{
	int probe = 0;

	if (!RUNNING_ON_VALGRIND)
		return false;
	return (long)VALGRIND_MAKE_MEM_DEFINED(&probe, sizeof(probe)) == -1;
}

void __sanitize_pages_alloc(void *addr, size_t bytes, bool zeroed)
{
	if (zeroed)
		VALGRIND_MAKE_MEM_DEFINED(addr, bytes);
	else
		VALGRIND_MAKE_MEM_UNDEFINED(addr, bytes);
}

void __sanitize_pages_free(void *addr, size_t bytes)
{
	VALGRIND_MAKE_MEM_NOACCESS(addr, bytes);
}

void __sanitize_large_alloc(void *addr, size_t bytes, gfp_t gfp)
{
	if (!uslab_depth)
		VALGRIND_MALLOCLIKE_BLOCK(addr, bytes, 0, (gfp & __GFP_ZERO) != 0);
}

void __sanitize_large_free(const void *addr, size_t bytes)
{
	if (!uslab_depth)
		VALGRIND_FREELIKE_BLOCK(addr, 0);
}

void __sanitize_map_alloc(void *addr, size_t bytes)
{
	/* a fresh mapping: zeroes, and memcheck knows them as such */
	if (!uslab_depth)
		VALGRIND_MALLOCLIKE_BLOCK(addr, bytes, 0, 1);
}

void __sanitize_map_free(const void *addr)
{
	if (!uslab_depth)
		VALGRIND_FREELIKE_BLOCK(addr, 0);
}

/*
 * Memcheck puts its own malloc in place of the allocation functions of
 * every library that exports them, the preloaded shim's included, unless
 * run with --soname-synonyms=somalloc=nouserintercepts: the program then
 * runs on memcheck's malloc and uslab is not in use.  The shim says so,
 * once, so that nobody takes that run for a check of uslab.  (A probe
 * through malloc: whose block comes back is the only sign.)
 */
#ifdef USLAB_SHIM_BUILD
__attribute__((constructor)) static void sanitize_shim_replaced(void)
{
	void *p;

	if (!running_on_memcheck())
		return;
	p = malloc(16);
	if (p && !uslab_owns(p))
		uslab_printk("uslab: valgrind memcheck's malloc replaces libuslab-malloc.so's, so the "
			     "program runs without uslab; run valgrind with "
			     "--soname-synonyms=somalloc=nouserintercepts to check it on uslab\n");
	free(p);
}
#endif

#endif /* SANITIZE_MEMCHECK */

/* ===================================================== AddressSanitizer */
#ifdef SANITIZE_ASAN

/*
 * The interface's functions, not its ASAN_*_MEMORY_REGION macros: those
 * compile to nothing without -fsanitize=address, and this file is built
 * without it (section 4).
 */
static inline void poison(const void *addr, size_t bytes)
{
	__asan_poison_memory_region(addr, bytes);
}

static inline void unpoison(const void *addr, size_t bytes)
{
	__asan_unpoison_memory_region(addr, bytes);
}

/*
 * Set while this thread is inside an allocation from a cache whose new
 * slabs may start out poisoned (no constructor, poisoned objects): what
 * the buddy allocator hands out meanwhile is poisoned, not unpoisoned.
 * A nested allocation (a back end's own kmalloc) saves and restores it.
 */
static __thread bool poison_new_pages __attribute__((tls_model("initial-exec")));

/* Whether @s's free objects are poisoned (section 4). */
static bool cache_poisoned(const struct kmem_cache *s)
{
	return !(s->flags & (SLAB_TYPESAFE_BY_RCU | SLAB_DEBUG_FLAGS));
}

static void *sanitize_alloc(struct kmem_cache *s, gfp_t gfp, int node)
{
	bool outer = poison_new_pages;
	void *p;

	poison_new_pages = cache_poisoned(s) && !s->ctor;
	p = sanitize_next_alloc(s, gfp & ~__GFP_ZERO, node);
	poison_new_pages = outer;
	if (!p)
		return NULL;
	/*
	 * Exactly object_size: unpoisoning leaves the rest of the slot as it
	 * was, which is poisoned unless the slab was a constructor's.
	 */
	unpoison(p, s->object_size);
	if (s->ctor && s->size > s->object_size && cache_poisoned(s))
		poison((char *)p + s->object_size, s->size - s->object_size);
	if (gfp & __GFP_ZERO)
		memset(p, 0, s->object_size);
	return p;
}

/* Only slab memory: a pointer that is none is the back end's to report. */
static void object_freeing(struct kmem_cache *s, void *x)
{
	struct kmem_cache *owner = object_cache(x);

	if (owner && cache_poisoned(owner))
		poison(x, owner->size);
}

static void sanitize_free(struct kmem_cache *s, void *x, struct page *page)
{
	object_freeing(s, x);
	sanitize_next_free(s, x, page);
}

static void sanitize_free_slab_object(struct kmem_cache *s, void *x, struct page *slab)
{
	object_freeing(s, x);
	real_be->free_slab_object(s, x, slab);
}

/* uslab's own accesses are not instrumented: there is nothing to quiet. */
static void wrap_backend_ops(struct slab_backend *be)
{
}

void __sanitize_pages_alloc(void *addr, size_t bytes, bool zeroed)
{
	if (poison_new_pages)
		poison(addr, bytes);
	else
		unpoison(addr, bytes);
}

void __sanitize_pages_free(void *addr, size_t bytes)
{
	poison(addr, bytes);
}

void __sanitize_large_alloc(void *addr, size_t bytes, gfp_t gfp)
{
	unpoison(addr, bytes);
}

void __sanitize_large_free(const void *addr, size_t bytes)
{
	poison(addr, bytes);
}

void __sanitize_map_alloc(void *addr, size_t bytes)
{
}

void __sanitize_map_free(const void *addr)
{
}

#endif /* SANITIZE_ASAN */

/* ============================================================ start-up */

#if defined(SANITIZE_MEMCHECK) || defined(SANITIZE_ASAN)
/*
 * sanitize_init - at start-up (init.c), after the bootstrap and before
 * failslab: with a checker in force, the wrappers go in front of the
 * dispatch and slab_be points at the wrapped copy of the back end's
 * table.  Only the initialising thread runs here.
 */
void sanitize_init(void)
{
#ifdef SANITIZE_MEMCHECK
	if (!running_on_memcheck())
		return;
	sanitize_memcheck = 1;
#endif
	real_be = slab_be;
	wrapped_be = *real_be;
	wrapped_be.free_slab_object = sanitize_free_slab_object;
	wrap_backend_ops(&wrapped_be);
	slab_be = &wrapped_be;
	slab_fast_wrap(sanitize_alloc, sanitize_free, &sanitize_next_alloc, &sanitize_next_free);
}

#else /* neither checker is built in: sanitize_memcheck stays 0, the hooks are never called */

void sanitize_init(void)
{
}

void __sanitize_pages_alloc(void *addr, size_t bytes, bool zeroed)
{
}

void __sanitize_pages_free(void *addr, size_t bytes)
{
}

void __sanitize_large_alloc(void *addr, size_t bytes, gfp_t gfp)
{
}

void __sanitize_large_free(const void *addr, size_t bytes)
{
}

void __sanitize_map_alloc(void *addr, size_t bytes)
{
}

void __sanitize_map_free(const void *addr)
{
}

#endif
