#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# viewers.sh - tools/uslab-slabinfo and tools/uslab-top on live programs,
# on the back end USLAB_ALLOCATOR names (slub if unset):
#
#   - stats_target (tests/tools/stats_target.c: tools_test_cache with N
#     objects) seen by uslab-slabinfo: the /proc/slabinfo text, the same
#     as the program's own uslab_slabinfo(); --json, which agrees with it;
#     -T -S -L -l -a -r and the name regex; uslab-top -o and its sorts
#   - with USLAB_SLAB_STATS=1, the counters count exactly the N
#     allocations (SLUB: alloc_fastpath + alloc_slowpath, SLAB: allochit
#     + allocmiss), and -r and uslab-top show them
#   - a stats signal named by USLAB_STATS_SIGNAL in the program's
#     environment
#   - failures, each with exit status 1, its message and no traceback: no
#     such process; a process not on uslab (which is left alive); one
#     with USLAB_STATS_SIGNAL=0; a stopped one (resumed after, and then
#     answering); one that exits when asked; another user's (as root)
#   - uslab-top in a pseudo-terminal: keys, q, and the program exiting
#     under it ("process N exited")
#   - a program linked with the static library (stats_target_static,
#     found next to stats_target): known by its marker string
#   - with the shim: uslab-run --stats, and a program under uslab-run
#
# On SLAB (USLAB_ALLOCATOR=slab) only what depends on the back end runs:
# the pseudo-terminal, the failures and the command lines are SLUB's run.
#
# Usage: viewers.sh <stats_target> <tools-dir> [<libuslab-malloc.so>]
# Exit: 0 pass, 1 fail, 2 usage, 77 skipped (no python3).
set -u

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
	echo "usage: $0 /path/to/stats_target /path/to/tools [/path/to/libuslab-malloc.so]" >&2
	exit 2
fi
if ! command -v python3 >/dev/null 2>&1; then
	echo "SKIPPED: python3 not found (uslab-slabinfo and uslab-top are Python 3 scripts)"
	exit 77
fi
target=$1
tools=$(cd "$2" && pwd)
shim=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
slabinfo=$tools/uslab-slabinfo
top=$tools/uslab-top
run=$tools/uslab-run
checks_py=$here/viewer_checks.py
backend=${USLAB_ALLOCATOR:-slub}
# What does not depend on the back end (uslab-top's terminal, the
# failures, the command lines) is checked once, with SLUB, the default.
everything=0
[ "$backend" != slub ] || everything=1

