// SPDX-License-Identifier: MIT
/*
 * os.c - the only file that talks to the kernel: mmap, mprotect, madvise,
 * mincore, getcpu, gettid, sched_yield, the clock and the random source,
 * and the stats viewers' signal and reply file (stats.c).  Everything
 * above it sees "reserve", "commit", "release" and "unmap" of address
 * ranges.
 *
 * Reserving maps PROT_NONE, so address space costs no commit charge;
 * committing makes a range read-write, and the kernel backs it on first
 * touch; releasing (MADV_DONTNEED) drops the backing but keeps the range
 * committed, so it reads as zeroes when next touched.
 *
 * Overcommit: nothing here uses MAP_NORESERVE.  Data mappings (os_map)
 * are plain private anonymous mappings, as glibc's, so the system's
 * vm.overcommit_memory policy decides whether they exist: the default
 * heuristic refuses absurd sizes, "always" (1) accepts them, "never" (2)
 * charges them against the commit limit.  Reservations are PROT_NONE,
 * which the kernel does not charge; committing a range (mprotect to
 * read-write) charges it then, and is refused then if the policy says no.
 * (mprotect of a MAP_NORESERVE mapping charges nothing in modes 0 and 1,
 * so a reservation made with it would hide every committed arena page
 * from the commit accounting.)
 *
 * Alignment: a reservation aligned to more than a page is placed with a
 * hint, not by over-mapping and trimming, so that it needs no more
 * address space than it covers: under RLIMIT_AS (ulimit -v) a 1 GiB
 * arena costs 1 GiB, not 2.  MAP_FIXED_NOREPLACE makes the hint an exact
 * request that fails on an occupied range (a kernel before 4.17 ignores
 * the flag and may place the mapping elsewhere, which is checked).
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <sched.h>
#include <sys/types.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>

extern char **environ;

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE	0x100000
#endif

#define MAP_ANON_PRIVATE	(MAP_PRIVATE | MAP_ANONYMOUS)

/* How many aligned hints to try before over-mapping and trimming. */
#define HINT_TRIES		16

/*
 * map_exact - a PROT_NONE mapping of [@addr, @addr + @size) or nothing:
 * 0, -EEXIST if something is mapped there, or the mmap error.
 */
static int map_exact(uintptr_t addr, size_t size)
{
	int saved = errno, err;
	void *p = mmap((void *)addr, size, PROT_NONE,
		       MAP_ANON_PRIVATE | MAP_FIXED_NOREPLACE, -1, 0);

	if (p == MAP_FAILED) {
		/* An expected miss: errno stays as malloc's caller left it. */
		err = errno;
		errno = saved;
		return -err;
	}
	if ((uintptr_t)p != addr) {	/* a kernel that took it as a hint */
		munmap(p, size);
		return -EEXIST;
	}
	return 0;
}

/*
 * map_aligned - reserve @size bytes (PROT_NONE) at an address a with
 * a + @skew aligned to @align, preferring one where [a, a + @room) is
 * free, so that the caller can later grow the reservation in place up to
 * @room (os_reserve_at).
 *
 * A probe mapping of @size shows where the kernel has room: the top of
 * the highest gap that fits, as mappings are placed top-down.  The first
 * candidate is the highest aligned address whose @room still ends below
 * the probe's end; then the ones an @align below it.  The kernel's own
 * later mappings go to the top of that gap, above the candidate's @room,
 * and fill downwards, away from a reservation growing upwards.  Only if
 * every candidate is taken is the old way tried, @size + @align bytes
 * trimmed to fit; and not at all when the kernel said ENOMEM, which an
 * address-space limit (or the overcommit policy) would say again.
 */
