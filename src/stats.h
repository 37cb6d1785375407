/* SPDX-License-Identifier: MIT */
/*
 * stats.h - the statistics counters of the back ends (the kernel's
 * SLUB_STATS stat() and SLAB's STATS_INC_*), for the back ends' slow paths
 * and their counting fast paths.
 *
 * Off by default (option slab_stats, or USLAB_STATS): the counting calls
 * in the slow paths then cost one predicted branch, and the fast paths are
 * not the counting ones at all (slab_fast.h dispatches to counting copies
 * out of line only when the counters are on), so their instruction counts
 * do not change.
 *
 * Where counts live.  Each thread counts into a block of SLAB_STAT_MAX
 * words per cache, placed after the slots of its cpu area (cpu.h), at
 * the cache's slot number: plain stores by the owner, no atomics, no
 * shared cache line.  A reader sums s->stat_global (the counts of threads
 * that have exited, folded in by stats_fold_area) and every live thread's
 * block.  The high-water items (the back end's stat_max_mask) live only in
 * s->stat_global and are raised with an atomic max.  A thread without a
 * cpu area counts into s->stat_global atomically.
 */
#ifndef USLAB_STATS_H
#define USLAB_STATS_H

#include "slab.h"
#include "cpu.h"

#define STAT_BLOCK_SIZE		(SLAB_STAT_MAX * sizeof(unsigned long))
/* The counters of every slot, after the slots, when the counters are on. */
#define STAT_AREA_SIZE		((size_t)CPU_SLOTS_MAX * STAT_BLOCK_SIZE)

extern bool slab_stats_enabled __hidden;

static __always_inline unsigned long *stat_block(char *area, const struct kmem_cache *s)
{
	return (unsigned long *)(area + CPU_AREA_SIZE + (size_t)s->cpu_id * STAT_BLOCK_SIZE);
}

/* Count @n of @item: only when the counters are known to be on. */
static __always_inline void stat_add_on(struct kmem_cache *s, unsigned int item, unsigned long n)
{
	if (likely(cpu_attached())) {
		unsigned long *b = stat_block(uslab_cpu_area, s);

		WRITE_ONCE(b[item], b[item] + n);
	} else {
		__atomic_fetch_add(&s->stat_global[item], n, __ATOMIC_RELAXED);
	}
}

/* stat() - the kernel's name: count one @item if the counters are on. */
static __always_inline void stat(struct kmem_cache *s, unsigned int item)
{
	if (unlikely(slab_stats_enabled))
		stat_add_on(s, item, 1);
}

static __always_inline void stat_add(struct kmem_cache *s, unsigned int item, unsigned long n)
{
	if (unlikely(slab_stats_enabled))
		stat_add_on(s, item, n);
}

/* Raise the high-water @item to @v. */
static inline void stat_max(struct kmem_cache *s, unsigned int item, unsigned long v)
{
	unsigned long old;

	if (likely(!slab_stats_enabled))
		return;
	old = __atomic_load_n(&s->stat_global[item], __ATOMIC_RELAXED);
	while (old < v && !__atomic_compare_exchange_n(&s->stat_global[item], &old, v, true,
						       __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* stats_spin_lock(), for the back ends' get_info, is in internal.h. */

/* Sum the counters of @s into @out[SLAB_STAT_MAX] (under slab_mutex). */
void stats_read(struct kmem_cache *s, unsigned long *out) __hidden;
/* A thread leaves (@area): fold its counters into every cache's stat_global. */
void stats_fold_area(char *area) __hidden;
/* At start-up (init.c): whether the counters are on (before the cpu layer). */
void stats_init(void) __hidden;
/* Once the allocator is up: the exit report and the viewers' signal handler. */
void stats_init_late(void) __hidden;
/* In a forked child (slab_common's fork handler). */
void stats_fork_child(void) __hidden;

#endif /* USLAB_STATS_H */
