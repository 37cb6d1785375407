// SPDX-License-Identifier: MIT
/*
 * format.c - report.c's formatter and the seq_buf helpers.
 *
 * uslab_vsnprintf() is the library's printf (it may not call the libc's:
 * the library may be malloc).  It claims %s %c %d %i %u %x %p %%, the
 * l/z/ll length modifiers, a width (also '*'), the '-', '0' and '#'
 * flags, '.N' (also '.*') for strings, and snprintf's contract: at most
 * size - 1 bytes and a NUL written, the full length returned, nothing
 * written for size 0.  Wherever the C standard defines the result, it
 * must be the libc's, so most cases are checked against snprintf() with
 * the same arguments; the rest against the text it is documented to give.
 * seq_printf()/seq_finish() build the /proc texts with the same contract
 * over several calls.
 */
#include "internal.h"
#include "../test.h"

#include <limits.h>
#include <stdint.h>
#include <sys/mman.h>

static char got[512], want[512];

/*
 * The libc's snprintf as the reference, behind a va_list so that the
 * compiler's truncation analysis of snprintf calls (-Wformat-truncation)
 * stays out of tests that truncate on purpose.
 */
__attribute__((format(printf, 3, 4)))
static int libc_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* NULL where the compiler cannot see it (-Wformat-overflow knows %s of NULL) */
static const char *volatile null_string;

/* Formats that are odd on purpose: the compiler's format check is right about them. */
#define ODD_FORMATS_BEGIN							\
	_Pragma("GCC diagnostic push")						\
	_Pragma("GCC diagnostic ignored \"-Wformat\"")			\
	_Pragma("GCC diagnostic ignored \"-Wformat-zero-length\"")
#define ODD_FORMATS_END _Pragma("GCC diagnostic pop")

/* uslab_snprintf and snprintf, same format and arguments, must agree. */
#define SAME(...) do {								\
	int __n = uslab_snprintf(got, sizeof(got), __VA_ARGS__);		\
	int __m = libc_snprintf(want, sizeof(want), __VA_ARGS__);			\
	test_checks++;								\
	if (__n != __m || strcmp(got, want)) {					\
		test_failures++;						\
		fprintf(stderr, "%s:%d: %s: uslab \"%s\" (%d), libc \"%s\" (%d)\n", \
			__FILE__, __LINE__, #__VA_ARGS__, got, __n, want, __m); \
	}									\
} while (0)

/* uslab_snprintf must give @text and return its length. */
#define GIVES(text, ...) do {							\
	int __n = uslab_snprintf(got, sizeof(got), __VA_ARGS__);		\
	test_checks++;								\
	if (__n != (int)strlen(text) || strcmp(got, text)) {			\
		test_failures++;						\
		fprintf(stderr, "%s:%d: %s: \"%s\" (%d), want \"%s\"\n",	\
			__FILE__, __LINE__, #__VA_ARGS__, got, __n, text);	\
	}									\
} while (0)

static void strings_and_chars(void)
{
	SAME("plain text");
	SAME("%s", "");
	SAME("%s|%s", "slab", "allocator");
	SAME("[%10s]", "kmalloc");
	SAME("[%-10s]", "kmalloc");
	SAME("[%3s]", "kmalloc-192");		/* width below the length: no cut */
	SAME("[%.3s]", "kmalloc-192");
	SAME("[%.0s]", "kmalloc-192");
	SAME("[%.20s]", "short");
	SAME("[%8.3s]", "kmalloc");
	SAME("[%-8.3s]", "kmalloc");
	SAME("[%*s]", 9, "abc");
	SAME("[%.*s]", 4, "abcdefgh");
	SAME("[%-*.*s]", 7, 2, "abcdefgh");
	GIVES("(null)", "%s", null_string);
	GIVES("[    (null)]", "[%10s]", null_string);
	GIVES("[(nu]", "[%.3s]", null_string);
	SAME("%c%c%c", 's', 'l', 'b');
	SAME("[%5c]", 'x');
	SAME("[%-5c]", 'x');
	SAME("%c", 0xe9);			/* an int, converted to char */
	SAME("100%%");
	SAME("%%d %d%%", 5);
}

