/* SPDX-License-Identifier: MIT */
/*
 * uslab/uslab.h - what a userspace slab allocator adds to the kernel's API:
 * the /proc files as strings, giving memory back to the OS, options, and
 * test hooks.  Includes <uslab/slab.h>.
 */
#ifndef USLAB_USLAB_H
#define USLAB_USLAB_H

#include <uslab/slab.h>

#ifdef __cplusplus
extern "C" {
#endif

#define USLAB_VERSION_MAJOR 0
#define USLAB_VERSION_MINOR 1
#define USLAB_VERSION_PATCH 0

/**
 * uslab_init - bring the allocator up: options, page allocator, the back
 * end, the kmalloc caches.  Every entry point calls it, and the library's
 * constructor does, so a program never has to; it is idempotent and
 * thread-safe.  kmem_cache_init() is the same call under the kernel's name.
 */
USLAB_API void uslab_init(void);

/**
 * uslab_allocator - the back end in force: "slub" or "slab" (chosen once,
 * at start-up, by USLAB_ALLOCATOR; uslab_option_get("allocator") gives
 * its index).
 */
USLAB_API const char *uslab_allocator(void);

/**
 * uslab_validate - the kernel's validate_slab_cache(): check the slabs of
 * @s (NULL: of every cache) that the allocator can reach - the node
 * lists and the calling thread's cpu slabs - for freelists that leave
 * their slab, wrong object counts, and list states that disagree; and,
 * for a cache with slab_debug flags, every object: red zones, poison,
 * padding (docs/debug.md).  Each finding is reported in the kernel's
 * words, repaired as the kernel repairs it ("FIX <cache>: ..."), and
 * counted in uslab_error_count().  Returns the number of errors found; 0
 * for a cache pointer that is not a live cache.
 */
USLAB_API int uslab_validate(struct kmem_cache *s);

/**
 * uslab_slabinfo - the /proc/slabinfo (version 2.1) text.
 *
 * snprintf's contract: returns the full length of the text, writes at most
 * @size - 1 bytes and a terminating NUL; uslab_slabinfo(NULL, 0) asks for
 * the length.  The text is a snapshot: counts of objects cached by other
 * threads are approximate, as in the kernel.
 */
USLAB_API size_t uslab_slabinfo(char *buf, size_t size);

/**
 * uslab_slabinfo_write - what writing to /proc/slabinfo does: @line is
 * "<cache> <limit> <batchcount> <shared>" and retunes that cache's
 * per-CPU arrays on the SLAB back end.  Returns 0, -EINVAL for a
 * malformed line, an unknown cache, limit < 1, batchcount < 1 or >
 * limit, or shared < 0, and -EIO on SLUB, which has no such tunables
 * (as the kernel's).  USLAB_SLABINFO="<line>;<line>..." applies lines at
 * start-up and to caches created later (the shim's, say).
 */
USLAB_API int uslab_slabinfo_write(const char *line);

/**
 * uslab_buddyinfo - the /proc/buddyinfo text: one line per node,
 * "Node 0, zone   Normal" and the number of free blocks of each order
 * 0..MAX_ORDER.  snprintf's contract as uslab_slabinfo().
 */
USLAB_API size_t uslab_buddyinfo(char *buf, size_t size);

/**
 * uslab_trim - shrink every cache and give every free page to the OS.
 * Returns the number of bytes released to the OS by this call.
 */
USLAB_API size_t uslab_trim(void);

/**
 * struct uslab_page_stats - the page allocator's counters, in pages.
 */
struct uslab_page_stats {
	size_t reserved;	/* address space reserved in arenas */
	size_t managed;		/* pages handed to the buddy lists so far */
	size_t free;		/* pages in the free lists */
	size_t free_dirty;	/* of those, pages still backed by memory */
	size_t allocated;	/* pages handed out (including slabs) */
	size_t direct_mapped;	/* pages in direct mappings above MAX_ORDER */
	size_t released;	/* pages ever given back with madvise */
	unsigned int nr_arenas;
	unsigned int nr_nodes;
	/* Added with adaptive retention (docs/page_alloc.md): */
	size_t retain_bound;	/* free pages the zones may keep backed now: page_retain_mb
				   per node plus what churn added */
	size_t refaulted;	/* released pages that were allocated again soon after */
	size_t direct_cached;	/* pages in freed direct mappings kept for reuse */
	size_t direct_reused;	/* direct mappings handed out again from that cache */
};

USLAB_API void uslab_page_stats(struct uslab_page_stats *st);

/**
 * uslab_stats_json - every cache with its /proc/slabinfo and
 * /sys/kernel/slab fields and its statistics counters (when on: option
 * slab_stats, or USLAB_STATS), the page allocator's figures and
 * buddyinfo, as one JSON document (schema: docs/observability.md).
 * snprintf's contract: the full length is returned, and at most @size
 * bytes are written, NUL included.
 */
USLAB_API size_t uslab_stats_json(char *buf, size_t size);

/*
 * Options.  Each is read once, at initialisation, from the environment
 * variable of the same name in capitals with a USLAB_ prefix (for example
 * USLAB_SLAB_NOMERGE=1, USLAB_PAGE_RETAIN_MB=64); see docs/options.md.
 * uslab_option_get() returns the value in force, or -1 for a name that is
 * not an option.  uslab_option_set() changes one before initialisation and
 * returns 0, or -1 (unknown name, value out of range, or too late).
 */
USLAB_API long uslab_option_get(const char *name);
USLAB_API int uslab_option_set(const char *name, long value);

/**
 * uslab_error_count - reports of bad input made so far (bad frees, wrong
 * caches, objects left on destroy, ...).
 */
USLAB_API unsigned long uslab_error_count(void);

/**
 * uslab_set_report_hook - tests of bad input: when a hook is set, a
 * BUG-class report calls it instead of aborting, and the library goes on
 * without touching the bad object.  NULL restores aborting.  The report is
 * still written to stderr unless @quiet.
 */
typedef void (*uslab_report_hook_t)(const char *what);
USLAB_API void uslab_set_report_hook(uslab_report_hook_t hook, int quiet);

/**
 * uslab_thread_exit - give this thread's cached objects back to their
 * caches now, as happens by itself when a thread exits; useful before a
 * thread parks for long.  It flushes only this thread's slots (cpu slab,
 * cpu partial slabs) of every cache; it does not shrink the caches or
 * touch other threads.  The thread may go on allocating afterwards.
 */
USLAB_API void uslab_thread_exit(void);

/** uslab_owns - whether @p lies in memory uslab manages. */
USLAB_API int uslab_owns(const void *p);

/**
 * uslab_fail_nth - fault injection, as writing @n to the kernel's
 * /proc/self/fail-nth: the @n-th slab allocation this thread makes from
 * now on (kmem_cache_alloc*, kmalloc, each object of a bulk allocation,
 * and the library's own, such as those of kmem_cache_create) returns
 * NULL, whatever its gfp flags but __GFP_NOFAIL; the ones before it go
 * through.  0 disarms.  The first call with @n > 0 starts the allocator
 * and puts the fault-injection hook in front of its fast paths for good
 * (docs/failslab.md).  A forked child starts disarmed.
 */
USLAB_API void uslab_fail_nth(unsigned int n);

/**
 * uslab_fail_nth_get - as reading /proc/self/fail-nth: how many slab
 * allocations this thread has left to make, the failing one included,
 * before the failure armed by uslab_fail_nth() fires; 0 once it has
 * fired (or if none was armed).
 */
USLAB_API unsigned int uslab_fail_nth_get(void);

#ifdef __cplusplus
}
#endif

#endif /* USLAB_USLAB_H */
