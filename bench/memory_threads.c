/* SPDX-License-Identifier: MIT */
/*
 * memory_threads - what many threads using many caches cost in resident
 * memory.  --threads threads (64) each use --caches object sizes (50:
 * 16, 32, ... bytes, a step of --size-step): in the kmem_cache flavour 50
 * kmem_caches, in the malloc flavours 50 sizes that fall in as many size
 * classes as the allocator has for them, in the kmalloc flavour kmalloc's
 * classes.  Each thread allocates --objects objects of each size, frees
 * all but --keep of them, and waits until every thread has done so.
 *
 *   memory/threads_live/Nt  RSS above the start, in MiB, while all N
 *                           threads are alive and hold their --keep
 *                           objects per size: the objects themselves
 *                           (INFO live_payload_mib) plus what the
 *                           allocator keeps per thread and per size
 *                           (thread caches, cpu slabs, arenas).
 *   memory/threads_exit/Nt  RSS above the start once every thread has
 *                           freed its objects and exited: what thread exit
 *                           leaves behind.
 *
 * The threads run on stacks this program maps and unmaps itself, so that
 * neither figure counts glibc's cache of thread stacks, and the harness's
 * arrays are mapped and touched before the start.  The starting point is
 * taken after the caches exist and after the main thread has allocated and
 * freed one object of each size.
 */
#include "bench.h"
#include "balloc.h"

#include <pthread.h>

#define MIB (1024.0 * 1024.0)
#define STACK_SIZE (256 * 1024)

static long opt_threads, opt_caches, opt_size_step, opt_objects, opt_keep;
static bool opt_check;
static b_cache_t *caches;
static void **slots;		/* per thread: --objects scratch, then the kept ones */
static pthread_barrier_t held, release;

static size_t size_of(long c)
{
	return (size_t)((c + 1) * opt_size_step);
}

static uint64_t tag_of(long thread, long c, long i)
{
	return ((uint64_t)thread * (uint64_t)opt_caches + (uint64_t)c) *
		(uint64_t)opt_objects + (uint64_t)i;
}

static void *worker(void *argp)
{
	long id = (long)(intptr_t)argp, stride = opt_objects / opt_keep;
	void **obj = slots + id * (opt_objects + opt_caches * opt_keep);
	void **kept = obj + opt_objects;

	/*
	 * Per size: allocate them all, then free all but every stride-th
	 * (the first --keep of those), so that the survivors are spread over
	 * what was allocated, as a program's are.
	 */
	for (long c = 0; c < opt_caches; c++) {
		size_t size = size_of(c);

		for (long i = 0; i < opt_objects; i++) {
			obj[i] = B_CACHE_ALLOC(caches[c]);
			b_check_alloc(obj[i], size);
			b_touch(obj[i], size, tag_of(id, c, i), opt_check);
		}
		for (long i = 0; i < opt_objects; i++) {
			if (i % stride == 0 && i / stride < opt_keep) {
				kept[c * opt_keep + i / stride] = obj[i];
				continue;
			}
			b_untouch(obj[i], size, tag_of(id, c, i), opt_check, "memory_threads");
			B_CACHE_FREE(caches[c], obj[i]);
		}
	}
	pthread_barrier_wait(&held);
	pthread_barrier_wait(&release);
	for (long c = 0; c < opt_caches; c++)
		for (long j = 0; j < opt_keep; j++) {
			void *p = kept[c * opt_keep + j];

			b_untouch(p, size_of(c), tag_of(id, c, j * stride), opt_check,
				  "memory_threads");
			B_CACHE_FREE(caches[c], p);
		}
	return NULL;
}

