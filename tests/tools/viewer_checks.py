#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""viewer_checks.py - the checks of viewers.sh that want Python: the JSON
document against the slabinfo text, the counters, the slabinfo format,
and uslab-top run in a pseudo-terminal.

Usage:
  viewer_checks.py json DOC.json PID BACKEND STATS(0|1) N
      the document is schema 1, of PID, on BACKEND, with the counters on
      or off as said, and has tools_test_cache as stats_target makes it
      with N objects
  viewer_checks.py agree DOC.json SLABINFO.txt
      every cache of the document has the figures of its line in the text
      (taken from the same quiet program), in the same order
  viewer_checks.py format SLABINFO.txt
      the text is /proc/slabinfo's format, line by line
  viewer_checks.py counters DOC.json BACKEND N
      tools_test_cache counted exactly N allocations and no frees
  viewer_checks.py sorted-by-name TOP-OUTPUT
      uslab-top -o -s n listed its caches by name
  viewer_checks.py pty TOP PID quit|until-exit READY-FILE
      run `TOP -d 1 PID` in a pseudo-terminal until the screen shows
      tools_test_cache (then write READY-FILE); "quit": type a sort key,
      space and q, expect exit status 0; "until-exit": wait for the
      program to exit, expect "process PID exited" after the screen is
      left, and exit status 0

