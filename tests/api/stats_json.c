// SPDX-License-Identifier: MIT
/*
 * stats_json.c - the statistics counters and uslab_stats_json(), on
 * whichever back end the variant picks:
 *   - the counters add up: every allocation is a fast or a slow one, every
 *     free a fast, local or slow one, across threads (one that has exited
 *     included) and across the reuse of a destroyed cache's slot;
 *   - the document keeps snprintf's contract and agrees with slabinfo.
 * (tests/tools/ parses the same document with python3's json module.)
 */
#include "test.h"

#include <uslab/slab.h>
#include <uslab/uslab.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define N 5000
#define M 3000

static bool slab_backend;

static char *snapshot(void)
{
	size_t len = uslab_stats_json(NULL, 0);
	char *buf = malloc(len + 4096);

	CHECK(buf);
	size_t len2 = uslab_stats_json(buf, len + 4096);

	CHECK(len2 == strlen(buf));
	return buf;
}

/* The text of cache @name's object in @doc (up to its closing "}}"). */
static const char *cache_obj(const char *doc, const char *name, char *out, size_t size)
{
	char key[128];
	const char *p, *end;

	snprintf(key, sizeof(key), "{\"name\":\"%s\",", name);
	p = strstr(doc, key);
	if (!p)
		return NULL;
	end = strstr(p, "}}");
	CHECK(end);
	CHECK((size_t)(end - p) + 3 < size);
	memcpy(out, p, (size_t)(end - p) + 2);
	out[end - p + 2] = '\0';
	return out;
}

static long field(const char *obj, const char *name)
{
	char key[64];
	const char *p;

	snprintf(key, sizeof(key), "\"%s\":", name);
	p = strstr(obj, key);
	if (!p)
		return -1;
	return strtol(p + strlen(key), NULL, 10);
}

static long allocs_counted(const char *obj)
{
	if (slab_backend)
		return field(obj, "allochit") + field(obj, "allocmiss");
	return field(obj, "alloc_fastpath") + field(obj, "alloc_slowpath");
}

static long frees_counted(const char *obj)
{
	if (slab_backend)
		return field(obj, "freehit") + field(obj, "freemiss");
	return field(obj, "free_fastpath") + field(obj, "free_local") + field(obj, "free_slowpath");
}

static struct kmem_cache *cache;

static void *worker(void *arg)
{
	void **objs = malloc(M * sizeof(void *));

	(void)arg;
	for (int i = 0; i < M; i++)
		CHECK((objs[i] = kmem_cache_alloc(cache, GFP_KERNEL)));
	for (int i = 0; i < M; i++)
		kmem_cache_free(cache, objs[i]);
	free(objs);
	return NULL;
}

/* active_objs of @name in /proc/slabinfo's text. */
static long slabinfo_active(const char *name)
{
	static char text[1 << 16];
	char key[64];
	const char *p;

	uslab_slabinfo(text, sizeof(text));
	snprintf(key, sizeof(key), "\n%s ", name);
	p = strstr(text, key);
	CHECK(p);
	return strtol(p + strlen(key), NULL, 10);
}

int main(void)
{
	static char obj[8192];
	void **objs = malloc(N * sizeof(void *));
	pthread_t t;
	char *doc;

	CHECK(uslab_option_set("slab_stats", 1) == 0);
	slab_backend = !strcmp(uslab_allocator(), "slab");
	CHECK(uslab_option_get("slab_stats") == 1);
	cache = kmem_cache_create("stats_test", 100, 0, SLAB_NO_MERGE, NULL);
	CHECK(cache);

	/* A fresh cache counts nothing. */
	doc = snapshot();
	CHECK(strstr(doc, "{\"uslab_stats\":1,"));
	CHECK(strstr(doc, "\"stats_enabled\":true"));
	CHECK(cache_obj(doc, "stats_test", obj, sizeof(obj)));
	CHECK(allocs_counted(obj) == 0);
	free(doc);

	for (int i = 0; i < N; i++)
		CHECK((objs[i] = kmem_cache_alloc(cache, GFP_KERNEL)));
	doc = snapshot();
	CHECK(cache_obj(doc, "stats_test", obj, sizeof(obj)));
	CHECK(allocs_counted(obj) == N);
	CHECK(frees_counted(obj) == 0);
	/* The document agrees with slabinfo, and holds every object. */
	CHECK(field(obj, "objects") == slabinfo_active("stats_test"));
	CHECK(field(obj, "objects") >= N);
	CHECK(field(obj, "total_objects") >= field(obj, "objects"));
	CHECK(field(obj, "object_size") == 100);
	CHECK(strstr(obj, "\"no_merge\""));
	free(doc);

	for (int i = 0; i < N; i++)
		kmem_cache_free(cache, objs[i]);
	/* A thread that has exited still counts. */
	CHECK(pthread_create(&t, NULL, worker, NULL) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	doc = snapshot();
	CHECK(cache_obj(doc, "stats_test", obj, sizeof(obj)));
	CHECK(allocs_counted(obj) == N + M);
	CHECK(frees_counted(obj) == N + M);
	if (!slab_backend)
		CHECK(field(obj, "alloc_slab") >= 1);
	else
		CHECK(field(obj, "grown") >= 1);
	free(doc);

	/* snprintf's contract: cut, terminated, the full length returned. */
	{
		char small[64];
		size_t full = uslab_stats_json(NULL, 0);

		memset(small, 'x', sizeof(small));
		CHECK(uslab_stats_json(small, sizeof(small)) == full);
		CHECK(small[sizeof(small) - 1] == '\0');
		CHECK(strlen(small) == sizeof(small) - 1);
	}

	/* A destroyed cache's slot is reused with its counters cleared. */
	kmem_cache_destroy(cache);
	cache = kmem_cache_create("stats_test2", 100, 0, SLAB_NO_MERGE, NULL);
	CHECK(cache);
	CHECK((objs[0] = kmem_cache_alloc(cache, GFP_KERNEL)));
	doc = snapshot();
	CHECK(!cache_obj(doc, "stats_test", obj, sizeof(obj)));
	CHECK(cache_obj(doc, "stats_test2", obj, sizeof(obj)));
	CHECK(allocs_counted(obj) == 1);
	free(doc);
	kmem_cache_free(cache, objs[0]);
	kmem_cache_destroy(cache);
	free(objs);
	CHECK(uslab_error_count() == 0);
	printf("stats_json: back end %s\n", uslab_allocator());
	return test_done("stats_json");
}
