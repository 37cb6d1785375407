/* SPDX-License-Identifier: MIT */
/*
 * internal.h - what every uslab source file shares: compiler helpers, list
 * heads, the spinlock, reports, options, and the cross-file prototypes
 * grouped by the file that defines them (as mimalloc's internal.h).
 */
#ifndef USLAB_INTERNAL_H
#define USLAB_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <signal.h>
#include <uslab/uslab.h>

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#undef __always_inline
#define __always_inline inline __attribute__((always_inline))
#define noinline __attribute__((noinline))
#define __cold __attribute__((cold))
#define __hidden __attribute__((visibility("hidden")))

#define ALIGN(x, a)      (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define min_t(t, a, b) ((t)(a) < (t)(b) ? (t)(a) : (t)(b))
#define max_t(t, a, b) ((t)(a) > (t)(b) ? (t)(a) : (t)(b))
#define clamp_t(t, v, lo, hi) min_t(t, max_t(t, v, lo), hi)

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#define READ_ONCE(x)     __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

#define CACHE_LINE_SIZE 64

static inline bool is_power_of_2(unsigned long n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

/* fls: 1-based index of the highest set bit, 0 for 0 (as the kernel's). */
static inline int fls(unsigned int x)
{
	return x ? 32 - __builtin_clz(x) : 0;
}

static inline int ilog2(unsigned long n)
{
	return 63 - __builtin_clzl(n);
}

/* The order of the smallest block of pages that holds @size bytes. */
static inline unsigned int get_order(size_t size)
{
	if (size <= PAGE_SIZE)
		return 0;
	return (unsigned int)(64 - __builtin_clzl((size - 1) >> PAGE_SHIFT));
}

/* ------------------------------------------------------ list_head */

struct list_head {
	struct list_head *next, *prev;
};

#define LIST_HEAD_INIT(name) { &(name), &(name) }

static inline void INIT_LIST_HEAD(struct list_head *l)
{
	l->next = l;
	l->prev = l;
}

static inline void __list_link(struct list_head *n, struct list_head *prev,
			       struct list_head *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	prev->next = n;
}

static inline void list_add(struct list_head *n, struct list_head *head)
{
	__list_link(n, head, head->next);
}

static inline void list_add_tail(struct list_head *n, struct list_head *head)
{
	__list_link(n, head->prev, head);
}

static inline void list_del(struct list_head *e)
{
	e->next->prev = e->prev;
	e->prev->next = e->next;
	e->next = e->prev = NULL;
}

static inline bool list_empty(const struct list_head *head)
{
	return head->next == head;
}

#define list_entry(ptr, type, member) container_of(ptr, type, member)
#define list_first_entry(head, type, member) \
	list_entry((head)->next, type, member)
#define list_last_entry(head, type, member) \
	list_entry((head)->prev, type, member)
/*
 * The walkers test for the end on the list_head, never through an entry:
 * the head is not inside an entry, and forming one around it (as the
 * kernel's macros do) is a misaligned member access to UBSan when the
 * entry type is more aligned than the head's container (struct page).
 */
#define list_for_each_entry(pos, head, member)				\
	for (struct list_head *__le = (head)->next;			\
	     __le != (head) &&						\
	     ((pos) = list_entry(__le, __typeof__(*pos), member), 1);	\
	     __le = __le->next)
#define list_for_each_entry_reverse(pos, head, member)			\
	for (struct list_head *__le = (head)->prev;			\
	     __le != (head) &&						\
	     ((pos) = list_entry(__le, __typeof__(*pos), member), 1);	\
	     __le = __le->prev)
#define list_for_each_entry_safe(pos, n, head, member)			\
	for (struct list_head *__le = (head)->next, *__ln = __le->next;	\
	     __le != (head) &&						\
	     ((pos) = list_entry(__le, __typeof__(*pos), member),	\
	      (n) = list_entry(__ln, __typeof__(*pos), member), (void)(n), 1); \
	     __le = __ln, __ln = __le->next)

/* ------------------------------------------------------- spinlock */

/*
 * The kernel's spinlock_t for the short sections it guards (zone->lock,
 * n->list_lock): test-and-test-and-set with a pause, yielding the CPU if
 * the holder was preempted.  GFP_ATOMIC callers may take it: it never
 * sleeps on a kernel wait queue.
 */
typedef struct {
	int locked;
} spinlock_t;

#define __SPIN_LOCK_UNLOCKED { 0 }

void spin_lock_slow(spinlock_t *l) __hidden;

static inline void spin_lock_init(spinlock_t *l)
{
	l->locked = 0;
}

static inline bool spin_trylock(spinlock_t *l)
{
	return !__atomic_load_n(&l->locked, __ATOMIC_RELAXED) &&
	       !__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE);
}

static inline void spin_lock(spinlock_t *l)
{
	if (likely(!__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE)))
		return;
	spin_lock_slow(l);
}

static inline void spin_unlock(spinlock_t *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

/* --------------------------------------------------------- report.c */

/*
 * Reports are written with write(2) by a formatter that never allocates.
 * pr_err/pr_warn/pr_info print a line; slab_bug() opens a kernel-style
 * "BUG <cache> (Not tainted): <what>" block; uslab_bug_end() ends a
 * BUG-class report: abort, unless a test hook is set.
 */
int uslab_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap) __hidden;
int uslab_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4))) __hidden;
void uslab_printk(const char *fmt, ...) __attribute__((format(printf, 1, 2))) __hidden;
void uslab_bug_end(const char *what) __hidden;
void uslab_count_error(void) __hidden;
bool uslab_reports_quiet(void) __hidden;
__attribute__((noreturn)) void uslab_panic(const char *fmt, ...)
	__attribute__((format(printf, 1, 2))) __hidden;
