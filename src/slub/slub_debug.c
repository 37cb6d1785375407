// SPDX-License-Identifier: MIT
/*
 * slub_debug.c - SLUB's slab_debug: the checks, reports and repairs of
 * the kernel's CONFIG_SLUB_DEBUG part of mm/slub.c, for the caches that
 * USLAB_SLAB_DEBUG (slab_debug.c) or their creator gave debug flags.
 *
 * 1. Layout.  calculate_sizes() in slub.c lays out each slot (docs/slub.md
 *    has the picture): left red zone, object, right red zone up to inuse,
 *    the free pointer when it lives outside the object, the alloc and
 *    free tracks, the kmalloc orig_size word, padding.  The helpers below
 *    find each part from the object pointer, which is red_left_pad bytes
 *    into the slot.
 *
 * 2. Byte values (slab_debug.h, the kernel's poison.h): red zones 0xcc
 *    while the object is allocated and 0xbb while it is free; a free
 *    object of a poisoned cache is 0x6b with 0xa5 in its last byte;
 *    padding, and the whole slab before its objects are set up, 0x5a.
 *
 * 3. Where the checks run, as in the kernel: on allocation with 'F'
 *    (alloc_debug_processing: the slab, the object's place, its red zones
 *    and poison as a free object), on free with 'F'
 *    (free_debug_processing: its place, whether it is already on the
 *    freelist, its red zones as an allocated object, its slab's cache),
 *    on every slab that goes back to the page allocator with 'F', and on
 *    every slab uslab_validate() reaches.  Without 'F' a free still gets
 *    uslab's cheap checks (a pointer that is not an object, an object
 *    already free), and an allocation the check of the next free pointer
 *    that the fast path makes for every cache.
 *
 * 4. Reports are the kernel's, and counted (uslab_error_count) exactly
 *    where its slab_add_kunit_errors() counts: each slab_err, each
 *    object_err, each overwritten range check_bytes_and_report finds
 *    (once, its object printed with the first), each FIX line (slab_fix),
 *    and in list_slab_objects once per slab and once per object.  None
 *    aborts: the damage is repaired (bytes restored, a freechain cut, a
 *    count adjusted, a slab isolated) and the program goes on.  Each
 *    thread also keeps its own tally, so that validation can return the
 *    number of reports it made.
 *
 * 5. Locking.  A debug cache's slabs change only under their node's
 *    list_lock (slub.c), so the checks see a settled slab.  Validation of
 *    a cache without debug flags reads slabs other threads still free
 *    into without the lock (a compare-and-swap on the slab's freelist):
 *    it reads freelist and counters together and repairs them with a
 *    compare-and-swap against what it read.
 */
#define _GNU_SOURCE
#define SLUB_INTERNAL	/* slub_def.h: this file's functions */
#include "slub_fast.h"
#include "../debug.h"
#include "../slab_debug.h"

#include <execinfo.h>
#include <stdarg.h>
#include <string.h>

#define BITS_PER_LONG	(8 * (unsigned int)sizeof(unsigned long))

/* ------------------------------------------------------------- layout */

static inline unsigned int red_left_pad(const struct kmem_cache *s)
{
	return slub_cache(s)->red_left_pad;
}

static inline unsigned int obj_inuse(const struct kmem_cache *s)
{
	return slub_cache(s)->inuse;
}

/* calculate_sizes() puts the free pointer at inuse when it is outside the object. */
static inline bool freeptr_outside_object(const struct kmem_cache *s)
{
	return s->offset >= obj_inuse(s);
}

/* Where the metadata after the object and its red zone begins. */
static inline unsigned int get_info_end(const struct kmem_cache *s)
{
	return freeptr_outside_object(s) ? obj_inuse(s) + (unsigned int)sizeof(void *) : obj_inuse(s);
}

static inline struct track *get_track(const struct kmem_cache *s, const void *object,
				      enum track_item item)
{
	return (struct track *)((char *)object + get_info_end(s)) + item;
}

