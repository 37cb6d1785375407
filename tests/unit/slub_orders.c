// SPDX-License-Identifier: MIT
/*
 * slub_orders.c - SLUB's slab order choice (calculate_order and
 * calc_slab_order in src/slub/slub.c, after the kernel's) under the
 * options that steer it: slub_min_order, slub_max_order, slub_min_objects.
 *
 * calculate_order() is static, so what is checked is what it leaves
 * behind, three ways for every cache: slub_cache(s)->oo (order and
 * objects), the objperslab and pagesperslab columns of slabinfo, and the
 * slabs themselves (the order of the head page of an object, and that
 * exactly oo_objects allocations from a fresh cache share one slab).
 *
 * The expected orders are worked out by hand from the kernel's rules:
 * start at max(min_order, get_order(min_objects * size)) and take the
 * first order whose leftover is at most 1/16 of the slab (then 1/8, 1/4)
 * without passing max_order, with fewer min_objects while none fits; one
 * object at the lowest order that holds it when even that fails; and
 * never more than 32767 objects in a slab.  Each setting runs in a child
 * forked before uslab initialises, the options set through
 * uslab_option_set() (one setting through the environment).
 */
#include "slub/slub_fast.h"
#include <uslab/uslab.h>
#include "../test.h"

extern char **environ;

struct order_case {
	unsigned int size;	/* object size, a multiple of 8: s->size is the same */
	unsigned int order;
	unsigned int objects;
};

struct setting {
	const char *what;
	long min_order, max_order, min_objects;	/* -1: leave the default */
	const struct order_case *cases;
	char **env;				/* the options as variables instead */
};

#define END { 0, 0, 0 }

/*
 * The defaults (max order 3) with min_objects pinned to 16, so that the
 * results do not depend on this machine's CPU count.
 */
static const struct order_case default_cases[] = {
	{ 24, 0, 170 },		/* 4096 % 24 = 16 <= 4096 / 16 */
	{ 64, 0, 64 },
	{ 128, 0, 32 },		/* 16 * 128 = 2048: one page does */
	{ 696, 2, 23 },		/* 16 * 696 needs order 2; leftover 376 <= 1024 */
	{ 2104, 3, 15 },	/* max order 3 holds 15: min_objects drops to 15 */
	{ 3000, 3, 10 },	/* leftover 2768: over 1/16 of 32 KiB, within 1/8 */
	{ 5000, 3, 6 },		/* leftover 2768 again, 6 objects */
	{ 8192, 3, 4 },		/* kmalloc-8k's shape */
	{ 16400, 3, 1 },	/* one object, half the slab left over: accepted last */
	{ 40000, 4, 1 },	/* above PAGE_SIZE << max order: the order that holds one */
	{ 1 << 20, 8, 1 },
	END
};

/* slub_min_order=1: nothing below order 1. */
static const struct order_case min1_cases[] = {
	{ 24, 1, 341 },
	{ 64, 1, 128 },
	{ 128, 1, 64 },
	{ 696, 2, 23 },		/* already above the minimum */
	{ 3000, 3, 10 },
	{ 8192, 3, 4 },
	{ 40000, 4, 1 },
	END
};

/* slub_max_order=0: order 0 wherever one object fits in a page. */
static const struct order_case max0_cases[] = {
	{ 24, 0, 170 },
	{ 64, 0, 64 },
	{ 696, 0, 5 },		/* 5 objects, 616 left over: within 1/4 */
	{ 3000, 0, 1 },
	{ 5000, 1, 1 },		/* more than a page: the order that holds it */
	{ 8192, 1, 1 },
	{ 40000, 4, 1 },
	END
};

/* slub_min_order=4, slub_max_order=6: 64 KiB slabs and up. */
static const struct order_case big_cases[] = {
	{ 8, 4, 8192 },
	{ 64, 4, 1024 },
	{ 3000, 4, 21 },	/* leftover 2536 <= 65536 / 16 */
	{ 40000, 6, 6 },	/* 16 * 40000 > 256 KiB: 6 objects, leftover within 1/8 */
	END
};

