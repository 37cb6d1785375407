// SPDX-License-Identifier: MIT
/*
 * page_alloc_shim_aslimit.c - real programs under the malloc shim and
 * `ulimit -v 262144` (RLIMIT_AS of 256 MiB), where glibc runs them: each
 * must start and exit 0, not die at its first malloc.  And, with no
 * limit, malloc(64 TiB) and calloc(1 TiB, 1) under the shim fail as
 * glibc's do when vm.overcommit_memory is 0 or 2 (the policy refuses
 * them; skipped when it is 1, or when the machine has 1 TiB of memory).
 *
 * The shim is the build's libuslab-malloc.so: $USLAB_MALLOC_LIB if set,
 * else found from this test's own path (<build>/tests/unit/ ->
 * <build>/libuslab-malloc.so).  Without it, or in a sanitizer build
 * (an instrumented shim cannot be preloaded into plain programs), the
 * test skips (exit 77 where test.h has test_skip()).  A program that is not installed (python3)
 * is skipped.
 */
#include "test.h"

#include <limits.h>
#include <sys/resource.h>

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif

#define LIMIT_KB	262144UL

/* test.h's test_skip() where it has one (exit 77: ctest's "Skipped") */
#ifdef TEST_SKIP_CODE
#define SKIP(name, why)	test_skip(name, why)
#else
#define SKIP(name, why)	do { printf("%s: SKIPPED: %s\n", name, why); return 0; } while (0)
#endif
#define NOT_FOUND	127

static char shim[PATH_MAX];

/* Bytes of memory and swap: the overcommit heuristic's bound. */
static unsigned long long ram_and_swap(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	unsigned long long kb, total = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %llu", &kb) == 1 ||
		    sscanf(line, "SwapTotal: %llu", &kb) == 1)
			total += kb << 10;
	fclose(f);
	return total;
}

static int find_shim(void)
{
	const char *env = getenv("USLAB_MALLOC_LIB");
	char exe[PATH_MAX - 32];
	ssize_t n;
	char *slash;

	if (env && *env) {
		snprintf(shim, sizeof(shim), "%s", env);
		return access(shim, R_OK);
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	snprintf(shim, sizeof(shim), "%s/../../libuslab-malloc.so", exe);
	return access(shim, R_OK);
}

/*
 * run - run @argv under the shim with RLIMIT_AS at @limit_kb (0: none),
 * its stdout into @out; its exit status, NOT_FOUND if it is not
 * installed, -1 if it died of a signal.
 */
static int run(char *const argv[], unsigned long limit_kb, char *out, size_t size)
{
	int pipefd[2], status;
	size_t len = 0;
	pid_t pid;

	out[0] = '\0';
	if (pipe(pipefd))
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct rlimit rl;

		dup2(pipefd[1], 1);
		close(pipefd[0]);
		close(pipefd[1]);
		if (limit_kb) {
			getrlimit(RLIMIT_AS, &rl);
			rl.rlim_cur = (rlim_t)limit_kb << 10;
			if (setrlimit(RLIMIT_AS, &rl))
				_exit(126);
		}
		setenv("LD_PRELOAD", shim, 1);
		alarm(60);
		execvp(argv[0], argv);
		_exit(NOT_FOUND);
	}
	close(pipefd[1]);
	for (;;) {
		ssize_t n = read(pipefd[0], out + len, size - 1 - len);

		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == size - 1)
			break;
	}
	out[len] = '\0';
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "%s: died of signal %d\n", argv[0], WTERMSIG(status));
		return -1;
	}
	return WEXITSTATUS(status);
}

static void expect_ok(char *const argv[], unsigned long limit_kb, const char *want)
{
	char out[4096];
	int rc = run(argv, limit_kb, out, sizeof(out));

	if (rc == NOT_FOUND || strstr(out, "SKIP")) {
		printf("%s: not installed (or lacks what it needs), skipped\n", argv[0]);
		return;
	}
	printf("%s under the shim, ulimit -v %lu: exit %d\n", argv[0], limit_kb, rc);
	CHECK_EQ(rc, 0);
	if (want && !strstr(out, want)) {
		fprintf(stderr, "%s: output lacks \"%s\":\n%s\n", argv[0], want, out);
		CHECK(strstr(out, want) != NULL);
	}
}

int main(void)
{
	static const char py_work[] =
		"import sys\n"
		"x = [str(i) * 10 for i in range(100000)]\n"
		"d = {i: bytearray(100) for i in range(20000)}\n"
		"b = bytearray(20 << 20)\n"
		"del x, d, b\n"
		"print('python ok')\n";
	/* malloc and calloc through ctypes: nothing touches what they return */
	static const char py_huge[] =
		"try:\n"
		"    import ctypes\n"
		"    libc = ctypes.CDLL(None)\n"
		"except Exception:\n"
		"    print('SKIP')\n"
		"    raise SystemExit(0)\n"
		"libc.malloc.restype = libc.calloc.restype = ctypes.c_void_p\n"
		"libc.malloc.argtypes = [ctypes.c_size_t]\n"
		"libc.calloc.argtypes = [ctypes.c_size_t, ctypes.c_size_t]\n"
		"a = libc.malloc(64 << 40)\n"
		"b = libc.calloc(1 << 40, 1)\n"
		"print('malloc(64 TiB):', 'NULL' if not a else 'mapped',\n"
		"      'calloc(1 TiB):', 'NULL' if not b else 'mapped')\n";
	char *true_argv[] = { "true", NULL };
	char *ls_argv[] = { "ls", "-l", "/", NULL };
	/* grep runs under the shim, and proves that it does */
	char *grep_argv[] = { "grep", "-q", "libuslab-malloc", "/proc/self/maps", NULL };
	char *sort_argv[] = { "sh", "-c", "seq 200000 | sort -nr | head -1", NULL };
	char *py_argv[] = { "python3", "-c", (char *)py_work, NULL };
	char *py_huge_argv[] = { "python3", "-c", (char *)py_huge, NULL };

	setvbuf(stdout, NULL, _IOLBF, 0);
#ifdef SANITIZED
	SKIP("page_alloc_shim_aslimit", "a sanitizer build's shim cannot be preloaded");
#endif
	if (find_shim()) {
		printf("no shim at %s (set USLAB_MALLOC_LIB to its path)\n", shim);
		SKIP("page_alloc_shim_aslimit", "the malloc shim is not built");
	}
	printf("shim: %s\n", shim);

	expect_ok(true_argv, LIMIT_KB, NULL);
	expect_ok(grep_argv, LIMIT_KB, NULL);
	expect_ok(ls_argv, LIMIT_KB, "tmp");
	expect_ok(sort_argv, LIMIT_KB, "200000");
	expect_ok(py_argv, LIMIT_KB, "python ok");
	/* 64 TiB: refused by the overcommit heuristic, or by no limit at all */
	if (access("/proc/sys/vm/overcommit_memory", R_OK) == 0) {
		FILE *f = fopen("/proc/sys/vm/overcommit_memory", "r");
		int mode = -1;

		if (f) {
			if (fscanf(f, "%d", &mode) != 1)
				mode = -1;
			fclose(f);
		}
		if (mode == 1 || mode < 0 || ram_and_swap() >= (1ULL << 40) / 2)
			printf("vm.overcommit_memory is %d: a 64 TiB malloc may succeed, skipped\n", mode);
		else
			expect_ok(py_huge_argv, 0, "malloc(64 TiB): NULL calloc(1 TiB): NULL");
	}
	return test_done("page_alloc_shim_aslimit");
}