static inline unsigned int *orig_size_ptr(const struct kmem_cache *s, const void *object)
{
	return (unsigned int *)((char *)object + get_info_end(s) + 2 * sizeof(struct track));
}

/* The slot's bytes from the object on (the left red zone is the slot's first bytes). */
static inline unsigned int size_from_object(const struct kmem_cache *s)
{
	return s->size - red_left_pad(s);
}

/* Where the padding after the metadata begins. */
static inline unsigned int metadata_end(const struct kmem_cache *s)
{
	unsigned int off = get_info_end(s);

	if (s->flags & SLAB_STORE_USER) {
		off += 2 * (unsigned int)sizeof(struct track);
		if (s->flags & SLAB_KMALLOC)
			off += (unsigned int)sizeof(unsigned int);
	}
	return off;
}

static inline void *slab_object(const struct kmem_cache *s, const struct slab *slab,
				unsigned int i)
{
	return (char *)slab_obj_base(s, slab) + (size_t)i * s->size;
}

/* The size kmalloc was asked for, clamped to the object (a corrupt word asks for no more). */
static unsigned int get_orig_size(const struct kmem_cache *s, const void *object)
{
	unsigned int orig;

	if (!slub_debug_orig_size(s))
		return s->object_size;
	orig = *orig_size_ptr(s, object);
	return orig && orig <= s->object_size ? orig : s->object_size;
}

/* ------------------------------------------------------------ reports */

static __thread unsigned long slub_reports __attribute__((tls_model("initial-exec")));

static void counted(void)
{
	slab_debug_count();
	slub_reports++;
}

unsigned long slub_reports_made(void)
{
	return slub_reports;
}

void slub_count_report(void)
{
	counted();
}

/* slab_fix() counts the FIX line; this thread's tally follows it. */
#define slub_fix(s, ...)				\
	do {						\
		slab_fix(s, __VA_ARGS__);		\
		slub_reports++;				\
	} while (0)

void print_slab(const struct slab *slab)
{
	if (!slab)
		return;
	pr_err("Slab %p objects=%u used=%u fp=%p flags=%#lx\n",
	       slab_address(slab), slab->objects, slab->inuse,
	       (void *)slab->freelist, slab->__page_flags);
}

static void print_tracking(struct kmem_cache *s, const void *object)
{
	if (!(s->flags & SLAB_STORE_USER))
		return;
	print_track("Allocated", get_track(s, object, TRACK_ALLOC));
	print_track("Freed", get_track(s, object, TRACK_FREE));
}

/* print_trailer - the object, its red zones and padding, and who used it last. */
static void print_trailer(struct kmem_cache *s, struct slab *slab, const unsigned char *p)
{
	const unsigned char *addr = slab_address(slab);
	unsigned int off;

	print_tracking(s, p);
	print_slab(slab);
	pr_err("Object %p @offset=%lu fp=%p\n\n", (const void *)p, (unsigned long)(p - addr),
	       get_freepointer(s, p));
	if (s->flags & SLAB_RED_ZONE)
		print_section("Redzone  ", p - red_left_pad(s), red_left_pad(s));
	else if (p > addr + 16)
		print_section("Bytes b4 ", p - 16, 16);
	print_section("Object   ", p, min_t(unsigned int, s->object_size, PAGE_SIZE));
	if (s->flags & SLAB_RED_ZONE)
		print_section("Redzone  ", p + s->object_size, obj_inuse(s) - s->object_size);
	off = metadata_end(s);
	if (off != size_from_object(s))
		print_section("Padding  ", p + off, size_from_object(s) - off);
	dump_stack();
}

void slab_err(struct kmem_cache *s, struct slab *slab, const char *fmt, ...)
{
	char title[160];
	va_list ap;

	va_start(ap, fmt);
	uslab_vsnprintf(title, sizeof(title), fmt, ap);
	va_end(ap);
	slab_report_banner(s->name, title);
	print_slab(slab);
	dump_stack();
	counted();
}

void object_err(struct kmem_cache *s, struct slab *slab, const void *object, const char *reason)
{
	slab_report_banner(s->name, reason);
	print_trailer(s, slab, object);
	counted();
}

