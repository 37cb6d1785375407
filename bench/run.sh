#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench/run.sh - build the benchmarks, run them through uslab and the
# allocators people use today, and report.
#
#   bench/run.sh            full run: 5 runs of everything (make bench)
#   bench/run.sh --quick    3 runs, smaller parameters, a few minutes
#                           (make bench BENCH_QUICK=1)
#   bench/run.sh --smoke    1 run, tiny parameters; what ctest runs
#
# Allocators: glibc (the malloc build run as it is), jemalloc, tcmalloc and
# mimalloc (the malloc build under LD_PRELOAD; Debian packages libjemalloc2,
# libtcmalloc-minimal4, libmimalloc2.0, installed here when run as root),
# uslab-kmalloc and uslab-kmem_cache (the builds linked with libuslab), and
# uslab-shim (the malloc build under LD_PRELOAD of libuslab-malloc.so, when
# the build has one): uslab's SLUB back end.  uslab-slab-kmalloc,
# uslab-slab-kmem_cache and uslab-slab-shim are the same programs run with
# USLAB_ALLOCATOR=slab: the SLAB back end.  Whatever is missing is skipped
# with a note.
#
# Before measuring, each allocator runs bench_fastpath once and must say
# that malloc (kmalloc) comes from where it should, and for uslab, which
# back end runs (uslab_allocator()): a preload that silently did not take
# would otherwise measure glibc twice, and a SLAB run that fell back to
# SLUB would measure SLUB twice.  report.py checks every run's back end
# again and refuses a mismatch.
#
# Runs are interleaved (run 1 of every allocator, then run 2, ...) so that
# drift on a shared machine spreads over all of them.  Callgrind counts are
# deterministic and run once.  bench/report.py turns the RESULT lines into
# medians, ratios to the best peer, a table, CSV, JSON, a chart, and with
# --markdown, BENCHMARKS.md.
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_SRC=$ROOT/bench
BUILD=${BENCH_BUILD_DIR:-$ROOT/build}
BIN=""
OUT=${BENCH_OUT_DIR:-$ROOT/bench/results}
PYTHON=${PYTHON:-python3}
JOBS=${BENCH_JOBS:-$(nproc 2>/dev/null || echo 2)}
MODE=full
case "${BENCH_QUICK:-}" in ''|0|no|false) ;; *) MODE=quick ;; esac
RUNS=""
ONLY=""
DO_BUILD=1 DO_INSTALL=1 DO_MARKDOWN=1 DO_CALLGRIND=1
ORIG_ARGS="$*"

usage() {
	sed -n '4,33p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	cat <<-EOF

	options:
	  --quick | --smoke | --full   how much to run (BENCH_QUICK=1 means --quick)
	  --runs N                     runs per program and allocator
	  --allocators a,b,...         only these (glibc,jemalloc,tcmalloc,mimalloc,
	                               uslab-kmalloc,uslab-kmem_cache,uslab-shim,
	                               uslab-slab-kmalloc,uslab-slab-kmem_cache,
	                               uslab-slab-shim)
	  --no-build                   use the programs already built
	  --no-install                 never apt-get install
	  --no-markdown                leave BENCHMARKS.md alone
	  --no-callgrind               skip the instruction counts
	  --build-dir DIR              CMake build tree ($BUILD)
	  --bench-dir DIR              where the bench_* programs are (BUILD/bench)
	  --out-dir DIR                results ($OUT)
	EOF
}

while [ $# -gt 0 ]; do
	case "$1" in
	--quick) MODE=quick ;;
	--smoke) MODE=smoke ;;
	--full) MODE=full ;;
	--runs) RUNS=$2; shift ;;
	--allocators) ONLY=$2; shift ;;
	--no-build) DO_BUILD=0 ;;
	--no-install) DO_INSTALL=0 ;;
	--no-markdown) DO_MARKDOWN=0 ;;
	--no-callgrind) DO_CALLGRIND=0 ;;
	--build-dir) BUILD=$2; shift ;;
	--bench-dir) BIN=$2; shift ;;
	--out-dir) OUT=$2; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "run.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
BIN=${BIN:-$BUILD/bench}
RAWDIR=$OUT/raw
RAW=$RAWDIR/results.tsv
FAILED=0

