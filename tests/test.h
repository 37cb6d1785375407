/* SPDX-License-Identifier: MIT */
/*
 * test.h - the few helpers every uslab test shares.  CHECK() records a
 * failure and goes on; test_done() prints the tally and gives the exit
 * status.  expect_death() runs a function in a child and checks that it
 * aborted with a report containing a given text.
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
