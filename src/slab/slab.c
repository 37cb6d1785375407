// SPDX-License-Identifier: MIT
/*
 * slab.c - SLAB: the queued slab allocator (after Linux mm/slab.c, 5.10-6.7).
 *
 * 1. Slabs.  A slab is 2^gfporder pages from the buddy allocator, cut into
 *    num objects of s->size bytes starting at s_mem, which is the page
 *    address plus this slab's colour (colour_next of its node, times
 *    colour_off: successive slabs of a node start their objects on
 *    different cache lines).  Which objects are free is kept in the
 *    slab's freelist array, num indices (freelist_idx_t), of which the
 *    entries from slab->active on name the free objects.  The array lives
 *    in one of three places, chosen at creation in the kernel's order
 *    (__kmem_cache_create): inside a free object (OBJFREELIST_SLAB, the
 *    object that is handed out last; no array while the slab is full),
 *    kmalloc'd apart (OFF_SLAB, when that saves space), or at the end of
 *    the slab (on-slab).  With freelist randomisation (on by default, the
 *    kernel's CONFIG_SLAB_FREELIST_RANDOM) a new slab's array is filled
 *    from the cache's pre-shuffled sequence at a random start.
 *
 * 2. Lists.  Each node of a cache has three lists under n->list_lock:
 *    slabs_partial, slabs_full, slabs_free, with the counts slabinfo
 *    reads; free_objects counts free objects in slabs, not in arrays.
 *    Empty slabs beyond free_limit free objects go back to the page
 *    allocator at once; the others wait for the reaper.
 *
 * 3. Arrays.  Objects reach a thread through its array cache, a LIFO of
 *    free objects that is the cache's 64-byte cpu slot (slab_def.h): the
 *    fast paths pop and push it without a lock.  An empty array is
 *    refilled with batchcount objects (cache_alloc_refill) from the
 *    node's shared array, else from partial then free slabs, else from a
 *    new slab; a full array gives its oldest batchcount objects to the
 *    shared array, or back to their slabs (cache_flusharray, free_block).
 *    An object of another node freed here goes to this node's alien cache
 *    for that node, and from there in batches to that node's shared array
 *    or slabs (only with more than one node, as the kernel's
 *    use_alien_caches).
 *
 * 4. Locking order.
 *      slab_mutex            (slab_common: cache list, create, destroy, tune)
 *        threads_lock        (cpu.c)
 *          n->list_lock      (one cache's node)
 *            zone locks      (page_alloc.c)
 *    An alien array's own lock is never held with a list_lock: its
 *    objects are copied out under it and freed after.  Slabs are freed
 *    and allocated, and off-slab freelists kmalloc'd and kfree'd, with
 *    no list_lock held.  free_block() takes the list_lock of each
 *    object's own node, one at a time, so a thread that moved between
 *    nodes can never file an object under the wrong lock.
 *
 * 5. Threads.  The kernel's IPIs and per-CPU timers become the owner's
 *    own slow path: a slot records the tuning generation (gen) it was
 *    sized for, and a slow path that sees the cache's generation move on
 *    flushes and resizes the array first (tuning, shrink).  Destroy flushes
 *    every thread's slot directly (nobody may use a cache being
 *    destroyed); thread exit and fork flush a vanished thread's slots
 *    (flush_area).  cache_reap runs from slow paths: every REAPTIMEOUT_AC
 *    a thread drains a fifth of the untouched arrays it owns, and every
 *    REAPTIMEOUT_NODE a node's shared array, its alien caches and some of
 *    its free slabs are reaped as well.  No thread is started.
 *
 * 6. Checks, on in every build: the free marker (slab_fast.h) catches a
 *    double free on every free from any thread and a free object written
 *    after it was freed on every allocation; a free of an address that is
 *    not an object start, into the wrong cache, or that is no slab object
 *    at all is reported in the kernel's words (docs/checks.md).  SLAB's
 *    own kmalloc'd bookkeeping starts with a guard word nothing reads
 *    (SL_META_GUARD), so that a program's off-by-one out of the kmalloc
 *    object before it cannot reach the allocator's pointers and indices.
 *
 * 7. Statistics, with the slab_stats option: the kernel's STATS counters
 *    (enum slab_stat_item), counted at the kernel's sites in the slow
 *    paths with stat() (one predicted branch when off) and, for the hits
 *    and misses of the arrays, by the counting copies of the fast paths
 *    (slab_fast.h), which the dispatch only uses with the counters on.
 *    The kernel's num_active is not kept: the high mark is raised, where
 *    objects leave the slabs, to the objects off the slabs as the node
 *    counters say (sl_stat_set_high).
 *
 * 8. slab_debug (USLAB_SLAB_DEBUG F Z P U T O): the kernel's
 *    CONFIG_DEBUG_SLAB on the object layout of "slab_debug" below, with
 *    SLUB's words and counts.  A debug cache has no arrays: each of its
 *    allocations and frees goes to the slabs under the node's list_lock
 *    (sl_debug_alloc, sl_debug_free), where its objects are checked, set
 *    up and recorded.  Validation (slab_validate), for every cache,
 *    checks every slab, its freelist against the free markers and, with
 *    Z or P, every object, and repairs what it reports.  Caches without
 *    debug flags keep their layout and their fast paths exactly.
 */
#define _GNU_SOURCE
#include "slab_fast.h"
#include "../debug.h"
#include "../slab_debug.h"
#include "../stats.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>

/* ---------------------------------------------------------- constants */

#define BOOT_CPUCACHE_ENTRIES	1
#define BATCHREFILL_LIMIT	16
#define REAPTIMEOUT_AC		(2ull * 1000000000ull)	/* a thread's arrays: every 2 s */
#define REAPTIMEOUT_NODE	(4ull * 1000000000ull)	/* a node's lists: every 4 s */
/* Slow paths between two looks at the clock for the reaper. */
#define REAP_CLOCK_EVERY	16
/* The kernel's SLAB_MAX_ORDER_HI (machines with more than 32 MB). */
#define SLAB_MAX_ORDER_DEFAULT	1
/* Tunables beyond these could not be allocated: refused, not clamped. */
#define SLAB_LIMIT_MAX		(1u << 16)
#define SLAB_SHARED_ENTRIES_MAX	(1u << 19)
#define ALIEN_LIMIT		12
/* The kernel's init lists: CACHE_CACHE for kmem_cache, SIZE_NODE for the node cache. */
#define NUM_INIT_LISTS		(2 * MAX_NUMNODES)
#define CACHE_CACHE		0
#define SIZE_NODE		MAX_NUMNODES

/* CONFIG_SLAB_FREELIST_RANDOM, as an option (slab_freelist_random, default on). */
#define slab_freelist_random() (uslab_opt(OPT_SLAB_FREELIST_RANDOM) != 0)

/* The kernel's slab_max_order= boot option (option slab_max_order), set at init. */
static unsigned int slab_max_order = SLAB_MAX_ORDER_DEFAULT;
static bool use_alien_caches = true;
static struct slab_node init_kmem_cache_node[NUM_INIT_LISTS];

/*
 * Per-thread state of the slow paths: sl_direct > 0 makes them bypass the
 * array caches (while a slot is being sized, and while a thread's slots
 * are flushed), sl_reaping > 0 keeps the reaper out (while it runs, and
 * while cache_flusharray() gives a batch back).
 */
static __thread int sl_direct __attribute__((tls_model("initial-exec")));
static __thread int sl_reaping __attribute__((tls_model("initial-exec")));
static __thread unsigned int sl_reap_tick __attribute__((tls_model("initial-exec")));
static __thread uint64_t sl_next_reap __attribute__((tls_model("initial-exec")));
static __thread uint64_t sl_rng __attribute__((tls_model("initial-exec")));

static inline struct slab_node *get_node(const struct kmem_cache *s, int node)
{
	return slab_cache_be(s)->node[node];
}

/*
 * sl_stat_set_high - STATS_SET_HIGH, where objects have just left the
 * slabs (a refill, a node allocation, a grown slab filed with objects
 * already taken), with that node's list_lock held.  The kernel's
 * num_active (objects in use or in arrays: slabinfo's active_objs) is
 * not kept as a count of its own, which would be one more shared word
 * written on every slow path; it is worked out from the node counters.
 * Other nodes' counters are read without their locks, so with more than
 * one node the mark can be off by the moves in flight there.
 */
static inline void sl_stat_set_high(struct kmem_cache *s)
{
	unsigned long num = slab_cache_be(s)->num, active = 0;

	if (likely(!slab_stats_enabled))
		return;
	for (int node = 0; node < nr_node_ids; node++) {
		struct slab_node *n = get_node(s, node);
		unsigned long objs, nfree;

		if (!n)
			continue;
		objs = READ_ONCE(n->total_slabs) * num;
		nfree = READ_ONCE(n->free_objects);
		if (objs > nfree)
			active += objs - nfree;
	}
	stat_max(s, SL_STAT_HIGH_MARK, active);
}

/*
 * sl_meta_alloc - @size bytes of SLAB's own bookkeeping, kmalloc'd with
 * SL_META_GUARD bytes in front that nothing reads (slab_def.h): an
 * overflow out of the program's kmalloc object just before it cannot reach
 * the allocator's pointers and indices.  Freed with sl_meta_free().
 */
static void *sl_meta_alloc(size_t size, gfp_t gfp, int node)
{
	char *p = kmalloc_node(size + SL_META_GUARD, gfp, node);

	return p ? p + SL_META_GUARD : NULL;
}

static void sl_meta_free(void *p)
{
	if (p)
		kfree((char *)p - SL_META_GUARD);
}

static unsigned int nr_cpus_node(void)
{
	unsigned int n = os_nr_cpus() / (unsigned int)nr_node_ids;

	return n ? n : 1;
}

