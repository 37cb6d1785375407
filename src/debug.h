/* SPDX-License-Identifier: MIT */
/*
 * debug.h - the parts of the kernel's slab reports every back end shares:
 * the "BUG <cache> (Not tainted): <title>" banner, and VM_BUG_ON's end.
 * Each back end prints its own slab in its own words after the banner
 * (SLUB: "Slab 0x... objects=.. used=.. fp=.. flags=..").
 */
#ifndef USLAB_DEBUG_H
#define USLAB_DEBUG_H

#include "slab.h"

/* The banner for @name (a cache, or the function that was given a bad pointer). */
void slab_report_banner(const char *name, const char *title) __hidden;
/* The banner for @s, its title formatted from @fmt. */
void slab_report_header(struct kmem_cache *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3))) __hidden;

#endif /* USLAB_DEBUG_H */
