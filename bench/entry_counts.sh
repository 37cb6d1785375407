#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# entry_counts.sh [BUILD_DIR] - instructions per call of each fast-path entry
# point (kmem_cache_alloc/free, kmalloc/kfree, and the shim's malloc/free),
# counted by callgrind over 100000 alloc/free pairs of 64 bytes in
# bench/fastpath's pair loop, on each back end (USLAB_ALLOCATOR=slub, the
# default, and slab; ENTRY_BACKENDS="slab" for one); the numbers in
# docs/checks.md (SLUB) and docs/slab.md (SLAB) come from here.  Each line
# starts with the back end the program said it ran on (uslab_allocator()),
# and a back end other than the one asked for is an error.
# Callgrind counts instructions, so the result does not depend on the load.
set -euo pipefail
command -v valgrind >/dev/null || { echo "entry_counts.sh: valgrind is not installed" >&2; exit 1; }
B=${1:-build}; N=100000; out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for be in ${ENTRY_BACKENDS:-slub slab}; do
 for v in kmem_cache kmalloc malloc; do
  pre=""; [ $v = malloc ] && pre="LD_PRELOAD=$B/libuslab-malloc.so"
  env USLAB_ALLOCATOR=$be $pre valgrind --tool=callgrind --callgrind-out-file=$out/cg.$be.$v \
    --toggle-collect=bench_fastpath_pair \
    $B/bench/bench_fastpath_$v --mode pair --pairs $N >$out/stdout.$be.$v 2>/dev/null
  ran=$(awk '$1 == "INFO" && $2 == "uslab_allocator" { print $3 }' $out/stdout.$be.$v)
  if [ "$ran" != "$be" ]; then
    echo "entry_counts.sh: USLAB_ALLOCATOR=$be but bench_fastpath_$v ran on '${ran:-?}'" >&2
    exit 1
  fi
  callgrind_annotate --inclusive=yes --threshold=100 $out/cg.$be.$v 2>/dev/null |
   awk -v n=$N -v v=$v -v be=$ran '$2 ~ /^\(/ && $3 ~ /:(kmem_cache_alloc|kmem_cache_free|kmalloc|kfree|malloc|free)$/ || $3 ~ /:(kmem_cache_alloc|kmem_cache_free|kmalloc|kfree|malloc|free) *$/ {
      split($3,a,":"); f=a[2]; gsub(/,/,"",$1); if ($1+0 > m[f]) m[f]=$1+0 }
      /bench_fastpath_pair/ && !t { gsub(/,/,"",$1); t=$1+0 }
      END { printf "%-5s %-10s pair %.1f", be, v, t/n; for (f in m) printf "  %s %.1f", f, m[f]/n; printf "\n" }'
 done
done