int main(int argc, char **argv)
{
	bool smoke = b_smoke_requested(argc, argv);
	const struct b_opt opts[] = {
		{ "threads", B_OPT_LONG, &opt_threads, "threads alive at once (64)" },
		{ "caches", B_OPT_LONG, &opt_caches, "object sizes (caches) per thread (50)" },
		{ "size-step", B_OPT_LONG, &opt_size_step, "sizes are step, 2 x step, ... (16)" },
		{ "objects", B_OPT_LONG, &opt_objects, "objects each thread allocates per size (16)" },
		{ "keep", B_OPT_LONG, &opt_keep, "of those, how many stay live until exit (4)" },
		{ "check", B_OPT_FLAG, &opt_check, "fill and verify every object (on with --smoke)" },
	};
	pthread_t *t;
	void **stacks;
	pthread_attr_t attr;
	double payload = 0;
	size_t nslots;
	long base, live, after_exit;
	char name[64];

	opt_threads = smoke ? 8 : 64;
	opt_caches = 50;
	opt_size_step = 16;
	opt_objects = 16;
	opt_keep = 4;
	opt_check = smoke;
	b_parse(argc, argv, opts, sizeof(opts) / sizeof(opts[0]));
	if (opt_keep > opt_objects)
		b_die("--keep: at most --objects (%ld)", opt_objects);
	if (opt_threads > 1024)
		b_die("--threads: at most 1024");
	b_print_backend();

	t = b_map((size_t)opt_threads * sizeof(*t));
	nslots = (size_t)opt_threads * (size_t)(opt_objects + opt_caches * opt_keep);
	slots = b_map(nslots * sizeof(*slots));
	stacks = b_map((size_t)opt_threads * sizeof(*stacks));
	caches = b_map((size_t)opt_caches * sizeof(*caches));
	for (long c = 0; c < opt_caches; c++) {
		void *warm;

		caches[c] = B_CACHE_CREATE(size_of(c));
		warm = B_CACHE_ALLOC(caches[c]);
		b_check_alloc(warm, size_of(c));
		B_CACHE_FREE(caches[c], warm);
		payload += (double)opt_keep * (double)size_of(c);
	}
	payload *= (double)opt_threads;
	/* Mapped, not touched: only the pages the threads use become resident. */
	for (long i = 0; i < opt_threads; i++) {
		stacks[i] = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (stacks[i] == MAP_FAILED)
			b_die("mmap of a thread stack: %s", strerror(errno));
	}
	pthread_barrier_init(&held, NULL, (unsigned)opt_threads + 1);
	pthread_barrier_init(&release, NULL, (unsigned)opt_threads + 1);
	base = b_rss_bytes();

	pthread_attr_init(&attr);
	for (long i = 0; i < opt_threads; i++) {
		int err;

		pthread_attr_setstack(&attr, stacks[i], STACK_SIZE);
		err = pthread_create(&t[i], &attr, worker, (void *)(intptr_t)i);
		if (err)
			b_die("pthread_create: %s", strerror(err));
	}
	pthread_attr_destroy(&attr);
	pthread_barrier_wait(&held);
	live = b_rss_bytes();
	pthread_barrier_wait(&release);
	for (long i = 0; i < opt_threads; i++)
		pthread_join(t[i], NULL);
	for (long i = 0; i < opt_threads; i++)
		munmap(stacks[i], STACK_SIZE);
	after_exit = b_rss_bytes();

	printf("INFO memory_threads threads=%ld caches=%ld sizes=%zu..%zu objects=%ld keep=%ld "
	       "live_payload_mib=%.2f base_rss=%ld\n", opt_threads, opt_caches, size_of(0),
	       size_of(opt_caches - 1), opt_objects, opt_keep, payload / MIB, base);
	snprintf(name, sizeof(name), "memory/threads_live/%ldt", opt_threads);
	b_result(name, "rss_mib", (live - base) / MIB, false);
	snprintf(name, sizeof(name), "memory/threads_exit/%ldt", opt_threads);
	b_result(name, "rss_mib", (after_exit - base) / MIB, false);

	pthread_barrier_destroy(&held);
	pthread_barrier_destroy(&release);
	for (long c = 0; c < opt_caches; c++)
		B_CACHE_DESTROY(caches[c]);
	b_unmap(caches, (size_t)opt_caches * sizeof(*caches));
	b_unmap(stacks, (size_t)opt_threads * sizeof(*stacks));
	b_unmap(slots, nslots * sizeof(*slots));
	b_unmap(t, (size_t)opt_threads * sizeof(*t));
	return b_exit_status();
}