/*
 * slub_min_order=10: a small object would have more than 32767 objects
 * (slab->objects is 15 bits) in an order-10 slab; the order drops to the
 * one below the order of 32767 objects.
 */
static const struct order_case cap_cases[] = {
	{ 8, 5, 16384 },	/* get_order(8 * 32767) - 1 */
	{ 64, 8, 16384 },	/* get_order(64 * 32767) - 1 */
	{ 3000, 10, 1398 },	/* 1398 objects: within the cap */
	END
};

/* slub_min_objects=4: lower orders where they waste little. */
static const struct order_case minobj4_cases[] = {
	{ 128, 0, 32 },
	{ 696, 2, 23 },		/* orders 0 and 1 waste more than 1/16 */
	{ 3000, 2, 5 },		/* order 3 wastes more than 1/16; order 2 within 1/8 */
	END
};

/* slub_min_objects=64: higher orders for small objects. */
static const struct order_case minobj64_cases[] = {
	{ 64, 0, 64 },
	{ 128, 1, 64 },
	{ 256, 2, 64 },
	{ 3000, 3, 10 },	/* max order 3 holds 10: min_objects drops to 10 */
	END
};

/* slub_min_objects=1: the lowest order that holds one, within 1/16. */
static const struct order_case minobj1_cases[] = {
	{ 64, 0, 64 },
	{ 3000, 0, 1 },
	{ 5000, 1, 1 },
	END
};

static char *max0_env[] = { "USLAB_SLUB_MAX_ORDER=0", "USLAB_SLUB_MIN_OBJECTS=16", NULL };

static const struct setting settings[] = {
	{ "defaults, min_objects 16", -1, -1, 16, default_cases, NULL },
	{ "slub_min_order=1", 1, 3, 16, min1_cases, NULL },
	{ "slub_max_order=0", -1, 0, 16, max0_cases, NULL },
	{ "USLAB_SLUB_MAX_ORDER=0 (environment)", -1, -1, -1, max0_cases, max0_env },
	{ "slub_min_order=4 slub_max_order=6", 4, 6, 16, big_cases, NULL },
	{ "slub_min_order=10 slub_max_order=10", 10, 10, 16, cap_cases, NULL },
	{ "slub_min_objects=4", -1, -1, 4, minobj4_cases, NULL },
	{ "slub_min_objects=64", -1, -1, 64, minobj64_cases, NULL },
	{ "slub_min_objects=1", -1, -1, 1, minobj1_cases, NULL },
};

/* The objperslab and pagesperslab columns of @name's slabinfo line. */
static int slabinfo_shape(const char *name, unsigned int *objperslab, unsigned int *pages)
{
	static char text[65536];
	char key[64];
	const char *line;

	if (uslab_slabinfo(text, sizeof(text)) >= sizeof(text))
		return 0;
	snprintf(key, sizeof(key), "\n%s ", name);
	line = strstr(text, key);
	if (!line)
		return 0;
	return sscanf(line + 1, "%*s %*u %*u %*u %u %u", objperslab, pages) == 2;
}

