// SPDX-License-Identifier: MIT
/*
 * os.c - the only file that talks to the kernel: mmap, mprotect, madvise,
 * getcpu, gettid, sched_yield, the clock and the random source.  Everything above it sees
 * "reserve", "commit", "release" and "unmap" of address ranges.
 *
 * Reserving maps PROT_NONE, so address space costs no commit charge;
 * committing makes a range read-write, and the kernel backs it on first
 * touch; releasing (MADV_DONTNEED) drops the backing but keeps the range
 * committed, so it reads as zeroes when next touched.
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
#include <sys/syscall.h>

extern char **environ;

void *os_reserve(size_t size, size_t align)
{
	size_t span = size + align;
	char *p = mmap(NULL, span, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	uintptr_t start = ALIGN((uintptr_t)p, align);
	size_t head = start - (uintptr_t)p;
	size_t tail = span - head - size;

	if (head)
		munmap(p, head);
	if (tail)
		munmap((char *)start + size, tail);
	return (void *)start;
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

void *os_map(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
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
