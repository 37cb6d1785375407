#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# install-deps.sh - the Debian packages the tests run when they are there:
# python3 and its regression tests, sqlite3, perl, git, gcc, coreutils,
# binutils (objdump) for real_programs.sh; valgrind (its memcheck.h too)
# for sanitize.valgrind and bench/entry_counts.sh.
#
#   install-deps.sh           install what is missing, with apt-get's own
#                             output (root; `make deps` runs this)
#   install-deps.sh --check   install nothing: list what is missing and the
#                             command that installs it (real_programs.sh)
#
# Exit status: 0 when nothing is (or is any longer) missing, 1 otherwise,
# 2 for a bad argument.  Nothing is ever installed by the test suite itself.
set -u

mode=install
case "${1:-}" in
"") ;;
--check) mode=check ;;
*)
	echo "usage: $0 [--check]" >&2
	exit 2
	;;
esac

py_ver=$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true)
want=(coreutils sqlite3 perl git gcc libc6-dev binutils python3 valgrind)
[ -n "$py_ver" ] && want+=("libpython${py_ver}-testsuite")

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "install-deps: not a Debian system (no dpkg-query); install by hand: ${want[*]}"
	exit 1
fi

installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

missing_packages() {
	local p
	for p in "${want[@]}"; do
		installed "$p" || printf '%s\n' "$p"
	done
}

mapfile -t missing < <(missing_packages)
[ ${#missing[@]} -eq 0 ] && exit 0

apt_args=(install -y --no-install-recommends)
sudo=
[ "$(id -u)" -ne 0 ] && sudo="sudo "
if [ "$mode" = check ]; then
	echo "missing Debian packages: ${missing[*]}"
	echo "install them with: ${sudo}apt-get ${apt_args[*]} ${missing[*]}"
	echo "             or: make deps"
	exit 1
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing ${missing[*]}; installing needs root:"
	echo "    sudo $0"
	exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "install-deps: no apt-get; install by hand: ${missing[*]}"
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
run() {
	echo "+ $*"
	"$@" </dev/null
}

# A package the lists do not know yet (a fresh machine, or a stale list):
# update once, then try again.
if ! run apt-get "${apt_args[@]}" "${missing[@]}"; then
	run apt-get update
	run apt-get "${apt_args[@]}" "${missing[@]}"
fi

# python3 was missing: its testsuite package is named after its version,
# which only the python3 just installed can tell.  Once more, for that.
if [ -z "$py_ver" ] && [ -x /usr/bin/python3 ]; then
	exec bash "$0"
fi

mapfile -t still < <(missing_packages)
if [ ${#still[@]} -gt 0 ]; then
	echo "install-deps: still missing: ${still[*]}"
	exit 1
fi
echo "install-deps: installed ${missing[*]}"
exit 0
