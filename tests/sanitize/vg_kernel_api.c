// SPDX-License-Identifier: MIT
/*
 * vg_kernel_api.c - a program on uslab's kernel API, for valgrind memcheck
 * (valgrind.sh runs it).  "clean" uses the API correctly, broadly: every
 * kind of block, the back end's walks over free objects (shrink, destroy,
 * validate, slabinfo, thread exit, fork), and conditionals on everything
 * it reads, so that memcheck checks what uslab says is defined.  Memcheck
 * must find nothing.  Each other mode makes one mistake in a function of
 * its own, which memcheck must report in that function's name.
 */
#define _GNU_SOURCE
#include <uslab/uslab.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;

#define EXPECT(cond) do {							\
	if (!(cond)) {								\
		failures++;							\
		fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
	}									\
} while (0)

/* What is still allocated at exit, reachable from here: not a leak. */
void *vg_kept[4];

/* Writes @n bytes of @p from @seed and reads them back through a branch. */
static void fill_check(void *p, size_t n, unsigned seed)
{
	unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		c[i] = (unsigned char)(seed + i * 7);
	for (size_t i = 0; i < n; i++)
		if (c[i] != (unsigned char)(seed + i * 7)) {
			EXPECT(!"content changed");
			return;
		}
}

static void check_zero(const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i]) {
			EXPECT(!"not zero");
			return;
		}
}

/* ------------------------------------------------------------- clean */

#define CTOR_MAGIC 0x5ca1ab1eu

struct ctor_obj {
	unsigned int magic;
	unsigned int uses;
	char pad[56];
};

static void ctor_obj_init(void *p)
{
	struct ctor_obj *o = p;

	o->magic = CTOR_MAGIC;
	o->uses = 0;
}

static void caches(void)
{
	struct kmem_cache *odd = kmem_cache_create("vg-odd52", 52, 0, 0, NULL);
	struct kmem_cache *ctor = kmem_cache_create("vg-ctor", sizeof(struct ctor_obj), 0, 0,
						    ctor_obj_init);
	struct kmem_cache *rcu = kmem_cache_create("vg-rcu", 40, 0, SLAB_TYPESAFE_BY_RCU, NULL);
	void *objs[600], *bulk[40];
	char buf[8192];
	int n;

	EXPECT(odd && ctor && rcu);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 600; i++) {
			objs[i] = kmem_cache_alloc(odd, GFP_KERNEL);
			fill_check(objs[i], 52, (unsigned)i);
		}
		for (int i = 0; i < 600; i += 2)
			kmem_cache_free(odd, objs[i]);
		EXPECT(uslab_validate(odd) == 0);
		kmem_cache_shrink(odd);
		for (int i = 1; i < 600; i += 2)
			kmem_cache_free(odd, objs[i]);
		kmem_cache_shrink(odd);
	}
	/* Constructed objects: defined from the start, kept across frees. */
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 300; i++) {
			struct ctor_obj *o = kmem_cache_alloc(ctor, GFP_KERNEL);

			EXPECT(o->magic == CTOR_MAGIC);
			o->uses++;
			objs[i] = o;
		}
		for (int i = 0; i < 300; i++)
			kmem_cache_free(ctor, objs[i]);
		kmem_cache_shrink(ctor);
	}
	/* SLAB_TYPESAFE_BY_RCU: a freed object may still be read. */
	for (int i = 0; i < 50; i++) {
		unsigned int *o = kmem_cache_alloc(rcu, GFP_KERNEL);

		o[0] = 42;
		kmem_cache_free(rcu, o);
		/* a read after free, which the cache's contract allows */
		if (*(volatile unsigned int *)o == 0xdeadbeef)
			printf("reused\n");
	}
	n = kmem_cache_alloc_bulk(odd, GFP_KERNEL, 40, bulk);
	EXPECT(n == 40);
	for (int i = 0; i < n; i++)
		fill_check(bulk[i], 52, 3);
	kmem_cache_free_bulk(odd, (size_t)n, bulk);
	objs[0] = kmem_cache_zalloc(odd, GFP_KERNEL);
	check_zero(objs[0], 52);
	kmem_cache_free(odd, objs[0]);
	objs[0] = kmem_cache_alloc_node(odd, GFP_KERNEL, 0);
	fill_check(objs[0], 52, 9);
	vg_kept[0] = objs[0];
	EXPECT(uslab_slabinfo(buf, sizeof(buf)) > 0 && strstr(buf, "vg-odd52"));
	kmem_cache_destroy(ctor);
	kmem_cache_destroy(rcu);
}