/*
 * '.N' bounds what is read, not only what is written: C lets the argument
 * of %.Ns be an array without a NUL within N bytes.  The bytes go at the
 * very end of a page followed by an inaccessible one, so a formatter that
 * looks past the precision (strlen first) faults, in every build, not
 * only under ASan; it runs in a child so that the rest still reports.
 */
static void unterminated_child(void)
{
	long page = sysconf(_SC_PAGESIZE);
	char *map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *raw;

	if (map == MAP_FAILED || mprotect(map + page, (size_t)page, PROT_NONE))
		_exit(3);
	raw = map + page - 3;
	memcpy(raw, "xyz", 3);
	GIVES("[xyz]", "[%.3s]", raw);
	GIVES("[xy]", "[%.*s]", 2, raw);
	GIVES("[  xyz]", "[%5.3s]", raw);
	GIVES("[]", "[%.0s]", map + page);	/* reads nothing at all */
}

static void unterminated(void)
{
	int status = -1;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		test_failures = 0;
		unterminated_child();
		_exit(test_failures ? 1 : 0);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "%s:%d: %%.3s of a 3-byte array without a NUL: killed by "
			"signal %d: uslab_vsnprintf reads the string past its precision\n",
			__FILE__, __LINE__, WTERMSIG(status));
		status = 1;
	}
	CHECK_EQ(status, 0);
}

static void signed_numbers(void)
{
	static const long long vals[] = {
		0, 1, -1, 9, 10, -10, 12345, -12345, INT_MAX, INT_MIN,
		(long long)INT_MAX + 1, LONG_MAX, LONG_MIN, LLONG_MAX, LLONG_MIN,
	};

	for (size_t i = 0; i < ARRAY_SIZE(vals); i++) {
		long long v = vals[i];

		if (v >= INT_MIN && v <= INT_MAX) {
			SAME("%d", (int)v);
			SAME("%i", (int)v);
			SAME("[%8d]", (int)v);
			SAME("[%-8d]", (int)v);
			SAME("[%08d]", (int)v);
			ODD_FORMATS_BEGIN
			SAME("[%-08d]", (int)v);	/* '-' wins over '0' */
			ODD_FORMATS_END
			SAME("[%2d]", (int)v);
			SAME("[%*d]", 12, (int)v);
		}
		SAME("%ld", (long)v);
		SAME("%li", (long)v);
		SAME("%lld", v);
		SAME("%lli", v);
		SAME("[%20ld]", (long)v);
		SAME("[%-20lld]", v);
		SAME("[%024lld]", v);
		SAME("%zd", (ssize_t)v);
	}
}

static void unsigned_numbers(void)
{
	static const unsigned long long vals[] = {
		0, 1, 9, 10, 15, 16, 255, 4096, 0xdeadbeef, UINT_MAX,
		(unsigned long long)UINT_MAX + 1, ULONG_MAX, ULLONG_MAX, 0x8000000000000000ull,
	};

	for (size_t i = 0; i < ARRAY_SIZE(vals); i++) {
		unsigned long long v = vals[i];

		if (v <= UINT_MAX) {
			SAME("%u", (unsigned int)v);
			SAME("%x", (unsigned int)v);
			SAME("%#x", (unsigned int)v);	/* no 0x for 0, as C says */
			SAME("[%10u]", (unsigned int)v);
			SAME("[%-10x]", (unsigned int)v);
			SAME("[%010u]", (unsigned int)v);
			SAME("[%08x]", (unsigned int)v);
			SAME("[%#010x]", (unsigned int)v);	/* 0x, then the zeros */
			SAME("[%-#10x]", (unsigned int)v);
		}
		SAME("%lu", (unsigned long)v);
		SAME("%lx", (unsigned long)v);
		SAME("%#lx", (unsigned long)v);
		SAME("%llu", v);
		SAME("%llx", v);
		SAME("[%#20llx]", v);
		SAME("[%020llu]", v);
		SAME("%zu", (size_t)v);
		SAME("%zx", (size_t)v);
	}
	/* an int argument read as unsigned: the conversion is the caller's */
	SAME("%u", -1);
	SAME("%x", -1);
}

