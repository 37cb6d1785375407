/* SPDX-License-Identifier: MIT */
/*
 * memory - what the allocator costs in resident memory.
 *
 *   memory/live      --objects objects of --size bytes (1M x 64 by
 *                    default) allocated and written: RSS growth per live
 *                    object, in bytes (the object itself included).
 *   memory/free90    90% of them freed in random order: RSS above the
 *                    starting point, in MiB.  Fragmentation keeps pages
 *                    that hold one survivor.
 *   memory/free_all  the rest freed too: what the allocator keeps cached.
 *   memory/trim      after B_TRIM(): uslab_trim() for uslab, malloc_trim
 *                    for glibc, the peers' own purge calls.
 *
 * RSS comes from /proc/self/statm.  The starting point is taken after the
 * harness has mapped and touched its own arrays and after one allocation
 * and free, so neither the harness nor the allocator's one-time set-up is
 * charged to the objects.  The MiB figures may be negative when the
 * allocator gives back more than that one-time set-up.
 */
#include "bench.h"
#include "balloc.h"

#define MIB (1024.0 * 1024.0)

int main(int argc, char **argv)
{
	bool smoke = b_smoke_requested(argc, argv), check = smoke;
	long objects = smoke ? 20000 : 1000000, size = 64;
	const struct b_opt opts[] = {
		{ "objects", B_OPT_LONG, &objects, "live objects (1000000)" },
		{ "size", B_OPT_LONG, &size, "object size in bytes (64)" },
		{ "check", B_OPT_FLAG, &check, "fill and verify every object (on with --smoke)" },
	};
	void **obj;
	uint32_t *order;
	uint64_t rng = 7;
	long base, live, after90, after_all, after_trim, nfree90;
	const char *trim_how;
	b_cache_t cache;
	void *warm;

	b_parse(argc, argv, opts, sizeof(opts) / sizeof(opts[0]));
	if (objects > UINT32_MAX)
		b_die("--objects: at most %u", UINT32_MAX);
	b_print_backend();

	obj = b_map((size_t)objects * sizeof(*obj));
	order = b_map((size_t)objects * sizeof(*order));
	for (long i = 0; i < objects; i++)
		order[i] = (uint32_t)i;
	for (long i = objects - 1; i > 0; i--) {
		long j = (long)b_rand_below(&rng, (uint64_t)i + 1);
		uint32_t t = order[i];

		order[i] = order[j];
		order[j] = t;
	}

	cache = B_CACHE_CREATE((size_t)size);
	warm = B_CACHE_ALLOC(cache);
	b_check_alloc(warm, size);
	B_CACHE_FREE(cache, warm);
	base = b_rss_bytes();

	for (long i = 0; i < objects; i++) {
		obj[i] = B_CACHE_ALLOC(cache);
		b_check_alloc(obj[i], size);
		b_touch(obj[i], (size_t)size, (uint64_t)i, check);
	}
	live = b_rss_bytes();

	nfree90 = objects - objects / 10;
	for (long k = 0; k < nfree90; k++) {
		uint32_t i = order[k];

		b_untouch(obj[i], (size_t)size, i, check, "memory");
		B_CACHE_FREE(cache, obj[i]);
		obj[i] = NULL;
	}
	after90 = b_rss_bytes();

	for (long k = nfree90; k < objects; k++) {
		uint32_t i = order[k];

		b_untouch(obj[i], (size_t)size, i, check, "memory");
		B_CACHE_FREE(cache, obj[i]);
	}
	after_all = b_rss_bytes();

	trim_how = B_TRIM();
	after_trim = b_rss_bytes();

	printf("INFO memory objects=%ld size=%ld base_rss=%ld trim=%s\n", objects, size,
	       base, trim_how);
	b_result("memory/live", "bytes_per_obj", (double)(live - base) / objects, true);
	b_result("memory/free90", "rss_mib", (after90 - base) / MIB, false);
	b_result("memory/free_all", "rss_mib", (after_all - base) / MIB, false);
	b_result("memory/trim", "rss_mib", (after_trim - base) / MIB, false);

	B_CACHE_DESTROY(cache);
	b_unmap(order, (size_t)objects * sizeof(*order));
	b_unmap(obj, (size_t)objects * sizeof(*obj));
	return b_exit_status();
}