static void kmallocs(void)
{
	static const size_t sizes[] = { 1, 8, 13, 64, 96, 100, 192, 250, 1000, 4000, 8192 };
	char *p, *q;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p = kmalloc(sizes[i], GFP_KERNEL);
		fill_check(p, sizes[i], (unsigned)i);
		EXPECT(ksize(p) >= sizes[i]);
		/* ksize() bytes are the caller's */
		fill_check(p, ksize(p), 5);
		kfree(p);
		p = kzalloc(sizes[i], GFP_KERNEL);
		check_zero(p, sizes[i]);
		kfree(p);
	}
	p = kcalloc(10, 30, GFP_KERNEL);
	check_zero(p, 300);
	kfree(p);
	/* krealloc: in place within the block, then moved, then shrunk */
	p = kmalloc(40, GFP_KERNEL);
	fill_check(p, 40, 1);
	p = krealloc(p, 60, GFP_KERNEL);
	fill_check(p, 60, 1);
	p = krealloc(p, 3000, GFP_KERNEL);
	fill_check(p, 3000, 2);
	/* __GFP_ZERO on every call for the block, as the kernel documents it */
	p = krealloc(p, 20, GFP_KERNEL | __GFP_ZERO);
	fill_check(p, 20, 3);
	p = krealloc(p, 100, GFP_KERNEL | __GFP_ZERO);
	check_zero(p + 20, 80);
	kfree(p);
	q = kstrdup("memcheck sees every byte", GFP_KERNEL);
	EXPECT(!strcmp(q, "memcheck sees every byte"));
	p = kstrndup(q, 8, GFP_KERNEL);
	EXPECT(!strcmp(p, "memcheck"));
	kfree(p);
	p = kmemdup(q, strlen(q) + 1, GFP_KERNEL);
	EXPECT(!strcmp(p, q));
	kfree_sensitive(p);
	kfree_const(q);
	kfree_const("a literal");
	kfree(NULL);
	kfree(ZERO_SIZE_PTR);
	p = kmalloc(0, GFP_KERNEL);
	EXPECT(p == ZERO_SIZE_PTR);
	kfree(p);
	vg_kept[1] = kstrdup("still reachable at exit", GFP_KERNEL);
}

static void large_blocks(void)
{
	char *p;

	/* kmalloc_large: whole pages */
	p = kmalloc(40000, GFP_KERNEL);
	fill_check(p, 40000, 1);
	fill_check(p, ksize(p), 2);
	p = krealloc(p, ksize(p), GFP_KERNEL);		/* in place */
	fill_check(p, 40000, 3);
	p = krealloc(p, 200000, GFP_KERNEL);		/* moved */
	fill_check(p, 200000, 4);
	kfree(p);
	p = kzalloc(100000, GFP_KERNEL);
	check_zero(p, 100000);
	kfree(p);
	/* kvmalloc above KMALLOC_MAX_SIZE: a mapping of its own */
	p = kvmalloc(6 << 20, GFP_KERNEL);
	fill_check(p, 4096, 5);
	fill_check(p + (6 << 20) - 4096, 4096, 6);
	kvfree(p);
	p = kvzalloc(5 << 20, GFP_KERNEL);
	check_zero(p, 8192);
	check_zero(p + (5 << 20) - 100, 100);
	kvfree_sensitive(p, 5 << 20);
}

