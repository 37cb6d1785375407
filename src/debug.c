// SPDX-License-Identifier: MIT
/*
 * debug.c - report banners (after mm/slub.c's slab_bug() and slab_err()),
 * and the end of a failed VM_BUG_ON.  The text is the kernel's, so that
 * people who know its reports can read these:
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
#include <stdlib.h>

void slab_report_banner(const char *name, const char *title)
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
	slab_report_banner(s ? s->name : "slab", title);
}

/* A VM_BUG_ON that fired: the kernel's "kernel BUG at" line, then abort. */
void vm_bug(const char *cond, const char *file, int line)
{
	pr_err("kernel BUG at %s:%d!\n", file, line);
	pr_err("VM_BUG_ON(%s)\n", cond);
	dump_stack();
	/* the panic line is written even when a test has silenced reports */
	uslab_panic("VM_BUG_ON(%s) failed at %s:%d\n", cond, file, line);
}
