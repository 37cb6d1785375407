// SPDX-License-Identifier: MIT
/*
 * page_retention.c - the page allocator's adaptive retention and its
 * cache of freed direct mappings (docs/page_alloc.md), through the public
 * API and uslab_page_stats().
 *
 *   churn      rounds of 24 MiB of page blocks allocated and freed with
 *              page_retain_mb = 4: the first round releases what is over
 *              the bound; the second faults it back in, which raises the
 *              bound; from then on no round releases anything.  uslab_trim()
 *              gives back every dirty page and sets the bound back, so the
 *              round after it releases again.
 *   mappings   a freed 6 MiB kvmalloc block is cached, not unmapped: not
 *              live (ksize 0, not owned), a second free of it is reported
 *              as a double free, and the next request of its size gets it
 *              back (same address, direct_reused + 1), cleared for
 *              kvzalloc, sized as asked; a request it would fit with too
 *              much to spare, or too big for the cache, gets a mapping of
 *              its own; uslab_trim() empties the cache.
 *   decay      (another process, page_decay_ms = 40) after the churn the
 *              raised bound and the cached mapping go back by themselves,
 *              driven by frees alone.
 *
 * Each part runs in a process of its own, forked before the allocator
 * starts, so each can set its own options.  The thread stays on one CPU,
 * so that with fake NUMA every block comes from one zone.  Nothing is
 * timed: the churn part runs with decay switched out of reach (an hour),
 * and the decay part only waits for a state, sleeping between frees, for
 * as many rounds as a loaded machine may need.
 */
#define _GNU_SOURCE
#include <uslab/slab.h>
#include <uslab/uslab.h>
#include <stdint.h>
#include <time.h>
#include "../test.h"
#include "../fork_part.h"

#define MiB		(1UL << 20)
#define PAGE		4096UL
#define RETAIN_MB	4
#define ROUND_MB	24
#define ORDER		4
#define NR_BLOCKS	(ROUND_MB * MiB / (PAGE << ORDER))
#define MAP_SIZE	(6 * MiB)
#define MAP_PAGES	(MAP_SIZE / PAGE + 1)	/* a header page in front */
/* Above KMALLOC_MAX_SIZE (4 MiB), but more than a quarter below MAP_SIZE. */
#define Q_SIZE		(4 * MiB + MiB / 2)
#define Q_PAGES		(Q_SIZE / PAGE + 1)

static unsigned long blocks[NR_BLOCKS];

static int hook_calls;
static char last_what[128];

static void hook(const char *what)
{
	hook_calls++;
	snprintf(last_what, sizeof(last_what), "%s", what);
}

static struct uslab_page_stats stats(void)
{
	struct uslab_page_stats st;

	uslab_page_stats(&st);
	return st;
}

static size_t base_bound(const struct uslab_page_stats *st)
{
	return (size_t)st->nr_nodes * (RETAIN_MB * MiB / PAGE);
}

/* One round: NR_BLOCKS blocks allocated (first page written), then freed. */
static void churn_round(void)
{
	for (unsigned int i = 0; i < NR_BLOCKS; i++) {
		blocks[i] = __get_free_pages(GFP_KERNEL, ORDER);
		CHECK(blocks[i] != 0);
		if (blocks[i])
			*(volatile char *)blocks[i] = 1;
	}
	for (unsigned int i = 0; i < NR_BLOCKS; i++)
		free_pages(blocks[i], ORDER);
}

static int all_zero(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i += sizeof(long))
		if (*(const long *)(p + i))
			return 0;
	return 1;
}

/* The JSON document shows the bound too (docs/observability.md). */
static void json_has_bound(size_t bound)
{
	static char json[1 << 20];
	char key[64];
	size_t n = uslab_stats_json(json, sizeof(json));

	CHECK(n < sizeof(json));
	snprintf(key, sizeof(key), "\"retain_bound_pages\":%zu,", bound);
	CHECK(strstr(json, key) != NULL);
	CHECK(strstr(json, "\"refaulted_pages\":") != NULL);
	CHECK(strstr(json, "\"direct_cached_pages\":") != NULL);
	CHECK(strstr(json, "\"direct_reused\":") != NULL);
}