static void *map_aligned(size_t size, size_t align, size_t skew, size_t room)
{
	uintptr_t probe, top, c;
	size_t span;
	char *p;
	int err = 0;

	p = mmap(NULL, size, PROT_NONE, MAP_ANON_PRIVATE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	probe = (uintptr_t)p;
	if (IS_ALIGNED(probe + skew, align) && room <= size)
		return p;
	munmap(p, size);

	top = probe + size;
	if (top >= room + align) {
		c = ALIGN_DOWN(top - room + skew, align) - skew;
		for (int i = 0; i < HINT_TRIES && c >= align; i++, c -= align) {
			err = map_exact(c, size);
			if (!err)
				return (void *)c;
			if (err == -ENOMEM)
				return NULL;
		}
	}

	if (__builtin_add_overflow(size, align, &span))
		return NULL;
	p = mmap(NULL, span, PROT_NONE, MAP_ANON_PRIVATE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	uintptr_t start = ALIGN((uintptr_t)p + skew, align) - skew;
	size_t head = start - (uintptr_t)p;
	size_t tail = span - head - size;

	if (head)
		munmap(p, head);
	if (tail)
		munmap((char *)start + size, tail);
	return (void *)start;
}

/*
 * os_reserve - @size bytes of address space aligned to @align, PROT_NONE.
 * When @size is less than @align, the rest of the aligned slot is left
 * free if the address space allows, for os_reserve_at() to grow into.
 */
void *os_reserve(size_t size, size_t align)
{
	return map_aligned(size, align, 0, align > size ? align : size);
}

/*
 * os_reserve_at - reserve exactly [@addr, @addr + @size), next to a
 * reservation of ours, say; 0, or -EEXIST if any of it is mapped, or
 * -ENOMEM if the address-space limit refuses it.
 */
int os_reserve_at(void *addr, size_t size)
{
	return map_exact((uintptr_t)addr, size);
}

int os_commit(void *addr, size_t size)
{
	return mprotect(addr, size, PROT_READ | PROT_WRITE) ? -errno : 0;
}

void os_unmap(void *addr, size_t size)
{
	munmap(addr, size);
}

void os_release(void *addr, size_t size)
{
	madvise(addr, size, MADV_DONTNEED);
}

/*
 * os_resident - mincore(): one byte per page of [@addr, @addr + @size),
 * bit 0 set for a page in memory.  A page swapped out reads as not
 * resident though it holds data, so callers may trust a 1, not a 0.
 */
int os_resident(void *addr, size_t size, unsigned char *vec)
{
	return mincore(addr, size, vec) ? -errno : 0;
}

/*
 * os_map - @size bytes of read-write memory, backed on first touch.  The
 * overcommit policy decides whether it exists (see the top of the file).
 */
void *os_map(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_ANON_PRIVATE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * os_map_aligned - os_map() of @size bytes at an address a with a + @skew
 * aligned to @align (a page or more), without mapping more than @size on
 * the way if the address space has room.  Reserved first, then committed:
 * the commit is where the overcommit policy has its say.
 */
void *os_map_aligned(size_t size, size_t align, size_t skew)
{
	void *p;

	if (align <= PAGE_SIZE)
		return os_map(size);
	p = map_aligned(size, align, skew, size);
	if (p && os_commit(p, size)) {
		munmap(p, size);
		p = NULL;
	}
	return p;
}

long os_page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

unsigned int os_nr_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);

	return n > 0 ? (unsigned int)n : 1;
}

int os_current_cpu(void)
{
	int cpu = sched_getcpu();

	return cpu < 0 ? 0 : cpu;
}

/* getenv() without the libc: safe while the allocator initialises. */
const char *os_getenv(const char *name)
{
	size_t n = strlen(name);

	if (!environ)
		return NULL;
	for (char **e = environ; *e; e++)
		if (!strncmp(*e, name, n) && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

uint64_t os_random(void)
{
	uint64_t v = 0;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		v = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^
		    (uint64_t)(uintptr_t)&v ^ (uint64_t)getpid() << 32;
	}
	return v;
}

uint64_t os_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * os_coarse_ns - the monotonic clock at tick resolution (a few ms): read
 * from the vDSO without touching the TSC, cheap enough for the page
 * allocator's slow paths to look at on every call (its decay, page_alloc.c).
 */
uint64_t os_coarse_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts))
		clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The spinlock's contended path: spin a little, then give the CPU away. */
