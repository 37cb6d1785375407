// SPDX-License-Identifier: MIT
/*
 * options.c - the kernel's boot options as environment variables.
 *
 * Each option has a kernel-style name (slab_nomerge, slub_max_order, ...)
 * and is read once, when the allocator initialises, from USLAB_<NAME> in
 * capitals (USLAB_SLAB_NOMERGE=1).  Values are decimal; out-of-range
 * values are refused with a message and the default stays.  The table is
 * the documentation's source: docs/options.md lists the same rows.
 *
 * A USLAB_* variable that is neither an option nor one of the names the
 * project uses elsewhere (known_elsewhere[]) is almost always a typo that
 * would otherwise change nothing without a word, so initialisation warns
 * about it once, naming the closest known name.
 *
 * Nothing here may allocate (the library may be the process's malloc):
 * the environment is read in place and reports go through uslab_printk.
 */
#include "internal.h"

#include <string.h>

extern char **environ;

struct uslab_option {
	const char *name;
	const char *env;
	long value;
	long min, max;
	bool set;	/* by uslab_option_set(): the environment does not override */
	const char *const *names;	/* a choice by name: value is the index */
};

/* The back ends built in, by USLAB_ALLOCATOR name (enum slab_backend_id). */
static const char *const allocator_names[] = { "slub", "slab", NULL };

/* Designated, so that every field not named is zero (and no compiler warns). */
#define OPTION(_name, _env, _default, _min, _max) \
	{ .name = (_name), .env = (_env), .value = (_default), .min = (_min), .max = (_max) }

static struct uslab_option options[OPT__COUNT] = {
	[OPT_SLAB_NOMERGE]     = OPTION("slab_nomerge", "USLAB_SLAB_NOMERGE", 0, 0, 1),
	[OPT_SLUB_MIN_ORDER]   = OPTION("slub_min_order", "USLAB_SLUB_MIN_ORDER", 0, 0, MAX_ORDER),
	[OPT_SLUB_MAX_ORDER]   = OPTION("slub_max_order", "USLAB_SLUB_MAX_ORDER", 3, 0, MAX_ORDER),
	[OPT_SLUB_MIN_OBJECTS] = OPTION("slub_min_objects", "USLAB_SLUB_MIN_OBJECTS", 0, 0, 32767),
	[OPT_PAGE_RETAIN_MB]   = OPTION("page_retain_mb", "USLAB_PAGE_RETAIN_MB", 32, 0, 1L << 30),
	[OPT_PAGE_LIMIT_MB]    = OPTION("page_limit_mb", "USLAB_PAGE_LIMIT_MB", 0, 0, 1L << 40),
	[OPT_NUMA_NODES]       = OPTION("numa_nodes", "USLAB_NUMA_NODES", 1, 1, 64),
	[OPT_ALLOCATOR]        = { .name = "allocator", .env = "USLAB_ALLOCATOR",
				   .max = 1, .names = allocator_names },
	[OPT_SLAB_FREELIST_RANDOM] = OPTION("slab_freelist_random", "USLAB_SLAB_FREELIST_RANDOM", 1, 0, 1),
	[OPT_SLAB_MAX_ORDER]   = OPTION("slab_max_order", "USLAB_SLAB_MAX_ORDER", 1, 0, MAX_ORDER),
	[OPT_SLAB_STATS]       = OPTION("slab_stats", "USLAB_SLAB_STATS", 0, 0, 1),
	/* -1: SIGRTMAX - 4, decided at start-up (stats.c); 0: no handler */
	[OPT_STATS_SIGNAL]     = OPTION("stats_signal", "USLAB_STATS_SIGNAL", -1, -1, 64),
	[OPT_SLUB_SHEAF_CAPACITY] = OPTION("slub_sheaf_capacity", "USLAB_SLUB_SHEAF_CAPACITY", 64, 0, 64),
	[OPT_PAGE_RETAIN_MAX_MB] = OPTION("page_retain_max_mb", "USLAB_PAGE_RETAIN_MAX_MB", 1024, 0, 1L << 30),
	[OPT_PAGE_DECAY_MS]    = OPTION("page_decay_ms", "USLAB_PAGE_DECAY_MS", 1000, 0, 3600000),
	[OPT_SLUB_EMPTY_MAX_KB] = OPTION("slub_empty_max_kb", "USLAB_SLUB_EMPTY_MAX_KB", 4096, 0, 1L << 30),
};

/*
 * USLAB_* variables that are not options of this file but are read by
 * the project elsewhere, or reserved for features on their way; the
 * unknown-variable warning leaves them alone.  Keep it in step with
 * docs/options.md.
 */
static const char *const known_elsewhere[] = {
	"USLAB_MALLOC_LIB",	/* tools/uslab-run: the shim to preload */
	"USLAB_SHIM_VERBOSE",	/* src/malloc.c: announce the shim */
	"USLAB_SLABINFO",	/* src/slab_common.c: slabinfo tunables to apply */
	"USLAB_TEST_SEED",	/* tests/test.h: the seed of randomised tests */
	"USLAB_REAL_TIMEOUT",	/* tests/shim/real_programs.sh: per-run hang guard */
	"USLAB_SLAB_DEBUG",	/* src/slab_debug.c: the kernel's slab_debug= */
	"USLAB_STATS",		/* src/stats.c: 1 or json, a report at exit */
	/* src/failslab.c: the kernel's failslab= and its debugfs switches */
	"USLAB_FAILSLAB",	/* "<interval>,<probability>,<space>,<times>" */
	"USLAB_FAILSLAB_VERBOSE",	/* 0, 1 or 2: the notice, and a call trace */
	"USLAB_FAILSLAB_IGNORE_GFP_WAIT", /* 1 (default): never fail what may sleep */
	"USLAB_FAILSLAB_CACHE_FILTER",	/* 1: fail only SLAB_FAILSLAB caches */
	NULL
};

