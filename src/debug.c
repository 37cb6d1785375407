// SPDX-License-Identifier: MIT
/*
 * debug.c - reports about slabs and objects (after mm/slub.c's
 * slab_bug(), slab_err() and object_err()).  The text is the kernel's, so
 * that people who know SLUB's reports can read these:
 *
 *   =============================================================================
 *   BUG kmalloc-64 (Not tainted): Object already free
 *   -----------------------------------------------------------------------------
 *
 *   Slab 0x7f.. objects=64 used=3 fp=0x7f.. flags=0x9
 *   Object 0x7f.. @offset=128
 */
#include "debug.h"

#include <stdarg.h>

static void print_banner(const char *name, const char *title)
{
	pr_err("=============================================================================\n");
	pr_err("BUG %s (Not tainted): %s\n", name, title);
	pr_err("-----------------------------------------------------------------------------\n\n");
}

void slab_report_header(struct kmem_cache *s, const char *fmt, ...)
{
	char title[256];
	va_list ap;

	va_start(ap, fmt);
	uslab_vsnprintf(title, sizeof(title), fmt, ap);
	va_end(ap);
	print_banner(s ? s->name : "slab", title);
}

void slab_report_slab(const struct page *slab)
{
	if (!slab)
		return;
	pr_err("Slab %p objects=%u used=%u fp=%p flags=%#lx\n",
	       __page_address(slab), slab->objects, slab->inuse,
	       (void *)slab->freelist, slab->flags);
}

void slab_bug(struct kmem_cache *s, struct page *slab, const char *title,
	      const char *fmt, ...)
{
	char line[256];
	va_list ap;

	print_banner(s ? s->name : "slab", title);
	slab_report_slab(slab);
	va_start(ap, fmt);
	uslab_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	pr_err("%s\n\n", line);
	uslab_bug_end(title);
}

void object_err(struct kmem_cache *s, struct page *slab, const void *object,
		const char *reason)
{
	uintptr_t off = slab ? (uintptr_t)object - (uintptr_t)__page_address(slab) : 0;

	print_banner(s ? s->name : "slab", reason);
	slab_report_slab(slab);
	pr_err("Object %p @offset=%lu\n\n", object, (unsigned long)off);
	uslab_bug_end(reason);
}

void free_err(const char *who, const void *x, const char *reason)
{
	print_banner(who, "Invalid object pointer");
	pr_err("%s(%p): %s\n\n", who, x, reason);
	uslab_bug_end("Invalid object pointer");
}
