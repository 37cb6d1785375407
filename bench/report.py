#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turn the benchmark programs' RESULT lines into medians, ratios, a table,
CSV, JSON, a chart and BENCHMARKS.md.  Python 3 standard library only.

Modes:

  report.py --raw RAW --out-dir DIR [--mode M --runs N --command TEXT]
      RAW is bench/run.sh's tab-separated file: allocator, run, program and
      one line of program output (or NOTE lines).  Prints the table and
      writes DIR/latest.csv, DIR/latest.json, DIR/latest.gp and, if gnuplot
      is installed, DIR/latest.png.

  report.py --markdown [--json DIR/latest.json] [--output BENCHMARKS.md]
      Writes BENCHMARKS.md from a results file.

  report.py --counters RAW --out-dir DIR [--section MD --output BENCHMARKS.md]
      RAW is bench/counters.sh's file of the library's statistics documents
      (USLAB_STATS=json).  Prints the fast-path and slow-path shares per
      workload, writes DIR/counters.json and DIR/counters.txt, with
      --section the BENCHMARKS.md section (bench/counters.md, which
      --markdown includes), and with --output puts it into that file in
      place.

  report.py --callgrind OUT --pairs N --workload W --exe PATH --expect RE
            [--program-output FILE] [--not-glibc]
      Reads one callgrind output file of bench_fastpath, checks that the
      allocator meant is the one that ran, and prints
      "RESULT W instr_per_pair X": the instructions executed outside the
      benchmark program itself (in the allocator and whatever it calls)
      per alloc+free pair.

Ratios.  For each workload the best peer is the best of glibc, jemalloc,
tcmalloc and mimalloc.  Every allocator's ratio to it is a cost ratio:
value / best for metrics where lower is better (times, instructions,
memory), best / value for throughput.  So in both cases 1.00 is the best
peer's level, below 1 beats it, above 1 loses to it.