/* Pages a destroyed cache gave back serve alloc_pages() next. */
static void pages_after_slabs(void)
{
	struct kmem_cache *s = kmem_cache_create("vg-pages", 256, 0, 0, NULL);
	void *objs[400];
	unsigned long addr;
	struct page *page;

	for (int i = 0; i < 400; i++) {
		objs[i] = kmem_cache_alloc(s, GFP_KERNEL);
		fill_check(objs[i], 256, 1);
	}
	for (int i = 0; i < 400; i++)
		kmem_cache_free(s, objs[i]);
	kmem_cache_destroy(s);
	uslab_trim();
	for (int order = 0; order < 4; order++) {
		page = alloc_pages(GFP_KERNEL, (unsigned)order);
		EXPECT(page);
		fill_check(page_address(page), 4096UL << order, 2);
		__free_pages(page, (unsigned)order);
	}
	addr = __get_free_pages(GFP_KERNEL, 2);
	fill_check((void *)addr, 4 * 4096, 3);
	free_pages(addr, 2);
	addr = get_zeroed_page(GFP_KERNEL);
	check_zero((void *)addr, 4096);
	free_pages(addr, 0);
	page = alloc_pages(GFP_KERNEL | __GFP_ZERO, 1);
	check_zero(page_address(page), 8192);
	vg_kept[2] = page_address(page);
}

static void *thread_main(void *arg)
{
	void **from_main = arg;
	void *mine[100];

	/* remote frees of the main thread's objects */
	for (int i = 0; i < 100; i++)
		kfree(from_main[i]);
	for (int i = 0; i < 100; i++) {
		mine[i] = kmalloc(24 + (size_t)i, GFP_KERNEL);
		fill_check(mine[i], 24 + (size_t)i, 7);
	}
	for (int i = 0; i < 100; i += 2)
		kfree(mine[i]);
	/* the odd ones go back to the main thread */
	for (int i = 1; i < 100; i += 2)
		from_main[i / 2] = mine[i];
	return NULL;
}

/* Objects cached by an exiting thread go back at its exit (a flush). */
static void threads(void)
{
	void *objs[100];
	pthread_t t;

	for (int i = 0; i < 100; i++) {
		objs[i] = kmalloc(64, GFP_KERNEL);
		fill_check(objs[i], 64, 8);
	}
	pthread_create(&t, NULL, thread_main, objs);
	pthread_join(t, NULL);
	for (int i = 0; i < 50; i++) {
		fill_check(objs[i], 24, 9);
		kfree(objs[i]);
	}
}

static void forked(void)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		void *p = kmalloc(128, GFP_KERNEL);

		fill_check(p, 128, 1);
		kfree(p);
		_exit(failures ? 1 : 0);
	}
	EXPECT(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && !WEXITSTATUS(status));
}

