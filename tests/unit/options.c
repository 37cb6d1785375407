// SPDX-License-Identifier: MIT
/*
 * options.c - the USLAB_* options (src/options.c, docs/options.md).
 *
 * Options are read once, when the allocator initialises, so every case
 * runs in a child forked before anything initialised uslab, with an
 * environment of its own (environ replaced: duplicates and odd names are
 * possible that setenv() would not make) and its stderr captured.  The
 * parent never initialises uslab.
 *
 *   - uslab_option_get/set: defaults, every bound, unknown names, too late
 *   - the environment: good values, parse errors, range errors (refused
 *     with a message, the default kept), set() winning over it
 *   - allocator: a back end by name; only "slub" is built
 *   - unknown or misspelt USLAB_* variables: one warning each, naming the
 *     closest known name; the names the project uses elsewhere pass
 *   - the options take effect: slab_nomerge, numa_nodes
 */
#include "internal.h"
#include "../test.h"

#include <limits.h>

extern char **environ;

struct child_result {
	int status;
	char out[16384];
};

/*
 * run_child - @fn in a forked child whose environment is exactly @env
 * (NULL-terminated) and whose stderr is captured into @r->out.  The child
 * exits with its own failure count; true if it exited 0.
 */
static int run_child(void (*fn)(void), char **env, struct child_result *r)
{
	int pipefd[2];
	size_t len = 0;
	pid_t pid;

	if (pipe(pipefd))
		return 0;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		close(pipefd[1]);
		environ = env;
		/* the child's verdict is its own checks', not the parent's so far */
		test_failures = 0;
		fn();
		_exit(test_failures ? 1 : 0);
	}
	close(pipefd[1]);
	for (;;) {
		ssize_t n = read(pipefd[0], r->out + len, sizeof(r->out) - 1 - len);

		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof(r->out) - 1)
			break;
	}
	r->out[len] = '\0';
	close(pipefd[0]);
	waitpid(pid, &r->status, 0);
	if (!WIFEXITED(r->status) || WEXITSTATUS(r->status)) {
		fprintf(stderr, "child failed (status %#x); its stderr:\n%s\n", r->status, r->out);
		return 0;
	}
	return 1;
}

/* How many times @needle occurs in @hay. */
static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static char *no_env[] = { NULL };

/* ------------------------------------------------------- get and set */

static const struct { const char *name; long def, min, max; } table[] = {
	{ "slab_nomerge",     0,  0, 1 },
	{ "slub_min_order",   0,  0, 10 },
	{ "slub_max_order",   3,  0, 10 },
	{ "slub_min_objects", 0,  0, 32767 },
	{ "page_retain_mb",   32, 0, 1L << 30 },
	{ "page_limit_mb",    0,  0, 1L << 40 },
	{ "page_retain_max_mb", 1024, 0, 1L << 30 },
	{ "page_decay_ms",    1000, 0, 3600000 },
	{ "numa_nodes",       1,  1, 64 },
	{ "allocator",        0,  0, 1 },	/* 0: slub, 1: slab */
};

static void get_set_child(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		const char *name = table[i].name;

		CHECK_EQ(uslab_option_get(name), table[i].def);
		/* out of range on either side: refused, value unchanged */
		CHECK_EQ(uslab_option_set(name, table[i].min - 1), -1);
		CHECK_EQ(uslab_option_set(name, table[i].max + 1), -1);
		CHECK_EQ(uslab_option_set(name, LONG_MIN), -1);
		CHECK_EQ(uslab_option_set(name, LONG_MAX), -1);
		CHECK_EQ(uslab_option_get(name), table[i].def);
		/* both bounds taken */
		CHECK_EQ(uslab_option_set(name, table[i].max), 0);
		CHECK_EQ(uslab_option_get(name), table[i].max);
		CHECK_EQ(uslab_option_set(name, table[i].min), 0);
		CHECK_EQ(uslab_option_get(name), table[i].min);
		CHECK_EQ(uslab_option_set(name, table[i].def), 0);
	}
	/* names are the kernel's, exactly */
	CHECK_EQ(uslab_option_get("no_such_option"), -1);
	CHECK_EQ(uslab_option_get("SLAB_NOMERGE"), -1);
	CHECK_EQ(uslab_option_get("USLAB_SLAB_NOMERGE"), -1);
	CHECK_EQ(uslab_option_get(""), -1);
	CHECK_EQ(uslab_option_get(NULL), -1);
	CHECK_EQ(uslab_option_set("no_such_option", 1), -1);
	CHECK_EQ(uslab_option_set(NULL, 1), -1);

	/* after initialisation: too late, nothing changes */
	CHECK_EQ(uslab_option_set("slub_max_order", 2), 0);
	uslab_init();
	CHECK_EQ(uslab_option_get("slub_max_order"), 2);
	CHECK_EQ(uslab_option_set("slub_max_order", 3), -1);
	CHECK_EQ(uslab_option_set("numa_nodes", 1), -1);
	CHECK_EQ(uslab_option_get("slub_max_order"), 2);
}