# A clean slate: only the back end from the caller's environment.
for v in $(env | sed -n 's/^\(USLAB_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
unset LD_PRELOAD
export USLAB_ALLOCATOR=$backend LC_ALL=C

tmp=$(mktemp -d "${TMPDIR:-/tmp}/uslab-viewers.XXXXXX")
# The viewers start with `#!/usr/bin/env python3`: put the interpreter
# itself first in PATH, not a wrapper (pyenv's shims cost a third of a
# second a start, and this starts a hundred)
mkdir "$tmp/bin"
ln -s "$(python3 -c 'import sys; print(sys.executable)')" "$tmp/bin/python3"
export PATH="$tmp/bin:$PATH"
uid=$(id -u)
failures=0
checks=0
started=()		# every pid we started, killed at the end if still there

cleanup() {
	local p
	for p in "${started[@]}"; do
		kill -CONT "$p" 2>/dev/null
		kill -KILL "$p" 2>/dev/null
		# answers to requests that timed out (the stopped program's)
		rm -f "/tmp/uslab-$uid/"*".$p.json" "/tmp/uslab-$uid/"*".$p.tmp"
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

ok() {
	checks=$((checks + 1))
}

# t NAME EXPECTED_STATUS CMD... - run CMD, stdout/stderr in $out/$err
t() {
	local name=$1 want=$2
	shift 2
	checks=$((checks + 1))
	"$@" >"$tmp/t.out" 2>"$tmp/t.err" </dev/null
	status=$?
	out=$(cat "$tmp/t.out")
	err=$(cat "$tmp/t.err")
	if printf '%s\n' "$out$err" | grep -q 'Traceback'; then
		fail "$name: a Python traceback:"
		printf '%s\n' "$err" | sed 's/^/    /'
		return 1
	fi
	if [ "$status" != "$want" ]; then
		fail "$name: exit status $status, expected $want"
		printf '%s\n' "$out" | head -20 | sed 's/^/  stdout: /'
		printf '%s\n' "$err" | head -20 | sed 's/^/  stderr: /'
		return 1
	fi
	return 0
}

has() {	# has NAME TEXT PATTERN - TEXT matches the extended regex PATTERN
	checks=$((checks + 1))
	if ! printf '%s\n' "$2" | grep -Eq -- "$3"; then
		fail "$1: no match for /$3/ in:"
		printf '%s\n' "$2" | head -30 | sed 's/^/    /'
	fi
}

lacks() {	# lacks NAME TEXT PATTERN
	checks=$((checks + 1))
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then
		fail "$1: unexpected /$3/ in:"
		printf '%s\n' "$2" | head -30 | sed 's/^/    /'
	fi
}

py() {	# py NAME ARGS... - a check of viewer_checks.py
	local name=$1 msg
	shift
	checks=$((checks + 1))
	if ! msg=$(python3 "$checks_py" "$@" 2>&1); then
		fail "$name: $msg"
	fi
}

alive() {	# alive NAME PID - the process is still there (and not a zombie)
	checks=$((checks + 1))
	local state
	state=$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "/proc/$2/status" 2>/dev/null)
	if [ -z "$state" ] || [ "$state" = Z ]; then
		fail "$1: process $2 is gone"
	fi
}

# ------------------------------------------------------------ targets

# nofds CMD... - exec CMD without our ends of the targets' fifos: a
# process holding one would keep that target from seeing the end of its
# stdin (in the background, this runs in the subshell that becomes CMD)
nofds() {
	local f
	for f in "${FD[@]}"; do
		exec {f}>&-
	done
	exec "$@"
}
#
# start NAME CMD... - run CMD in the background with its stdin a fifo we
# hold open (closing it ends stats_target) and its stdout in
# $tmp/NAME.out; wait until it says "ready".  Sets PID[NAME].
declare -A PID FD
start() {
	local name=$1 fd
	shift
	mkfifo "$tmp/$name.in"
	nofds "$@" <"$tmp/$name.in" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	PID[$name]=$!
	started+=("$!")
	exec {fd}>"$tmp/$name.in"
	FD[$name]=$fd
	until grep -q '^ready$' "$tmp/$name.out"; do
		if ! kill -0 "${PID[$name]}" 2>/dev/null; then
			fail "$name: did not start: $(cat "$tmp/$name.err")"
			return 1
		fi
		sleep 0.02
	done
}

# stop NAME - end of stdin: the target frees everything and exits 0
stop() {
	local name=$1 status fd=${FD[$1]}
	exec {fd}>&-
	wait "${PID[$name]}"
	status=$?
	checks=$((checks + 1))
	[ "$status" = 0 ] || fail "$name: exit status $status: $(cat "$tmp/$name.err")"
}

# own_slabinfo NAME FILE - the target's own uslab_slabinfo() into FILE
own_slabinfo() {
	local name=$1 file=$2 before
	before=$(grep -c '^end$' "$tmp/$name.out")
	echo slabinfo >&"${FD[$name]}"
	until [ "$(grep -c '^end$' "$tmp/$name.out")" -gt "$before" ]; do
		if ! kill -0 "${PID[$name]}" 2>/dev/null; then
			fail "$name: exited: $(cat "$tmp/$name.err")"
			return 1
		fi
		sleep 0.02
	done
	# the last block: from its last "slabinfo - version" line to "end"
	awk '/^slabinfo - version/ { n = 0; delete l } { l[++n] = $0 }
	     END { for (i = 1; i < n; i++) print l[i] }' "$tmp/$name.out" >"$file"
}

# same_as_own NAME FROM ARGS... - uslab-slabinfo ARGS gives the program's
# own text (asked right after) from line FROM on; a few tries, should a
# SLAB reaper have moved objects between the two
same_as_own() {
	local name=$1 from=$2 try
	shift 2
	checks=$((checks + 1))
	for try in 1 2 3 4 5; do
		"$slabinfo" "$@" >"$tmp/viewer.all" 2>"$tmp/viewer.err" || break
		own_slabinfo "$name" "$tmp/own.all"
		tail -n +"$from" "$tmp/viewer.all" >"$tmp/viewer.txt"
		tail -n +"$from" "$tmp/own.all" >"$tmp/own.txt"
		if cmp -s "$tmp/viewer.txt" "$tmp/own.txt"; then
			return 0
		fi
	done
	fail "$name: uslab-slabinfo $* differs from the program's uslab_slabinfo():"
	diff "$tmp/own.txt" "$tmp/viewer.txt" | head -20 | sed 's/^/    /'
	cat "$tmp/viewer.err"
}

echo "viewers: back end $backend, $(python3 --version 2>&1)"

# ---------------------------------------------- a program on uslab: text

start plain "$target" 1000 || exit 1
p=${PID[plain]}

if t "slabinfo" 0 "$slabinfo" "$p"; then
	has "slabinfo: version line" "$out" '^slabinfo - version: 2\.1$'
	has "slabinfo: tools_test_cache" "$out" '^tools_test_cache +[0-9]+ '
	active=$(printf '%s\n' "$out" | awk '$1 == "tools_test_cache" { print $2 }')
	checks=$((checks + 1))
	[ "${active:-0}" -ge 1000 ] || fail "slabinfo: tools_test_cache active_objs '$active' < 1000"
	printf '%s\n' "$out" >"$tmp/text.txt"
	py "slabinfo: the kernel's format" format "$tmp/text.txt"
	[ -z "$err" ] || fail "slabinfo: stderr: $err"
fi
same_as_own plain 1 "$p"
if t "name regex" 0 "$slabinfo" "$p" '^TOOLS_'; then
	checks=$((checks + 1))
	[ "$(printf '%s\n' "$out" | wc -l)" = 3 ] || fail "name regex: not 2 header lines + 1: $out"
	has "name regex" "$out" '^tools_test_cache '
fi
if t "-o regex" 0 "$slabinfo" -o 'test_cache$' "$p"; then
	checks=$((checks + 1))
	[ "$(printf '%s\n' "$out" | wc -l)" = 3 ] || fail "-o regex: not 2 header lines + 1: $out"
fi

# --json, and it agrees with the text (the program is quiet meanwhile)
for try in 1 2 3 4 5; do
	"$slabinfo" --json "$p" >"$tmp/doc.json" 2>"$tmp/json.err"
	"$slabinfo" "$p" >"$tmp/text.txt" 2>>"$tmp/json.err"
	python3 "$checks_py" agree "$tmp/doc.json" "$tmp/text.txt" >/dev/null 2>&1 && break
done
py "--json: the document" json "$tmp/doc.json" "$p" "$backend" 0 1000
py "--json agrees with the text" agree "$tmp/doc.json" "$tmp/text.txt"
if t "--json with a regex" 0 "$slabinfo" --json "$p" tools_test; then
	printf '%s\n' "$out" >"$tmp/doc1.json"
	py "--json with a regex" json "$tmp/doc1.json" "$p" "$backend" 0 1000
	checks=$((checks + 1))
	n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["caches"]))' "$tmp/doc1.json")
	[ "$n" = 1 ] || fail "--json with a regex: $n caches"
