#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench/counters.sh - how often each benchmark workload takes uslab's fast
# paths and slow paths, from the library's statistics counters
# (docs/observability.md), on SLUB and on SLAB.
#
#   bench/counters.sh            quick parameters (those of run.sh --quick)
#   bench/counters.sh --smoke    tiny parameters, seconds
#   bench/counters.sh --full     run.sh's full parameters
#
# Each uslab workload runs once per allocator (uslab-kmalloc,
# uslab-kmem_cache, uslab-shim on SLUB, uslab-slab-* on SLAB: the same
# programs and environments as run.sh) with USLAB_STATS=json, which makes
# the library print one JSON document per process to stderr at exit.  The
# workloads are run one per process so that each has its own counts:
# slab_test per object size (its alloc, free and pair loops together),
# threads per test and thread count, mix per working set, memory,
# memory_threads, and fastpath per mode.  Counts do not depend on timing, so one short run is
# enough; the threaded ones vary a little with scheduling.
# BENCH_KEEP_CACHES=1 keeps the kmem_cache programs from destroying their
# caches, so that a cache that did not merge into a kmalloc cache still has
# its counters at exit.
#
# report.py --counters sums the counters over all caches (and documents),
# writes results/counters.{json,txt}, bench/counters.md (the section of
# BENCHMARKS.md, kept like slab_or_slub.md so that report.py --markdown
# includes it) and puts that section into BENCHMARKS.md in place; the
# timing tables are left as they are.  --smoke and --no-markdown write
# only under the results directory.
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_SRC=$ROOT/bench
BUILD=${BENCH_BUILD_DIR:-$ROOT/build}
BIN=""
OUT=${BENCH_OUT_DIR:-$ROOT/bench/results}
PYTHON=${PYTHON:-python3}
JOBS=${BENCH_JOBS:-$(nproc 2>/dev/null || echo 2)}
MODE=quick
ONLY=""
DO_BUILD=1 DO_MARKDOWN=1

usage() {
	sed -n '4,30p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	cat <<-EOF

	options:
	  --quick | --smoke | --full   how long each workload runs (default --quick)
	  --allocators a,b,...         only these (uslab-kmalloc, uslab-kmem_cache,
	                               uslab-shim, uslab-slab-kmalloc,
	                               uslab-slab-kmem_cache, uslab-slab-shim)
	  --no-build                   use the library and programs already built
	  --no-markdown                leave bench/counters.md and BENCHMARKS.md alone
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
	--allocators) ONLY=$2; shift ;;
	--no-build) DO_BUILD=0 ;;
	--no-markdown) DO_MARKDOWN=0 ;;
	--build-dir) BUILD=$2; shift ;;
	--bench-dir) BIN=$2; shift ;;
	--out-dir) OUT=$2; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "counters.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
BIN=${BIN:-$BUILD/bench}
RAWDIR=$OUT/raw
RAW=$RAWDIR/counters.tsv

say() { printf '%s\n' "counters: $*" >&2; }
die() { say "error: $*"; exit 1; }

mkdir -p "$RAWDIR" || die "cannot create $RAWDIR"
: >"$RAW"

# ------------------------------------------------------------ parameters
#
# The same parameters as run.sh's modes (keep them in step), and the same
# lists the programs use by default: slab_test's sizes, threads' thread
# counts (1, 2, 4, ... up to 2 x CPUs; remote only for even counts, pass
# from 2), mix's working sets.
declare -A ARGS
case "$MODE" in
full)
	ARGS=([slab_test]="" [threads]="" [mix]="" [memory]="" [memory_threads]="")
	FP_PAIRS=200000
	;;
quick)
	ARGS=([slab_test]="--reps 5"
	      [threads]="--ops 500000 --remote-ops 200000 --larson-rounds 4 --larson-ops 100000 --pass-rounds 500"
	      [mix]="--ops 1000000"
	      [memory]=""
	      [memory_threads]="")
	FP_PAIRS=100000
	;;
smoke)
	ARGS=([slab_test]="--smoke" [threads]="--smoke" [mix]="--smoke" [memory]="--smoke"
	      [memory_threads]="--smoke")
	FP_PAIRS=2000
	;;
esac
SIZES="8 16 32 64 128 256 512 1024 2048 4096 8192 16384"
WS="1000 100000"
[ "$MODE" = smoke ] && WS="100 1000"
ncpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
max=$((2 * ncpus))
[ "$MODE" = smoke ] && max=2
THREADS=""
for ((n = 1; n < max; n *= 2)); do THREADS="$THREADS $n"; done
THREADS="$THREADS $max"

# WORKLOADS: "name|program|arguments", in the order of the timing table.
WORKLOADS=()
for s in $SIZES; do
	WORKLOADS+=("slab/$s|slab_test|${ARGS[slab_test]} --min-size $s --max-size $s")
done
for t in local remote larson pass; do
	for n in $THREADS; do
		[ "$t" = remote ] && [ $((n % 2)) -ne 0 ] && continue
		[ "$t" = pass ] && [ "$n" -lt 2 ] && continue
		WORKLOADS+=("threads/$t/${n}t|threads|${ARGS[threads]} --tests $t --threads $n")
	done
done
for w in $WS; do
	WORKLOADS+=("mix/ws$w|mix|${ARGS[mix]} --ws $w")
done
WORKLOADS+=("memory|memory|${ARGS[memory]}")
WORKLOADS+=("memory_threads|memory_threads|${ARGS[memory_threads]}")
for m in pair batch; do
	WORKLOADS+=("fastpath/$m|fastpath|--mode $m --pairs $FP_PAIRS")
done

