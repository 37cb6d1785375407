#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# valgrind.sh HAVE_VALGRIND KERNEL_API_PROGRAM SHIM_PROGRAM SHIM_LIBRARY
#
# valgrind memcheck over uslab, both ways (src/sanitize.c):
#   - a correct program gets "ERROR SUMMARY: 0 errors", leak check
#     included: vg_kernel_api on the kernel API (SLUB and SLAB), and
#     vg_shim under the malloc shim (SLUB and SLAB), run with
#     --soname-synonyms=somalloc=nouserintercepts so that memcheck leaves
#     the shim's malloc in place; without that option memcheck's own
#     malloc runs, and the shim says so;
#   - each mistake is reported, in the function that makes it: a use
#     after free (read and write), a branch on uninitialised kmalloc
#     memory, a leak ("definitely lost", with the allocating function), a
#     double free (by uslab too), a write past a kmem_cache object, a use
#     of a freed kmalloc_large block and of freed pages.
# HAVE_VALGRIND is 0 when uslab was built without valgrind/memcheck.h:
# then, and when valgrind is not installed, the test is SKIPPED (exit 77).
# SHIM_LIBRARY may be empty (no shim built): the shim cases are left out.
set -u

have=$1 api=$2 shim_prog=$3 shim_lib=${4:-}

if [ "$have" != 1 ]; then
	echo "SKIPPED: uslab was built without valgrind/memcheck.h (make deps installs valgrind; then reconfigure)"
	exit 77
fi
if ! command -v valgrind >/dev/null 2>&1; then
	echo "SKIPPED: valgrind is not installed (make deps installs it)"
	exit 77
fi

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
pass=0 fail=0

# Memcheck's options for every run: errors make the exit status 99; a
# definite or possible leak counts as an error.
VG=(valgrind --tool=memcheck --error-exitcode=99 --leak-check=full
    --show-leak-kinds=definite,possible --errors-for-leak-kinds=definite,possible
    --num-callers=40)

# run NAME [VAR=value | --valgrind-option ...] -- PROGRAM ARGS...: memcheck's
# log in $dir/NAME.log (every process of the run), the exit status in $rc.
run() {
	local name=$1
	shift
	local envs=() opts=()
	while [ "$1" != -- ]; do
		case $1 in
		--*) opts+=("$1") ;;
		*) envs+=("$1") ;;
		esac
		shift
	done
	shift
	env "${envs[@]}" "${VG[@]}" "${opts[@]}" --log-file="$dir/$name.%p.log" "$@" \
		>"$dir/$name.out" 2>"$dir/$name.err"
	rc=$?
	cat "$dir/$name".*.log >"$dir/$name.log" 2>/dev/null
}

ok() {
	pass=$((pass + 1))
	echo "ok - $1"
}

bad() {
	fail=$((fail + 1))
	echo "FAIL - $1"
	echo "---- memcheck's log:"
	sed 's/^/    /' "$dir/$2.log"
	echo "---- the program's stdout and stderr:"
	sed 's/^/    /' "$dir/$2.out" "$dir/$2.err"
	echo "----"
}

# clean NAME [VAR=value ...] -- PROGRAM ARGS...: no error at all, exit 0.
clean() {
	local name=$1
	run "$@"
	local summaries bad_summaries
	summaries=$(grep -c "ERROR SUMMARY:" "$dir/$name.log")
	bad_summaries=$(grep "ERROR SUMMARY:" "$dir/$name.log" | grep -vc "ERROR SUMMARY: 0 errors")
	if [ "$rc" = 0 ] && [ "$summaries" -ge 1 ] && [ "$bad_summaries" = 0 ]; then
		ok "$name: $(grep -h "ERROR SUMMARY" "$dir/$name.log" | sed 's/^==[0-9]*== //' | sort | uniq -c | sed 's/^ *//')"
	else
		bad "$name: expected exit 0 and ERROR SUMMARY: 0 errors, got exit $rc" "$name"
	fi
}

