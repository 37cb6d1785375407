// SPDX-License-Identifier: MIT
/*
 * slab_debug.c - the kernel's slab_debug through the public API, on
 * whichever back end the variant picks: what each flag makes the
 * allocator check and print, that every finding is reported in the
 * kernel's words, counted in uslab_error_count() and survived, and that
 * USLAB_SLAB_DEBUG gives the flags to the caches it names:
 *   - P: a free object written, then allocated again: "Poison overwritten"
 *     (F checks at allocation);
 *   - Z: the byte after an object written, then freed: "Right Redzone
 *     overwritten" (F checks at free);
 *   - U: a report shows "Allocated in" and "Freed in" this file's callers;
 *   - T: "TRACE" lines for allocations and frees;
 *   - F: a double free is "Object already free", and the program goes on
 *     (in a child with no report hook, which would abort on a BUG);
 *   - uslab_validate() returns the number of findings: 0 on a clean cache,
 *     also while several threads allocate and free across each other;
 *   - USLAB_SLAB_DEBUG by cache name, 'O' dropping metadata that would
 *     raise the slab order, and a bad string refused with a message that
 *     names the bad letter (in a fresh process: the variable is read once).
 * The reports are read from stderr, captured in a temporary file.
 */
#include "test.h"

#include <uslab/slab.h>
#include <uslab/uslab.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DEBUG_ENV	"FZPU,dbg_*;ZUO,big_*"

static unsigned long errors_before;
static int hook_calls;

static void hook(const char *what)
{
	(void)what;
	hook_calls++;
}

static void start(void)
{
	errors_before = uslab_error_count();
}

/* The errors counted since start() (or the last call). */
static unsigned long errors(void)
{
	unsigned long n = uslab_error_count() - errors_before;

	errors_before = uslab_error_count();
	return n;
}

/* ------------------------------------------------------ capturing stderr */

static char out[1 << 18];
static int saved_fd = -1, capture_fd = -1;

static void capture_start(void)
{
	char path[] = "/tmp/uslab_slab_debug.XXXXXX";

	fflush(stderr);
	capture_fd = mkstemp(path);
	CHECK(capture_fd >= 0);
	unlink(path);
	saved_fd = dup(2);
	dup2(capture_fd, 2);
}

