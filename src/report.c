// SPDX-License-Identifier: MIT
/*
 * report.c - printk for an allocator: formatted text without allocating.
 *
 * The allocator may be the process's malloc, so nothing here may call it:
 * stdio is out (a FILE may allocate its buffer), and so is glibc's
 * vsnprintf for anything but the simplest formats.  uslab_vsnprintf()
 * handles the conversions the library uses (%s %c %d %i %u %x %p %%, the
 * l/z/ll length modifiers, a width, '-', '0' and '#' flags, and '.N' for
 * strings) and writes with snprintf's contract.  Output goes to stderr
 * with one write(2) per line so that reports from several threads do not
 * interleave within a line.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <execinfo.h>

struct fmt_out {
	char *buf;
	size_t size;
	size_t len;
};

static void out_c(struct fmt_out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void out_pad(struct fmt_out *o, char c, int n)
{
	while (n-- > 0)
		out_c(o, c);
}

static void out_str(struct fmt_out *o, const char *s, size_t n, int width, bool left)
{
	int pad = width > (int)n ? width - (int)n : 0;

	if (!left)
		out_pad(o, ' ', pad);
	for (size_t i = 0; i < n; i++)
		out_c(o, s[i]);
	if (left)
		out_pad(o, ' ', pad);
}

static void out_num(struct fmt_out *o, unsigned long long v, bool neg, unsigned base,
		    int width, bool left, char padc, const char *prefix)
{
	char tmp[24];
	int n = 0, plen = prefix ? (int)strlen(prefix) : 0;

	do {
		unsigned d = (unsigned)(v % base);
		tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= base;
	} while (v);
	int total = n + (neg ? 1 : 0) + plen;
	int pad = width > total ? width - total : 0;

	if (!left && padc == ' ')
		out_pad(o, ' ', pad);
	if (neg)
		out_c(o, '-');
	for (int i = 0; i < plen; i++)
		out_c(o, prefix[i]);
	if (!left && padc == '0')
		out_pad(o, '0', pad);
	while (n)
		out_c(o, tmp[--n]);
	if (left)
		out_pad(o, ' ', pad);
}

int uslab_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_out o = { buf, size, 0 };

	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			out_c(&o, *p);
			continue;
		}
		p++;
		bool left = false, alt = false;
		char padc = ' ';
		int width = 0, prec = -1, lng = 0;

		for (;; p++) {
			if (*p == '-')
				left = true;
			else if (*p == '#')
				alt = true;
			else if (*p == '0')
				padc = '0';
			else
				break;
		}
		if (*p == '*') {
			width = va_arg(ap, int);
			p++;
		}
		while (*p >= '0' && *p <= '9')
			width = width * 10 + (*p++ - '0');
		if (*p == '.') {
			prec = 0;
			p++;
			if (*p == '*') {
				prec = va_arg(ap, int);
				p++;
			}
			while (*p >= '0' && *p <= '9')
				prec = prec * 10 + (*p++ - '0');
		}
		while (*p == 'l' || *p == 'z') {
			lng++;
			p++;
		}
		switch (*p) {
		case 's': {
			const char *s = va_arg(ap, const char *);
			size_t n;

			if (!s)
				s = "(null)";
			/* with a precision, never read past it: the array may have no NUL */
			n = prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s);
			out_str(&o, s, n, width, left);
			break;
		}
		case 'c': {
			char c = (char)va_arg(ap, int);
			out_str(&o, &c, 1, width, left);
			break;
		}
		case 'd':
		case 'i': {
			long long v = lng ? va_arg(ap, long long) : va_arg(ap, int);
			bool neg = v < 0;
			out_num(&o, neg ? -(unsigned long long)v : (unsigned long long)v,
				neg, 10, width, left, padc, NULL);
			break;
		}
		case 'u':
		case 'x': {
			unsigned long long v = lng ? va_arg(ap, unsigned long long)
						   : va_arg(ap, unsigned int);
			out_num(&o, v, false, *p == 'u' ? 10 : 16, width, left, padc,
				alt && *p == 'x' && v ? "0x" : NULL);
			break;
		}
		case 'p': {
			uintptr_t v = (uintptr_t)va_arg(ap, void *);
			out_num(&o, v, false, 16, width, left, padc, "0x");
			break;
		}
		case '%':
			out_c(&o, '%');
			break;
		case '\0':
			p--;
			break;
		default:
			out_c(&o, '%');
			out_c(&o, *p);
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int uslab_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = uslab_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

