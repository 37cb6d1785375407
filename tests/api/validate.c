// SPDX-License-Identifier: MIT
/*
 * validate.c - uslab_validate(), the kernel's validate_slab_cache(): a
 * healthy allocator after churn from several threads validates clean, for
 * one cache and for all; a free object overwritten after its free is
 * found on the slab's freelist ("Freechain corrupt") and counted; a
 * pointer that is not a live cache is refused with 0.
 */
#include <uslab/slab.h>
#include <uslab/uslab.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include "../test.h"

enum { N = 3000 };
static struct kmem_cache *cache;
static void *objs[N];

/* Allocate everything, free all but every tenth, then exit (the slots flush). */
static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < N; i++)
		objs[i] = kmem_cache_alloc(cache, GFP_KERNEL);
	for (int i = 0; i < N; i++)
		if (i % 10)
			kmem_cache_free(cache, objs[i]);
	return NULL;
}

static void *churn(void *arg)
{
	void *v[512] = { 0 };
	unsigned int x = (unsigned int)(uintptr_t)arg;

	for (int r = 0; r < 200000; r++) {
		x = x * 1103515245u + 12345u;
		unsigned int i = (x >> 8) % 512;

		kfree(v[i]);
		v[i] = kmalloc(1 + (x >> 20) % 2000, GFP_KERNEL);
	}
	for (int i = 0; i < 512; i++)
		kfree(v[i]);
	return NULL;
}

int main(void)
{
	pthread_t t[3];
	unsigned long errs;
	long found;

	cache = kmem_cache_create("validate", 48, 0, SLAB_NO_MERGE, NULL);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, churn, (void *)(uintptr_t)(i + 7));
	pthread_create(&t[2], NULL, worker, NULL);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);

	errs = uslab_error_count();
	CHECK_EQ(uslab_validate(NULL), 0);
	CHECK_EQ(uslab_validate(cache), 0);
	CHECK_EQ(uslab_error_count(), errs);

	/* a stale pointer writes over a free object of a partial slab */
	memset(objs[5], 0x41, 48);
	found = uslab_validate(cache);
	printf("validate after a write to a free object: %ld finding(s)\n", found);
	CHECK(found >= 1);
	CHECK_EQ(uslab_error_count(), errs + (unsigned long)found);

	/* a pointer that is no live cache */
	struct kmem_cache *gone = kmem_cache_create("validate-gone", 32, 0, SLAB_NO_MERGE, NULL);
	kmem_cache_destroy(gone);
	CHECK_EQ(uslab_validate(gone), 0);
	return test_done("validate");
}
