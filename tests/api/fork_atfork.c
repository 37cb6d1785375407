// SPDX-License-Identifier: MIT
/*
 * fork_atfork.c - fork() in a program whose own pthread_atfork handlers
 * allocate, registered before uslab starts (in a constructor, before any
 * allocation) and after (in main), for prepare, parent and child, while
 * other threads allocate.  uslab's handlers are registered first, from
 * the library's constructors, so they run innermost: its prepare last,
 * its parent and child handlers first, and every program handler may
 * allocate.  A hang is the failure this guards against: the hang guard
 * (alarm) turns it into a failed test.
 */
#include <uslab/slab.h>
#include <uslab/uslab.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../test.h"

static void *held[6];
static int calls[6];

/* Each handler allocates, writes and frees, and keeps one object across. */
static void work(int i)
{
	char *p = kmalloc(100 + (size_t)i * 50, GFP_KERNEL);

	if (!p)
		_exit(10 + i);
	memset(p, i, 100);
	kfree(held[i]);
	held[i] = kmalloc(64, GFP_KERNEL);
	kfree(p);
	calls[i]++;
}

static void ctor_prepare(void) { work(0); }
static void ctor_parent(void) { work(1); }
static void ctor_child(void) { work(2); }
static void main_prepare(void) { work(3); }
static void main_parent(void) { work(4); }
static void main_child(void) { work(5); }

/* Before main, before uslab has been asked for anything by this program. */
__attribute__((constructor)) static void register_early(void)
{
	pthread_atfork(ctor_prepare, ctor_parent, ctor_child);
}

static volatile int stop;

static void *churn(void *arg)
{
	void *v[256] = { 0 };
	unsigned int x = (unsigned int)(uintptr_t)arg;

	while (!stop) {
		x = x * 1103515245u + 12345u;
		unsigned int i = (x >> 8) % 256;

		kfree(v[i]);
		v[i] = kmalloc(8 + (x >> 20) % 3000, GFP_KERNEL);
	}
	for (int i = 0; i < 256; i++)
		kfree(v[i]);
	return NULL;
}

static void on_alarm(int sig)
{
	(void)sig;
	static const char msg[] = "HANG: fork with allocating atfork handlers\n";
	write(2, msg, sizeof(msg) - 1);
	_exit(99);
}

int main(void)
{
	enum { FORKS = 50 };
	pthread_t t[2];

	signal(SIGALRM, on_alarm);
	alarm(120);
	pthread_atfork(main_prepare, main_parent, main_child);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, churn, (void *)(uintptr_t)(i + 1));
	for (int f = 0; f < FORKS; f++) {
		pid_t pid = fork();

		if (pid == 0) {
			alarm(30);
			/* the child allocates freely, forks once more, and exits */
			void *v[1000];
			for (int i = 0; i < 1000; i++)
				v[i] = kmalloc((size_t)i + 1, GFP_KERNEL);
			for (int i = 0; i < 1000; i++)
				kfree(v[i]);
			if (f == 0) {
				pid_t g = fork();
				if (g == 0)
					_exit(calls[2] > 0 && calls[5] > 0 ? 0 : 3);
				int gst;
				waitpid(g, &gst, 0);
				if (!WIFEXITED(gst) || WEXITSTATUS(gst))
					_exit(4);
			}
			_exit(calls[2] >= 1 && calls[5] >= 1 ? 0 : 2);
		}
		CHECK(pid > 0);
		int st;
		waitpid(pid, &st, 0);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	stop = 1;
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("%d forks: prepare %d+%d, parent %d+%d handler calls\n", FORKS,
	       calls[0], calls[3], calls[1], calls[4]);
	CHECK_EQ(calls[0], FORKS);
	CHECK_EQ(calls[3], FORKS);
	CHECK_EQ(calls[1], FORKS);
	CHECK_EQ(calls[4], FORKS);
	for (int i = 0; i < 6; i++)
		kfree(held[i]);
	return test_done("fork_atfork");
}
