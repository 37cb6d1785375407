/* SPDX-License-Identifier: MIT */
/*
 * bench/bench.h - what the benchmark programs share and that has nothing
 * to do with the allocator under test: clocks, result lines, command-line
 * options, a random number generator, memory for the harness itself, the
 * fill-and-verify pattern and RSS.
 *
 * Output protocol, one fact a line on stdout:
 *
 *   RESULT <workload> <metric> <value>
 *   INFO <key> <text...>
 *
 * bench/report.py knows each metric's unit and whether lower or higher is
 * better.  Everything else goes to stderr.
 *
 * The harness keeps its own arrays in mmap'd memory, never in the
 * allocator being measured, so that they neither cost allocator time nor
 * show in the allocator's footprint.
 */
#ifndef USLAB_BENCH_BENCH_H
#define USLAB_BENCH_BENCH_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

/*
 * A function kept whole and separate: not inlined, not cloned, and not
 * merged with an identical twin (GCC's identical code folding would).
 */
#if defined(__clang__)
#define B_NOINLINE __attribute__((noinline))
#else
#define B_NOINLINE __attribute__((noipa))
#endif
#define B_UNUSED __attribute__((unused))

/* Keep the compiler from proving an allocation unused and deleting it. */
static inline void b_escape(const void *p)
{
	__asm__ volatile("" : : "g"(p) : "memory");
}

/* ------------------------------------------------------------ failing */

static inline void b_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static inline void b_die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

#define b_check_alloc(p, size)						\
	do {								\
		if ((p) == NULL)					\
			b_die("%s:%d: allocation of %zu bytes failed",	\
			      __FILE__, __LINE__, (size_t)(size));	\
		if (((uintptr_t)(p) & 7) != 0)				\
			b_die("%s:%d: %p is not 8-byte aligned",	\
			      __FILE__, __LINE__, (void *)(p));		\
	} while (0)

/* ------------------------------------------------------------- clocks */

static inline uint64_t b_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * The time-stamp counter, where this process may read it.  It ticks at the
 * nominal frequency on every CPU with constant_tsc, so "cycles" here are
 * reference cycles, comparable between runs but not core clock cycles.
 */
static inline bool b_tsc_usable(void)
{
#if defined(__x86_64__) && defined(PR_GET_TSC)
	int mode = 0;

	return prctl(PR_GET_TSC, &mode, 0, 0, 0) == 0 && mode == PR_TSC_ENABLE;
#else
	return false;
#endif
}

static inline uint64_t b_tsc(void)
{
#if defined(__x86_64__)
	return __rdtsc();
#else
	return 0;
#endif
}

/* ------------------------------------------------------------ results */

static int b_bad_results;

/*
 * Every value is checked as it is printed: it must be finite, and where
 * @positive, greater than zero.  A bad value fails the run at exit, so a
 * smoke test catches a benchmark that measures nothing.
 */
static inline void b_result(const char *workload, const char *metric,
			    double value, bool positive)
{
	printf("RESULT %s %s %.6g\n", workload, metric, value);
	if (!isfinite(value) || (positive && !(value > 0))) {
		fprintf(stderr, "bench: bad value %g for %s %s\n", value,
			workload, metric);
		b_bad_results++;
	}
}

static inline int b_exit_status(void)
{
	fflush(stdout);
	return b_bad_results ? 1 : 0;
}

static inline int b_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median of @n values; sorts them. */
static inline double b_median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), b_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ------------------------------------------------------------ options */

enum b_opt_type { B_OPT_LONG, B_OPT_LIST, B_OPT_FLAG, B_OPT_STR };

#define B_LIST_MAX 32

struct b_list {
	long v[B_LIST_MAX];
	int n;
};

struct b_opt {
	const char *name;	/* without the leading dashes */
	enum b_opt_type type;
	void *ptr;		/* long *, struct b_list *, bool *, const char ** */
	const char *help;
};

static inline void b_list_set(struct b_list *l, const char *s)
{
	char *end;

	l->n = 0;
	while (*s) {
		if (l->n == B_LIST_MAX)
			b_die("list '%s' has more than %d items", s, B_LIST_MAX);
		errno = 0;
		l->v[l->n] = strtol(s, &end, 0);
		if (end == s || errno || l->v[l->n] <= 0)
			b_die("bad list item in '%s'", s);
		l->n++;
		s = end;
		if (*s == ',')
			s++;
		else if (*s)
			b_die("bad list '%s' (want N,N,...)", s);
	}
	if (l->n == 0)
		b_die("empty list");
}

static inline void b_usage(const char *prog, const struct b_opt *opts, int n)
{
	fprintf(stderr, "usage: %s [--smoke] [options]\n", prog);
	for (int i = 0; i < n; i++)
		fprintf(stderr, "  --%-16s %s\n", opts[i].name, opts[i].help);
}

/* Was --smoke given?  Programs ask first, to choose their defaults. */
static inline bool b_smoke_requested(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--smoke") == 0)
			return true;
	return false;
}