uslab runs twice: its SLUB back end (uslab-kmalloc, uslab-kmem_cache,
uslab-shim) and its SLAB back end (uslab-slab-*: the same programs with
USLAB_ALLOCATOR=slab).  Every program prints "INFO uslab_allocator slub|slab"
(uslab_allocator()); a run whose back end is not its allocator's is refused,
and a SLAB allocator's run that does not say so is too.  The "slab/slub"
column is SLAB's cost relative to SLUB's, the same orientation: the
geometric mean over the three flavours, below 1 SLAB wins.
"""

import argparse
import csv
import datetime
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys

PEERS = ["glibc", "jemalloc", "tcmalloc", "mimalloc"]
FLAVOURS = ["kmalloc", "kmem_cache", "shim"]
USLABS_SLUB = ["uslab-" + f for f in FLAVOURS]
USLABS_SLAB = ["uslab-slab-" + f for f in FLAVOURS]
USLABS = USLABS_SLUB + USLABS_SLAB
ALLOCATORS = PEERS + USLABS
# The back end each uslab allocator must run on (INFO uslab_allocator).
USLAB_BACKEND = dict([(a, "slub") for a in USLABS_SLUB] + [(a, "slab") for a in USLABS_SLAB])
# SLAB's cost within this factor of SLUB's (either way) counts as a tie in
# the slab/slub column: the timing runs are medians of a few runs on a
# shared machine, and differences of a few percent are within their noise.
TIE_BAND = 1.05

# metric -> (better, unit, in the chart)
METRICS = {
    "ns_per_op": ("lower", "ns per operation", True),
    "cycles_per_op": ("lower", "TSC ticks per operation", False),
    "mops": ("higher", "million alloc+free pairs per second", True),
    "bytes_per_obj": ("lower", "RSS bytes per live object", True),
    "rss_mib": ("lower", "MiB RSS above the start", True),
    "instr_per_pair": ("lower", "instructions per alloc+free pair", True),
}

# RSS deltas can be zero or negative; for ratios they count as one page.
RSS_FLOOR_MIB = 4096 / (1024 * 1024)

WORKLOAD_NOTES = [
    ("slab/alloc/N, slab/free/N",
     "slab_test: 10000 allocations of N bytes in a row, then the 10000 frees "
     "(median of repetitions)"),
    ("slab/pair/N", "slab_test: 10000 alloc/free pairs of N bytes"),
    ("threads/local/Nt", "N threads, each allocating and freeing 64-byte objects in batches of 100"),
    ("threads/remote/Nt", "N/2 producer/consumer pairs: one thread allocates, the other frees "
     "(lock-free SPSC ring)"),
    ("threads/larson/Nt", "Larson-style server: N lineages of short-lived threads replacing "
     "random 8..1000-byte blocks inherited from the thread before"),
    ("threads/larson_left/Nt", "RSS left after that Larson run, every block freed and every "
     "thread gone: what thread churn strands (per-thread caches, partial slabs, arenas)"),
    ("threads/pass/Nt", "Larson's arrays passed between live threads: N threads in a ring "
     "share 2N arrays; each replaces 1000 random 8..1000-byte blocks of the array it holds, "
     "then queues it for the next thread; most frees are of blocks another running thread "
     "allocated"),
    ("mix/wsN", "random sizes 8..4096 (weighted to small) over a working set of N live objects"),
    ("memory/live", "RSS per live object, 1M objects of 64 bytes"),
    ("memory/free90", "RSS after freeing 90% of them at random (fragmentation)"),
    ("memory/free_all, memory/trim", "RSS after freeing all, and after the allocator's trim call"),
    ("memory/threads_live/Nt", "RSS while N threads are alive, each having allocated 16 and "
     "kept 4 objects of each of 50 sizes (16, 32, .. 800 bytes: 50 kmem_caches for "
     "kmem_cache, 50 sizes for malloc, kmalloc's classes for kmalloc); 5.0 MiB of it is the "
     "objects at 64 threads"),
    ("memory/threads_exit/Nt", "RSS after those threads freed everything and exited (uslab "
     "keeps up to USLAB_PAGE_RETAIN_MB, 32 MiB by default, of free pages backed)"),
    ("fastpath/pair, fastpath/batch", "callgrind instructions per 64-byte alloc+free pair, "
     "alone or in batches of 100 (the allocator's instructions only)"),
]


def die(msg):
    print("report.py: " + msg, file=sys.stderr)
    sys.exit(1)


def fmt(v):
    if v is None:
        return "-"
    a = abs(v)
    if a >= 100:
        return "%.0f" % v
    if a >= 10:
        return "%.1f" % v
    if a >= 1:
        return "%.2f" % v
    return "%.3f" % v


def fmt_ratio(r):
    return "-" if r is None else "%.2f" % r


# --------------------------------------------------------------- parsing

def parse_raw(path):
    """Return (values, info, notes): values[(workload, metric)][alloc] is a
    list of numbers, in order of first appearance of the workload.  Dies if
    a uslab run says it ran on the wrong back end, or a SLAB run does not
    say which back end it ran on."""
    values = {}
    info = {}
    notes = []
    backend_seen = {}   # (alloc, run, prog) -> uslab_allocator
    results_of = set()  # (alloc, run, prog) with RESULT lines
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line:
                continue
            parts = line.split("\t", 3)
            if len(parts) != 4:
                die("%s:%d: not four tab-separated fields: %r" % (path, lineno, line))
            alloc, _run, prog, text = parts
            if alloc == "NOTE":
                notes.append(text)
                continue
            if alloc not in ALLOCATORS:
                die("%s:%d: unknown allocator %r" % (path, lineno, alloc))
            words = text.split()
            if words[0] == "INFO":
                if len(words) >= 3:
                    info.setdefault(alloc, {})["%s %s" % (prog, words[1])] = " ".join(words[2:])
                if len(words) >= 3 and words[1] == "uslab_allocator":
                    want = USLAB_BACKEND.get(alloc, "none (uslab not loaded)")
                    if words[2] != want:
                        die("%s:%d: %s run %s of %s ran on uslab's %r back end, not %s: "
                            "refusing to report it as %s"
                            % (path, lineno, alloc, _run, prog, words[2], want, alloc))
                    backend_seen[(alloc, _run, prog)] = words[2]
                continue
            if words[0] != "RESULT" or len(words) != 4:
                die("%s:%d: not a RESULT line: %r" % (path, lineno, text))
            _, workload, metric, value = words
            if metric not in METRICS:
                die("%s:%d: unknown metric %r" % (path, lineno, metric))
            try:
                v = float(value)
            except ValueError:
                die("%s:%d: bad value %r" % (path, lineno, value))
            if not math.isfinite(v):
                die("%s:%d: value %r is not finite" % (path, lineno, value))
            values.setdefault((workload, metric), {}).setdefault(alloc, []).append(v)
            results_of.add((alloc, _run, prog))
    # SLUB is the default, so a SLAB run that does not name its back end
    # (a program built before the INFO line existed) may well be SLUB.
    for key in sorted(results_of):
        if USLAB_BACKEND.get(key[0]) == "slab" and key not in backend_seen:
            die("%s: %s run %s of %s does not say which back end ran (no "
                "'INFO uslab_allocator'): rebuild the bench programs"
                % (path, key[0], key[1], key[2]))
    return values, info, notes


def cost_ratio(metric, v, best):
    """v relative to best, oriented so that lower is better."""
    if v is None or best is None:
        return None
    if metric == "rss_mib":
        v, best = max(v, RSS_FLOOR_MIB), max(best, RSS_FLOOR_MIB)
    if v <= 0 or best <= 0:
        return None
    return v / best if METRICS[metric][0] == "lower" else best / v


def slab_vs_slub(metric, stats):
    """SLAB's cost relative to SLUB's per flavour, and their geometric mean."""
    out = {}
    for f in FLAVOURS:
        slub, slab = stats.get("uslab-" + f), stats.get("uslab-slab-" + f)
        if slub and slab:
            r = cost_ratio(metric, slab["median"], slub["median"])
            if r is not None:
                out[f] = r
    if out:
        out["geomean"] = math.exp(sum(math.log(r) for r in out.values()) / len(out))
    return out


def winner(ratio):
    """'SLAB', 'SLUB' or '=' for a slab/slub cost ratio."""
    if ratio is None:
        return None
    if ratio < 1 / TIE_BAND:
        return "SLAB"
    if ratio > TIE_BAND:
        return "SLUB"
    return "="


def fmt_vs(vs):
    g = vs.get("geomean") if vs else None
    return "-" if g is None else "%.2f %s" % (g, winner(g))


def summarise(values):
    rows = []
    for (workload, metric), per_alloc in values.items():
        better, unit, charted = METRICS[metric]
        stats = {}
        for alloc in ALLOCATORS:
            runs = per_alloc.get(alloc)
            if runs:
                stats[alloc] = {
                    "median": statistics.median(runs),
                    "min": min(runs),
                    "max": max(runs),
                    "runs": runs,
                }
        peer_medians = [(stats[p]["median"], p) for p in PEERS if p in stats]
        best_peer = best_value = None
        if peer_medians:
            pick = min if better == "lower" else max
            best_value, best_peer = pick(peer_medians)
        ratios = {a: cost_ratio(metric, s["median"], best_value) for a, s in stats.items()}
        rows.append({
            "workload": workload,
            "metric": metric,
            "unit": unit,
            "better": better,
            "charted": charted,
            "values": stats,
            "best_peer": best_peer,
            "best_peer_value": best_value,
            "ratio_to_best_peer": ratios,
            "slab_vs_slub": slab_vs_slub(metric, stats),
        })
    return rows


def vs_summary(rows):
    """Per workload group: how many rows SLAB and SLUB win, and the
    geometric mean of SLAB's cost relative to SLUB's.  cycles_per_op is
    left out: it is ns_per_op in another unit."""
    groups = {}
    for r in rows:
        g = (r.get("slab_vs_slub") or {}).get("geomean")
        if g is None or r["metric"] == "cycles_per_op":
            continue
        parts = r["workload"].split("/")
        name = "/".join(parts[:2]) if parts[0] in ("slab", "threads") else parts[0]
        groups.setdefault(name, []).append((r["workload"], g))
    out = []
    for name, items in groups.items():
        wins = {"SLAB": [], "SLUB": [], "=": []}
        for w, g in items:
            wins[winner(g)].append(w)
        gm = math.exp(sum(math.log(g) for _w, g in items) / len(items))
        out.append({"group": name, "rows": len(items), "slab_wins": len(wins["SLAB"]),
                    "slub_wins": len(wins["SLUB"]), "ties": len(wins["="]), "geomean": gm,
                    "best_for_slab": min(items, key=lambda x: x[1]),
                    "best_for_slub": max(items, key=lambda x: x[1])})
    return out


def vs_summary_lines(rows, markdown):
    summ = vs_summary(rows)
    if not summ:
        return []
    head = ["group", "rows", "SLAB wins", "SLUB wins", "ties", "slab/slub (geomean)",
            "row most for SLAB", "row most for SLUB"]
    body = [[s["group"], str(s["rows"]), str(s["slab_wins"]), str(s["slub_wins"]),
             str(s["ties"]), "%.2f" % s["geomean"],
             "%s %.2f" % s["best_for_slab"], "%s %.2f" % s["best_for_slub"]] for s in summ]
    if markdown:
        return (["| " + " | ".join(head) + " |",
                 "|---|" + "---:|" * 5 + "---|---|"] +
                ["| " + " | ".join(c) + " |" for c in body])
    widths = [max(len(row[i]) for row in [head] + body) for i in range(len(head))]
    return ["  ".join(c.ljust(widths[i]) for i, c in enumerate(row)) for row in [head] + body]


# --------------------------------------------------------------- machine

def run(cmd):
    try:
        out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True, timeout=20, check=False)
        return out.stdout.strip() if out.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def machine_info():
    m = {}
    lscpu = run(["lscpu"])
    for key, name in (("Model name", "cpu"), ("Hypervisor vendor", "hypervisor"),
                      ("Thread(s) per core", "threads_per_core")):
        mm = re.search(r"^%s:\s*(.+)$" % re.escape(key), lscpu, re.M)
        if mm:
            m[name] = mm.group(1).strip()
    m["cpus"] = os.cpu_count()
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            kb = int(re.search(r"MemTotal:\s+(\d+)", f.read()).group(1))
            m["memory"] = "%.1f GiB" % (kb / 1024 / 1024)
    except (OSError, AttributeError):
        pass
    m["kernel"] = run(["uname", "-sr"])
    os_release = {}
    try:
        with open("/etc/os-release", encoding="utf-8") as f:
            for line in f:
                k, _, v = line.strip().partition("=")
                os_release[k] = v.strip('"')
    except OSError:
        pass
    m["os"] = os_release.get("PRETTY_NAME", "")
    m["glibc"] = run(["getconf", "GNU_LIBC_VERSION"])
    m["compiler"] = run(["cc", "--version"]).split("\n")[0]
    m["valgrind"] = run(["valgrind", "--version"])
    pkgs = {}
    for pkg in ("libjemalloc2", "libtcmalloc-minimal4", "libmimalloc2.0"):
        pkgs[pkg] = run(["dpkg-query", "-W", "-f", "${Version}", pkg]) or "not installed"
    m["packages"] = pkgs
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    commit = run(["git", "-C", root, "rev-parse", "--short", "HEAD"])
    if commit and run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"]):
        commit += " (with uncommitted changes)"
    m["uslab_commit"] = commit or "none"
    return m


# ----------------------------------------------------------------- table

def table_columns(rows):
    present = [a for a in ALLOCATORS if any(a in r["values"] for r in rows)]
    # uslab's columns stay even when it did not run, so the layout is stable.
    allocs = [a for a in PEERS if a in present] + USLABS
    return allocs


def table_lines(rows, markdown):
    allocs = table_columns(rows)
    head = ["workload", "metric", "better"] + allocs + ["best peer"] + \
        ["%s/best" % a.replace("uslab-", "") for a in USLABS] + ["slab/slub"]
    text_cols = {0, 1, 2, 3 + len(allocs), len(head) - 1}
    body = []
    for r in rows:
        cells = [r["workload"], r["metric"], r["better"]]
        for a in allocs:
            s = r["values"].get(a)
            cells.append(fmt(s["median"]) if s else "-")
        cells.append(r["best_peer"] or "-")
        for a in USLABS:
            cells.append(fmt_ratio(r["ratio_to_best_peer"].get(a)))
        cells.append(fmt_vs(r.get("slab_vs_slub")))
        body.append(cells)
    if markdown:
        out = ["| " + " | ".join(head) + " |",
               "|" + "|".join("---" if i in text_cols else "---:"
                              for i in range(len(head))) + "|"]
        out += ["| " + " | ".join(c) + " |" for c in body]
        return out
    widths = [max(len(row[i]) for row in [head] + body) for i in range(len(head))]
    out = []
    for row in [head] + body:
        out.append("  ".join(c.ljust(widths[i]) if i in text_cols else c.rjust(widths[i])
                             for i, c in enumerate(row)))
        if row is head:
            out.append("  ".join("-" * w for w in widths))
    return out


# ---------------------------------------------------------------- writing

def write_csv(rows, path):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["workload", "metric", "unit", "better", "allocator", "median", "min",
                    "max", "runs", "ratio_to_best_peer", "best_peer"])
        for r in rows:
            for a in ALLOCATORS:
                s = r["values"].get(a)
                if not s:
                    continue
                ratio = r["ratio_to_best_peer"].get(a)
                w.writerow([r["workload"], r["metric"], r["unit"], r["better"], a,
                            "%.6g" % s["median"], "%.6g" % s["min"], "%.6g" % s["max"],
                            len(s["runs"]), "" if ratio is None else "%.4f" % ratio,
                            r["best_peer"] or ""])


def chart_groups(rows):
    """Charted rows split into panels by the workload's first component."""
    order = ["slab", "threads", "mix", "memory", "fastpath"]
    groups = {}
    for r in rows:
        if r["charted"] and r["best_peer"]:
            groups.setdefault(r["workload"].split("/")[0], []).append(r)
    names = [g for g in order if g in groups] + [g for g in groups if g not in order]
    panels = []
    # Small groups share a panel so that no panel is a sliver.
    cur = []
    for g in names:
        if cur and sum(len(groups[x]) for x in cur) + len(groups[g]) > 16:
            panels.append(cur)
            cur = []
        cur.append(g)
        if len(groups[g]) > 16:
            panels.append(cur)
            cur = []
    if cur:
        panels.append(cur)
    return [(", ".join(p), [r for g in p for r in groups[g]]) for p in panels]


