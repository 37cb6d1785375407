// SPDX-License-Identifier: MIT
/*
 * bad_free.c - the cheap checks that are on in every build: a free of an
 * address outside every arena, of a page that is not a slab, of an address
 * that is not the start of an object, into the wrong cache, and a double
 * free, immediate or with other frees (and other threads) in between.
 * With a test hook each is reported and counted and
 * the allocator stays consistent; without one each aborts with the
 * kernel's words.
 */
#include <uslab/slab.h>
#include <uslab/uslab.h>
#include <stdint.h>
#include <pthread.h>
#include "../test.h"

static int hook_calls;
static char last_what[128];
static void hook(const char *what)
{
	hook_calls++;
	snprintf(last_what, sizeof(last_what), "%s", what);
}

static struct kmem_cache *cache;

static void die_outside(void *arg) { int x = 0; (void)arg; kfree(&x); }
static void die_interior(void *arg) { (void)arg; char *p = kmalloc(64, GFP_KERNEL); kfree(p + 8); }
static void die_double(void *arg) { (void)arg; void *p = kmalloc(64, GFP_KERNEL); kfree(p); kfree(p); }
static void die_double_cache(void *arg)
{
	(void)arg;
	void *p = kmem_cache_alloc(cache, GFP_KERNEL);
	kmem_cache_free(cache, p);
	kmem_cache_free(cache, p);
}
/* a double free with other frees between: the object is not the list head */
static void die_double_later(void *arg)
{
	(void)arg;
	void *a = kmem_cache_alloc(cache, GFP_KERNEL), *b = kmem_cache_alloc(cache, GFP_KERNEL);

	kmem_cache_free(cache, a);
	kmem_cache_free(cache, b);
	kmem_cache_free(cache, a);
}
/* ... and one into a slab that is no longer this thread's cpu slab */
static void die_double_old_slab(void *arg)
{
	void *v[2000];

	(void)arg;
	for (int i = 0; i < 2000; i++)
		v[i] = kmalloc(64, GFP_KERNEL);
	for (int i = 0; i < 10; i++)
		kfree(v[i]);
	kfree(v[3]);
}
static void die_not_slab(void *arg)
{
	(void)arg;
	unsigned long a = __get_free_pages(GFP_KERNEL, 1);
	kfree((void *)(a + 4096));		/* a tail page of a plain page block */
}
static void die_large_interior(void *arg)
{
	(void)arg;
	char *p = kmalloc(100000, GFP_KERNEL);
	kfree(p + 4096);
}

/* Objects in another thread's cpu slab take the slow path: same checks. */
static void *other_thread_free(void *p)
{
	kfree(p);
	return NULL;
}

