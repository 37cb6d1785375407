// SPDX-License-Identifier: MIT
/*
 * dlclose.c - a thread that used libuslab exits after the library was
 * dlclose()d.  Its thread-exit destructor (the pthread key that flushes
 * the thread's cached objects) lives in the library, so the library must
 * stay mapped: it is linked with -z nodelete.  The test loads a private
 * copy of the built library (this program is itself linked with it, and
 * dlclose of an object the program needs would never unload it), lets a
 * thread allocate through the copy, closes the copy, and lets the thread
 * exit.  Before the fix the exiting thread jumped into unmapped memory.
 */
#define _GNU_SOURCE
#include <uslab/slab.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../test.h"

static void *(*copy_kmalloc)(size_t, gfp_t);
static void (*copy_kfree)(const void *);
static volatile int may_exit, allocated;

static void *user(void *arg)
{
	void *v[100];

	(void)arg;
	for (int i = 0; i < 100; i++)
		v[i] = copy_kmalloc(64, GFP_KERNEL);
	for (int i = 0; i < 100; i += 2)
		copy_kfree(v[i]);
	__atomic_store_n(&allocated, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&may_exit, __ATOMIC_ACQUIRE))
		usleep(1000);
	return NULL;		/* the key destructor runs now */
}

static int copy_file(const char *from, const char *to)
{
	char buf[1 << 16];
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0700);
	ssize_t n;

	if (in < 0 || out < 0)
		return -1;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			return -1;
	close(in);
	close(out);
	return 0;
}

int main(void)
{
	Dl_info info;
	char copy[] = "/tmp/uslab-dlclose-XXXXXX";
	char path[64];
	pthread_t t;
	void *h;
	int fd;

	CHECK(dladdr((void *)kmalloc, &info) && info.dli_fname);
	fd = mkstemp(copy);
	CHECK(fd >= 0);
	close(fd);
	snprintf(path, sizeof(path), "%s.so", copy);
	rename(copy, path);
	CHECK_EQ(copy_file(info.dli_fname, path), 0);
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		printf("dlopen %s: %s\n", path, dlerror());
		CHECK(h != NULL);
		unlink(path);
		return test_done("dlclose");
	}
	copy_kmalloc = (void *(*)(size_t, gfp_t))dlsym(h, "kmalloc");
	copy_kfree = (void (*)(const void *))dlsym(h, "kfree");
	CHECK(copy_kmalloc && copy_kfree && (void *)copy_kmalloc != (void *)kmalloc);
	pthread_create(&t, NULL, user, NULL);
	while (!__atomic_load_n(&allocated, __ATOMIC_ACQUIRE))
		usleep(1000);
	CHECK_EQ(dlclose(h), 0);
	/* nodelete: the copy is still mapped, so the exiting thread is safe */
	void *again = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
	CHECK(again != NULL);
	if (again)
		dlclose(again);
	__atomic_store_n(&may_exit, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	unlink(path);
	printf("a thread of a dlclose()d libuslab exited cleanly\n");
	return test_done("dlclose");
}