static void pointers(void)
{
	void *ps[] = { (void *)0x1, (void *)0x1000, (void *)&got, (void *)UINTPTR_MAX };

	/* glibc's %p is 0x%lx for anything but NULL */
	for (size_t i = 0; i < ARRAY_SIZE(ps); i++) {
		char lx[64];

		libc_snprintf(lx, sizeof(lx), "0x%lx", (unsigned long)(uintptr_t)ps[i]);
		GIVES(lx, "%p", ps[i]);
		SAME("%p", ps[i]);
		SAME("[%20p]", ps[i]);
		SAME("[%-20p]", ps[i]);
	}
	/* glibc writes "(nil)"; the kernel's report format, and uslab, 0x0 */
	GIVES("0x0", "%p", NULL);
	GIVES("[     0x0]", "[%8p]", NULL);
}

static void mixed_and_odd(void)
{
	SAME("%s: %d objects of %u bytes at %p (%#lx)", "kmalloc-64", 64, 64u,
	     (void *)0x7f0000001000, 0x1000ul);
	SAME("BUG %s (Not tainted): %s", "kmalloc-8", "Object already free");
	SAME("%-17s %6lu %6lu %6u %4u %4d : tunables %4u %4u %4u", "kmalloc-8k",
	     12ul, 16ul, 8192u, 4u, 8, 0u, 0u, 0u);
	ODD_FORMATS_BEGIN
	/* an unknown conversion is written as it stands */
	GIVES("%q", "%q");
	GIVES("a%yb", "a%yb");
	/* a format ending in '%' ends there, without reading past it */
	GIVES("abc", "abc%");
	GIVES("x", "x%-");
	ODD_FORMATS_END
}

static void truncation(void)
{
	char buf[16];
	int n;

	/* exact fit: 15 characters and the NUL */
	memset(buf, 'X', sizeof(buf));
	n = uslab_snprintf(buf, sizeof(buf), "%s", "0123456789abcde");
	CHECK_EQ(n, 15);
	CHECK(!strcmp(buf, "0123456789abcde"));

	/* one over: cut to 15, NUL-terminated, full length returned */
	memset(buf, 'X', sizeof(buf));
	n = uslab_snprintf(buf, sizeof(buf), "%s%d", "0123456789abcde", 7);
	CHECK_EQ(n, 16);
	CHECK(!strcmp(buf, "0123456789abcde"));

	/* far over, through every kind of conversion, against snprintf */
	for (size_t size = 1; size <= sizeof(buf); size++) {
		char ref[16];
		int m;

		memset(buf, 'X', sizeof(buf));
		memset(ref, 'X', sizeof(ref));
		n = uslab_snprintf(buf, size, "%-6s|%05d|%#x|%c|%8s|%lu", "name", -42, 0xabcu,
				   'q', "pad", 1234567890ul);
		m = libc_snprintf(ref, size, "%-6s|%05d|%#x|%c|%8s|%lu", "name", -42, 0xabcu,
				  'q', "pad", 1234567890ul);
		CHECK_EQ(n, m);
		CHECK_EQ(strlen(buf), size - 1);
		CHECK(!memcmp(buf, ref, size));
		/* nothing past size touched */
		for (size_t i = size; i < sizeof(buf); i++)
			CHECK_EQ(buf[i], 'X');
	}

	/* size 1: only the NUL */
	memset(buf, 'X', sizeof(buf));
	CHECK_EQ(uslab_snprintf(buf, 1, "%s", "abc"), 3);
	CHECK_EQ(buf[0], '\0');
	CHECK_EQ(buf[1], 'X');

	/* size 0: nothing written, not even a NUL; the length is still returned */
	memset(buf, 'X', sizeof(buf));
	CHECK_EQ(uslab_snprintf(buf, 0, "%s %d", "abc", 12345), 9);
	for (size_t i = 0; i < sizeof(buf); i++)
		CHECK_EQ(buf[i], 'X');
	CHECK_EQ(uslab_snprintf(NULL, 0, "%lu", ULONG_MAX), 20);
	ODD_FORMATS_BEGIN
	CHECK_EQ(uslab_snprintf(NULL, 0, ""), 0);
	ODD_FORMATS_END

	/* a text far longer than any buffer: the count is still exact */
	memset(buf, 'X', sizeof(buf));
	CHECK_EQ(uslab_snprintf(buf, 4, "%600s", "x"), 600);
	CHECK(!strcmp(buf, "   "));
}