/* The text written to stderr since capture_start(), echoed to the real stderr. */
static const char *capture_end(void)
{
	ssize_t n;
	size_t len = 0;

	fflush(stderr);
	dup2(saved_fd, 2);
	close(saved_fd);
	lseek(capture_fd, 0, SEEK_SET);
	while (len < sizeof(out) - 1 && (n = read(capture_fd, out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(capture_fd);
	if (write(2, out, len) < 0)
		return out;
	return out;
}

/* ------------------------------------------------------------- helpers */

static struct kmem_cache *cache(const char *name, unsigned int size, slab_flags_t flags)
{
	struct kmem_cache *s = kmem_cache_create(name, size, 0, flags | SLAB_NO_MERGE, NULL);

	CHECK(s != NULL);
	return s;
}

/* The cache @name's object in uslab_stats_json(), or "" if it is not there. */
static const char *cache_json(const char *name)
{
	static char doc[1 << 20], obj[8192];
	char key[160];
	const char *p, *end;

	uslab_stats_json(doc, sizeof(doc));
	snprintf(key, sizeof(key), "{\"name\":\"%s\",", name);
	p = strstr(doc, key);
	if (!p)
		return "";
	end = strstr(p, "}}");
	if (!end || (size_t)(end - p) + 3 > sizeof(obj))
		return "";
	memcpy(obj, p, (size_t)(end - p) + 2);
	obj[end - p + 2] = '\0';
	return obj;
}

static bool has_flag(const char *obj, const char *flag)
{
	char q[64];

	snprintf(q, sizeof(q), "\"%s\"", flag);
	return strstr(obj, q) != NULL;
}

/*
 * Whether the line of @text after @what names @fn: by symbol, or (the
 * test program exports no symbols) by an address inside @fn's code.
 */
static bool track_names(const char *text, const char *what, const char *fn, const void *fn_addr)
{
	const char *p = strstr(text, what);
	uintptr_t addr;

	if (!p)
		return false;
	p += strlen(what);
	if (!strncmp(p, fn, strlen(fn)))
		return true;
	if (sscanf(p, "%" SCNxPTR, &addr) != 1)
		return false;
	return addr > (uintptr_t)fn_addr && addr < (uintptr_t)fn_addr + 512;
}

/* ------------------------------------------------------------- the cases */

/* P with F: a free object written is found when it is allocated again. */
static void poison_at_alloc(void)
{
	struct kmem_cache *s = cache("sd_poison", 64, SLAB_CONSISTENCY_CHECKS | SLAB_POISON);
	unsigned char *p = kmem_cache_alloc(s, GFP_KERNEL), *q;
	const char *text;

	CHECK(p != NULL);
	kmem_cache_free(s, p);
	start();
	p[10] = 0x12;
	capture_start();
	q = kmem_cache_alloc(s, GFP_KERNEL);
	text = capture_end();
	CHECK(q != NULL);
	CHECK(strstr(text, "Poison overwritten") != NULL);
	CHECK(errors() >= 2);		/* the finding and the FIX that restored it */
	/* the program goes on; what it gets is sound */
	memset(q, 0x33, 64);
	kmem_cache_free(s, q);
	CHECK_EQ(hook_calls, 0);
}

/* Z with F: the byte after the object written, found when it is freed. */
static void redzone_at_free(void)
{
	struct kmem_cache *s = cache("sd_redzone", 40, SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE);
	unsigned char *p = kmem_cache_alloc(s, GFP_KERNEL);
	const char *text;

	CHECK(p != NULL);
	memset(p, 0, 40);
	start();
	p[40] = 0x99;
	capture_start();
	kmem_cache_free(s, p);
	text = capture_end();
	CHECK(strstr(text, "Right Redzone overwritten") != NULL);
	CHECK(errors() >= 2);
	p = kmem_cache_alloc(s, GFP_KERNEL);
	CHECK(p != NULL);
	kmem_cache_free(s, p);
	CHECK_EQ(errors(), 0);
	CHECK_EQ(hook_calls, 0);
}

static void *volatile sink;

__attribute__((noinline)) static void alloc_site(struct kmem_cache *s)
{
	sink = kmem_cache_alloc(s, GFP_KERNEL);
	__asm__ __volatile__("" : : : "memory");
}

__attribute__((noinline)) static void free_site(struct kmem_cache *s, void *p)
{
	kmem_cache_free(s, p);
	__asm__ __volatile__("" : : : "memory");
}

/* U: a report of an object tells who allocated and who freed it. */
static void store_user(void)
{
	struct kmem_cache *s = cache("sd_user", 96, SLAB_POISON | SLAB_STORE_USER);
	unsigned char *p;
	const char *text;
	long found;

	alloc_site(s);
	p = sink;
	CHECK(p != NULL);
	free_site(s, p);
	start();
	p[3] = 0x44;			/* a write after free, into the poison */
	capture_start();
	found = uslab_validate(s);
	text = capture_end();
	CHECK(strstr(text, "Poison overwritten") != NULL);
	CHECK(track_names(text, "Allocated in ", "alloc_site", (const void *)alloc_site));
	CHECK(track_names(text, "Freed in ", "free_site", (const void *)free_site));
	CHECK(found >= 1);
	CHECK_EQ(errors(), (unsigned long)found);
	/* repaired: the next validation is clean */
	CHECK_EQ(uslab_validate(s), 0);
	CHECK_EQ(errors(), 0);
	kmem_cache_destroy(s);
	CHECK_EQ(errors(), 0);
}

/* T: each allocation and free is traced. */
static void trace(void)
{
	struct kmem_cache *s = cache("sd_trace", 32, SLAB_TRACE);
	const char *text;
	void *p;

	start();
	capture_start();
	p = kmem_cache_alloc(s, GFP_KERNEL);
	kmem_cache_free(s, p);
	text = capture_end();
	CHECK(p != NULL);
	CHECK(strstr(text, "TRACE sd_trace alloc") != NULL);
	CHECK(strstr(text, "TRACE sd_trace free") != NULL);
	CHECK_EQ(errors(), 0);		/* tracing is no error */
	kmem_cache_destroy(s);
}

static void double_free_child(void *arg)
{
	struct kmem_cache *s = arg;
	void *p = kmem_cache_alloc(s, GFP_KERNEL);

	uslab_set_report_hook(NULL, 0);	/* a BUG-class report would abort now */
	kmem_cache_free(s, p);
	kmem_cache_free(s, p);
	p = kmem_cache_alloc(s, GFP_KERNEL);
	kmem_cache_free(s, p);
	fprintf(stderr, "double_free_child: still here\n");
}

/* F: a double free is reported, counted, and survived; the cache stays sound. */
static void double_free(void)
{
	struct kmem_cache *s = cache("sd_double", 48, SLAB_CONSISTENCY_CHECKS | SLAB_POISON);
	void *p = kmem_cache_alloc(s, GFP_KERNEL), *a, *b;
	const char *text;
	int status;
	pid_t pid;

	CHECK(p != NULL);
	kmem_cache_free(s, p);
	start();
	capture_start();
	kmem_cache_free(s, p);
	text = capture_end();
	CHECK(strstr(text, "Object already free") != NULL);
	CHECK(errors() >= 1);
	CHECK_EQ(hook_calls, 0);
	/* not handed out twice */
	a = kmem_cache_alloc(s, GFP_KERNEL);
	b = kmem_cache_alloc(s, GFP_KERNEL);
	CHECK(a != NULL && b != NULL && a != b);
	kmem_cache_free(s, a);
	kmem_cache_free(s, b);
	CHECK_EQ(uslab_validate(s), 0);
	CHECK_EQ(errors(), 0);

	/* the same without a report hook: no abort */
	capture_start();
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		double_free_child(s);
		fflush(NULL);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	text = capture_end();
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(strstr(text, "Object already free") != NULL);
	CHECK(strstr(text, "double_free_child: still here") != NULL);
	kmem_cache_destroy(s);
}

/* validate: 0 on a clean debug cache, the number of findings on a damaged one. */
static void validate_counts(void)
{
	struct kmem_cache *s = cache("sd_validate", 200, SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE |
				     SLAB_POISON | SLAB_STORE_USER);
	static unsigned char *v[600];
	const char *text;
	long found;

	start();
	for (int i = 0; i < 600; i++) {
		v[i] = kmem_cache_alloc(s, GFP_KERNEL);
		CHECK(v[i] != NULL);
		memset(v[i], i & 0xff, 200);
	}
	for (int i = 0; i < 600; i += 2)
		kmem_cache_free(s, v[i]);
	CHECK_EQ(uslab_validate(s), 0);
	CHECK_EQ(errors(), 0);

	/* one at a time: a slab's check stops at its first bad object, as the kernel's */
	v[1][200] = 0;			/* a live object's right red zone */
	capture_start();
	found = uslab_validate(s);
	text = capture_end();
	CHECK(found >= 1);
	CHECK_EQ(errors(), (unsigned long)found);
	CHECK(strstr(text, "Right Redzone overwritten") != NULL);
	CHECK_EQ(uslab_validate(s), 0);	/* repaired */
	v[10][0] = 0;			/* a free object's poison */
	capture_start();
	found = uslab_validate(s);
	text = capture_end();
	CHECK(found >= 1);
	CHECK_EQ(errors(), (unsigned long)found);
	CHECK(strstr(text, "Poison overwritten") != NULL);
	CHECK_EQ(uslab_validate(s), 0);

	for (int i = 1; i < 600; i += 2)
		kmem_cache_free(s, v[i]);
	CHECK_EQ(uslab_validate(s), 0);
	kmem_cache_destroy(s);
	CHECK_EQ(errors(), 0);
	CHECK_EQ(hook_calls, 0);
}

/* ------------------------------------------------ threads, cross frees */

#define THREADS	4
#define PER	3000

static struct kmem_cache *shared_cache;
static void *handoff[THREADS][PER];

static void *churn(void *arg)
{
	int me = (int)(intptr_t)arg;
	void *mine[PER];

	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < PER; i++) {
			mine[i] = kmem_cache_alloc(shared_cache, GFP_KERNEL);
			if (mine[i])
				memset(mine[i], me, 72);
		}
		/* half ours, half through a neighbour after the barrier */
		for (int i = 0; i < PER; i += 2)
			kmem_cache_free(shared_cache, mine[i]);
		for (int i = 1; i < PER; i += 2) {
			/* the neighbour has taken last round's */
			while (__atomic_load_n(&handoff[me][i], __ATOMIC_ACQUIRE))
				;
			__atomic_store_n(&handoff[me][i], mine[i], __ATOMIC_RELEASE);
		}
		for (int i = 1; i < PER; i += 2) {
			void *p;

			while (!(p = __atomic_exchange_n(&handoff[(me + 1) % THREADS][i], NULL,
							 __ATOMIC_ACQ_REL)))
				;
			kmem_cache_free(shared_cache, p);
		}
	}
	return NULL;
}

static void threads(void)
{
	pthread_t t[THREADS];

	shared_cache = cache("sd_threads", 72, SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE |
			     SLAB_POISON | SLAB_STORE_USER);
	start();
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, churn, (void *)(intptr_t)i);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	CHECK_EQ(uslab_validate(shared_cache), 0);
	CHECK_EQ(errors(), 0);
	kmem_cache_destroy(shared_cache);
	CHECK_EQ(errors(), 0);
}

