// SPDX-License-Identifier: MIT
/*
 * api_edges.c - the kernel API's edges that once gave wrong answers:
 *   krealloc of a freed or interior pointer (reported, not returned live),
 *   kfree_sensitive of a bad pointer (checked before anything is cleared),
 *   kfree_const of memory uslab does not own (neither freed nor reported),
 *   krealloc with __GFP_ZERO shrinking then growing in place (zeroes),
 *   kmalloc above KMALLOC_MAX_SIZE, __GFP_NOFAIL or not (NULL with a warning),
 *   allocation-failure warnings (rate-limited),
 *   kmem_cache_destroy of a destroyed cache (reported, nothing else touched).
 */
#include <uslab/slab.h>
#include <uslab/uslab.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../test.h"

static int hook_calls;
static char last_what[128];
static void hook(const char *what)
{
	hook_calls++;
	snprintf(last_what, sizeof(last_what), "%s", what);
}

/* Run @fn with stderr going to a file; return what it wrote (static buffer). */
static const char *capture_stderr(void (*fn)(void))
{
	static char buf[1 << 16];
	char path[] = "/tmp/uslab-edges-XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	ssize_t n;

	unlink(path);
	dup2(fd, 2);
	fn();
	dup2(saved, 2);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	return buf;
}

static int count_lines(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void krealloc_checks(void)
{
	char *p = kmalloc(64, GFP_KERNEL), *q;
	int before;

	kfree(p);
	before = hook_calls;
	q = krealloc(p, 32, GFP_KERNEL);		/* freed: reported, not handed back */
	CHECK_EQ(hook_calls, before + 1);
	CHECK(q == NULL);
	/* and the next allocation does not alias anything live */
	char *a = kmalloc(64, GFP_KERNEL), *b = kmalloc(64, GFP_KERNEL);
	CHECK(a != b);
	kfree(a);
	kfree(b);

	p = kmalloc(64, GFP_KERNEL);
	before = hook_calls;
	q = krealloc(p + 8, 128, GFP_KERNEL);		/* interior: reported */
	CHECK_EQ(hook_calls, before + 1);
	CHECK(q == NULL);
	kfree(p);

	/* __GFP_ZERO on every call: shrink, then grow in place, reads zero */
	p = kzalloc(64, GFP_KERNEL);
	memset(p, 0xff, 64);
	q = krealloc(p, 16, GFP_KERNEL | __GFP_ZERO);
	CHECK(q == p);
	q = krealloc(q, 64, GFP_KERNEL | __GFP_ZERO);
	CHECK(q == p);
	int stale = 0;
	for (int i = 16; i < 64; i++)
		stale += q[i] != 0;
	CHECK_EQ(stale, 0);
	for (int i = 0; i < 16; i++)
		CHECK_EQ((unsigned char)q[i], 0xff);
	/* growing out of place keeps the bytes and zeroes the rest */
	q = krealloc(q, 1000, GFP_KERNEL | __GFP_ZERO);
	CHECK(q != NULL);
	stale = 0;
	for (int i = 16; i < 1000; i++)
		stale += q[i] != 0;
	CHECK_EQ(stale, 0);
	kfree(q);
}

static void kfree_sensitive_checks(void)
{
	unsigned char *p = kmalloc(64, GFP_KERNEL), *next = kmalloc(64, GFP_KERNEL);
	int before = hook_calls, changed = 0;

	memset(p, 0x5a, 64);
	memset(next, 0x6b, 64);
	kfree_sensitive(p + 8);				/* bad: reported before clearing */
	CHECK_EQ(hook_calls, before + 1);
	for (int i = 0; i < 64; i++)
		changed += p[i] != 0x5a || next[i] != 0x6b;
	CHECK_EQ(changed, 0);
	kfree_sensitive(p);				/* good: cleared and freed */
	kfree(next);
	kfree_sensitive(NULL);
	CHECK_EQ(hook_calls, before + 1);
}

static void kfree_const_checks(void)
{
	static const char literal[] = "a string in read-only data";
	unsigned long errs = uslab_error_count();
	int before = hook_calls;
	const char *dup = kstrdup_const("copied", GFP_KERNEL);

	kfree_const(literal);
	kfree_const("another literal");
	kfree_const(dup);
	CHECK_EQ(hook_calls, before);
	CHECK_EQ(uslab_error_count(), errs);
}

static void nofail_huge(void)
{
	void *p = kmalloc(SIZE_MAX, GFP_KERNEL | __GFP_NOFAIL);

	CHECK(p == NULL);
	p = kmalloc(KMALLOC_MAX_SIZE + 1, GFP_KERNEL | __GFP_NOFAIL | __GFP_NOWARN);
	CHECK(p == NULL);
}

static void many_failures(void)
{
	for (int i = 0; i < 10000; i++)
		CHECK(kmalloc(KMALLOC_MAX_SIZE + 1 + (size_t)i, GFP_KERNEL) == NULL);
}

static void warnings(void)
{
	const char *out = capture_stderr(nofail_huge);

	/* the kernel warns; __GFP_NOFAIL cannot make an impossible size possible */
	CHECK(strstr(out, "__GFP_NOFAIL") != NULL);
	CHECK_EQ(count_lines(out, "above KMALLOC_MAX_SIZE"), 2);
	out = capture_stderr(many_failures);
	int lines = count_lines(out, "above KMALLOC_MAX_SIZE");
	printf("10000 failures printed %d warnings\n", lines);
	CHECK(lines >= 1 && lines <= 12);
}

static void destroy_twice(void)
{
	struct kmem_cache *a = kmem_cache_create("edges-a", 40, 0, SLAB_NO_MERGE, NULL);
	struct kmem_cache *b;
	unsigned long errs;
	void *o;

	kmem_cache_destroy(a);
	b = kmem_cache_create("edges-b", 40, 0, SLAB_NO_MERGE, NULL);	/* may reuse a's memory */
	o = kmem_cache_alloc(b, GFP_KERNEL);
	errs = uslab_error_count();
	kmem_cache_destroy(a);				/* a stale pointer: reported */
	CHECK_EQ(uslab_error_count(), errs + 1);
	/* b is untouched, whether or not it sits where a was */
	CHECK(!strcmp(kmem_cache_name(b), "edges-b"));
	kmem_cache_free(b, o);
	o = kmem_cache_alloc(b, GFP_KERNEL);
	CHECK(o != NULL);
	kmem_cache_free(b, o);
	errs = uslab_error_count();
	kmem_cache_destroy(b);
	CHECK_EQ(uslab_error_count(), errs);
}

int main(void)
{
	uslab_set_report_hook(hook, 1);
	krealloc_checks();
	kfree_sensitive_checks();
	kfree_const_checks();
	uslab_set_report_hook(NULL, 0);
	warnings();
	destroy_twice();
	return test_done("api_edges");
}
