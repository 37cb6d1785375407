/* SPDX-License-Identifier: MIT */
/*
 * fork_part.h - test_part(): run one part of a test in a forked child,
 * for the tests whose parts each set options of their own (options are
 * read when the allocator starts, and a part's child is the first to
 * start it).  Include it after test.h, in a file that defines
 * _GNU_SOURCE first (CPU_SET).
 */
#ifndef USLAB_FORK_PART_H
#define USLAB_FORK_PART_H

#include <sched.h>

/*
 * test_part - run @part(@arg) in a child that counts its own failures
 * and stays on the CPU it started on (so that with fake NUMA everything
 * comes from one node).  1 if it passed; else says which part of @test
 * failed, and 0.
 */
static inline int test_part(const char *test, const char *name, void (*part)(void *), void *arg)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int cpu = sched_getcpu();
		cpu_set_t set;

		test_failures = 0;
		if (cpu >= 0) {
			CPU_ZERO(&set);
			CPU_SET(cpu, &set);
			sched_setaffinity(0, sizeof(set), &set);
		}
		part(arg);
		fflush(NULL);
		_exit(test_failures ? 1 : 0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "%s: part %s failed (status %#x)\n", test, name, status);
		return 0;
	}
	return 1;
}

#endif /* USLAB_FORK_PART_H */
