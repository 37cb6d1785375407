/* SPDX-License-Identifier: MIT */
/*
 * page_check.h - what the page allocator tests share: a snapshot of the
 * buddy lists (parsed from uslab_buddyinfo(), the /proc/buddyinfo text)
 * and the page counters, and the check that everything a test freed has
 * coalesced.
 *
 * "Everything coalesces back to MAX_ORDER blocks" is measured against a
 * snapshot taken after the library initialised and before the test
 * allocated: initialisation itself keeps a few pages (the boot caches'
 * slabs), which split one MAX_ORDER block for good.  Buddy merging is
 * canonical - for a given set of allocated blocks there is exactly one
 * fully merged free state - so once the test has freed all it took, the
 * counts of orders below MAX_ORDER must equal the snapshot's, and every
 * page the zone carved since must sit in a MAX_ORDER block.
 */
#ifndef USLAB_PAGE_CHECK_H
#define USLAB_PAGE_CHECK_H

#include <uslab/uslab.h>
#include "test.h"

struct buddy_snap {
	unsigned long nr[MAX_ORDER + 1];	/* free blocks per order, all nodes */
	int nodes;
	struct uslab_page_stats st;
};

static inline int buddy_snap(struct buddy_snap *s)
{
	char buf[4096];
	const char *p = buf;

	memset(s, 0, sizeof(*s));
	if (uslab_buddyinfo(buf, sizeof(buf)) >= sizeof(buf))
		return -1;
	while ((p = strstr(p, "Node ")) != NULL) {
		const char *q = strstr(p, "Normal");
		int n;

		if (!q)
			return -1;
		q += strlen("Normal");
		for (int o = 0; o <= MAX_ORDER; o++) {
			unsigned long v;

			if (sscanf(q, " %lu%n", &v, &n) != 1)
				return -1;
			s->nr[o] += v;
			q += n;
		}
		s->nodes++;
		p = q;
	}
	uslab_page_stats(&s->st);
	return s->nodes > 0 ? 0 : -1;
}

static inline void buddy_print(const char *what, const struct buddy_snap *s)
{
	printf("%s: free blocks per order:", what);
	for (int o = 0; o <= MAX_ORDER; o++)
		printf(" %lu", s->nr[o]);
	printf("  (managed %zu free %zu dirty %zu allocated %zu released %zu pages, %u arena(s))\n",
	       s->st.managed, s->st.free, s->st.free_dirty, s->st.allocated,
	       s->st.released, s->st.nr_arenas);
}

/*
 * check_coalesced - with everything the test allocated freed again, the
 * free lists are back to @base below MAX_ORDER, the page counters agree
 * with the lists, and nothing the test took is still counted as allocated.
 */
#define check_coalesced(base) do {						\
	struct buddy_snap __now;						\
	unsigned long __pages = 0;						\
										\
	CHECK_EQ(buddy_snap(&__now), 0);					\
	for (int __o = 0; __o < MAX_ORDER; __o++)				\
		CHECK_EQ(__now.nr[__o], (base)->nr[__o]);			\
	for (int __o = 0; __o <= MAX_ORDER; __o++)				\
		__pages += __now.nr[__o] << __o;				\
	CHECK_EQ(__now.st.allocated, (base)->st.allocated);			\
	CHECK_EQ(__now.st.free, __pages);					\
	CHECK_EQ(__now.st.free + __now.st.allocated, __now.st.managed);		\
	CHECK_EQ(__now.nr[MAX_ORDER] - (base)->nr[MAX_ORDER],			\
		 (__now.st.managed - (base)->st.managed) >> MAX_ORDER);		\
	buddy_print("after freeing everything", &__now);			\
} while (0)

/*
 * hang_guard - a test that hangs fails instead: after @seconds (far more
 * than the test needs, even under a sanitizer) SIGALRM ends the process
 * with a message.  Not a performance check.
 */
static const char *hang_what;

static void hang_alarm(int sig)
{
	static const char pre[] = "HANG: the hang guard's timeout expired in ";
	ssize_t r;

	(void)sig;
	r = write(2, pre, sizeof(pre) - 1);
	r = write(2, hang_what, strlen(hang_what));
	r = write(2, "\n", 1);
	(void)r;
	_exit(3);
}

static inline void hang_guard(unsigned int seconds, const char *what)
{
	hang_what = what;
	signal(SIGALRM, hang_alarm);
	alarm(seconds);
}

/*
 * run_child - run @fn in a forked child under a hang guard of @seconds and
 * return its exit status: what @fn returned, 3 if the hang guard fired,
 * -1 if it died of a signal.  For checks that may wreck the allocator
 * when they fail.
 */
static inline int run_child(int (*fn)(void), unsigned int seconds, const char *what)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		hang_guard(seconds, what);
		_exit(fn());
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "%s: child died of signal %d\n", what, WTERMSIG(status));
		return -1;
	}
	return WEXITSTATUS(status);
}

#endif /* USLAB_PAGE_CHECK_H */
