#!/usr/bin/env python3
"""Draws BENCHMARKS.md's table as a bar chart: cashier / peer per workload, a line at 1.0.

Usage (from the repository root; needs matplotlib, `pip install matplotlib`):

    python3 benches/chart_ratios.py      # writes benches/charts/ratios.svg

It reads the table between the report markers of BENCHMARKS.md (the one benches/report.py
writes), so the chart always shows the figures the table shows: one group of bars per workload,
one bar per peer, each bar the ratio of cashier's time to that peer's. Below the line at 1.0
cashier is faster. The scale is logarithmic, so 0.5 (twice as fast) and 2.0 (twice as slow) are
as far from the line. The chart is committed; CI does not need matplotlib.
"""

import os
import sys

import matplotlib

matplotlib.use("svg")
# Text as text, not glyph outlines: a smaller SVG whose labels diff and search as text.
matplotlib.rcParams["svg.fonttype"] = "none"
import matplotlib.pyplot as plt  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import report  # noqa: E402

OUT = os.path.join(HERE, "charts", "ratios.svg")


def read_table(path):
    """[(workload, [(peer, ratio, date)])] in the table's order, rows without a ratio left out."""
    with open(path) as f:
        doc = f.read()
    section = doc.split(report.BEGIN, 1)[1].split(report.END, 1)[0]
    groups = []
    for (group, peer), (cells, when) in report.old_rows(section).items():
        try:
            ratio = float(cells[5].strip("*"))
        except ValueError:
            continue
        if not groups or groups[-1][0] != group:
            groups.append((group, []))
        groups[-1][1].append((peer, ratio, when))
    return groups


def main():
    groups = read_table(os.path.join(report.ROOT, "BENCHMARKS.md"))
    peers = []
    for _, bars in groups:
        for peer, _, _ in bars:
            if peer not in peers:
                peers.append(peer)
    colours = {peer: plt.get_cmap("tab10")(i % 10) for i, peer in enumerate(peers)}
    fig, ax = plt.subplots(figsize=(11, 0.32 * sum(len(b) for _, b in groups) + 1.5))
    y, ticks, labels, seen = 0.0, [], [], set()
    for group, bars in groups:
        start = y
        for peer, ratio, _ in bars:
            ax.barh(y, ratio, height=0.8, color=colours[peer],
                    label=None if peer in seen else peer)
            ax.text(ratio * 1.03, y, f"{ratio:.2f}", va="center", fontsize=8)
            seen.add(peer)
            y += 1
        ticks.append((start + y - 1) / 2)
        labels.append(group)
        y += 0.8
    dates = sorted({str(when) for _, bars in groups for _, _, when in bars if when})
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_xscale("log")
    ax.set_yticks(ticks, labels)
    ax.invert_yaxis()
    ax.set_xlabel("cashier time / peer time (log scale; below 1.0 cashier is faster)")
    ax.set_title("cashier against its peers, per workload (BENCHMARKS.md; measured "
                 + ", ".join(dates) + ")", fontsize=10)
    ax.set_xticks([0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0], ["0.02", "0.05", "0.1", "0.2", "0.5",
                                                          "1.0", "2.0"])
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, title="peer")
    ax.grid(axis="x", which="both", alpha=0.3)
    fig.tight_layout()
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    # A fixed hash salt and no date in the metadata: the same table draws the same file.
    plt.rcParams["svg.hashsalt"] = "cashier"
    fig.savefig(OUT, metadata={"Date": None})
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