# ----------------------------------------------------------------- build

if [ "$DO_BUILD" = 1 ]; then
	command -v cmake >/dev/null || die "cmake is not installed"
	[ -f "$BUILD/CMakeCache.txt" ] || die "$BUILD is not a CMake build tree (run make, or bench/run.sh, first)"
	say "building the library, the malloc shim and the benchmark programs"
	cmake --build "$BUILD" --target uslab uslab-malloc bench_peer_programs bench_uslab_programs \
		-j "$JOBS" >"$RAWDIR/build-counters.log" 2>&1 ||
		{ tail -n 20 "$RAWDIR/build-counters.log" >&2; die "the build failed (see $RAWDIR/build-counters.log)"; }
fi

# ------------------------------------------------------------ allocators
#
# As in run.sh: the program flavour, the preload, the back end.

declare -A FLAVOUR PRELOAD USLAB_BE
ALL_ALLOCATORS="uslab-kmalloc uslab-kmem_cache uslab-shim uslab-slab-kmalloc uslab-slab-kmem_cache uslab-slab-shim"
FLAVOUR=([uslab-kmalloc]=kmalloc [uslab-kmem_cache]=kmem_cache [uslab-shim]=malloc
	[uslab-slab-kmalloc]=kmalloc [uslab-slab-kmem_cache]=kmem_cache [uslab-slab-shim]=malloc)
USLAB_BE=([uslab-kmalloc]=slub [uslab-kmem_cache]=slub [uslab-shim]=slub
	[uslab-slab-kmalloc]=slab [uslab-slab-kmem_cache]=slab [uslab-slab-shim]=slab)
shim=$BUILD/libuslab-malloc.so
[ -e "$shim" ] || shim=$(find "$BUILD" -maxdepth 3 -name 'libuslab-malloc.so' -print -quit 2>/dev/null)

ALLOCATORS=""
for a in $ALL_ALLOCATORS; do
	if [ -n "$ONLY" ]; then
		case ",$ONLY," in *",$a,"*) ;; *) continue ;; esac
	fi
	PRELOAD[$a]=""
	if [ "${FLAVOUR[$a]}" = malloc ]; then
		if [ -z "$shim" ]; then
			say "NOTE: $a: no libuslab-malloc.so in $BUILD; skipped"
			continue
		fi
		PRELOAD[$a]=$shim
	fi
	ALLOCATORS="$ALLOCATORS $a"
done
[ -n "$ALLOCATORS" ] || die "no allocator selected"

# ------------------------------------------------------------------ runs

FAILED=0
start=$(date +%s)
say "mode $MODE, ${#WORKLOADS[@]} workloads, allocators:$ALLOCATORS"
for a in $ALLOCATORS; do
	say "$a"
	for w in "${WORKLOADS[@]}"; do
		IFS='|' read -r name prog args <<<"$w"
		exe=$BIN/bench_${prog}_${FLAVOUR[$a]}
		[ -x "$exe" ] || die "$exe is missing (build the bench targets, or drop --no-build)"
		vars=("USLAB_ALLOCATOR=${USLAB_BE[$a]}" USLAB_STATS=json BENCH_KEEP_CACHES=1)
		[ -n "${PRELOAD[$a]}" ] && vars+=("LD_PRELOAD=${PRELOAD[$a]}")
		err=$RAWDIR/counters.err
		# shellcheck disable=SC2086  # the argument list is meant to split
		if ! out=$(env "${vars[@]}" "$exe" $args 2>"$err"); then
			say "$a: $name failed: $(grep -v '^{"uslab_stats"' "$err" | tail -n 3 | tr '\n' ' ')"
			FAILED=1
			continue
		fi
		be=$(printf '%s\n' "$out" | awk '$1 == "INFO" && $2 == "uslab_allocator" { print $3 }')
		if [ "$be" != "${USLAB_BE[$a]}" ]; then
			say "$a: $name ran on uslab's '${be:-?}' back end, not '${USLAB_BE[$a]}'"
			FAILED=1
			continue
		fi
		# The documents (one per process) are whole lines of their own;
		# anything else on stderr is the program's.
		docs=$(grep '^{"uslab_stats"' "$err")
		if [ -z "$docs" ]; then
			die "$a: $name printed no statistics (USLAB_STATS=json): is $BUILD's library older than the counters? (nm -D $BUILD/libuslab.so | grep uslab_stats_json)"
		fi
		printf '%s\n' "$docs" | awk -v a="$a" -v n="$name" -v p="$prog $args" \
			'{ printf "%s\t%s\t%s\t%s\n", a, n, p, $0 }' >>"$RAW"
	done
done
rm -f "$RAWDIR/counters.err"
say "ran in $(( $(date +%s) - start )) s"

# ---------------------------------------------------------------- report

case "$MODE" in
quick) COMMAND="bench/counters.sh" ;;
*) COMMAND="bench/counters.sh --$MODE" ;;
esac
[ -n "$ONLY" ] && COMMAND="$COMMAND --allocators $ONLY"
report=("$PYTHON" "$BENCH_SRC/report.py" --counters "$RAW" --out-dir "$OUT"
	--mode "$MODE" --command "$COMMAND")
# A smoke run (ctest, trying the script) never touches the tracked files.
if [ "$DO_MARKDOWN" = 1 ] && [ "$MODE" != smoke ]; then
	report+=(--section "$BENCH_SRC/counters.md" --output "$ROOT/BENCHMARKS.md")
fi
"${report[@]}" || die "report.py --counters failed"
if [ "$FAILED" != 0 ]; then
	say "some runs failed; see above"
	exit 1
fi
exit 0
