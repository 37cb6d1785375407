// SPDX-License-Identifier: MIT
/*
 * slabinfo_write.c - uslab_slabinfo_write(), the write side of
 * /proc/slabinfo.  On SLUB every write gives -EIO, as the kernel's SLUB;
 * on SLAB a good line retunes the cache (and slabinfo shows it), and the
 * kernel's checks refuse the rest with -EINVAL.
 */
#include <uslab/slab.h>
#include <uslab/uslab.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include "../test.h"

/* The "tunables <limit> <batchcount> <shared>" of @name in slabinfo. */
static int tunables(const char *name, int *limit, int *batch, int *shared)
{
	static char buf[1 << 16];
	char *line;

	uslab_slabinfo(buf, sizeof(buf));
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char n[64];

		if (sscanf(line, "%63s", n) == 1 && !strcmp(n, name)) {
			char *t = strstr(line, ": tunables");
			return t && sscanf(t, ": tunables %d %d %d", limit, batch, shared) == 3;
		}
	}
	return 0;
}

/* Threads allocate and free while the main thread retunes the cache. */
static struct kmem_cache *busy;
static volatile int busy_stop;

static void *busy_worker(void *arg)
{
	void *v[300] = { 0 };
	unsigned int x = (unsigned int)(uintptr_t)arg;
	long bad = 0;

	while (!busy_stop) {
		x = x * 1103515245u + 12345u;
		unsigned int i = (x >> 8) % 300;

		if (v[i]) {
			bad += *(unsigned int *)v[i] != i;
			kmem_cache_free(busy, v[i]);
		}
		v[i] = kmem_cache_alloc(busy, GFP_KERNEL);
		if (v[i])
			*(unsigned int *)v[i] = i;
	}
	for (int i = 0; i < 300; i++)
		kmem_cache_free(busy, v[i]);
	return (void *)bad;
}

static void tune_while_busy(void)
{
	pthread_t t[3];
	unsigned long errs = uslab_error_count();
	long bad = 0;

	busy = kmem_cache_create("tune-busy", 64, 0, SLAB_NO_MERGE, NULL);
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, busy_worker, (void *)(uintptr_t)(i + 1));
	for (int r = 0; r < 2000; r++) {
		char line[64];
		int limit = 1 + r % 200;

		snprintf(line, sizeof(line), "tune-busy %d %d %d", limit, (limit + 1) / 2, r % 9);
		CHECK_EQ(uslab_slabinfo_write(line), 0);
	}
	busy_stop = 1;
	for (int i = 0; i < 3; i++) {
		void *ret;

		pthread_join(t[i], &ret);
		bad += (long)ret;
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(uslab_error_count(), errs);
	kmem_cache_destroy(busy);
	CHECK_EQ(uslab_error_count(), errs);
}

int main(void)
{
	struct kmem_cache *s = kmem_cache_create("tune-me", 200, 0, SLAB_NO_MERGE, NULL);
	const char *bad[] = {
		"", "tune-me", "tune-me 10", "tune-me 10 5", "tune-me x 5 1",
		"tune-me 10 5 1 extra", "no-such-cache 10 5 1", "tune-me 0 1 1",
		"tune-me 10 0 1", "tune-me 10 11 1", "tune-me 10 5 -1",
	};
	int limit, batch, shared;
	void *o = kmem_cache_alloc(s, GFP_KERNEL);

	if (uslab_option_get("allocator") == 0) {	/* slub */
		CHECK_EQ(uslab_slabinfo_write("tune-me 10 5 1"), -EIO);
		CHECK_EQ(uslab_slabinfo_write("garbage"), -EIO);
		CHECK(tunables("tune-me", &limit, &batch, &shared));
		CHECK_EQ(limit, 0);
		CHECK_EQ(batch, 0);
		CHECK_EQ(shared, 0);
	} else {
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			int r = uslab_slabinfo_write(bad[i]);

			if (r != -EINVAL)
				printf("'%s' gave %d\n", bad[i], r);
			CHECK_EQ(r, -EINVAL);
		}
		CHECK_EQ(uslab_slabinfo_write("tune-me 10 5 1"), 0);
		CHECK(tunables("tune-me", &limit, &batch, &shared));
		CHECK_EQ(limit, 10);
		CHECK_EQ(batch, 5);
		CHECK_EQ(shared, 1);
		CHECK_EQ(uslab_slabinfo_write("tune-me 200 100 8\n"), 0);
		CHECK(tunables("tune-me", &limit, &batch, &shared));
		CHECK_EQ(limit, 200);
		tune_while_busy();
	}
	/* the cache works on */
	kmem_cache_free(s, o);
	for (int i = 0; i < 1000; i++) {
		void *p = kmem_cache_alloc(s, GFP_KERNEL);
		CHECK(p != NULL);
		kmem_cache_free(s, p);
	}
	kmem_cache_destroy(s);
	return test_done("slabinfo_write");
}
