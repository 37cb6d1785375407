// SPDX-License-Identifier: MIT
/*
 * demo.c - what `make demo` runs: the page allocator and the slab caches at
 * work, shown the way the kernel shows them (/proc/buddyinfo,
 * /proc/slabinfo).
 *
 * 1. The buddy allocator alone: blocks of every order, split and merged.
 * 2. Caches of kernel-like objects (an inode-ish struct with a
 *    constructor, a dentry-ish one, a mergeable pair) and kmalloc, used by
 *    four threads at once, half of the objects freed by another thread.
 * 3. Everything freed, caches shrunk, memory given back: the same views
 *    again.
 * 4. Where the memory went at the peak of step 2: each cache's slab pages,
 *    objects in use and waste, as a table and as a PNG chart (chart.c)
 *    written to the path given as the first argument, by default
 *    uslab-demo-memory.png in the current directory (`make demo`:
 *    build/demo/uslab-demo-memory.png).
 */
#include "chart.h"

#include <uslab/slab.h>
#include <uslab/uslab.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct inode_demo {
	unsigned long i_ino;
	unsigned int i_mode;
	long i_size;
	char i_pad[96];
};

struct dentry_demo {
	struct dentry_demo *d_parent;
	char d_iname[40];
};

static struct kmem_cache *inode_cache, *dentry_cache, *buf_a, *buf_b;
static unsigned long ctor_runs;

static void inode_ctor(void *p)
{
	struct inode_demo *in = p;

	memset(in, 0, sizeof(*in));
	__atomic_add_fetch(&ctor_runs, 1, __ATOMIC_RELAXED);
}

static void show(const char *title)
{
	static char buf[1 << 16];

	printf("\n---- %s ----\n", title);
	uslab_buddyinfo(buf, sizeof(buf));
	printf("$ cat /proc/buddyinfo\n%s", buf);
}

/* Print /proc/slabinfo; returns the text, valid until the next call. */
static const char *show_slabinfo(void)
{
	static char buf[1 << 16];

	uslab_slabinfo(buf, sizeof(buf));
	printf("$ cat /proc/slabinfo\n%s", buf);
	return buf;
}

/*
 * The memory at the peak: the table of @u on stdout, the chart to @path.
 * Returns 0, or -1 if the PNG could not be written.
 */
static int where_the_memory_went(const struct slab_usage *u, int n, const char *path)
{
	char subtitle[128];
	int ret;

	printf("\n---- where the memory went (at the peak, 200000 objects live) ----\n");
	slab_usage_print(stdout, u, n);

	snprintf(subtitle, sizeof(subtitle),
		 "at the peak: 200000 objects live, back end %s, from /proc/slabinfo",
		 uslab_allocator());
	ret = n ? slab_usage_chart(path, u, n, subtitle) : -ENODATA;
	if (ret) {
		fprintf(stderr, "chart: cannot write %s: %s\n", path, strerror(-ret));
		return -1;
	}
	printf("chart: %s\n", path);
	return 0;
}

static long rss_kib(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

#define PER_THREAD 50000

struct handoff {
	void *obj[PER_THREAD];
	int n;
};

static struct handoff handoffs[4];

static void *worker(void *arg)
{
	int id = (int)(long)arg;
	struct handoff *h = &handoffs[id];
	unsigned int seed = (unsigned int)id * 7919u + 1;

	for (int i = 0; i < PER_THREAD; i++) {
		seed = seed * 1103515245u + 12345u;
		void *p;

		switch (seed >> 28 & 3) {
		case 0: {
			struct inode_demo *in = kmem_cache_alloc(inode_cache, GFP_KERNEL);
			in->i_ino = (unsigned long)i;
			p = in;
			break;
		}
		case 1: {
			struct dentry_demo *d = kmem_cache_zalloc(dentry_cache, GFP_KERNEL);
			snprintf(d->d_iname, sizeof(d->d_iname), "file-%d", i);
			p = d;
			break;
		}
		case 2:
			p = kmem_cache_alloc((seed & 1) ? buf_a : buf_b, GFP_KERNEL);
			break;
		default:
			p = kmalloc((seed >> 8) % 2048 + 1, GFP_KERNEL);
			break;
		}
		h->obj[h->n++] = p;
	}
	return NULL;
}

static void *freer(void *arg)
{
	/* Each thread frees the objects its neighbour allocated. */
	struct handoff *h = &handoffs[((long)arg + 1) % 4];

	for (int i = 0; i < h->n; i++)
		kfree(h->obj[i]);	/* kfree takes objects of any cache */
	h->n = 0;
	return NULL;
}

int main(int argc, char **argv)
{
	const char *chart_path = argc > 1 ? argv[1] : "uslab-demo-memory.png";
	pthread_t t[4];
	struct page *blocks[MAX_ORDER + 1];
	static struct slab_usage peak[128];
	int npeak, chart_failed;

	printf("uslab demo: the Linux slab allocator in userspace\n");
	kmem_cache_init();
	printf("back end: %s (choose with USLAB_ALLOCATOR=slub or slab)\n", uslab_allocator());
	show("after kmem_cache_init (bootstrap done, kmalloc caches created)");

	for (unsigned int order = 0; order <= MAX_ORDER; order++)
		blocks[order] = alloc_pages(GFP_KERNEL, order);
	show("one block of every order 0..10 allocated (the buddies split)");
	for (unsigned int order = 0; order <= MAX_ORDER; order++)
		__free_pages(blocks[order], order);
	show("all freed again (the buddies merged back)");

	inode_cache = kmem_cache_create("inode_demo", sizeof(struct inode_demo), 0,
					SLAB_HWCACHE_ALIGN | SLAB_RECLAIM_ACCOUNT | SLAB_PANIC,
					inode_ctor);
	dentry_cache = KMEM_CACHE(dentry_demo, SLAB_PANIC);
	buf_a = kmem_cache_create("buf_a", 200, 0, SLAB_PANIC, NULL);
	buf_b = kmem_cache_create("buf_b", 196, 0, SLAB_PANIC, NULL);
	printf("\ncaches: inode_demo (ctor), dentry_demo, buf_a and buf_b (%s)\n",
	       buf_a == buf_b ? "merged into one cache: same size within a word" : "separate");

	long rss0 = rss_kib();
	for (long i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	printf("\n4 threads allocated %d objects; RSS %ld KiB -> %ld KiB; inode ctor ran %lu times\n",
	       4 * PER_THREAD, rss0, rss_kib(), ctor_runs);
	show("with 200000 objects live");
	npeak = slab_usage_parse(show_slabinfo(), peak, 128);

	for (long i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, freer, (void *)i);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	printf("\nevery object freed by a thread that did not allocate it; RSS %ld KiB\n", rss_kib());

	kmem_cache_destroy(inode_cache);
	kmem_cache_destroy(dentry_cache);
	kmem_cache_destroy(buf_a);
	kmem_cache_destroy(buf_b);
	size_t released = uslab_trim();
	printf("caches destroyed, uslab_trim() gave %zu KiB back to the OS; RSS %ld KiB\n",
	       released >> 10, rss_kib());
	show("at the end");
	show_slabinfo();
	printf("\nerrors reported: %lu\n", uslab_error_count());

	chart_failed = where_the_memory_went(peak, npeak, chart_path);
	return uslab_error_count() || chart_failed ? 1 : 0;
}