def write_chart(rows, out_dir, title):
    allocs = [a for a in ALLOCATORS if any(a in r["values"] for r in rows)]
    panels = chart_groups(rows)
    if not panels or not allocs:
        return None
    dat = os.path.join(out_dir, "latest.dat")
    gp = os.path.join(out_dir, "latest.gp")
    png = os.path.join(out_dir, "latest.png")
    with open(dat, "w", encoding="utf-8") as f:
        for i, (_name, prow) in enumerate(panels):
            if i:
                f.write("\n\n")
            f.write("# workload " + " ".join(allocs) + "\n")
            for r in prow:
                label = r["workload"]
                cells = [label]
                for a in allocs:
                    ratio = r["ratio_to_best_peer"].get(a)
                    cells.append("NaN" if ratio is None else "%.5g" % ratio)
                f.write(" ".join(cells) + "\n")
    # SLUB in reds and browns, SLAB in the same order in pinks, golds and
    # cyan: a flavour's two back ends sit next to each other in the key.
    colours = {"glibc": "#7f7f7f", "jemalloc": "#1f77b4", "tcmalloc": "#2ca02c",
               "mimalloc": "#9467bd", "uslab-kmalloc": "#d62728",
               "uslab-kmem_cache": "#ff7f0e", "uslab-shim": "#8c564b",
               "uslab-slab-kmalloc": "#e377c2", "uslab-slab-kmem_cache": "#bcbd22",
               "uslab-slab-shim": "#17becf"}
    height = 0.93
    lines = [
        "# Generated by bench/report.py; gnuplot %s" % os.path.basename(gp),
        "set terminal pngcairo size 2000,%d font 'sans,10' noenhanced" % (380 * len(panels) + 120),
        "set output '%s'" % os.path.basename(png),
        "set datafile missing 'NaN'",
        "set style data histogram",
        "set style histogram clustered gap 1",
        "set style fill solid 0.9 border -1",
        "set boxwidth 0.9",
        "set logscale y 2",
        "set grid ytics",
        "set ylabel 'cost relative to the best peer (lower is better)'",
        "set xtics rotate by -40 scale 0",
        "set key outside right top vertical",
        "set multiplot title '%s'" % title.replace("'", ""),
    ]
    top = height
    step = height / len(panels)
    for i, (name, prow) in enumerate(panels):
        lines += [
            "set origin 0,%.4f" % (top - step * (i + 1)),
            "set size 1,%.4f" % step,
            "set title '%s'" % name,
            "set xrange [-0.6:%.1f]" % (len(prow) - 0.4),
            "plot " + ", \\\n     ".join(
                "'%s' index %d using %d:xtic(1) title '%s' lc rgb '%s'"
                % (os.path.basename(dat), i, j + 2, a, colours.get(a, "black"))
                for j, a in enumerate(allocs))
            + ", \\\n     1 notitle with lines dt 2 lc rgb 'black'",
        ]
    lines.append("unset multiplot")
    with open(gp, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        print("report.py: gnuplot is not installed (apt-get install gnuplot-nox): "
              "no chart, script left in %s" % gp, file=sys.stderr)
        return None
    res = subprocess.run([gnuplot, os.path.basename(gp)], cwd=out_dir,
                         stderr=subprocess.PIPE, text=True, check=False)
    if res.returncode != 0 or not os.path.exists(png):
        die("gnuplot failed on %s:\n%s" % (gp, res.stderr))
    return png


def do_raw(args):
    values, info, notes = parse_raw(args.raw)
    if not values:
        die("no results in %s" % args.raw)
    rows = summarise(values)
    os.makedirs(args.out_dir, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    machine = machine_info()
    if args.load:
        machine["load_before"] = args.load
    allocators = {}
    for a in ALLOCATORS:
        if a in info or any(a in r["values"] for r in rows):
            allocators[a] = info.get(a, {})
    doc = {
        "generated": now,
        "mode": args.mode,
        "runs": args.runs,
        "command": args.command,
        "machine": machine,
        "allocators": allocators,
        "notes": notes,
        "metrics": {k: {"better": v[0], "unit": v[1]} for k, v in METRICS.items()},
        "ratio": "cost relative to the best peer (glibc, jemalloc, tcmalloc, mimalloc): "
                 "value/best when lower is better, best/value for throughput; "
                 "below 1 beats the best peer",
        "slab_vs_slub": "SLAB's cost relative to SLUB's per flavour (uslab-slab-F vs "
                        "uslab-F), same orientation, and their geometric mean; below "
                        "1 SLAB wins; within %.2fx either way is a tie" % TIE_BAND,
        "results": rows,
    }
    with open(os.path.join(args.out_dir, "latest.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    write_csv(rows, os.path.join(args.out_dir, "latest.csv"))
    png = write_chart(rows, args.out_dir,
                      "uslab and peers, %s run, %s (%s)" % (args.mode, now,
                                                            machine.get("cpu", "?")))

    print("Medians of %s run(s), %s mode.  Ratio columns: uslab's cost relative to the "
          "best peer (<1 beats it; throughput inverted); slab/slub: SLAB's cost relative "
          "to SLUB's (geometric mean of the flavours, <1 SLAB wins)." % (args.runs, args.mode))
    print()
    for line in table_lines(rows, markdown=False):
        print(line)
    summ = vs_summary_lines(rows, markdown=False)
    if summ:
        print()
        print("SLAB vs SLUB by group:")
        for line in summ:
            print(line)
    if notes:
        print()
        for n in notes:
            print("note: " + n)
    print()
    print("wrote %s/latest.csv, latest.json%s" % (args.out_dir, ", latest.png" if png else ""))


# -------------------------------------------------------------- markdown

def do_markdown(args):
    with open(args.json, encoding="utf-8") as f:
        doc = json.load(f)
    rows = doc["results"]
    m = doc["machine"]
    out_path = os.path.abspath(args.output)
    root = os.path.dirname(out_path)
    png = os.path.join(os.path.dirname(os.path.abspath(args.json)), "latest.png")
    lines = [
        "# Benchmarks",
        "",
        "uslab, with each of its two back ends (SLUB, the default, and SLAB:",
        "`USLAB_ALLOCATOR=slab`), against glibc, jemalloc, tcmalloc and mimalloc. This",
        "file is written by `bench/report.py --markdown` at the end of `make bench`;",
        "see `bench/` for the programs.",
        "",
        "## How to run",
        "",
        "```sh",
        "make bench                  # full: 5 runs of everything (about 7 minutes on 2 cores)",
        "make bench BENCH_QUICK=1    # quick: 3 shorter runs (under 5 minutes)",
        "bench/run.sh --help         # options: allocators, runs, no callgrind, ...",
        "```",
        "",
        "As root the peers are installed from Debian (`libjemalloc2`,",
        "`libtcmalloc-minimal4`, `libmimalloc2.0`, `gnuplot-nox` for the chart,",
        "`valgrind` for the instruction counts); otherwise a missing one is",
        "skipped with a note. Results land in `bench/results/latest.{csv,json,png}`.",
        "",
        "## Latest run",
        "",
        "- date: %s" % doc["generated"],
        "- command: `%s`" % doc["command"],
        "- mode: %s, %s run(s) of each program per allocator, medians reported"
        % (doc["mode"], doc["runs"]),
        "- uslab commit: %s" % m.get("uslab_commit", "?"),
        "",
        "| machine | |",
        "|---|---|",
        "| CPU | %s%s |" % (m.get("cpu", "?"),
                          " (%s guest)" % m["hypervisor"] if m.get("hypervisor") else ""),
        "| CPUs | %s |" % m.get("cpus", "?"),
        "| memory | %s |" % m.get("memory", "?"),
        "| OS | %s |" % m.get("os", "?"),
        "| kernel | %s |" % m.get("kernel", "?"),
        "| glibc | %s |" % m.get("glibc", "?"),
        "| compiler | %s |" % m.get("compiler", "?"),
        "| valgrind | %s |" % (m.get("valgrind") or "not installed"),
    ]
    if m.get("load_before"):
        lines.append("| load average before the run | %s |" % m["load_before"])
    for pkg, ver in m.get("packages", {}).items():
        lines.append("| %s | %s |" % (pkg, ver))
    lines += ["", "Allocators measured:", ""]
    for a, inf in doc.get("allocators", {}).items():
        where = inf.get("check alloc_from", "?")
        trim = inf.get("memory memory", "")
        tm = re.search(r"trim=(\S+)", trim)
        be = inf.get("check uslab_allocator")
        env = inf.get("check env")
        lines.append("- **%s**: allocation calls resolved to `%s`%s%s" % (
            a, where,
            "; back end `%s`%s" % (be, " (`%s`)" % env if env else "") if be else "",
            "; trim: `%s`" % tm.group(1) if tm else ""))
    if doc.get("notes"):
        lines += ["", "Notes from the run:", ""]
        lines += ["- " + n for n in doc["notes"]]
    lines += [
        "",
        "## Results",
        "",
        "Medians. `uslab-kmalloc`, `uslab-kmem_cache` and `uslab-shim` are the SLUB",
        "back end; `uslab-slab-kmalloc`, `uslab-slab-kmem_cache` and `uslab-slab-shim`",
        "the same programs on the SLAB back end (`USLAB_ALLOCATOR=slab`; every run",
        "printed which back end ran, and report.py refuses a mismatch). The `.../best`",
        "columns are uslab's cost relative to the best peer for that row (`kmalloc`:",
        "uslab-kmalloc, `slab-kmalloc`: uslab-slab-kmalloc, and so on): value / best",
        "where lower is better, best / value for throughput (`mops`). **Below 1.00",
        "uslab beats every peer; above 1.00 the best peer wins.** `slab/slub`: SLAB's",
        "cost relative to SLUB's, the geometric mean over the three flavours, with the",
        "winner (`=`: within %d%% either way, a tie). `-`: not measured (see the notes"
        % round((TIE_BAND - 1) * 100),
        "above).",
        "",
    ]
    if os.path.exists(png):
        # bench/results/ is not tracked: the chart BENCHMARKS.md shows is a
        # copy in docs/, committed with it.
        kept = os.path.join(root, "docs", "benchmarks.png")
        os.makedirs(os.path.dirname(kept), exist_ok=True)
        shutil.copyfile(png, kept)
        rel = os.path.relpath(kept, root)
        lines += ["![ratios to the best peer](%s)" % rel, "",
                  "The chart shows every allocator's cost relative to the best peer",
                  "(log scale; 1 is the best peer, lower is better).", ""]
    lines += table_lines(rows, markdown=True)
    lines += ["", "Units:", ""]
    for k, v in doc["metrics"].items():
        lines.append("- `%s`: %s, %s is better" % (k, v["unit"], v["better"]))
    summ = vs_summary_lines(rows, markdown=True)
    if summ:
        band = round((TIE_BAND - 1) * 100)
        lines += ["", "### SLAB vs SLUB by workload group", "",
                  "Rows per group where SLAB's cost (geometric mean over kmalloc,",
                  "kmem_cache and shim) is more than %d%% below SLUB's (SLAB wins), more" % band,
                  "than %d%% above (SLUB wins), or in between (tie); `cycles_per_op` rows" % band,
                  "are left out (they repeat `ns_per_op`).", ""]
        lines += summ
    # The fast-path/slow-path section, written by bench/counters.sh (which
    # also puts it into BENCHMARKS.md in place).
    counters = counters_md_lines()
    if counters:
        lines += [""] + counters
    # A hand-written reading of the results, kept in bench/ so that the
    # next run does not lose it; it names the run it read.
    notes_md = os.path.join(os.path.dirname(os.path.abspath(__file__)), "slab_or_slub.md")
    if os.path.exists(notes_md):
        with open(notes_md, encoding="utf-8") as f:
            lines += [""] + f.read().rstrip("\n").split("\n")
    lines += ["", "## Workloads", ""]
    lines += ["- `%s`: %s" % (w, d) for w, d in WORKLOAD_NOTES]
    lines += [
        "",
        "Caveats: `cycles_per_op` are TSC ticks (constant rate), not core cycles.",
        "RSS is what `/proc/self/statm` shows; memory an allocator released with",
        "`MADV_FREE` stays counted until the kernel needs it. The instruction counts",
        "exclude the benchmark loop itself (a dozen instructions per pair).",
        "",
    ]
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    print("wrote " + out_path)


# --------------------------------------------------------------- counters
#
# bench/counters.sh runs each uslab workload once with USLAB_STATS=json and
# collects the JSON documents the library prints at exit (one per process,
# docs/observability.md) into a tab-separated file: allocator, workload,
# program and arguments, one document.  These turn the summed counters
# into fast-path and slow-path shares per workload.

COUNTERS_HEADING = "## Fast path and slow path, from the counters"
COUNTERS_MD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "counters.md")
COUNTERS_FLAVOUR = {a: a.replace("uslab-slab-", "").replace("uslab-", "") for a in USLABS}
# Counters that are high-water marks: summing them over caches means nothing.
COUNTERS_MAX = {"high_mark", "max_freeable"}
# (key, heading, kind): kind "count", "pct" or "rate" (per 1000 operations).
COUNTER_COLUMNS = {
    "slub": [
        ("allocs", "allocs", "count"),
        ("frees", "frees", "count"),
        ("alloc_fast_pct", "alloc fast %", "pct"),
        ("free_fast_pct", "free fast %", "pct"),
        ("free_local_pct", "free owner-local %", "pct"),
        ("slow_per_k", "slow paths /1k ops", "rate"),
        ("new_slabs_per_k", "new slabs /1k ops", "rate"),
        ("freed_slabs_per_k", "freed slabs /1k ops", "rate"),
        ("cmpxchg_fail_per_k", "cmpxchg fails /1k ops", "rate"),
    ],
    "slab": [
        ("allocs", "allocs", "count"),
        ("frees", "frees", "count"),
        ("alloc_fast_pct", "alloc fast %", "pct"),
        ("free_fast_pct", "free fast %", "pct"),
        ("slow_per_k", "slow paths /1k ops", "rate"),
        ("new_slabs_per_k", "new slabs /1k ops", "rate"),
        ("freed_slabs_per_k", "freed slabs /1k ops", "rate"),
        ("objs_per_miss", "slab objects per miss", "num"),
    ],
}


def fmt_count(n):
    if n >= 1e6:
        return "%.2fM" % (n / 1e6)
    if n >= 1e4:
        return "%.0fk" % (n / 1e3)
    return "%d" % n


def fmt_pct(p):
    if p is None:
        return "-"
    if 99.95 <= p < 100:
        return ">99.9"
    if 0 < p < 0.05:
        return "<0.1"
    return "%.1f" % p


def fmt_rate(r):
    if r is None:
        return "-"
    if r == 0:
        return "0"
    if r < 0.001:
        return "<0.001"
    return fmt(r)


def parse_counters_raw(path):
    """{(allocator, workload): run}, in order of appearance; each run has
    the counters summed over every cache of every document, the slabs
    left at exit, the number of documents and the program line."""
    runs = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line:
                continue
            parts = line.split("\t", 3)
            if len(parts) != 4:
                die("%s:%d: not four tab-separated fields" % (path, lineno))
            alloc, workload, program, text = parts
            if alloc not in USLABS:
                die("%s:%d: unknown uslab allocator %r" % (path, lineno, alloc))
            try:
                doc = json.loads(text)
            except ValueError as e:
                die("%s:%d: not a JSON document (%s)" % (path, lineno, e))
            if doc.get("uslab_stats") != 1:
                die("%s:%d: statistics schema %r, this reads version 1"
                    % (path, lineno, doc.get("uslab_stats")))
            if doc.get("allocator") != USLAB_BACKEND[alloc]:
                die("%s:%d: %s's %s ran on uslab's %r back end, not %s"
                    % (path, lineno, alloc, workload, doc.get("allocator"),
                       USLAB_BACKEND[alloc]))
            if not doc.get("stats_enabled"):
                die("%s:%d: the counters were off" % (path, lineno))
            if doc.get("busy"):
                die("%s:%d: the document says busy" % (path, lineno))
            run = runs.setdefault((alloc, workload), {
                "allocator": alloc, "backend": USLAB_BACKEND[alloc],
                "flavour": COUNTERS_FLAVOUR[alloc], "workload": workload,
                "program": program, "documents": 0, "errors": 0,
                "slabs_at_exit": 0, "counters": {}})
            run["documents"] += 1
            run["errors"] += doc.get("errors", 0)
            for c in doc.get("caches", []):
                if c.get("busy"):
                    die("%s:%d: cache %s was busy" % (path, lineno, c.get("name")))
                run["slabs_at_exit"] += c.get("slabs", 0)
                for k, v in c.get("counters", {}).items():
                    if k not in COUNTERS_MAX:
                        run["counters"][k] = run["counters"].get(k, 0) + v
    return runs


def counter_metrics(run):
    """The derived figures of one run (None where there is nothing to
    divide by)."""
    c = run["counters"]
    g = lambda k: c.get(k, 0)  # noqa: E731
    pct = lambda a, b: 100.0 * a / b if b else None  # noqa: E731
    m = {}
    if run["backend"] == "slub":
        allocs = g("alloc_fastpath") + g("alloc_slowpath")
        frees = g("free_fastpath") + g("free_local") + g("free_slowpath")
        m["alloc_fast_pct"] = pct(g("alloc_fastpath"), allocs)
        m["free_fast_pct"] = pct(g("free_fastpath"), frees)
        m["free_local_pct"] = pct(g("free_local"), frees)
        slow = g("alloc_slowpath") + g("free_slowpath")
        new, freed = g("alloc_slab"), g("free_slab")
        m["cmpxchg_fail_per_k"] = None
    else:
        allocs = g("allochit") + g("allocmiss")
        frees = g("freehit") + g("freemiss")
        m["alloc_fast_pct"] = pct(g("allochit"), allocs)
        m["free_fast_pct"] = pct(g("freehit"), frees)
        slow = g("allocmiss") + g("freemiss")
        new = g("grown")
        # SLAB counts only the reaper's frees (reaped); free_block's and
        # uslab_trim's are not counted, so: grown less what is left.
        freed = max(0, g("grown") - run["slabs_at_exit"])
        m["objs_per_miss"] = g("allocs") / g("allocmiss") if g("allocmiss") else None
    ops = allocs + frees
    m["allocs"], m["frees"], m["ops"] = allocs, frees, ops
    per_k = lambda n: 1000.0 * n / ops if ops else None  # noqa: E731
    m["slow_per_k"] = per_k(slow)
    m["new_slabs_per_k"] = per_k(new)
    m["freed_slabs_per_k"] = per_k(freed)
    if run["backend"] == "slub":
        m["cmpxchg_fail_per_k"] = per_k(g("cmpxchg_double_fail"))
    return m


def counter_cell(kind, v):
    if kind == "count":
        return fmt_count(v)
    if kind == "pct":
        return fmt_pct(v)
    if kind == "rate":
        return fmt_rate(v)
    return "-" if v is None else fmt(v)


# A run with fewer than this share of its workload's most counted
# operations (on its back end) went mostly around the caches: SLUB's
# kmalloc above 8 KiB is the page allocator's.  Marked, and left out of
# the rankings.
UNCOUNTED_SHARE = 0.1


def mark_uncounted(runs):
    most = {}
    for r in runs:
        k = (r["backend"], r["workload"])
        most[k] = max(most.get(k, 0), r["metrics"]["ops"])
    for r in runs:
        r["uncounted"] = r["metrics"]["ops"] < UNCOUNTED_SHARE * most[(r["backend"],
                                                                       r["workload"])]


def counters_table(runs, backend, markdown):
    cols = COUNTER_COLUMNS[backend]
    head = ["workload", "flavour"] + [h for _k, h, _kind in cols]
    body = []
    workloads = []
    for r in runs:
        if r["workload"] not in workloads:
            workloads.append(r["workload"])
    for w in workloads:
        for f in FLAVOURS:
            r = next((x for x in runs if x["workload"] == w and x["flavour"] == f
                      and x["backend"] == backend), None)
            if r is None:
                continue
            m = r["metrics"]
            body.append([w, f + (" *" if r.get("uncounted") else "")] +
                        [counter_cell(kind, m.get(k)) for k, _h, kind in cols])
    if not body:
        return []
    if markdown:
        return (["| " + " | ".join(head) + " |",
                 "|---|---|" + "---:|" * len(cols)] +
                ["| " + " | ".join(c) + " |" for c in body])
    widths = [max(len(row[i]) for row in [head] + body) for i in range(len(head))]
    return ["  ".join(c.ljust(widths[i]) if i < 2 else c.rjust(widths[i])
                      for i, c in enumerate(row)) for row in [head] + body]


def counters_worst(runs, backend, key, kind, highest, n=4):
    """The n workloads with the lowest (highest) value of key over their
    flavours, each as "`workload` lo-hi" (the range over the flavours)."""
    per = {}
    for r in runs:
        v = r["metrics"].get(key)
        if r["backend"] == backend and v is not None and not r.get("uncounted"):
            per.setdefault(r["workload"], []).append(v)
    worst = sorted(per.items(), key=lambda kv: -max(kv[1]) if highest else min(kv[1]))
    out = []
    for w, vs in worst[:n]:
        lo, hi = counter_cell(kind, min(vs)), counter_cell(kind, max(vs))
        out.append("`%s` %s%s" % (w, lo if lo == hi else "%s-%s" % (lo, hi),
                                  "%" if kind == "pct" else ""))
    return out


def counters_section(doc):
    runs = doc["runs"]
    m = doc["machine"]
    lines = [
        COUNTERS_HEADING,
        "",
        "*Written by `%s` (%s parameters) on %s, uslab commit %s."
        % (doc["command"], doc["mode"], doc["generated"], m.get("uslab_commit", "?")),
        "Run that command to regenerate this section: it takes a minute or two and",
        "leaves the timing tables alone (`make bench` copies the section in from",
        "`bench/counters.md`).*",
        "",
        "Each workload ran once per flavour with `USLAB_STATS=json`, one process per",
        "row; the counters ([docs/observability.md](docs/observability.md)) are summed",
        "over every cache. `slab/N` is slab_test at N bytes: its `alloc`, `free` and",
        "`pair` loops together; `memory` is all four memory rows. The single-threaded",
        "counts are the same every run; the threaded rows vary with scheduling (the",
        "shares by a point or so, the slab and cmpxchg rates by up to several times).",
        "",
        "- allocs, frees: calls counted by the caches (the shim's also include the",
        "  harness's own few mallocs). SLUB's kmalloc above 8 KiB goes straight to the",
        "  page allocator and is not counted (`slab/16384` kmalloc).",
        "- alloc fast %: SLUB `alloc_fastpath` (the cpu slab's freelist), SLAB",
        "  `allochit` (the thread's array), of all allocations.",
        "- free fast %: SLUB `free_fastpath` (onto the cpu slab's freelist), SLAB",
        "  `freehit` (onto the thread's array). SLUB's owner-local %: `free_local`,",
        "  onto a slab this thread has frozen (no atomic); the rest is `free_slowpath`.",
        "- slow paths /1k ops: SLUB `alloc_slowpath` + `free_slowpath`, SLAB",
        "  `allocmiss` + `freemiss`, per 1000 allocations and frees.",
        "- new slabs, freed slabs /1k ops: SLUB `alloc_slab`, `free_slab`; SLAB",
        "  `grown`, and grown minus the slabs left at exit (SLAB counts only the",
        "  reaper's frees, `reaped`).",
        "- cmpxchg fails: SLUB `cmpxchg_double_fail`, retries of a slab's",
        "  freelist/counters cmpxchg16b.",
        "- SLAB's slab objects per miss: `allocs` (objects moved off the slabs into",
        "  an array) / `allocmiss`; a miss served from the shared array moves none.",
    ]
    for backend, title in (("slub", "SLUB"), ("slab", "SLAB (`USLAB_ALLOCATOR=slab`)")):
        table = counters_table(runs, backend, markdown=True)
        if not table:
            continue
        lines += ["", "### %s" % title, ""] + table
        if any(r.get("uncounted") for r in runs if r["backend"] == backend):
            lines += ["", "\\* most of this run's calls went around the caches (SLUB's kmalloc",
                      "above 8 KiB is the page allocator's) and were not counted."]
        lines += [
            "",
            "- lowest alloc fast %% (range over the flavours): %s"
            % ", ".join(counters_worst(runs, backend, "alloc_fast_pct", "pct", False)),
            "- most slow paths per 1000 ops: %s"
            % ", ".join(counters_worst(runs, backend, "slow_per_k", "rate", True)),
        ]
    if doc.get("notes"):
        lines += [""] + ["- note: " + n for n in doc["notes"]]
    return lines


def counters_md_lines():
    """bench/counters.md, as report.py --markdown includes it ([] if none)."""
    if not os.path.exists(COUNTERS_MD):
        return []
    with open(COUNTERS_MD, encoding="utf-8") as f:
        return f.read().rstrip("\n").split("\n")


def splice_counters(md_path, section):
    """Put section into md_path in place: over the old one (up to the next
    '## ' heading), else before '## SLAB or SLUB?' or '## Workloads', as
    do_markdown places it."""
    with open(md_path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if COUNTERS_HEADING in lines:
        start = lines.index(COUNTERS_HEADING)
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
                   len(lines))
        tail = lines[end:]
        lines = lines[:start] + section + ([""] if tail else []) + tail
    else:
        at = next((lines.index(h) for h in ("## SLAB or SLUB?", "## Workloads") if h in lines),
                  None)
        if at is None:
            lines = lines + [""] + section + [""]
        else:
            lines = lines[:at] + section + [""] + lines[at:]
    with open(md_path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))


def do_counters(args):
    runs = parse_counters_raw(args.counters)
    if not runs:
        die("no statistics documents in %s" % args.counters)
    notes = []
    for r in runs.values():
        r["metrics"] = counter_metrics(r)
    mark_uncounted(list(runs.values()))
    for r in runs.values():
        if r["errors"]:
            notes.append("%s %s: uslab reported %d error(s)" % (r["allocator"], r["workload"],
                                                               r["errors"]))
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    machine = machine_info()
    doc = {"generated": now, "mode": args.mode, "command": args.command,
           "machine": {"uslab_commit": machine.get("uslab_commit"), "cpus": machine.get("cpus"),
                       "cpu": machine.get("cpu")},
           "notes": notes, "runs": list(runs.values())}
    os.makedirs(args.out_dir, exist_ok=True)
    with open(os.path.join(args.out_dir, "counters.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    text = []
    for backend in ("slub", "slab"):
        table = counters_table(doc["runs"], backend, markdown=False)
        if table:
            text += ["", "%s:" % backend.upper()] + table
    text += [""] + ["note: " + n for n in notes]
    with open(os.path.join(args.out_dir, "counters.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(text).strip("\n") + "\n")
    print("\n".join(text).strip("\n"))
    print("\nwrote %s/counters.json, counters.txt" % args.out_dir)
    if args.section:
        section = counters_section(doc)
        with open(args.section, "w", encoding="utf-8") as f:
            f.write("\n".join(section) + "\n")
        print("wrote " + args.section)
        if args.output:
            if os.path.exists(args.output):
                splice_counters(args.output, section)
                print("wrote the section into " + args.output)
            else:
                print("report.py: %s does not exist; the section is in %s"
                      % (args.output, args.section), file=sys.stderr)


# -------------------------------------------------------------- callgrind

NAME_RE = re.compile(r"^\((\d+)\)(?: (.*))?$")


def parse_callgrind(path):
    """Self cost per (object, function), the totals line, and the sum."""
    names = {"ob": {}, "fn": {}}
    cur = {"ob": "?", "fn": "?"}
    self_cost = {}
    totals = None
    skip_next_cost = False
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            key, eq, rest = line.partition("=")
            if eq and key in ("ob", "fn", "cob", "cfn", "fl", "fi", "fe", "cfi", "cfl"):
                kind = {"cob": "ob", "cfn": "fn"}.get(key, key)
                if kind in names:
                    mm = NAME_RE.match(rest)
                    if mm:
                        ident, name = mm.groups()
                        if name is not None:
                            names[kind][ident] = name
                        name = names[kind].get(ident, "?")
                    else:
                        name = rest
                    if key in ("ob", "fn"):
                        cur[key] = name
                continue
            if eq and key == "calls":
                skip_next_cost = True
                continue
            if key == "totals" or line.startswith("totals:"):
                totals = int(line.split()[1])
                continue
            if line[0].isdigit() or line[0] in "+-*":
                if skip_next_cost:
                    skip_next_cost = False
                    continue
                fields = line.split()
                if len(fields) >= 2:
                    k = (cur["ob"], cur["fn"])
                    self_cost[k] = self_cost.get(k, 0) + int(fields[-1])
    return self_cost, totals


def do_callgrind(args):
    self_cost, totals = parse_callgrind(args.callgrind)
    total = sum(self_cost.values())
    if totals is not None and totals != total:
        die("%s: self costs add up to %d, totals line says %d" % (args.callgrind, total, totals))
    exe = os.path.realpath(args.exe)
    harness = sum(c for (ob, _fn), c in self_cost.items()
                  if ob != "?" and os.path.realpath(ob) == exe)
    alloc = total - harness
    if alloc <= 0:
        die("%s: no instructions outside the benchmark program were counted" % args.callgrind)
    if args.program_output:
        with open(args.program_output, encoding="utf-8") as f:
            out = f.read()
        mm = re.search(r"^INFO alloc_from (\S+)", out, re.M)
        if not mm or not re.search(args.expect, mm.group(1)):
            die("%s: under valgrind the allocation calls resolved to %s, expected %s"
                % (args.callgrind, mm.group(1) if mm else "?", args.expect))
    if args.expect_uslab:
        with open(args.program_output or os.devnull, encoding="utf-8") as f:
            mm = re.search(r"^INFO uslab_allocator (\S+)", f.read(), re.M)
        if not mm or mm.group(1) != args.expect_uslab:
            die("%s: under valgrind uslab ran the %s back end, expected %s"
                % (args.callgrind, mm.group(1) if mm else "?", args.expect_uslab))
        print("INFO uslab_allocator %s" % mm.group(1))
    if args.not_glibc:
        libc = sum(c for (ob, fn), c in self_cost.items()
                   if re.search(r"/libc[.-]", ob) and re.search(r"malloc|free|tcache", fn))
        if libc > alloc * 0.01:
            die("%s: %d instructions in glibc's malloc: the preload did not take"
                % (args.callgrind, libc))
    # Where the instructions went, for whoever reads the raw output.
    top = sorted(((c, ob, fn) for (ob, fn), c in self_cost.items()), reverse=True)[:6]
    for c, ob, fn in top:
        print("INFO callgrind_top %s %s %.1f" % (os.path.basename(ob), fn.replace(" ", "_"),
                                                 c / args.pairs))
    print("INFO callgrind_harness_per_pair %.1f" % (harness / args.pairs))
    print("RESULT %s instr_per_pair %.2f" % (args.workload, alloc / args.pairs))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--raw")
    p.add_argument("--out-dir", default="bench/results")
    p.add_argument("--mode", default="full")
    p.add_argument("--runs", default="?")
    p.add_argument("--command", default="bench/run.sh")
    p.add_argument("--load", default="", help="load average before the run")
    p.add_argument("--markdown", action="store_true")
    p.add_argument("--json")
    p.add_argument("--output")
    p.add_argument("--callgrind")
    p.add_argument("--pairs", type=int)
    p.add_argument("--workload")
    p.add_argument("--exe")
    p.add_argument("--expect", default=".")
    p.add_argument("--program-output")
    p.add_argument("--not-glibc", action="store_true")
    p.add_argument("--expect-uslab", help="the uslab back end (slub, slab) the "
                   "program output must name")
    p.add_argument("--counters", help="bench/counters.sh's file of statistics documents")
    p.add_argument("--section", help="with --counters: write the BENCHMARKS.md section here")
    args = p.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if args.callgrind:
        if not (args.pairs and args.workload and args.exe):
            die("--callgrind needs --pairs, --workload and --exe")
        do_callgrind(args)
    elif args.counters:
        do_counters(args)
    elif args.markdown:
        args.json = args.json or os.path.join(root, "bench", "results", "latest.json")
        args.output = args.output or os.path.join(root, "BENCHMARKS.md")
        do_markdown(args)
    elif args.raw:
        do_raw(args)
    else:
        p.print_help()
        sys.exit(2)


if __name__ == "__main__":
    main()