static void check_case(const struct order_case *c)
{
	char name[32];
	struct kmem_cache *s;
	unsigned int order, objects, info_objs = 0, info_pages = 0;

	snprintf(name, sizeof(name), "order-%u", c->size);
	s = kmem_cache_create(name, c->size, 0, SLAB_NO_MERGE, NULL);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_EQ(s->size, c->size);
	order = oo_order(slub_cache(s)->oo);
	objects = oo_objects(slub_cache(s)->oo);
	if (order != c->order || objects != c->objects) {
		CHECK(0);
		fprintf(stderr, "  size %u: order %u with %u objects, want order %u with %u\n",
			c->size, order, objects, c->order, c->objects);
	}
	/* what every order must satisfy */
	CHECK_EQ(objects, (PAGE_SIZE << order) / c->size);
	CHECK(objects >= 1 && objects <= MAX_OBJS_PER_PAGE);

	/* slabinfo says the same */
	CHECK(slabinfo_shape(name, &info_objs, &info_pages));
	CHECK_EQ(info_objs, objects);
	CHECK_EQ(info_pages, 1u << order);

	/*
	 * And the slabs are so: from a fresh cache, the first @objects
	 * allocations share one slab of that order, the next starts another.
	 */
	void **objs = calloc(objects + 1, sizeof(void *));
	struct page *first;

	CHECK(objs != NULL);
	if (!objs) {
		kmem_cache_destroy(s);
		return;
	}
	for (unsigned int i = 0; i <= objects; i++)
		objs[i] = kmem_cache_alloc(s, GFP_KERNEL);
	first = objs[0] ? virt_to_head_page(objs[0]) : NULL;
	CHECK(first != NULL);
	if (first) {
		unsigned int same = 0;

		CHECK_EQ(slab_order(page_slab(first)), order);
		CHECK(first->slab_cache == s);
		for (unsigned int i = 0; i < objects; i++)
			same += objs[i] && virt_to_head_page(objs[i]) == first;
		CHECK_EQ(same, objects);
		CHECK(objs[objects] && virt_to_head_page(objs[objects]) != first);
	}
	for (unsigned int i = 0; i <= objects; i++)
		kmem_cache_free(s, objs[i]);
	free(objs);
	kmem_cache_destroy(s);
}

static const struct setting *current;

static void setting_child(void)
{
	const struct setting *t = current;

	if (t->env)
		environ = t->env;
	if (t->min_order >= 0)
		CHECK_EQ(uslab_option_set("slub_min_order", t->min_order), 0);
	if (t->max_order >= 0)
		CHECK_EQ(uslab_option_set("slub_max_order", t->max_order), 0);
	if (t->min_objects >= 0)
		CHECK_EQ(uslab_option_set("slub_min_objects", t->min_objects), 0);
	uslab_init();
	if (t->min_order >= 0)
		CHECK_EQ(uslab_option_get("slub_min_order"), t->min_order);
	if (t->max_order >= 0)
		CHECK_EQ(uslab_option_get("slub_max_order"), t->max_order);
	for (const struct order_case *c = t->cases; c->size; c++)
		check_case(c);
	/* the kmalloc caches were sized under the same options */
	CHECK_EQ(oo_objects(slub_cache(kmalloc_slab(64))->oo),
		 (PAGE_SIZE << oo_order(slub_cache(kmalloc_slab(64))->oo)) / 64);
	CHECK_EQ(uslab_error_count(), 0);
}

/* With slub_min_objects left at 0 it is 4 * (fls(nr_cpus) + 1). */
static void default_min_objects_child(void)
{
	unsigned int min_objects = 4 * ((unsigned int)fls(os_nr_cpus()) + 1);
	struct kmem_cache *s;

	uslab_init();
	CHECK_EQ(uslab_option_get("slub_min_objects"), 0);
	/* 128 divides every slab: the order is just that of min_objects objects */
	s = kmem_cache_create("order-default-128", 128, 0, SLAB_NO_MERGE, NULL);
	CHECK_EQ(oo_order(slub_cache(s)->oo),
		 min_t(unsigned int, 3, get_order((size_t)min_objects * 128)));
	kmem_cache_destroy(s);
	printf("slub_orders: %u cpus, min_objects %u\n", os_nr_cpus(), min_objects);
}

/* @fn in a child forked before uslab initialises; true if it passed. */
static int in_child(void (*fn)(void))
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		/* the child's verdict is its own checks', not the parent's so far */
		test_failures = 0;
		fn();
		fflush(NULL);
		_exit(test_failures ? 1 : 0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return 0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < ARRAY_SIZE(settings); i++) {
		int ok;

		current = &settings[i];
		ok = in_child(setting_child);
		printf("slub_orders: %s: %s\n", settings[i].what, ok ? "ok" : "FAILED");
		CHECK(ok);
	}
	CHECK(in_child(default_min_objects_child));
	return test_done("slub_orders");
}
