/* SPDX-License-Identifier: MIT */
/*
 * cpu.h - the cpu layer: what "this CPU" means to the back ends.
 *
 * The kernel gives each cache a per-CPU structure and reaches it with
 * this_cpu_ptr() while preemption is off.  uslab gives each *thread* a cpu
 * area: CPU_SLOTS_MAX slots of 128 bytes, one per live cache (slot 0 holds
 * the thread's own header), reserved with one mapping and backed only
 * where a cache is used.  Only the owning thread touches its area, so the
 * owner's fast paths run without atomics, exactly as the kernel's run with
 * preemption off.  Other threads reach an area only through the thread
 * list under threads_lock, and only when the API contract says nobody is
 * using the cache (destroy) or the owner is gone (exit, fork).
 *
 * Until a thread first needs a slot its area pointer is the dummy area: a
 * zero-filled, read-only region whose slots say "no freelist, no slab", so
 * the fast paths fall to the slow path, which attaches the thread.
 *
 * What the back ends may assume.  They reach their slots only through
 * this_cpu_slot(), cpu_attach() and the walkers.  SLUB also assumes more
 * than a per-CPU layer gives: a slot's owner is a thread for as long as it
 * lives, because its owner-local frees (slub.c) compare a slab's owner
 * with this thread's area and push without atomics.  A true per-CPU layer
 * (rseq) could replace this file for the allocation and cpu-slab free
 * paths, but owner-local frees would have to become per-CPU-local frees
 * inside an rseq critical section, or go: that is the real commitment.
 */
#ifndef USLAB_CPU_H
#define USLAB_CPU_H

#include "internal.h"

#define CPU_SLOT_SIZE	128
#define CPU_SLOTS_MAX	65536
#define CPU_AREA_SIZE	((size_t)CPU_SLOTS_MAX * CPU_SLOT_SIZE)

extern __thread char *uslab_cpu_area __attribute__((tls_model("initial-exec"))) __hidden;
extern char cpu_dummy_area[CPU_AREA_SIZE] __hidden;

static __always_inline void *this_cpu_slot(unsigned int cpu_offset)
{
	return uslab_cpu_area + cpu_offset;
}

static inline bool cpu_attached(void)
{
	return uslab_cpu_area != cpu_dummy_area;
}

/* Give this thread a cpu area; 0, or -1 if it cannot have one now. */
int cpu_attach(void) __hidden;
/* Slot numbers for caches, under slab_mutex; -1 when all are taken. */
int cpu_slot_alloc(void) __hidden;
void cpu_slot_free(int slot) __hidden;
/*
 * Call @fn on every thread's area (ours included) under threads_lock;
 * false, without a call, only in a non-blocking snapshot (internal.h).
 */
bool cpu_for_each_area(void (*fn)(char *area, void *arg), void *arg) __hidden;
/*
 * @flush is called with an area whose owner is leaving (thread exit, or a
 * thread that did not survive fork) to give its cached objects back.
 * @slot_extra: bytes per slot kept after the CPU_SLOTS_MAX slots of every
 * area (0, or STAT_BLOCK_SIZE with the counters on: stats.h); only what
 * is touched is backed.
 */
void cpu_init(void (*flush)(char *area), size_t slot_extra) __hidden;
void cpu_register_exit(void) __hidden;
void cpu_detach_self(void) __hidden;
void cpu_flush_self(void) __hidden;
void cpu_fork_prepare(void) __hidden;
void cpu_fork_parent(void) __hidden;
void cpu_fork_child(void) __hidden;

#endif /* USLAB_CPU_H */
