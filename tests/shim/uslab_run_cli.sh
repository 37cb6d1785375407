#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# uslab_run_cli.sh - tools/uslab-run's command line: --help/-h, --version
# (in step with CMakeLists.txt), usage errors, a command that is not
# found (127) or cannot be run (126), the command's exit status passed
# on, --allocator, a relative USLAB_MALLOC_LIB made absolute (children
# that change directory still load the shim), finding the shim next to
# the script, -v / USLAB_SHIM_VERBOSE (the shim's start-up line, from the
# right pid), and --check.
#
# Usage: uslab_run_cli.sh <libuslab-malloc.so> <tools/uslab-run>
# Exit: 0 pass, 1 fail, 2 usage, 77 skipped.
set -u

if [ $# -ne 2 ]; then
	echo "usage: $0 /path/to/libuslab-malloc.so /path/to/uslab-run" >&2
	exit 2
fi
if [ ! -f "$1" ] || [ ! -f "$2" ]; then
	echo "uslab_run_cli: $1 or $2 does not exist" >&2
	exit 1
fi
shim=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
run=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
srcdir=$(cd "$(dirname "$run")/.." && pwd)

# A clean slate: no preload, no options from the caller's environment.
unset LD_PRELOAD USLAB_MALLOC_LIB USLAB_ALLOCATOR USLAB_SHIM_VERBOSE
for v in $(env | sed -n 's/^\(USLAB_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
export LC_ALL=C

tmp=$(mktemp -d "${TMPDIR:-/tmp}/uslab-run-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failures=0
checks=0

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# t NAME EXPECTED_STATUS CMD... - run CMD with stdout/stderr in $out/$err
t() {
	local name=$1 want=$2
	shift 2
	checks=$((checks + 1))
	"$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	status=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
	if [ "$status" != "$want" ]; then
		fail "$name: exit status $status, expected $want"
		echo "  stdout: $out"
		echo "  stderr: $err"
		return 1
	fi
	return 0
}

has() {	# has NAME TEXT PATTERN - TEXT matches the extended regex PATTERN
	checks=$((checks + 1))
	if ! printf '%s\n' "$2" | grep -Eq -- "$3"; then
		fail "$1: no match for /$3/ in:"
		printf '%s\n' "$2" | sed 's/^/    /'
	fi
}

lacks() {	# lacks NAME TEXT PATTERN
	checks=$((checks + 1))
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then
		fail "$1: unexpected /$3/ in:"
		printf '%s\n' "$2" | sed 's/^/    /'
	fi
}

# only uslab-run's own words on stderr, not the shell's ("exec: ...: not found")
only_ours() {	# only_ours NAME TEXT
	checks=$((checks + 1))
	if printf '%s\n' "$2" | grep -vq '^uslab-run: '; then
		fail "$1: stderr has lines not from uslab-run:"
		printf '%s\n' "$2" | sed 's/^/    /'
	fi
}

U() { USLAB_MALLOC_LIB=$shim "$run" "$@"; }

# ------------------------------------------------------- help and version

for h in --help -h; do
	if t "$h" 0 U "$h"; then
		has "$h" "$out" '^usage: uslab-run \[OPTIONS\] \[--\] COMMAND'
		has "$h" "$out" '--allocator=NAME'
		has "$h" "$out" '--check'
		has "$h" "$out" '--version'
		has "$h" "$out" 'USLAB_MALLOC_LIB'
		[ -z "$err" ] || fail "$h: wrote to stderr: $err"
	fi
done
# help before anything else on the line, even an unknown command
t "--help with a command" 0 U --help no-such-command-xyz && has "--help with a command" "$out" '^usage:'

if t "--version" 0 U --version; then
	has "--version" "$out" '^uslab-run \(uslab\) [0-9]+\.[0-9]+\.[0-9]+$'
	if [ -f "$srcdir/CMakeLists.txt" ]; then
		want=$(sed -n 's/^project(uslab VERSION \([0-9.]*\).*/\1/p' "$srcdir/CMakeLists.txt")
		has "--version agrees with CMakeLists.txt ($want)" "$out" "^uslab-run \\(uslab\\) ${want//./\\.}\$"
	fi
fi
# and --version needs no shim at all
t "--version without a shim" 0 env USLAB_MALLOC_LIB=/nonexistent/lib.so "$run" --version

# ----------------------------------------------------------- usage errors

if t "no arguments" 2 U; then
	has "no arguments" "$err" '^usage: uslab-run'
fi
if t "only --" 2 U --; then
	has "only --" "$err" '^usage: uslab-run'
fi
if t "unknown option" 2 U --frobnicate true; then
	has "unknown option" "$err" "uslab-run: unknown option '--frobnicate'"
fi
if t "--allocator= (empty)" 2 U --allocator= true; then
	has "--allocator= (empty)" "$err" 'uslab-run: --allocator needs a name'
fi
t "--allocator without a value" 2 U --allocator

# ----------------------------------------------------- the command itself

if t "command not found" 127 U no-such-command-xyz --flag; then
	has "command not found" "$err" '^uslab-run: no-such-command-xyz: command not found$'
	only_ours "command not found" "$err"
fi
if t "no such file" 127 U "$tmp/no/such/program"; then
	has "no such file" "$err" "^uslab-run: $tmp/no/such/program: no such file\$"
	only_ours "no such file" "$err"
fi
if t "no such file (relative)" 127 U ./no-such-program; then
	has "no such file (relative)" "$err" '^uslab-run: \./no-such-program: no such file$'
fi
printf 'not a program\n' >"$tmp/data"
chmod 644 "$tmp/data"
if t "not executable" 126 U "$tmp/data"; then
	has "not executable" "$err" 'permission denied'
fi
if t "a directory" 126 U "$tmp"; then
	has "a directory" "$err" 'is a directory'
fi
# a non-executable file of that name in PATH is not a command
mkdir -p "$tmp/pathdir"
cp "$tmp/data" "$tmp/pathdir/uslab-cli-noexec"
t "not executable in PATH" 127 env PATH="$tmp/pathdir:$PATH" USLAB_MALLOC_LIB="$shim" "$run" uslab-cli-noexec

t "exit status passed on" 3 U sh -c 'exit 3'
if t "-- then a command" 0 U -- sh -c 'echo ran "$1"' sh arg; then
	has "-- then a command" "$out" '^ran arg$'
fi
if t "arguments kept intact" 0 U printf '[%s]' 'a b' '' '*' '--help'; then
	has "arguments kept intact" "$out" '^\[a b\]\[\]\[\*\]\[--help\]$'
fi

# --------------------------------------------------- the shim is preloaded

if t "LD_PRELOAD in the child" 0 U sh -c 'echo "$LD_PRELOAD"'; then
	has "LD_PRELOAD in the child" "$out" "^$shim\$"
fi
# an existing LD_PRELOAD is kept, after the shim
if t "LD_PRELOAD kept" 0 env LD_PRELOAD=/lib/x86_64-linux-gnu/libm.so.6 USLAB_MALLOC_LIB="$shim" \
	"$run" sh -c 'echo "$LD_PRELOAD"'; then
	has "LD_PRELOAD kept" "$out" "^$shim:/lib/x86_64-linux-gnu/libm.so.6\$"
fi

# a relative USLAB_MALLOC_LIB, and a child that changes directory first
shimdir=$(dirname "$shim")
shimname=$(basename "$shim")
mkdir -p "$tmp/elsewhere"
if t "relative USLAB_MALLOC_LIB" 0 \
	sh -c 'cd "$1" && USLAB_MALLOC_LIB=./"$2" "$3" sh -c "cd \"\$4\" && echo \"\$LD_PRELOAD\" && USLAB_SHIM_VERBOSE=1 sh -c true" sh "$4"' \
	sh "$shimdir" "$shimname" "$run" "$tmp/elsewhere"; then
	has "relative USLAB_MALLOC_LIB: absolute in the child" "$out" "^/.*/$shimname\$"
	has "relative USLAB_MALLOC_LIB: loads after cd" "$err" '^uslab: malloc shim active \(libuslab-malloc\.so, pid [0-9]+\)$'
	lacks "relative USLAB_MALLOC_LIB" "$err" 'cannot be preloaded'
fi
if t "relative USLAB_MALLOC_LIB with .." 0 \
	sh -c 'cd "$1" && USLAB_MALLOC_LIB=../"$2"/"$3" "$4" sh -c "cd / && echo \"\$LD_PRELOAD\""' \
	sh "$tmp/elsewhere" "$(realpath --relative-to="$tmp" "$shimdir" 2>/dev/null || echo "$shimdir")" \
	"$shimname" "$run"; then
	has "relative USLAB_MALLOC_LIB with ..: absolute" "$out" '^/'
	lacks "relative USLAB_MALLOC_LIB with ..: no .. left" "$out" '(^|/)\.\.?/'
fi

if t "USLAB_MALLOC_LIB does not exist" 127 env USLAB_MALLOC_LIB="$tmp/none.so" "$run" true; then
	has "USLAB_MALLOC_LIB does not exist" "$err" "uslab-run: USLAB_MALLOC_LIB=$tmp/none.so: no such file"
fi

# found next to the script, as installed: PREFIX/bin/uslab-run, PREFIX/lib/
mkdir -p "$tmp/prefix/bin" "$tmp/prefix/lib"
cp "$run" "$tmp/prefix/bin/uslab-run"
ln -s "$shim" "$tmp/prefix/lib/libuslab-malloc.so"
if t "installed layout" 0 "$tmp/prefix/bin/uslab-run" sh -c 'echo "$LD_PRELOAD"'; then
	has "installed layout" "$out" "^$tmp/prefix/bin/\\.\\./lib/libuslab-malloc\\.so\$|^$tmp/prefix/lib/libuslab-malloc\\.so\$"
fi
mkdir -p "$tmp/bare/bin"
cp "$run" "$tmp/bare/bin/uslab-run"
if t "no shim anywhere" 127 "$tmp/bare/bin/uslab-run" true; then
	has "no shim anywhere" "$err" 'libuslab-malloc.so not found'
fi

# ------------------------------------------------------------ --allocator

if t "--allocator=slub" 0 U --allocator=slub sh -c 'echo "A=$USLAB_ALLOCATOR"'; then
	has "--allocator=slub" "$out" '^A=slub$'
	lacks "--allocator=slub" "$err" 'uslab:'
fi
if t "--allocator slub" 0 U --allocator slub sh -c 'echo "A=$USLAB_ALLOCATOR"'; then
	has "--allocator slub" "$out" '^A=slub$'
fi
# the library refuses a back end it does not have, naming it
if t "--allocator=bogus" 0 U --allocator=bogus sh -c 'echo "A=$USLAB_ALLOCATOR"'; then
	has "--allocator=bogus" "$out" '^A=bogus$'
	has "--allocator=bogus" "$err" 'USLAB_ALLOCATOR=bogus'
fi

# ------------------------------------------------ the shim says it is active

if t "USLAB_SHIM_VERBOSE=1" 0 env USLAB_SHIM_VERBOSE=1 USLAB_MALLOC_LIB="$shim" "$run" sh -c 'echo $$'; then
	pid=$out
	has "USLAB_SHIM_VERBOSE=1" "$err" "^uslab: malloc shim active \\(libuslab-malloc\\.so, pid $pid\\)\$"
	checks=$((checks + 1))
	[ "$(printf '%s\n' "$err" | grep -c 'malloc shim active')" = 1 ] ||
		fail "USLAB_SHIM_VERBOSE=1: not exactly one line: $err"
fi
for v in -v --verbose; do
	if t "$v" 0 U "$v" sh -c 'echo $$'; then
		has "$v" "$err" "^uslab: malloc shim active \\(libuslab-malloc\\.so, pid $out\\)\$"
	fi
done
# one line per process that loads the shim: sh and the sh it starts
if t "-v, two processes" 0 U -v sh -c 'sh -c true; true'; then
	checks=$((checks + 1))
	[ "$(printf '%s\n' "$err" | grep -c 'malloc shim active')" = 2 ] ||
		fail "-v, two processes: expected 2 lines: $err"
fi
for v in "" 0; do
	if t "USLAB_SHIM_VERBOSE='$v'" 0 env USLAB_SHIM_VERBOSE="$v" USLAB_MALLOC_LIB="$shim" "$run" sh -c true; then
		lacks "USLAB_SHIM_VERBOSE='$v'" "$err" 'malloc shim active'
	fi
done
if t "quiet by default" 0 U sh -c true; then
	[ -z "$err" ] || fail "quiet by default: stderr: $err"
fi

# ----------------------------------------------------------------- --check

if t "--check" 0 U --check; then
	has "--check: names the shim" "$out" "^uslab-run: shim: $shim\$"
	has "--check: ok" "$out" '^uslab-run: ok'
fi
if t "--check, installed layout" 0 "$tmp/prefix/bin/uslab-run" --check; then
	has "--check, installed layout" "$out" "^uslab-run: shim: $tmp/prefix/"
fi
t "--check --allocator=slub" 0 U --check --allocator=slub
if t "--check --allocator=bogus" 1 U --check --allocator=bogus; then
	has "--check --allocator=bogus" "$err" 'USLAB_ALLOCATOR=bogus'
fi
if t "--check, a bad option value" 1 env USLAB_PAGE_RETAIN_MB=probe USLAB_MALLOC_LIB="$shim" "$run" --check; then
	has "--check, a bad option value" "$err" 'USLAB_PAGE_RETAIN_MB=probe'
fi
printf 'not a library\n' >"$tmp/libfake.so"
if t "--check, not a library" 1 env USLAB_MALLOC_LIB="$tmp/libfake.so" "$run" --check; then
	has "--check, not a library" "$err" 'did not start'
fi
t "--check, no shim" 127 env USLAB_MALLOC_LIB="$tmp/none.so" "$run" --check

echo "uslab_run_cli: $checks checks, $failures failed"
[ "$failures" -eq 0 ]
