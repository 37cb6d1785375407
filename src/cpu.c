// SPDX-License-Identifier: MIT
/*
 * cpu.c - per-thread cpu areas (see cpu.h for the model).
 *
 * Lifetime of an area: mapped by cpu_attach() on the thread's first slow
 * path, listed on `threads`, given back by the pthread key destructor when
 * the thread exits (its slots are flushed first, so no object is lost),
 * and dropped in a forked child for every thread that did not survive the
 * fork.  Attaching may re-enter the allocator (pthread_setspecific can
 * call calloc, and uslab may be calloc): the re-entered call sees
 * `attaching` and is served without a cpu area.
 */
#define _GNU_SOURCE
#include "cpu.h"

#include <string.h>


struct uslab_thread {
	struct list_head list;
	int tid;
};

char cpu_dummy_area[CPU_AREA_SIZE] __attribute__((aligned(4096)));
__thread char *uslab_cpu_area __attribute__((tls_model("initial-exec"))) = cpu_dummy_area;
static __thread int attaching __attribute__((tls_model("initial-exec")));
static __thread int detached __attribute__((tls_model("initial-exec")));

static pthread_mutex_t threads_lock = PTHREAD_MUTEX_INITIALIZER;
static struct list_head threads = LIST_HEAD_INIT(threads);
static void (*cpu_flush_area)(char *area);
/* CPU_AREA_SIZE, plus per-slot blocks after the slots if asked (stats.h). */
static size_t cpu_area_size = CPU_AREA_SIZE;
static size_t cpu_slot_extra;
static pthread_key_t cpu_key;
static bool cpu_key_ready;

/* Slot 0 is every area's thread header; caches use 1..CPU_SLOTS_MAX-1. */
static unsigned long slot_map[CPU_SLOTS_MAX / 64] = { 1 };

int cpu_slot_alloc(void)
{
	for (unsigned int w = 0; w < ARRAY_SIZE(slot_map); w++) {
		if (slot_map[w] == ~0UL)
			continue;
		unsigned int bit = (unsigned int)__builtin_ctzl(~slot_map[w]);

		slot_map[w] |= 1UL << bit;
		return (int)(w * 64 + bit);
	}
	return -1;
}

static void clear_slot_extra(char *area, void *arg)
{
	size_t slot = (size_t)(uintptr_t)arg;

	memset(area + CPU_AREA_SIZE + slot * cpu_slot_extra, 0, cpu_slot_extra);
}

/*
 * The slot's own bytes are left clear by the back end's flush; its
 * extra block (the counters) is cleared here, so the next cache to get
 * the slot starts from zero.  Under slab_mutex, as the allocation.
 */
void cpu_slot_free(int slot)
{
	if (cpu_slot_extra)
		cpu_for_each_area(clear_slot_extra, (void *)(uintptr_t)slot);
	slot_map[slot / 64] &= ~(1UL << (slot % 64));
}

static void cpu_exit(void *arg)
{
	(void)arg;
	cpu_detach_self();
}

/* Give this thread's cached objects back now; later calls run slot-less. */
void cpu_detach_self(void)
{
	char *area = uslab_cpu_area;
	struct uslab_thread *t = (struct uslab_thread *)area;

	if (area == cpu_dummy_area)
		return;
	detached = 1;
	cpu_flush_area(area);
	pthread_mutex_lock(&threads_lock);
	list_del(&t->list);
	pthread_mutex_unlock(&threads_lock);
	uslab_cpu_area = cpu_dummy_area;
	if (cpu_key_ready)
		pthread_setspecific(cpu_key, NULL);
	os_unmap(area, cpu_area_size);
}

/* Give this thread's cached objects back now, keeping its area. */
void cpu_flush_self(void)
{
	if (uslab_cpu_area != cpu_dummy_area)
		cpu_flush_area(uslab_cpu_area);
}

int cpu_attach(void)
{
	struct uslab_thread *t;
	char *area;

	if (attaching || detached || !cpu_flush_area)
		return -1;
	attaching = 1;
	area = os_map(cpu_area_size);
	if (!area) {
		attaching = 0;
		return -1;
	}
	t = (struct uslab_thread *)area;
	t->tid = os_gettid();
	pthread_mutex_lock(&threads_lock);
	list_add(&t->list, &threads);
	pthread_mutex_unlock(&threads_lock);
	uslab_cpu_area = area;
	if (cpu_key_ready)
		pthread_setspecific(cpu_key, area);
	attaching = 0;
	return 0;
}

void cpu_init(void (*flush)(char *area), size_t slot_extra)
{
	cpu_flush_area = flush;
	cpu_slot_extra = slot_extra;
	cpu_area_size = CPU_AREA_SIZE + (size_t)CPU_SLOTS_MAX * slot_extra;
	/* A stray write through the dummy area must fault, not corrupt. */
	os_protect_readonly(cpu_dummy_area, CPU_AREA_SIZE);
}

/*
 * cpu_register_exit - create the key whose destructor flushes an exiting
 * thread's area.  Called once the allocator is up, since creating and
 * setting the key may allocate.
 */
void cpu_register_exit(void)
{
	if (pthread_key_create(&cpu_key, cpu_exit))
		return;
	cpu_key_ready = true;
	if (cpu_attached())
		pthread_setspecific(cpu_key, uslab_cpu_area);
}

bool cpu_for_each_area(void (*fn)(char *area, void *arg), void *arg)
{
	struct uslab_thread *t;

	if (!stats_mutex_lock(&threads_lock))
		return false;
	list_for_each_entry(t, &threads, list)
		fn((char *)t, arg);
	pthread_mutex_unlock(&threads_lock);
	return true;
}

void cpu_fork_prepare(void)
{
	pthread_mutex_lock(&threads_lock);
}

void cpu_fork_parent(void)
{
	pthread_mutex_unlock(&threads_lock);
}

/*
 * In the child only the forking thread lives on: flush every other area
 * back into the caches, so the objects those threads had cached are not
 * lost to the child, and unmap them.
 */
void cpu_fork_child(void)
{
	struct uslab_thread *t, *tmp;
	char *self = uslab_cpu_area;

	pthread_mutex_init(&threads_lock, NULL);
	list_for_each_entry_safe(t, tmp, &threads, list) {
		if ((char *)t == self) {
			t->tid = os_gettid();
			continue;
		}
		cpu_flush_area((char *)t);
		list_del(&t->list);
		os_unmap(t, cpu_area_size);
	}
}
