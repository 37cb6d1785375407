/* SPDX-License-Identifier: MIT */
/*
 * slab_test - Christoph Lameter's slab_test kernel module, in userspace.
 *
 * For every power-of-two size from 8 to 16384:
 *
 *   slab/alloc/SIZE  --count allocations in a row (the module's 10000),
 *   slab/free/SIZE   then the --count frees, in the order allocated;
 *   slab/pair/SIZE   --count alloc/free pairs, each object going straight
 *                    back: the allocator's hottest path.
 *
 * The module prints cycles per operation from get_cycles(); here each
 * test reports nanoseconds per operation from CLOCK_MONOTONIC, and TSC
 * ticks per operation where the TSC is readable.  Each test runs --reps
 * times and the median is printed: the first repetition faults in fresh
 * memory, the median is the steady state a long-running program sees.
 *
 * Objects come from B_CACHE_*: a kmem_cache per size for the kmem_cache
 * build, kmalloc or malloc of that size for the others.  The timed loops
 * do not touch the objects (the module does not either); with --check the
 * objects are filled and verified outside the timed loops.
 */
#include "bench.h"
#include "balloc.h"

struct timing {
	double *ns;
	double *cycles;
};

static void report(const char *test, long size, struct timing *t, long reps,
		   bool tsc)
{
	char name[64];

	snprintf(name, sizeof(name), "slab/%s/%ld", test, size);
	b_result(name, "ns_per_op", b_median(t->ns, (size_t)reps), true);
	if (tsc)
		b_result(name, "cycles_per_op", b_median(t->cycles, (size_t)reps), true);
}

int main(int argc, char **argv)
{
	bool smoke = b_smoke_requested(argc, argv), check = smoke;
	long count = smoke ? 100 : 10000;
	long reps = smoke ? 2 : 11;
	long min_size = 8, max_size = 16384;
	const struct b_opt opts[] = {
		{ "count", B_OPT_LONG, &count, "objects per test (10000)" },
		{ "reps", B_OPT_LONG, &reps, "repetitions, median reported (11)" },
		{ "min-size", B_OPT_LONG, &min_size, "smallest size (8)" },
		{ "max-size", B_OPT_LONG, &max_size, "largest size (16384)" },
		{ "check", B_OPT_FLAG, &check, "fill and verify every object (on with --smoke)" },
	};
	bool tsc = b_tsc_usable();
	void **obj;
	struct timing ta, tf, tp;

	b_parse(argc, argv, opts, sizeof(opts) / sizeof(opts[0]));
	b_print_backend();
	printf("INFO slab_test count=%ld reps=%ld sizes=%ld..%ld tsc=%s check=%d\n",
	       count, reps, min_size, max_size, tsc ? "yes" : "no", check);

	obj = b_map((size_t)count * sizeof(*obj));
	ta.ns = b_map((size_t)reps * sizeof(double) * 6);
	ta.cycles = ta.ns + reps;
	tf.ns = ta.cycles + reps;
	tf.cycles = tf.ns + reps;
	tp.ns = tf.cycles + reps;
	tp.cycles = tp.ns + reps;

	for (long size = min_size; size <= max_size; size *= 2) {
		b_cache_t cache = B_CACHE_CREATE((size_t)size);

		for (long r = 0; r < reps; r++) {
			uint64_t t0, t1, c0, c1;

			t0 = b_now_ns();
			c0 = b_tsc();
			for (long i = 0; i < count; i++) {
				obj[i] = B_CACHE_ALLOC(cache);
				b_escape(obj[i]);
			}
			c1 = b_tsc();
			t1 = b_now_ns();
			ta.ns[r] = (double)(t1 - t0) / count;
			ta.cycles[r] = (double)(c1 - c0) / count;

			for (long i = 0; i < count; i++)
				b_check_alloc(obj[i], size);
			if (check) {
				for (long i = 0; i < count; i++)
					b_fill(obj[i], (size_t)size, (uint64_t)i);
				for (long i = 0; i < count; i++)
					b_verify(obj[i], (size_t)size, (uint64_t)i, "slab_test");
			}

			t0 = b_now_ns();
			c0 = b_tsc();
			for (long i = 0; i < count; i++)
				B_CACHE_FREE(cache, obj[i]);
			c1 = b_tsc();
			t1 = b_now_ns();
			tf.ns[r] = (double)(t1 - t0) / count;
			tf.cycles[r] = (double)(c1 - c0) / count;

			t0 = b_now_ns();
			c0 = b_tsc();
			for (long i = 0; i < count; i++) {
				void *p = B_CACHE_ALLOC(cache);

				b_escape(p);
				if (check) {
					b_check_alloc(p, size);
					b_fill(p, (size_t)size, (uint64_t)i);
					b_verify(p, (size_t)size, (uint64_t)i, "slab_test pair");
				}
				B_CACHE_FREE(cache, p);
			}
			c1 = b_tsc();
			t1 = b_now_ns();
			tp.ns[r] = (double)(t1 - t0) / count;
			tp.cycles[r] = (double)(c1 - c0) / count;
		}
		B_CACHE_DESTROY(cache);

		report("alloc", size, &ta, reps, tsc);
		report("free", size, &tf, reps, tsc);
		report("pair", size, &tp, reps, tsc);
	}

	b_unmap(ta.ns, (size_t)reps * sizeof(double) * 6);
	b_unmap(obj, (size_t)count * sizeof(*obj));
	return b_exit_status();
}
