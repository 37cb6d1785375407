/* SPDX-License-Identifier: MIT */
/*
 * fastpath - the allocator's fast paths, for counting instructions under
 * callgrind, where the count does not depend on how noisy the machine is:
 *
 *   valgrind --tool=callgrind --toggle-collect=bench_fastpath_pair \
 *       ./bench_fastpath_malloc --mode pair --pairs 100000
 *
 * collects only inside bench_fastpath_pair(), which does exactly --pairs
 * alloc/free pairs of --size bytes (64); the instructions it reports over
 * --pairs are the instructions per pair, loop overhead (a few) included.
 * --mode batch does the same work in batches of --batch (100) allocations
 * followed by their frees, in bench_fastpath_batch(), so the freelist is
 * walked rather than one object bouncing.  Before the collected call a
 * warm-up of --warmup pairs in the same pattern resolves the PLT entries,
 * sets up the allocator and the thread's caches, and fills the slabs.
 *
 * Run natively it prints nanoseconds per pair (RESULT fastpath/MODE
 * ns_per_op), which is what the smoke test checks; the benchmark driver
 * runs it under callgrind and reports instr_per_pair instead.
 */
#include "bench.h"
#include "balloc.h"

static b_cache_t cache;
static long opt_size = 64, opt_batch = 100;
static bool opt_check;
static void **batch_obj;

static inline void pair_loop(long pairs)
{
	for (long i = 0; i < pairs; i++) {
		void *p = B_CACHE_ALLOC(cache);

		b_escape(p);
		if (opt_check) {
			b_check_alloc(p, opt_size);
			b_fill(p, (size_t)opt_size, (uint64_t)i);
			b_verify(p, (size_t)opt_size, (uint64_t)i, "fastpath pair");
		}
		B_CACHE_FREE(cache, p);
	}
}

static inline void batch_loop(long pairs)
{
	for (long done = 0; done < pairs; done += opt_batch) {
		long n = pairs - done < opt_batch ? pairs - done : opt_batch;

		for (long i = 0; i < n; i++) {
			batch_obj[i] = B_CACHE_ALLOC(cache);
			b_escape(batch_obj[i]);
		}
		if (opt_check) {
			for (long i = 0; i < n; i++) {
				b_check_alloc(batch_obj[i], opt_size);
				b_fill(batch_obj[i], (size_t)opt_size, (uint64_t)i);
			}
			for (long i = 0; i < n; i++)
				b_verify(batch_obj[i], (size_t)opt_size, (uint64_t)i,
					 "fastpath batch");
		}
		for (long i = 0; i < n; i++)
			B_CACHE_FREE(cache, batch_obj[i]);
	}
}

/*
 * The measured functions are global, noinline and noclone so that
 * callgrind's --toggle-collect finds them by their plain names; the
 * warm-up runs the same loops from other functions, outside collection.
 */
void bench_fastpath_pair(long pairs);
void bench_fastpath_batch(long pairs);

B_NOINLINE void bench_fastpath_pair(long pairs)
{
	pair_loop(pairs);
}

B_NOINLINE void bench_fastpath_batch(long pairs)
{
	batch_loop(pairs);
}

static B_NOINLINE void warm_pair(long pairs)
{
	pair_loop(pairs);
}

static B_NOINLINE void warm_batch(long pairs)
{
	batch_loop(pairs);
}

int main(int argc, char **argv)
{
	bool smoke = b_smoke_requested(argc, argv);
	long pairs = smoke ? 10000 : 1000000, warmup = 10000;
	const char *mode = "pair";
	const struct b_opt opts[] = {
		{ "mode", B_OPT_STR, &mode, "pair or batch (pair)" },
		{ "pairs", B_OPT_LONG, &pairs, "measured alloc/free pairs (1000000)" },
		{ "warmup", B_OPT_LONG, &warmup, "pairs before the measured call (10000)" },
		{ "size", B_OPT_LONG, &opt_size, "object size (64)" },
		{ "batch", B_OPT_LONG, &opt_batch, "batch mode: objects per batch (100)" },
		{ "check", B_OPT_FLAG, &opt_check, "fill and verify every object (on with --smoke)" },
	};
	void (*fn)(long), (*warm)(long);
	uint64_t t0, t1;
	char name[64];

	opt_check = smoke;
	b_parse(argc, argv, opts, sizeof(opts) / sizeof(opts[0]));
	if (strcmp(mode, "pair") == 0) {
		fn = bench_fastpath_pair;
		warm = warm_pair;
	} else if (strcmp(mode, "batch") == 0) {
		fn = bench_fastpath_batch;
		warm = warm_batch;
	} else {
		b_die("--mode: pair or batch, not '%s'", mode);
	}
	b_print_backend();
	printf("INFO fastpath mode=%s pairs=%ld warmup=%ld size=%ld batch=%ld\n", mode,
	       pairs, warmup, opt_size, opt_batch);
	fflush(stdout);

	batch_obj = b_map((size_t)opt_batch * sizeof(*batch_obj));
	cache = B_CACHE_CREATE((size_t)opt_size);
	warm(warmup);
	t0 = b_now_ns();
	fn(pairs);
	t1 = b_now_ns();
	B_CACHE_DESTROY(cache);
	b_unmap(batch_obj, (size_t)opt_batch * sizeof(*batch_obj));

	snprintf(name, sizeof(name), "fastpath/%s", mode);
	b_result(name, "ns_per_op", (double)(t1 - t0) / pairs, true);
	return b_exit_status();
}