/* xorshift64*: shuffle start positions, not secrets. */
static uint64_t sl_random(void)
{
	uint64_t x = sl_rng;

	if (unlikely(!x))
		x = os_random() | 1;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	sl_rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* ------------------------------------------------------------- reports */

static void print_slab(const struct kmem_cache *s, const struct slab_slab *slab)
{
	if (!slab)
		return;
	pr_err("Slab %p objects=%u active=%u s_mem=%p freelist=%p flags=%#lx\n",
	       __page_address(sl_slab_page(slab)), slab_cache_be(s)->num, slab->active,
	       slab->s_mem, slab->freelist, slab->__page_flags);
}

/* slab_bug - a BUG-class report about @slab: banner, slab, @fmt, trace. */
static __cold __attribute__((format(printf, 4, 5)))
void slab_bug(struct kmem_cache *s, struct slab_slab *slab, const char *title, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	slab_report_banner(s ? s->name : "slab", title);
	print_slab(s, slab);
	va_start(ap, fmt);
	uslab_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	pr_err("%s\n\n", line);
	dump_stack();
	uslab_bug_end(title);
}

/*
 * object_bug - a BUG-class report about the object @objp (a cache without
 * slab_debug); slab_debug's caches report with object_err(), which counts
 * and goes on.
 */
static __cold void object_bug(struct kmem_cache *s, struct slab_slab *slab, const void *objp,
			      const char *reason)
{
	uintptr_t off = slab ? (uintptr_t)objp - (uintptr_t)slab->s_mem : 0;

	slab_report_banner(s->name, reason);
	print_slab(s, slab);
	pr_err("Object %p @offset=%lu\n\n", objp, (unsigned long)off);
	dump_stack();
	uslab_bug_end(reason);
}

/*
 * corrupt_object - a free object whose marker is not what its state says
 * (written after it was freed, or freed twice at the same instant): as
 * the kernel's slab_debug, not fatal; the object is dropped, counted as
 * in use, and never handed out again.
 */
static __cold void corrupt_object(struct kmem_cache *s, const void *objp, const char *where)
{
	slab_report_banner(s->name, "Slab corruption");
	pr_err("Object %p %s: its free marker was overwritten (written after it was freed, or freed twice at once)\n",
	       objp, where);
	pr_err("FIX %s: the object is dropped and not handed out again\n\n", s->name);
	dump_stack();
	uslab_count_error();
	stat(s, SL_STAT_ERRORS);
}

/* ---------------------------------------------------- objects and indices */

static inline struct slab_slab *virt_to_slab(const void *objp)
{
	return sl_page_slab(virt_to_head_page(objp));
}

static inline void *index_to_obj(const struct kmem_cache *s, const struct slab_slab *slab,
				 unsigned int idx)
{
	return (char *)slab->s_mem + (size_t)s->size * idx;
}

static inline unsigned int obj_to_index(const struct kmem_cache *s, const struct slab_slab *slab,
					const void *objp)
{
	return sl_obj_index(s, (uintptr_t)objp - (uintptr_t)slab->s_mem);
}

static inline freelist_idx_t get_free_obj(const struct slab_slab *slab, unsigned int idx)
{
	return ((freelist_idx_t *)slab->freelist)[idx];
}

static inline void set_free_obj(struct slab_slab *slab, unsigned int idx, freelist_idx_t val)
{
	((freelist_idx_t *)slab->freelist)[idx] = val;
}

static inline void mark_in_slab(const struct kmem_cache *s, void *objp)
{
	uintptr_t *w = sl_marker_word(s, objp);

	*w = sl_marker(s, (uintptr_t)w) ^ 1;
}

static inline bool object_in_slab(const struct kmem_cache *s, const void *objp)
{
	uintptr_t *w = sl_marker_word(s, objp);

	return *w == (sl_marker(s, (uintptr_t)w) ^ 1);
}

/*
 * slab_get_obj - take the next free object of @slab (under its list_lock),
 * in the array state (sl_mark_free): it goes to an array, or the caller
 * clears the marker.  NULL if the object's marker says it was not free on
 * the slab (reported; the object stays counted as in use).
 */
static void *slab_get_obj(struct kmem_cache *s, struct slab_slab *slab)
{
	void *objp = index_to_obj(s, slab, get_free_obj(slab, slab->active));

	slab->active++;
	if (unlikely(!object_in_slab(s, objp))) {
		corrupt_object(s, objp, "on its slab's freelist");
		return NULL;
	}
	sl_mark_free(s, objp);
	return objp;
}

static void slab_put_obj(struct kmem_cache *s, struct slab_slab *slab, void *objp)
{
	unsigned int objnr = obj_to_index(s, slab, objp);

	slab->active--;
	if (!slab->freelist)		/* OBJFREELIST: the first object freed into a full slab */
		slab->freelist = objp;
	set_free_obj(slab, slab->active, (freelist_idx_t)objnr);
	mark_in_slab(s, objp);
}

/* ----------------------------------------------------------- slab_debug */

/*
 * slab_debug (USLAB_SLAB_DEBUG, slab_debug.c): the kernel's
 * CONFIG_DEBUG_SLAB, reporting with SLUB's words and counts so that a
 * program sees the same reports on either back end.  A debug cache lays
 * each object out as below (slab_create), by offset from the address
 * the caller gets:
 *
 *	[-red_left, 0)			left red zone (Z): 0xbb free, 0xcc allocated
 *	[0, object_size)		the object; with P 0x6b...0x6b 0xa5 while
 *					free, 0x5a when handed out (kernel SLAB's
 *					POISON_INUSE: never written, not freed)
 *	[object_size, inuse)		right red zone (Z, a word at least), else
 *					padding to the word (0x5a with P)
 *	[inuse, inuse + 8)		the free marker (s->offset, slab_fast.h)
 *	[track_off, + 2 tracks)		who allocated it, who freed it last (U)
 *	[orig_off, + 8)			the size kmalloc was asked for (U on a
 *					kmalloc cache); with Z the bytes from
 *					there to object_size are red zone too
 *	[meta_end, size - red_left)	padding, 0x5a with P (a word at least with Z)
 *
 * s_mem points at object 0, red_left bytes into the slab's first slot,
 * so every index and offset computation is the one without debugging.
 * A slab of a P cache starts filled with 0x5a: the colour in front of
 * the objects and the rest behind them are checked as padding.
 *
 * Debug caches keep no object in any array (limit 0 sends both fast
 * paths to the slow path every time) and never keep the freelist array
 * in an object: each allocation and free is sl_debug_alloc() and
 * sl_debug_free(), which check and set the object up under its node's
 * list_lock, as the kernel's SLUB does for its debug caches, so that a
 * validation under the same lock never sees an object half-way.
 *
 * Counting (uslab_error_count) is where the kernel's
 * slab_add_kunit_errors() counts: once for each object_err(),
 * slab_err() and damaged range (check_bytes_and_report), once for each
 * FIX line.  Nothing here aborts; the damage is repaired and the program
 * goes on.
 */

/* Reports and FIX lines this thread counted: a validation returns its own. */
static __thread long sl_debug_errors __attribute__((tls_model("initial-exec")));

static void sl_count(void)
{
	sl_debug_errors++;
	slab_debug_count();
}

static __cold __attribute__((format(printf, 2, 3)))
void sl_fix(struct kmem_cache *s, const char *fmt, ...)
{
	char line[200];
	va_list ap;

	va_start(ap, fmt);
	uslab_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	sl_debug_errors++;
	slab_fix(s, "%s", line);
}

static inline unsigned char *slab_base(const struct slab_slab *slab)
{
	return __page_address(sl_slab_page(slab));
}

/* Objects that keep their contents while free are not poisoned (as SLUB's __OBJECT_POISON). */
static inline bool obj_poisoned(const struct kmem_cache *s)
{
	return (s->flags & SLAB_POISON) && !s->ctor && !(s->flags & SLAB_TYPESAFE_BY_RCU);
}

static inline struct track *get_track(const struct kmem_cache *s, const void *objp,
				      enum track_item which)
{
	return (struct track *)((char *)objp + slab_cache_be(s)->track_off) + which;
}

static inline unsigned int *orig_size_word(const struct kmem_cache *s, const void *objp)
{
	return (unsigned int *)((char *)objp + slab_cache_be(s)->orig_off);
}

/*
 * debug_set_track - record who allocates or frees @objp, from @t, which
 * the caller took with set_track() before it took the node's list_lock:
 * taking a call trace may take the dynamic loader's locks, and a
 * dlopen() holding them may be allocating from this very cache.
 */
static void debug_set_track(struct kmem_cache *s, void *objp, enum track_item which,
			    const struct track *t)
{
	*get_track(s, objp, which) = *t;
}

static void print_tracking(struct kmem_cache *s, const void *objp)
{
	if (!(s->flags & SLAB_STORE_USER))
		return;
	print_track("Allocated", get_track(s, objp, TRACK_ALLOC));
	print_track("Freed", get_track(s, objp, TRACK_FREE));
}

/* print_trailer - the object after a report's banner: tracks, slab, bytes. */
static void print_trailer(struct kmem_cache *s, struct slab_slab *slab, const unsigned char *p)
{
	struct slab_cache_be *be = slab_cache_be(s);
	const unsigned char *addr = slab_base(slab);
	unsigned int slot_end = s->size - be->red_left;

	print_tracking(s, p);
	print_slab(s, slab);
	pr_err("Object %p @offset=%lu\n\n", p, (unsigned long)(p - addr));
	if (s->flags & SLAB_RED_ZONE)
		print_section("Redzone  ", p - be->red_left, be->red_left);
	else if (p >= addr + 16)
		print_section("Bytes b4 ", p - 16, 16);
	print_section("Object   ", p, min_t(unsigned int, s->object_size, PAGE_SIZE));
	if (s->flags & SLAB_RED_ZONE)
		print_section("Redzone  ", p + s->object_size, be->inuse - s->object_size);
	if (be->meta_end < slot_end)
		print_section("Padding  ", p + be->meta_end, slot_end - be->meta_end);
	dump_stack();
}

/* object_err - slab_debug's report about the object @objp (counted, not fatal). */
static __cold void object_err(struct kmem_cache *s, struct slab_slab *slab, const void *objp,
			      const char *reason)
{
	slab_report_header(s, "%s", reason);
	print_trailer(s, slab, objp);
	sl_count();
}

/* slab_err - slab_debug's report about @slab, or (NULL) about the cache's lists. */
static __cold __attribute__((format(printf, 3, 4)))
void slab_err(struct kmem_cache *s, struct slab_slab *slab, const char *fmt, ...)
{
	char title[200];
	va_list ap;

	va_start(ap, fmt);
	uslab_vsnprintf(title, sizeof(title), fmt, ap);
	va_end(ap);
	slab_report_header(s, "%s", title);
	print_slab(s, slab);
	dump_stack();
	sl_count();
}

/*
 * check_bytes_and_report - whether the @bytes at @start, part of the
 * object @objp or its metadata, all hold @value.  If not, the damaged
 * range is reported (counted once; with @print_obj the object too, for
 * the first damage found in it) and put back (the FIX, counted once).
 */
static bool check_bytes_and_report(struct kmem_cache *s, struct slab_slab *slab,
				   const void *objp, const char *what, unsigned char *start,
				   unsigned char value, unsigned int bytes, bool print_obj)
{
	unsigned char *fault = (unsigned char *)memchr_inv(start, value, bytes), *end;

	if (!fault)
		return true;
	end = start + bytes;
	while (end > fault && end[-1] == value)
		end--;
	if (print_obj)
		slab_report_header(s, "%s overwritten", what);
	pr_err("[%s overwritten] %p-%p @offset=%lu. First byte 0x%x instead of 0x%x\n",
	       what, fault, end - 1, (unsigned long)(fault - slab_base(slab)), fault[0], value);
	if (print_obj)
		print_trailer(s, slab, objp);
	sl_count();
	sl_fix(s, "Restoring %s %p-%p=0x%x", what, fault, end - 1, value);
	memset(fault, value, (size_t)(end - fault));
	return false;
}

/*
 * init_object - red zones and poison of @p for its state @val
 * (SLUB_RED_INACTIVE free, SLUB_RED_ACTIVE allocated).  An allocated
 * kmalloc object's bytes past the size asked for are red zone as well.
 */
static void init_object(struct kmem_cache *s, unsigned char *p, unsigned char val)
{
	struct slab_cache_be *be = slab_cache_be(s);
	unsigned int poison_size = s->object_size;

	if (s->flags & SLAB_RED_ZONE) {
		memset(p - be->red_left, val, be->red_left);
		if (be->orig_off && val == SLUB_RED_ACTIVE)
			poison_size = min_t(unsigned int, *orig_size_word(s, p), s->object_size);
	}
	if (obj_poisoned(s)) {
		if (val == SLUB_RED_ACTIVE) {
			memset(p, POISON_INUSE, poison_size);
		} else {
			memset(p, POISON_FREE, s->object_size - 1);
			p[s->object_size - 1] = POISON_END;
		}
	}
	if (s->flags & SLAB_RED_ZONE)
		memset(p + poison_size, val, be->inuse - poison_size);
}

/*
 * check_object - the kernel's check_object() on SLAB's layout: red zones
 * (and an allocated kmalloc object's red zone), or the alignment padding;
 * the poison of a free object; the padding after the metadata.  Every
 * damaged range is reported and repaired; false if there was one.  The
 * free marker is checked with the freelist (validate_slab), as the
 * kernel checks the free pointer with the free chain.
 */
static bool check_object(struct kmem_cache *s, struct slab_slab *slab, unsigned char *p,
			 unsigned char val)
{
	struct slab_cache_be *be = slab_cache_be(s);
	unsigned char *endobject = p + s->object_size;
	unsigned int slot_end = s->size - be->red_left;
	bool ok = true;

	if (s->flags & SLAB_RED_ZONE) {
		if (!check_bytes_and_report(s, slab, p, "Left Redzone", p - be->red_left, val,
					    be->red_left, ok))
			ok = false;
		if (!check_bytes_and_report(s, slab, p, "Right Redzone", endobject, val,
					    be->inuse - s->object_size, ok))
			ok = false;
		if (be->orig_off && val == SLUB_RED_ACTIVE) {
			unsigned int orig = *orig_size_word(s, p);

			if (orig < s->object_size &&
			    !check_bytes_and_report(s, slab, p, "kmalloc Redzone", p + orig, val,
						    s->object_size - orig, ok))
				ok = false;
		}
	} else if ((s->flags & SLAB_POISON) && s->object_size < be->inuse) {
		if (!check_bytes_and_report(s, slab, p, "Alignment padding", endobject, POISON_INUSE,
					    be->inuse - s->object_size, ok))
			ok = false;
	}
	if (s->flags & SLAB_POISON) {
		if (val != SLUB_RED_ACTIVE && obj_poisoned(s)) {
			if (!check_bytes_and_report(s, slab, p, "Poison", p, POISON_FREE,
						    s->object_size - 1, ok))
				ok = false;
			if (!check_bytes_and_report(s, slab, p, "End Poison", endobject - 1, POISON_END,
						    1, ok))
				ok = false;
		}
		if (be->meta_end < slot_end &&
		    !check_bytes_and_report(s, slab, p, "Object padding", p + be->meta_end,
					    POISON_INUSE, slot_end - be->meta_end, ok))
			ok = false;
	}
	return ok;
}

/* One stretch of a slab's padding (P): reported and restored if written. */
static void pad_check_range(struct kmem_cache *s, struct slab_slab *slab, unsigned char *pad,
			    size_t len)
{
	unsigned char *fault, *end;

	if (!len)
		return;
	fault = (unsigned char *)memchr_inv(pad, POISON_INUSE, len);
	if (!fault)
		return;
	end = pad + len;
	while (end > fault && end[-1] == POISON_INUSE)
		end--;
	slab_err(s, slab, "Padding overwritten. %p-%p @offset=%lu", fault, end - 1,
		 (unsigned long)(fault - slab_base(slab)));
	print_section("Padding ", fault, min_t(unsigned int, (unsigned int)(end - fault), 64));
	sl_fix(s, "Restoring slab padding %p-%p=0x%x", fault, end - 1, POISON_INUSE);
	memset(fault, POISON_INUSE, (size_t)(end - fault));
}

/*
 * slab_pad_check - the bytes of @slab no object uses still hold
 * POISON_INUSE (P): the colour in front of the first slot, and what is
 * behind the last one up to the on-slab freelist array or the slab's end.
 */
static void slab_pad_check(struct kmem_cache *s, struct slab_slab *slab)
{
	unsigned char *base = slab_base(slab);
	unsigned char *first = (unsigned char *)slab->s_mem - slab_cache_be(s)->red_left;
	unsigned char *tail = first + slab->span;
	unsigned char *end = base + (PAGE_SIZE << slab->__page_order);

	if (!(s->flags & SLAB_POISON))
		return;
	if (!OFF_SLAB(s) && slab->freelist)
		end = slab->freelist;
	pad_check_range(s, slab, base, (size_t)(first - base));
	if (end > tail)
		pad_check_range(s, slab, tail, (size_t)(end - tail));
}

/*
 * trace - slab_debug T: every allocation and free of the cache.  The line
 * and the object are printed here, under the node's list_lock; the call
 * trace after it is dropped (trace_stack()), for the reason
 * debug_set_track() gives.
 */
static __thread bool trace_stack_due __attribute__((tls_model("initial-exec")));

static void trace_stack(void)
{
	if (unlikely(trace_stack_due)) {
		trace_stack_due = false;
		dump_stack();
	}
}

static void trace(struct kmem_cache *s, struct slab_slab *slab, void *objp, bool alloc)
{
	void *next = NULL;

	if (!(s->flags & SLAB_TRACE))
		return;
	if (slab->active < slab_cache_be(s)->num)
		next = index_to_obj(s, slab, get_free_obj(slab, slab->active));
	pr_info("TRACE %s %s %p inuse=%u fp=%p\n", s->name, alloc ? "alloc" : "free", objp,
		slab->active, next);
	if (!alloc)
		print_section("Object ", objp, min_t(unsigned int, s->object_size, PAGE_SIZE));
	trace_stack_due = true;
}

/* A new slab of a P cache: poisoned whole, before its objects are set up. */
static void debug_init_slab(struct kmem_cache *s, struct slab_slab *slab)
{
	if (s->flags & SLAB_POISON)
		memset(slab_base(slab), POISON_INUSE, PAGE_SIZE << slab->__page_order);
}

/* A new object: free red zones and poison, no tracks, the full size asked for. */
static void debug_init_obj(struct kmem_cache *s, unsigned char *objp)
{
	init_object(s, objp, SLUB_RED_INACTIVE);
	if (s->flags & SLAB_STORE_USER)
		memset(get_track(s, objp, TRACK_ALLOC), 0, 2 * sizeof(struct track));
	if (slab_cache_be(s)->orig_off)
		*orig_size_word(s, objp) = s->object_size;
}

/* @objp made to look allocated: marker cleared, the whole object asked for, red zones active. */
static void debug_set_active(struct kmem_cache *s, unsigned char *objp)
{
	sl_mark_allocated(s, objp);
	if (slab_cache_be(s)->orig_off)
		*orig_size_word(s, objp) = s->object_size;
	init_object(s, objp, SLUB_RED_ACTIVE);
}

/*
 * isolate_slab - a check failed while allocating @failed from @slab: as
 * the kernel's SLUB, every object of the slab is taken as allocated and
 * none is handed out; they show as remaining objects when the cache is
 * destroyed.  They are made to look allocated, so that validation does
 * not find them again.
 */
static void isolate_slab(struct kmem_cache *s, struct slab_slab *slab, unsigned char *failed)
{
	unsigned int num = slab_cache_be(s)->num;

	debug_set_active(s, failed);
	while (slab->active < num)
		debug_set_active(s, index_to_obj(s, slab, get_free_obj(slab, slab->active++)));
}

/*
 * debug_alloc_obj - the next free object of @slab, for a debug cache,
 * under its node's list_lock (or before a new slab is filed): the
 * kernel's alloc_debug_processing().  NULL if its free marker was
 * overwritten ("Freechain corrupt") or, with F, its red zones or poison
 * were: then, as the kernel's SLUB, the whole slab is isolated and the
 * caller looks again.
 */
static void *debug_alloc_obj(struct kmem_cache *s, struct slab_slab *slab,
			     const struct track *track)
{
	unsigned char *objp = index_to_obj(s, slab, get_free_obj(slab, slab->active));

	slab->active++;
	if (unlikely(!object_in_slab(s, objp))) {
		object_err(s, slab, objp, "Freechain corrupt");
		goto bad;
	}
	if ((s->flags & SLAB_CONSISTENCY_CHECKS) &&
	    !check_object(s, slab, objp, SLUB_RED_INACTIVE))
		goto bad;
	debug_set_active(s, objp);
	if (s->flags & SLAB_STORE_USER)
		debug_set_track(s, objp, TRACK_ALLOC, track);
	trace(s, slab, objp, true);
	return objp;

bad:
	sl_fix(s, "Marking all objects used");
	isolate_slab(s, slab, objp);
	stat(s, SL_STAT_ERRORS);
	return NULL;
}

/* ------------------------------------------------- slabs from the buddy */

static void kmem_freepages(struct slab_slab *slab)
{
	struct page *page = sl_slab_page(slab);
	unsigned int order = slab->__page_order;

	for (unsigned long i = 1; i < (1UL << order); i++) {
		page[i].flags = 0;
		page[i].slab_cache = NULL;
		page[i].order = 0;
	}
	slab->freelist = NULL;
	slab->s_mem = NULL;
	slab->active = 0;
	slab->span = 0;
	page->slab_cache = NULL;
	page->flags = PG_head;
	__free_pages_ok(page, order);
}

static void slab_destroy(struct kmem_cache *s, struct slab_slab *slab)
{
	void *freelist = slab->freelist;

	kmem_freepages(slab);
	if (OFF_SLAB(s))
		sl_meta_free(freelist);
}

/* Free the slabs on @list (taken off their node's lists, no lock held). */
static void slabs_destroy(struct kmem_cache *s, struct list_head *list)
{
	struct slab_slab *slab, *n;

	list_for_each_entry_safe(slab, n, list, slab_list) {
		list_del(&slab->slab_list);
		slab_destroy(s, slab);
	}
}

/*
 * shuffle_freelist - fill a new slab's freelist array in a random order:
 * the cache's pre-shuffled sequence from a random start (early in boot,
 * before the sequence exists, a Fisher-Yates shuffle in place).  For
 * OBJFREELIST the first index drawn names the object that holds the
 * array; it goes last, so it is handed out last.
 */
static bool shuffle_freelist(struct kmem_cache *s, struct slab_slab *slab)
{
	struct slab_cache_be *be = slab_cache_be(s);
	unsigned int count = be->num, pos = 0, objfreelist = 0;
	const unsigned int *seq = be->random_seq;

	if (!slab_freelist_random() || count < 2)
		return false;
	if (seq)
		pos = (unsigned int)(sl_random() % count);
	if (OBJFREELIST_SLAB(s)) {
		objfreelist = seq ? seq[pos] : count - 1;
		if (seq)
			pos = pos + 1 == be->num ? 0 : pos + 1;
		slab->freelist = index_to_obj(s, slab, objfreelist);
		count--;
	}
	if (!seq) {
		for (unsigned int i = 0; i < count; i++)
			set_free_obj(slab, i, (freelist_idx_t)i);
		for (unsigned int i = count - 1; i > 0; i--) {
			unsigned int j = (unsigned int)(sl_random() % (i + 1));
			freelist_idx_t t = get_free_obj(slab, i);

			set_free_obj(slab, i, get_free_obj(slab, j));
			set_free_obj(slab, j, t);
		}
	} else {
		for (unsigned int i = 0; i < count; i++) {
			set_free_obj(slab, i, (freelist_idx_t)seq[pos]);
			pos = pos + 1 == be->num ? 0 : pos + 1;
		}
	}
	if (OBJFREELIST_SLAB(s))
		set_free_obj(slab, be->num - 1, (freelist_idx_t)objfreelist);
	return true;
}

/*
 * cache_init_objs - slab_debug's set-up, constructors, free markers, and
 * the freelist array (written last: a P slab is poisoned whole first).
 */
static void cache_init_objs(struct kmem_cache *s, struct slab_slab *slab)
{
	unsigned int num = slab_cache_be(s)->num;
	bool debug = kmem_cache_debug(s);
	bool shuffled;

	if (unlikely(debug))
		debug_init_slab(s, slab);
	for (unsigned int i = 0; i < num; i++) {
		void *objp = index_to_obj(s, slab, i);

		if (unlikely(debug))
			debug_init_obj(s, objp);
		if (s->ctor)
			s->ctor(objp);
		mark_in_slab(s, objp);
	}
	shuffled = shuffle_freelist(s, slab);
	if (!shuffled) {
		if (OBJFREELIST_SLAB(s))
			slab->freelist = index_to_obj(s, slab, num - 1);
		for (unsigned int i = 0; i < num; i++)
			set_free_obj(slab, i, (freelist_idx_t)i);
	}
}

/*
 * cache_grow_begin - a new slab on @nodeid, not yet on any list (the
 * caller may take objects from it first); cache_grow_end files it.  The
 * colour comes from the slab's node: each new slab of a node starts its
 * objects colour_off bytes further on, round the cache's colours.
 */
static struct slab_slab *cache_grow_begin(struct kmem_cache *s, gfp_t gfp, int nodeid)
{
	struct slab_cache_be *be = slab_cache_be(s);
	struct slab_node *n;
	struct slab_slab *slab;
	struct page *page;
	unsigned int colour = 0;
	void *freelist = NULL;
	char *addr;

	page = __alloc_pages(nodeid, gfp & ~__GFP_ZERO, be->gfporder, NULL);
	if (unlikely(!page)) {
		stat(s, SL_STAT_ERRORS);
		return NULL;
	}
	slab = sl_page_slab(page);
	n = get_node(s, sl_slab_nid(slab));
	if (be->colour)
		colour = __atomic_fetch_add(&n->colour_next, 1, __ATOMIC_RELAXED) % be->colour;
	addr = __page_address(page);
	if (OFF_SLAB(s)) {
		freelist = sl_meta_alloc(be->freelist_size, (gfp & ~__GFP_ZERO) | __GFP_NOWARN,
					 sl_slab_nid(slab));
		if (!freelist) {
			page->flags = PG_head;
			__free_pages_ok(page, be->gfporder);
			stat(s, SL_STAT_ERRORS);
			return NULL;
		}
	} else if (!OBJFREELIST_SLAB(s)) {
		freelist = addr + (PAGE_SIZE << be->gfporder) - be->freelist_size;
	}
	/*
	 * Every page says "slab" and names the cache, so that kfree() finds
	 * the cache from any page; the rest goes through compound_head().
	 */
	for (unsigned long i = 1; i < (1UL << be->gfporder); i++) {
		page[i].flags = PG_tail | PG_slab;
		page[i].slab_cache = s;
		page[i].order = (unsigned short)be->gfporder;	/* compound_head() masks with it */
	}
	slab->__page_flags = PG_head | PG_slab;
	slab->slab_cache = s;
	slab->freelist = freelist;
	slab->s_mem = addr + (size_t)colour * be->colour_off + be->red_left;
	slab->active = 0;
	slab->span = be->num * s->size;
	INIT_LIST_HEAD(&slab->slab_list);
	cache_init_objs(s, slab);
	return slab;
}

static void fixup_slab_list(struct kmem_cache *s, struct slab_node *n, struct slab_slab *slab)
{
	list_del(&slab->slab_list);
	if (slab->active == slab_cache_be(s)->num) {
		list_add(&slab->slab_list, &n->slabs_full);
		if (OBJFREELIST_SLAB(s))
			slab->freelist = NULL;	/* the object that held it is handed out */
	} else {
		list_add(&slab->slab_list, &n->slabs_partial);
	}
}

static void cache_grow_end(struct kmem_cache *s, struct slab_slab *slab)
{
	struct slab_node *n;

	if (!slab)
		return;
	n = get_node(s, sl_slab_nid(slab));
	spin_lock(&n->list_lock);
	n->total_slabs++;
	if (!slab->active) {
		list_add_tail(&slab->slab_list, &n->slabs_free);
		n->free_slabs++;
	} else {
		fixup_slab_list(s, n, slab);
	}
	n->free_objects += slab_cache_be(s)->num - slab->active;
	stat(s, SL_STAT_GROWN);
	/* the caller may have taken objects from it already (cache_alloc_refill) */
	if (slab->active)
		sl_stat_set_high(s);
	spin_unlock(&n->list_lock);
}

/* The next slab to allocate from: partial first, then free. Under list_lock. */
static struct slab_slab *get_first_slab(struct slab_node *n)
{
	if (!list_empty(&n->slabs_partial))
		return list_first_entry(&n->slabs_partial, struct slab_slab, slab_list);
	if (!list_empty(&n->slabs_free)) {
		n->free_touched = 1;
		n->free_slabs--;
		return list_first_entry(&n->slabs_free, struct slab_slab, slab_list);
	}
	return NULL;
}

/* ------------------------------------------------------------ free_block */

/*
 * put_obj_locked - @objp back onto @slab, with @n->list_lock held, and the
 * slab onto the list its count says; empty slabs beyond the node's
 * free_limit move to @list, for the caller to free once the lock is
 * dropped.
 */
static inline void put_obj_locked(struct kmem_cache *s, struct slab_node *n,
				  struct slab_slab *slab, void *objp, struct list_head *list)
{
	list_del(&slab->slab_list);
	slab_put_obj(s, slab, objp);
	n->free_objects++;
	if (!slab->active) {
		list_add(&slab->slab_list, &n->slabs_free);
		n->free_slabs++;
	} else {
		/* the tail: the other objects get the most time to come back */
		list_add_tail(&slab->slab_list, &n->slabs_partial);
	}
	while (n->free_objects > n->free_limit && !list_empty(&n->slabs_free)) {
		struct slab_slab *victim = list_entry(n->slabs_free.prev, struct slab_slab,
						      slab_list);

		list_del(&victim->slab_list);
		list_add(&victim->slab_list, list);
		n->free_slabs--;
		n->total_slabs--;
		n->free_objects -= slab_cache_be(s)->num;
	}
}

/*
 * free_objects_to_slabs - the kernel's free_block() for objects of any
 * node: each goes back to its slab under its own node's list_lock (taken
 * and switched here; the caller holds none).  An object whose marker does
 * not say "in an array" is refused: it is on its slab already (freed twice
 * at the same instant) or was written after it was freed.  Empty slabs
 * beyond a node's free_limit are freed once the locks are dropped.
 */
static void free_objects_to_slabs(struct kmem_cache *s, void *const *objpp, unsigned int nr)
{
	struct slab_node *n = NULL;
	struct list_head list;

	INIT_LIST_HEAD(&list);
	for (unsigned int i = 0; i < nr; i++) {
		void *objp = objpp[i];
		struct slab_slab *slab = virt_to_slab(objp);
		struct slab_node *n2 = get_node(s, sl_slab_nid(slab));

		if (n2 != n) {
			if (n)
				spin_unlock(&n->list_lock);
			n = n2;
			spin_lock(&n->list_lock);
		}
		if (unlikely(!sl_object_in_array(s, objp) || !slab->active)) {
			spin_unlock(&n->list_lock);
			corrupt_object(s, objp, "freed back to its slab");
			spin_lock(&n->list_lock);
			continue;
		}
		put_obj_locked(s, n, slab, objp, &list);
	}
	if (n)
		spin_unlock(&n->list_lock);
	slabs_destroy(s, &list);
}

/* ------------------------------------------------------ shared and alien */

static struct sl_array *alloc_arraycache(int node, unsigned int entries, unsigned int batch)
{
	struct sl_array *ac = kmalloc_node(sizeof(struct sl_array) + sizeof(void *) * entries,
					   GFP_KERNEL | __GFP_NOWARN, node);

	if (ac) {
		spin_lock_init(&ac->lock);
		ac->avail = 0;
		ac->limit = entries;
		ac->batchcount = batch;
		ac->touched = 0;
	}
	return ac;
}

/*
 * drain_sl_array - give back @tofree of the oldest objects of a shared
 * (@lock is the node's list_lock) or alien (@lock is its own) array,
 * in chunks copied out under the lock and freed after it.
 */
static void drain_sl_array(struct kmem_cache *s, struct sl_array *ac, spinlock_t *lock,
			   unsigned int tofree)
{
	void *buf[64];

	while (tofree) {
		unsigned int nr;

		spin_lock(lock);
		nr = min_t(unsigned int, min_t(unsigned int, tofree, ac->avail), ARRAY_SIZE(buf));
		memcpy(buf, ac->entry, nr * sizeof(void *));
		ac->avail -= nr;
		memmove(ac->entry, ac->entry + nr, ac->avail * sizeof(void *));
		spin_unlock(lock);
		if (!nr)
			break;
		free_objects_to_slabs(s, buf, nr);
		tofree -= nr;
	}
}

static void free_alien_cache(struct sl_array **alien)
{
	if (!alien)
		return;
	for (int i = 0; i < nr_node_ids; i++)
		kfree(alien[i]);
	sl_meta_free(alien);
}

static struct sl_array **alloc_alien_cache(int node, unsigned int limit)
{
	struct sl_array **alc = sl_meta_alloc(sizeof(void *) * (size_t)nr_node_ids,
					      GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN, node);

	if (!alc)
		return NULL;
	if (limit > 1)
		limit = ALIEN_LIMIT;
	for (int i = 0; i < nr_node_ids; i++) {
		if (i == node)
			continue;
		alc[i] = alloc_arraycache(node, limit, 0xbaadf00d);
		if (!alc[i]) {
			free_alien_cache(alc);
			return NULL;
		}
	}
	return alc;
}

/*
 * give_to_node - objects of node @nid collected elsewhere (an alien
 * cache): into that node's shared array while it has room, the rest back
 * to their slabs (__drain_alien_cache).
 */
static void give_to_node(struct kmem_cache *s, int nid, void **objpp, unsigned int nr)
{
	struct slab_node *n = get_node(s, nid);

	spin_lock(&n->list_lock);
	if (n->shared) {
		struct sl_array *sh = n->shared;
		unsigned int room = min_t(unsigned int, sh->limit - sh->avail, nr);

		memcpy(sh->entry + sh->avail, objpp, room * sizeof(void *));
		sh->avail += room;
		objpp += room;
		nr -= room;
	}
	spin_unlock(&n->list_lock);
	if (nr)
		free_objects_to_slabs(s, objpp, nr);
}

/* Empty this node's alien caches; with @trylock, skip busy ones (the reaper). */
static void drain_alien(struct kmem_cache *s, struct slab_node *n, bool trylock)
{
	void *buf[ALIEN_LIMIT];

	if (!n->alien)
		return;
	for (int i = 0; i < nr_node_ids; i++) {
		struct sl_array *alc = n->alien[i];
		unsigned int nr;

		if (!alc || !READ_ONCE(alc->avail))
			continue;
		if (trylock) {
			if (!spin_trylock(&alc->lock))
				continue;
		} else {
			spin_lock(&alc->lock);
		}
		nr = alc->avail;
		memcpy(buf, alc->entry, nr * sizeof(void *));
		alc->avail = 0;
		spin_unlock(&alc->lock);
		give_to_node(s, i, buf, nr);
	}
}

/* cache_free_alien - @objp of node @nid, freed by a thread on node @mynode. */
static void cache_free_alien(struct kmem_cache *s, void *objp, int nid, int mynode)
{
	struct slab_node *n = get_node(s, mynode);
	struct sl_array *alc = n->alien ? n->alien[nid] : NULL;
	void *buf[ALIEN_LIMIT];
	unsigned int nr = 0;

	stat(s, SL_STAT_NODE_FREES);
	sl_mark_free(s, objp);
	if (!alc) {
		free_objects_to_slabs(s, &objp, 1);
		return;
	}
	spin_lock(&alc->lock);
	if (alc->avail >= alc->limit) {
		stat(s, SL_STAT_NODE_OVERFLOW);
		nr = alc->avail;
		memcpy(buf, alc->entry, nr * sizeof(void *));
		alc->avail = 0;
	}
	alc->entry[alc->avail++] = objp;
	spin_unlock(&alc->lock);
	if (nr)
		give_to_node(s, nid, buf, nr);
}

/* ------------------------------------------------------- the cpu slots */

static inline struct array_cache *area_slot(char *area, const struct kmem_cache *s)
{
	return (struct array_cache *)(area + s->cpu_offset);
}

/* Give every object of @ac back (this thread's, or a vanished one's). */
static void drain_slot(struct kmem_cache *s, struct array_cache *ac)
{
	unsigned int nr = ac->avail;

	if (!nr)
		return;
	ac->avail = 0;
	free_objects_to_slabs(s, ac->entry, nr);
}

/* Empty @ac, free its entry array, and leave the slot as a new thread's. */
static void flush_slot(struct kmem_cache *s, struct array_cache *ac)
{
	void **entry = ac->entry;

	if (!entry && !ac->gen)
		return;		/* never used: leave the page untouched */
	drain_slot(s, ac);
	if (entry && entry != ac->inline_entry)
		sl_meta_free(entry);
	memset(ac, 0, sizeof(*ac));
}

/*
 * resize_slot - the cache's tuning generation moved on (or the slot is
 * new): give back what the array holds and size it for the cache's
 * limit and batchcount.  The entry array is kmalloc'd with the slow
 * paths in direct mode, so that sizing kmalloc-1k's array cannot recurse
 * into sizing it again; before the kmalloc caches exist, or if the
 * kmalloc fails, the slot's inline entries serve (the kernel's boot
 * arrays), with at most SL_INLINE_ENTRIES.
 */
static void resize_slot(struct kmem_cache *s, struct array_cache *ac)
{
	struct slab_cache_be *be = slab_cache_be(s);
	unsigned int gen = __atomic_load_n(&be->gen, __ATOMIC_ACQUIRE);
	unsigned int limit = READ_ONCE(be->limit), batch = READ_ONCE(be->batchcount);
	void **old = ac->entry, **entry = NULL;

	drain_slot(s, ac);
	if (limit == ac->limit && old && (old != ac->inline_entry || limit <= SL_INLINE_ENTRIES)) {
		entry = old;		/* same size: keep the array */
		old = NULL;
	} else if (limit > SL_INLINE_ENTRIES && slab_state >= UP) {
		ac->limit = 0;
		ac->entry = NULL;
		sl_direct++;
		entry = sl_meta_alloc(sizeof(void *) * limit, GFP_NOWAIT | __GFP_NOWARN,
				      numa_node_id());
		sl_direct--;
	}
	if (!entry) {
		entry = ac->inline_entry;
		limit = min_t(unsigned int, limit, SL_INLINE_ENTRIES);
	}
	if (old == ac->inline_entry)
		old = NULL;
	ac->entry = entry;
	ac->limit = limit;
	ac->batchcount = clamp_t(unsigned int, batch, 1, limit);
	ac->touched = 0;
	ac->gen = gen;
	if (old)
		sl_meta_free(old);
}

static void cache_reap_all(void);

/* Every REAP_CLOCK_EVERY slow paths, the reaper (it looks at the clock itself). */
static inline void reap_tick(void)
{
	if (!sl_reaping && slab_state == FULL && ++sl_reap_tick >= REAP_CLOCK_EVERY) {
		sl_reap_tick = 0;
		cache_reap_all();
	}
}

/*
 * prepare_slot - the slow path's way into this thread's array for @s:
 * attach the thread, resize the slot if the cache was retuned, note the
 * thread's node, and now and then run the reaper.  NULL when the thread
 * cannot use its arrays (direct mode, or no cpu area).
 */
static struct array_cache *prepare_slot(struct kmem_cache *s)
{
	struct array_cache *ac;

	if (sl_direct)
		return NULL;
	if (unlikely(!cpu_attached()) && cpu_attach())
		return NULL;
	reap_tick();
	ac = sl_cpu_cache(s);
	if (unlikely(ac->gen != __atomic_load_n(&slab_cache_be(s)->gen, __ATOMIC_ACQUIRE)))
		resize_slot(s, ac);
	ac->node = (unsigned int)numa_node_id();
	return ac;
}

/* ------------------------------------------------------------- reaping */

/*
 * drain_array - the reaper's look at this thread's array: one that was
 * used since the last look is only marked untouched; an idle one gives
 * back a fifth of its limit (at most half of what it holds).
 */
static void drain_array(struct kmem_cache *s, struct array_cache *ac)
{
	unsigned int tofree;

	if (!ac->avail)
		return;
	if (ac->touched) {
		ac->touched = 0;
		return;
	}
	tofree = (ac->limit + 4) / 5;
	if (tofree > ac->avail)
		tofree = (ac->avail + 1) / 2;
	free_objects_to_slabs(s, ac->entry, tofree);
	ac->avail -= tofree;
	memmove(ac->entry, ac->entry + tofree, sizeof(void *) * ac->avail);
}

static void drain_shared(struct kmem_cache *s, struct slab_node *n, bool all)
{
	struct sl_array *sh = n->shared;
	unsigned int tofree;

	if (!sh || !READ_ONCE(sh->avail))
		return;
	spin_lock(&n->list_lock);
	if (!all && sh->touched) {
		sh->touched = 0;
		spin_unlock(&n->list_lock);
		return;
	}
	tofree = all ? sh->avail : (sh->limit + 4) / 5;
	if (!all && tofree > sh->avail)
		tofree = (sh->avail + 1) / 2;
	spin_unlock(&n->list_lock);
	drain_sl_array(s, sh, &n->list_lock, tofree);
}

/* drain_freelist - free up to @tofree empty slabs of @n; returns how many. */
static unsigned long drain_freelist(struct kmem_cache *s, struct slab_node *n, unsigned long tofree)
{
	unsigned long nr_freed = 0;

	while (nr_freed < tofree) {
		struct slab_slab *slab;

		spin_lock(&n->list_lock);
		if (list_empty(&n->slabs_free)) {
			spin_unlock(&n->list_lock);
			break;
		}
		slab = list_entry(n->slabs_free.prev, struct slab_slab, slab_list);
		list_del(&slab->slab_list);
		n->free_slabs--;
		n->total_slabs--;
		n->free_objects -= slab_cache_be(s)->num;
		spin_unlock(&n->list_lock);
		slab_destroy(s, slab);
		nr_freed++;
	}
	return nr_freed;
}

/*
 * cache_reap_one - the kernel's cache_reap() for one cache, as seen from
 * this thread: its alien caches on its node and its own array at every
 * call (REAPTIMEOUT_AC); the node's shared array and some free slabs when
 * the node's next_reap has come (REAPTIMEOUT_NODE), claimed by one thread.
 */
static void cache_reap_one(struct kmem_cache *s, uint64_t now)
{
	struct slab_cache_be *be = slab_cache_be(s);
	int node = numa_node_id();
	struct slab_node *n = get_node(s, node);
	uint64_t next;

	if (!n)
		return;
	drain_alien(s, n, true);
	if (cpu_attached()) {
		struct array_cache *ac = sl_cpu_cache(s);

		if (ac->gen == __atomic_load_n(&be->gen, __ATOMIC_ACQUIRE))
			drain_array(s, ac);
	}
	next = __atomic_load_n(&n->next_reap, __ATOMIC_RELAXED);
	if (now < next || !__atomic_compare_exchange_n(&n->next_reap, &next, now + REAPTIMEOUT_NODE,
						       false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;
	drain_shared(s, n, false);
	if (n->free_touched) {
		n->free_touched = 0;
	} else {
		unsigned int per = 5 * be->num;

		stat_add(s, SL_STAT_REAPED, drain_freelist(s, n, (n->free_limit + per - 1) / per));
	}
}

/*
 * cache_reap_all - every REAPTIMEOUT_AC, the reaper over every cache, from
 * a slow path of this thread; skipped if slab_mutex is busy (the next slow
 * path tries again).
 */
static void cache_reap_all(void)
{
	uint64_t now = os_now_ns();
	struct kmem_cache *s;

	if (now < sl_next_reap)
		return;
	if (pthread_mutex_trylock(&slab_mutex))
		return;
	sl_reaping++;
	sl_next_reap = now + REAPTIMEOUT_AC;
	list_for_each_entry(s, &slab_caches, list)
		cache_reap_one(s, now);
	sl_reaping--;
	pthread_mutex_unlock(&slab_mutex);
}

/* ------------------------------------------------------- allocation */

static noinline void *slab_out_of_memory(struct kmem_cache *s, gfp_t gfp, int nodeid)
{
	static struct ratelimit_state slab_oom_rs;

	if (gfp & __GFP_NOFAIL)
		uslab_panic("SLAB: Unable to allocate memory on node %d, gfp=%#x (__GFP_NOFAIL)\n"
			    "  cache: %s, object size: %u, order: %u\n",
			    nodeid, gfp, s->name, s->size, slab_cache_be(s)->gfporder);
	/* an off-slab freelist failed by fault injection: no shortage to report */
	if (failslab_fired)
		return NULL;
	if (!(gfp & __GFP_NOWARN) && __ratelimit(&slab_oom_rs, "slab_out_of_memory")) {
		pr_warn("SLAB: Unable to allocate memory on node %d, gfp=%#x\n", nodeid, gfp);
		pr_warn("  cache: %s, object size: %u, order: %u\n", s->name, s->size,
			slab_cache_be(s)->gfporder);
		for (int node = 0; node < nr_node_ids; node++) {
			struct slab_node *n = get_node(s, node);
			unsigned long total, free, objs;

			spin_lock(&n->list_lock);
			total = n->total_slabs;
			free = n->free_slabs;
			objs = n->free_objects;
			spin_unlock(&n->list_lock);
			pr_warn("  node %d: slabs: %lu/%lu, objs: %lu/%lu\n", node, total - free, total,
				total * slab_cache_be(s)->num - objs, total * slab_cache_be(s)->num);
		}
	}
	return NULL;
}

/*
 * ____cache_alloc_node - one object straight from @nodeid's slabs, for an
 * allocation on another node than this thread's, or without an array.
 * The object comes back in the array state; the caller clears it.
 */
static void *____cache_alloc_node(struct kmem_cache *s, gfp_t gfp, int nodeid)
{
	struct slab_node *n = get_node(s, nodeid);
	struct slab_slab *slab;
	void *objp = NULL;

retry:
	spin_lock(&n->list_lock);
	slab = get_first_slab(n);
	if (slab) {
		objp = slab_get_obj(s, slab);
		n->free_objects--;
		fixup_slab_list(s, n, slab);
		sl_stat_set_high(s);
		spin_unlock(&n->list_lock);
		if (unlikely(!objp))
			goto retry;
		stat(s, SL_STAT_NODE_ALLOCS);
		return objp;
	}
	spin_unlock(&n->list_lock);
	slab = cache_grow_begin(s, gfp, nodeid);
	if (slab)
		objp = slab_get_obj(s, slab);
	cache_grow_end(s, slab);
	/* the kernel counts only the first case; both take an object off a slab */
	if (objp)
		stat(s, SL_STAT_NODE_ALLOCS);
	return objp;
}

/* alloc_block - move up to @batchcount objects of @slab into @ac. */
static int alloc_block(struct kmem_cache *s, struct array_cache *ac, struct slab_slab *slab,
		       int batchcount)
{
	unsigned int before = ac->avail;

	while (slab->active < slab_cache_be(s)->num && batchcount--) {
		void *objp = slab_get_obj(s, slab);

		if (objp)
			ac->entry[ac->avail++] = objp;
	}
	stat_add(s, SL_STAT_ALLOCS, ac->avail - before);
	return batchcount;
}

/*
 * cache_alloc_refill - this thread's array is empty: take a batch from
 * the node's shared array, else from its partial then free slabs, else
 * grow a slab.  Returns the object to hand out, or NULL.
 */
static void *cache_alloc_refill(struct kmem_cache *s, struct array_cache *ac, gfp_t gfp)
{
	int node = (int)ac->node;
	struct slab_node *n = get_node(s, node);
	int batchcount = (int)ac->batchcount;
	struct slab_slab *slab;
	struct sl_array *shared;

	if (!ac->touched && batchcount > BATCHREFILL_LIMIT)
		batchcount = BATCHREFILL_LIMIT;
	shared = READ_ONCE(n->shared);
	if (!READ_ONCE(n->free_objects) && (!shared || !READ_ONCE(shared->avail)))
		goto direct_grow;

	spin_lock(&n->list_lock);
	shared = n->shared;
	if (shared && shared->avail) {
		unsigned int nr = min_t(unsigned int, shared->avail, (unsigned int)batchcount);

		shared->avail -= nr;
		memcpy(ac->entry + ac->avail, shared->entry + shared->avail, nr * sizeof(void *));
		ac->avail += nr;
		shared->touched = 1;
		goto alloc_done;
	}
	while (batchcount > 0) {
		unsigned int before;

		slab = get_first_slab(n);
		if (!slab)
			break;
		before = slab->active;
		batchcount = alloc_block(s, ac, slab, batchcount);
		n->free_objects -= slab->active - before;
		fixup_slab_list(s, n, slab);
	}
	sl_stat_set_high(s);
alloc_done:
	spin_unlock(&n->list_lock);
direct_grow:
	if (unlikely(!ac->avail)) {
		slab = cache_grow_begin(s, gfp, node);
		if (slab)
			alloc_block(s, ac, slab, batchcount > 0 ? batchcount : 1);
		cache_grow_end(s, slab);
		if (!ac->avail)
			return NULL;
	}
	ac->touched = 1;
	return ac->entry[--ac->avail];
}

/*
 * sl_debug_alloc - an allocation from a debug cache: straight from the
 * slabs of @node (or of this thread's node), each object checked and set
 * up by debug_alloc_obj() under the node's list_lock.
 */
static void *sl_debug_alloc(struct kmem_cache *s, gfp_t gfp, int node)
{
	int nodeid = node == NUMA_NO_NODE ? numa_node_id() : node;
	struct slab_node *n = get_node(s, nodeid);
	struct slab_slab *slab;
	struct track track;
	void *objp;

	if (!sl_direct)
		reap_tick();
	if (s->flags & SLAB_STORE_USER)
		set_track(&track);
	do {
		spin_lock(&n->list_lock);
		slab = get_first_slab(n);
		if (slab) {
			unsigned int before = slab->active;

			objp = debug_alloc_obj(s, slab, &track);
			n->free_objects -= slab->active - before;
			fixup_slab_list(s, n, slab);
			sl_stat_set_high(s);
			spin_unlock(&n->list_lock);
		} else {
			spin_unlock(&n->list_lock);
			slab = cache_grow_begin(s, gfp, nodeid);
			if (!slab)
				return slab_out_of_memory(s, gfp, node);
			objp = debug_alloc_obj(s, slab, &track);
			cache_grow_end(s, slab);
		}
		trace_stack();
	} while (!objp);
	stat(s, SL_STAT_NODE_ALLOCS);
	if (unlikely(gfp & __GFP_ZERO))
		memset(objp, 0, s->object_size);
	return objp;
}

/*
 * sl_cache_alloc_slow - everything the fast path leaves out: an empty
 * array, another node, __GFP_ZERO, a thread without a cpu area, and every
 * allocation from a debug cache.
 */
noinline void *sl_cache_alloc_slow(struct kmem_cache *s, gfp_t gfp, int node)
{
	struct array_cache *ac;
	void *objp;

	if (unlikely(kmem_cache_debug(s)))
		return sl_debug_alloc(s, gfp, node);
again:
	ac = prepare_slot(s);
	if (!ac) {
		objp = ____cache_alloc_node(s, gfp, node == NUMA_NO_NODE ? numa_node_id() : node);
	} else if (node != NUMA_NO_NODE && (unsigned int)node != ac->node) {
		objp = ____cache_alloc_node(s, gfp, node);
	} else if (ac->avail) {
		ac->touched = 1;
		objp = ac->entry[--ac->avail];
	} else {
		objp = cache_alloc_refill(s, ac, gfp);
	}
	if (unlikely(!objp))
		return slab_out_of_memory(s, gfp, node);
	if (unlikely(!sl_object_in_array(s, objp))) {
		corrupt_object(s, objp, "in an array cache");
		goto again;
	}
	sl_mark_allocated(s, objp);
	if (unlikely(gfp & __GFP_ZERO))
		memset(objp, 0, s->object_size);
	return objp;
}

noinline void *sl_alloc_bad_marker(struct kmem_cache *s, void *objp, gfp_t gfp, int node)
{
	struct array_cache *ac = sl_cpu_cache(s);

	ac->avail--;
	corrupt_object(s, objp, "in an array cache");
	return sl_cache_alloc_slow(s, gfp, node);
}

/* -------------------------------------------------------------- freeing */

/*
 * cache_flusharray - this thread's array is full: its oldest batchcount
 * objects go to the node's shared array while it has room, else back to
 * their slabs.
 */
static void cache_flusharray(struct kmem_cache *s, struct array_cache *ac)
{
	unsigned int batchcount = ac->batchcount;
	struct slab_node *n = get_node(s, (int)ac->node);
	bool done = false;

	spin_lock(&n->list_lock);
	if (n->shared) {
		struct sl_array *sh = n->shared;
		unsigned int max = sh->limit - sh->avail;

		if (max) {
			batchcount = min_t(unsigned int, batchcount, max);
			memcpy(sh->entry + sh->avail, ac->entry, batchcount * sizeof(void *));
			sh->avail += batchcount;
			done = true;
		}
	}
	spin_unlock(&n->list_lock);
	if (!done) {
		/*
		 * A slab emptied here may kfree its off-slab freelist, whose slow
		 * path must not run the reaper on this array while its oldest
		 * batchcount entries are on their way back.
		 */
		sl_reaping++;
		free_objects_to_slabs(s, ac->entry, batchcount);
		sl_reaping--;
	}
	/* STATS_SET_FREEABLE: the node's free slabs, read without its lock */
	if (unlikely(slab_stats_enabled))
		stat_max(s, SL_STAT_MAX_FREEABLE, READ_ONCE(n->free_slabs));
	ac->avail -= batchcount;
	memmove(ac->entry, ac->entry + batchcount, sizeof(void *) * ac->avail);
}

/*
 * check_live_object - whether @x is the start of an object of @slab that
 * is not free; reports in the kernel's words if not: BUG-class, or for a
 * debug cache slab_debug's counted reports.
 */
static bool check_live_object(struct kmem_cache *s, struct slab_slab *slab, const void *x)
{
	uintptr_t off = (uintptr_t)x - (uintptr_t)slab->s_mem;

	if (unlikely(off >= slab->span || !sl_is_object_offset(s, off))) {
		if (kmem_cache_debug(s))
			slab_err(s, slab, "Invalid object pointer %p", x);
		else
			slab_bug(s, slab, "Invalid object pointer", "%p is not the start of an object", x);
		return false;
	}
	if (unlikely(sl_object_is_free(s, x))) {
		if (kmem_cache_debug(s))
			object_err(s, slab, x, "Object already free");
		else
			object_bug(s, slab, x, "Object already free");
		return false;
	}
	return true;
}

/*
 * sl_debug_free - a free into a debug cache (the kernel's
 * free_debug_processing()).  A pointer that is no object, an object
 * already free, or (F) one whose red zones or padding were written is
 * reported and not freed: it stays allocated for good.  Otherwise the
 * free is recorded (U), traced (T), the object poisoned and red-zoned as
 * free, and it goes straight back onto its slab, all under its node's
 * list_lock.
 */
static void sl_debug_free(struct kmem_cache *s, void *x, struct slab_slab *slab)
{
	struct slab_node *n = get_node(s, sl_slab_nid(slab));
	struct list_head list;
	struct track track;
	bool freed = false;

	INIT_LIST_HEAD(&list);
	if (s->flags & SLAB_STORE_USER)
		set_track(&track);
	spin_lock(&n->list_lock);
	if (!check_live_object(s, slab, x)) {
		/* reported: not an object, or already free */
	} else if (unlikely(!slab->active)) {
		slab_err(s, slab, "Slab has %u allocated objects but %d are to be freed",
			 slab->active, 1);
	} else if (!(s->flags & SLAB_CONSISTENCY_CHECKS) ||
		   check_object(s, slab, x, SLUB_RED_ACTIVE)) {
		if (s->flags & SLAB_STORE_USER)
			debug_set_track(s, x, TRACK_FREE, &track);
		trace(s, slab, x, false);
		init_object(s, x, SLUB_RED_INACTIVE);
		put_obj_locked(s, n, slab, x, &list);
		freed = true;
	}
	spin_unlock(&n->list_lock);
	trace_stack();
	if (!freed)
		sl_fix(s, "Object at %p not freed", x);
	slabs_destroy(s, &list);
}

/* __cache_free - a checked, live object @objp of @s goes to an array. */
static void __cache_free(struct kmem_cache *s, void *objp, struct slab_slab *slab)
{
	struct array_cache *ac = prepare_slot(s);
	int nid = sl_slab_nid(slab);

	if (!ac) {
		sl_mark_free(s, objp);
		free_objects_to_slabs(s, &objp, 1);
		return;
	}
	if (use_alien_caches && (unsigned int)nid != ac->node) {
		cache_free_alien(s, objp, nid, (int)ac->node);
		return;
	}
	if (ac->avail >= ac->limit)
		cache_flusharray(s, ac);
	sl_mark_free(s, objp);
	ac->entry[ac->avail++] = objp;
}

/*
 * sl_cache_free_slow - what the free fast path did not take: @page is
 * any page of @x's slab if the caller knew it, else NULL.  Bad pointers,
 * interior pointers, double frees and frees into the wrong cache are
 * reported here.
 */
noinline void sl_cache_free_slow(struct kmem_cache *s, void *x, struct page *page)
{
	struct slab_slab *slab;

	if (!page || !(page->flags & PG_slab)) {
		page = kmem_cache_free_lookup(x);
		if (!page)
			return;
	}
	slab = sl_page_slab(compound_head(page));
	s = cache_from_obj(s, sl_slab_page(slab));
	if (unlikely(kmem_cache_debug(s))) {
		sl_debug_free(s, x, slab);
		return;
	}
	if (!check_live_object(s, slab, x))
		return;
	__cache_free(s, x, slab);
}

/* ------------------------------------------------ the fast paths' entries */

/*
 * The entries the dispatch (src/slab_fast.h, slab_alloc_ool and
 * slab_free_ool) jumps to: the inline fast paths compiled once each,
 * plain, and counting for the slab_stats option (chosen at start-up).
 */
void *slab_alloc_slab_entry(struct kmem_cache *s, gfp_t gfp, int node)
{
	return slab_alloc_node_slab_x(s, gfp, node, false);
}

void slab_free_slab_entry(struct kmem_cache *s, void *x, struct page *page)
{
	slab_free_slab_x(s, x, page, false);
}

void *slab_alloc_slab_entry_stats(struct kmem_cache *s, gfp_t gfp, int node)
{
	return slab_alloc_node_slab_x(s, gfp, node, true);
}

void slab_free_slab_entry_stats(struct kmem_cache *s, void *x, struct page *page)
{
	slab_free_slab_x(s, x, page, true);
}

/* ---------------------------------------------------- creating caches */

/*
 * cache_estimate - objects of @size in a slab of 2^@gfporder pages, and
 * what is left over: with the freelist array on the slab each object
 * also takes one index.
 */
static unsigned int cache_estimate(unsigned int gfporder, size_t size, slab_flags_t flags,
				   size_t *left_over)
{
	size_t slab_size = PAGE_SIZE << gfporder;
	size_t per = size;

	if (!(flags & (CFLGS_OBJFREELIST_SLAB | CFLGS_OFF_SLAB)))
		per += sizeof(freelist_idx_t);
	*left_over = slab_size % per;
	return (unsigned int)(slab_size / per);
}

/*
 * calculate_slab_order - the smallest order that holds an object, then
 * larger ones while the slab wastes more than an eighth of itself, up to
 * slab_max_order (SLAB_RECLAIM_ACCOUNT caches stop at the first fit).
 * Off-slab arrays must come from a kmalloc cache that is itself on-slab
 * and no bigger than half an object.
 */
static size_t calculate_slab_order(struct kmem_cache *s, size_t size, slab_flags_t flags)
{
	struct slab_cache_be *be = slab_cache_be(s);
	size_t left_over = 0;

	for (unsigned int gfporder = 0; gfporder <= MAX_ORDER; gfporder++) {
		size_t remainder;
		unsigned int num = cache_estimate(gfporder, size, flags, &remainder);

		if (!num)
			continue;
		if (num > SLAB_OBJ_MAX_NUM)
			break;
		if (flags & CFLGS_OFF_SLAB) {
			size_t freelist_size = num * sizeof(freelist_idx_t);
			struct kmem_cache *fc = kmalloc_slab(freelist_size + SL_META_GUARD);

			if (!fc || OFF_SLAB(fc))
				continue;
			if (fc->size > size / 2)
				continue;
		}
		be->num = num;
		be->gfporder = gfporder;
		left_over = remainder;
		if (flags & SLAB_RECLAIM_ACCOUNT)
			break;
		if (gfporder >= slab_max_order)
			break;
		if (left_over * 8 <= (PAGE_SIZE << gfporder))
			break;
	}
	return left_over;
}

/*
 * set_objfreelist_slab_cache - the array inside a free object: only for
 * objects that need not keep their contents while free, and whose array
 * fits in the object before its free marker (the one difference from the
 * kernel, which only needs it to fit in the object); never for a debug
 * cache, whose free objects are checked whole.
 */
static bool set_objfreelist_slab_cache(struct kmem_cache *s, size_t size, slab_flags_t flags)
{
	struct slab_cache_be *be = slab_cache_be(s);
	size_t left;

	be->num = 0;
	if (s->ctor || (flags & (SLAB_TYPESAFE_BY_RCU | SLAB_POISON | SLAB_DEBUG_FLAGS)))
		return false;
	left = calculate_slab_order(s, size, flags | CFLGS_OBJFREELIST_SLAB);
	if (!be->num)
		return false;
	if (be->num * sizeof(freelist_idx_t) > s->offset)
		return false;
	be->colour = (unsigned int)(left / be->colour_off);
	return true;
}

/* set_off_slab_cache - a kmalloc'd array, when the slab has no room to spare for it. */
static bool set_off_slab_cache(struct kmem_cache *s, size_t size, slab_flags_t flags)
{
	struct slab_cache_be *be = slab_cache_be(s);
	size_t left;

	be->num = 0;
	/* the node cache and kmem_cache are made before any kmalloc cache */
	if ((flags & SLAB_NOLEAKTRACE) || slab_state < PARTIAL_NODE)
		return false;
	left = calculate_slab_order(s, size, flags | CFLGS_OFF_SLAB);
	if (!be->num)
		return false;
	/* the array would fit in what is left over: keep it on the slab */
	if (left >= be->num * sizeof(freelist_idx_t))
		return false;
	be->colour = (unsigned int)(left / be->colour_off);
	return true;
}

static bool set_on_slab_cache(struct kmem_cache *s, size_t size, slab_flags_t flags)
{
	struct slab_cache_be *be = slab_cache_be(s);
	size_t left;

	be->num = 0;
	left = calculate_slab_order(s, size, flags);
	if (!be->num)
		return false;
	be->colour = (unsigned int)(left / be->colour_off);
	return true;
}

static void kmem_cache_node_init(struct slab_node *n)
{
	memset(n, 0, sizeof(*n));
	spin_lock_init(&n->list_lock);
	INIT_LIST_HEAD(&n->slabs_partial);
	INIT_LIST_HEAD(&n->slabs_full);
	INIT_LIST_HEAD(&n->slabs_free);
}

static uint64_t first_reap(const struct kmem_cache *s)
{
	return os_now_ns() + REAPTIMEOUT_NODE + ((uintptr_t)s % REAPTIMEOUT_NODE);
}

/*
 * cache_random_seq_create - the cache's shuffled index sequence (seeded
 * per cache), kmalloc'd once num is known and kmalloc works.
 */
static int cache_random_seq_create(struct kmem_cache *s)
{
	struct slab_cache_be *be = slab_cache_be(s);
	unsigned int count = be->num, *seq;
	uint64_t state = os_random() | 1;

	if (!slab_freelist_random() || count < 2 || be->random_seq)
		return 0;
	seq = sl_meta_alloc(count * sizeof(unsigned int), GFP_KERNEL | __GFP_NOWARN, NUMA_NO_NODE);
	if (!seq)
		return -ENOMEM;
	for (unsigned int i = 0; i < count; i++)
		seq[i] = i;
	for (unsigned int i = count - 1; i > 0; i--) {
		unsigned int j, t;

		state ^= state >> 12;
		state ^= state << 25;
		state ^= state >> 27;
		j = (unsigned int)((state * 0x2545f4914f6cdd1dull) % (i + 1));
		t = seq[i];
		seq[i] = seq[j];
		seq[j] = t;
	}
	be->random_seq = seq;
	return 0;
}

/*
 * setup_kmem_cache_node - @node's structure, shared array and alien
 * caches for the cache's current tunables (new ones replace old ones;
 * the objects of a replaced shared array go back to their slabs).
 */
static int setup_kmem_cache_node(struct kmem_cache *s, int node)
{
	struct slab_cache_be *be = slab_cache_be(s);
	struct sl_array *new_shared = NULL, *old_shared;
	struct sl_array **new_alien = NULL;
	struct slab_node *n = get_node(s, node);

	if (use_alien_caches && !kmem_cache_debug(s) && (!n || !n->alien)) {
		new_alien = alloc_alien_cache(node, be->limit);
		if (!new_alien)
			return -ENOMEM;
	}
	if (be->shared) {
		new_shared = alloc_arraycache(node, be->shared * be->batchcount, 0xbaadf00d);
		if (!new_shared) {
			free_alien_cache(new_alien);
			return -ENOMEM;
		}
	}
	if (!n) {
		n = kmalloc_node(sizeof(*n), GFP_KERNEL | __GFP_NOWARN, node);
		if (!n) {
			kfree(new_shared);
			free_alien_cache(new_alien);
			return -ENOMEM;
		}
		kmem_cache_node_init(n);
		n->next_reap = first_reap(s);
		be->node[node] = n;
	}
	spin_lock(&n->list_lock);
	n->free_limit = (1 + nr_cpus_node()) * be->batchcount + be->num;
	old_shared = n->shared;
	n->shared = new_shared;
	if (!n->alien) {
		n->alien = new_alien;
		new_alien = NULL;
	}
	spin_unlock(&n->list_lock);
	if (old_shared) {
		/* no thread can reach it now: no lock needed but the node's for the slabs */
		free_objects_to_slabs(s, old_shared->entry, old_shared->avail);
		kfree(old_shared);
	}
	free_alien_cache(new_alien);
	return 0;
}

/*
 * do_tune_cpucache - new tunables: the nodes' shared arrays are replaced
 * now; every thread resizes its own array on its next slow path (the
 * generation moves on), this one at once.
 */
static int do_tune_cpucache(struct kmem_cache *s, unsigned int limit, unsigned int batchcount,
			    unsigned int shared)
{
	struct slab_cache_be *be = slab_cache_be(s);
	int err = 0;

	if (kmem_cache_debug(s)) {
		/* slab_debug: no arrays, every allocation and free is checked (sl_debug_alloc) */
		limit = 0;
		batchcount = 1;
		shared = 0;
	}
	WRITE_ONCE(be->limit, limit);
	WRITE_ONCE(be->batchcount, batchcount);
	WRITE_ONCE(be->shared, shared);
	for (int node = 0; node < nr_node_ids; node++) {
		err = setup_kmem_cache_node(s, node);
		if (err)
			break;
	}
	__atomic_add_fetch(&be->gen, 1, __ATOMIC_RELEASE);
	if (cpu_attached() && !sl_direct)
		resize_slot(s, sl_cpu_cache(s));
	return err;
}

/* enable_cpucache - the kernel's tunables by object size, and the random sequence. */
static int enable_cpucache(struct kmem_cache *s)
{
	unsigned int limit, shared = 0;
	int err;

	err = cache_random_seq_create(s);
	if (err)
		goto end;
	if (s->size > 131072)
		limit = 1;
	else if (s->size > PAGE_SIZE)
		limit = 8;
	else if (s->size > 1024)
		limit = 24;
	else if (s->size > 256)
		limit = 54;
	else
		limit = 120;
	if (s->size <= PAGE_SIZE && os_nr_cpus() > 1)
		shared = 8;
	err = do_tune_cpucache(s, limit, (limit + 1) / 2, shared);
end:
	if (err)
		pr_err("enable_cpucache failed for %s, error %d\n", s->name, -err);
	return err;
}

int slab_tune_cpucache(struct kmem_cache *s, int limit, int batchcount, int shared)
{
	if (limit < 1 || batchcount < 1 || batchcount > limit || shared < 0)
		return -EINVAL;
	if ((unsigned int)limit > SLAB_LIMIT_MAX ||
	    (unsigned long)shared * (unsigned long)batchcount > SLAB_SHARED_ENTRIES_MAX) {
		pr_err("slabinfo: %s: limit %d, batchcount %d, shared %d: arrays too large (limit <= %u, shared * batchcount <= %u)\n",
		       s->name, limit, batchcount, shared, SLAB_LIMIT_MAX, SLAB_SHARED_ENTRIES_MAX);
		return -EINVAL;
	}
	return do_tune_cpucache(s, (unsigned int)limit, (unsigned int)batchcount,
				(unsigned int)shared) ? -ENOMEM : 0;
}

/*
 * setup_cpu_cache - once the kmalloc caches exist, the real tunables;
 * before, boot arrays of one entry, and nodes from the static init lists
 * (kmem_cache while DOWN, the node cache while PARTIAL) or kmalloc.
 */
static int setup_cpu_cache(struct kmem_cache *s)
{
	struct slab_cache_be *be = slab_cache_be(s);

	if (slab_state >= UP)
		return enable_cpucache(s);
	be->limit = kmem_cache_debug(s) ? 0 : BOOT_CPUCACHE_ENTRIES;
	be->batchcount = 1;
	be->shared = 0;
	for (int node = 0; node < nr_node_ids; node++) {
		struct slab_node *n;

		if (slab_state == DOWN) {
			n = &init_kmem_cache_node[CACHE_CACHE + node];
		} else if (slab_state == PARTIAL) {
			n = &init_kmem_cache_node[SIZE_NODE + node];
		} else {
			n = kmalloc_node(sizeof(*n), GFP_NOWAIT, node);
			if (!n)
				uslab_panic("SLAB: no memory for the node structures of %s\n", s->name);
			kmem_cache_node_init(n);
		}
		n->next_reap = first_reap(s);
		n->free_limit = (1 + nr_cpus_node()) * be->batchcount + be->num;
		be->node[node] = n;
	}
	return 0;
}

static void free_kmem_cache_nodes(struct kmem_cache *s)
{
	struct slab_cache_be *be = slab_cache_be(s);

	for (int node = 0; node < nr_node_ids; node++) {
		struct slab_node *n = be->node[node];

		if (!n)
			continue;
		kfree(n->shared);
		free_alien_cache(n->alien);
		kfree(n);
		be->node[node] = NULL;
	}
}

_Static_assert(!((CFLGS_OBJFREELIST_SLAB | CFLGS_OFF_SLAB) &
		 (SLAB_CREATE_MASK | SLAB_DEBUG_ORDER_OFF)),
	       "the freelist placement bits are no SLAB_* flag");

/*
 * calculate_sizes - the layout of an object for @flags (word and cache
 * alignment, the free marker; with slab_debug flags, the red zones,
 * tracks and padding of "slab_debug" above), then the freelist placement
 * in the kernel's order, the objects per slab and the colours, for the
 * alignment @align the cache was created with.  0, with the placement's
 * CFLGS_* bit added to *@flags, or -E2BIG.
 */
static int calculate_sizes(struct kmem_cache *s, slab_flags_t *flags, unsigned int align)
{
	struct slab_cache_be *be = slab_cache_be(s);
	unsigned int size = ALIGN(s->object_size, (unsigned int)sizeof(void *));
	unsigned int ralign = sizeof(void *);
	bool keep_contents = s->ctor || (*flags & (SLAB_TYPESAFE_BY_RCU | SLAB_POISON));

	if (ralign < align)
		ralign = align;
	/*
	 * kmalloc(2^n) is aligned to 2^n however it is debugged (the kernel's
	 * create_boot_cache): with the metadata, the alignment must say so.
	 */
	if ((*flags & SLAB_DEBUG_FLAGS) && (*flags & SLAB_KMALLOC) &&
	    is_power_of_2(s->object_size) && ralign < s->object_size)
		ralign = s->object_size;
	s->align = ralign;
	be->colour_off = CACHE_LINE_SIZE;
	if (be->colour_off < s->align)
		be->colour_off = s->align;
	be->red_left = be->track_off = be->orig_off = 0;
	be->inuse = size;
	if (*flags & SLAB_DEBUG_FLAGS) {
		unsigned int off;

		/* a right red zone of one word at least */
		if ((*flags & SLAB_RED_ZONE) && be->inuse == s->object_size)
			be->inuse += sizeof(void *);
		s->offset = be->inuse;
		off = be->inuse + (unsigned int)sizeof(void *);
		if (*flags & SLAB_STORE_USER) {
			be->track_off = off;
			off += 2 * (unsigned int)sizeof(struct track);
			if (*flags & SLAB_KMALLOC) {
				be->orig_off = off;
				off += sizeof(unsigned long);
			}
		}
		be->meta_end = off;
		if (*flags & SLAB_RED_ZONE) {
			/* a word of padding: a write just past the metadata is seen (P) */
			off += sizeof(void *);
			be->red_left = ALIGN((unsigned int)sizeof(void *), s->align);
		}
		size = ALIGN(be->red_left + off, s->align);
	} else {
		/* The free marker: after the object when the object keeps its contents. */
		if (keep_contents)
			size += sizeof(void *);
		size = ALIGN(size, s->align);
		if (size < SLAB_OBJ_MIN_SIZE)
			size = ALIGN(SLAB_OBJ_MIN_SIZE, s->align);
		s->offset = keep_contents ? be->inuse : size - (unsigned int)sizeof(void *);
		be->meta_end = size;
	}
	s->size = size;

	if (set_objfreelist_slab_cache(s, size, *flags))
		*flags |= CFLGS_OBJFREELIST_SLAB;
	else if (set_off_slab_cache(s, size, *flags))
		*flags |= CFLGS_OFF_SLAB;
	else if (!set_on_slab_cache(s, size, *flags))
		return -E2BIG;
	return 0;
}

/*
 * slab_create - the kernel's __kmem_cache_create: the layout and the
 * freelist placement (calculate_sizes), slab_debug's O (no debugging
 * where it would raise the slab order, as the kernel's
 * disable_higher_order_debug), the cpu slot and the arrays.
 */
static int slab_create(struct kmem_cache *s, slab_flags_t flags)
{
	struct slab_cache_be *be = slab_cache_be(s);
	bool order_off = flags & SLAB_DEBUG_ORDER_OFF;
	unsigned int align = s->align;
	int slot, err;

	flags &= ~SLAB_DEBUG_ORDER_OFF;
	/* 'O': the flags that add metadata go, F and T stay (the kernel's rule) */
	if (order_off && (flags & SLAB_DEBUG_LAYOUT_FLAGS)) {
		slab_flags_t plain = flags & ~SLAB_DEBUG_LAYOUT_FLAGS, debug = flags;

		if (!calculate_sizes(s, &plain, align)) {
			unsigned int plain_order = be->gfporder;

			if (calculate_sizes(s, &debug, align) || be->gfporder > plain_order)
				flags &= ~SLAB_DEBUG_LAYOUT_FLAGS;
		}
	}
	err = calculate_sizes(s, &flags, align);
	if (err == -E2BIG && (flags & SLAB_DEBUG_FLAGS)) {
		/* the big kmalloc caches: the metadata does not fit the largest slab */
		pr_warn("SLAB: %s: no room for slab_debug's metadata in a slab of order %u; not debugged\n",
			s->name, (unsigned int)MAX_ORDER);
		flags &= ~SLAB_DEBUG_FLAGS;
		err = calculate_sizes(s, &flags, align);
	}
	if (err)
		return err;

	be->freelist_size = be->num * (unsigned int)sizeof(freelist_idx_t);
	s->flags = flags;
	s->random = (uintptr_t)os_random() | (uintptr_t)1 << 56;
	s->reciprocal_size = ((1ULL << RECIPROCAL_SHIFT) + s->size - 1) / s->size;
	s->divisor_magic = UINT64_MAX / s->size + 1;
	be->gen = 1;

	slot = cpu_slot_alloc();
	if (slot < 0) {
		pr_err("SLAB: %s: all %d cpu slots are in use; destroy a cache first\n",
		       s->name, CPU_SLOTS_MAX - 1);
		return -ENOSPC;
	}
	s->cpu_id = (unsigned int)slot;
	s->cpu_offset = (unsigned int)slot * CPU_SLOT_SIZE;
	err = setup_cpu_cache(s);
	if (err) {
		/*
		 * do_tune_cpucache sized this thread's array before it gave
		 * up: free the array, and leave the slot clean for the next
		 * cache to get it.  No other thread has seen the cache.
		 */
		if (cpu_attached())
			flush_slot(s, sl_cpu_cache(s));
		free_kmem_cache_nodes(s);
		sl_meta_free(be->random_seq);
		be->random_seq = NULL;
		cpu_slot_free(slot);
		return -ENOMEM;
	}
	return 0;
}

/* A merged user of @size bytes: SLAB's objects already cover it (find_mergeable). */
static void slab_alias(struct kmem_cache *s, unsigned int size)
{
	(void)s;
	(void)size;
}

/* ------------------------------------------- shrinking and destroying */

/* Give back every object the node's shared array and alien caches hold. */
static void drain_node_arrays(struct kmem_cache *s)
{
	/*
	 * Every node's alien caches first: draining one may move objects into
	 * their home node's shared array, which is drained after.
	 */
	for (int node = 0; node < nr_node_ids; node++)
		drain_alien(s, get_node(s, node), false);
	for (int node = 0; node < nr_node_ids; node++)
		drain_shared(s, get_node(s, node), true);
}

/*
 * slab_shrink - this thread's array and every node's shared and alien
 * arrays back to the slabs, then every free slab back to the page
 * allocator; other threads give their arrays back on their next slow
 * path (the generation moves on).  0 if no slab is left, 1 otherwise (the
 * kernel's __kmem_cache_shrink).
 */
static int slab_shrink(struct kmem_cache *s)
{
	int ret = 0;

	__atomic_add_fetch(&slab_cache_be(s)->gen, 1, __ATOMIC_RELEASE);
	if (cpu_attached() && !sl_direct)
		resize_slot(s, sl_cpu_cache(s));
	drain_node_arrays(s);
	for (int node = 0; node < nr_node_ids; node++) {
		struct slab_node *n = get_node(s, node);

		drain_freelist(s, n, ULONG_MAX);
		spin_lock(&n->list_lock);
		ret += !list_empty(&n->slabs_full) || !list_empty(&n->slabs_partial);
		spin_unlock(&n->list_lock);
	}
	return ret ? 1 : 0;
}

static void flush_area_slot(char *area, void *arg)
{
	struct kmem_cache *s = arg;

	flush_slot(s, area_slot(area, s));
}

/*
 * list_slab_objects - the kernel's report of a slab that still has
 * objects when its cache is destroyed: the slab (counted once), then each
 * object not on its freelist, with its tracks (U) (each counted once).
 */
static void list_slab_objects(struct kmem_cache *s, struct slab_slab *slab)
{
	unsigned int num = slab_cache_be(s)->num;
	unsigned char is_free[SLAB_OBJ_MAX_NUM + 1];

	slab_report_header(s, "Objects remaining in %s on __kmem_cache_shutdown()", s->name);
	print_slab(s, slab);
	sl_count();
	memset(is_free, 0, sizeof(is_free));
	for (unsigned int i = slab->active; i < num; i++)
		if (get_free_obj(slab, i) < num)
			is_free[get_free_obj(slab, i)] = 1;
	for (unsigned int i = 0; i < num; i++) {
		void *objp = index_to_obj(s, slab, i);

		if (is_free[i])
			continue;
		pr_err("Object %p @offset=%lu\n", objp,
		       (unsigned long)((unsigned char *)objp - slab_base(slab)));
		print_tracking(s, objp);
		sl_count();
	}
	dump_stack();
}

static int slab_shutdown(struct kmem_cache *s)
{
	long remaining = 0;

	sl_direct++;
	cpu_for_each_area(flush_area_slot, s);
	sl_direct--;
	drain_node_arrays(s);
	for (int node = 0; node < nr_node_ids; node++) {
		struct slab_node *n = get_node(s, node);
		struct slab_slab *slab;

		drain_freelist(s, n, ULONG_MAX);
		spin_lock(&n->list_lock);
		remaining += (long)n->total_slabs;
		list_for_each_entry(slab, &n->slabs_partial, slab_list)
			list_slab_objects(s, slab);
		list_for_each_entry(slab, &n->slabs_full, slab_list)
			list_slab_objects(s, slab);
		spin_unlock(&n->list_lock);
	}
	return remaining ? -EBUSY : 0;
}

static void slab_release(struct kmem_cache *s)
{
	free_kmem_cache_nodes(s);
	sl_meta_free(slab_cache_be(s)->random_seq);
	slab_cache_be(s)->random_seq = NULL;
	cpu_slot_free((int)s->cpu_id);
}

/* ------------------------------------------------------------- bootstrap */

static size_t slab_cache_be_size(void)
{
	return sizeof(struct slab_cache_be) + (size_t)nr_node_ids * sizeof(struct slab_node *);
}

#define BOOT_CACHE_SIZE (sizeof(struct kmem_cache) + sizeof(struct slab_cache_be) +	\
			 MAX_NUMNODES * sizeof(struct slab_node *))

/* Move a list from a struct that was copied to @to (from @from). */
static void relink_list(struct list_head *to, struct list_head *from)
{
	if (from->next == from) {
		INIT_LIST_HEAD(to);
		return;
	}
	to->next->prev = to;
	to->prev->next = to;
}

/*
 * init_list - replace a static init list of @s by a kmalloc'd copy
 * (the kernel's init_list): the slabs on its lists are relinked.
 */
static void init_list(struct kmem_cache *s, struct slab_node *list, int nodeid)
{
	struct slab_node *ptr = kmalloc_node(sizeof(*ptr), GFP_NOWAIT, nodeid);

	if (!ptr)
		uslab_panic("SLAB: no memory for the node structures while bootstrapping\n");
	memcpy(ptr, list, sizeof(*ptr));
	relink_list(&ptr->slabs_partial, &list->slabs_partial);
	relink_list(&ptr->slabs_full, &list->slabs_full);
	relink_list(&ptr->slabs_free, &list->slabs_free);
	spin_lock_init(&ptr->list_lock);
	slab_cache_be(s)->node[nodeid] = ptr;
}

/* Point every page of every slab of @s (on its node lists) at @s. */
static void set_slabs_cache(struct kmem_cache *s)
{
	for (int node = 0; node < nr_node_ids; node++) {
		struct slab_node *n = get_node(s, node);
		struct list_head *lists[] = { &n->slabs_partial, &n->slabs_full, &n->slabs_free };

		for (unsigned int l = 0; l < ARRAY_SIZE(lists); l++) {
			struct slab_slab *slab;

			list_for_each_entry(slab, lists[l], slab_list) {
				struct page *page = sl_slab_page(slab);

				for (unsigned long i = 0; i < (1UL << slab->__page_order); i++)
					page[i].slab_cache = s;
			}
		}
	}
}

/*
 * slab_init - the kernel's kmem_cache_init() (seed 000):
 *  1) kmem_cache in static storage, its nodes the static init lists
 *     (DOWN -> PARTIAL);
 *  2) the kmalloc cache that holds struct slab_node, its nodes static
 *     too (-> PARTIAL_NODE);
 *  3) both caches' static node structures replaced by kmalloc'd copies;
 *  4) kmem_cache copied into an object of itself.
 * The other kmalloc caches follow (slab_common, -> UP), then init_late
 * sizes every cache's arrays.
 */
static void slab_init(void)
{
	static char kmem_cache_boot[BOOT_CACHE_SIZE] __attribute__((aligned(CACHE_LINE_SIZE)));
	unsigned int index_node = kmalloc_index(sizeof(struct slab_node));
	struct kmem_cache *s;

	if (nr_node_ids == 1)
		use_alien_caches = false;
	slab_max_order = (unsigned int)uslab_opt(OPT_SLAB_MAX_ORDER);
	for (int i = 0; i < NUM_INIT_LISTS; i++)
		kmem_cache_node_init(&init_kmem_cache_node[i]);

	kmem_cache = (struct kmem_cache *)kmem_cache_boot;
	create_boot_cache(kmem_cache, "kmem_cache",
			  (unsigned int)(sizeof(struct kmem_cache) + slab_cache_be_size()),
			  SLAB_HWCACHE_ALIGN);
	list_add(&kmem_cache->list, &slab_caches);
	slab_state = PARTIAL;

	__atomic_store_n(&kmalloc_caches[index_node],
			 create_kmalloc_cache(kmalloc_info[index_node].name,
					      kmalloc_info[index_node].size, 0),
			 __ATOMIC_RELEASE);
	slab_state = PARTIAL_NODE;

	for (int nid = 0; nid < nr_node_ids; nid++) {
		init_list(kmem_cache, &init_kmem_cache_node[CACHE_CACHE + nid], nid);
		init_list(kmalloc_caches[index_node], &init_kmem_cache_node[SIZE_NODE + nid], nid);
	}

	s = kmem_cache_zalloc(kmem_cache, GFP_NOWAIT);
	if (!s)
		uslab_panic("SLAB: cannot allocate the kmem_cache cache while bootstrapping\n");
	memcpy(s, kmem_cache, kmem_cache->object_size);
	list_del(&kmem_cache->list);
	list_add(&s->list, &slab_caches);
	set_slabs_cache(s);
	kmem_cache = s;
}

/* 6) every cache's arrays at their final sizes, random sequences made. */
static void slab_init_late(void)
{
	struct kmem_cache *s;

	pthread_mutex_lock(&slab_mutex);
	list_for_each_entry(s, &slab_caches, list)
		if (enable_cpucache(s))
			uslab_panic("SLAB: cannot size the arrays of %s\n", s->name);
	pthread_mutex_unlock(&slab_mutex);
}

/* ----------------------------------------------------------- slabinfo */

/*
 * slab_get_info - what /proc/slabinfo and the viewers show of @s, each
 * node read under its list_lock.  stats_spin_lock() only tries when the
 * snapshot is taken from the stats signal handler, whose interrupted
 * thread may hold the lock: -EBUSY then.  Objects in arrays count as
 * active, as the kernel counts them.  SLAB keeps no count of its partial
 * slabs, so the partial lists are walked; SLUB's cpu slabs and partial
 * tunables have no SLAB counterpart and read 0.
 */
static int slab_get_info(struct kmem_cache *s, struct slab_cache_info *info)
{
	struct slab_cache_be *be = slab_cache_be(s);
	unsigned long total_slabs = 0, free_slabs = 0, free_objs = 0, shared_avail = 0;
	unsigned long partial = 0;

	for (int node = 0; node < nr_node_ids; node++) {
		struct slab_node *n = get_node(s, node);
		struct slab_slab *slab;

		if (!stats_spin_lock(&n->list_lock))
			return -EBUSY;
		total_slabs += n->total_slabs;
		free_slabs += n->free_slabs;
		free_objs += n->free_objects;
		if (n->shared)
			shared_avail += n->shared->avail;
		list_for_each_entry(slab, &n->slabs_partial, slab_list)
			partial++;
		spin_unlock(&n->list_lock);
	}
	memset(info, 0, sizeof(*info));
	info->si.num_objs = total_slabs * be->num;
	info->si.active_slabs = total_slabs - free_slabs;
	info->si.num_slabs = total_slabs;
	info->si.active_objs = info->si.num_objs - free_objs;
	info->si.shared_avail = shared_avail;
	info->si.limit = READ_ONCE(be->limit);
	info->si.batchcount = READ_ONCE(be->batchcount);
	info->si.shared = READ_ONCE(be->shared);
	info->si.objects_per_slab = be->num;
	info->si.cache_order = be->gfporder;
	info->partial = partial;
	info->free_objects = free_objs;
	return 0;
}

static const char *const slab_stat_names[SL_STAT_NR] = {
	[SL_STAT_ALLOCS]	= "allocs",
	[SL_STAT_HIGH_MARK]	= "high_mark",
	[SL_STAT_GROWN]		= "grown",
	[SL_STAT_REAPED]	= "reaped",
	[SL_STAT_ERRORS]	= "errors",
	[SL_STAT_MAX_FREEABLE]	= "max_freeable",
	[SL_STAT_NODE_ALLOCS]	= "node_allocs",
	[SL_STAT_NODE_FREES]	= "node_frees",
	[SL_STAT_NODE_OVERFLOW]	= "node_overflow",
	[SL_STAT_ALLOCHIT]	= "allochit",
	[SL_STAT_ALLOCMISS]	= "allocmiss",
	[SL_STAT_FREEHIT]	= "freehit",
	[SL_STAT_FREEMISS]	= "freemiss",
};

/*
 * slab_slabinfo_stats - the columns the kernel's slabinfo_show_stats()
 * adds to a /proc/slabinfo line with STATS, in its order and widths.
 */
static void slab_slabinfo_stats(struct seq_buf *m, struct kmem_cache *s, const unsigned long *counts)
{
	(void)s;
	seq_printf(m, " : globalstat %7lu %6lu %5lu %4lu %4lu %4lu %4lu %4lu %4lu",
		   counts[SL_STAT_ALLOCS], counts[SL_STAT_HIGH_MARK], counts[SL_STAT_GROWN],
		   counts[SL_STAT_REAPED], counts[SL_STAT_ERRORS], counts[SL_STAT_MAX_FREEABLE],
		   counts[SL_STAT_NODE_ALLOCS], counts[SL_STAT_NODE_FREES],
		   counts[SL_STAT_NODE_OVERFLOW]);
	seq_printf(m, " : cpustat %6lu %6lu %6lu %6lu",
		   counts[SL_STAT_ALLOCHIT], counts[SL_STAT_ALLOCMISS],
		   counts[SL_STAT_FREEHIT], counts[SL_STAT_FREEMISS]);
}

/* ---------------------------------------------------------------- fork */

static void slab_fork_prepare(void)
{
	struct kmem_cache *s;

	list_for_each_entry(s, &slab_caches, list) {
		for (int node = 0; node < nr_node_ids; node++) {
			struct slab_node *n = get_node(s, node);

			spin_lock(&n->list_lock);
			if (n->alien)
				for (int i = 0; i < nr_node_ids; i++)
					if (n->alien[i])
						spin_lock(&n->alien[i]->lock);
		}
	}
}

static void slab_fork_parent(void)
{
	struct kmem_cache *s;

	list_for_each_entry(s, &slab_caches, list) {
		for (int node = 0; node < nr_node_ids; node++) {
			struct slab_node *n = get_node(s, node);

			if (n->alien)
				for (int i = 0; i < nr_node_ids; i++)
					if (n->alien[i])
						spin_unlock(&n->alien[i]->lock);
			spin_unlock(&n->list_lock);
		}
	}
}

static void slab_fork_child(void)
{
	slab_fork_parent();
}

/* Give back everything a thread cached (it exits, or vanished in a fork). */
static void slab_flush_area(char *area)
{
	struct kmem_cache *s;

	pthread_mutex_lock(&slab_mutex);
	sl_direct++;
	list_for_each_entry(s, &slab_caches, list)
		flush_slot(s, area_slot(area, s));
	sl_direct--;
	pthread_mutex_unlock(&slab_mutex);
}

/* ------------------------------------------------------------ validation */

/*
 * rebuild_freelist - @slab's freelist array made again from its objects'
 * markers: the objects marked "free on the slab" are its free objects,
 * the others are in use (allocated, in an array, or isolated).  With the
 * array in an object (OBJFREELIST), the object of the last index holds
 * it, so that it is handed out last.  Under the node's list_lock.
 */
static void rebuild_freelist(struct kmem_cache *s, struct slab_slab *slab)
{
	unsigned int num = slab_cache_be(s)->num, nr = 0;
	freelist_idx_t idx[SLAB_OBJ_MAX_NUM];

	for (unsigned int i = 0; i < num; i++)
		if (object_in_slab(s, index_to_obj(s, slab, i)))
			idx[nr++] = (freelist_idx_t)i;
	slab->active = num - nr;
	if (OBJFREELIST_SLAB(s))
		slab->freelist = nr ? index_to_obj(s, slab, idx[nr - 1]) : NULL;
	for (unsigned int k = 0; k < nr; k++)
		set_free_obj(slab, slab->active + k, idx[k]);
}

/*
 * validate_slab - the kernel's validate_slab() for one slab of @s on @n
 * (with its list_lock): the slab (check_slab, slab_pad_check), its
 * freelist (on_freelist), and with slab_debug Z or P every object
 * (check_object).  SLAB's free chain is its freelist array together with
 * the free markers: every index the array holds from active on must name
 * a distinct object marked "free on the slab" (else "Freechain corrupt":
 * the object drops off the freelist and counts as in use), and active
 * must be the number of objects not so marked (else "Wrong object
 * count": the array is made again from the markers, and an object that
 * dropped off comes back once its marker is right again).  Everything
 * found is reported, counted and repaired.  True if active changed: the
 * caller moves the slab to the list it now belongs on.
 */
static bool validate_slab(struct kmem_cache *s, struct slab_node *n, struct slab_slab *slab)
{
	struct slab_cache_be *be = slab_cache_be(s);
	unsigned char state[SLAB_OBJ_MAX_NUM + 1];	/* 1: on the freelist */
	unsigned int num = be->num, marked = 0, active = slab->active;

	if (slab->slab_cache != s || !(slab->__page_flags & PG_slab)) {
		slab_err(s, slab, "Not a valid slab page");
		return false;
	}
	if (slab->active > num) {
		slab_err(s, slab, "inuse %u > max %u", slab->active, num);
		return false;
	}
	if (slab->span != num * s->size) {
		slab_err(s, slab, "Wrong number of objects. Found %u but should be %u",
			 slab->span / s->size, num);
		slab->span = num * s->size;
		sl_fix(s, "Number of objects adjusted");
	}
	slab_pad_check(s, slab);

	memset(state, 0, sizeof(state));
	for (unsigned int i = slab->active; i < num; i++) {
		unsigned int idx = get_free_obj(slab, i);
		void *objp;

		if (idx >= num || state[idx]) {
			slab_err(s, slab, idx >= num ? "Freepointer corrupt" : "Freelist cycle detected");
			n->free_objects -= num - slab->active;
			slab->active = num;
			if (OBJFREELIST_SLAB(s))
				slab->freelist = NULL;
			sl_fix(s, "Freelist cleared");
			return true;
		}
		state[idx] = 1;
		objp = index_to_obj(s, slab, idx);
		if (!object_in_slab(s, objp))
			object_err(s, slab, objp, "Freechain corrupt");
	}
	for (unsigned int i = 0; i < num; i++)
		marked += object_in_slab(s, index_to_obj(s, slab, i));
	if (slab->active != num - marked) {
		slab_err(s, slab, "Wrong object count. Counter is %u but counted were %u",
			 slab->active, num - marked);
		rebuild_freelist(s, slab);
		n->free_objects += active;
		n->free_objects -= slab->active;
		sl_fix(s, "Object count adjusted");
		memset(state, 0, sizeof(state));
		for (unsigned int i = slab->active; i < num; i++)
			state[get_free_obj(slab, i)] = 1;
	}
	if (kmem_cache_debug(s) && (s->flags & (SLAB_RED_ZONE | SLAB_POISON)))
		for (unsigned int i = 0; i < num; i++)
			check_object(s, slab, index_to_obj(s, slab, i),
				     state[i] ? SLUB_RED_INACTIVE : SLUB_RED_ACTIVE);
	return slab->active != active;
}

/* The list @slab belongs on, by its count. */
static void relist_slab(struct kmem_cache *s, struct slab_node *n, struct slab_slab *slab)
{
	if (!slab->active) {
		list_add(&slab->slab_list, &n->slabs_free);
		n->free_slabs++;
	} else if (slab->active == slab_cache_be(s)->num) {
		list_add(&slab->slab_list, &n->slabs_full);
	} else {
		list_add_tail(&slab->slab_list, &n->slabs_partial);
	}
}

/* Every object in a shared or alien array must carry the array marker. */
static void validate_array(struct kmem_cache *s, struct sl_array *ac, const char *what)
{
	for (unsigned int i = 0; i < ac->avail; i++)
		if (!sl_object_in_array(s, ac->entry[i]))
			slab_err(s, NULL, "Object %p in %s is not marked free", ac->entry[i], what);
}

/*
 * validate_node - every slab of @n, then its counts.  A slab whose count
 * was repaired, or that is on the wrong list, moves to the right one
 * once the lists have been walked.
 */
static void validate_node(struct kmem_cache *s, int node, struct slab_node *n)
{
	static const char *const list_name[3] = { "partial", "full", "free" };
	struct list_head *lists[3] = { &n->slabs_partial, &n->slabs_full, &n->slabs_free };
	unsigned int num = slab_cache_be(s)->num;
	unsigned long total = 0, nfree = 0, free_objs = 0;
	struct slab_slab *slab, *next;
	struct list_head moved;

	INIT_LIST_HEAD(&moved);
	spin_lock(&n->list_lock);
	for (int l = 0; l < 3; l++) {
		list_for_each_entry_safe(slab, next, lists[l], slab_list) {
			bool wrong;

			total++;
			if (validate_slab(s, n, slab)) {
				wrong = true;
			} else {
				wrong = (l == 0 && (!slab->active || slab->active >= num)) ||
					(l == 1 && slab->active != num) || (l == 2 && slab->active);
				if (wrong)
					slab_err(s, slab, "Slab with %u objects in use on the %s list",
						 slab->active, list_name[l]);
			}
			if (wrong) {
				list_del(&slab->slab_list);
				list_add(&slab->slab_list, &moved);
				if (l == 2)
					n->free_slabs--;
			}
		}
	}
	list_for_each_entry_safe(slab, next, &moved, slab_list) {
		list_del(&slab->slab_list);
		relist_slab(s, n, slab);
	}
	for (int l = 0; l < 3; l++) {
		list_for_each_entry(slab, lists[l], slab_list) {
			nfree += l == 2;
			free_objs += num - slab->active;
		}
	}
	if (n->shared)
		validate_array(s, n->shared, "the shared array");
	if (total != n->total_slabs || nfree != n->free_slabs || free_objs != n->free_objects)
		slab_err(s, NULL, "Node %d: %lu slabs, %lu free, %lu free objects; counted %lu, %lu, %lu",
			 node, n->total_slabs, n->free_slabs, n->free_objects, total, nfree, free_objs);
	spin_unlock(&n->list_lock);
	for (int i = 0; n->alien && i < nr_node_ids; i++) {
		if (!n->alien[i])
			continue;
		spin_lock(&n->alien[i]->lock);
		validate_array(s, n->alien[i], "an alien cache");
		spin_unlock(&n->alien[i]->lock);
	}
}

/*
 * slab_validate - uslab_validate() for @s: every node's slabs and arrays,
 * and this thread's array.  Returns what was counted meanwhile (reports
 * and FIX lines, as uslab_error_count() counts them).
 */
static long slab_validate(struct kmem_cache *s)
{
	long before = sl_debug_errors;

	for (int node = 0; node < nr_node_ids; node++)
		validate_node(s, node, get_node(s, node));
	if (cpu_attached()) {
		struct array_cache *ac = sl_cpu_cache(s);

		for (unsigned int i = 0; i < ac->avail && ac->entry; i++)
			if (!sl_object_in_array(s, ac->entry[i]))
				slab_err(s, NULL, "Object %p in this thread's array is not marked free",
					 ac->entry[i]);
	}
	return sl_debug_errors - before;
}

/* ------------------------------------------------------------ the contract */

static bool slab_check_object(struct kmem_cache *s, struct page *page, const void *x)
{
	return check_live_object(s, sl_page_slab(compound_head(page)), x);
}

static void slab_free_slab_object(struct kmem_cache *s, void *x, struct page *page)
{
	sl_cache_free_slow(s, x, page);
}

/* The size kmalloc was asked for at @x (U on a kmalloc cache), else 0. */
static unsigned int slab_get_orig_size(struct kmem_cache *s, const void *x)
{
	return slab_cache_be(s)->orig_off ? *orig_size_word(s, x) : 0;
}

/* Record @size for @x; with Z, the bytes from there to object_size become red zone. */
static void slab_set_orig_size(struct kmem_cache *s, void *x, unsigned int size)
{
	if (!slab_cache_be(s)->orig_off)
		return;
	if (size > s->object_size)
		size = s->object_size;
	/* the red zone first: a validation in between sees the old, larger size */
	if (s->flags & SLAB_RED_ZONE)
		memset((char *)x + size, SLUB_RED_ACTIVE, s->object_size - size);
	*orig_size_word(s, x) = size;
}

const struct slab_backend slab_backend_slab = {
	.name			= "slab",
	.kmalloc_shift_low	= 5,
	.kmalloc_shift_high	= 22,
	.init			= slab_init,
	.init_late		= slab_init_late,
	.create			= slab_create,
	.alias			= slab_alias,
	.shutdown		= slab_shutdown,
	.release		= slab_release,
	.shrink			= slab_shrink,
	.get_info		= slab_get_info,
	.stat_names		= slab_stat_names,
	.nr_stats		= SL_STAT_NR,
	.stat_max_mask		= SL_STAT_MAX_MASK,
	.slabinfo_stats		= slab_slabinfo_stats,
	.tune			= slab_tune_cpucache,
	.check_object		= slab_check_object,
	.get_orig_size		= slab_get_orig_size,
	.set_orig_size		= slab_set_orig_size,
	.free_slab_object	= slab_free_slab_object,
	.validate		= slab_validate,
	.cache_be_size		= slab_cache_be_size,
	.fork_prepare		= slab_fork_prepare,
	.fork_parent		= slab_fork_parent,
	.fork_child		= slab_fork_child,
	.flush_area		= slab_flush_area,
};