/* the va_list entry point, as uslab_printk and seq_printf use it */
static int via_v(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = uslab_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

static void vsnprintf_entry(void)
{
	char buf[64];

	CHECK_EQ(via_v(buf, sizeof(buf), "%s=%ld%c", "numa_nodes", 2L, '!'), 13);
	CHECK(!strcmp(buf, "numa_nodes=2!"));
	CHECK_EQ(via_v(buf, 5, "%s=%ld%c", "numa_nodes", 2L, '!'), 13);
	CHECK(!strcmp(buf, "numa"));
}

static void seq_bufs(void)
{
	char buf[32];
	struct seq_buf m;

	/* fits: the concatenation, NUL-terminated */
	memset(buf, 'X', sizeof(buf));
	m = (struct seq_buf){ .buf = buf, .size = sizeof(buf) };
	seq_printf(&m, "slabinfo - version: %d.%d\n", 2, 1);
	seq_printf(&m, "%s", "# name");
	CHECK_EQ(m.len, 30);
	CHECK_EQ(seq_finish(&m), 30);
	CHECK(!strcmp(buf, "slabinfo - version: 2.1\n# name"));

	/* exactly full: 31 characters and the NUL */
	m = (struct seq_buf){ .buf = buf, .size = sizeof(buf) };
	seq_printf(&m, "%s", "0123456789");
	seq_printf(&m, "%s", "0123456789");
	seq_printf(&m, "%s", "01234567890");
	CHECK_EQ(seq_finish(&m), 31);
	CHECK(!strcmp(buf, "0123456789012345678901234567890"));

	/*
	 * Over: a piece that crosses the end is cut, later pieces go
	 * nowhere, and the length counts them all (snprintf's contract,
	 * which uslab_slabinfo() passes on).
	 */
	memset(buf, 'X', sizeof(buf));
	m = (struct seq_buf){ .buf = buf, .size = sizeof(buf) };
	seq_printf(&m, "%-20s", "kmalloc-8");
	seq_printf(&m, "%8lu %8lu\n", 4096ul, 8192ul);	/* crosses the end */
	seq_printf(&m, "%s\n", "kmalloc-16");		/* entirely past it */
	CHECK_EQ(m.len, 20 + 18 + 11);
	CHECK_EQ(seq_finish(&m), 49);
	CHECK_EQ(strlen(buf), sizeof(buf) - 1);
	libc_snprintf(want, sizeof(buf), "%-20s%8lu %8lu\n%s\n", "kmalloc-8", 4096ul, 8192ul,
		 "kmalloc-16");
	CHECK(!strcmp(buf, want));
	CHECK(!strcmp(buf, "kmalloc-8               4096   "));

	/* no buffer at all: the length only (uslab_slabinfo(NULL, 0)) */
	m = (struct seq_buf){ .buf = NULL, .size = 0 };
	seq_printf(&m, "%s %d\n", "abc", 42);
	seq_printf(&m, "%600s", "");
	CHECK_EQ(seq_finish(&m), 7 + 600);

	/* a one-byte buffer holds the NUL */
	buf[0] = 'X';
	m = (struct seq_buf){ .buf = buf, .size = 1 };
	seq_printf(&m, "abc");
	CHECK_EQ(seq_finish(&m), 3);
	CHECK_EQ(buf[0], '\0');
}

/* uslab_slabinfo() is the public face of seq_buf: the same contract. */
static void slabinfo_contract(void)
{
	size_t len = uslab_slabinfo(NULL, 0);
	char *full = malloc(len + 1), small[100];

	CHECK(len > 100);
	CHECK(full != NULL);
	if (!full)
		return;
	CHECK_EQ(uslab_slabinfo(full, len + 1), len);
	CHECK_EQ(strlen(full), len);
	CHECK(!strncmp(full, "slabinfo - version: 2.1\n", 24));
	memset(small, 'X', sizeof(small));
	CHECK_EQ(uslab_slabinfo(small, sizeof(small)), len);
	CHECK_EQ(strlen(small), sizeof(small) - 1);
	CHECK(!memcmp(small, full, sizeof(small) - 1));
	free(full);
}

int main(void)
{
	strings_and_chars();
	unterminated();
	signed_numbers();
	unsigned_numbers();
	pointers();
	mixed_and_odd();
	truncation();
	vsnprintf_entry();
	seq_bufs();
	slabinfo_contract();
	return test_done("format");
}
