/* SPDX-License-Identifier: MIT */
/*
 * test.h - the few helpers every uslab test shares.  CHECK() records a
 * failure and goes on; test_done() prints the tally and gives the exit
 * status.  expect_death() runs a function in a child and checks that it
 * aborted with a report containing a given text.  test_seed() gives a
 * randomised test its seed; test_skip() reports a test that cannot run.
 */
#ifndef USLAB_TEST_H
#define USLAB_TEST_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

static int test_failures, test_checks;

#define CHECK(cond) do {							\
	test_checks++;								\
	if (!(cond)) {								\
		test_failures++;						\
		fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
	}									\
} while (0)

#define CHECK_EQ(a, b) do {							\
	long long __a = (long long)(a), __b = (long long)(b);			\
	test_checks++;								\
	if (__a != __b) {							\
		test_failures++;						\
		fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %lld, %s == %lld\n", \
			__FILE__, __LINE__, #a, __a, #b, __b);			\
	}									\
} while (0)

static inline int test_done(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, test_checks, test_failures);
	return test_failures ? 1 : 0;
}

/*
 * Randomised tests run on a fixed seed, so that a failure repeats; a
 * different one is asked for with USLAB_TEST_SEED=N (decimal or 0x hex).
 * test_seed_value() is the seed in force; test_seed() also prints it as
 * "<name>: seed N", which is how a failing run tells its seed.
 */
#define TEST_SEED_ENV "USLAB_TEST_SEED"

static inline unsigned long long test_seed_value(unsigned long long fixed)
{
	const char *s = getenv(TEST_SEED_ENV);
	unsigned long long v;
	char *end;

	if (!s || !*s)
		return fixed;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || *s == '-') {
		fprintf(stderr, "%s=%s is not a seed (a number, decimal or 0x hex)\n",
			TEST_SEED_ENV, s);
		exit(2);
	}
	return v;
}

static inline unsigned long long test_seed(const char *name, unsigned long long fixed)
{
	unsigned long long seed = test_seed_value(fixed);

	printf("%s: seed %llu (repeat with %s=%llu)\n", name, seed, TEST_SEED_ENV, seed);
	fflush(stdout);
	return seed;
}

/*
 * test_skip - nothing of what this program tests can run here: say why
 * and exit 77, which ctest reports as "Not Run (Skipped)" (the tests'
 * SKIP_RETURN_CODE), not as a pass.
 */
#define TEST_SKIP_CODE 77

__attribute__((noreturn)) static inline void test_skip(const char *name, const char *why)
{
	printf("%s: SKIPPED: %s\n", name, why);
	fflush(stdout);
	exit(TEST_SKIP_CODE);
}

/* Resident set size of this process in bytes, from /proc/self/statm. */
static inline long rss_bytes(void)
{
	char buf[128];
	long size = 0, resident = 0;
	int fd = open("/proc/self/statm", O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	sscanf(buf, "%ld %ld", &size, &resident);
	return resident * sysconf(_SC_PAGESIZE);
}

/*
 * expect_death - run @fn(@arg) in a child with stderr captured; true if
 * the child died of SIGABRT and its stderr contains @needle.
 */
static inline int expect_death(void (*fn)(void *), void *arg, const char *needle)
{
	int pipefd[2], status;
	char out[8192];
	size_t len = 0;
	pid_t pid;

	if (pipe(pipefd))
		return 0;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		/* no core files from expected deaths */
		signal(SIGABRT, SIG_DFL);
		fn(arg);
		_exit(0);
	}
	close(pipefd[1]);
	for (;;) {
		ssize_t n = read(pipefd[0], out + len, sizeof(out) - 1 - len);

		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof(out) - 1)
			break;
	}
	out[len] = '\0';
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT) {
		fprintf(stderr, "expect_death: child did not abort (status %#x); stderr:\n%s\n",
			status, out);
		return 0;
	}
	if (!strstr(out, needle)) {
		fprintf(stderr, "expect_death: report lacks \"%s\"; stderr:\n%s\n", needle, out);
		return 0;
	}
	return 1;
}

#endif /* USLAB_TEST_H */