/* ------------------------------------------------------------- checks */

/* Whether @object is NULL or the start of an object of @slab. */
static bool check_valid_pointer(struct kmem_cache *s, const struct slab *slab,
				const void *object)
{
	uintptr_t off;

	if (!object)
		return true;
	off = (uintptr_t)object - slab_obj_base(s, slab);
	return off < (size_t)slab->objects * s->size && is_object_offset(s, off);
}

static void restore_bytes(struct kmem_cache *s, const char *what, unsigned char value,
			  unsigned char *from, unsigned char *to)
{
	slub_fix(s, "Restoring %s %p-%p=0x%x", what, (void *)from, (void *)(to - 1), value);
	memset(from, value, (size_t)(to - from));
}

/*
 * check_bytes_and_report - whether the @bytes at @start are all @value;
 * if not, report the range from the first wrong byte to the last (the
 * object too, when @print_obj: the first finding in an object) and put
 * the bytes back.
 */
static bool check_bytes_and_report(struct kmem_cache *s, struct slab *slab,
				   unsigned char *object, const char *what,
				   unsigned char *start, unsigned char value,
				   unsigned int bytes, bool print_obj)
{
	const unsigned char *addr = slab_address(slab);
	unsigned char *fault = (unsigned char *)memchr_inv(start, value, bytes);
	unsigned char *end = start + bytes;

	if (!fault)
		return true;
	while (end > fault && end[-1] == value)
		end--;
	if (print_obj)
		slab_report_header(s, "%s overwritten", what);
	pr_err("[%s overwritten] %p-%p @offset=%lu. First byte 0x%x instead of 0x%x\n",
	       what, (void *)fault, (void *)(end - 1), (unsigned long)(fault - addr),
	       fault[0], value);
	if (print_obj)
		print_trailer(s, slab, object);
	counted();
	restore_bytes(s, what, value, fault, end);
	return false;
}

/* The padding after the metadata: 0x5a, checked with 'P'. */
static bool check_pad_bytes(struct kmem_cache *s, struct slab *slab, unsigned char *p)
{
	unsigned int off = metadata_end(s);

	if (size_from_object(s) == off)
		return true;
	return check_bytes_and_report(s, slab, p, "Object padding", p + off, POISON_INUSE,
				      size_from_object(s) - off, true);
}

/* slab_pad_check - the slab's tail after its last object: 0x5a, with 'P'. */
static void slab_pad_check(struct kmem_cache *s, struct slab *slab)
{
	unsigned char *start = slab_address(slab), *end, *pad;
	const unsigned char *fault;
	unsigned long length, remainder;

	if (!(s->flags & SLAB_POISON))
		return;
	length = PAGE_SIZE << slab_order(slab);
	end = start + length;
	remainder = length % s->size;
	if (!remainder)
		return;
	pad = end - remainder;
	fault = memchr_inv(pad, POISON_INUSE, remainder);
	if (!fault)
		return;
	while (end > fault && end[-1] == POISON_INUSE)
		end--;
	slab_err(s, slab, "Padding overwritten. %p-%p @offset=%lu",
		 (const void *)fault, (void *)(end - 1), (unsigned long)(fault - start));
	print_section("Padding ", pad, (unsigned int)remainder);
	restore_bytes(s, "slab padding", POISON_INUSE, (unsigned char *)fault, end);
}

/*
 * check_object - the kernel's: @object's red zones, poison, padding and
 * free pointer, as an allocated (@val SLUB_RED_ACTIVE) or free
 * (SLUB_RED_INACTIVE) object.  Each finding is reported and repaired.
 */