/* ------------------------------------------------------------- churn */

static void churn(void)
{
	struct uslab_page_stats st;
	size_t released[6], trimmed;

	for (int r = 0; r < 6; r++) {
		churn_round();
		st = stats();
		released[r] = st.released;
		printf("churn round %d: released %zu pages, bound %zu, refaulted %zu, free dirty %zu\n",
		       r + 1, st.released, st.retain_bound, st.refaulted, st.free_dirty);
	}
	/* round 1 went over the 4 MiB bound and released the excess */
	CHECK(released[0] >= (ROUND_MB - RETAIN_MB) * MiB / PAGE);
	/* round 2 faulted it back in: the bound grew by as much */
	CHECK(st.refaulted >= (ROUND_MB - RETAIN_MB) * MiB / PAGE);
	CHECK(st.retain_bound >= base_bound(&st) + (ROUND_MB - RETAIN_MB) * MiB / PAGE);
	/* and from round 3 on nothing is released */
	for (int r = 2; r < 6; r++)
		CHECK_EQ(released[r], released[1]);
	CHECK(st.free_dirty >= ROUND_MB * MiB / PAGE);
	json_has_bound(st.retain_bound);

	/* uslab_trim() gives back everything and forgets the churn */
	trimmed = uslab_trim();
	st = stats();
	printf("trim: %zu bytes, free dirty %zu, bound %zu\n", trimmed, st.free_dirty, st.retain_bound);
	CHECK(trimmed >= (ROUND_MB - 1) * MiB);	/* the JSON's caches took a few pages */
	CHECK_EQ(st.free_dirty, 0);
	CHECK_EQ(st.retain_bound, base_bound(&st));

	/* so the next round is over the base bound again */
	churn_round();
	st = stats();
	CHECK(st.released >= released[5] + (ROUND_MB - RETAIN_MB) * MiB / PAGE);
	uslab_trim();
}

/* ---------------------------------------------------------- mappings */

static void mappings(void)
{
	struct uslab_page_stats st0, st;
	char *p, *q, *r, *big;

	st0 = stats();
	p = kvmalloc(MAP_SIZE, GFP_KERNEL);
	CHECK(p != NULL);
	if (!p)
		return;
	memset(p, 0xab, MAP_SIZE);
	CHECK_EQ(ksize(p), MAP_SIZE);
	kvfree(p);

	/* cached: its pages kept, but not a live block */
	st = stats();
	CHECK_EQ(st.direct_mapped, st0.direct_mapped);
	CHECK_EQ(st.direct_cached, st0.direct_cached + MAP_PAGES);
	CHECK_EQ(ksize(p), 0);
	CHECK(!uslab_owns(p));

	/* a second free is a double free */
	uslab_set_report_hook(hook, 1);
	kvfree(p);
	CHECK_EQ(hook_calls, 1);
	CHECK(strstr(last_what, "already free") != NULL);
	uslab_set_report_hook(NULL, 0);

	/* the same size again: the same mapping, no new one */
	q = kvmalloc(MAP_SIZE, GFP_KERNEL);
	st = stats();
	CHECK(q == p);
	CHECK_EQ(st.direct_reused, st0.direct_reused + 1);
	CHECK_EQ(st.direct_cached, st0.direct_cached);
	CHECK_EQ(st.direct_mapped, st0.direct_mapped + MAP_PAGES);
	CHECK_EQ(ksize(q), MAP_SIZE);
	CHECK(uslab_owns(q));
	kvfree(q);

	/* kvzalloc of a cached, written mapping reads as zeroes */
	r = kvzalloc(MAP_SIZE, GFP_KERNEL);
	CHECK(r == p);
	CHECK(r && all_zero(r, MAP_SIZE));
	CHECK_EQ(stats().direct_reused, st0.direct_reused + 2);
	kvfree(r);

	/* a smaller request it fits: handed out at the size asked */
	q = kvmalloc(MAP_SIZE - MiB + 1, GFP_KERNEL);
	CHECK(q == p);
	CHECK_EQ(ksize(q), MAP_SIZE - MiB + PAGE);
	CHECK_EQ(stats().direct_reused, st0.direct_reused + 3);
	kvfree(q);

	/* one it would fit with more than a quarter to spare: a mapping of its own */
	q = kvmalloc(Q_SIZE, GFP_KERNEL);
	CHECK(q != NULL && q != p);
	CHECK_EQ(stats().direct_reused, st0.direct_reused + 3);
	CHECK_EQ(stats().direct_cached, st0.direct_cached + MAP_PAGES);

	/* past twice page_retain_mb, a mapping is unmapped, not cached */
	big = kvmalloc(2 * RETAIN_MB * MiB, GFP_KERNEL);
	CHECK(big != NULL);
	kvfree(big);
	CHECK_EQ(stats().direct_cached, st0.direct_cached + MAP_PAGES);
	uslab_set_report_hook(hook, 1);
	kvfree(big);			/* still known as freed */
	CHECK_EQ(hook_calls, 2);
	uslab_set_report_hook(NULL, 0);

	/* the cache holds at most twice page_retain_mb: q evicts p */
	kvfree(q);
	st = stats();
	CHECK(st.direct_cached * PAGE <= 2 * RETAIN_MB * MiB);
	CHECK_EQ(st.direct_cached, Q_PAGES);

	/* uslab_trim() empties it */
	CHECK(uslab_trim() >= Q_SIZE);
	st = stats();
	CHECK_EQ(st.direct_cached, 0);
	CHECK_EQ(st.direct_mapped, st0.direct_mapped);
	uslab_set_report_hook(hook, 1);
	kvfree(q);			/* unmapped now, and still a double free */
	CHECK_EQ(hook_calls, 3);
	uslab_set_report_hook(NULL, 0);
}

