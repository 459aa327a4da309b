#!/usr/bin/env python3
"""Plots statusz_bench's Google Benchmark JSON output.

    python3 bench/plot.py results.json -o OUTDIR

Writes OUTDIR/hot_path.png: wall ns per operation (median over repetitions,
all threads together: 1e9 / aggregate operations per second, so perfect
2-thread scaling halves it) of every hot-path operation and baseline, at 1
and 2 threads, for one shared object and for 1 000 objects round-robin; and
OUTDIR/cold_path.png: building the document (statusz vs nlohmann::json) by
number of keys.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check import Results, doc, hot  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ONE = [
    ("floor/plain_inc", "plain ++ (register)"),
    ("floor/plain_inc_tls_pointer", "plain ++ via TLS pointer"),
    ("statusz/meter_mark", "Meter::mark()"),
    ("base/atomic_fetch_add", "atomic fetch_add"),
    ("statusz/counter_inc", "Counter::inc()"),
    ("base/mutex_inc", "mutex ++"),
    ("base/hash_std", "std::hash(UUID)"),
    ("base/hash_statusz", "hash_bytes(UUID)"),
    ("statusz/keyed_inc", "KeyedCounter::inc()"),
    ("base/mutex_map_inc", "mutex + unordered_map"),
]
MANY = [
    ("floor/plain_inc_x1000", "plain ++ (register)"),
    ("statusz/meter_mark_x1000", "Meter::mark()"),
    ("base/atomic_fetch_add_x1000", "atomic fetch_add"),
    ("statusz/counter_inc_x1000", "Counter::inc()"),
    ("base/mutex_inc_x1000", "mutex ++"),
    ("base/hash_std_x1000", "std::hash(UUID)"),
    ("base/hash_statusz_x1000", "hash_bytes(UUID)"),
    ("statusz/keyed_inc_x1000", "KeyedCounter::inc()"),
    ("base/mutex_map_inc_x1000", "mutex + unordered_map"),
]


def color(op):
    if op.startswith("statusz/"):
        return "#1f77b4"
    if op.startswith("proto/"):
        return "#9ecae1"
    if op.startswith("floor/"):
        return "#2ca02c"
    return "#ff7f0e"


def hot_panel(ax, r, ops, title):
    ops = [(op, label) for op, label in ops if r.has(hot(op, 1)) and r.has(hot(op, 2))]
    ys = range(len(ops))
    h = 0.38
    for i, (op, label) in enumerate(ops):
        t1, t2 = r.ns(hot(op, 1)), r.ns(hot(op, 2))
        ax.barh(i - h / 2, t1, h, color=color(op))
        ax.barh(i + h / 2, t2, h, color=color(op), hatch="///", alpha=0.6)
        busy = " (machine busy)" if hot(op, 2) in r.busy else ""
        ax.text(t1 * 1.05, i - h / 2, f"{t1:.2g}", va="center", fontsize=7)
        ax.text(t2 * 1.05, i + h / 2, f"{t2:.2g}{busy}", va="center", fontsize=7)
    ax.set_yticks(list(ys))
    ax.set_yticklabels([label for _, label in ops], fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("wall ns per operation, all threads together (log scale; lower is better)")
    ax.set_title(title, fontsize=10)
    ax.grid(axis="x", which="both", alpha=0.3)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("json")
    ap.add_argument("-o", "--out", default=".")
    args = ap.parse_args()
    r = Results(args.json)
    os.makedirs(args.out, exist_ok=True)
    ctx = r.context

    fig, axes = plt.subplots(1, 2, figsize=(14, 6.5))
    hot_panel(axes[0], r, ONE, "one shared object / one key")
    hot_panel(axes[1], r, MANY, "1 000 objects / keys, round-robin")
    from matplotlib.patches import Patch
    handles = [Patch(color="#1f77b4", label="statusz"), Patch(color="#9ecae1", label="statusz, proposed fix (prototype)"),
               Patch(color="#ff7f0e", label="baseline"), Patch(color="#2ca02c", label="floor"),
               Patch(facecolor="white", edgecolor="black", label="1 thread"),
               Patch(facecolor="white", edgecolor="black", hatch="///", label="2 threads")]
    fig.legend(handles=handles, loc="lower center", ncol=6, fontsize=8)
    fig.suptitle(f"statusz hot path: median wall ns per operation at 1 and 2 threads (2 threads: aggregate)\n"
                 f"{ctx.get('cpu_model', '?')}, {ctx.get('num_cpus', '?')} CPUs (shared), "
                 f"{ctx.get('compiler', '')}, {ctx.get('date', '')}", fontsize=10)
    fig.tight_layout(rect=(0, 0.05, 1, 0.93))
    path = os.path.join(args.out, "hot_path.png")
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")

    fig, ax = plt.subplots(figsize=(8, 5))
    keys = [16, 1000, 10000, 100000]
    for op, label, style in [
        ("statusz/doc_json_pretty", "statusz snapshot + pretty JSON", "o-"),
        ("statusz/doc_json_compact", "statusz snapshot + compact JSON", "o--"),
            ("statusz/doc_prometheus", "statusz Prometheus text", "s-"),
        ("base/nlohmann_doc_pretty", "nlohmann::ordered_json build + dump(2)", "^-"),
        ("base/nlohmann_doc_compact", "nlohmann::ordered_json build + dump()", "^--"),
        ("base/nlohmann_sorted_doc_pretty", "nlohmann::json (sorted) build + dump(2)", "v-"),
    ]:
        xs, ys = [], []
        for k, arg in zip(keys, [0, 1000, 10000, 100000]):
            if r.has(doc(op, arg)):
                xs.append(k)
                ys.append(r.ns(doc(op, arg)) / 1e3)
        if xs:
            ax.plot(xs, ys, style, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("keys in errorsByBot (16 = the sample document)")
    ax.set_ylabel("us per document (log scale)")
    ax.set_title("statusz cold path: the sample document by number of keys", fontsize=10)
    ax.grid(which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = os.path.join(args.out, "cold_path.png")
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