static void get_set(void)
{
	struct child_result r;

	CHECK(run_child(get_set_child, no_env, &r));
	CHECK_EQ(strlen(r.out), 0);	/* nothing to say about any of it */
}

/* ------------------------------------------------------- environment */

/*
 * env_value - the value of option @name in a child that initialised uslab
 * with the single variable @var (NAME=value) in its environment; -2 if
 * the child failed.  @r->out is left holding the library's messages.
 */
static const char *probe_name;

static void probe_child(void)
{
	uslab_init();
	/* after the library's messages, a line the parent takes off again */
	dprintf(2, "\nvalue %ld\n", uslab_option_get(probe_name));
}

static long env_value(const char *var, const char *name, struct child_result *r)
{
	char *env[] = { (char *)var, NULL };
	char *p;

	probe_name = name;
	if (!run_child(probe_child, env, r))
		return -2;
	p = strstr(r->out, "\nvalue ");
	if (!p)
		return -2;
	*p = '\0';
	return strtol(p + 7, NULL, 10);
}

static void environment(void)
{
	struct child_result r;

	/* good values */
	CHECK_EQ(env_value("USLAB_SLUB_MAX_ORDER=5", "slub_max_order", &r), 5);
	CHECK_EQ(strlen(r.out), 0);
	CHECK_EQ(env_value("USLAB_NUMA_NODES=64", "numa_nodes", &r), 64);
	CHECK_EQ(env_value("USLAB_SLAB_NOMERGE=1", "slab_nomerge", &r), 1);
	CHECK_EQ(env_value("USLAB_SLUB_MIN_OBJECTS=32767", "slub_min_objects", &r), 32767);
	CHECK_EQ(env_value("USLAB_PAGE_LIMIT_MB=1099511627776", "page_limit_mb", &r), 1L << 40);
	CHECK_EQ(env_value("USLAB_PAGE_RETAIN_MB=0", "page_retain_mb", &r), 0);
	CHECK_EQ(strlen(r.out), 0);

	/* parse errors: refused with a message, the default kept */
	static const char *const bad[] = {
		"", "abc", "3x", " 3", "3 ", "+3", "0x3", "3.0", "-", "--3",
		"99999999999999999999999999",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char var[128], msg[160];

		snprintf(var, sizeof(var), "USLAB_SLUB_MAX_ORDER=%s", bad[i]);
		snprintf(msg, sizeof(msg),
			 "uslab: USLAB_SLUB_MAX_ORDER=%s is not a number in [0, 10]; keeping 3\n",
			 bad[i]);
		CHECK_EQ(env_value(var, "slub_max_order", &r), 3);
		if (strcmp(r.out, msg)) {
			CHECK(0);
			fprintf(stderr, "  %s: got \"%s\"\n", var, r.out);
		}
	}

	/* range errors */
	CHECK_EQ(env_value("USLAB_SLUB_MAX_ORDER=11", "slub_max_order", &r), 3);
	CHECK(!strcmp(r.out, "uslab: USLAB_SLUB_MAX_ORDER=11 is not a number in [0, 10]; keeping 3\n"));
	CHECK_EQ(env_value("USLAB_NUMA_NODES=0", "numa_nodes", &r), 1);
	CHECK(!strcmp(r.out, "uslab: USLAB_NUMA_NODES=0 is not a number in [1, 64]; keeping 1\n"));
	CHECK_EQ(env_value("USLAB_NUMA_NODES=-2", "numa_nodes", &r), 1);
	CHECK(strstr(r.out, "USLAB_NUMA_NODES=-2 is not a number in [1, 64]; keeping 1"));
	CHECK_EQ(env_value("USLAB_SLAB_NOMERGE=2", "slab_nomerge", &r), 0);
	CHECK(strstr(r.out, "USLAB_SLAB_NOMERGE=2 is not a number in [0, 1]; keeping 0"));
	CHECK_EQ(env_value("USLAB_PAGE_LIMIT_MB=1099511627777", "page_limit_mb", &r), 0);
	CHECK(strstr(r.out, "is not a number in [0, 1099511627776]; keeping 0"));

	/*
	 * The allocator by name: slub and slab are built; names of no back
	 * end are refused with a message that lists those built (slub among
	 * them) and keeps slub.  Matching is exact.
	 */
	CHECK_EQ(env_value("USLAB_ALLOCATOR=slub", "allocator", &r), 0);
	CHECK_EQ(strlen(r.out), 0);
	CHECK_EQ(env_value("USLAB_ALLOCATOR=slab", "allocator", &r), 1);
	CHECK_EQ(strlen(r.out), 0);
	static const char *const not_built[] = { "slob", "SLUB", "Slub", "", "0", "slub ", "slubx" };
	for (size_t i = 0; i < ARRAY_SIZE(not_built); i++) {
		char var[64], head[160];
		const char *tail = "); keeping slub\n", *list;
		size_t len;

		snprintf(var, sizeof(var), "USLAB_ALLOCATOR=%s", not_built[i]);
		snprintf(head, sizeof(head),
			 "uslab: USLAB_ALLOCATOR=%s is not a back end built into this library (",
			 not_built[i]);
		CHECK_EQ(env_value(var, "allocator", &r), 0);
		len = strlen(r.out);
		list = r.out + strlen(head);
		if (strncmp(r.out, head, strlen(head)) || len < strlen(head) + strlen(tail) ||
		    strcmp(r.out + len - strlen(tail), tail) || strncmp(list, "slub", 4) ||
		    count(r.out, "\n") != 1) {
			CHECK(0);
			fprintf(stderr, "  %s: got \"%s\"\n", var, r.out);
		}
	}
}

