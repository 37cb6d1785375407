// SPDX-License-Identifier: MIT
/*
 * vg_shim.c - a plain C program on malloc and friends, for valgrind
 * memcheck with libuslab-malloc.so preloaded (valgrind.sh runs it).  It
 * does not link uslab: it looks uslab_owns() up at run time to check that
 * the shim, not valgrind's own malloc, served it.  "clean" uses the
 * allocator correctly, in place and moving reallocs included; each other
 * mode makes one mistake in a function of its own.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define EXPECT(cond) do {							\
	if (!(cond)) {								\
		failures++;							\
		fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
	}									\
} while (0)

/* What is still allocated at exit, reachable from here: not a leak. */
void *vg_kept[2];

static void fill_check(void *p, size_t n, unsigned seed)
{
	unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		c[i] = (unsigned char)(seed + i * 13);
	for (size_t i = 0; i < n; i++)
		if (c[i] != (unsigned char)(seed + i * 13)) {
			EXPECT(!"content changed");
			return;
		}
}

/* The first @n bytes still hold fill_check(@seed)'s pattern. */
static void still(const void *p, size_t n, unsigned seed)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i] != (unsigned char)(seed + i * 13)) {
			EXPECT(!"realloc lost content");
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

static void reallocs(void)
{
	char *p = malloc(100), *q;
	size_t usable;

	fill_check(p, 100, 1);
	usable = malloc_usable_size(p);
	EXPECT(usable >= 100);
	/* grow in place up to the usable size, then shrink in place */
	q = realloc(p, usable);
	still(q, 100, 1);
	fill_check(q, usable, 2);
	p = realloc(q, usable - 8);
	still(p, usable - 8, 2);
	/* shrink below half: moved */
	q = realloc(p, 20);
	still(q, 20, 2);
	/* grow: moved, into a page block, then a mapping */
	p = realloc(q, 5000);
	still(p, 20, 2);
	fill_check(p, 5000, 3);
	q = realloc(p, 40000);
	still(q, 5000, 3);
	fill_check(q, 40000, 4);
	p = realloc(q, malloc_usable_size(q));
	still(p, 40000, 4);
	q = realloc(p, 6 << 20);
	still(q, 40000, 4);
	fill_check(q + (6 << 20) - 4096, 4096, 5);
	p = realloc(q, 100);
	still(p, 100, 4);
	p = reallocarray(p, 10, 30);
	still(p, 100, 4);
	free(p);
	EXPECT(realloc(malloc(10), 0) == NULL);
	p = realloc(NULL, 33);
	fill_check(p, 33, 6);
	free(p);
}

static void aligned(void)
{
	static const size_t aligns[] = { 16, 64, 256, 4096, 65536, 2 << 20 };
	static const size_t sizes[] = { 1, 100, 5000, 100000, 6 << 20 };
	void *p = NULL;

	for (size_t a = 0; a < sizeof(aligns) / sizeof(aligns[0]); a++)
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			EXPECT(posix_memalign(&p, aligns[a], sizes[s]) == 0);
			EXPECT(((unsigned long)p & (aligns[a] - 1)) == 0);
			fill_check(p, sizes[s] < 8192 ? sizes[s] : 8192, (unsigned)s);
			free(p);
		}
	p = aligned_alloc(128, 1024);
	fill_check(p, 1024, 1);
	free(p);
	p = memalign(4096, 300);
	fill_check(p, 300, 2);
	free(p);
	p = valloc(5000);
	fill_check(p, 5000, 3);
	free(p);
}

static void *thread_main(void *arg)
{
	void **objs = arg;

	for (int i = 0; i < 64; i++)
		free(objs[i]);
	for (int i = 0; i < 64; i++) {
		objs[i] = malloc(16 + (size_t)i * 8);
		fill_check(objs[i], 16 + (size_t)i * 8, 9);
	}
	return NULL;
}