/* Accepts --name value and --name=value; --smoke is always known. */
static inline void b_parse(int argc, char **argv, const struct b_opt *opts, int n)
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *val = NULL, *eq;
		size_t len;
		int k;

		if (strcmp(arg, "--smoke") == 0)
			continue;
		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			b_usage(argv[0], opts, n);
			exit(0);
		}
		if (strncmp(arg, "--", 2) != 0)
			goto bad;
		arg += 2;
		eq = strchr(arg, '=');
		len = eq ? (size_t)(eq - arg) : strlen(arg);
		for (k = 0; k < n; k++)
			if (strlen(opts[k].name) == len && strncmp(opts[k].name, arg, len) == 0)
				break;
		if (k == n)
			goto bad;
		if (opts[k].type == B_OPT_FLAG) {
			if (eq)
				goto bad;
			*(bool *)opts[k].ptr = true;
			continue;
		}
		if (eq)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			goto bad;
		switch (opts[k].type) {
		case B_OPT_LONG: {
			char *end;

			errno = 0;
			*(long *)opts[k].ptr = strtol(val, &end, 0);
			if (end == val || *end || errno || *(long *)opts[k].ptr <= 0)
				b_die("--%s wants a positive number, not '%s'", opts[k].name, val);
			break;
		}
		case B_OPT_LIST:
			b_list_set(opts[k].ptr, val);
			break;
		case B_OPT_STR:
			*(const char **)opts[k].ptr = val;
			break;
		case B_OPT_FLAG:
			break;
		}
		continue;
bad:
		b_usage(argv[0], opts, n);
		b_die("bad argument '%s'", argv[i]);
	}
}

/* ------------------------------------------------- randomness, memory */

/* xorshift64*: fast, and the same sequence for every allocator. */
static inline uint64_t b_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/* Uniform in [0, n) without the modulo bias mattering for these sizes. */
static inline uint64_t b_rand_below(uint64_t *state, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)b_rand(state) * n) >> 64);
}

/* Zeroed, touched memory for the harness, outside the allocator. */
static inline void *b_map(size_t bytes)
{
	void *p = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED)
		b_die("mmap of %zu bytes: %s", bytes, strerror(errno));
	return p;
}

static inline void b_unmap(void *p, size_t bytes)
{
	munmap(p, bytes ? bytes : 1);
}

/* ------------------------------------------------- fill and verify */

/*
 * A pattern that depends on a tag the caller remembers (an index or a
 * sequence number) and on the position in the object: an object handed
 * out twice, overlapping another, or scribbled on while free fails the
 * check.
 */
static inline uint64_t b_pattern_word(uint64_t tag, size_t i)
{
	return (tag + 1) * 0x9E3779B97F4A7C15ull ^ (uint64_t)i * 0xBF58476D1CE4E5B9ull;
}

static inline void b_fill(void *p, size_t size, uint64_t tag)
{
	unsigned char *c = p;
	size_t words = size / 8, i;

	for (i = 0; i < words; i++) {
		uint64_t w = b_pattern_word(tag, i);

		memcpy(c + i * 8, &w, 8);
	}
	for (i = words * 8; i < size; i++)
		c[i] = (unsigned char)b_pattern_word(tag, i);
}

static inline void b_verify(const void *p, size_t size, uint64_t tag, const char *what)
{
	const unsigned char *c = p;
	size_t words = size / 8, i;

	for (i = 0; i < words; i++) {
		uint64_t w;

		memcpy(&w, c + i * 8, 8);
		if (w != b_pattern_word(tag, i))
			b_die("%s: object %p (%zu bytes, tag %llu) corrupted at byte %zu",
			      what, p, size, (unsigned long long)tag, i * 8);
	}
	for (i = words * 8; i < size; i++)
		if (c[i] != (unsigned char)b_pattern_word(tag, i))
			b_die("%s: object %p (%zu bytes, tag %llu) corrupted at byte %zu",
			      what, p, size, (unsigned long long)tag, i);
}

/*
 * The touch a real program makes: in check mode the whole object gets the
 * pattern; otherwise its first word is written, which is what costs a
 * page fault or a cache miss in practice.
 */
static inline void b_touch(void *p, size_t size, uint64_t tag, bool check)
{
	if (check)
		b_fill(p, size, tag);
	else
		*(volatile uint64_t *)p = tag;
}

static inline void b_untouch(const void *p, size_t size, uint64_t tag, bool check,
			     const char *what)
{
	if (check)
		b_verify(p, size, tag, what);
	else if (*(const volatile uint64_t *)p != tag)
		b_die("%s: object %p lost its first word", what, p);
}

/* ---------------------------------------------------------------- RSS */

/* Resident set size in bytes, from /proc/self/statm (no stdio, no malloc). */
static inline long b_rss_bytes(void)
{
	char buf[128];
	long size = 0, resident = 0;
	ssize_t n;
	int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		b_die("open /proc/self/statm: %s", strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		b_die("read /proc/self/statm failed");
	buf[n] = '\0';
	if (sscanf(buf, "%ld %ld", &size, &resident) != 2)
		b_die("cannot parse /proc/self/statm: %s", buf);
	return resident * sysconf(_SC_PAGESIZE);
}

static inline long b_ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? n : 1;
}

#endif /* USLAB_BENCH_BENCH_H */