# found NAME 'PATTERN' FUNCTION: in run NAME's log, memcheck reported
# PATTERN (an extended regular expression) with FUNCTION in the stack of
# the access or allocation it is about (not the stacks of where the block
# was freed or allocated, which follow an "Address ..." line).
found() {
	local name=$1 pattern=$2 func=$3
	if [ "$rc" != 0 ] && awk -v pat="$pattern" -v fn="$func" '
		{ sub(/^==[0-9]+== /, "") }
		$0 ~ pat { inrep = 1; next }
		inrep && ($0 == "" || $0 ~ /^ *(Address|Block was)/) { inrep = 0 }
		inrep && index($0, fn) { found = 1 }
		END { exit !found }' "$dir/$name.log"; then
		ok "$name: memcheck reports \"$pattern\" in $func"
	else
		bad "$name: expected memcheck to report /$pattern/ in $func (exit $rc)" "$name"
	fi
}

echo "valgrind: $(valgrind --version)"

# A correct program: not one error, on both back ends.
clean api.clean.slub USLAB_ALLOCATOR=slub -- "$api" clean
clean api.clean.slab USLAB_ALLOCATOR=slab -- "$api" clean

# Mistakes, each reported where it is made: one run makes all those that
# do not stop the program (vg_kernel_api.c, mistakes()).
for be in slub slab; do
	run api.mistakes.$be USLAB_ALLOCATOR=$be -- "$api" mistakes
	found api.mistakes.$be 'Invalid write of size' use_after_free
	found api.mistakes.$be 'Invalid read of size' read_after_free
	found api.mistakes.$be 'Conditional jump or move depends on uninitialised value' uninit_branch
	found api.mistakes.$be 'Invalid write of size 1' write_past_end
	found api.mistakes.$be 'Invalid write of size' large_after_free
	found api.mistakes.$be 'Invalid write of size' page_after_free
	found api.mistakes.$be 'definitely lost' leak_objects
	# kmalloc(100) is a 128-byte block (its class), the kmem_cache object 52.
	if grep -q "128 bytes in 1 blocks are definitely lost" "$dir/api.mistakes.$be.log" &&
	   grep -q "52 bytes in 1 blocks are definitely lost" "$dir/api.mistakes.$be.log"; then
		ok "api.mistakes.$be: both leaked blocks, the kmalloc'd and the kmem_cache_alloc'd, are listed"
	else
		bad "api.mistakes.$be: the kmalloc'd and the kmem_cache_alloc'd block should both be definitely lost" api.mistakes.$be
	fi
	if [ "$rc" != 99 ]; then
		bad "api.mistakes.$be: expected memcheck's exit status 99, got $rc" api.mistakes.$be
	fi
done
run api.double_free -- "$api" double_free
found api.double_free 'Invalid free' free_twice
if grep -q "Object already free" "$dir/api.double_free.err"; then
	ok "api.double_free: uslab reports it too"
else
	bad "api.double_free: uslab's own report is missing" api.double_free
fi

if [ -n "$shim_lib" ]; then
	# Memcheck puts its own malloc in place of every library's that exports
	# one, the shim's too, unless told not to: then the shim serves, and
	# the program (vg_shim checks that its blocks are uslab's) is checked
	# on it.
	own=--soname-synonyms=somalloc=nouserintercepts
	clean shim.clean "$own" LD_PRELOAD="$shim_lib" -- "$shim_prog" clean
	clean shim.clean.slab "$own" LD_PRELOAD="$shim_lib" USLAB_ALLOCATOR=slab -- "$shim_prog" clean
	run shim.mistakes "$own" LD_PRELOAD="$shim_lib" -- "$shim_prog" mistakes
	found shim.mistakes 'Invalid write of size' shim_use_after_free
	found shim.mistakes 'Conditional jump or move depends on uninitialised value' shim_uninit
	found shim.mistakes 'definitely lost' shim_leak
	# Without it, memcheck's malloc runs; the shim says so, and nothing fails.
	clean shim.replaced LD_PRELOAD="$shim_lib" -- "$shim_prog" clean-any
	if grep -q "somalloc=nouserintercepts" "$dir/shim.replaced.err"; then
		ok "shim.replaced: the shim says memcheck's malloc replaced it"
	else
		bad "shim.replaced: no notice that memcheck's malloc replaced the shim" shim.replaced
	fi
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
