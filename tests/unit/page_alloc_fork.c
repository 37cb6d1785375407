// SPDX-License-Identifier: MIT
/*
 * page_alloc_fork.c - fork while another thread allocates.
 *
 * A thread allocates, fills, verifies and frees blocks of every order in a
 * loop while the main thread forks again and again.  The fork handlers
 * take the page allocator's locks, so each child starts with them free and
 * the lists whole: in the child, blocks of every order are allocated,
 * filled, checked for overlap and freed; a block the parent filled before
 * the fork reads the same in the child and is freed there; and the child
 * forks a grandchild that does the same.  The parent checks every child
 * exits 0 (a child that hangs is killed by its hang guard), that its own
 * block is untouched, and that its memory coalesces as before.
 */
#include "test.h"
#include "page_check.h"

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#define NR_FORKS	8
#define CHILD_TIMEOUT	20		/* seconds: a hang guard only */

static volatile int stop;
static unsigned long bg_rounds, bg_bad;

static void fill(uintptr_t addr, unsigned int order, uint64_t tag)
{
	uint64_t *p = (uint64_t *)addr;

	for (size_t pg = 0; pg < (1UL << order); pg++) {
		p[pg * (PAGE_SIZE / 8)] = tag + pg;
		p[pg * (PAGE_SIZE / 8) + PAGE_SIZE / 8 - 1] = ~(tag + pg);
	}
}

static int intact(uintptr_t addr, unsigned int order, uint64_t tag)
{
	const uint64_t *p = (const uint64_t *)addr;

	for (size_t pg = 0; pg < (1UL << order); pg++)
		if (p[pg * (PAGE_SIZE / 8)] != tag + pg ||
		    p[pg * (PAGE_SIZE / 8) + PAGE_SIZE / 8 - 1] != ~(tag + pg))
			return 0;
	return 1;
}

static void *background(void *arg)
{
	uint64_t x = 88172645463325252ull;

	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		uintptr_t held[4];
		unsigned int order[4];
		uint64_t tag[4];

		for (int i = 0; i < 4; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* mostly small, an order-8..10 block now and then */
			order[i] = (unsigned int)(x % 16 ? x % 8 : 8 + x % 3);
			held[i] = __get_free_pages(GFP_KERNEL, order[i]);
			if (!held[i]) {
				bg_bad++;
				continue;
			}
			tag[i] = x;
			fill(held[i], order[i], tag[i]);
		}
		for (int i = 0; i < 4; i++) {
			if (!held[i])
				continue;
			if (!intact(held[i], order[i], tag[i])) {
				fprintf(stderr, "background: block %#lx order %u overwritten\n",
					(unsigned long)held[i], order[i]);
				bg_bad++;
			}
			free_pages(held[i], order[i]);
		}
		bg_rounds++;
	}
	return NULL;
}

/* A block of every order, all live at once: aligned, filled, distinct. */
static int exercise(uint64_t salt)
{
	uintptr_t b[MAX_ORDER + 1];
	unsigned int ord[MAX_ORDER + 1], n = 0;
	int bad = 0;

	for (unsigned int o = 0; o <= MAX_ORDER; o++) {
		int zero = (o + salt) & 1;		/* every other one zeroed */
		struct page *p = alloc_pages(GFP_KERNEL | (zero ? __GFP_ZERO : 0), o);
		uintptr_t a;

		if (!p) {
			fprintf(stderr, "child %d: order-%u allocation failed\n", getpid(), o);
			bad++;
			continue;
		}
		a = (uintptr_t)page_address(p);
		if (a % (PAGE_SIZE << o) || virt_to_page((void *)a) != p) {
			fprintf(stderr, "child %d: bad block %#lx order %u\n", getpid(),
				(unsigned long)a, o);
			bad++;
		}
		for (size_t i = 0; zero && i < (PAGE_SIZE << o) / 8; i++) {
			if (((uint64_t *)a)[i]) {
				fprintf(stderr, "child %d: __GFP_ZERO block %#lx not zero\n",
					getpid(), (unsigned long)a);
				bad++;
				break;
			}
		}
		fill(a, o, salt + n * 0x10000);
		ord[n] = o;
		b[n++] = a;
	}
	for (unsigned int i = 0; i < n; i++) {
		unsigned int o = ord[i];

		if (!intact(b[i], o, salt + i * 0x10000)) {
			fprintf(stderr, "child %d: block %#lx order %u overwritten\n", getpid(),
				(unsigned long)b[i], o);
			bad++;
		}
		free_pages(b[i], o);
	}
	return bad;
}

