// SPDX-License-Identifier: MIT
/*
 * percpu_arrays.c - the per-thread arrays of free objects in front of the
 * slabs, on either back end: SLUB's sheaves (main, spare, and the node's
 * barn) and SLAB's array caches (and its shared array).  What they hold
 * counts as active in slabinfo, as in the kernel; these checks say that
 * it is caught, bounded and given back:
 *   - a double free of an object that sits in an array, from the thread
 *     that holds it and from another one;
 *   - a write over the free mark of an object in an array (SLUB) is
 *     reported when the object would leave the array, and the object is
 *     not handed out;
 *   - a thread's arrays come back when it exits;
 *   - uslab_trim() and kmem_cache_shrink() give back the caller's arrays
 *     and the barns;
 *   - in a forked child, the arrays of threads that did not survive the
 *     fork come back;
 *   - frees of objects a thread did not allocate leave a bounded number
 *     of objects in its arrays, however many it frees.
 */
#include <uslab/uslab.h>
#include <pthread.h>
#include <sys/wait.h>
#include "../test.h"

static int hook_calls;
static char last_what[128];

static void hook(const char *what)
{
	hook_calls++;
	snprintf(last_what, sizeof(last_what), "%s", what);
}

/*
 * Field @field (0: active objects, 3: objects per slab) of cache @name's
 * /proc/slabinfo line; ~0 if the cache is not there.
 */
static unsigned long slabinfo_field(const char *name, int field)
{
	static char buf[1 << 17];
	char key[64];
	unsigned long v[4] = { ~0UL, ~0UL, ~0UL, ~0UL };

	uslab_slabinfo(buf, sizeof(buf));
	snprintf(key, sizeof(key), "\n%s ", name);
	const char *l = strstr(buf, key);
	if (l)
		sscanf(l + strlen(key), "%lu %lu %lu %lu", &v[0], &v[1], &v[2], &v[3]);
	return v[field];
}

static unsigned long cache_active(const char *name)
{
	return slabinfo_field(name, 0);
}

static bool is_slub(void)
{
	kfree(kmalloc(8, GFP_KERNEL));	/* the options are read at start-up */
	return uslab_option_get("allocator") == 0;
}

static void double_free_in_array(void)
{
	struct kmem_cache *s = kmem_cache_create("arr-dfree", 48, 0, SLAB_NO_MERGE, NULL);
	void *keep[8], *p;
	int before;

	for (int i = 0; i < 8; i++)
		keep[i] = kmem_cache_alloc(s, GFP_KERNEL);
	p = kmem_cache_alloc(s, GFP_KERNEL);
	kmem_cache_free(s, p);			/* into this thread's array */
	before = hook_calls;
	kmem_cache_free(s, p);			/* again: it is still in the array */
	CHECK_EQ(hook_calls, before + 1);
	CHECK(!strcmp(last_what, "Object already free"));

	/* several frees in between: still caught */
	for (int i = 0; i < 8; i++)
		kmem_cache_free(s, keep[i]);
	before = hook_calls;
	kmem_cache_free(s, keep[3]);
	CHECK_EQ(hook_calls, before + 1);
	CHECK(!strcmp(last_what, "Object already free"));

	/* kfree of a kmalloc object twice, with others freed between */
	char *k = kmalloc(100, GFP_KERNEL), *k2 = kmalloc(100, GFP_KERNEL);
	kfree(k);
	kfree(k2);
	before = hook_calls;
	kfree(k);
	CHECK_EQ(hook_calls, before + 1);
	CHECK(!strcmp(last_what, "Object already free"));

	/* the array hands each object out once: no duplicates */
	void *got[64];
	for (int i = 0; i < 64; i++) {
		got[i] = kmem_cache_alloc(s, GFP_KERNEL);
		for (int j = 0; j < i; j++)
			CHECK(got[j] != got[i]);
	}
	for (int i = 0; i < 64; i++)
		kmem_cache_free(s, got[i]);
	kmem_cache_destroy(s);
}

struct cross {
	struct kmem_cache *s;
	void *p;
};

static void *free_again(void *arg)
{
	struct cross *x = arg;

	kmem_cache_free(x->s, x->p);
	return NULL;
}

