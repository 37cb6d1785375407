// SPDX-License-Identifier: MIT
/*
 * stats.c - what a running program's caches are doing, for the program
 * and for anybody watching it (docs/observability.md).
 *
 * 1. Counters.  The back ends count with stat() (stats.h) when the
 *    counters are on: option slab_stats (USLAB_SLAB_STATS=1), or
 *    USLAB_STATS.  stats_read() sums a cache's counters.
 *
 * 2. The JSON document.  uslab_stats_json() writes schema version 1
 *    (docs/observability.md): the back end, every cache with what
 *    /proc/slabinfo and /sys/kernel/slab/<cache>/ show and its counters,
 *    and the page allocator's figures with its buddyinfo.  Each cache is
 *    read under its node locks (the back end's get_info), so its figures
 *    agree with each other; the counters are summed without stopping
 *    anybody, so they are a moment's snapshot, not an atomic one.
 *
 * 3. At exit.  USLAB_STATS=1 prints /proc/slabinfo and the counters to
 *    stderr when the program exits (as MIMALLOC_SHOW_STATS); =json, the
 *    document.  Every process prints its own, a forked child too.
 *
 * 4. The live viewers (tools/uslab-top, tools/uslab-slabinfo).  No thread
 *    and no cost until somebody asks: once the allocator is up, a handler
 *    is installed for one real-time signal (SIGRTMAX-4, or
 *    USLAB_STATS_SIGNAL; never over a handler of the program's own).  A
 *    viewer sends it; the handler writes the document into
 *    /tmp/uslab-<euid>/<viewer>.<pid>.tmp and renames it to .json.  It
 *    runs in whichever thread the signal interrupts, which may hold any of
 *    the allocator's locks, so it never blocks: with stats_nonblock set,
 *    every lock is only tried for a bounded time (internal.h), a cache
 *    whose locks stay held is written as busy, and a busy cache list gives
 *    a document that says only that, for the viewer to ask again.  It
 *    allocates nothing (a static buffer, flushed with write()), keeps
 *    errno, answers one request at a time, and only requests sent by a
 *    process of its own user or root.  pthread_mutex_trylock and unlock
 *    are not on POSIX's async-signal-safe list; glibc's trylock is a
 *    compare-and-swap, and its unlock at most a futex wake for a thread
 *    that queued meanwhile: a system call, safe in a handler.
 */
#define _GNU_SOURCE
#include "stats.h"

#include <errno.h>
#include <string.h>

bool slab_stats_enabled;

enum stats_exit { STATS_EXIT_NONE, STATS_EXIT_TEXT, STATS_EXIT_JSON };
static enum stats_exit stats_exit_mode;
static int stats_exit_fd = -1;	/* stderr as it was at start-up */

/* The string viewers look for in a statically linked program (docs). */
const char uslab_stats_protocol[] __attribute__((used)) = "uslab-stats-protocol-1";

/* ---------------------------------------------------------- counters */

static bool stat_is_max(unsigned int item)
{
	return item < 64 && (slab_be->stat_max_mask >> item & 1);
}

struct stats_sum {
	struct kmem_cache *s;
	unsigned long *out;
};

static void sum_area(char *area, void *arg)
{
	struct stats_sum *w = arg;
	const unsigned long *b = stat_block(area, w->s);

	for (unsigned int i = 0; i < slab_be->nr_stats; i++)
		if (!stat_is_max(i))
			w->out[i] += READ_ONCE(b[i]);
}

/* Under slab_mutex; false only in a non-blocking snapshot (threads busy). */
static bool stats_read_try(struct kmem_cache *s, unsigned long *out)
{
	struct stats_sum w = { s, out };

	memset(out, 0, SLAB_STAT_MAX * sizeof(*out));
	for (unsigned int i = 0; i < slab_be->nr_stats; i++)
		out[i] = __atomic_load_n(&s->stat_global[i], __ATOMIC_RELAXED);
	if (!slab_stats_enabled)
		return true;
	return cpu_for_each_area(sum_area, &w);
}

void stats_read(struct kmem_cache *s, unsigned long *out)
{
	stats_read_try(s, out);
}

/*
 * A thread leaves: add its blocks to the caches' totals and clear them.
 * Under slab_mutex, which every reader holds, so no count is seen twice
 * or missed while it moves.
 */