static int clean(void)
{
	caches();
	kmallocs();
	large_blocks();
	pages_after_slabs();
	threads();
	forked();
	uslab_trim();
	vg_kept[3] = kmalloc(1000, GFP_KERNEL);
	printf("vg_kernel_api clean on %s: %s\n", uslab_allocator(), failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}

/* ------------------------------------------------------------ errors */

/*
 * Each mistake is made in a function that is not inlined, so that
 * memcheck's stack names it.  The pointers go through volatile so the
 * compiler keeps the faulty access.
 */
static struct kmem_cache *err_cache(void)
{
	return kmem_cache_create("vg-mistakes", 52, 0, 0, NULL);
}

static __attribute__((noinline)) void use_after_free(char *volatile p)
{
	p[4] = 1;
}

static __attribute__((noinline)) int read_after_free(char *volatile p)
{
	return p[10];
}

static __attribute__((noinline)) void uninit_branch(unsigned char *volatile p)
{
	if (p[3] == 7)
		puts("seven");
}

/*
 * The leaks.  uslab's metadata names the first object of a slab (SLAB's
 * s_mem, the start of SLUB's current cpu slab), and a vacated slot of
 * SLAB's per-thread array keeps the pointer it held until the next free
 * refills it.  Memcheck scans all of uslab's memory for pointers, so such
 * an object would be "still reachable" when leaked (docs/debug.md).  So
 * the block leaked is one with a live object below it in the same page
 * (not the first of its slab), and the cache is churned after.
 */
void *vg_below[2];

static void *alloc_from(struct kmem_cache *s, size_t size)
{
	return s ? kmem_cache_alloc(s, GFP_KERNEL) : kmalloc(size, GFP_KERNEL);
}

static void *leakable(struct kmem_cache *s, size_t size, void **below)
{
	void *objs[64], *leak = NULL;
	int i, j, n;

	for (n = 0; n < 64 && !leak; n++) {
		objs[n] = alloc_from(s, size);
		for (j = 0; j < n && !leak; j++)
			if (page_address(virt_to_page(objs[j])) == page_address(virt_to_page(objs[n]))) {
				*below = objs[j] < objs[n] ? objs[j] : objs[n];
				leak = objs[j] < objs[n] ? objs[n] : objs[j];
			}
	}
	for (i = 0; i < n; i++)
		if (objs[i] != leak && objs[i] != *below)
			kfree(objs[i]);
	return leak;
}

static void churn(struct kmem_cache *s, size_t size)
{
	void *objs[300];

	for (int i = 0; i < 300; i++)
		objs[i] = alloc_from(s, size);
	for (int i = 0; i < 300; i++)
		kfree(objs[i]);
}

static __attribute__((noinline)) void leak_objects(struct kmem_cache *s)
{
	void *volatile a = leakable(NULL, 100, &vg_below[0]);
	void *volatile b = leakable(s, 52, &vg_below[1]);

	memset(a, 1, 100);
	memset(b, 2, 52);
	churn(NULL, 100);
	churn(s, 0);
}

/* Leaves no copy of a dropped pointer in the stack below the caller's frame. */
static __attribute__((noinline)) void scrub_stack(void)
{
	volatile char buf[8192];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = 0;
}

static __attribute__((noinline)) void free_twice(struct kmem_cache *s, void *volatile p)
{
	kmem_cache_free(s, p);
	kmem_cache_free(s, p);
	__asm__ volatile("" ::: "memory");	/* no tail call: this frame stays in the stack */
}

static __attribute__((noinline)) void write_past_end(char *volatile p)
{
	p[52] = 1;
}

static __attribute__((noinline)) void large_after_free(char *volatile p)
{
	p[5000] = 1;
}

static __attribute__((noinline)) void page_after_free(char *volatile p)
{
	p[100] = 1;
}

static int mistake(const char *mode)
{
	struct kmem_cache *s = err_cache();
	char *p;

	if (!strcmp(mode, "uaf_write")) {
		/* a cache of its own: the write must not meet uslab's checks later */
		struct kmem_cache *u = kmem_cache_create("vg-uaf", 48, 0, 0, NULL);

		p = kmem_cache_alloc(u, GFP_KERNEL);
		kmem_cache_free(u, p);
		use_after_free(p);
	} else if (!strcmp(mode, "uaf_read")) {
		p = kmalloc(64, GFP_KERNEL);
		kfree(p);
		printf("%d\n", read_after_free(p));
	} else if (!strcmp(mode, "uninit")) {
		p = kmalloc(64, GFP_KERNEL);
		uninit_branch((unsigned char *)p);
		kfree(p);
	} else if (!strcmp(mode, "leak")) {
		leak_objects(s);
		scrub_stack();
	} else if (!strcmp(mode, "double_free")) {
		p = kmem_cache_alloc(s, GFP_KERNEL);
		free_twice(s, p);
	} else if (!strcmp(mode, "overflow")) {
		p = kmem_cache_alloc(s, GFP_KERNEL);
		write_past_end(p);
		kmem_cache_free(s, p);
	} else if (!strcmp(mode, "large_uaf")) {
		p = kmalloc(40000, GFP_KERNEL);
		kfree(p);
		large_after_free(p);
	} else if (!strcmp(mode, "pages_uaf")) {
		unsigned long addr = __get_free_pages(GFP_KERNEL, 1);

		free_pages(addr, 1);
		page_after_free((char *)addr);
	} else {
		fprintf(stderr, "vg_kernel_api: unknown mode %s\n", mode);
		return 2;
	}
	return 0;
}

/*
 * "mistakes": every mistake that memcheck reports without stopping the
 * program, in one run (the leak last, so that nothing comes after its
 * stack scrub).  A double free is reported by uslab too, which aborts.
 */
static int mistakes(void)
{
	static const char *const modes[] = {
		"uaf_write", "uaf_read", "uninit", "overflow", "large_uaf", "pages_uaf", "leak",
	};

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		mistake(modes[i]);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "clean"))
		return clean();
	if (!strcmp(argv[1], "mistakes"))
		return mistakes();
	return mistake(argv[1]);
}
