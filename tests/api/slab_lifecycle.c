// SPDX-License-Identifier: MIT
/*
 * slab_lifecycle.c - what happens to slabs between batches, on either
 * back end (docs/slub.md, "Empty slabs" and "Owner-local frees"):
 *
 *   integrity  rounds of 20000 objects allocated, each filled with its
 *              own address, then freed in a shuffled order (so that
 *              frees land on cpu slabs, frozen slabs' local lists and
 *              other slabs alike): every object comes back intact, no
 *              object is handed out twice within a round, and
 *              uslab_validate() finds nothing; the other parts free in
 *              the order of allocation, as a batch does;
 *   keep       (SLUB) once a batch has churned (its slabs given back and
 *              allocated again), the slabs it empties are kept with their
 *              freelists built: the next rounds allocate and free no slab
 *              and reuse the kept ones (alloc_slab, free_slab,
 *              empty_reuse);
 *              slabinfo counts them as free objects;
 *   bound      (SLUB) slub_empty_max_kb=64 keeps at most 64 KiB of them;
 *   decay      (SLUB, page_decay_ms=500) after two batches of 150 slabs'
 *              worth, a quarter batch another thread allocated, freed
 *              after a pause, leaves at most half of the kept slabs: the
 *              surplus over the halved bound is given back, not only the
 *              slabs that empty;
 *   pressure   (page_limit_mb=16) a cache that allocates until it is
 *              refused takes the slabs another cache kept (SLUB: none of
 *              them is left kept);
 *   shrink     kmem_cache_shrink() gives every free slab back (both back
 *              ends): slabinfo shows no objects at all afterwards.  (Before
 *              it, objects in the thread's arrays count as active, as in
 *              the kernel.)
 *
 * Each part runs in a process of its own, forked before the allocator
 * starts, so that each sets its own options; the variants' options stay.
 * Nothing is timed: the decay part sleeps for twice the decay period
 * between a batch's allocations and its frees, and then asks for the
 * state once.
 */
#define _GNU_SOURCE
#include <uslab/slab.h>
#include <uslab/uslab.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include "../test.h"
#include "../fork_part.h"

#define NR		20000
#define OBJ		64
#define DECAY_MS	500

static void **objs, **sorted;	/* room for NR, or more (decay) */
static unsigned long long rng;

static unsigned long rnd(void)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned long)(rng >> 33);
}

static bool is_slub(void)
{
	return !strcmp(uslab_allocator(), "slub");
}

/* Field @field (0: active objects, 1: all objects, 3: per slab) of @name's slabinfo line. */
static unsigned long slabinfo_field(const char *name, int field)
{
	static char buf[1 << 17];
	char key[64];
	unsigned long v[4] = { ~0UL, ~0UL, ~0UL, ~0UL };
	const char *l;

	uslab_slabinfo(buf, sizeof(buf));
	snprintf(key, sizeof(key), "\n%s ", name);
	l = strstr(buf, key);
	if (l)
		sscanf(l + strlen(key), "%lu %lu %lu %lu", &v[0], &v[1], &v[2], &v[3]);
	return v[field];
}

/* Free objects @name's slabs hold, in slabs' worth. */
static unsigned long free_slabs(const char *name)
{
	return (slabinfo_field(name, 1) - slabinfo_field(name, 0)) / slabinfo_field(name, 3);
}