void stats_fold_area(char *area)
{
	struct kmem_cache *s;

	pthread_mutex_lock(&slab_mutex);
	list_for_each_entry(s, &slab_caches, list) {
		unsigned long *b = stat_block(area, s);

		for (unsigned int i = 0; i < slab_be->nr_stats; i++) {
			if (!stat_is_max(i) && b[i])
				__atomic_fetch_add(&s->stat_global[i], b[i], __ATOMIC_RELAXED);
			b[i] = 0;
		}
	}
	pthread_mutex_unlock(&slab_mutex);
}

/* ------------------------------------------------------------ output */

/*
 * struct sout - text out, either into a caller's buffer with snprintf's
 * contract (fd < 0: the length of the whole text is counted even past
 * @size), or streamed to @fd through @buf, flushed when full.
 */
struct sout {
	char *buf;
	size_t size;
	size_t len;		/* in @buf so far (fd), or of the whole text */
	size_t total;		/* written to @fd */
	int fd;
	bool failed;		/* a write to @fd failed */
};

static void out_flush(struct sout *o)
{
	if (o->fd >= 0 && o->len) {
		if (os_write_all(o->fd, o->buf, o->len))
			o->failed = true;
		o->total += o->len;
		o->len = 0;
	}
}

static void out_mem(struct sout *o, const char *p, size_t n)
{
	if (o->fd < 0) {
		if (o->len < o->size) {
			size_t room = o->size - o->len;

			memcpy(o->buf + o->len, p, n < room ? n : room);
		}
		o->len += n;
		return;
	}
	while (n) {
		size_t room = o->size - o->len, k = n < room ? n : room;

		memcpy(o->buf + o->len, p, k);
		o->len += k;
		p += k;
		n -= k;
		if (o->len == o->size)
			out_flush(o);
	}
}

static void out_str(struct sout *o, const char *s)
{
	out_mem(o, s, strlen(s));
}

static __attribute__((format(printf, 2, 3))) void out_printf(struct sout *o, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = uslab_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(line))
		n = sizeof(line) - 1;
	out_mem(o, line, (size_t)n);
}

/* A JSON string: quotes, backslashes and control characters escaped. */
static void out_jstr(struct sout *o, const char *s)
{
	out_mem(o, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };

			out_mem(o, e, 2);
		} else if (c < 0x20) {
			out_printf(o, "\\u%04x", c);
		} else {
			out_mem(o, (const char *)&c, 1);
		}
	}
	out_mem(o, "\"", 1);
}

/* ------------------------------------------------------ the document */

static const struct {
	slab_flags_t flag;
	const char *name;
} flag_names[] = {
	{ SLAB_CONSISTENCY_CHECKS, "consistency_checks" },
	{ SLAB_RED_ZONE, "red_zone" },
	{ SLAB_POISON, "poison" },
	{ SLAB_KMALLOC, "kmalloc" },
	{ SLAB_HWCACHE_ALIGN, "hwcache_align" },
	{ SLAB_CACHE_DMA, "cache_dma" },
	{ SLAB_CACHE_DMA32, "cache_dma32" },
	{ SLAB_STORE_USER, "store_user" },
	{ SLAB_RECLAIM_ACCOUNT, "reclaim_account" },
	{ SLAB_PANIC, "panic" },
	{ SLAB_TYPESAFE_BY_RCU, "typesafe_by_rcu" },
	{ SLAB_MEM_SPREAD, "mem_spread" },
	{ SLAB_TRACE, "trace" },
	{ SLAB_NOLEAKTRACE, "noleaktrace" },
	{ SLAB_NO_MERGE, "no_merge" },
	{ SLAB_FAILSLAB, "failslab" },
	{ SLAB_ACCOUNT, "account" },
	{ SLAB_KASAN, "kasan" },
	{ SLAB_NO_USER_FLAGS, "no_user_flags" },
};

