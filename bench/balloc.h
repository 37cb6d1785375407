/* SPDX-License-Identifier: MIT */
/*
 * bench/balloc.h - the allocator-neutral layer every benchmark is written
 * against.  Each program is compiled three times, once per back end:
 *
 *   -DBACKEND_MALLOC      plain malloc/free.  Run as it is for glibc, and
 *                         with LD_PRELOAD for jemalloc, tcmalloc, mimalloc
 *                         and the uslab malloc shim.
 *   -DBACKEND_KMALLOC     uslab's kmalloc/kfree, for every size.
 *   -DBACKEND_KMEM_CACHE  one kmem_cache per object size for the
 *                         fixed-size workloads, kmalloc for mixed sizes.
 *
 * The interface:
 *
 *   B_ALLOC(sz), B_FREE(p, sz)   a mixed-size allocation and its free
 *   B_CACHE_CREATE(sz)           a handle for objects of one size
 *   B_CACHE_ALLOC(c), B_CACHE_FREE(c, p), B_CACHE_DESTROY(c)
 *                                (a no-op with BENCH_KEEP_CACHES=1)
 *   B_TRIM()                     give free memory back to the OS; returns
 *                                a string naming what was called
 *   B_BACKEND                    "malloc", "kmalloc" or "kmem_cache"
 *   b_uslab_allocator()          uslab's back end in this process ("slub"
 *                                or "slab", USLAB_ALLOCATOR), NULL when
 *                                uslab is not loaded (glibc, the peers)
 *
 * Without a kmem_cache back end a cache handle is just the object size,
 * so B_CACHE_ALLOC costs exactly one malloc()/kmalloc().
 */
#ifndef USLAB_BENCH_BALLOC_H
#define USLAB_BENCH_BALLOC_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(BACKEND_MALLOC) + defined(BACKEND_KMALLOC) + defined(BACKEND_KMEM_CACHE) != 1
#error "define exactly one of BACKEND_MALLOC, BACKEND_KMALLOC, BACKEND_KMEM_CACHE"
#endif

/* Look a symbol up in the running process; NULL when nobody defines it. */
static inline void *b_sym(const char *name)
{
	return dlsym(RTLD_DEFAULT, name);
}

/* ------------------------------------------------------------ malloc */
#if defined(BACKEND_MALLOC)

#define B_BACKEND "malloc"

typedef uintptr_t b_cache_t;

#define B_ALLOC(sz)		malloc(sz)
#define B_FREE(p, sz)		((void)(sz), free(p))
#define B_CACHE_CREATE(sz)	((b_cache_t)(sz))
#define B_CACHE_ALLOC(c)	malloc((size_t)(c))
#define B_CACHE_FREE(c, p)	((void)(c), free(p))
#define B_CACHE_DESTROY(c)	((void)(c))
#define B_TRIM()		b_trim_malloc()

/*
 * Whichever malloc is live (glibc, or a preloaded one), ask it to give
 * memory back through the knob it has.  The order matters: glibc's
 * malloc_trim is always there, so the preloaded allocators' own knobs are
 * tried first.
 */
static inline const char *b_trim_malloc(void)
{
	union {
		void *obj;
		size_t (*uslab_trim)(void);
		int (*mallctl)(const char *, void *, size_t *, void *, size_t);
		void (*mi_collect)(bool);
		void (*release)(void);
		int (*malloc_trim)(size_t);
	} f;

	if ((f.obj = b_sym("uslab_trim")) != NULL) {
		f.uslab_trim();
		return "uslab_trim";
	}
	if ((f.obj = b_sym("mallctl")) != NULL) {
		/* The tcache holds freed objects; flush, then purge all arenas
		 * (4096 is MALLCTL_ARENAS_ALL). */
		f.mallctl("thread.tcache.flush", NULL, NULL, NULL, 0);
		f.mallctl("arena.4096.purge", NULL, NULL, NULL, 0);
		return "mallctl(arena.all.purge)";
	}
	if ((f.obj = b_sym("mi_collect")) != NULL) {
		f.mi_collect(true);
		return "mi_collect(true)";
	}
	if ((f.obj = b_sym("MallocExtension_ReleaseFreeMemory")) != NULL) {
		f.release();
		return "MallocExtension_ReleaseFreeMemory";
	}
	if ((f.obj = b_sym("malloc_trim")) != NULL) {
		f.malloc_trim(0);
		return "malloc_trim(0)";
	}
	return "none";
}