static bool check_object(struct kmem_cache *s, struct slab *slab, void *object,
			 unsigned char val)
{
	unsigned char *p = object, *endobject = p + s->object_size;
	bool ret = true;

	if (s->flags & SLAB_RED_ZONE) {
		if (!check_bytes_and_report(s, slab, p, "Left Redzone", p - red_left_pad(s), val,
					    red_left_pad(s), ret))
			ret = false;
		if (!check_bytes_and_report(s, slab, p, "Right Redzone", endobject, val,
					    obj_inuse(s) - s->object_size, ret))
			ret = false;
		if (slub_debug_orig_size(s) && val == SLUB_RED_ACTIVE) {
			unsigned int orig = get_orig_size(s, p);

			if (s->object_size > orig &&
			    !check_bytes_and_report(s, slab, p, "kmalloc Redzone", p + orig, val,
						    s->object_size - orig, ret))
				ret = false;
		}
	} else if ((s->flags & SLAB_POISON) && s->object_size < obj_inuse(s)) {
		if (!check_bytes_and_report(s, slab, p, "Alignment padding", endobject,
					    POISON_INUSE, obj_inuse(s) - s->object_size, ret))
			ret = false;
	}
	if (s->flags & SLAB_POISON) {
		if (val != SLUB_RED_ACTIVE && slub_cache(s)->object_poison) {
			if (!check_bytes_and_report(s, slab, p, "Poison", p, POISON_FREE,
						    s->object_size - 1, ret))
				ret = false;
			if (!check_bytes_and_report(s, slab, p, "End Poison", endobject - 1,
						    POISON_END, 1, ret))
				ret = false;
		}
		if (!check_pad_bytes(s, slab, p))
			ret = false;
	}
	/*
	 * The free pointer of a free object must be NULL or an object of
	 * the slab.  An allocated object's is the user's while it is inside
	 * the object; outside, it is the cleared word (slub_fast.h), or a
	 * valid pointer for an object cut off a corrupt freechain.
	 */
	if (freeptr_outside_object(s) || val != SLUB_RED_ACTIVE) {
		bool cleared = val == SLUB_RED_ACTIVE && !*(uintptr_t *)(p + s->offset);

		if (!cleared && !check_valid_pointer(s, slab, get_freepointer(s, p))) {
			object_err(s, slab, p, "Freepointer corrupt");
			/* Zapped: the free objects after it are lost, and the count will say so. */
			if (val == SLUB_RED_ACTIVE)
				clear_freepointer(s, p);
			else
				set_freepointer(s, p, NULL);
			ret = false;
		}
	}
	return ret;
}

/* check_slab - whether @slab looks like one of @s's slabs that may be used. */
static bool check_slab(struct kmem_cache *s, struct slab *slab)
{
	unsigned int maxobj;

	if (!(slab->__page_flags & PG_slab) || slab->slab_cache != s) {
		slab_err(s, slab, "Not a valid slab page");
		return false;
	}
	maxobj = min_t(unsigned int, (unsigned int)((PAGE_SIZE << slab_order(slab)) / s->size),
		       MAX_OBJS_PER_PAGE);
	if (slab->objects > maxobj) {
		slab_err(s, slab, "objects %u > max %u", slab->objects, maxobj);
		return false;
	}
	if (slab->inuse > slab->objects) {
		slab_err(s, slab, "inuse %u > max %u", slab->inuse, slab->objects);
		return false;
	}
	if (kmem_cache_debug(s) && slab->frozen) {
		slab_err(s, slab, "Slab disabled since SLUB metadata consistency check failed");
		return false;
	}
	slab_pad_check(s, slab);
	return true;
}

/* The slab's freelist and counters as of one moment (they change together). */
static void slab_read(struct slab *slab, void **fl, union slab_counters *c)
{
	do {
		*fl = READ_ONCE(slab->freelist);
		c->counters = READ_ONCE(slab->counters);
	} while (*fl != READ_ONCE(slab->freelist));
}

/*
 * slab_repair - set @slab's freelist and counters, if they are still what
 * was read; a free racing in (a cache without slab_debug) wins, and the
 * repair is left to the next validation.
 */
static bool slab_repair(struct slab *slab, void *old_fl, union slab_counters *old,
			void *fl, unsigned long counters)
{
	__uint128_t o = (__uint128_t)old->counters << 64 | (uintptr_t)old_fl;
	__uint128_t n = (__uint128_t)counters << 64 | (uintptr_t)fl;

	if (!__sync_bool_compare_and_swap(&slab->freelist_counters, o, n))
		return false;
	old->counters = counters;
	return true;
}