say() { printf '%s\n' "bench: $*" >&2; }
note() {
	say "NOTE: $*"
	printf 'NOTE\t-\t-\t%s\n' "$*" >>"$RAW"
}
die() { say "error: $*"; exit 1; }

mkdir -p "$RAWDIR" || die "cannot create $RAWDIR"
: >"$RAW"
rm -f "$RAWDIR"/*.out "$RAWDIR"/*.err "$RAWDIR"/*.stdout

# ------------------------------------------------------------ parameters
#
# The same workloads in every mode; only their length changes.  Each
# program's defaults are the full run's.
declare -A ARGS
case "$MODE" in
full)
	: "${RUNS:=5}"
	ARGS=([slab_test]="" [threads]="" [mix]="" [memory]="" [memory_threads]="")
	CG_PAIRS=200000
	;;
quick)
	: "${RUNS:=3}"
	ARGS=([slab_test]="--reps 5"
	      [threads]="--ops 500000 --remote-ops 200000 --larson-rounds 4 --larson-ops 100000 --pass-rounds 500"
	      [mix]="--ops 1000000"
	      [memory]=""
	      [memory_threads]="")
	CG_PAIRS=100000
	;;
smoke)
	: "${RUNS:=1}"
	ARGS=([slab_test]="--smoke" [threads]="--smoke" [mix]="--smoke" [memory]="--smoke"
	      [memory_threads]="--smoke")
	CG_PAIRS=2000
	;;
esac
case "$RUNS" in ''|*[!0-9]*|0) die "--runs wants a positive number" ;; esac
PROGRAMS="slab_test threads mix memory memory_threads"

# ----------------------------------------------------------------- build

if [ "$DO_BUILD" = 1 ]; then
	command -v cmake >/dev/null || die "cmake is not installed"
	if [ ! -f "$BUILD/CMakeCache.txt" ]; then
		say "configuring $BUILD"
		cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >&2 ||
			die "cmake configure failed"
	fi
	say "building the benchmark programs"
	cmake --build "$BUILD" --target bench_peer_programs -j "$JOBS" >&2 ||
		die "the benchmark programs (malloc flavour) do not build"
fi

# The uslab flavours link the library, which may not build yet: say so
# plainly and go on with the peers.
USLAB_BUILT=1
if [ "$DO_BUILD" = 1 ]; then
	if ! cmake --build "$BUILD" --target bench_uslab_programs -j "$JOBS" \
		>"$RAWDIR/build-uslab.log" 2>&1; then
		USLAB_BUILT=0
		say "the uslab flavours (kmalloc, kmem_cache) failed to build; last lines of $RAWDIR/build-uslab.log:"
		grep -E 'error|Error' "$RAWDIR/build-uslab.log" | head -15 >&2
		tail -n 5 "$RAWDIR/build-uslab.log" >&2
		note "uslab-kmalloc, uslab-kmem_cache, uslab-slab-kmalloc, uslab-slab-kmem_cache: the library or the programs failed to build (see $RAWDIR/build-uslab.log); skipped"
	fi
	# The malloc shim, if the build defines it.
	# (not "| grep -q": under pipefail, grep's early exit fails the pipe)
	targets=$(cmake --build "$BUILD" --target help 2>/dev/null || true)
	if printf '%s\n' "$targets" | grep -E '(^|[ .])uslab-malloc($|[ :])' >/dev/null; then
		cmake --build "$BUILD" --target uslab-malloc -j "$JOBS" \
			>"$RAWDIR/build-shim.log" 2>&1 ||
			note "uslab-shim: target uslab-malloc failed to build (see $RAWDIR/build-shim.log)"
	fi
fi

# ------------------------------------------------------- peer packages

is_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# install PACKAGE: if it is missing, install it when we may, else say how.
ensure_package() {
	local pkg=$1
	command -v dpkg-query >/dev/null || return 1
	is_installed "$pkg" && return 0
	if [ "$DO_INSTALL" = 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		say "installing $pkg"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg" >&2 ||
			{ DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 &&
			  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg" >&2; }
		is_installed "$pkg" && return 0
	fi
	return 1
}

MULTIARCH=$(gcc -print-multiarch 2>/dev/null || true)
# find_lib SONAME: the path of an installed shared library, or nothing.
find_lib() {
	local soname=$1 dir
	for dir in ${MULTIARCH:+/usr/lib/$MULTIARCH /lib/$MULTIARCH} /usr/lib64 /usr/lib /usr/local/lib; do
		[ -e "$dir/$soname" ] && { echo "$dir/$soname"; return 0; }
	done
	/sbin/ldconfig -p 2>/dev/null | awk -v s="$soname" '$1 == s { print $NF; exit }'
}

# Each allocator: the program flavour, what to preload, a pattern the path
# of its malloc (kmalloc) must match, and for uslab the back end that must
# run (uslab_allocator(), "slub" or "slab") and the environment that picks
# it.  SLUB's runs set USLAB_ALLOCATOR=slub too, so that an exported
# USLAB_ALLOCATOR cannot turn them into SLAB runs.
declare -A FLAVOUR PRELOAD EXPECT PACKAGE SONAME USLAB_BE RUN_ENV
ALL_ALLOCATORS="glibc jemalloc tcmalloc mimalloc uslab-kmalloc uslab-kmem_cache uslab-shim
	uslab-slab-kmalloc uslab-slab-kmem_cache uslab-slab-shim"
FLAVOUR=([glibc]=malloc [jemalloc]=malloc [tcmalloc]=malloc [mimalloc]=malloc
	[uslab-kmalloc]=kmalloc [uslab-kmem_cache]=kmem_cache [uslab-shim]=malloc
	[uslab-slab-kmalloc]=kmalloc [uslab-slab-kmem_cache]=kmem_cache
	[uslab-slab-shim]=malloc)
EXPECT=([glibc]='/libc[.-]' [jemalloc]='libjemalloc' [tcmalloc]='libtcmalloc'
	[mimalloc]='libmimalloc' [uslab-kmalloc]='libuslab|/bench_'
	[uslab-kmem_cache]='libuslab|/bench_' [uslab-shim]='libuslab-malloc'
	[uslab-slab-kmalloc]='libuslab|/bench_'
	[uslab-slab-kmem_cache]='libuslab|/bench_' [uslab-slab-shim]='libuslab-malloc')
USLAB_BE=([uslab-kmalloc]=slub [uslab-kmem_cache]=slub [uslab-shim]=slub
	[uslab-slab-kmalloc]=slab [uslab-slab-kmem_cache]=slab [uslab-slab-shim]=slab)
for a in "${!USLAB_BE[@]}"; do
	RUN_ENV[$a]="USLAB_ALLOCATOR=${USLAB_BE[$a]}"
done
PACKAGE=([jemalloc]=libjemalloc2 [tcmalloc]=libtcmalloc-minimal4 [mimalloc]=libmimalloc2.0)
SONAME=([jemalloc]=libjemalloc.so.2 [tcmalloc]=libtcmalloc_minimal.so.4 [mimalloc]=libmimalloc.so.2)

wanted() {
	[ -z "$ONLY" ] && return 0
	case ",$ONLY," in *",$1,"*) return 0 ;; esac
	return 1
}

ALLOCATORS=""
for a in $ALL_ALLOCATORS; do
	if ! wanted "$a"; then
		case "$a" in uslab-*) note "$a: not selected (--allocators $ONLY)" ;; esac
		continue
	fi
	case "$a" in
	jemalloc|tcmalloc|mimalloc)
		if ! ensure_package "${PACKAGE[$a]}" && [ -z "$(find_lib "${SONAME[$a]}")" ]; then
			note "$a: package ${PACKAGE[$a]} is not installed (apt-get install ${PACKAGE[$a]}); skipped"
			continue
		fi
		PRELOAD[$a]=$(find_lib "${SONAME[$a]}")
		if [ -z "${PRELOAD[$a]}" ]; then
			note "$a: ${SONAME[$a]} not found although ${PACKAGE[$a]} is installed; skipped"
			continue
		fi
		;;
	uslab-kmalloc|uslab-kmem_cache|uslab-slab-kmalloc|uslab-slab-kmem_cache)
		[ "$USLAB_BUILT" = 1 ] || continue
		PRELOAD[$a]=""
		;;
	uslab-shim|uslab-slab-shim)
		shim=$BUILD/libuslab-malloc.so
		[ -e "$shim" ] || shim=$(find "$BUILD" -maxdepth 3 -name 'libuslab-malloc.so' -print -quit 2>/dev/null)
		if [ -z "$shim" ]; then
			note "$a: $BUILD/libuslab-malloc.so does not exist (no malloc shim built yet); skipped"
			continue
		fi
		PRELOAD[$a]=$shim
		;;
	*)
		PRELOAD[$a]=""
		;;
	esac
	ALLOCATORS="$ALLOCATORS $a"
done

# Check that each allocator is what runs, before spending time on it.
exe_of() { echo "$BIN/bench_$2_${FLAVOUR[$1]}"; }
# run_env ALLOCATOR COMMAND...: COMMAND with the allocator's preload and
# environment (USLAB_ALLOCATOR for uslab's).
run_env() {
	local a=$1; shift
	local -a vars=()
	[ -n "${PRELOAD[$a]:-}" ] && vars+=("LD_PRELOAD=${PRELOAD[$a]}")
	# shellcheck disable=SC2206  # VAR=value words, no spaces in them
	[ -n "${RUN_ENV[$a]:-}" ] && vars+=(${RUN_ENV[$a]})
	if [ ${#vars[@]} -gt 0 ]; then
		env "${vars[@]}" "$@"
	else
		"$@"
	fi
}
# uslab_be_of OUTPUT: the back end a program said it ran on ("" if none).
uslab_be_of() {
	printf '%s\n' "$1" | awk '$1 == "INFO" && $2 == "uslab_allocator" { print $3 }'
}

CHECKED=""
for a in $ALLOCATORS; do
	exe=$(exe_of "$a" fastpath)
	if [ ! -x "$exe" ]; then
		note "$a: $exe is missing (build the bench targets first); skipped"
		continue
	fi
	if ! out=$(run_env "$a" "$exe" --smoke 2>"$RAWDIR/check.$a.err"); then
		note "$a: $exe --smoke failed: $(tail -n 3 "$RAWDIR/check.$a.err" | tr '\n' ' ')"
		FAILED=1
		continue
	fi
	from=$(printf '%s\n' "$out" | awk '$1 == "INFO" && $2 == "alloc_from" { print $3 }')
	if ! printf '%s\n' "$from" | grep -qE "${EXPECT[$a]}"; then
		note "$a: allocation calls resolve to '$from', not to ${EXPECT[$a]} (preload ${PRELOAD[$a]:-none} did not take effect?); skipped"
		continue
	fi
	be=$(uslab_be_of "$out")
	if [ -n "${USLAB_BE[$a]:-}" ] && [ "$be" != "${USLAB_BE[$a]}" ]; then
		# Loud: a back end that silently fell back would be reported
		# under the wrong name.
		note "$a: uslab runs the '${be:-?}' back end, not '${USLAB_BE[$a]}' (${RUN_ENV[$a]} not honoured?); skipped"
		FAILED=1
		continue
	fi
	rm -f "$RAWDIR/check.$a.err"
	printf '%s\t0\tcheck\tINFO alloc_from %s\n' "$a" "$from" >>"$RAW"
	[ -n "$be" ] && printf '%s\t0\tcheck\tINFO uslab_allocator %s\n' "$a" "$be" >>"$RAW"
	[ -n "${PRELOAD[$a]}" ] && printf '%s\t0\tcheck\tINFO preload %s\n' "$a" "${PRELOAD[$a]}" >>"$RAW"
	[ -n "${RUN_ENV[$a]:-}" ] && printf '%s\t0\tcheck\tINFO env %s\n' "$a" "${RUN_ENV[$a]}" >>"$RAW"
	CHECKED="$CHECKED $a"
done
ALLOCATORS=$CHECKED
[ -n "$ALLOCATORS" ] || die "no allocator left to measure"
say "mode $MODE, $RUNS run(s), allocators:$ALLOCATORS"

# ------------------------------------------------------------------ runs

# run_one ALLOCATOR RUN PROGRAM ARGS...: append its lines, tagged, to RAW.
run_one() {
	local a=$1 r=$2 prog=$3; shift 3
	local exe out rc err=$RAWDIR/$prog.$a.$r.err
	exe=$(exe_of "$a" "$prog")
	out=$(run_env "$a" "$exe" "$@" 2>"$err")
	rc=$?
	printf '%s\n' "$out" | awk -v a="$a" -v r="$r" -v p="$prog" \
		'$1 == "RESULT" || $1 == "INFO" { printf "%s\t%s\t%s\t%s\n", a, r, p, $0 }' >>"$RAW"
	if [ $rc -ne 0 ]; then
		note "$a: $prog run $r failed (exit $rc): $(tail -n 3 "$err" | tr '\n' ' ')"
		FAILED=1
	else
		rm -f "$err"
	fi
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)
start=$(date +%s)
for r in $(seq 1 "$RUNS"); do
	for prog in $PROGRAMS; do
		say "run $r/$RUNS: $prog"
		for a in $ALLOCATORS; do
			# shellcheck disable=SC2086  # the argument list is meant to split
			run_one "$a" "$r" "$prog" ${ARGS[$prog]}
		done
	done
done

# ------------------------------------------------------------- callgrind

if [ "$DO_CALLGRIND" = 1 ] && ! command -v valgrind >/dev/null; then
	ensure_package valgrind || true
fi
if [ "$DO_CALLGRIND" = 1 ] && command -v valgrind >/dev/null; then
	cg_allocators=$ALLOCATORS
	cg_modes="pair batch"
	if [ "$MODE" = smoke ]; then
		# One short count proves the pipeline; more would only cost time.
		cg_allocators=$(echo "$ALLOCATORS" | awk '{ print $1 }')
		cg_modes=pair
	fi
	for a in $cg_allocators; do
		for mode in $cg_modes; do
			say "callgrind: $a fastpath/$mode"
			exe=$(exe_of "$a" fastpath)
			cg=$RAWDIR/callgrind.$a.$mode.out
			if ! run_env "$a" valgrind --tool=callgrind --callgrind-out-file="$cg" \
				--toggle-collect="bench_fastpath_$mode" \
				"$exe" --mode "$mode" --pairs "$CG_PAIRS" \
				>"$RAWDIR/callgrind.$a.$mode.stdout" 2>"$RAWDIR/callgrind.$a.$mode.err"; then
				note "$a: callgrind of fastpath/$mode failed: $(tail -n 3 "$RAWDIR/callgrind.$a.$mode.err" | tr '\n' ' ')"
				FAILED=1
				continue
			fi
			cg_checks=()
			[ "$a" = glibc ] || cg_checks=(--not-glibc)
			[ -n "${USLAB_BE[$a]:-}" ] && cg_checks+=(--expect-uslab "${USLAB_BE[$a]}")
			if ! line=$("$PYTHON" "$BENCH_SRC/report.py" --callgrind "$cg" \
				--pairs "$CG_PAIRS" --workload "fastpath/$mode" --exe "$exe" \
				--expect "${EXPECT[$a]}" --program-output "$RAWDIR/callgrind.$a.$mode.stdout" \
				"${cg_checks[@]}"); then
				note "$a: callgrind count of fastpath/$mode rejected (see above)"
				FAILED=1
				continue
			fi
			printf '%s\n' "$line" | awk -v a="$a" \
				'{ printf "%s\t1\tfastpath\t%s\n", a, $0 }' >>"$RAW"
		done
	done
elif [ "$DO_CALLGRIND" = 1 ]; then
	note "valgrind is not installed (apt-get install valgrind): no instruction counts"
fi
say "measured in $(( $(date +%s) - start )) s"

# ---------------------------------------------------------------- report

case "$MODE" in
full) COMMAND="make bench   (bench/run.sh)" ;;
quick) COMMAND="make bench BENCH_QUICK=1   (bench/run.sh --quick)" ;;
smoke) COMMAND="bench/run.sh --smoke" ;;
esac
[ -n "$ORIG_ARGS" ] && COMMAND="$COMMAND; run.sh arguments: $ORIG_ARGS"

if ! command -v gnuplot >/dev/null && ! ensure_package gnuplot-nox; then
	note "gnuplot is not installed (apt-get install gnuplot-nox): no chart"
fi

"$PYTHON" "$BENCH_SRC/report.py" --raw "$RAW" --out-dir "$OUT" --mode "$MODE" \
	--runs "$RUNS" --command "$COMMAND" --load "$LOAD_BEFORE" || die "report.py failed"
if [ "$DO_MARKDOWN" = 1 ]; then
	"$PYTHON" "$BENCH_SRC/report.py" --markdown --json "$OUT/latest.json" \
		--output "$ROOT/BENCHMARKS.md" || die "report.py --markdown failed"
	say "wrote $ROOT/BENCHMARKS.md"
fi
if [ "$FAILED" != 0 ]; then
	say "some runs failed; see the notes above"
	exit 1
fi
exit 0