/* The function whose home we report as the allocator under test. */
static inline void *b_entry_point(void)
{
	return b_sym("malloc");
}

/* uslab's back end, if the malloc shim is what runs. */
static inline const char *b_uslab_allocator(void)
{
	union { void *obj; const char *(*fn)(void); } f;

	f.obj = b_sym("uslab_allocator");
	return f.obj != NULL ? f.fn() : NULL;
}

/* ------------------------------------------------- uslab (both kinds) */
#else

#include <uslab/uslab.h>

#define B_ALLOC(sz)		kmalloc((sz), GFP_KERNEL)
#define B_FREE(p, sz)		((void)(sz), kfree(p))
#define B_TRIM()		((void)uslab_trim(), "uslab_trim")

static inline void *b_entry_point(void)
{
	union { void *obj; void *(*fn)(size_t, gfp_t); } f;

	f.fn = kmalloc;
	return f.obj;
}

static inline const char *b_uslab_allocator(void)
{
	return uslab_allocator();
}

#if defined(BACKEND_KMALLOC)

#define B_BACKEND "kmalloc"

typedef uintptr_t b_cache_t;

#define B_CACHE_CREATE(sz)	((b_cache_t)(sz))
#define B_CACHE_ALLOC(c)	kmalloc((size_t)(c), GFP_KERNEL)
#define B_CACHE_FREE(c, p)	((void)(c), kfree(p))
#define B_CACHE_DESTROY(c)	((void)(c))

#else /* BACKEND_KMEM_CACHE */

#define B_BACKEND "kmem_cache"

typedef struct kmem_cache *b_cache_t;

#define B_CACHE_CREATE(sz)	b_kmem_cache_create(sz)
#define B_CACHE_ALLOC(c)	kmem_cache_alloc((c), GFP_KERNEL)
#define B_CACHE_FREE(c, p)	kmem_cache_free((c), (p))
#define B_CACHE_DESTROY(c)	b_kmem_cache_destroy(c)

static inline struct kmem_cache *b_kmem_cache_create(size_t size)
{
	char name[32];
	struct kmem_cache *c;

	snprintf(name, sizeof(name), "bench-%zu", size);
	c = kmem_cache_create(name, (unsigned int)size, 0, 0, NULL);
	if (c == NULL) {
		fprintf(stderr, "kmem_cache_create(%s) failed\n", name);
		exit(1);
	}
	return c;
}

/*
 * BENCH_KEEP_CACHES set (bench/counters.sh): leave the cache alive, so
 * that a cache which did not merge into a kmalloc cache keeps its
 * statistics counters until the report at exit.  Never inside a timed
 * loop.
 */
static inline void b_kmem_cache_destroy(struct kmem_cache *c)
{
	const char *keep = getenv("BENCH_KEEP_CACHES");

	if (keep != NULL && *keep != '\0' && strcmp(keep, "0") != 0)
		return;
	kmem_cache_destroy(c);
}

#endif
#endif

/*
 * Print which shared object the allocator's entry point comes from, so
 * that the driver can check an LD_PRELOAD really took effect, and which
 * uslab back end runs (USLAB_ALLOCATOR), so that a SLAB run that fell back
 * to SLUB is refused rather than reported as SLAB.
 */
static inline void b_print_backend(void)
{
	Dl_info info;
	void *fn = b_entry_point();
	const char *where = "unknown";
	const char *uslab = b_uslab_allocator();

	if (fn != NULL && dladdr(fn, &info) != 0 && info.dli_fname != NULL)
		where = info.dli_fname;
	printf("INFO backend %s\n", B_BACKEND);
	printf("INFO alloc_from %s\n", where);
	if (uslab != NULL)
		printf("INFO uslab_allocator %s\n", uslab);
}

#endif /* USLAB_BENCH_BALLOC_H */