static void write_all(const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(STDERR_FILENO, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static uslab_report_hook_t report_hook;
static int report_quiet;
static unsigned long error_count;

void uslab_printk(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	if (report_quiet && report_hook)
		return;
	va_start(ap, fmt);
	n = uslab_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(line))
		n = sizeof(line) - 1;
	write_all(line, (size_t)n);
}

/*
 * Call traces.  glibc's backtrace() loads libgcc on its first call, which
 * allocates; uslab_stack_prime() makes that first call once the allocator
 * can serve it (init.c), and reports before then go without a trace.
 * backtrace_symbols_fd() writes straight to the descriptor: no malloc.
 */
static bool stack_primed;

void uslab_stack_prime(void)
{
	void *frames[4];

	backtrace(frames, 4);
	__atomic_store_n(&stack_primed, true, __ATOMIC_RELEASE);
}

void dump_stack(void)
{
	void *frames[32];
	int n;

	if (!__atomic_load_n(&stack_primed, __ATOMIC_ACQUIRE) || (report_quiet && report_hook))
		return;
	n = backtrace(frames, 32);
	uslab_printk("Call Trace:\n");
	/* frame 0 is dump_stack itself */
	if (n > 1)
		backtrace_symbols_fd(frames + 1, n - 1, STDERR_FILENO);
}

/*
 * __ratelimit - whether a report from @rs's call site may print now.
 * Racing threads may print one or two more than the burst; harmless.
 */
bool __ratelimit(struct ratelimit_state *rs, const char *func)
{
	uint64_t now = os_now_ns(), b = __atomic_load_n(&rs->begin, __ATOMIC_RELAXED);

	if (!b || now - b >= RATELIMIT_INTERVAL_NS) {
		if (__atomic_compare_exchange_n(&rs->begin, &b, now, false,
						__ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
			unsigned int missed = __atomic_exchange_n(&rs->missed, 0, __ATOMIC_RELAXED);

			__atomic_store_n(&rs->printed, 0, __ATOMIC_RELAXED);
			if (missed)
				uslab_printk("%s: %u callbacks suppressed\n", func, missed);
		}
	}
	if (__atomic_add_fetch(&rs->printed, 1, __ATOMIC_RELAXED) <= RATELIMIT_BURST)
		return true;
	__atomic_add_fetch(&rs->missed, 1, __ATOMIC_RELAXED);
	return false;
}

/* Whether reports are silenced (a quiet test hook): for output not made by uslab_printk. */
bool uslab_reports_quiet(void)
{
	return report_quiet && __atomic_load_n(&report_hook, __ATOMIC_ACQUIRE);
}

void uslab_count_error(void)
{
	__atomic_add_fetch(&error_count, 1, __ATOMIC_RELAXED);
}

/*
 * The end of a BUG-class report (the kernel would BUG() or oops here).
 * With a test hook the caller goes on and must leave the bad object alone.
 */
void uslab_bug_end(const char *what)
{
	uslab_report_hook_t hook = __atomic_load_n(&report_hook, __ATOMIC_ACQUIRE);

	uslab_count_error();
	if (hook) {
		hook(what);
		return;
	}
	uslab_printk("uslab: aborting after: %s\n", what);
	abort();
}

void free_err(const char *who, const void *x, const char *title, const char *reason)
{
	uslab_printk("=============================================================================\n");
	uslab_printk("BUG %s (Not tainted): %s\n", who, title);
	uslab_printk("-----------------------------------------------------------------------------\n\n");
	uslab_printk("%s(%p): %s\n\n", who, x, reason);
	dump_stack();
	uslab_bug_end(title);
}

void uslab_panic(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = uslab_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(line))
		n = sizeof(line) - 1;
	write_all("Kernel panic - not syncing: ", 28);
	write_all(line, (size_t)n);
	uslab_count_error();
	abort();
}

USLAB_API unsigned long uslab_error_count(void)
{
	return __atomic_load_n(&error_count, __ATOMIC_RELAXED);
}

USLAB_API void uslab_set_report_hook(uslab_report_hook_t hook, int quiet)
{
	report_quiet = quiet;
	__atomic_store_n(&report_hook, hook, __ATOMIC_RELEASE);
}

void seq_printf(struct seq_buf *m, const char *fmt, ...)
{
	size_t room = m->len < m->size ? m->size - m->len : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = uslab_vsnprintf(room ? m->buf + m->len : NULL, room, fmt, ap);
	va_end(ap);
	m->len += (size_t)n;
}

/* snprintf's contract: NUL-terminate within @size, return the full length. */
size_t seq_finish(struct seq_buf *m)
{
	if (m->size)
		m->buf[m->len < m->size ? m->len : m->size - 1] = '\0';
	return m->len;
}
