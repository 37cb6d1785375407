// SPDX-License-Identifier: MIT
/*
 * stats_target.c - a program on uslab for the live viewers to look at
 * (tests/tools/viewers.sh: tools/uslab-slabinfo, tools/uslab-top).
 *
 * Usage: stats_target [N [die-on-ask]]
 *
 * It makes the cache "tools_test_cache" (200-byte objects, never merged
 * with another), allocates N objects from it (default 1000) and writes
 * "ready" on stdout.  Then it reads commands from stdin, one a line:
 *
 *   slabinfo   writes uslab_slabinfo() then a line "end" (to compare
 *              with what the viewers got from the signal handler)
 *
 * and, at the end of stdin, frees the objects, destroys the cache and
 * exits 0 (1 if uslab reported an error meanwhile).
 *
 * With die-on-ask it takes the stats signal over (SIGRTMAX-4, or
 * USLAB_STATS_SIGNAL) with a handler that exits at once: a program that
 * exits while a viewer waits for its answer.
 */
#include <uslab/slab.h>
#include <uslab/uslab.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CACHE_NAME "tools_test_cache"
#define OBJECT_SIZE 200

static void die_now(int sig)
{
	(void)sig;
	_exit(0);
}

/* Replace uslab's handler of the stats signal with die_now(). */
static void die_on_ask(void)
{
	const char *env = getenv("USLAB_STATS_SIGNAL");
	int sig = env && *env ? atoi(env) : SIGRTMAX - 4;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = die_now;
	if (sig <= 0 || sigaction(sig, &sa, NULL)) {
		fprintf(stderr, "stats_target: cannot take signal %d over\n", sig);
		exit(2);
	}
}

static void print_slabinfo(void)
{
	size_t n = uslab_slabinfo(NULL, 0) + 4096;	/* room for a new cache or two */
	char *text = malloc(n);

	if (!text) {
		perror("stats_target: malloc");
		exit(2);
	}
	uslab_slabinfo(text, n);
	fputs(text, stdout);
	fputs("end\n", stdout);
	fflush(stdout);
	free(text);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000;
	struct kmem_cache *cache;
	char line[256];
	void **objs;

	if (n < 0 || (argc > 2 && strcmp(argv[2], "die-on-ask") != 0) || argc > 3) {
		fprintf(stderr, "usage: stats_target [N [die-on-ask]]\n");
		return 2;
	}
	objs = calloc((size_t)n + 1, sizeof(*objs));
	cache = kmem_cache_create(CACHE_NAME, OBJECT_SIZE, 0, SLAB_NO_MERGE, NULL);
	if (!objs || !cache) {
		fprintf(stderr, "stats_target: cannot make the cache\n");
		return 2;
	}
	for (long i = 0; i < n; i++) {
		objs[i] = kmem_cache_alloc(cache, GFP_KERNEL);
		if (!objs[i]) {
			fprintf(stderr, "stats_target: allocation %ld failed\n", i);
			return 2;
		}
		memset(objs[i], 0x5a, OBJECT_SIZE);
	}
	if (argc > 2)
		die_on_ask();
	printf("ready\n");
	fflush(stdout);

	while (fgets(line, sizeof(line), stdin)) {
		if (!strcmp(line, "slabinfo\n"))
			print_slabinfo();
		else
			fprintf(stderr, "stats_target: unknown command: %s", line);
	}

	for (long i = 0; i < n; i++)
		kmem_cache_free(cache, objs[i]);
	kmem_cache_destroy(cache);
	free(objs);
	return uslab_error_count() ? 1 : 0;
}