/* "BUG <who> (Not tainted): <title>", "<who>(<x>): <reason>": an address no cache owns. */
void free_err(const char *who, const void *x, const char *title, const char *reason) __hidden;
/* The caller's stack, as the kernel's dump_stack(), once primed. */
void dump_stack(void) __hidden;
void uslab_stack_prime(void) __hidden;

/*
 * The kernel's ratelimit: at most RATELIMIT_BURST reports per
 * RATELIMIT_INTERVAL_NS from one call site, with a "callbacks suppressed"
 * line for what was dropped, so that a program that keeps failing the
 * same way does not drown its stderr.
 */
struct ratelimit_state {
	uint64_t begin;
	unsigned int printed;
	unsigned int missed;
};
#define RATELIMIT_INTERVAL_NS	5000000000ull
#define RATELIMIT_BURST		10
bool __ratelimit(struct ratelimit_state *rs, const char *func) __hidden;

#define pr_err(...)  uslab_printk(__VA_ARGS__)
#define pr_warn(...) uslab_printk(__VA_ARGS__)
#define pr_info(...) uslab_printk(__VA_ARGS__)

/* A growing text buffer with snprintf's contract, for the /proc files. */
struct seq_buf {
	char *buf;
	size_t size;	/* of @buf */
	size_t len;	/* of the whole text, even past @size */
};

void seq_printf(struct seq_buf *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3))) __hidden;
size_t seq_finish(struct seq_buf *m) __hidden;

/*
 * Locks for a snapshot that may be taken from a signal handler (stats.c):
 * while stats_nonblock is set on this thread they only try, for a bounded
 * time, and return false if the lock stays held (by the very thread the
 * signal interrupted, perhaps); otherwise they lock and return true.
 */
extern __thread bool stats_nonblock __attribute__((tls_model("initial-exec"))) __hidden;
bool stats_spin_lock(spinlock_t *l) __hidden;
bool stats_mutex_lock(pthread_mutex_t *m) __hidden;
/* Around a snapshot taken from the signal handler (stats.c). */
void stats_nonblock_begin(void) __hidden;
void stats_nonblock_end(void) __hidden;

/* -------------------------------------------------------- options.c */

enum uslab_opt {
	OPT_SLAB_NOMERGE,	/* slab_nomerge: never merge caches */
	OPT_SLUB_MIN_ORDER,
	OPT_SLUB_MAX_ORDER,
	OPT_SLUB_MIN_OBJECTS,
	OPT_PAGE_RETAIN_MB,	/* free memory kept backed before madvise */
	OPT_PAGE_LIMIT_MB,	/* cap on memory the page allocator maps (0: none) */
	OPT_NUMA_NODES,		/* fake NUMA: split the CPUs into N nodes */
	OPT_ALLOCATOR,		/* the back end: 0 slub, 1 slab */
	OPT_SLAB_FREELIST_RANDOM, /* CONFIG_SLAB_FREELIST_RANDOM, both back ends */
	OPT_SLAB_MAX_ORDER,	/* slab_max_order: SLAB's largest slab order */
	OPT_SLAB_STATS,		/* SLUB_STATS / SLAB's STATS counters (stats.c) */
	OPT_STATS_SIGNAL,	/* the signal the live viewers send (stats.c) */
	OPT_SLUB_SHEAF_CAPACITY, /* objects per SLUB sheaf; 0: no sheaves (slub.c) */
	OPT_PAGE_RETAIN_MAX_MB,	/* how far churn may raise page_retain_mb (page_alloc.c) */
	OPT_PAGE_DECAY_MS,	/* how long retained extra memory lasts unused */
	OPT_SLUB_EMPTY_MAX_KB,	/* empty slabs SLUB may keep per cache and node, built (slub.c) */
	OPT__COUNT
};

long uslab_opt(enum uslab_opt o) __hidden;
void uslab_options_init(void) __hidden;

/* ------------------------------------------------------------- os.c */

void *os_reserve(size_t size, size_t align) __hidden;
int os_commit(void *addr, size_t size) __hidden;
void os_unmap(void *addr, size_t size) __hidden;
void os_release(void *addr, size_t size) __hidden;
void *os_map(size_t size) __hidden;
long os_page_size(void) __hidden;
unsigned int os_nr_cpus(void) __hidden;
int os_current_cpu(void) __hidden;
const char *os_getenv(const char *name) __hidden;
uint64_t os_random(void) __hidden;
uint64_t os_now_ns(void) __hidden;
int os_gettid(void) __hidden;
int os_protect_readonly(void *addr, size_t size) __hidden;
int os_write_all(int fd, const void *buf, size_t n) __hidden;
int os_stats_reply_open(int viewer) __hidden;
void os_stats_reply_close(int fd, int viewer, bool ok) __hidden;
int os_stats_signal_install(int sig, void (*fn)(int, siginfo_t *, void *)) __hidden;
int os_sigrtmax(void) __hidden;
bool os_stats_sender_ok(const siginfo_t *si) __hidden;
int os_getpid(void) __hidden;
int os_dup_private(int fd) __hidden;

#endif /* USLAB_INTERNAL_H */
