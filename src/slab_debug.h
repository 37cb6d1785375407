/* SPDX-License-Identifier: MIT */
/*
 * slab_debug.h - the kernel's slab_debug, the parts both back ends share
 * (mm/slub.c's debug section and Documentation/mm/slub.rst): the flags a
 * cache gets from USLAB_SLAB_DEBUG, the byte values, the alloc/free
 * tracks, the hex dump, and the report helpers that count where the
 * kernel's slab_add_kunit_errors() counts.  Each back end lays out its
 * objects, checks them and repairs them in its own code, with these.
 * docs/debug.md is the user's side.
 */
#ifndef USLAB_SLAB_DEBUG_H
#define USLAB_SLAB_DEBUG_H

#include "slab.h"

/* The kernel's byte values (include/linux/poison.h). */
#define SLUB_RED_INACTIVE	0xbb	/* red zone of a free object */
#define SLUB_RED_ACTIVE		0xcc	/* red zone of an allocated object */
#define POISON_INUSE		0x5a	/* padding, and an uninitialised object under SLAB */
#define POISON_FREE		0x6b	/* a free object */
#define POISON_END		0xa5	/* the last byte of a poisoned object */

/* What slab_debug switches on (the kernel's SLAB_DEBUG_FLAGS). */
#define SLAB_DEBUG_FLAGS	(SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON | \
				 SLAB_STORE_USER | SLAB_TRACE)
/* slab_debug with no flag letters: F, Z, P and U (DEBUG_DEFAULT_FLAGS). */
#define SLAB_DEBUG_DEFAULT	(SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON | \
				 SLAB_STORE_USER)
/* The flags that add metadata to each object, and so may raise the order. */
#define SLAB_DEBUG_LAYOUT_FLAGS	(SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER)
/*
 * uslab's, never passed by users (outside SLAB_CREATE_MASK): slab_debug's
 * 'O' for this cache.  The back end drops SLAB_DEBUG_LAYOUT_FLAGS (and
 * this; F and T stay) if they would raise the cache's slab order, as the
 * kernel's disable_higher_order_debug does.
 */
#define SLAB_DEBUG_ORDER_OFF	((slab_flags_t)0x80000000u)

static inline bool kmem_cache_debug(const struct kmem_cache *s)
{
	return s->flags & SLAB_DEBUG_FLAGS;
}

/*
 * kmem_cache_flags - @flags plus what USLAB_SLAB_DEBUG gives the cache
 * @name (the kernel's kmem_cache_flags()): the block whose cache list
 * names it, else the block without a list.  'A' gives SLAB_FAILSLAB, 'O'
 * SLAB_DEBUG_ORDER_OFF.  slab_common applies it to every cache it creates
 * (boot and kmalloc caches too) and before it looks for a cache to merge
 * with, so that a cache slab_debug will debug is never merged.
 */
slab_flags_t kmem_cache_flags(slab_flags_t flags, const char *name) __hidden;
/* Read USLAB_SLAB_DEBUG (options time); a bad string is refused whole. */
void slab_debug_init(void) __hidden;
/* Whether USLAB_SLAB_DEBUG asks for anything at all. */
bool slab_debug_enabled(void) __hidden;
/*
 * Parse @str in the kernel's slab_debug= grammar into the rules used by
 * kmem_cache_flags; 0, or -1 after a message naming the bad character
 * (the rules are then empty).  For slab_debug_init and the unit test.
 */
int slab_debug_parse(const char *str) __hidden;

/* ------------------------------------------------------------ tracks */

/*
 * struct track - who allocated or freed an object (slab_debug 'U'): the
 * call trace (innermost first, NULL after the last), the thread, the CPU
 * and when.  Stored in the object's metadata; the size is fixed so both
 * back ends can lay it out.
 */
#define TRACK_ADDRS_COUNT	16

struct track {
	void *addrs[TRACK_ADDRS_COUNT];
	uint64_t when_ns;
	int cpu;
	int pid;		/* the thread id, as the kernel's current->pid */
};

enum track_item { TRACK_ALLOC, TRACK_FREE };

/*
 * Fill @t for now: the thread, the CPU, the time, and the call trace
 * from the first frame outside the library (none before start-up is done:
 * the first backtrace() allocates).
 */
void set_track(struct track *t) __hidden;
/*
 * print_track - "Allocated in <fn+off> age=<ms> cpu=<n> pid=<tid>" (or
 * "Freed in ..."; @what is "Allocated" or "Freed"), then the symbolised
 * trace, one frame a line; nothing if @t was never set.
 */
void print_track(const char *what, const struct track *t) __hidden;

/* ----------------------------------------------------------- reports */

/*
 * The kernel's report helpers, counted in uslab_error_count() where
 * slab_add_kunit_errors() counts (slab_debug reports, repairs and goes
 * on; it never aborts):
 *   slab_fix(s, ...)		"FIX <cache>: ..."		counted once
 *   slab_debug_count()		for the back ends' object_err() and
 *				slab_err(), which print their own slab and
 *				object after debug.h's banner
 *				(slab_report_header): counted once each
 */
void slab_fix(struct kmem_cache *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3))) __hidden;
void slab_debug_count(void) __hidden;
/*
 * print_section - the kernel's hex dump of @length bytes at @addr, 16 a
 * line: "<text><address>: 6b 6b ... 6b  kkkkkkkkkkkkkkkk".
 */
void print_section(const char *text, const void *addr, unsigned int length) __hidden;
/*
 * The first byte in [@start, @start + @bytes) that is not @value, or NULL
 * (the kernel's memchr_inv).
 */
const unsigned char *memchr_inv(const void *start, int value, size_t bytes) __hidden;

#endif /* USLAB_SLAB_DEBUG_H */
