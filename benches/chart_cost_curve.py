#!/usr/bin/env python3
"""Draws the cost curves: nanoseconds per operation against the size of the work, per runtime.

Usage (from the repository root; needs matplotlib, `pip install matplotlib`):

    cargo bench --bench cost_curve          # measures, merges into benches/charts/cost_curve.tsv
    python3 benches/chart_cost_curve.py     # writes benches/charts/cost_curve.svg

One panel per workload of benches/cost_curve.rs, one line per runtime. Both axes are
logarithmic: a flat line is O(1) per operation, and a line rising by one decade per decade of
size would be O(n) per operation. The chart is committed; CI does not need matplotlib.
"""

import os
from collections import defaultdict

import matplotlib

matplotlib.use("svg")
# Text as text, not glyph outlines: a smaller SVG whose labels diff and search as text.
matplotlib.rcParams["svg.fonttype"] = "none"
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import LogLocator, ScalarFormatter  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
POINTS = os.path.join(HERE, "charts", "cost_curve.tsv")
OUT = os.path.join(HERE, "charts", "cost_curve.svg")

TITLES = {
    "spawn_join": "spawn + join, N live tasks (per task)",
    "timers_hour": "sleep insert + cancel, N live timers (per sleep)",
    "timers_same_ms": "the same, N timers due in the current ms (per sleep)",
    "gather": "gather over N children (per child)",
    "as_completed": "as_completed over N children (per child)",
    "tcp_echo": "tcp_echo over N connections (per round trip)",
}


def read_points(path):
    """{workload: {runtime: [(size, ns)]}} from the bench's tab-separated file."""
    points = defaultdict(lambda: defaultdict(list))
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            workload, runtime, n, ns = line.rstrip("\n").split("\t")
            points[workload][runtime].append((int(n), float(ns)))
    return points


def colour(runtime):
    """One colour per runtime in every panel: cashier blue, smol orange, tokio green, the rest red."""
    for prefix, c in (("cashier", "C0"), ("smol", "C1"), ("tokio", "C2")):
        if runtime.startswith(prefix):
            return c
    return "C3"


def label(n):
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k" if n >= 1000 else str(n)


def main():
    points = read_points(POINTS)
    workloads = [w for w in TITLES if w in points]
    cols = 3
    rows = (len(workloads) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(15, 4.2 * rows), squeeze=False)
    for ax, workload in zip(axes.flat, workloads):
        sizes = set()
        for runtime, curve in sorted(points[workload].items()):
            curve.sort()
            xs, ys = [n for n, _ in curve], [ns for _, ns in curve]
            sizes.update(xs)
            style = "-" if runtime.startswith("cashier") else "--"
            ax.plot(xs, ys, style, marker="o", label=runtime, color=colour(runtime),
                    linewidth=2 if style == "-" else 1.2)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(sorted(sizes), [label(n) for n in sorted(sizes)])
        ax.minorticks_off()
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(ScalarFormatter())
        ax.set_title(TITLES[workload], fontsize=10)
        ax.set_xlabel("N")
        ax.set_ylabel("ns per operation (log)")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(workloads):]:
        ax.axis("off")
    fig.suptitle("Cost per operation as the work grows (benches/cost_curve.rs): flat is O(1)")
    fig.tight_layout()
    plt.rcParams["svg.hashsalt"] = "cashier"
    fig.savefig(OUT, metadata={"Date": None})
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