/*
 * on_freelist - whether @search is on @slab's freelist.  The walk also
 * checks the freelist (a pointer out of the slab is a corrupt freechain,
 * cut there), the object count, and, when the slab is not frozen (its
 * count is settled), the count in use: each wrong, reported and fixed.
 */
static bool on_freelist(struct kmem_cache *s, struct slab *slab, const void *search)
{
	union slab_counters c, n;
	void *head, *fp, *object = NULL;
	unsigned int nr = 0, max_objects;

	slab_read(slab, &head, &c);
	fp = head;
	while (fp) {
		if (fp == search)
			return true;
		/* More links than objects: a loop, which no freelist has. */
		if (!check_valid_pointer(s, slab, fp) || nr == c.objects) {
			if (object) {
				object_err(s, slab, object, "Freechain corrupt");
				set_freepointer(s, object, NULL);
				break;
			}
			slab_err(s, slab, "Freepointer corrupt");
			n = c;
			n.inuse = c.objects;
			slab_repair(slab, head, &c, NULL, n.counters);
			slub_fix(s, "Freelist cleared");
			return false;
		}
		object = fp;
		fp = get_freepointer(s, object);
		nr++;
	}

	max_objects = min_t(unsigned int, (unsigned int)((PAGE_SIZE << slab_order(slab)) / s->size),
			    MAX_OBJS_PER_PAGE);
	if (c.objects != max_objects) {
		slab_err(s, slab, "Wrong number of objects. Found %u but should be %u",
			 c.objects, max_objects);
		n = c;
		n.objects = max_objects;
		slab_repair(slab, head, &c, head, n.counters);
		slub_fix(s, "Number of objects adjusted");
	}
	if (!c.frozen && c.inuse != c.objects - nr) {
		slab_err(s, slab, "Wrong object count. Counter is %u but counted were %u",
			 c.inuse, c.objects - nr);
		n = c;
		n.inuse = c.objects - nr;
		slab_repair(slab, head, &c, head, n.counters);
		slub_fix(s, "Object count adjusted");
	}
	return search == NULL;
}

/* The objects on @slab's freelist, as bits by index (the freelist is checked already). */
static void fill_map(struct kmem_cache *s, struct slab *slab, unsigned long *map)
{
	uintptr_t base = slab_obj_base(s, slab);
	unsigned int n = 0;

	memset(map, 0, (slab->objects + BITS_PER_LONG - 1) / BITS_PER_LONG * sizeof(*map));
	for (void *p = READ_ONCE(slab->freelist); p && n < slab->objects;
	     p = get_freepointer(s, p), n++) {
		uintptr_t idx;

		if (!check_valid_pointer(s, slab, p))
			break;
		idx = obj_index(s, (uintptr_t)p - base);
		map[idx / BITS_PER_LONG] |= 1UL << (idx % BITS_PER_LONG);
	}
}

static inline bool map_test(const unsigned long *map, unsigned int i)
{
	return map[i / BITS_PER_LONG] & (1UL << (i % BITS_PER_LONG));
}

unsigned long validate_slab(struct kmem_cache *s, struct slab *slab)
{
	unsigned long map[MAX_OBJS_PER_PAGE / BITS_PER_LONG + 1];
	unsigned long before = slub_reports;

	if (!check_slab(s, slab) || !on_freelist(s, slab, NULL))
		return slub_reports - before;
	fill_map(s, slab, map);
	for (unsigned int i = 0; i < slab->objects; i++) {
		unsigned char val = map_test(map, i) ? SLUB_RED_INACTIVE : SLUB_RED_ACTIVE;

		if (!check_object(s, slab, slab_object(s, slab, i), val))
			break;
	}
	return slub_reports - before;
}

