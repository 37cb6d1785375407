// SPDX-License-Identifier: MIT
/*
 * slab_targets.c - the core issue's memory targets, measured:
 *   4M live 64-byte objects: RSS overhead over the payload (target <= 15%);
 *   after freeing them all, RSS above the start without any call
 *   (target <= max(32 MiB, peak / 4)); after kmem_cache_shrink + uslab_trim
 *   (target <= 8 MiB); 1M live 40-byte objects in a dedicated cache:
 *   bytes of RSS per object (target <= 41).
 * Prints RESULT lines like the other benchmarks; --smoke runs small counts.
 */
#include <uslab/uslab.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long rss(void)
{
	char b[128];
	long a = 0, r = 0;
	int fd = open("/proc/self/statm", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, b, sizeof(b) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	b[n] = '\0';
	sscanf(b, "%ld %ld", &a, &r);
	return r * sysconf(_SC_PAGESIZE);
}

int main(int argc, char **argv)
{
	int smoke = argc > 1 && !strcmp(argv[1], "--smoke");
	size_t n64 = smoke ? 1u << 14 : 4u << 20, n40 = smoke ? 1u << 12 : 1u << 20;
	void **v = malloc(n64 * sizeof(void *));
	const double mib = 1048576.0;

	kmem_cache_init();
	/* touch the pointer array now, with non-zero values (not calloc-able) */
	for (size_t i = 0; i < n64; i++)
		v[i] = (void *)(i | 1);

	struct kmem_cache *s = kmem_cache_create("obj64", 64, 0, SLAB_NO_MERGE, NULL);
	long start = rss();
	for (size_t i = 0; i < n64; i++) {
		v[i] = kmem_cache_alloc(s, GFP_KERNEL);
		if (!v[i])
			return 2;
		*(size_t *)v[i] = i;
	}
	long peak = rss() - start;
	double payload = 64.0 * (double)n64;
	for (size_t i = 0; i < n64; i++)
		if (*(size_t *)v[i] != i)
			return 3;
	for (size_t i = 0; i < n64; i++)
		kmem_cache_free(s, v[i]);
	long after_free = rss() - start;
	kmem_cache_shrink(s);
	uslab_trim();
	long after_trim = rss() - start;

	struct kmem_cache *t = kmem_cache_create("obj40", 40, 0, SLAB_NO_MERGE, NULL);
	long before40 = rss();
	for (size_t i = 0; i < n40; i++) {
		v[i] = kmem_cache_alloc(t, GFP_KERNEL);
		if (!v[i])
			return 2;
		*(size_t *)v[i] = i;
	}
	double per40 = (double)(rss() - before40) / (double)n40;

	printf("RESULT targets 64B_overhead_pct %.2f\n", 100.0 * ((double)peak - payload) / payload);
	printf("RESULT targets after_free_mib %.2f\n", after_free / mib);
	printf("RESULT targets after_free_bound_mib %.2f\n",
	       (peak / 4.0 > 32 * mib ? peak / 4.0 : 32 * mib) / mib);
	printf("RESULT targets after_trim_mib %.2f\n", after_trim / mib);
	printf("RESULT targets 40B_bytes_per_object %.2f\n", per40);
	for (size_t i = 0; i < n40; i++)
		kmem_cache_free(t, v[i]);
	kmem_cache_destroy(t);
	kmem_cache_destroy(s);
	free(v);
	return uslab_error_count() ? 1 : 0;
}