fi

# --------------------------------------- a program on uslab: the reports

if t "-T" 0 "$slabinfo" -T "$p"; then
	has "-T" "$out" '^Slabcache Totals$'
	has "-T: caches" "$out" '^Slabcaches : +[0-9]+ +Aliases'
	has "-T: memory" "$out" '^Memory used: +[0-9.]+[KMG]? +# Loss'
	has "-T: per cache" "$out" '^#Objects +[0-9.]+[KMG]? +[0-9.]+[KMG]? +[0-9.]+[KMG]? +[0-9.]+[KMG]?$'
	has "-T: per object" "$out" '^Per Object +Average +Min +Max$'
fi
if t "-S" 0 "$slabinfo" -S "$p"; then
	has "-S: heading" "$out" '^Name +Objects Objsize +Space Slabs/Part/Cpu +O/S O %Fr %Ef Flg$'
	has "-S: tools_test_cache" "$out" '^tools_test_cache +[0-9]+ +200 '
fi
if t "-L" 0 "$slabinfo" -L "$p"; then
	has "-L: heading" "$out" '^Name +Objects Objsize +Loss Slabs/Part/Cpu'
fi
t "-l" 0 "$slabinfo" -l "$p" && has "-l" "$out" '^tools_test_cache '
t "-a" 0 "$slabinfo" -a "$p" && has "-a" "$out" '^(No aliases|Name +Aliases)'
t "-B -S" 0 "$slabinfo" -B -S "$p" && lacks "-B -S: bytes" "$out" '[0-9]\.[0-9][KMG] '
if t "-r" 0 "$slabinfo" -r "$p" tools_test_cache; then
	has "-r" "$out" '^Slabcache: tools_test_cache +Aliases: +0 Order : +[0-9]+ Objects: [0-9]+$'
	has "-r: sizes" "$out" '^Object : +200 +Total +: +[0-9]+'
	has "-r: counters off" "$out" 'Statistics counters are off'
	has "-r: how to turn them on" "$out" 'USLAB_SLAB_STATS=1.*uslab-run --stats'