static void double_free_other_thread(void)
{
	struct kmem_cache *s = kmem_cache_create("arr-xfree", 64, 0, SLAB_NO_MERGE, NULL);
	struct cross x = { s, kmem_cache_alloc(s, GFP_KERNEL) };
	pthread_t t;
	int before;

	kmem_cache_free(s, x.p);		/* in our array */
	before = hook_calls;
	pthread_create(&t, NULL, free_again, &x);
	pthread_join(t, NULL);
	CHECK_EQ(hook_calls, before + 1);
	CHECK(!strcmp(last_what, "Object already free"));
	kmem_cache_destroy(s);
}

/* SLUB: a write over the free mark of an object in a sheaf. */
static void overwritten_mark(void)
{
	struct kmem_cache *s = kmem_cache_create("arr-uaf", 64, 0, SLAB_NO_MERGE, NULL);
	void *p = kmem_cache_alloc(s, GFP_KERNEL), *q;
	unsigned long errs = uslab_error_count();

	kmem_cache_free(s, p);
	memset(p, 0x41, 64);			/* use after free: the whole object */
	q = kmem_cache_alloc(s, GFP_KERNEL);	/* p is on top of the sheaf */
	CHECK(q != p);				/* reported (counted, not fatal) and left out */
	CHECK_EQ(uslab_error_count(), errs + 1);
	kmem_cache_free(s, q);
	/* p stays allocated: destroy reports it and keeps the cache */
	errs = uslab_error_count();
	kmem_cache_destroy(s);
	CHECK(uslab_error_count() > errs);
}

/* Allocate @n (at most 2000) objects of @s, then free them: the arrays fill. */
static void alloc_then_free(struct kmem_cache *s, int n)
{
	void *v[2000];

	for (int i = 0; i < n; i++)
		v[i] = kmem_cache_alloc(s, GFP_KERNEL);
	for (int i = 0; i < n; i++)
		kmem_cache_free(s, v[i]);
}

static struct kmem_cache *exit_cache;

static void *alloc_free_exit(void *arg)
{
	(void)arg;
	alloc_then_free(exit_cache, 300);
	return NULL;
}

static void thread_exit(void)
{
	pthread_t t;

	exit_cache = kmem_cache_create("arr-exit", 100, 0, SLAB_NO_MERGE, NULL);
	for (int i = 0; i < 20; i++) {
		pthread_create(&t, NULL, alloc_free_exit, NULL);
		pthread_join(t, NULL);
		/*
		 * Each thread's own arrays came back when it exited; what stays
		 * cached is each node's (SLUB's barn: at most 10 full sheaves of
		 * 64; SLAB's shared array), the same after every thread.
		 */
		CHECK(cache_active("arr-exit") <= 640 * (unsigned long)uslab_option_get("numa_nodes"));
	}
	uslab_trim();
	CHECK_EQ(cache_active("arr-exit"), 0);
	kmem_cache_destroy(exit_cache);
}

static void trim(void)
{
	struct kmem_cache *s = kmem_cache_create("arr-trim", 80, 0, SLAB_NO_MERGE, NULL);

	alloc_then_free(s, 2000);
	/* some stay in our arrays (and, on SLUB, the barn) */
	CHECK(cache_active("arr-trim") > 0);
	uslab_trim();
	CHECK_EQ(cache_active("arr-trim"), 0);

	alloc_then_free(s, 500);
	kmem_cache_shrink(s);
	CHECK_EQ(cache_active("arr-trim"), 0);
	kmem_cache_destroy(s);
}

static pthread_mutex_t fork_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fork_cond = PTHREAD_COND_INITIALIZER;
static int fork_stage;
static struct kmem_cache *fork_cache;

static void *hold_arrays(void *arg)
{
	(void)arg;
	alloc_then_free(fork_cache, 200);
	pthread_mutex_lock(&fork_lock);
	fork_stage = 1;
	pthread_cond_broadcast(&fork_cond);
	while (fork_stage != 2)
		pthread_cond_wait(&fork_cond, &fork_lock);
	pthread_mutex_unlock(&fork_lock);
	return NULL;
}