Exit status: 0 pass, 1 fail (with the reason on stdout), 77 skipped.
"""

import json
import os
import re
import sys
import time

CACHE = "tools_test_cache"


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def load(path):
    with open(path) as f:
        return json.load(f)


def find_cache(doc, name=CACHE):
    for c in doc.get("caches", []):
        if c.get("name") == name:
            return c
    fail("no cache %s in the document" % name)


def check_json(path, pid, backend, stats, n):
    doc = load(path)
    want = {"uslab_stats": 1, "pid": int(pid), "allocator": backend,
            "stats_enabled": stats == "1"}
    for key, value in want.items():
        if doc.get(key) != value:
            fail("%s is %r, expected %r" % (key, doc.get(key), value))
    for key in ("time_ns", "errors", "page_size", "caches", "page_alloc"):
        if key not in doc:
            fail("no %s in the document" % key)
    c = find_cache(doc)
    if c.get("busy"):
        fail("%s is busy in a quiet program" % CACHE)
    if c["object_size"] != 200 or c["objects"] < int(n) or c["total_objects"] < c["objects"]:
        fail("%s: object_size %s, objects %s, total_objects %s"
             % (CACHE, c["object_size"], c["objects"], c["total_objects"]))
    if "no_merge" not in c.get("flags", []):
        fail("%s: flags %s lack no_merge" % (CACHE, c.get("flags")))
    if (c.get("counters") != {}) != (stats == "1"):
        fail("counters %r with the counters %s" % (c.get("counters"),
                                                   "on" if stats == "1" else "off"))


SLABINFO_LINE = re.compile(r"^(\S+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) : tunables +(\d+) +(\d+) "
                           r"+(\d+) : slabdata +(\d+) +(\d+) +(\d+)( : globalstat( +\d+){9} "
                           r": cpustat( +\d+){4})?$")
FIELDS = ["objects", "total_objects", "slab_size", "objs_per_slab", "pages_per_slab", "limit",
          "batchcount", "shared", "active_slabs", "slabs", "shared_avail"]


def parse_text(path):
    with open(path) as f:
        lines = f.read().splitlines()
    if not lines or not lines[0].startswith("slabinfo - version: 2.1"):
        fail("first line %r" % (lines[:1],))
    rows = []
    for line in lines[2:]:
        m = SLABINFO_LINE.match(line)
        if not m:
            fail("not a slabinfo line: %r" % line)
        rows.append((m.group(1), [int(x) for x in m.groups()[1:12]]))
    return lines, rows


def check_format(path):
    lines, rows = parse_text(path)
    head = ("# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>"
            " : tunables <limit> <batchcount> <sharedfactor>"
            " : slabdata <active_slabs> <num_slabs> <sharedavail>")
    if not lines[1].startswith(head):
        fail("header line %r" % lines[1])
    for line in lines[2:]:
        # the kernel's "%-17s %6lu %6lu %6u %4u %4d" and so on
        name = line.split()[0]
        if len(name) < 17 and line[17] != " " or line[:17].rstrip() != name[:17]:
            fail("name column of %r" % line)
    if not any(name == CACHE for name, _ in rows):
        fail("no %s line" % CACHE)


def check_agree(json_path, text_path):
    doc = load(json_path)
    _, rows = parse_text(text_path)
    caches = [c for c in doc["caches"] if not c.get("busy")]
    names = [c["name"] for c in caches]
    text_names = [name for name, _ in rows]
    if names != text_names:
        fail("caches differ: json %s, text %s" % (names, text_names))
    for c, (name, values) in zip(caches, rows):
        want = [c.get(k) for k in FIELDS]
        if want != values:
            fail("%s: json %s, text %s" % (name, want, values))


def check_counters(json_path, backend, n):
    c = find_cache(load(json_path))
    k = c.get("counters", {})
    n = int(n)
    if backend == "slab":
        allocs, frees = k.get("allochit", 0) + k.get("allocmiss", 0), \
            k.get("freehit", 0) + k.get("freemiss", 0)
        what = "allochit + allocmiss"
    else:
        allocs, frees = k.get("alloc_fastpath", 0) + k.get("alloc_slowpath", 0), \
            k.get("free_fastpath", 0) + k.get("free_slowpath", 0)
        what = "alloc_fastpath + alloc_slowpath"
    if allocs != n or frees != 0:
        fail("%s = %d (expected %d), frees %d (expected 0): %s" % (what, allocs, n, frees, k))


def check_sorted_by_name(path):
    with open(path) as f:
        lines = f.read().splitlines()
    at = next((i for i, l in enumerate(lines) if l.startswith("  OBJS ACTIVE")), None)
    if at is None:
        fail("no heading")
    names = [l[55:].split()[0] for l in lines[at + 1:] if len(l) > 55 and not l.startswith("(")]
    if not names or names != sorted(names):
        fail("not sorted by name: %s" % names)


def run_pty(top, pid, action, ready_file):
    """uslab-top in a pseudo-terminal of 120x40, as a person would."""
    import pty
    import select
    import fcntl
    import struct
    import termios
    try:
        import curses
        curses.setupterm("xterm", os.open(os.devnull, os.O_WRONLY))
    except Exception as e:      # no curses module or no terminfo for xterm
        print("SKIPPED: no curses/terminfo for xterm (%s)" % e)
        sys.exit(77)
    child, fd = pty.fork()
    if child == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        os.environ["TERM"] = "xterm"
        os.execv(top, [top, "-d", "1", pid])
    out = b""

    def pump(seconds, until=None):
        nonlocal out
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if until is not None and until in out:
                return True
            r, _, _ = select.select([fd], [], [], 0.05)
            if r:
                try:
                    data = os.read(fd, 65536)
                except OSError:         # the child closed the terminal
                    return until is None or until in out
                if not data:
                    return until is None or until in out
                out += data
        return until is None or until in out

    # hang guard: the ctest TIMEOUT; these waits only bound each step
    if not pump(60, CACHE.encode()):
        fail("the screen never showed %s: %r" % (CACHE, out[-2000:]))
    open(ready_file, "w").close()
    if action == "quit":
        for key in (b"n", b" ", b"c", b"q"):
            os.write(fd, key)
            pump(0.3)
        pump(10, None)
    else:
        pump(60, b"exited")
        pump(1)
    end = time.monotonic() + 30         # it should be gone already
    while True:
        done, status = os.waitpid(child, os.WNOHANG)
        if done:
            break
        if time.monotonic() > end:
            os.kill(child, 9)
            os.waitpid(child, 0)
            fail("uslab-top did not exit (%s): %r" % (action, out[-2000:]))
        pump(0.1)
    code = os.waitstatus_to_exitcode(status)
    text = out.decode(errors="replace")
    if "Traceback" in text:
        fail("a traceback: %s" % text[-2000:])
    if code != 0:
        fail("uslab-top exit status %d: %r" % (code, text[-2000:]))
    if action != "quit":
        tail = text[text.rfind("\x1b[?1049l"):] if "\x1b[?1049l" in text else text
        if "process %s exited" % pid not in tail:
            fail("no 'process %s exited' after the screen was left: %r" % (pid, text[-500:]))
    print("uslab-top in a pty: %s ok" % action)


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    cmd, args = argv[1], argv[2:]
    {"json": check_json, "agree": check_agree, "format": check_format,
     "counters": check_counters, "sorted-by-name": check_sorted_by_name,
     "pty": run_pty}[cmd](*args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
