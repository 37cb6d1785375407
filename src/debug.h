/* SPDX-License-Identifier: MIT */
/*
 * debug.h - reports about bad input, in the kernel's words (mm/slub.c's
 * slab_bug / slab_err / object_err).  BUG-class reports end in
 * uslab_bug_end(): abort, unless a test hook is set.
 */
#ifndef USLAB_DEBUG_H
#define USLAB_DEBUG_H

#include "slab.h"

/* "BUG <cache> (Not tainted): <title>" banner, the slab, then @fmt. */
void slab_bug(struct kmem_cache *s, struct page *slab, const char *title,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5))) __hidden;
void object_err(struct kmem_cache *s, struct page *slab, const void *object,
		const char *reason) __hidden;
/* A free of an address that no cache can own. */
void free_err(const char *who, const void *x, const char *reason) __hidden;
/* The banner alone, and the slab line alone (for non-fatal reports). */
void slab_report_header(struct kmem_cache *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3))) __hidden;
void slab_report_slab(const struct page *slab) __hidden;

#endif /* USLAB_DEBUG_H */