static void with_hook(void)
{
	int before, x = 0;
	unsigned long errs;

	uslab_set_report_hook(hook, 1);

	before = hook_calls;
	kfree(&x);
	CHECK_EQ(hook_calls, before + 1);
	CHECK(!strcmp(last_what, "Invalid object pointer"));

	char *p = kmalloc(64, GFP_KERNEL);
	before = hook_calls;
	kfree(p + 8);				/* interior: fast path */
	CHECK_EQ(hook_calls, before + 1);
	kfree(p);
	before = hook_calls;
	kfree(p);				/* double free: fast path */
	CHECK_EQ(hook_calls, before + 1);
	CHECK(!strcmp(last_what, "Object already free"));

	/* the same through the slow path: the object is not in our cpu slab */
	char *q[200];
	for (int i = 0; i < 200; i++)
		q[i] = kmalloc(64, GFP_KERNEL);
	before = hook_calls;
	kfree(q[0] + 16);
	CHECK_EQ(hook_calls, before + 1);
	pthread_t t;
	pthread_create(&t, NULL, other_thread_free, q[1]);
	pthread_join(t, NULL);
	before = hook_calls;
	kfree(q[1]);				/* freed by the other thread already */
	CHECK_EQ(hook_calls, before + 1);
	for (int i = 2; i < 200; i++)
		kfree(q[i]);
	kfree(q[0]);

	/*
	 * Double frees that are not of the freelist head: in our cpu slab
	 * (fast path), in old slabs (slow path, the object on this thread's
	 * local list or on the slab's own freelist), and from another thread.
	 */
	{
		void *r[3000];

		for (int i = 0; i < 3000; i++)
			r[i] = kmem_cache_alloc(cache, GFP_KERNEL);
		kmem_cache_free(cache, r[2999]);
		kmem_cache_free(cache, r[2998]);
		before = hook_calls;
		kmem_cache_free(cache, r[2999]);	/* fast path, not the head */
		CHECK_EQ(hook_calls, before + 1);
		CHECK(!strcmp(last_what, "Object already free"));
		for (int i = 0; i < 100; i++)
			kmem_cache_free(cache, r[i]);
		before = hook_calls;
		for (int i = 0; i < 100; i += 7)	/* slow path, each of them */
			kmem_cache_free(cache, r[i]);
		CHECK_EQ(hook_calls, before + 15);
		pthread_create(&t, NULL, other_thread_free, r[500]);
		pthread_join(t, NULL);
		before = hook_calls;
		kmem_cache_free(cache, r[500]);
		CHECK_EQ(hook_calls, before + 1);
		for (int i = 100; i < 2998; i++)
			if (i != 500)
				kmem_cache_free(cache, r[i]);
		/* everything is back: a shrink leaves no objects in use */
		kmem_cache_shrink(cache);
		errs = uslab_error_count();
		struct kmem_cache *probe = kmem_cache_create("deaths-probe", 48, 0, SLAB_NO_MERGE, NULL);
		void *o1 = kmem_cache_alloc(probe, GFP_KERNEL);
		kmem_cache_free(probe, o1);
		kmem_cache_destroy(probe);
		CHECK_EQ(uslab_error_count(), errs);
	}

	/* not a slab page */
	unsigned long a = __get_free_pages(GFP_KERNEL, 1);
	before = hook_calls;
	kfree((void *)(a + 4096));
	CHECK_EQ(hook_calls, before + 1);
	CHECK(!strcmp(last_what, "Bad page state"));
	free_pages(a, 1);

	char *big = kmalloc(100000, GFP_KERNEL);
	before = hook_calls;
	kfree(big + 4096);
	CHECK_EQ(hook_calls, before + 1);
	kfree(big);

	/* wrong cache: reported and counted, freed into the right one */
	struct kmem_cache *a1 = kmem_cache_create("wrong-a", 80, 0, SLAB_NO_MERGE, NULL);
	struct kmem_cache *b1 = kmem_cache_create("wrong-b", 80, 0, SLAB_NO_MERGE, NULL);
	void *o = kmem_cache_alloc(a1, GFP_KERNEL);
	errs = uslab_error_count();
	kmem_cache_free(b1, o);
	CHECK_EQ(uslab_error_count(), errs + 1);
	errs = uslab_error_count();
	kmem_cache_destroy(a1);			/* no objects left: it was freed into a1 */
	kmem_cache_destroy(b1);
	CHECK_EQ(uslab_error_count(), errs);

	uslab_set_report_hook(NULL, 0);
}

int main(void)
{
	cache = kmem_cache_create("deaths", 48, 0, SLAB_NO_MERGE, NULL);
	with_hook();
	CHECK(expect_death(die_outside, NULL, "outside every slab arena"));
	CHECK(expect_death(die_interior, NULL, "Invalid object pointer"));
	CHECK(expect_death(die_double, NULL, "BUG kmalloc-64 (Not tainted): Object already free"));
	CHECK(expect_death(die_double_cache, NULL, "BUG deaths (Not tainted): Object already free"));
	CHECK(expect_death(die_double_later, NULL, "BUG deaths (Not tainted): Object already free"));
	CHECK(expect_death(die_double_old_slab, NULL, "BUG kmalloc-64 (Not tainted): Object already free"));
	CHECK(expect_death(die_not_slab, NULL, "BUG: Bad page state"));
	/* a kmalloc_large block on SLUB; a kmalloc-128k object on SLAB */
	CHECK(expect_death(die_large_interior, NULL,
			   uslab_option_get("allocator") == 1 ? "Invalid object pointer"
							     : "BUG: Bad page state"));
	/* after all that, the allocator in this process is fine */
	void *v[1000];
	for (int i = 0; i < 1000; i++)
		v[i] = kmalloc((size_t)i + 1, GFP_KERNEL);
	for (int i = 0; i < 1000; i++)
		kfree(v[i]);
	kmem_cache_destroy(cache);
	return test_done("bad_free");
}