void list_slab_objects(struct kmem_cache *s, struct slab *slab, const char *text)
{
	unsigned long map[MAX_OBJS_PER_PAGE / BITS_PER_LONG + 1];
	const char *addr = slab_address(slab);

	slab_err(s, slab, text, s->name);
	fill_map(s, slab, map);
	for (unsigned int i = 0; i < slab->objects; i++) {
		const char *p = slab_object(s, slab, i);

		if (map_test(map, i))
			continue;
		pr_err("Object %p @offset=%lu\n", (const void *)p, (unsigned long)(p - addr));
		print_tracking(s, p);
		counted();
	}
}

void free_slab_debug(struct kmem_cache *s, struct slab *slab)
{
	slab_pad_check(s, slab);
	for (unsigned int i = 0; i < slab->objects; i++)
		check_object(s, slab, slab_object(s, slab, i), SLUB_RED_INACTIVE);
}

/* ------------------------------------------------ setting objects up */

static void init_object(struct kmem_cache *s, void *object, unsigned char val)
{
	unsigned char *p = object;
	unsigned int poison_size = s->object_size;

	if (s->flags & SLAB_RED_ZONE) {
		memset(p - red_left_pad(s), val, red_left_pad(s));
		/* kmalloc's extra bytes are red zone, and the poison stops short of them */
		if (slub_debug_orig_size(s) && val == SLUB_RED_ACTIVE)
			poison_size = get_orig_size(s, object);
	}
	if (slub_cache(s)->object_poison) {
		memset(p, POISON_FREE, poison_size - 1);
		p[poison_size - 1] = POISON_END;
	}
	if (s->flags & SLAB_RED_ZONE)
		memset(p + poison_size, val, obj_inuse(s) - poison_size);
}

static void init_tracking(struct kmem_cache *s, void *object)
{
	if (!(s->flags & SLAB_STORE_USER))
		return;
	memset(get_track(s, object, TRACK_ALLOC), 0, 2 * sizeof(struct track));
	if (slub_debug_orig_size(s))
		*orig_size_ptr(s, object) = s->object_size;
}

void setup_slab_debug(struct kmem_cache *s, struct slab *slab)
{
	if (s->flags & SLAB_POISON)
		memset(slab_address(slab), POISON_INUSE, PAGE_SIZE << slab_order(slab));
	if (!(s->flags & (SLAB_STORE_USER | SLAB_RED_ZONE)) && !slub_cache(s)->object_poison)
		return;
	for (unsigned int i = 0; i < slab->objects; i++) {
		void *p = slab_object(s, slab, i);

		init_object(s, p, SLUB_RED_INACTIVE);
		init_tracking(s, p);
	}
}

void init_object_active(struct kmem_cache *s, void *object)
{
	if (slub_debug_orig_size(s))
		*orig_size_ptr(s, object) = s->object_size;
	init_object(s, object, SLUB_RED_ACTIVE);
}

/* ------------------------------------------------- allocation and free */

static bool alloc_consistency_checks(struct kmem_cache *s, struct slab *slab, void *object)
{
	if (!check_slab(s, slab))
		return false;
	if (!check_valid_pointer(s, slab, object)) {
		object_err(s, slab, object, "Freelist Pointer check fails");
		return false;
	}
	return check_object(s, slab, object, SLUB_RED_INACTIVE);
}

bool alloc_debug_processing(struct kmem_cache *s, struct slab *slab, void *object, void *next)
{
	if (s->flags & SLAB_CONSISTENCY_CHECKS) {
		if (!alloc_consistency_checks(s, slab, object))
			goto bad;
	} else if (!check_valid_pointer(s, slab, next)) {
		/* the free pointer check every cache makes (freeptr_ok), as the kernel's freelist_corrupted */
		object_err(s, slab, object, "Freechain corrupt");
		slub_fix(s, "Isolate corrupted freechain");
		goto isolate;
	}
	/* kmalloc_slow() sets the size it was asked for next (set_orig_size) */
	if (slub_debug_orig_size(s))
		*orig_size_ptr(s, object) = s->object_size;
	init_object(s, object, SLUB_RED_ACTIVE);
	return true;

bad:
	slub_fix(s, "Marking all objects used");
isolate:
	/*
	 * Nothing of this slab is handed out again: every object counts as
	 * used, and the slab stays frozen for nobody (the kernel's way).
	 */
	slab->inuse = slab->objects;
	slab->freelist = NULL;
	slab->frozen = 1;
	return false;
}

