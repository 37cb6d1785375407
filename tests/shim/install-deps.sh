#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# install-deps.sh - install the Debian packages that real_programs.sh runs:
# python3 and its regression tests, sqlite3, perl, git, gcc, coreutils,
# binutils (objdump).  Only what is missing, only as root, quietly.
# Without root or without a network it prints what is missing and exits 0:
# real_programs.sh then skips those programs and says so.
set -u

py_ver=$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true)
want=(coreutils sqlite3 perl git gcc libc6-dev binutils python3)
[ -n "$py_ver" ] && want+=("libpython${py_ver}-testsuite")

installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "install-deps: not a Debian system (no dpkg-query); install by hand: ${want[*]}"
	exit 0
fi

missing=()
for p in "${want[@]}"; do
	installed "$p" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "install-deps: not root: cannot install ${missing[*]}; the programs that need them will be skipped"
	exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt_install() {
	apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=120 "$@" >/dev/null 2>&1
}

# A package the lists do not know (or a stale list): update once, retry.
if ! apt_install "${missing[@]}"; then
	apt-get update -qq -o DPkg::Lock::Timeout=120 >/dev/null 2>&1
	if ! apt_install "${missing[@]}"; then
		# one by one, so one unavailable package does not block the rest
		for p in "${missing[@]}"; do
			apt_install "$p" || true
		done
	fi
fi

still=()
for p in "${missing[@]}"; do
	installed "$p" || still+=("$p")
done
if [ ${#still[@]} -gt 0 ]; then
	echo "install-deps: could not install ${still[*]} (offline?); the programs that need them will be skipped"
else
	echo "install-deps: installed ${missing[*]}"
fi
exit 0
