#!/usr/bin/env python3
"""Writes the benchmark table into BENCHMARKS.md from criterion's saved estimates, merging.

Usage (after `cargo bench`, or after a single `cargo bench --bench NAME`, from the repository root):

    python3 benches/report.py            # merge fresh figures into the table between the markers
    python3 benches/report.py --print    # print the merged table instead
    python3 benches/report.py --doc PATH --criterion DIR   # another file, another criterion dir

For each workload it reads <criterion>/<group>/<function>/new/{estimates,benchmark}.json (the
criterion directory is $CARGO_TARGET_DIR/criterion, or target/criterion), takes the median,
divides by the group's element count (criterion's throughput setting) to get the time per
operation, and gives the ratio of cashier to each peer measured in the same run. Lower ratios
are better for cashier.

Merging: every row of the table carries the date its figures were measured (the modification
date of the older of its two estimates files). A row is rewritten only when both its estimates
exist, come from the same run (written within 30 minutes of each other: a run of only
cashier's function leaves the peer's older estimates behind), and are at least as recent as the
row's date; otherwise the row already in BENCHMARKS.md
is kept as it is, figures and date. So running one bench refreshes that bench's rows and leaves
the others alone; a row that was never measured reads "n/a".
"""

import argparse
import json
import os
import platform
import re
import subprocess
import sys
from datetime import date

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
CRITERION = os.path.join(TARGET, "criterion")
BEGIN, END = "<!-- report:begin -->", "<!-- report:end -->"
# Two estimates belong to the same run when their files were written this close together (a
# group's functions run one after another in one bench process, seconds to minutes apart).
SAME_RUN_SECONDS = 30 * 60
HEADER = "| workload | per | cashier | peer | peer time | cashier / peer | measured |"

# (group, what one operation is, cashier's function, [(peer label, peer function), ...])
WORKLOADS = [
    ("spawn_many", "task", "cashier", [("tokio", "tokio"), ("tokio LocalSet", "tokio_local_set"), ("smol", "smol")]),
    ("yield_many", "yield", "cashier", [("tokio", "tokio"), ("smol", "smol")]),
    ("ping_pong", "round trip", "cashier", [("tokio", "tokio"), ("smol", "smol")]),
    ("chained_spawn", "spawn", "cashier", [("tokio", "tokio"), ("smol", "smol")]),
    ("timers_insert_cancel", "sleep", "cashier", [("tokio", "tokio"), ("smol", "smol")]),
    ("timers_fire", "batch of 1,000", "cashier", [("tokio", "tokio"), ("smol", "smol")]),
    ("tcp_echo", "round trip", "cashier", [("tokio", "tokio"), ("smol", "smol"),
                                            ("floor, 64 blocking threads", "floor_blocking_threads"),
                                            ("floor, 64 threads on one core", "floor_blocking_one_core"),
                                            ("floor, 1 connection", "floor_blocking_sequential")]),
    ("gather_100k", "future", "cashier_gather", [("futures join_all", "futures_join_all"),
                                                 ("tokio JoinSet", "tokio_joinset")]),
    ("spawn_join_100k", "task", "cashier", [("tokio", "tokio"), ("smol", "smol")]),
    ("http_fetch_1k", "GET", "cashier", [("hyper on tokio", "hyper_tokio")]),
]


def load(criterion, group, function):
    """(median time per operation in nanoseconds, Unix time measured), or None if not measured."""
    base = os.path.join(criterion, group, function, "new")
    try:
        path = os.path.join(base, "estimates.json")
        with open(path) as f:
            median = json.load(f)["median"]["point_estimate"]
        with open(os.path.join(base, "benchmark.json")) as f:
            throughput = json.load(f).get("throughput") or {}
        measured = os.path.getmtime(path)
    except (OSError, KeyError, ValueError):
        return None
    elements = throughput.get("Elements") or throughput.get("Bytes") or 1
    return median / elements, measured


def human(ns):
    if ns is None:
        return "n/a"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.1f} ns"


def machine():
    def run(*cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return "unknown"
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} cores ({cpu}), Linux {platform.release()}, {run('rustc', '--version')}"


def old_rows(section):
    """The rows of the table already in BENCHMARKS.md: {(group, peer label): (cells, date)}.

    A table written before rows carried dates takes the date of its "Generated ... on" line.
    """
    generated = re.search(r"on (\d{4}-\d{2}-\d{2})", section)
    default = date.fromisoformat(generated.group(1)) if generated else None
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 6 or not cells[0].startswith("`"):
            continue
        group = cells[0].strip("`")
        when = default
        if len(cells) >= 7:
            try:
                when = date.fromisoformat(cells[6])
            except ValueError:
                when = None
        rows[(group, cells[3])] = (cells[:6], when)
    return rows


def old_machine(section):
    """The machine line already in the table (kept when no row was refreshed)."""
    found = re.search(r"^Machine[^:]*: (.*)\.$", section, re.MULTILINE)
    return found.group(1) if found else "unknown"


def table(section="", criterion=CRITERION):
    """The merged table: fresh estimates where there are any, the old rows elsewhere."""
    old = old_rows(section)
    rows = []
    fresh = 0
    for group, unit, ours, peers in WORKLOADS:
        mine = load(criterion, group, ours)
        for label, function in peers:
            theirs = load(criterion, group, function)
            kept, kept_date = old.get((group, label), (None, None))
            if mine and theirs and abs(mine[1] - theirs[1]) <= SAME_RUN_SECONDS:
                measured = date.fromtimestamp(min(mine[1], theirs[1]))
                if kept is None or kept_date is None or measured >= kept_date:
                    ratio = f"**{mine[0] / theirs[0]:.2f}**"
                    cells = [f"`{group}`", unit, human(mine[0]), label, human(theirs[0]), ratio]
                    rows.append(cells + [measured.isoformat()])
                    fresh += 1
                    continue
            if kept is not None:
                rows.append(kept + [kept_date.isoformat() if kept_date else "n/a"])
            else:
                rows.append([f"`{group}`", unit, "n/a", label, "n/a", "n/a", "n/a"])
    lines = [
        f"Generated by `python3 benches/report.py` from criterion's estimates (medians), last on "
        f"{date.today()} ({fresh} of {len(rows)} rows refreshed then). The runtimes of a "
        "workload run interleaved in one process, so each ratio compares figures from the same "
        "run; a row keeps its figures until its workload is measured again, and says when it "
        "was measured.",
        "",
        f"Machine of the latest run: {machine() if fresh else old_machine(section)}.",
        "",
        HEADER,
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--print", action="store_true", help="print the table, write nothing")
    parser.add_argument("--doc", default=os.path.join(ROOT, "BENCHMARKS.md"))
    parser.add_argument("--criterion", default=CRITERION)
    args = parser.parse_args()
    with open(args.doc) as f:
        doc = f.read()
    if BEGIN not in doc or END not in doc:
        sys.exit(f"{args.doc} has no {BEGIN} ... {END} markers")
    head, rest = doc.split(BEGIN, 1)
    section, tail = rest.split(END, 1)
    text = table(section, args.criterion)
    if args.print:
        print(text)
        return
    with open(args.doc, "w") as f:
        f.write(f"{head}{BEGIN}\n{text}\n{END}{tail}")
    print(f"wrote the table into {args.doc}")


if __name__ == "__main__":
    main()
