// SPDX-License-Identifier: MIT
/*
 * asan_poison.c - AddressSanitizer over slab memory, with the library's
 * poisoning (USLAB_ASAN_POISON; tests/sanitize/CMakeLists.txt links the
 * uslab_asan_poison copy of the library).  Correct use, broadly - cache
 * pages recycled between caches with and without constructors, zeroed
 * allocations, reallocs, large blocks, pages, threads - must draw no
 * report; each mistake, made in a child, must be reported by ASan as an
 * access to poisoned memory.  Run once per back end (USLAB_ALLOCATOR).
 */
#include "test.h"

#include <uslab/uslab.h>
#include <pthread.h>
#include <stdint.h>

#define PAGE 4096UL

/* Writes @n bytes of @p and reads them back. */
static void fill_check(void *p, size_t n, unsigned seed)
{
	unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		c[i] = (unsigned char)(seed + i * 7);
	for (size_t i = 0; i < n; i++)
		if (c[i] != (unsigned char)(seed + i * 7)) {
			CHECK(!"content changed");
			return;
		}
}

static int all_zero(const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i])
			return 0;
	return 1;
}

/* ------------------------------------------------------- correct use */

struct node {
	uint32_t magic;
	uint32_t count;
	char name[40];
};

#define NODE_MAGIC 0x6e6f6465u

static void node_ctor(void *p)
{
	struct node *n = p;

	/* The constructor is the program's code: it must see its object unpoisoned. */
	memset(n, 0, sizeof(*n));
	n->magic = NODE_MAGIC;
}

/* Objects of a cache, many slabs' worth, written whole, freed, the cache destroyed. */
static void cycle_cache(const char *name, unsigned int size, void (*ctor)(void *), int count)
{
	struct kmem_cache *s = kmem_cache_create(name, size, 0, 0, ctor);
	void **objs = calloc((size_t)count, sizeof(void *));

	CHECK(s != NULL);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < count; i++) {
			objs[i] = kmem_cache_alloc(s, GFP_KERNEL);
			if (ctor)
				CHECK_EQ(((struct node *)objs[i])->magic, NODE_MAGIC);
			fill_check(objs[i], size, (unsigned)i);
			if (ctor)
				((struct node *)objs[i])->magic = NODE_MAGIC;
		}
		for (int i = 0; i < count; i += 2)
			kmem_cache_free(s, objs[i]);
		kmem_cache_shrink(s);
		for (int i = 1; i < count; i += 2)
			kmem_cache_free(s, objs[i]);
	}
	CHECK_EQ(uslab_validate(s), 0);
	kmem_cache_destroy(s);
	free(objs);
	uslab_trim();
}

static void *remote_free(void *arg)
{
	void **objs = arg;

	for (int i = 0; i < 200; i++) {
		kfree(objs[i]);
		objs[i] = kmalloc(72, GFP_KERNEL);
		fill_check(objs[i], 72, 3);
	}
	return NULL;
}

static void correct_use(void)
{
	struct kmem_cache *s, *rcu;
	void *objs[200], *bulk[32];
	pthread_t t;
	char *p, *q;
	unsigned long addr;

	/*
	 * Pages that held poisoned free objects of caches without a
	 * constructor go on to caches with one, and back: the constructor
	 * runs over them, then objects handed out are whole.
	 */
	cycle_cache("asan-plain-52", 52, NULL, 3000);
	cycle_cache("asan-ctor", sizeof(struct node), node_ctor, 3000);
	cycle_cache("asan-plain-200", 200, NULL, 2000);
	cycle_cache("asan-ctor-2", sizeof(struct node), node_ctor, 2000);

	s = kmem_cache_create("asan-zero", 100, 0, 0, NULL);
	for (int i = 0; i < 200; i++) {
		objs[i] = kmem_cache_zalloc(s, GFP_KERNEL);
		CHECK(all_zero(objs[i], 100));
		fill_check(objs[i], 100, 1);
	}
	CHECK_EQ(kmem_cache_alloc_bulk(s, GFP_KERNEL, 32, bulk), 32);
	for (int i = 0; i < 32; i++)
		fill_check(bulk[i], 100, 2);
	kmem_cache_free_bulk(s, 32, bulk);
	for (int i = 0; i < 200; i++)
		kmem_cache_free(s, objs[i]);
	kmem_cache_destroy(s);

	/* kmalloc: the whole ksize() is the caller's */
	for (size_t n = 1; n <= 8192; n = n * 2 + 3) {
		p = kmalloc(n, GFP_KERNEL);
		fill_check(p, ksize(p), (unsigned)n);
		kfree(p);
		p = kzalloc(n, GFP_KERNEL);
		CHECK(all_zero(p, n));
		kfree(p);
	}
	p = kmalloc(30, GFP_KERNEL);
	fill_check(p, 30, 4);
	p = krealloc(p, 60, GFP_KERNEL);
	fill_check(p, 60, 5);
	p = krealloc(p, 5000, GFP_KERNEL);
	fill_check(p, 5000, 6);
	p = krealloc(p, 100000, GFP_KERNEL);
	fill_check(p, 100000, 7);
	p = krealloc(p, 10, GFP_KERNEL);
	q = kstrdup("poisoned neighbours", GFP_KERNEL);
	CHECK(!strcmp(q, "poisoned neighbours"));
	kfree_sensitive(q);
	kfree(p);

	/* large blocks and pages, over pages the caches above gave back */
	p = kzalloc(200000, GFP_KERNEL);
	CHECK(all_zero(p, 200000));
	fill_check(p, ksize(p), 8);
	kfree(p);
	p = kvmalloc(6 << 20, GFP_KERNEL);
	fill_check(p, 6 << 20, 9);
	kvfree(p);
	for (unsigned int order = 0; order < 4; order++) {
		struct page *page = alloc_pages(GFP_KERNEL, order);

		fill_check(page_address(page), PAGE << order, 10);
		__free_pages(page, order);
	}
	addr = get_zeroed_page(GFP_KERNEL);
	CHECK(all_zero((void *)addr, PAGE));
	free_pages(addr, 0);

	/* SLAB_TYPESAFE_BY_RCU: a freed object may be read */
	rcu = kmem_cache_create("asan-rcu", 64, 0, SLAB_TYPESAFE_BY_RCU, NULL);
	p = kmem_cache_alloc(rcu, GFP_KERNEL);
	p[0] = 1;
	kmem_cache_free(rcu, p);
	CHECK(*(volatile char *)p == 1 || *(volatile char *)p != 1);
	kmem_cache_destroy(rcu);

	/* frees from another thread, whose allocations come back here */
	for (int i = 0; i < 200; i++) {
		objs[i] = kmalloc(72, GFP_KERNEL);
		fill_check(objs[i], 72, 11);
	}
	pthread_create(&t, NULL, remote_free, objs);
	pthread_join(t, NULL);
	for (int i = 0; i < 200; i++) {
		fill_check(objs[i], 72, 12);
		kfree(objs[i]);
	}
}