fi

# uslab-top -o: slabtop's screen, once
if t "uslab-top -o" 0 "$top" -o "$p"; then
	has "uslab-top -o: title" "$out" "^uslab-top - process $p \\(stats_target\\) on $backend, sort: objects, counters off"
	has "uslab-top -o: objects" "$out" '^ Active / Total Objects \(% used\)    : [0-9]+ / [0-9]+ \([0-9.]+%\)$'
	has "uslab-top -o: slabs" "$out" '^ Active / Total Slabs \(% used\)      : '
	has "uslab-top -o: caches" "$out" '^ Active / Total Caches \(% used\)     : '
	has "uslab-top -o: size" "$out" '^ Active / Total Size \(% used\)       : [0-9.]+K / [0-9.]+K '
	has "uslab-top -o: object" "$out" '^ Minimum / Average / Maximum Object : [0-9.]+K / [0-9.]+K / [0-9.]+K$'
	has "uslab-top -o: heading" "$out" '^  OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE NAME +$'
	has "uslab-top -o: tools_test_cache" "$out" '^ *[0-9]+ +[0-9]+ +[0-9]+% +0\.2[0-9]K +[0-9]+ +[0-9]+ +[0-9]+K tools_test_cache'
	lacks "uslab-top -o: no counter columns" "$out" 'A-FAST'
fi
if t "uslab-top -o -s n" 0 "$top" -o -s n "$p"; then
	printf '%s\n' "$out" >"$tmp/top.txt"
	py "uslab-top -o -s n" sorted-by-name "$tmp/top.txt"
fi
for s in a c u; do
	t "uslab-top -o -s $s" 0 "$top" -o -s "$s" "$p"
done
if t "uslab-top -s bad" 2 "$top" -o -s x "$p"; then
	has "uslab-top -s bad" "$err" 'unknown sort criterion'
fi
t "uslab-top -o -d" 2 "$top" -o -d 1 "$p"
if t "uslab-top, not a terminal" 1 "$top" "$p"; then
	has "uslab-top, not a terminal" "$err" 'needs a terminal.*use -o'
fi

if [ $everything = 1 ]; then
	# uslab-top on a terminal: keys, then q
	if python3 "$checks_py" pty "$top" "$p" quit "$tmp/pty.ready" >"$tmp/pty.out" 2>&1; then
		ok
	else
		status=$?
		if [ $status = 77 ]; then
			echo "note: $(cat "$tmp/pty.out")"
		else
			fail "uslab-top in a pty (q): $(cat "$tmp/pty.out")"
		fi
	fi
	alive "after the viewers" "$p"

	# uslab-top on a terminal while the program exits
	nofds python3 "$checks_py" pty "$top" "$p" until-exit "$tmp/pty2.ready" >"$tmp/pty2.out" 2>&1 &
	ptyjob=$!
	until [ -e "$tmp/pty2.ready" ] || ! kill -0 $ptyjob 2>/dev/null; do sleep 0.05; done
	stop plain
	wait $ptyjob
	status=$?
	if [ $status = 0 ]; then
		ok
	elif [ $status != 77 ]; then
		fail "uslab-top in a pty (the program exits): $(cat "$tmp/pty2.out")"
	fi
else
	stop plain
fi

# ------------------------------------------------------------ counters

start counted env USLAB_SLAB_STATS=1 "$target" 777 || exit 1
p=${PID[counted]}
if t "--json, counters on" 0 "$slabinfo" --json "$p"; then
	printf '%s\n' "$out" >"$tmp/counted.json"
	py "--json, counters on" json "$tmp/counted.json" "$p" "$backend" 1 777
	py "counters: exactly 777 allocations" counters "$tmp/counted.json" "$backend" 777