static bool free_consistency_checks(struct kmem_cache *s, struct slab *slab, void *object)
{
	if (!check_valid_pointer(s, slab, object)) {
		slab_err(s, slab, "Invalid object pointer %p", object);
		return false;
	}
	if (on_freelist(s, slab, object)) {
		object_err(s, slab, object, "Object already free");
		return false;
	}
	if (!check_object(s, slab, object, SLUB_RED_ACTIVE))
		return false;
	if (unlikely(s != slab->slab_cache)) {
		object_err(s, slab, object, "page slab pointer corrupt.");
		return false;
	}
	return true;
}

/* Without 'F': what the fast path checks for every cache, reported the debug way. */
static bool free_cheap_checks(struct kmem_cache *s, struct slab *slab, void *object)
{
	if (!check_valid_pointer(s, slab, object)) {
		slab_err(s, slab, "Invalid object pointer %p", object);
		return false;
	}
	if (object_looks_free(s, object, slab_obj_base(s, slab), (size_t)slab->objects * s->size)) {
		object_err(s, slab, object, "Object already free");
		return false;
	}
	return true;
}

bool free_debug_processing(struct kmem_cache *s, struct slab *slab, void *object,
			   const struct track *t)
{
	if (s->flags & SLAB_CONSISTENCY_CHECKS) {
		if (!check_slab(s, slab))
			goto out;
	} else if (slab->frozen) {
		return false;	/* isolated: it keeps what comes back, as it keeps the rest */
	}
	/*
	 * The object before the count (the kernel checks the count first):
	 * a double free into a slab it left empty is named for what it is.
	 */
	if (s->flags & SLAB_CONSISTENCY_CHECKS) {
		if (!free_consistency_checks(s, slab, object))
			goto out;
	} else if (!free_cheap_checks(s, slab, object)) {
		goto out;
	}
	if (slab->inuse < 1) {
		slab_err(s, slab, "Slab has %u allocated objects but %d are to be freed",
			 slab->inuse, 1);
		goto out;
	}
	if (s->flags & SLAB_STORE_USER)
		*get_track(s, object, TRACK_FREE) = *t;
	/* the free pointer is outside what init_object() writes, or written after it */
	init_object(s, object, SLUB_RED_INACTIVE);
	return true;

out:
	slub_fix(s, "Object at %p not freed", object);
	return false;
}

void trace(struct kmem_cache *s, void *object, bool alloc, unsigned int inuse, void *fp)
{
	pr_info("TRACE %s %s %p inuse=%u fp=%p\n", s->name, alloc ? "alloc" : "free",
		object, inuse, fp);
	/* the object as it is freed (at most a page of it) */
	if (!alloc)
		print_section("Object ", object, min_t(unsigned int, s->object_size, PAGE_SIZE));
	dump_stack();
}

/* ------------------------------------------------------------- tracks */

void set_alloc_track(struct kmem_cache *s, void *object, const struct track *t)
{
	*get_track(s, object, TRACK_ALLOC) = *t;
}

/* ------------------------------------------------------ kmalloc red zone */

unsigned int slub_get_orig_size(struct kmem_cache *s, const void *x)
{
	return slub_debug_orig_size(s) ? get_orig_size(s, x) : 0;
}

void slub_set_orig_size(struct kmem_cache *s, void *x, unsigned int size)
{
	if (!slub_debug_orig_size(s))
		return;
	if (size > s->object_size)
		size = s->object_size;
	/* the red zone first: a validation in between sees the old, larger size */
	if ((s->flags & SLAB_RED_ZONE) && size < s->object_size)
		memset((char *)x + size, SLUB_RED_ACTIVE, s->object_size - size);
	*orig_size_ptr(s, x) = size;
}