void spin_lock_slow(spinlock_t *l)
{
	for (unsigned int spins = 0;; spins++) {
		if (!__atomic_load_n(&l->locked, __ATOMIC_RELAXED) &&
		    !__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
			return;
		if (spins < 128) {
#if defined(__x86_64__) || defined(__i386__)
			__builtin_ia32_pause();
#endif
		} else {
			sched_yield();
		}
	}
}

int os_gettid(void)
{
	return gettid();
}

/* Make [addr, addr + size) read-only: a stray write faults. */
int os_protect_readonly(void *addr, size_t size)
{
	return mprotect(addr, size, PROT_READ) ? -errno : 0;
}

/* --------------------------------------- non-blocking locks (stats.c) */

__thread bool stats_nonblock __attribute__((tls_model("initial-exec")));
/* A lock of this snapshot stayed held: from then on, one try each. */
static __thread bool nb_gave_up __attribute__((tls_model("initial-exec")));

void stats_nonblock_begin(void)
{
	nb_gave_up = false;
	stats_nonblock = true;
}

void stats_nonblock_end(void)
{
	stats_nonblock = false;
}

/*
 * How long a non-blocking snapshot waits for a lock: a few hundred
 * tries, the later ones after a yield, so that a lock another thread
 * holds for a moment is got.  A lock that stays held is most likely held
 * by the thread the signal interrupted, which cannot let go: once one has
 * been given up on, every later lock of the same snapshot gets one try,
 * so a snapshot waits at most once (a few hundred yields).
 */
#define NB_SPINS	64
#define NB_YIELDS	256

static bool nb_try(bool (*try)(void *), void *lock)
{
	int tries = nb_gave_up ? 1 : NB_SPINS + NB_YIELDS;

	for (int i = 0; i < tries; i++) {
		if (try(lock))
			return true;
		if (i < NB_SPINS)
			__builtin_ia32_pause();
		else
			sched_yield();
	}
	nb_gave_up = true;
	return false;
}

static bool try_spin(void *l)
{
	return spin_trylock(l);
}

static bool try_mutex(void *m)
{
	return pthread_mutex_trylock(m) == 0;
}

bool stats_spin_lock(spinlock_t *l)
{
	if (!stats_nonblock) {
		spin_lock(l);
		return true;
	}
	return nb_try(try_spin, l);
}

bool stats_mutex_lock(pthread_mutex_t *m)
{
	if (!stats_nonblock) {
		pthread_mutex_lock(m);
		return true;
	}
	return nb_try(try_mutex, m);
}

/* ------------------------------------------- the stats reply (stats.c) */

int os_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * The reply directory /tmp/uslab-<euid>: used only if it is a real
 * directory (not a link), owned by us, with no access for group or
 * others, so no other user can plant or read a reply.
 */
static bool reply_dir(char *dir, size_t size)
{
	struct stat st;

	uslab_snprintf(dir, size, "/tmp/uslab-%u", (unsigned int)geteuid());
	if (lstat(dir, &st) || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077))
		return false;
	return true;
}

int os_stats_reply_open(int viewer)
{
	char dir[64], path[128];

	if (!reply_dir(dir, sizeof(dir)))
		return -1;
	uslab_snprintf(path, sizeof(path), "%s/%d.%d.tmp", dir, viewer, (int)getpid());
	return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
}

/* Close the reply; publish it (rename .tmp -> .json) if @ok, else drop it. */
void os_stats_reply_close(int fd, int viewer, bool ok)
{
	char dir[64], tmp[128], path[128];

	close(fd);
	if (!reply_dir(dir, sizeof(dir)))
		return;
	uslab_snprintf(tmp, sizeof(tmp), "%s/%d.%d.tmp", dir, viewer, (int)getpid());
	uslab_snprintf(path, sizeof(path), "%s/%d.%d.json", dir, viewer, (int)getpid());
	if (!ok || rename(tmp, path))
		unlink(tmp);
}

/*
 * Install @fn for @sig with SA_SIGINFO and SA_RESTART, every signal
 * blocked while it runs, unless the program already handles @sig: the
 * program's own use of a signal always wins.  0, or -1 if not installed.
 */
int os_stats_signal_install(int sig, void (*fn)(int, siginfo_t *, void *))
{
	struct sigaction sa, old;

	if (sigaction(sig, NULL, &old) || old.sa_handler != SIG_DFL ||
	    (old.sa_flags & SA_SIGINFO))
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigfillset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}

/* A request from a process (not the kernel) of our user, or root. */
bool os_stats_sender_ok(const siginfo_t *si)
{
	if (si->si_code != SI_USER && si->si_code != SI_QUEUE)
		return false;
	return si->si_uid == geteuid() || si->si_uid == 0;
}

/*
 * A private copy of @fd, close-on-exec, numbered high (from 100) so that
 * it stays out of the way of programs that count on low numbers: -1 if
 * none.  For the exit report, which must still reach stderr when the
 * program has closed fd 2 on its way out (coreutils do).
 */
int os_dup_private(int fd)
{
	return fcntl(fd, F_DUPFD_CLOEXEC, 100);
}

int os_getpid(void)
{
	return (int)getpid();
}

int os_sigrtmax(void)
{
	return SIGRTMAX;
}