static void emit_cache(struct sout *o, struct kmem_cache *s)
{
	struct slab_cache_info info;
	unsigned long counts[SLAB_STAT_MAX];
	bool busy = slab_be->get_info(s, &info) != 0;
	bool first = true, counters_busy;

	out_str(o, "{\"name\":");
	out_jstr(o, s->name);
	out_printf(o, ",\"busy\":%s,\"aliases\":%d,\"object_size\":%u,\"slab_size\":%u,\"align\":%u",
		   busy ? "true" : "false", s->refcount > 1 ? s->refcount - 1 : 0,
		   s->object_size, s->size, s->align);
	if (!busy) {
		const struct slabinfo *si = &info.si;

		out_printf(o, ",\"order\":%u,\"pages_per_slab\":%lu,\"objs_per_slab\":%u",
			   si->cache_order, 1UL << si->cache_order, si->objects_per_slab);
		out_printf(o, ",\"objects\":%lu,\"total_objects\":%lu,\"slabs\":%lu,\"active_slabs\":%lu",
			   si->active_objs, si->num_objs, si->num_slabs, si->active_slabs);
		out_printf(o, ",\"partial\":%lu,\"cpu_slabs\":%lu,\"min_partial\":%lu,\"cpu_partial\":%u",
			   info.partial, info.cpu_slabs, info.min_partial, info.cpu_partial);
		out_printf(o, ",\"limit\":%u,\"batchcount\":%u,\"shared\":%u,\"shared_avail\":%lu",
			   si->limit, si->batchcount, si->shared, si->shared_avail);
	}
	out_str(o, ",\"flags\":[");
	for (size_t i = 0; i < ARRAY_SIZE(flag_names); i++) {
		if (!(s->flags & flag_names[i].flag))
			continue;
		out_str(o, first ? "\"" : ",\"");
		out_str(o, flag_names[i].name);
		out_str(o, "\"");
		first = false;
	}
	counters_busy = slab_stats_enabled && !stats_read_try(s, counts);
	out_printf(o, "],\"counters_busy\":%s,\"counters\":{", counters_busy ? "true" : "false");
	if (slab_stats_enabled && !counters_busy) {
		for (unsigned int i = 0; i < slab_be->nr_stats; i++)
			out_printf(o, "%s\"%s\":%lu", i ? "," : "", slab_be->stat_names[i], counts[i]);
	}
	out_str(o, "}}");
}

static void emit_page_alloc(struct sout *o)
{
	struct uslab_page_stats st;
	unsigned long nr[MAX_ORDER + 1];

	out_str(o, ",\"page_alloc\":{");
	if (!page_stats_snapshot(&st)) {
		out_str(o, "\"busy\":true}");
		return;
	}
	out_printf(o, "\"busy\":false,\"reserved_pages\":%zu,\"managed_pages\":%zu,\"free_pages\":%zu",
		   st.reserved, st.managed, st.free);
	out_printf(o, ",\"free_dirty_pages\":%zu,\"allocated_pages\":%zu,\"direct_mapped_pages\":%zu",
		   st.free_dirty, st.allocated, st.direct_mapped);
	out_printf(o, ",\"released_pages\":%zu,\"retain_bound_pages\":%zu,\"refaulted_pages\":%zu",
		   st.released, st.retain_bound, st.refaulted);
	out_printf(o, ",\"direct_cached_pages\":%zu,\"direct_reused\":%zu",
		   st.direct_cached, st.direct_reused);
	out_printf(o, ",\"arenas\":%u,\"nodes\":%u,\"buddyinfo\":[",
		   st.nr_arenas, st.nr_nodes);
	for (int nid = 0; nid < nr_node_ids; nid++) {
		bool ok = buddy_snapshot(nid, nr);

		out_printf(o, "%s{\"node\":%d,\"zone\":\"Normal\",\"busy\":%s,\"free\":[",
			   nid ? "," : "", nid, ok ? "false" : "true");
		for (int i = 0; ok && i <= MAX_ORDER; i++)
			out_printf(o, "%s%lu", i ? "," : "", nr[i]);
		out_str(o, "]}");
	}
	out_str(o, "]}");
}

/*
 * The whole document.  False when even the cache list was busy (only in
 * a non-blocking snapshot): then the document says so and nothing else.
 */
static bool emit_document(struct sout *o)
{
	struct kmem_cache *s;
	bool first = true;

	out_printf(o, "{\"uslab_stats\":1,\"pid\":%d", os_getpid());
	if (!stats_mutex_lock(&slab_mutex)) {
		out_str(o, ",\"busy\":true}\n");
		return false;
	}
	out_printf(o, ",\"busy\":false,\"allocator\":\"%s\",\"stats_enabled\":%s,\"time_ns\":%llu",
		   slab_be->name, slab_stats_enabled ? "true" : "false",
		   (unsigned long long)os_now_ns());
	out_printf(o, ",\"errors\":%lu,\"page_size\":%lu,\"caches\":[",
		   uslab_error_count(), (unsigned long)PAGE_SIZE);
	/* Newest first, as /proc/slabinfo lists them. */
	list_for_each_entry_reverse(s, &slab_caches, list) {
		if (!first)
			out_str(o, ",");
		emit_cache(o, s);
		first = false;
	}
	out_str(o, "]");
	pthread_mutex_unlock(&slab_mutex);
	emit_page_alloc(o);
	out_str(o, "}\n");
	return true;
}

