#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# real_programs.sh - real programs on the malloc shim.  Each program runs
# the same workload twice in this run, once on the system allocator and
# once with LD_PRELOAD=<shim>, and the two outputs must be identical:
#
#   python3   a dict/list/json/re/sort/thread workload (PYTHONMALLOC=malloc,
#             so every object goes through malloc), and a set of its own
#             stdlib regression tests (python3 -m test; needs
#             libpython3.X-testsuite)
#   sort      a 50 MB generated file, three orderings, md5 compared
#   sqlite3   200k rows inserted in one transaction, GROUP BY / ORDER BY /
#             join / index queries, VACUUM, integrity_check
#   perl      a hash- and array-heavy script
#   gcc       compiling a generated C file at -O2: objdump -d text and the
#             program's output
#   git       init, add, commit, gc, log, fsck, archive
#
# Before the runs each program is probed: with the shim preloaded it must
# report the shim's start-up (an invalid USLAB_PAGE_RETAIN_MB is refused
# with a message by every process that initialises the shim), so a
# program that silently ran on another malloc cannot pass.
#
# It installs nothing.  What a missing program needs is reported with the
# command that installs it (tools/install-deps.sh --check; `make deps` runs
# install-deps.sh to do it).
#
# Prints "== <name>: ..." as each program starts, then "ok <name>",
# "FAIL <name>" or "skip <name>: <why>".  Exit status: 1 if any program
# failed; else 77 (ctest: SKIPPED) if any was skipped, after running the
# others; else 0.  Usage: real_programs.sh <libuslab-malloc.so>
set -u
set -o pipefail