/* Counter @counter of cache @name in uslab_stats_json(); -1 if it is not there. */
static long counter(const char *name, const char *counter)
{
	static char doc[1 << 20];
	char key[128];
	const char *p, *end;

	uslab_stats_json(doc, sizeof(doc));
	snprintf(key, sizeof(key), "{\"name\":\"%s\",", name);
	p = strstr(doc, key);
	if (!p)
		return -1;
	end = strstr(p, "}}");
	snprintf(key, sizeof(key), "\"%s\":", counter);
	p = strstr(p, key);
	if (!p || (end && p > end))
		return -1;
	return strtol(p + strlen(key), NULL, 10);
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

/* Allocate @nr objects, fill each with its own address; none handed out twice. */
static void alloc_batch(struct kmem_cache *s, unsigned int nr)
{
	for (unsigned int i = 0; i < nr; i++) {
		objs[i] = kmem_cache_alloc(s, GFP_KERNEL);
		CHECK(objs[i]);
		if (!objs[i])
			exit(1);
		for (unsigned int w = 0; w < OBJ / sizeof(uintptr_t); w++)
			((uintptr_t *)objs[i])[w] = (uintptr_t)objs[i] ^ w;
	}
	memcpy(sorted, objs, nr * sizeof(*objs));
	qsort(sorted, nr, sizeof(*sorted), cmp_ptr);
	for (unsigned int i = 1; i < nr; i++)
		CHECK(sorted[i] != sorted[i - 1]);
}

/*
 * Check and free the @nr objects of alloc_batch(): in a shuffled order
 * (@shuffle), or in the order they came, as a batch does (the shuffle
 * leaves the last frees, in the arrays, pinning slabs all over).
 */
static void free_batch(struct kmem_cache *s, unsigned int nr, bool shuffle)
{
	for (unsigned int i = nr - 1; shuffle && i > 0; i--) {
		unsigned int j = (unsigned int)(rnd() % (i + 1));
		void *t = objs[i];

		objs[i] = objs[j];
		objs[j] = t;
	}
	for (unsigned int i = 0; i < nr; i++) {
		bool intact = true;

		for (unsigned int w = 0; w < OBJ / sizeof(uintptr_t); w++)
			intact &= ((uintptr_t *)objs[i])[w] == ((uintptr_t)objs[i] ^ w);
		CHECK(intact);
		kmem_cache_free(s, objs[i]);
	}
}

static void round_of(struct kmem_cache *s, unsigned int nr, bool shuffle)
{
	alloc_batch(s, nr);
	free_batch(s, nr, shuffle);
}

static struct kmem_cache *new_cache(const char *name)
{
	struct kmem_cache *s = kmem_cache_create(name, OBJ, 0, SLAB_NO_MERGE, NULL);

	CHECK(s);
	return s;
}

static void shrink_all(struct kmem_cache *s, const char *name)
{
	kmem_cache_shrink(s);
	CHECK_EQ(slabinfo_field(name, 0), 0);
	CHECK_EQ(slabinfo_field(name, 1), 0);
}

static void integrity(void)
{
	struct kmem_cache *s = new_cache("lc-integrity");

	for (int r = 0; r < 4; r++) {
		round_of(s, NR - (unsigned int)r * 3000, true);
		CHECK_EQ(uslab_validate(s), 0);
	}
	shrink_all(s, "lc-integrity");
	CHECK_EQ(uslab_error_count(), 0);
	kmem_cache_destroy(s);
}

static void keep(void)
{
	struct kmem_cache *s = new_cache("lc-keep");
	long slabs, reuse, freed;
	unsigned long kept;

	round_of(s, NR, false);
	slabs = counter("lc-keep", is_slub() ? "alloc_slab" : "grown");
	CHECK(slabs > 0);
	if (!is_slub()) {
		/* SLAB keeps free slabs its own way (free_limit): only the rest applies */
		round_of(s, NR, false);
		shrink_all(s, "lc-keep");
		kmem_cache_destroy(s);
		return;
	}
	CHECK_EQ(counter("lc-keep", "empty_keep"), 0);	/* no churn seen yet */
	round_of(s, NR, false);				/* churns: the bound rises */
	CHECK(counter("lc-keep", "empty_keep") > 0);
	kept = free_slabs("lc-keep");
	CHECK(kept >= (unsigned long)slabs / 2);
	slabs = counter("lc-keep", "alloc_slab");
	reuse = counter("lc-keep", "empty_reuse");
	freed = counter("lc-keep", "free_slab");
	for (int r = 0; r < 3; r++)
		round_of(s, NR, false);
	printf("keep: %ld slabs, %lu kept; then alloc_slab +%ld, empty_reuse +%ld, empty_keep %ld\n",
	       slabs, kept, counter("lc-keep", "alloc_slab") - slabs,
	       counter("lc-keep", "empty_reuse") - reuse, counter("lc-keep", "empty_keep"));
	/* a slab or two may move between a sheaf, the cpu slab and the lists */
	CHECK(counter("lc-keep", "alloc_slab") - slabs <= 2);
	CHECK(counter("lc-keep", "free_slab") - freed <= 2);
	CHECK(counter("lc-keep", "empty_reuse") - reuse >= 3 * (long)kept / 2);
	CHECK_EQ(uslab_validate(s), 0);
	shrink_all(s, "lc-keep");
	/* the bound went back to 0 with the shrink: the next round keeps none */
	reuse = counter("lc-keep", "empty_keep");
	round_of(s, NR, false);
	CHECK_EQ(counter("lc-keep", "empty_keep"), reuse);
	kmem_cache_destroy(s);
}

static void bound(void)
{
	struct kmem_cache *s = new_cache("lc-bound");
	unsigned long per_slab_kb;

	for (int r = 0; r < 4; r++)
		round_of(s, NR, false);
	if (is_slub()) {
		/* 64 KiB of kept slabs, min_partial (at most 10) on the partial list, a few in flight */
		per_slab_kb = slabinfo_field("lc-bound", 3) * OBJ / 1024;
		CHECK(free_slabs("lc-bound") <= 64 / (per_slab_kb ? per_slab_kb : 1) + 10 + 4);
		CHECK(counter("lc-bound", "empty_keep") > 0);
	}
	shrink_all(s, "lc-bound");
	kmem_cache_destroy(s);
}

/*
 * The objects in @slabs slabs of cache @name, with room made for them;
 * the caller has set slub_empty_max_kb high enough that a batch of 150
 * slabs, in any variant's order, may be kept.
 */
static unsigned int batch_of_slabs(const char *name, unsigned int slabs)
{
	unsigned int nr = slabs * (unsigned int)slabinfo_field(name, 3);

	if (nr > NR) {
		objs = realloc(objs, nr * sizeof(*objs));
		sorted = realloc(sorted, nr * sizeof(*sorted));
		CHECK(objs && sorted);
		if (!objs || !sorted)
			exit(1);
	}
	return nr;
}

struct batch {
	struct kmem_cache *s;
	unsigned int nr;
};

static void *alloc_thread(void *arg)
{
	struct batch *b = arg;

	alloc_batch(b->s, b->nr);
	return NULL;
}

static void decay(void)
{
	struct batch quarter;
	pthread_t t;
	struct timespec pause = { 2 * DECAY_MS / 1000, (2 * DECAY_MS % 1000) * 1000000L };
	struct kmem_cache *s;
	unsigned long kept;
	unsigned int nr;

	CHECK_EQ(uslab_option_set("slub_empty_max_kb", 1 << 20), 0);
	s = new_cache("lc-decay");
	nr = batch_of_slabs("lc-decay", 150);
	round_of(s, nr, false);
	round_of(s, nr, false);
	kept = free_slabs("lc-decay");
	/*
	 * A quarter of the batch allocated by a thread that then exits (so
	 * that its slabs are on the node lists, not frozen on this thread's
	 * chain), the pause, then the frees here: they empty slabs, and the
	 * first that empties finds the decay due, halves the bound and gives
	 * back the kept slabs over it, which the allocations left on the
	 * list.  (The pause comes after the allocations: a new slab
	 * allocated while slabs were given back lately restarts the decay
	 * period.)
	 */
	quarter.s = s;
	quarter.nr = nr / 4;
	CHECK_EQ(pthread_create(&t, NULL, alloc_thread, &quarter), 0);
	CHECK_EQ(pthread_join(t, NULL), 0);
	nanosleep(&pause, NULL);
	free_batch(s, nr / 4, false);
	printf("decay: %lu slabs' worth free before, %lu after\n", kept, free_slabs("lc-decay"));
	if (is_slub()) {
		CHECK(kept >= 100);
		/* half of the bound, plus min_partial and a few in flight */
		CHECK(free_slabs("lc-decay") <= kept / 2 + 10 + 4);
	}
	shrink_all(s, "lc-decay");
	kmem_cache_destroy(s);
}

/*
 * Under page_limit_mb, one cache's kept slabs must not starve another:
 * when a slab allocation is refused, every cache's kept slabs go back and
 * the allocation is tried once more.
 */
static void pressure(void)
{
	struct kmem_cache *a, *b;
	unsigned long kept, got = 0;
	unsigned int nr;
	void **mine;

	CHECK_EQ(uslab_option_set("slub_empty_max_kb", 1 << 20), 0);
	a = new_cache("lc-keeper");
	b = new_cache("lc-hungry");
	CHECK(a && b);
	nr = batch_of_slabs("lc-keeper", 150);	/* 9.6 MiB of slabs in order_big */
	round_of(a, nr, false);
	round_of(a, nr, false);		/* churned: its slabs are kept */
	kept = free_slabs("lc-keeper");
	/* b takes everything the limit leaves; pointers kept in b's own objects */
	mine = NULL;
	for (;;) {
		void **p = kmem_cache_alloc(b, GFP_KERNEL | __GFP_NOWARN);

		if (!p)
			break;
		*p = mine;
		mine = p;
		got++;
	}
	printf("pressure: %lu slabs' worth kept by one cache, %lu after another took %lu objects\n",
	       kept, free_slabs("lc-keeper"), got);
	CHECK(got > 0);
	if (is_slub()) {
		CHECK(kept >= 100);
		CHECK(free_slabs("lc-keeper") <= 10 + 4);	/* min_partial, a few in flight */
	}
	while (mine) {
		void **next = *mine;

		kmem_cache_free(b, mine);
		mine = next;
	}
	shrink_all(a, "lc-keeper");
	shrink_all(b, "lc-hungry");
	kmem_cache_destroy(a);
	kmem_cache_destroy(b);
}

struct part {
	void (*fn)(void);
	const char *opt;	/* an option of the part's own, or NULL */
	long val;
};

static void part_main(void *arg)
{
	const struct part *p = arg;
	bool decay = p->opt && !strcmp(p->opt, "page_decay_ms");

	objs = malloc(NR * sizeof(*objs));
	sorted = malloc(NR * sizeof(*sorted));
	CHECK(objs && sorted);
	CHECK_EQ(uslab_option_set("slab_stats", 1), 0);
	/* no decay unless the part asks: a loaded machine must not bring it on */
	CHECK_EQ(uslab_option_set("page_decay_ms", decay ? p->val : 3600000), 0);
	if (p->opt && !decay)
		CHECK_EQ(uslab_option_set(p->opt, p->val), 0);
	p->fn();
}

static int run_part(const char *name, void (*fn)(void), const char *opt, long val)
{
	struct part p = { fn, opt, val };

	return test_part("slab_lifecycle", name, part_main, &p);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	rng = test_seed("slab_lifecycle", 0x51ab);
	CHECK(run_part("integrity", integrity, NULL, 0));
	CHECK(run_part("keep", keep, NULL, 0));
	CHECK(run_part("bound", bound, "slub_empty_max_kb", 64));
	CHECK(run_part("decay", decay, "page_decay_ms", DECAY_MS));
	CHECK(run_part("pressure", pressure, "page_limit_mb", 16));
	return test_done("slab_lifecycle");
}