/* uslab_option_set() wins over the environment, silently. */
static void set_beats_env_child(void)
{
	CHECK_EQ(uslab_option_set("slub_max_order", 2), 0);
	CHECK_EQ(uslab_option_set("allocator", 0), 0);
	uslab_init();
	CHECK_EQ(uslab_option_get("slub_max_order"), 2);
	CHECK_EQ(uslab_option_get("allocator"), 0);
	CHECK(!strcmp(uslab_allocator(), "slub"));
	/* and the environment still counts for the others */
	CHECK_EQ(uslab_option_get("numa_nodes"), 2);
}

static void set_beats_env(void)
{
	char *env[] = { "USLAB_SLUB_MAX_ORDER=5", "USLAB_NUMA_NODES=2", "USLAB_ALLOCATOR=slab",
			NULL };
	struct child_result r;

	CHECK(run_child(set_beats_env_child, env, &r));
	/* the set options were not read, so not refused either */
	CHECK_EQ(strlen(r.out), 0);
}

/* ------------------------------------------------- unknown variables */

static void twice_child(void)
{
	uslab_init();
	void *p = kmalloc(100, GFP_KERNEL);

	CHECK(p != NULL);
	kfree(p);
	uslab_init();
	/* a misspelt option changes nothing */
	CHECK_EQ(uslab_option_get("slub_max_order"), 3);
	CHECK_EQ(uslab_option_get("numa_nodes"), 1);
}