fi
# with the counters on, SLAB's /proc/slabinfo has its statistics columns
# (the cache lines are the library's; the header, the kernel's with
# CONFIG_DEBUG_SLAB)
same_as_own counted 1 "$p"
if [ "$backend" = slab ]; then
	has "SLAB statistics: version line" "$(head -1 "$tmp/viewer.all")" '^slabinfo - version: 2\.1 \(statistics\)$'
	has "SLAB statistics: header" "$(sed -n 2p "$tmp/viewer.all")" ' : slabdata <active_slabs> <num_slabs> <sharedavail> : globalstat <listallocs> <maxobjs> <grown> <reaped> <error> <maxfreeable> <nodeallocs> <remotefrees> <alienoverflow> : cpustat <allochit> <allocmiss> <freehit> <freemiss>$'
fi
if t "-r, counters on" 0 "$slabinfo" -r "$p" '^tools_test_cache$'; then
	has "-r: perf counters" "$out" '^Slab Perf Counter +Alloc +Free %Al %Fr$'
	has "-r: total" "$out" '^Total +777 +0$'
	lacks "-r: counters on" "$out" 'counters are off'
	if [ "$backend" = slab ]; then
		has "-r: SLAB globalstat" "$out" '^listallocs +[0-9]+$'
	else
		has "-r: SLUB fastpath" "$out" '^Fastpath +[0-9]+ +0 +[0-9]+ +0$'
	fi
fi
if t "uslab-top -o, counters on" 0 "$top" -o "$p"; then
	has "uslab-top -o: title, counters on" "$out" "counters on, counts since the start"
	has "uslab-top -o: counter columns" "$out" '^  OBJS ACTIVE .* NAME +A-FAST +A-SLOW +FREES$'
	has "uslab-top -o: counts" "$out" 'tools_test_cache +[0-9]+ +[0-9]+ +0$'
fi
stop counted

# another stats signal, named in the program's environment
sig=$(python3 -c 'import signal; print(signal.SIGRTMIN + 5)')
start othersig env USLAB_STATS_SIGNAL="$sig" "$target" 10 || exit 1
t "USLAB_STATS_SIGNAL=$sig" 0 "$slabinfo" "${PID[othersig]}" tools_test &&
	has "USLAB_STATS_SIGNAL=$sig" "$out" '^tools_test_cache '
stop othersig

# ------------------------------------------------------------ failures

if [ $everything = 1 ]; then
	sh -c 'exit 0' &
	gone=$!
	wait $gone
	if ! kill -0 "$gone" 2>/dev/null; then
		for tool in "$slabinfo" "$top -o"; do
			# shellcheck disable=SC2086
			if t "$tool: no such process" 1 $tool "$gone"; then
				has "$tool: no such process" "$err" "process $gone not found \\(exited\\?\\)"
			fi
		done
	fi

	sleep 300 &
	sleeper=$!
	started+=("$sleeper")
	for tool in "$slabinfo" "$top -o"; do
		# shellcheck disable=SC2086
		if t "$tool: not on uslab" 1 $tool "$sleeper"; then
			has "$tool: not on uslab" "$err" "process $sleeper \\(sleep\\) does not run on uslab: no libuslab mapping"
		fi
		alive "$tool: not on uslab, left alive" "$sleeper"
	done
	kill "$sleeper"

	start nosignal env USLAB_STATS_SIGNAL=0 "$target" 10 || exit 1
	if t "USLAB_STATS_SIGNAL=0" 1 "$slabinfo" "${PID[nosignal]}"; then
		has "USLAB_STATS_SIGNAL=0" "$err" 'USLAB_STATS_SIGNAL=0: it has no stats signal handler'
	fi
	alive "USLAB_STATS_SIGNAL=0, left alive" "${PID[nosignal]}"
	stop nosignal

	start stopped "$target" 10 || exit 1
	p=${PID[stopped]}
	kill -STOP "$p"
	if t "stopped" 1 "$slabinfo" "$p"; then
		has "stopped" "$err" "process $p \\(stats_target\\) did not answer within 2 s: it is stopped \\(State T"
		has "stopped: how to resume" "$err" "kill -CONT $p"
	fi
	alive "stopped, left alive" "$p"
	kill -CONT "$p"
	t "resumed" 0 "$slabinfo" "$p" tools_test && has "resumed" "$out" '^tools_test_cache '
	stop stopped

	start dies "$target" 10 die-on-ask || exit 1
	p=${PID[dies]}
	if t "exits when asked" 1 "$slabinfo" "$p"; then
		has "exits when asked" "$err" "^uslab-slabinfo: process $p exited before answering$"
	fi
	checks=$((checks + 1))
	wait "$p" || fail "exits when asked: stats_target exit status $?"

	# another user's program: as root, ask as nobody (with a python3 that
	# nobody can run: not one in root's home)
	as_nobody() {
		setpriv --reuid=65534 --regid=65534 --clear-groups \
			env PATH=/usr/local/bin:/usr/bin:/bin "$@"
	}
	if [ "$uid" = 0 ] && command -v setpriv >/dev/null 2>&1 &&
	   as_nobody python3 -c 'import sys; open(sys.argv[1]).close()' "$slabinfo" 2>/dev/null; then
		start rootprog "$target" 10 || exit 1
		if t "another user's process" 1 as_nobody python3 "$slabinfo" "${PID[rootprog]}"; then
			has "another user's process" "$err" "process ${PID[rootprog]} \\(stats_target\\): permission denied .*run the viewer as that user or as root"
		fi
		stop rootprog
	else
		echo "note: not root, or no setpriv, or no python3 for nobody: the other-user check is left out"
	fi

	# a program linked with the static library: no libuslab mapping, but
	# the protocol's marker in its executable
	if [ -x "${target}_static" ]; then
		start static "${target}_static" 10 || exit 1
		if t "linked statically" 0 "$slabinfo" "${PID[static]}" tools_test; then
			has "linked statically" "$out" '^tools_test_cache '
		fi
		stop static
	else
		fail "no ${target}_static"
	fi

	# usage
	t "no PID" 2 "$slabinfo"
	t "not a PID" 2 "$slabinfo" abc
	t "two modes" 2 "$slabinfo" -T -S 1
	if t "--help" 0 "$slabinfo" --help; then
		for o in --json -T -S -L -a -r NAME-REGEX; do has "--help: $o" "$out" "$o"; done
	fi
	if t "uslab-top --help" 0 "$top" --help; then
		has "uslab-top --help: sorts" "$out" '^ u: sort by cache utilization$'
	fi
