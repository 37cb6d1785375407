/* SPDX-License-Identifier: MIT */
/*
 * mix - random sizes over a working set, single-threaded.
 *
 *   mix/wsN   N slots start full of live objects; each operation picks a
 *             slot at random, frees its object and puts a new one of a
 *             random size there.  Reported in million operations (one
 *             free plus one allocation) per second.
 *
 * Sizes run from 8 to 4096 bytes, weighted toward small as real programs
 * are: a size class k in 0..8 is chosen with probability 2^-(k+1) (the
 * rest go to k = 8), then a size uniformly in [8 << k, 16 << k].  Half the
 * requests are 8..16 bytes, one in 256 is 2..4 KiB.  The random stream is
 * seeded the same for every allocator, so all see the same requests.
 *
 * Each new object has its first word written (all of it with --check), as
 * a program would.  Mixed sizes go through B_ALLOC: kmalloc for both uslab
 * builds.
 */
#include "bench.h"
#include "balloc.h"

struct slot {
	void *p;
	uint32_t size;
	uint64_t tag;
};

static size_t mix_size(uint64_t *rng)
{
	uint64_t r = b_rand(rng);
	unsigned k = (unsigned)__builtin_ctzll(r | (1ull << 8));
	size_t lo = (size_t)8 << k;

	return lo + (size_t)b_rand_below(rng, lo + 1);
}

static void slot_fill(struct slot *s, uint64_t *rng, uint64_t tag, bool check)
{
	s->size = (uint32_t)mix_size(rng);
	s->tag = tag;
	s->p = B_ALLOC(s->size);
	b_check_alloc(s->p, s->size);
	b_touch(s->p, s->size, tag, check);
}

static void slot_empty(struct slot *s, bool check)
{
	b_untouch(s->p, s->size, s->tag, check, "mix");
	B_FREE(s->p, s->size);
}

static void run(long ws, long ops, uint64_t seed, bool check)
{
	size_t bytes = (size_t)ws * sizeof(struct slot);
	struct slot *slots = b_map(bytes);
	uint64_t rng = seed, t0, t1;
	uint64_t sum = 0;
	char name[64];

	for (long i = 0; i < ws; i++)
		slot_fill(&slots[i], &rng, (uint64_t)i, check);

	t0 = b_now_ns();
	for (long i = 0; i < ops; i++) {
		struct slot *s = &slots[b_rand_below(&rng, (uint64_t)ws)];

		slot_empty(s, check);
		slot_fill(s, &rng, (uint64_t)(ws + i), check);
	}
	t1 = b_now_ns();

	for (long i = 0; i < ws; i++) {
		sum += slots[i].size;
		slot_empty(&slots[i], check);
	}
	b_unmap(slots, bytes);

	printf("INFO mix ws=%ld ops=%ld final_live_bytes=%llu\n", ws, ops,
	       (unsigned long long)sum);
	snprintf(name, sizeof(name), "mix/ws%ld", ws);
	b_result(name, "mops", ops / ((double)(t1 - t0) / 1e9) / 1e6, true);
}

int main(int argc, char **argv)
{
	bool smoke = b_smoke_requested(argc, argv), check = smoke;
	long ops = smoke ? 20000 : 5000000, seed = 42;
	struct b_list ws = { .n = 0 };
	const struct b_opt opts[] = {
		{ "ops", B_OPT_LONG, &ops, "operations per working set (5000000)" },
		{ "ws", B_OPT_LIST, &ws, "working-set sizes in objects (1000,100000)" },
		{ "seed", B_OPT_LONG, &seed, "random seed (42)" },
		{ "check", B_OPT_FLAG, &check, "fill and verify every object (on with --smoke)" },
	};

	b_list_set(&ws, smoke ? "100,1000" : "1000,100000");
	b_parse(argc, argv, opts, sizeof(opts) / sizeof(opts[0]));
	b_print_backend();
	for (int i = 0; i < ws.n; i++)
		run(ws.v[i], ops, (uint64_t)seed, check);
	return b_exit_status();
}