/* ------------------------------------------------------ USLAB_SLAB_DEBUG */

/* DEBUG_ENV: "FZPU,dbg_*" debugs dbg_x and leaves other_x alone; 'O' for big_*. */
static void env_by_name(void)
{
	struct kmem_cache *d = kmem_cache_create("dbg_x", 64, 0, 0, NULL);
	struct kmem_cache *o = kmem_cache_create("other_x", 64, 0, SLAB_NO_MERGE, NULL);
	struct kmem_cache *big = kmem_cache_create("big_x", 4096, 0, 0, NULL);
	struct kmem_cache *small = kmem_cache_create("big_small", 64, 0, 0, NULL);
	const char *j;
	void *p;

	CHECK(d && o && big && small);
	j = cache_json("dbg_x");
	CHECK(has_flag(j, "consistency_checks") && has_flag(j, "red_zone") &&
	      has_flag(j, "poison") && has_flag(j, "store_user"));
	j = cache_json("other_x");
	CHECK(*j && !has_flag(j, "red_zone") && !has_flag(j, "poison") &&
	      !has_flag(j, "store_user") && !has_flag(j, "consistency_checks"));
	/* 'O': a page-sized object with red zones and tracks needs more than a page */
	j = cache_json("big_x");
	CHECK(*j && !has_flag(j, "red_zone") && !has_flag(j, "store_user"));
	j = cache_json("big_small");
	CHECK(has_flag(j, "red_zone") && has_flag(j, "store_user"));

	start();
	p = kmem_cache_alloc(d, GFP_KERNEL);
	CHECK(p != NULL);
	memset(p, 1, 64);
	kmem_cache_free(d, p);
	p = kmem_cache_alloc(big, GFP_KERNEL);
	CHECK(p != NULL);
	memset(p, 1, 4096);
	kmem_cache_free(big, p);
	CHECK_EQ(uslab_validate(d), 0);
	CHECK_EQ(uslab_validate(small), 0);
	CHECK_EQ(errors(), 0);
	kmem_cache_destroy(d);
	kmem_cache_destroy(o);
	kmem_cache_destroy(big);
	kmem_cache_destroy(small);
	CHECK_EQ(errors(), 0);
}