/* @need_uslab: fail unless the blocks are uslab's (the shim is in use). */
static int clean(int need_uslab)
{
	int (*owns)(const void *) = (int (*)(const void *))dlsym(RTLD_DEFAULT, "uslab_owns");
	void *objs[64];
	pthread_t t;
	char *s, *p;
	FILE *f;

	p = malloc(64);
	if (need_uslab && (!owns || !owns(p))) {
		fprintf(stderr, "vg_shim: malloc is not uslab's (LD_PRELOAD=libuslab-malloc.so?)\n");
		return 2;
	}
	fill_check(p, 64, 0);
	free(p);
	for (size_t n = 1; n < 20000; n = n * 3 / 2 + 1) {
		p = malloc(n);
		fill_check(p, n, (unsigned)n);
		free(p);
		p = calloc(n, 3);
		check_zero(p, n * 3);
		free(p);
	}
	p = calloc(1, 5 << 20);
	check_zero(p, 4096);
	check_zero(p + (5 << 20) - 4096, 4096);
	free(p);
	reallocs();
	aligned();
	s = strdup("memcheck under the shim");
	p = strndup(s, 8);
	EXPECT(!strcmp(p, "memcheck"));
	free(p);
	EXPECT(asprintf(&p, "%s %d", s, 42) > 0 && !strcmp(p, "memcheck under the shim 42"));
	free(p);
	free(s);
	/* stdio allocates its buffers through malloc */
	f = tmpfile();
	EXPECT(f != NULL);
	if (f) {
		fprintf(f, "%0*d\n", 9000, 1);
		fclose(f);
	}
	for (int i = 0; i < 64; i++) {
		objs[i] = malloc(48);
		fill_check(objs[i], 48, 1);
	}
	pthread_create(&t, NULL, thread_main, objs);
	pthread_join(t, NULL);
	for (int i = 0; i < 64; i++)
		free(objs[i]);
	malloc_trim(0);
	vg_kept[0] = malloc(200);
	vg_kept[1] = strdup("still reachable at exit");
	printf("vg_shim clean: %s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}

static __attribute__((noinline)) void shim_use_after_free(char *volatile p)
{
	p[8] = 1;
}

/*
 * The leak: a block with a live one below it in the same page, then a
 * churn of its class (as vg_kernel_api.c's leak_objects() explains).
 */
void *vg_below;

static __attribute__((noinline)) void shim_leak(void)
{
	void *objs[300], *volatile leak = NULL;
	int i, j, n;

	for (n = 0; n < 64 && !leak; n++) {
		objs[n] = malloc(300);
		for (j = 0; j < n && !leak; j++)
			if ((unsigned long)objs[j] >> 12 == (unsigned long)objs[n] >> 12) {
				vg_below = objs[j] < objs[n] ? objs[j] : objs[n];
				leak = objs[j] < objs[n] ? objs[n] : objs[j];
			}
	}
	for (i = 0; i < n; i++)
		if (objs[i] != leak && objs[i] != vg_below)
			free(objs[i]);
	memset(leak, 1, 300);
	for (i = 0; i < 300; i++)
		objs[i] = malloc(300);
	for (i = 0; i < 300; i++)
		free(objs[i]);
}

static __attribute__((noinline)) void shim_uninit(unsigned char *volatile p)
{
	if (p[10] == 3)
		puts("three");
}

static __attribute__((noinline)) void scrub_stack(void)
{
	volatile char buf[8192];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "clean";
	char *volatile stale;
	char *p;

	if (!strcmp(mode, "clean"))
		return clean(1);
	if (!strcmp(mode, "clean-any"))
		return clean(0);
	if (strcmp(mode, "mistakes")) {
		fprintf(stderr, "vg_shim: unknown mode %s\n", mode);
		return 2;
	}
	/* each reported by memcheck, none stopping the program; the leak last */
	p = malloc(40);
	stale = p;	/* through a volatile: the compiler's own use-after-free warning */
	free(p);
	shim_use_after_free(stale);
	p = malloc(40);
	shim_uninit((unsigned char *)p);
	free(p);
	shim_leak();
	scrub_stack();
	return 0;
}
