// SPDX-License-Identifier: MIT
/*
 * slab_debug.c - USLAB_SLAB_DEBUG, the kernel's slab_debug= boot option
 * (Documentation/mm/slub.rst), and what both back ends' debugging shares
 * (slab_debug.h): tracks with call traces, the hex dump, the FIX line.
 *
 * The grammar:
 *
 *	USLAB_SLAB_DEBUG=<flags>[,<cache>[,<cache>...]][;<flags>,<cache>...]...
 *
 * <flags> are letters, in either case: F sanity checks, Z red zones, P
 * poisoning, U store user, T trace, A failslab for these caches, O no
 * debugging where it would raise the slab order, - nothing at all.  No
 * letters means F, Z, P and U.  A cache name may end its match early with
 * '*' (kmalloc-* is every kmalloc cache).  A block with a cache list
 * applies to the caches it names; the block without one to every other
 * cache.  An empty value, like a bare slab_debug, debugs every cache with
 * F, Z, P and U.  A string with a letter that is not a flag is refused
 * whole, with a message naming it: no cache is debugged then.
 *
 * Nothing here allocates: the rules point into the environment string,
 * which stays put for the life of the process.
 */
#define _GNU_SOURCE
#include "slab_debug.h"
#include "debug.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <link.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#define SLAB_DEBUG_MAX_BLOCKS	16

struct debug_block {
	const char *list;	/* the cache list after the ',', or NULL: every other cache */
	size_t list_len;
	slab_flags_t flags;
};

static struct debug_block blocks[SLAB_DEBUG_MAX_BLOCKS];
static unsigned int nr_blocks;
static bool debug_on;

static bool parse_flags(const char *p, const char *end, slab_flags_t *out, char *bad)
{
	slab_flags_t f = 0;

	if (p == end) {
		*out = SLAB_DEBUG_DEFAULT;
		return true;
	}
	for (; p < end; p++) {
		switch (*p) {
		case 'f': case 'F':
			f |= SLAB_CONSISTENCY_CHECKS;
			break;
		case 'z': case 'Z':
			f |= SLAB_RED_ZONE;
			break;
		case 'p': case 'P':
			f |= SLAB_POISON;
			break;
		case 'u': case 'U':
			f |= SLAB_STORE_USER;
			break;
		case 't': case 'T':
			f |= SLAB_TRACE;
			break;
		case 'a': case 'A':
			f |= SLAB_FAILSLAB;
			break;
		case 'o': case 'O':
			f |= SLAB_DEBUG_ORDER_OFF;
			break;
		case '-':
			/* the kernel's "switch all debugging off": nothing, whatever follows */
			*out = 0;
			return true;
		case ' ':
		case '\t':
			break;
		default:
			*bad = *p;
			return false;
		}
	}
	*out = f;
	return true;
}

int slab_debug_parse(const char *str)
{
	const char *p = str;

	nr_blocks = 0;
	debug_on = false;
	if (!str)
		return 0;
	if (!*str) {
		blocks[0] = (struct debug_block){ .flags = SLAB_DEBUG_DEFAULT };
		nr_blocks = 1;
		debug_on = true;
		return 0;
	}
	while (*p) {
		const char *end = strchr(p, ';'), *comma;
		struct debug_block b = { 0 };
		char bad = 0;

		if (!end)
			end = p + strlen(p);
		comma = memchr(p, ',', (size_t)(end - p));
		if (!parse_flags(p, comma ? comma : end, &b.flags, &bad)) {
			pr_err("uslab: USLAB_SLAB_DEBUG=%s: '%c' is not a slab_debug flag "
			       "(F Z P U T A O -); no cache is debugged\n", str, bad);
			nr_blocks = 0;
			return -1;
		}
		if (comma && comma + 1 < end) {
			b.list = comma + 1;
			b.list_len = (size_t)(end - b.list);
		}
		if (nr_blocks == SLAB_DEBUG_MAX_BLOCKS) {
			pr_err("uslab: USLAB_SLAB_DEBUG=%s: more than %d ';' blocks; no cache is debugged\n",
			       str, SLAB_DEBUG_MAX_BLOCKS);
			nr_blocks = 0;
			return -1;
		}
		blocks[nr_blocks++] = b;
		p = *end ? end + 1 : end;
	}
	for (unsigned int i = 0; i < nr_blocks; i++)
		if (blocks[i].flags)
			debug_on = true;
	return 0;
}

void slab_debug_init(void)
{
	slab_debug_parse(os_getenv("USLAB_SLAB_DEBUG"));
}

bool slab_debug_enabled(void)
{
	return debug_on;
}

/* Whether @name is in the comma-separated @list (entries may end in '*'). */
static bool name_in_list(const char *name, const char *list, size_t len)
{
	const char *p = list, *end = list + len;
	size_t nlen = strlen(name);

	while (p < end) {
		const char *e = memchr(p, ',', (size_t)(end - p)), *star;
		size_t elen;

		if (!e)
			e = end;
		elen = (size_t)(e - p);
		while (elen && (*p == ' ' || *p == '\t')) {
			p++;
			elen--;
		}
		star = memchr(p, '*', elen);
		if (star) {
			size_t plen = (size_t)(star - p);

			if (nlen >= plen && !memcmp(name, p, plen))
				return true;
		} else if (elen == nlen && !memcmp(name, p, nlen)) {
			return true;
		}
		p = e + 1;
	}
	return false;
}