static const char *self_path;

/* Run in a fresh process with USLAB_SLAB_DEBUG=FX: refused, nothing debugged. */
static int bad_env_child(void)
{
	struct kmem_cache *d = kmem_cache_create("dbg_bad", 64, 0, SLAB_NO_MERGE, NULL);
	const char *j = cache_json("dbg_bad");

	return d && *j && !has_flag(j, "consistency_checks") ? 0 : 3;
}

static void bad_env(void)
{
	int status;
	pid_t pid;
	const char *text;

	capture_start();
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		setenv("USLAB_SLAB_DEBUG", "FX", 1);
		/* argv[0] first: under valgrind /proc/self/exe is valgrind's */
		execl(self_path, self_path, "bad-env", (char *)NULL);
		execl("/proc/self/exe", "slab_debug", "bad-env", (char *)NULL);
		_exit(4);
	}
	waitpid(pid, &status, 0);
	text = capture_end();
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(strstr(text, "'X'") != NULL);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "bad-env"))
		return bad_env_child();
	self_path = argv[0];

	/* Read once, when the library starts: set before the first call. */
	setenv("USLAB_SLAB_DEBUG", DEBUG_ENV, 1);
	uslab_set_report_hook(hook, 0);

	env_by_name();
	bad_env();
	validate_counts();
	threads();
	trace();
	store_user();
	double_free();
	redzone_at_free();
	poison_at_alloc();
	printf("slab_debug: back end %s\n", uslab_allocator());
	return test_done("slab_debug");
}