fi

# --------------------------------------------------------- the shim

if [ -n "$shim" ]; then
	if [ $everything = 1 ]; then
		if t "uslab-run --help" 0 "$run" --help; then
			has "uslab-run --help: --stats" "$out" '--stats +.*USLAB_STATS=1|USLAB_STATS=1'
		fi
		if t "uslab-run --stats" 0 env USLAB_MALLOC_LIB="$shim" "$run" --stats sh -c 'echo "S=$USLAB_STATS"'; then
			has "uslab-run --stats: USLAB_STATS" "$out" '^S=1$'
		fi
	fi
	# (dash leaves with _exit(), without the report: true does not)
	if t "uslab-run --stats ls" 0 env USLAB_MALLOC_LIB="$shim" "$run" --stats ls /; then
		has "uslab-run --stats: the report at exit" "$err" "^uslab: statistics of pid [0-9]+ at exit \\(back end $backend\\)"
	fi
	if [ $everything = 1 ] &&
	   t "uslab-run --stats --check" 0 env USLAB_MALLOC_LIB="$shim" "$run" --stats --check; then
		has "uslab-run --stats --check" "$out" '^uslab-run: ok'
	fi
	# a program under the shim, with the counters on
	start shimmed env USLAB_MALLOC_LIB="$shim" "$run" --stats sh -c 'echo ready; read x || true' || exit 1
	p=${PID[shimmed]}
	if t "under uslab-run: --json" 0 "$slabinfo" --json "$p"; then
		checks=$((checks + 1))
		printf '%s\n' "$out" | python3 -c '
import json, sys
doc = json.load(sys.stdin)
assert doc["allocator"] == sys.argv[1] and doc["stats_enabled"], doc
assert any(c["name"].startswith("kmalloc-") for c in doc["caches"])
' "$backend" || fail "under uslab-run: --json: $out"
	fi
	t "under uslab-run: slabinfo" 0 "$slabinfo" "$p" && has "under uslab-run" "$out" '^kmalloc-'
	t "under uslab-run: uslab-top -o" 0 "$top" -o "$p" &&
		has "under uslab-run: uslab-top" "$out" "^uslab-top - process $p \\(sh\\) on $backend, .*counters on"
	stop shimmed
fi

echo "viewers ($backend): $checks checks, $failures failed"
[ "$failures" -eq 0 ]