slab_flags_t kmem_cache_flags(slab_flags_t flags, const char *name)
{
	const struct debug_block *global = NULL;

	if (!nr_blocks || !name)
		return flags;
	for (unsigned int i = 0; i < nr_blocks; i++) {
		if (!blocks[i].list) {
			global = &blocks[i];
			continue;
		}
		if (name_in_list(name, blocks[i].list, blocks[i].list_len))
			return flags | blocks[i].flags;
	}
	return global ? flags | global->flags : flags;
}

/* ------------------------------------------------------------ tracks */

/*
 * A track names the first frame outside the library: the code that
 * called kmem_cache_alloc, kmalloc, kfree or malloc (the kernel records
 * its _RET_IP_).  The library's own frames are those in the executable
 * segment that holds this code, found once with dl_iterate_phdr (which
 * does not allocate).  When that is the main program (the static library
 * linked in), there is no telling them apart, and the track keeps every
 * frame after set_track's own.
 */
enum { OWN_TEXT_UNKNOWN, OWN_TEXT_KNOWN, OWN_TEXT_NONE };

static uintptr_t own_text_start, own_text_end;
static int own_text_state;

static int find_own_text(struct dl_phdr_info *info, size_t size, void *arg)
{
	uintptr_t self = (uintptr_t)arg;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X) || self - start >= ph->p_memsz)
			continue;
		if (!info->dlpi_name || !info->dlpi_name[0])
			return OWN_TEXT_NONE;
		own_text_start = start;
		own_text_end = start + ph->p_memsz;
		return OWN_TEXT_KNOWN;
	}
	return 0;
}

static int own_text(void)
{
	int state = __atomic_load_n(&own_text_state, __ATOMIC_ACQUIRE);

	if (state == OWN_TEXT_UNKNOWN) {
		state = dl_iterate_phdr(find_own_text, (void *)(uintptr_t)&set_track);
		if (state != OWN_TEXT_KNOWN)
			state = OWN_TEXT_NONE;
		__atomic_store_n(&own_text_state, state, __ATOMIC_RELEASE);
	}
	return state;
}

void set_track(struct track *t)
{
	void *frames[TRACK_ADDRS_COUNT + 16];
	int n, i = 1;	/* frame 0 is this function */

	memset(t, 0, sizeof(*t));
	t->when_ns = os_now_ns();
	t->cpu = os_current_cpu();
	t->pid = os_gettid();
	/* backtrace() allocates on its first call: only once start-up has made that call */
	if (__atomic_load_n(&slab_state, __ATOMIC_ACQUIRE) != FULL)
		return;
	n = backtrace(frames, (int)ARRAY_SIZE(frames));
	if (own_text() == OWN_TEXT_KNOWN)
		while (i < n && (uintptr_t)frames[i] - own_text_start < own_text_end - own_text_start)
			i++;
	for (int j = 0; j < TRACK_ADDRS_COUNT && i < n; j++, i++)
		t->addrs[j] = frames[i];
}

/* "<function>+0x<offset>" for @addr, or its address if it has no symbol. */
static void sym_name(char *buf, size_t size, const void *addr)
{
	Dl_info info;

	if (dladdr(addr, &info) && info.dli_sname)
		uslab_snprintf(buf, size, "%s+0x%lx", info.dli_sname,
			       (unsigned long)((uintptr_t)addr - (uintptr_t)info.dli_saddr));
	else
		uslab_snprintf(buf, size, "%p", addr);
}

void print_track(const char *what, const struct track *t)
{
	char fn[160];
	int n = 0;

	if (!t->when_ns)
		return;
	sym_name(fn, sizeof(fn), t->addrs[0]);
	pr_err("%s in %s age=%llu cpu=%d pid=%d\n", what, fn,
	       (unsigned long long)((os_now_ns() - t->when_ns) / 1000000), t->cpu, t->pid);
	while (n < TRACK_ADDRS_COUNT && t->addrs[n])
		n++;
	/* backtrace_symbols_fd() writes without allocating: binary(fn+off) [addr] */
	if (n && !uslab_reports_quiet())
		backtrace_symbols_fd((void *const *)t->addrs, n, STDERR_FILENO);
}

/* ----------------------------------------------------------- reports */

void slab_debug_count(void)
{
	uslab_count_error();
}

void slab_fix(struct kmem_cache *s, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	uslab_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pr_err("FIX %s: %s\n", s->name, buf);
	slab_debug_count();
}

void print_section(const char *text, const void *addr, unsigned int length)
{
	const unsigned char *p = addr;

	for (unsigned int off = 0; off < length; off += 16) {
		char line[128];
		unsigned int n = length - off < 16 ? length - off : 16, pos = 0;

		pos += (unsigned int)uslab_snprintf(line + pos, sizeof(line) - pos, "%s%p: ", text, p + off);
		for (unsigned int i = 0; i < 16; i++) {
			if (i < n)
				pos += (unsigned int)uslab_snprintf(line + pos, sizeof(line) - pos, "%02x ", p[off + i]);
			else
				pos += (unsigned int)uslab_snprintf(line + pos, sizeof(line) - pos, "   ");
		}
		line[pos++] = ' ';
		for (unsigned int i = 0; i < n && pos < sizeof(line) - 2; i++) {
			unsigned char c = p[off + i];

			line[pos++] = c >= 0x20 && c < 0x7f ? (char)c : '.';
		}
		line[pos] = '\0';
		pr_err("%s\n", line);
	}
}

const unsigned char *memchr_inv(const void *start, int value, size_t bytes)
{
	const unsigned char *p = start;

	for (size_t i = 0; i < bytes; i++)
		if (p[i] != (unsigned char)value)
			return p + i;
	return NULL;
}