static pid_t spawn(int (*fn)(uintptr_t), uintptr_t arg)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		hang_guard(CHILD_TIMEOUT, "a forked child");
		_exit(fn(arg));
	}
	return pid;
}

/* 0 if the child exited 0; waits at most twice the child's own guard. */
static int reap(pid_t pid)
{
	int status;

	for (int ms = 0; ms < 2 * CHILD_TIMEOUT * 1000; ms += 5) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid) {
			if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
				return 0;
			fprintf(stderr, "child %d: %s %d\n", pid,
				WIFEXITED(status) ? "exit status" : "killed by signal",
				WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
			return -1;
		}
		if (r < 0)
			return -1;
		nanosleep(&(struct timespec){ .tv_nsec = 5000000 }, NULL);
	}
	fprintf(stderr, "child %d: no exit; killing it\n", pid);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

static uintptr_t parent_block;
#define PARENT_ORDER	3
#define PARENT_TAG	0x5eed0000ull

static int grandchild(uintptr_t arg)
{
	return exercise(arg) ? 1 : 0;
}

static int child(uintptr_t arg)
{
	int bad = 0;

	/* the parent's block came along, filled */
	if (!intact(parent_block, PARENT_ORDER, PARENT_TAG)) {
		fprintf(stderr, "child %d: the parent's block differs\n", getpid());
		bad++;
	}
	bad += exercise(arg);
	free_pages(parent_block, PARENT_ORDER);	/* the child's copy of it */
	bad += exercise(arg + 1);
	if (reap(spawn(grandchild, arg + 2)))
		bad++;
	return bad ? 1 : 0;
}

int main(void)
{
	struct buddy_snap base;
	pthread_t bg;
	int failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	CHECK_EQ(buddy_snap(&base), 0);
	buddy_print("before", &base);
	hang_guard(60, "page_alloc_fork");

	parent_block = __get_free_pages(GFP_KERNEL, PARENT_ORDER);
	CHECK(parent_block != 0);
	fill(parent_block, PARENT_ORDER, PARENT_TAG);

	CHECK_EQ(pthread_create(&bg, NULL, background, NULL), 0);
	for (int i = 0; i < NR_FORKS; i++) {
		/* let the other thread get going between forks */
		unsigned long r = __atomic_load_n(&bg_rounds, __ATOMIC_RELAXED);

		while (__atomic_load_n(&bg_rounds, __ATOMIC_RELAXED) < r + 2)
			sched_yield();
		pid_t pid = spawn(child, (uintptr_t)i << 32);

		CHECK(pid > 0);
		if (pid > 0 && reap(pid))
			failed++;
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	pthread_join(bg, NULL);
	printf("%d forks (each with a grandchild) while a thread ran %lu rounds of "
	       "4 allocations; %d children failed\n", NR_FORKS, bg_rounds, failed);
	CHECK_EQ(failed, 0);
	CHECK_EQ(bg_bad, 0);

	CHECK(intact(parent_block, PARENT_ORDER, PARENT_TAG));
	free_pages(parent_block, PARENT_ORDER);
	check_coalesced(&base);
	CHECK_EQ(uslab_error_count(), 0);
	return test_done("page_alloc_fork");
}