/* ------------------------------------------------------------- decay */

static void decay(void)
{
	struct uslab_page_stats st;
	struct timespec pause = { 0, 15 * 1000 * 1000 };
	char *p;
	int rounds = 0, waits;

	/* churn until the bound has grown (ticks may take a step meanwhile) */
	do {
		churn_round();
		st = stats();
	} while (st.retain_bound <= base_bound(&st) && ++rounds < 20);
	CHECK(st.retain_bound > base_bound(&st));
	p = kvmalloc(MAP_SIZE, GFP_KERNEL);
	CHECK(p != NULL);
	if (p)
		memset(p, 1, MAP_SIZE);
	kvfree(p);
	CHECK_EQ(stats().direct_cached, MAP_PAGES);
	printf("decay: after %d rounds bound %zu pages (base %zu), free dirty %zu, cached %zu\n",
	       rounds + 1, st.retain_bound, base_bound(&st), st.free_dirty, (size_t)MAP_PAGES);

	/* now only frees, a pause before each: both go back by themselves */
	for (waits = 0; waits < 2000; waits++) {
		nanosleep(&pause, NULL);
		free_pages(__get_free_pages(GFP_KERNEL, 0), 0);
		st = stats();
		if (st.retain_bound == base_bound(&st) && st.direct_cached == 0)
			break;
	}
	printf("decay: after %d pauses bound %zu, free dirty %zu, cached %zu\n",
	       waits + 1, st.retain_bound, st.free_dirty, st.direct_cached);
	CHECK_EQ(st.retain_bound, base_bound(&st));
	CHECK(st.free_dirty <= base_bound(&st));
	CHECK_EQ(st.direct_cached, 0);
}

/* ------------------------------------------------------------- main */

struct part {
	long decay_ms;
	void (*fn)(void);
};

static void part_main(void *arg)
{
	const struct part *p = arg;

	CHECK_EQ(uslab_option_set("page_retain_mb", RETAIN_MB), 0);
	CHECK_EQ(uslab_option_set("page_decay_ms", p->decay_ms), 0);
	p->fn();
}

static int run_part(const char *name, long decay_ms, void (*fn)(void))
{
	struct part p = { decay_ms, fn };

	return test_part("page_retention", name, part_main, &p);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* the variants' own options (numa_nodes, the back end) stay in force */
	CHECK(run_part("churn", 3600000, churn));
	CHECK(run_part("mappings", 3600000, mappings));
	CHECK(run_part("decay", 40, decay));
	return test_done("page_retention");
}
