// SPDX-License-Identifier: MIT
/*
 * init.c - the one start-up path (the kernel's mm_init / kmem_cache_init
 * order), and the process-wide hooks that hang off it.
 *
 * 1. Order.  uslab_init() brings the layers up bottom first, once, under
 *    init_lock:
 *      options            USLAB_* from the environment (options.c)
 *      page allocator     zones (it also starts itself when called first)
 *      back end choice    USLAB_ALLOCATOR
 *      statistics         USLAB_SLAB_STATS, USLAB_STATS: the counters, and
 *                         with them the counting fast paths (stats.c)
 *      cpu layer          the thread-exit flush callback (cpu.c)
 *      slab layer         back-end bootstrap, kmalloc caches, late init
 *                         (slab_state DOWN -> ... -> UP)
 *      fast-path hooks    valgrind / ASan (sanitize.c), failslab (failslab.c):
 *                         after the bootstrap, which they never see
 *      call traces        the first backtrace(), which allocates
 *      thread exit        the pthread key whose destructor flushes a thread
 *    then slab_state FULL, and the stats signal handler (stats.c).  No
 *    layer starts a layer above it: the page allocator never calls in
 *    here.
 *
 * 2. Re-entry.  Creating the pthread key and priming backtrace() may
 *    allocate, and uslab may be the process's malloc: a call from the
 *    initialising thread that re-enters finds slab_state >= UP and goes on.
 *
 * 3. Fork.  The handlers are registered from a library constructor, not
 *    from uslab_init(): pthread_atfork() allocates under glibc's atfork
 *    lock, so calling it from an allocation made inside somebody else's
 *    pthread_atfork() would deadlock.  Registering in the constructor,
 *    before any program constructor or main() can register theirs, makes
 *    uslab's handlers the innermost ones: glibc runs prepare handlers in
 *    reverse order of registration and parent/child handlers in order, so
 *    ours take the allocator's locks after every other prepare handler
 *    (which may allocate) and release them before any other parent or
 *    child handler runs.  Handlers of libraries whose constructors run
 *    before uslab's (libraries uslab does not depend on, loaded earlier)
 *    are the one case this cannot order; docs/architecture.md says so.
 *    The prepare handler takes slab_mutex, threads_lock, every list_lock
 *    and the page allocator's locks, in the lock order; the child
 *    re-initialises them and flushes the cpu areas of the threads that
 *    did not come along.
 */
#define _GNU_SOURCE
#include "slab.h"
#include "cpu.h"
#include "stats.h"
#include "slab_debug.h"

#include <string.h>

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t init_thread;

/*
 * init_lock is taken first, so that a fork never copies a half-done
 * start-up; the slab layer's locks only once it is up (which is
 * remembered for the other two handlers).  The page allocator's handlers
 * are its own (page_alloc.c), registered just before these.
 */
static bool fork_took_slab;

static void fork_prepare(void)
{
	pthread_mutex_lock(&init_lock);
	fork_took_slab = __atomic_load_n(&slab_state, __ATOMIC_ACQUIRE) == FULL;
	if (fork_took_slab)
		slab_common_fork_prepare();
}

static void fork_parent(void)
{
	if (fork_took_slab)
		slab_common_fork_parent();
	pthread_mutex_unlock(&init_lock);
}

static void fork_child(void)
{
	if (fork_took_slab)
		slab_common_fork_child();
	pthread_mutex_init(&init_lock, NULL);
}

/*
 * The back end named by the allocator option.  options.c has already
 * refused names that are not back ends, so this cannot fail.
 */
static const struct slab_backend *choose_backend(void)
{
	static const struct slab_backend *const backends[SLAB_BACKEND__COUNT] = {
		[SLAB_BACKEND_SLUB] = &slub_backend,
		[SLAB_BACKEND_SLAB] = &slab_backend_slab,
	};
	long id = uslab_opt(OPT_ALLOCATOR);

	if (id < 0 || id >= SLAB_BACKEND__COUNT)
		id = SLAB_BACKEND_SLUB;
	slab_be_id = (unsigned char)id;
	return backends[id];
}

/*
 * The fast paths' dispatch (slab_fast.h): SLUB's inline paths, unless
 * the back end is SLAB or the counters are on; then the out-of-line
 * entries, the counting ones with the counters.  The out-of-line entries
 * are set in every case, for slab_fast_wrap() to put hooks in front of.
 */
static void choose_fast_paths(void)
{
	if (slab_be_id == SLAB_BACKEND_SLAB) {
		slab_alloc_ool = slab_stats_enabled ? slab_alloc_slab_entry_stats : slab_alloc_slab_entry;
		slab_free_ool = slab_stats_enabled ? slab_free_slab_entry_stats : slab_free_slab_entry;
	} else {
		slab_alloc_ool = slab_stats_enabled ? slub_alloc_entry_stats : slub_alloc_entry;
		slab_free_ool = slab_stats_enabled ? slub_free_entry_stats : slub_free_entry;
	}
	slab_fast_ool = slab_be_id != SLAB_BACKEND_SLUB || slab_stats_enabled;
}

/*
 * Before a thread leaves (exit, or it did not survive a fork), its
 * cached objects go back and its counters are folded into the caches.
 */
static void flush_area(char *area)
{
	slab_be->flush_area(area);
	if (slab_stats_enabled)
		stats_fold_area(area);
}

static noinline void uslab_init_slow(void)
{
	if (__atomic_load_n(&slab_state, __ATOMIC_ACQUIRE) != DOWN &&
	    pthread_equal(init_thread, pthread_self()))
		return;		/* re-entered while initialising */
	pthread_mutex_lock(&init_lock);
	if (slab_state == FULL) {
		pthread_mutex_unlock(&init_lock);
		return;
	}
	init_thread = pthread_self();
	uslab_options_init();
	slab_debug_init();
	page_alloc_init();
	slab_be = choose_backend();
	stats_init();
	choose_fast_paths();
	cpu_init(flush_area, slab_stats_enabled ? STAT_BLOCK_SIZE : 0);
	kmem_cache_init_slab();
	/* Hooks in front of the fast paths: the bootstrap above is never failed. */
	sanitize_init();
	failslab_init();
	/* From here on kmalloc works, so what follows may allocate. */
	uslab_stack_prime();
	cpu_register_exit();
	__atomic_store_n(&slab_state, FULL, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&init_lock);
	slabinfo_env_apply();
	stats_init_late();
}

USLAB_API void uslab_init(void)
{
	if (likely(__atomic_load_n(&slab_state, __ATOMIC_ACQUIRE) == FULL))
		return;
	uslab_init_slow();
}

USLAB_API const char *uslab_allocator(void)
{
	uslab_init();
	return slab_be->name;
}

USLAB_API void kmem_cache_init(void)
{
	uslab_init();
}

/*
 * The constructor registers the slab layer's fork handlers, right after
 * the page allocator's (page_alloc.c) and before any constructor of
 * the program runs (the library's constructors run before those of the
 * program that loads it).  It does not start the allocator: a program
 * may still set options with uslab_option_set() before its first
 * allocation.  (Under the malloc shim, pthread_atfork's own allocation
 * starts it, which is fine: uslab_init() never calls pthread_atfork.)
 */
__attribute__((constructor(102))) static void uslab_constructor(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}