static bool options_frozen;
static bool env_checked;

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

/* Only what uslab's names are made of needs folding: ASCII letters. */
static char fold(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

#define NAME_MAX_LEN 64

/*
 * Levenshtein distance between @a (@alen bytes) and the string @b, letters
 * compared without case (USLAB_slab_nomerge is a typo too).  Two rows on
 * the stack: no allocation.  A name longer than NAME_MAX_LEN is too far
 * from every known one to be worth a suggestion: it gets ~0u.
 */
static unsigned int edit_distance(const char *a, size_t alen, const char *b)
{
	unsigned int row[2][NAME_MAX_LEN + 1];
	size_t blen = strlen(b);

	if (alen > NAME_MAX_LEN || blen > NAME_MAX_LEN)
		return ~0u;
	for (size_t j = 0; j <= blen; j++)
		row[0][j] = (unsigned int)j;
	for (size_t i = 1; i <= alen; i++) {
		unsigned int *prev = row[(i - 1) & 1], *cur = row[i & 1];

		cur[0] = (unsigned int)i;
		for (size_t j = 1; j <= blen; j++) {
			unsigned int sub = prev[j - 1] + (fold(a[i - 1]) != fold(b[j - 1]));
			unsigned int del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = min_t(unsigned int, sub, min_t(unsigned int, del, ins));
		}
	}
	return row[alen & 1][blen];
}

static bool is_known_name(const char *name, size_t len)
{
	for (int i = 0; i < OPT__COUNT; i++)
		if (strlen(options[i].env) == len && !strncmp(options[i].env, name, len))
			return true;
	for (int i = 0; known_elsewhere[i]; i++)
		if (strlen(known_elsewhere[i]) == len && !strncmp(known_elsewhere[i], name, len))
			return true;
	return false;
}

/*
 * closest_name - the known name nearest to @name, or NULL when even the
 * nearest differs in more than a third of its characters (at least 2):
 * past that, "did you mean" would be a guess, not a help.
 */
static const char *closest_name(const char *name, size_t len)
{
	const char *best = NULL;
	unsigned int best_d = ~0u;

	for (int i = 0; i < OPT__COUNT + (int)ARRAY_SIZE(known_elsewhere) - 1; i++) {
		const char *cand = i < OPT__COUNT ? options[i].env : known_elsewhere[i - OPT__COUNT];
		unsigned int d = edit_distance(name, len, cand);

		if (d < best_d) {
			best_d = d;
			best = cand;
		}
	}
	if (!best || best_d > max_t(unsigned int, 2, (unsigned int)strlen(best) / 3))
		return NULL;
	return best;
}

/* Whether @e is the first entry of environ for the variable it sets. */
static bool first_of_its_name(char **e, size_t len)
{
	for (char **f = environ; f != e; f++)
		if (!strncmp(*f, *e, len) && (*f)[len] == '=')
			return false;
	return true;
}

/*
 * check_environment - warn, once per variable and process, about each
 * USLAB_* variable that no part of uslab reads.  Runs on the first
 * initialisation only (the page allocator and uslab_init() may both get
 * here, from different threads).
 */
static void check_environment(void)
{
	if (!environ || __atomic_exchange_n(&env_checked, true, __ATOMIC_ACQ_REL))
		return;
	for (char **e = environ; *e; e++) {
		const char *eq = strchr(*e, '='), *hint;
		size_t len;

		if (strncmp(*e, "USLAB_", 6) || !eq)
			continue;
		len = (size_t)(eq - *e);
		if (is_known_name(*e, len) || !first_of_its_name(e, len))
			continue;
		hint = closest_name(*e, len);
		if (hint)
			pr_warn("uslab: unknown option %.*s; did you mean %s?\n", (int)len, *e, hint);
		else
			pr_warn("uslab: unknown option %.*s; docs/options.md lists the options\n",
				(int)len, *e);
	}
}

/* "a, b, c": the names of a choice, for a message (no allocation). */
static const char *choice_list(const struct uslab_option *o, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; o->names[i] && len < size; i++)
		len += (size_t)uslab_snprintf(buf + len, size - len, "%s%s",
					      i ? ", " : "", o->names[i]);
	return buf;
}

void uslab_options_init(void)
{
	if (options_frozen)
		return;
	check_environment();
	for (int i = 0; i < OPT__COUNT; i++) {
		struct uslab_option *o = &options[i];
		const char *s = os_getenv(o->env);
		long v;

		if (!s || o->set)
			continue;
		if (o->names) {
			char built[128];
			long n;

			for (n = 0; o->names[n] && strcmp(o->names[n], s); n++)
				;
			if (o->names[n])
				o->value = n;
			else
				pr_warn("uslab: %s=%s is not a back end built into this library (%s); keeping %s\n",
					o->env, s, choice_list(o, built, sizeof(built)),
					o->names[o->value]);
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