USLAB_API size_t uslab_stats_json(char *buf, size_t size)
{
	struct sout o = { .buf = buf, .size = size, .fd = -1 };

	uslab_init();
	emit_document(&o);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return o.len;
}

/* ------------------------------------------------------------- exit */

/* /proc/slabinfo, then every cache's non-zero counters, one line each. */
static void emit_text(struct sout *o)
{
	static char text[1 << 15];
	struct kmem_cache *s;
	size_t n = uslab_slabinfo(text, sizeof(text));

	out_printf(o, "uslab: statistics of pid %d at exit (back end %s)\n", os_getpid(),
		   slab_be->name);
	out_mem(o, text, n < sizeof(text) ? n : sizeof(text) - 1);
	if (n >= sizeof(text))
		out_str(o, "... (slabinfo cut; USLAB_STATS=json has every cache)\n");
	out_str(o, "# counters (zero counters left out)\n");
	pthread_mutex_lock(&slab_mutex);
	list_for_each_entry_reverse(s, &slab_caches, list) {
		unsigned long counts[SLAB_STAT_MAX];
		bool any = false;

		stats_read(s, counts);
		for (unsigned int i = 0; i < slab_be->nr_stats; i++) {
			if (!counts[i])
				continue;
			if (!any)
				out_printf(o, "%-17s", s->name);
			out_printf(o, " %s=%lu", slab_be->stat_names[i], counts[i]);
			any = true;
		}
		if (any)
			out_str(o, "\n");
	}
	pthread_mutex_unlock(&slab_mutex);
}

__attribute__((destructor)) static void stats_at_exit(void)
{
	static char buf[1 << 14];
	struct sout o = { .buf = buf, .size = sizeof(buf), .fd = stats_exit_fd };

	if (stats_exit_mode == STATS_EXIT_NONE || stats_exit_fd < 0 ||
	    __atomic_load_n(&slab_state, __ATOMIC_ACQUIRE) != FULL)
		return;
	if (stats_exit_mode == STATS_EXIT_JSON)
		emit_document(&o);
	else
		emit_text(&o);
	out_flush(&o);
}

/* ------------------------------------------------------ the viewers */

static int stats_busy;

static void stats_signal(int sig, siginfo_t *si, void *uc)
{
	static char buf[1 << 14];
	struct sout o = { .buf = buf, .size = sizeof(buf) };
	int saved_errno = errno;
	bool ok;

	(void)sig;
	(void)uc;
	if (!os_stats_sender_ok(si) || __atomic_exchange_n(&stats_busy, 1, __ATOMIC_ACQUIRE))
		goto out;
	o.fd = os_stats_reply_open(si->si_pid);
	if (o.fd >= 0) {
		stats_nonblock_begin();
		emit_document(&o);
		stats_nonblock_end();
		out_flush(&o);
		ok = !o.failed;
		os_stats_reply_close(o.fd, si->si_pid, ok);
	}
	__atomic_store_n(&stats_busy, 0, __ATOMIC_RELEASE);
out:
	errno = saved_errno;
}

/*
 * A fork while another thread was answering a viewer: that thread is
 * not in the child, so nobody would clear the flag and the child would
 * never answer again.
 */
void stats_fork_child(void)
{
	stats_busy = 0;
	stats_nonblock_end();
}

/* ------------------------------------------------------------ start */

void stats_init(void)
{
	const char *v = os_getenv("USLAB_STATS");

	if (v && *v && strcmp(v, "0") != 0) {
		if (!strcmp(v, "1"))
			stats_exit_mode = STATS_EXIT_TEXT;
		else if (!strcmp(v, "json"))
			stats_exit_mode = STATS_EXIT_JSON;
		else
			pr_warn("uslab: USLAB_STATS=%s: not 0, 1 or json; no report at exit\n", v);
		if (stats_exit_mode != STATS_EXIT_NONE)
			stats_exit_fd = os_dup_private(2);
	}
	slab_stats_enabled = uslab_opt(OPT_SLAB_STATS) || stats_exit_mode != STATS_EXIT_NONE;
}

void stats_init_late(void)
{
	long sig = uslab_opt(OPT_STATS_SIGNAL);

	if (sig < 0)
		sig = os_sigrtmax() - 4;
	if (sig > 0 && os_stats_signal_install((int)sig, stats_signal) != 0 &&
	    uslab_opt(OPT_STATS_SIGNAL) > 0)
		pr_warn("uslab: USLAB_STATS_SIGNAL=%ld: the program already handles it, "
			"or it is no signal; no live statistics\n", sig);
}
