// SPDX-License-Identifier: MIT
/*
 * options.c - the kernel's boot options as environment variables.
 *
 * Each option has a kernel-style name (slab_nomerge, slub_max_order, ...)
 * and is read once, when the allocator initialises, from USLAB_<NAME> in
 * capitals (USLAB_SLAB_NOMERGE=1).  Values are decimal; out-of-range
 * values are refused with a message and the default stays.  The table is
 * the documentation's source: docs/options.md lists the same rows.
 */
#include "internal.h"

#include <string.h>

struct uslab_option {
	const char *name;
	const char *env;
	long value;
	long min, max;
	bool set;	/* by uslab_option_set(): the environment does not override */
	const char *const *names;	/* a choice by name: value is the index */
};

/* The back ends built in, by USLAB_ALLOCATOR name (enum slab_backend_id). */
static const char *const allocator_names[] = { "slub", NULL };

static struct uslab_option options[OPT__COUNT] = {
	[OPT_SLAB_NOMERGE]     = { "slab_nomerge", "USLAB_SLAB_NOMERGE", 0, 0, 1 },
	[OPT_SLUB_MIN_ORDER]   = { "slub_min_order", "USLAB_SLUB_MIN_ORDER", 0, 0, MAX_ORDER },
	[OPT_SLUB_MAX_ORDER]   = { "slub_max_order", "USLAB_SLUB_MAX_ORDER", 3, 0, MAX_ORDER },
	[OPT_SLUB_MIN_OBJECTS] = { "slub_min_objects", "USLAB_SLUB_MIN_OBJECTS", 0, 0, 32767 },
	[OPT_PAGE_RETAIN_MB]   = { "page_retain_mb", "USLAB_PAGE_RETAIN_MB", 32, 0, 1L << 30 },
	[OPT_PAGE_LIMIT_MB]    = { "page_limit_mb", "USLAB_PAGE_LIMIT_MB", 0, 0, 1L << 40 },
	[OPT_NUMA_NODES]       = { "numa_nodes", "USLAB_NUMA_NODES", 1, 1, 64 },
	[OPT_ALLOCATOR]        = { "allocator", "USLAB_ALLOCATOR", 0, 0, 0, .names = allocator_names },
};

static bool options_frozen;

static bool parse_long(const char *s, long *out)
{
	long v = 0;
	bool neg = false;

	if (*s == '-') {
		neg = true;
		s++;
	}
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (1L << 50))
			return false;
		v = v * 10 + (*s - '0');
	}
	*out = neg ? -v : v;
	return true;
}

void uslab_options_init(void)
{
	if (options_frozen)
		return;
	for (int i = 0; i < OPT__COUNT; i++) {
		struct uslab_option *o = &options[i];
		const char *s = os_getenv(o->env);
		long v;

		if (!s || o->set)
			continue;
		if (o->names) {
			long i;

			for (i = 0; o->names[i] && strcmp(o->names[i], s); i++)
				;
			if (o->names[i])
				o->value = i;
			else
				pr_warn("uslab: %s=%s is not a back end built into this library (%s); keeping %s\n",
					o->env, s, "slub", o->names[o->value]);
			continue;
		}
		if (!parse_long(s, &v) || v < o->min || v > o->max) {
			pr_warn("uslab: %s=%s is not a number in [%ld, %ld]; keeping %ld\n",
				o->env, s, o->min, o->max, o->value);
			continue;
		}
		o->value = v;
	}
	options_frozen = true;
}

long uslab_opt(enum uslab_opt o)
{
	return options[o].value;
}

static struct uslab_option *find_option(const char *name)
{
	if (!name)
		return NULL;
	for (int i = 0; i < OPT__COUNT; i++)
		if (!strcmp(options[i].name, name))
			return &options[i];
	return NULL;
}

USLAB_API long uslab_option_get(const char *name)
{
	struct uslab_option *o = find_option(name);

	return o ? o->value : -1;
}

USLAB_API int uslab_option_set(const char *name, long value)
{
	struct uslab_option *o = find_option(name);

	if (!o || value < o->min || value > o->max || options_frozen)
		return -1;
	o->value = value;
	o->set = true;
	return 0;
}