/* ------------------------------------------------------------ mistakes */

static __attribute__((noinline)) void uaf_write(char *volatile p)
{
	p[8] = 1;
}

static __attribute__((noinline)) char uaf_read(char *volatile p)
{
	return p[3];
}

static __attribute__((noinline)) void overflow_write(char *volatile p, size_t at)
{
	p[at] = 1;
}

static void cache_uaf(void)
{
	struct kmem_cache *s = kmem_cache_create("asan-uaf", 48, 0, 0, NULL);
	char *p = kmem_cache_alloc(s, GFP_KERNEL);

	kmem_cache_free(s, p);
	uaf_write(p);
}

static void kmalloc_uaf(void)
{
	char *p = kmalloc(64, GFP_KERNEL);

	kfree(p);
	printf("%d\n", uaf_read(p));
}

/* One byte past a 52-byte object: its slot is 56, the rest is red zone. */
static void cache_overflow(void)
{
	struct kmem_cache *s = kmem_cache_create("asan-overflow", 52, 0, 0, NULL);
	char *p = kmem_cache_alloc(s, GFP_KERNEL);

	overflow_write(p, 52);
}

/* Another object of a new slab that was never handed out is poisoned. */
static void fresh_neighbour(void)
{
	/* not merged: a cache of its own, whose first slab is new */
	struct kmem_cache *s = kmem_cache_create("asan-fresh", 64, 0, SLAB_NO_MERGE, NULL);
	char *p = kmem_cache_alloc(s, GFP_KERNEL);
	uintptr_t page = (uintptr_t)p & ~(PAGE - 1);
	char *q = (char *)(page + ((uintptr_t)p - page + PAGE / 2) % PAGE);

	printf("%d\n", uaf_read(q));
}

static void large_uaf(void)
{
	char *p = kmalloc(100000, GFP_KERNEL);

	kfree(p);
	uaf_write(p + 50000);
}

static void pages_uaf(void)
{
	unsigned long addr = __get_free_pages(GFP_KERNEL, 1);

	free_pages(addr, 1);
	uaf_write((char *)addr + 5000);
}

/*
 * Runs @fn in a child with stderr captured: ASan must report a bad access
 * to poisoned memory (@what: READ or WRITE) and end the child.
 */
static void expect_asan(const char *name, void (*fn)(void), const char *what)
{
	static char out[65536];
	int pipefd[2], status;
	size_t len = 0;
	pid_t pid;

	CHECK(pipe(pipefd) == 0);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		fn();
		_exit(0);
	}
	close(pipefd[1]);
	for (ssize_t n; len < sizeof(out) - 1 &&
	     (n = read(pipefd[0], out + len, sizeof(out) - 1 - len)) > 0;)
		len += (size_t)n;
	out[len] = '\0';
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	if ((WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
	    !strstr(out, "ERROR: AddressSanitizer: use-after-poison") || !strstr(out, what)) {
		test_failures++;
		fprintf(stderr, "%s: expected ASan's use-after-poison report (%s), got status %#x and:\n%s\n",
			name, what, status, out);
	} else {
		char *line = strstr(out, "ERROR: AddressSanitizer");

		printf("%s: %.*s\n", name, (int)strcspn(line, "\n"), line);
	}
	test_checks++;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	printf("asan_poison on %s\n", uslab_allocator());
	correct_use();
	printf("correct use: no report\n");
	expect_asan("use after free, kmem_cache", cache_uaf, "WRITE of size 1");
	expect_asan("use after free, kmalloc", kmalloc_uaf, "READ of size 1");
	expect_asan("overflow past object_size", cache_overflow, "WRITE of size 1");
	expect_asan("never handed out", fresh_neighbour, "READ of size 1");
	expect_asan("use after free, kmalloc_large", large_uaf, "WRITE of size 1");
	expect_asan("use after free_pages", pages_uaf, "WRITE of size 1");
	return test_done("asan_poison");
}