if [ $# -lt 1 ] || [ ! -f "$1" ]; then
	echo "usage: $0 /path/to/libuslab-malloc.so" >&2
	exit 2
fi
shim=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
per_run_timeout=${USLAB_REAL_TIMEOUT:-90}	# a hang guard, per run

# What is missing, said up front; installing it is `make deps`' business.
deps_report=$(bash "$here/../../tools/install-deps.sh" --check 2>&1)
deps_missing=$?

tmp=$(mktemp -d "${TMPDIR:-/tmp}/uslab-real.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export LC_ALL=C
unset LD_PRELOAD PYTHONMALLOC MALLOC_CHECK_ MALLOC_PERTURB_

PY=/usr/bin/python3
failures=0
skips=0
t_start=$SECONDS

echo "real programs on $shim"
if [ "$deps_missing" -ne 0 ]; then
	printf '%s\n' "$deps_report" | sed 's/^/   /'
fi

# ------------------------------------------------------------ plumbing

note_fail() {
	echo "FAIL $1${2:+: $2}"
	failures=$((failures + 1))
}

note_skip() {
	echo "skip $1: $2"
	skips=$((skips + 1))
}

# require_shim NAME MIN CMD... - CMD, run with the shim, must start it in
# at least MIN processes; otherwise NAME fails (it would test nothing).
require_shim() {
	local name=$1 min=$2 n
	shift 2
	n=$(cd "$tmp" && env LD_PRELOAD="$shim" USLAB_PAGE_RETAIN_MB=probe \
		timeout -k 5 60 "$@" 2>&1 >/dev/null </dev/null |
		grep -c 'USLAB_PAGE_RETAIN_MB=probe')
	if [ "${n:-0}" -lt "$min" ]; then
		note_fail "$name" "the shim started in ${n:-0} process(es) of '$*', not $min (LD_PRELOAD=$shim)"
		return 1
	fi
}

# Messages the shim (or the loader, about the shim) would print.
shim_noise='uslab|BUG:|Kernel panic|cannot be preloaded|Bad page state|Invalid object pointer'

# compare NAME FUNC - run FUNC in sys/ and shim/ with $RUN as the launcher
# of the program under test; stdout must match, the shim run must not add
# allocator messages.
compare() {
	local name=$1 fn=$2 d="$tmp/$1" rc_sys rc_shim t0=$SECONDS
	echo "== $name: on the system allocator, then with the shim (up to ${per_run_timeout} s each)"
	mkdir -p "$d/sys" "$d/shim"
	(set -e; cd "$d/sys"; RUN="timeout -k 5 $per_run_timeout"; "$fn") \
		>"$d/sys.out" 2>"$d/sys.err" </dev/null
	rc_sys=$?
	local t1=$SECONDS
	(set -e; cd "$d/shim"; RUN="timeout -k 5 $per_run_timeout env LD_PRELOAD=$shim"; "$fn") \
		>"$d/shim.out" 2>"$d/shim.err" </dev/null
	rc_shim=$?
	local times="system $((t1 - t0)) s, shim $((SECONDS - t1)) s"

	if [ $rc_sys -ne 0 ]; then
		note_fail "$name" "the workload fails on the system allocator too (status $rc_sys): test broken"
		tail -n 15 "$d/sys.err" | sed 's/^/    /'
		return
	fi
	if [ $rc_shim -eq 124 ] || [ $rc_shim -eq 137 ]; then
		note_fail "$name" "timed out after ${per_run_timeout} s with the shim (hang?); $times"
		tail -n 15 "$d/shim.err" | sed 's/^/    /'
		return
	fi
	if [ $rc_shim -ne 0 ]; then
		note_fail "$name" "status $rc_shim with the shim, 0 without"
		diff "$d/sys.out" "$d/shim.out" | head -n 20 | sed 's/^/    /'
		tail -n 15 "$d/shim.err" | sed 's/^/    /'
		return
	fi
	if ! cmp -s "$d/sys.out" "$d/shim.out"; then
		note_fail "$name" "output differs from the system allocator's"
		diff "$d/sys.out" "$d/shim.out" | head -n 20 | sed 's/^/    /'
		return
	fi
	if grep -Eq "$shim_noise" "$d/shim.err" && ! grep -Eq "$shim_noise" "$d/sys.err"; then
		note_fail "$name" "allocator messages on stderr with the shim"
		grep -E "$shim_noise" "$d/shim.err" | head -n 15 | sed 's/^/    /'
		return
	fi
	echo "ok $name ($times, $(wc -l <"$d/sys.out") lines of output compared)"
}

have() {
	command -v "$1" >/dev/null 2>&1
}

# ------------------------------------------------------------ python3

cat >"$tmp/workload.py" <<'EOF'
import collections, hashlib, heapq, json, random, re, sys, threading, queue

def digest(obj):
    return hashlib.md5(repr(obj).encode()).hexdigest()

rng = random.Random(12345)

# dicts: build, grow, delete half, rebuild
d = {}
for i in range(300000):
    d["key%07d" % rng.randrange(10**7)] = i
for k in list(d)[::2]:
    del d[k]
d.update(("x%d" % i, [i] * (i % 7)) for i in range(50000))
print("dict", len(d), digest(sorted(d.items(), key=lambda kv: kv[0])[:1000]))

# lists: sort by several keys, slices, comprehension
rows = [(rng.randrange(1000), rng.random(), "r%d" % i) for i in range(200000)]
rows.sort(key=lambda r: (r[0], -r[1]))
print("sort", digest(rows[::997]))
big = [list(range(i % 100)) for i in range(20000)]
print("lists", sum(map(len, big)), digest([x[-1:] for x in big[::101]]))

# json round trip of a nested structure
doc = {"items": [{"id": i, "name": "item-%d" % i, "tags": ["t%d" % (i % 13)] * (i % 5),
                  "price": round(i * 1.25, 2), "nested": {"a": [i, i * 2, None, True]}}
                 for i in range(40000)]}
text = json.dumps(doc, sort_keys=True)
back = json.loads(text)
print("json", len(text), back == doc, hashlib.md5(text.encode()).hexdigest())

# regular expressions over a generated text
words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
corpus = " ".join(rng.choice(words) + str(rng.randrange(100)) for _ in range(300000))
found = re.findall(r"\b(gamma|theta)(\d{2})\b", corpus)
subbed = re.sub(r"([aeiou])(\d)", r"<\2\1>", corpus)
print("re", len(found), collections.Counter(found).most_common(3), hashlib.md5(subbed.encode()).hexdigest())

# strings and bytes that grow (realloc)
s = ""
for i in range(100000):
    s += chr(65 + i % 26)
b = bytearray()
for i in range(200000):
    b += bytes([i % 251]) * (i % 3)
print("grow", len(s), len(b), hashlib.md5(bytes(b)).hexdigest())

# big integers, sets, heaps
f = 1
for i in range(2, 3000):
    f *= i
print("bigint", f.bit_length(), f % (10**30), hex(f)[:20])
s1 = set(range(0, 300000, 3)); s2 = set(range(0, 300000, 5))
print("sets", len(s1 & s2), len(s1 | s2), len(s1 ^ s2))
h = [rng.randrange(10**9) for _ in range(200000)]
heapq.heapify(h)
print("heap", [heapq.heappop(h) for _ in range(5)])

# cycles for the collector
class Node:
    def __init__(self, n):
        self.n = n
        self.peer = None
nodes = [Node(i) for i in range(100000)]
for a, b in zip(nodes, nodes[1:]):
    a.peer = b
nodes[-1].peer = nodes[0]
del nodes
import gc
print("gc", gc.collect() >= 100000)

# threads: objects made in one thread, freed in another
q = queue.Queue(maxsize=256)
totals = []
def producer(seed):
    r = random.Random(seed)
    for _ in range(20000):
        q.put(["p%d" % r.randrange(1000)] * r.randrange(1, 40))
def consumer():
    n = 0
    while True:
        item = q.get()
        if item is None:
            break
        n += len(item)
    totals.append(n)
cons = [threading.Thread(target=consumer) for _ in range(3)]
prods = [threading.Thread(target=producer, args=(i,)) for i in range(4)]
for t in cons + prods:
    t.start()
for t in prods:
    t.join()
for _ in cons:
    q.put(None)
for t in cons:
    t.join()
print("threads", sum(totals))
EOF

py_workload() {
	PYTHONHASHSEED=0 PYTHONMALLOC=malloc $RUN "$PY" "$tmp/workload.py"
}

# Fast regression test modules of the stdlib (those installed are run).
py_tests=(test_json test_re test_dict test_list test_set test_heapq test_bisect
	test_collections test_struct test_sort test_itertools test_functools
	test_gc test_bytes test_threading test_deque test_hashlib test_xml_etree)

py_regrtest() {
	# rc and the result summary (timings and load averages left out)
	local rc=0
	PYTHONMALLOC=malloc $RUN "$PY" -m test -j2 --timeout 120 "${py_present[@]}" \
		>regrtest.log 2>&1 || rc=$?
	echo "status $rc"
	sed -n '/^== Tests result/,$p' regrtest.log | grep -v -e '^Total duration' -e '^$'
	# the per-test outcomes, in a stable order
	{ grep -oE '(test_[a-z_0-9]+) (passed|failed|skipped|crashed|timed out|resource denied)' \
		regrtest.log || true; } | sort
}

if have "$PY"; then
	if require_shim python3 1 "$PY" -c 'pass'; then
		compare python3-workload py_workload
		py_ver=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
		py_present=()
		for t in "${py_tests[@]}"; do
			if [ -e "/usr/lib/python$py_ver/test/$t.py" ] || [ -d "/usr/lib/python$py_ver/test/$t" ]; then
				py_present+=("$t")
			fi
		done
		if [ ${#py_present[@]} -eq 0 ]; then
			note_skip python3-regrtest "the stdlib tests are not installed (Debian: libpython$py_ver-testsuite)"
		else
			compare python3-regrtest py_regrtest
		fi
	fi
else
	note_skip python3 "$PY not installed"
fi

# --------------------------------------------------------------- sort

# ~50 MB of lines "<hex key> <number> <word> <word>", generated once.
gen_sort_data() {
	awk 'BEGIN {
		srand(4242)
		split("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor", w, " ")
		for (i = 0; i < 1700000; i++)
			printf "%08x %d %s %s%d\n", int(rand() * 4294967295), int(rand() * 1000000),
				w[1 + int(rand() * 12)], w[1 + int(rand() * 12)], i % 977
	}' >"$tmp/sort.data"
}

sort_workload() {
	$RUN sort "$tmp/sort.data" | md5sum
	$RUN sort -t ' ' -k2,2n -k1,1r --parallel=2 -S 16M -T . "$tmp/sort.data" | md5sum
	LC_ALL=C.UTF-8 $RUN sort -f -u -k3,4 "$tmp/sort.data" | md5sum
}

if have sort && have awk; then
	if require_shim sort 1 sort /dev/null; then
		gen_sort_data
		echo "   sort input: $(($(wc -c <"$tmp/sort.data") / 1048576)) MiB"
		compare sort sort_workload
	fi
else
	note_skip sort "sort or awk not installed"
fi

# ------------------------------------------------------------ sqlite3

gen_sql() {
	awk 'BEGIN {
		srand(77)
		print "PRAGMA journal_mode=DELETE;"
		print "CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT, g INTEGER, v REAL, s TEXT);"
		print "BEGIN;"
		for (i = 1; i <= 200000; i++)
			printf "INSERT INTO t VALUES(%d, %c%08x%c, %d, %.4f, %cs%d-%s%c);\n", i, 39,
				int(rand() * 4294967295), 39, int(rand() * 97), rand() * 1000, 39,
				int(rand() * 5000), substr("abcdefghijklmnopqrstuvwxyz", 1 + int(rand() * 26), 5), 39
		print "COMMIT;"
	}' >"$tmp/load.sql"
	cat >"$tmp/query.sql" <<'EOF'
.headers on
SELECT count(*), sum(g), printf('%.2f', sum(v)) FROM t;
SELECT g, count(*) AS n, printf('%.3f', avg(v)) AS a, min(k), max(k) FROM t GROUP BY g ORDER BY n DESC, g LIMIT 25;
SELECT substr(s, 1, 3) AS p, count(*), length(group_concat(id)) FROM t GROUP BY p ORDER BY p LIMIT 30;
CREATE INDEX ik ON t(k);
CREATE INDEX igs ON t(g, s);
SELECT k, id FROM t ORDER BY k DESC LIMIT 15;
SELECT s, id FROM t ORDER BY s, id LIMIT 10 OFFSET 100000;
SELECT a.g, count(*) FROM t a JOIN t b ON a.id = b.id + 1 WHERE a.g = b.g GROUP BY a.g ORDER BY a.g LIMIT 20;
SELECT g, group_concat(k, ',') FROM (SELECT g, k FROM t WHERE g < 3 ORDER BY k) GROUP BY g;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50000)
  SELECT count(*), sum(x), max(length(printf('%0*d', x % 300, x))) FROM c;
UPDATE t SET s = s || '-' || k WHERE g % 3 = 0;
DELETE FROM t WHERE g % 5 = 0;
VACUUM;
SELECT count(*), printf('%.2f', sum(v)), max(length(s)) FROM t;
PRAGMA integrity_check;
EOF
}

sqlite_workload() {
	$RUN sqlite3 db.sqlite <"$tmp/load.sql" >/dev/null
	$RUN sqlite3 db.sqlite <"$tmp/query.sql"
}

if have sqlite3; then
	if require_shim sqlite3 1 sqlite3 :memory: 'select 1'; then
		gen_sql
		compare sqlite3 sqlite_workload
	fi
else
	note_skip sqlite3 "sqlite3 not installed"
fi

# --------------------------------------------------------------- perl

cat >"$tmp/work.pl" <<'EOF'
use strict;
use warnings;
use Digest::MD5 qw(md5_hex);

my $seed = 1;
sub rnd { $seed = ($seed * 1103515245 + 12345) % 2147483648; return $seed; }

my %h;
for my $i (1 .. 300000) {
    $h{sprintf("k%08d", rnd() % 10000000)} = [$i, "v" x ($i % 17)];
}
my @keys = sort keys %h;
delete @h{@keys[grep { $_ % 2 } 0 .. $#keys]};
print "hash ", scalar(keys %h), " ", md5_hex(join ",", map { "$_=$h{$_}[0]" } sort keys %h), "\n";

my @a = map { [rnd() % 1000, rnd(), "s$_"] } 1 .. 200000;
my @sorted = sort { $a->[0] <=> $b->[0] or $b->[1] <=> $a->[1] } @a;
print "sort ", md5_hex(join ";", map { "@$_" } @sorted[map { $_ * 97 } 0 .. 2000]), "\n";

my $text = join " ", map { ("alpha", "beta", "gamma", "delta")[rnd() % 4] . (rnd() % 100) } 1 .. 300000;
my $count = () = $text =~ /\b(?:gamma|delta)\d\b/g;
(my $sub = $text) =~ s/([aeiou])(\d)/<$2$1>/g;
print "regex $count ", length($sub), " ", md5_hex($sub), "\n";

my %groups;
push @{ $groups{$_ % 1000} }, $_ for 1 .. 500000;
my $total = 0;
$total += scalar(@{ $groups{$_} }) for keys %groups;
my $s = "";
$s .= chr(65 + $_ % 26) for 1 .. 500000;
print "groups $total ", length($s), " ", md5_hex($s), "\n";
my @spliced = (1 .. 100000);
splice(@spliced, $_, 1) for reverse grep { $_ % 3 == 0 } 0 .. $#spliced;
print "splice ", scalar(@spliced), " ", md5_hex("@spliced"), "\n";
EOF

perl_workload() {
	PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0 $RUN perl "$tmp/work.pl"
}

if have perl; then
	if require_shim perl 1 perl -e 1; then
		compare perl perl_workload
	fi
else
	note_skip perl "perl not installed"
fi

# ---------------------------------------------------------------- gcc

gen_c() {
	awk 'BEGIN {
		print "#include <stdio.h>"
		print "#include <string.h>"
		print "struct rec { int a; double b; char name[16]; };"
		for (f = 0; f < 300; f++) {
			printf "static unsigned long f%d(unsigned long x, struct rec *r) {\n", f
			printf "\tunsigned long acc = %d;\n", f * 7 + 1
			printf "\tfor (int i = 0; i < %d; i++) {\n", 3 + f % 11
			printf "\t\tswitch ((x + i) %% 7) {\n"
			for (c = 0; c < 7; c++)
				printf "\t\tcase %d: acc = acc * %d + (x >> %d) + r->a; r->b += acc %% 13; break;\n", c, 31 + c * f % 17, c
			printf "\t\t}\n\t\tx ^= acc << (i %% 5);\n\t}\n"
			printf "\tsnprintf(r->name, sizeof(r->name), \"f%d-%%lu\", acc %% 1000);\n", f
			printf "\treturn acc ^ x;\n}\n"
		}
		print "int main(void) {"
		print "\tstruct rec r = { 1, 0.5, \"\" };"
		print "\tunsigned long x = 12345, sum = 0;"
		for (f = 0; f < 300; f++)
			printf "\tsum += f%d(x + %d, &r); r.a = (int)(sum %% 1000);\n", f, f
		print "\tprintf(\"%lu %d %.3f %s\\n\", sum, r.a, r.b, r.name);"
		print "\treturn 0;"
		print "}"
	}' >"$tmp/gen.c"
}

gcc_workload() {
	cp "$tmp/gen.c" prog.c
	$RUN gcc -O2 -Wall -c prog.c -o prog.o
	$RUN gcc -O1 -g -S prog.c -o - | grep -c '^f[0-9]*:' || true
	$RUN gcc prog.o -o prog
	objdump -d prog.o
	./prog
}

if have gcc && have objdump; then
	# the driver, cc1 and as each start the shim
	if require_shim gcc 3 gcc -O2 -c -x c /dev/null -o "$tmp/probe.o"; then
		gen_c
		compare gcc gcc_workload
	fi
else
	note_skip gcc "gcc or objdump (binutils) not installed"
fi

# ---------------------------------------------------------------- git

git_workload() {
	export HOME=$PWD GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
	export GIT_AUTHOR_NAME=uslab GIT_AUTHOR_EMAIL=uslab@example.org
	export GIT_COMMITTER_NAME=uslab GIT_COMMITTER_EMAIL=uslab@example.org
	export GIT_AUTHOR_DATE='2024-01-01T00:00:00 +0000' GIT_COMMITTER_DATE='2024-01-01T00:00:00 +0000'
	$RUN git init -q -b main repo
	cd repo
	for i in $(seq -f '%02g' 0 39); do mkdir -p "dir$i"; done
	awk 'BEGIN {
		srand(9)
		for (f = 0; f < 1500; f++) {
			file = sprintf("dir%02d/file%04d.txt", f % 40, f)
			for (l = 0; l < 40 + f % 60; l++)
				printf "line %d of %d: %08x\n", l, f, int(rand() * 4294967295) > file
			close(file)
		}
	}'
	$RUN git add -A
	$RUN git commit -q -m "first: 1500 files"
	for f in dir0*/file00[0-9]*.txt; do echo "changed $f" >>"$f"; done
	$RUN git mv dir01 moved01
	$RUN git rm -q -r -f dir02
	$RUN git add -A
	GIT_COMMITTER_DATE='2024-01-02T00:00:00 +0000' GIT_AUTHOR_DATE='2024-01-02T00:00:00 +0000' \
		$RUN git commit -q -m "second: change, move, remove"
	$RUN git tag -a v1 -m "tag v1"
	$RUN git gc -q
	$RUN git rev-parse HEAD HEAD~1 v1
	$RUN git log --stat --format='%H %an %ad %s' --date=iso
	$RUN git fsck --full --no-progress --strict
	$RUN git count-objects -v | grep -E '^(count|in-pack|packs|garbage):'
	$RUN git ls-tree -r HEAD | md5sum
	$RUN git diff --stat HEAD~1 HEAD | tail -n 1
	$RUN git archive --format=tar HEAD | md5sum
	$RUN git blame -s moved01/file0001.txt | md5sum
}

if have git; then
	if require_shim git 1 git --version; then
		compare git git_workload
	fi
else
	note_skip git "git not installed"
fi

# ------------------------------------------------------------- the end

echo "real programs: $failures failed, $skips skipped, $((SECONDS - t_start)) s"
if [ $failures -ne 0 ]; then
	exit 1
fi
if [ $skips -ne 0 ]; then
	# Not a pass: part of the test did not run.  Say what would make it run.
	echo "SKIPPED: $skips program(s) could not be tested here."
	if [ "$deps_missing" -ne 0 ]; then
		printf '%s\n' "$deps_report"
	fi
	exit 77
fi
exit 0