static void fork_child_arrays(void)
{
	pthread_t t;
	pid_t pid;
	int status;
	void *mine = kmem_cache_alloc(fork_cache = kmem_cache_create("arr-fork", 72, 0,
								       SLAB_NO_MERGE, NULL),
				      GFP_KERNEL);

	pthread_create(&t, NULL, hold_arrays, NULL);
	pthread_mutex_lock(&fork_lock);
	while (fork_stage != 1)
		pthread_cond_wait(&fork_cond, &fork_lock);
	pthread_mutex_unlock(&fork_lock);

	kmem_cache_free(fork_cache, mine);	/* one in our own array too */
	pid = fork();
	if (pid == 0) {
		int fails = 0, calls = hook_calls;

		/* the other thread is gone here: what its arrays held came back */
		uslab_trim();
		fails += cache_active("arr-fork") != 0;
		/* the child allocates and frees as usual, and still catches a double free */
		void *p = kmem_cache_alloc(fork_cache, GFP_KERNEL);
		kmem_cache_free(fork_cache, p);
		kmem_cache_free(fork_cache, p);
		fails += hook_calls != calls + 1;
		fails += uslab_validate(NULL) != 0;
		_exit(fails);
	}
	CHECK(pid > 0);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	pthread_mutex_lock(&fork_lock);
	fork_stage = 2;
	pthread_cond_broadcast(&fork_cond);
	pthread_mutex_unlock(&fork_lock);
	pthread_join(t, NULL);
	uslab_trim();
	CHECK_EQ(cache_active("arr-fork"), 0);
	kmem_cache_destroy(fork_cache);
}

#define BOUND_THREADS	8
#define BOUND_OBJECTS	20000

static struct kmem_cache *bound_cache;
static void *bound_objs[BOUND_THREADS][BOUND_OBJECTS];
static pthread_barrier_t bound_freed, bound_measured;

static void *free_others(void *arg)
{
	void **v = arg;

	for (int i = 0; i < BOUND_OBJECTS; i++)
		kmem_cache_free(bound_cache, v[i]);
	pthread_barrier_wait(&bound_freed);	/* alive, arrays held, while main counts */
	pthread_barrier_wait(&bound_measured);
	return NULL;
}

/*
 * Threads free objects they did not allocate, many more than an array
 * holds: what stays cached is bounded by the arrays (two sheaves a thread
 * and the barns on SLUB; an array a thread and the shared array on SLAB),
 * not by how much was freed.
 */
static void bounded(void)
{
	pthread_t t[BOUND_THREADS];
	unsigned long left;

	bound_cache = kmem_cache_create("arr-bound", 64, 0, SLAB_NO_MERGE, NULL);
	for (int i = 0; i < BOUND_THREADS; i++)
		for (int j = 0; j < BOUND_OBJECTS; j++)
			bound_objs[i][j] = kmem_cache_alloc(bound_cache, GFP_KERNEL);
	pthread_barrier_init(&bound_freed, NULL, BOUND_THREADS + 1);
	pthread_barrier_init(&bound_measured, NULL, BOUND_THREADS + 1);
	for (int i = 0; i < BOUND_THREADS; i++)
		pthread_create(&t[i], NULL, free_others, bound_objs[i]);
	/* no object is live now: what counts as active is what the arrays hold */
	pthread_barrier_wait(&bound_freed);
	left = cache_active("arr-bound");
	printf("bounded: %d live threads freed %d objects each; %lu still cached\n",
	       BOUND_THREADS, BOUND_OBJECTS, left);
	/*
	 * Per freeing thread: two sheaves (SLUB: up to 128 objects) and the
	 * slabs its frees froze onto its cpu partial chain (up to 32 slabs);
	 * plus the barns.  Not the 160000 objects freed.
	 */
	CHECK(left <= BOUND_THREADS * (128 + 32 * slabinfo_field("arr-bound", 3)) +
		      1280 * (unsigned long)uslab_option_get("numa_nodes"));
	pthread_barrier_wait(&bound_measured);
	for (int i = 0; i < BOUND_THREADS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&bound_freed);
	pthread_barrier_destroy(&bound_measured);
	uslab_trim();
	CHECK_EQ(cache_active("arr-bound"), 0);
	kmem_cache_destroy(bound_cache);
}

int main(void)
{
	uslab_set_report_hook(hook, 1);
	printf("back end: %s\n", is_slub() ? "slub" : "slab");
	double_free_in_array();
	double_free_other_thread();
	if (is_slub())
		overwritten_mark();
	thread_exit();
	trim();
	fork_child_arrays();
	bounded();
	return test_done("percpu_arrays");
}