static void unknown_variables(void)
{
	char *env[] = {
		"PATH=/usr/bin",
		"USLAB_SLUB_MAX_ORDR=2",
		"USLAB_SLUB_MAX_ORDR=5",		/* the same variable twice */
		"USLAB_NUMA_NODE=2",
		"USLAB_numa_nodes=2",
		"USLAB_SLAB_NO_MERGE=1",
		"USLAB_XYZZY=1",
		"USLAB_=1",
		/* known elsewhere in the project: no word about them */
		"USLAB_MALLOC_LIB=/nonexistent/libuslab-malloc.so",
		"USLAB_TEST_SEED=7",
		"USLAB_SLAB_DEBUG=FZ",
		"USLAB_STATS=1",
		"USLAB_SHIM_VERBOSE=0",
		"USLAB_SLABINFO=",
		"USLAB_REAL_TIMEOUT=90",
		/* not USLAB_* at all */
		"USLABX_SLAB_NOMERGE=1",
		"SLUB_MAX_ORDER=1",
		"uslab_slab_nomerge=1",
		"USLAB_NOVALUE",		/* no '=': not a variable */
		NULL
	};
	struct child_result r;

	CHECK(run_child(twice_child, env, &r));
	CHECK_EQ(count(r.out, "uslab: unknown option USLAB_SLUB_MAX_ORDR; "
			      "did you mean USLAB_SLUB_MAX_ORDER?\n"), 1);
	CHECK_EQ(count(r.out, "uslab: unknown option USLAB_NUMA_NODE; "
			      "did you mean USLAB_NUMA_NODES?\n"), 1);
	CHECK_EQ(count(r.out, "uslab: unknown option USLAB_numa_nodes; "
			      "did you mean USLAB_NUMA_NODES?\n"), 1);
	CHECK_EQ(count(r.out, "uslab: unknown option USLAB_SLAB_NO_MERGE; "
			      "did you mean USLAB_SLAB_NOMERGE?\n"), 1);
	/* too far from every name for a guess */
	CHECK_EQ(count(r.out, "uslab: unknown option USLAB_XYZZY; "
			      "docs/options.md lists the options\n"), 1);
	CHECK_EQ(count(r.out, "unknown option USLAB_; "), 1);
	/* six warnings, and nothing else */
	CHECK_EQ(count(r.out, "uslab:"), 6);
	CHECK_EQ(count(r.out, "\n"), 6);
	static const char *const quiet[] = {
		"MALLOC_LIB", "TEST_SEED", "SLAB_DEBUG", "STATS", "SHIM_VERBOSE", "REAL_TIMEOUT",
		"SLABINFO",
		"NOVALUE", "USLABX", "SLUB_MAX_ORDER=", "uslab_slab",
	};
	for (size_t i = 0; i < ARRAY_SIZE(quiet); i++)
		if (strstr(r.out, quiet[i])) {
			CHECK(0);
			fprintf(stderr, "  warned about %s\n", quiet[i]);
		}
	if (test_failures)
		fprintf(stderr, "stderr of the child:\n%s", r.out);
}

/* A clean environment: not a word. */
static void clean_environment(void)
{
	char *env[] = { "HOME=/", "USLAB_SLUB_MIN_ORDER=0", NULL };
	struct child_result r;

	CHECK(run_child(twice_child, env, &r));
	CHECK_EQ(strlen(r.out), 0);
}

/* ------------------------------------------------------------ effects */

static void merge_child(void)
{
	struct kmem_cache *a = kmem_cache_create("opt-a", 200, 0, 0, NULL);
	struct kmem_cache *b = kmem_cache_create("opt-b", 200, 0, 0, NULL);

	CHECK(a && b);
	if (uslab_option_get("slab_nomerge"))
		CHECK(a != b);
	else
		CHECK(a == b);
	kmem_cache_destroy(b);
	kmem_cache_destroy(a);
}

static void nomerge_set_child(void)
{
	CHECK_EQ(uslab_option_set("slab_nomerge", 1), 0);
	merge_child();
}

static void numa_child(void)
{
	struct uslab_page_stats st;
	char buf[1024];

	/* the environment is read when uslab initialises, not before */
	CHECK_EQ(uslab_option_get("numa_nodes"), 1);
	uslab_init();
	CHECK_EQ(uslab_option_get("numa_nodes"), 2);
	void *p = kmalloc(64, GFP_KERNEL);

	CHECK(p != NULL);
	kfree(p);
	uslab_page_stats(&st);
	CHECK_EQ(st.nr_nodes, 2);
	CHECK(uslab_buddyinfo(buf, sizeof(buf)) < sizeof(buf));
	CHECK(strstr(buf, "Node 0,") != NULL);
	CHECK(strstr(buf, "Node 1,") != NULL);
	CHECK(strstr(buf, "Node 2,") == NULL);
}

static void effects(void)
{
	char *nomerge[] = { "USLAB_SLAB_NOMERGE=1", NULL };
	char *numa2[] = { "USLAB_NUMA_NODES=2", NULL };
	struct child_result r;

	CHECK(run_child(merge_child, no_env, &r));		/* merged */
	CHECK(run_child(merge_child, nomerge, &r));		/* not merged */
	CHECK(run_child(nomerge_set_child, no_env, &r));
	CHECK(run_child(numa_child, numa2, &r));
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	get_set();
	environment();
	set_beats_env();
	unknown_variables();
	clean_environment();
	effects();
	return test_done("options");
}
