#!/usr/bin/env python3
"""Runs hot_path_O2 and hot_path_O3 and prints medians and ratios.

usage: run.py TAG [--min-time S] [--repetitions N] [--report-only]
Writes results/TAG_O2.json and results/TAG_O3.json (Google Benchmark JSON)
and prints one table per binary. Standard library only.

Times: ns per call, the median of the repetitions. Single-threaded benchmarks
use CPU time (Google Benchmark's default); the 2-thread ones use real time
(UseRealTime), where Google Benchmark reports wall time / total iterations of
all threads, i.e. the aggregate cost per call: aggregate throughput ratio =
time(1 thread) / time(2 threads).
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# (label, statusz benchmark, baseline benchmark or None)
SINGLE = [
    ("mark() (a) local ref", "BM_meter_a_local_ref", "BM_base_a_local_ref"),
    ("mark() (b) fn-local static", "BM_meter_b_static", "BM_base_b_static"),
    ("mark() (c) member ptr", "BM_meter_c_member_ptr", "BM_base_c_member_ptr"),
    ("mark() (d) global ref", "BM_meter_d_global_ref", "BM_base_d_global_ref"),
    ("mark() (e) reg.meter() each call [not hot]", "BM_meter_e_lookup", "BM_base_e_lookup"),
    ("inc()+dec() (a) local ref", "BM_counter_pair_a_local_ref", "BM_base_pair_a_local_ref"),
    ("inc()+dec() (b) fn-local static", "BM_counter_pair_b_static", "BM_base_pair_b_static"),
    ("inc()+dec() (c) member ptr", "BM_counter_pair_c_member_ptr", "BM_base_pair_c_member_ptr"),
    ("keyed inc(uuid) (a) local ref", "BM_keyed_a_local_ref", "BM_base_hash_std"),
    ("keyed inc(uuid) (b) fn-local static", "BM_keyed_b_static", "BM_base_hash_std"),
    ("keyed inc(uuid) (c) member ptr", "BM_keyed_c_member_ptr", "BM_base_hash_std"),
    ("one_minute_rate()", "BM_meter_one_minute_rate", "BM_base_now_mutex"),
    ("Histogram::update(v)", "BM_histogram_update", "BM_base_hist_fetch_add"),
    ("Histogram::update(v)", "BM_histogram_update", "BM_base_hist_mutex"),
]
# Each statusz hot call against the one global shared fetch_add too.
VS_GLOBAL = ["BM_meter_a_local_ref", "BM_meter_b_static", "BM_meter_c_member_ptr",
             "BM_meter_d_global_ref"]
THREADED = ["BM_mt_base_fetch_add", "BM_mt_control_private", "BM_mt_meter_mark",
            "BM_mt_counter_inc"]


def run(binary, out, min_time, reps):
    cmd = [binary, f"--benchmark_repetitions={reps}",
           f"--benchmark_min_time={min_time}",
           "--benchmark_enable_random_interleaving=true",
           "--benchmark_report_aggregates_only=true",
           f"--benchmark_out={out}", "--benchmark_out_format=json"]
    print("$ " + " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def medians(path):
    with open(path) as f:
        data = json.load(f)
    out = {}
    for b in data["benchmarks"]:
        if b.get("run_type") != "aggregate" or b.get("aggregate_name") != "median":
            continue
        if b.get("error_occurred"):
            out[b["run_name"]] = None
            continue
        # run_name: "BM_x" or "BM_x/real_time/threads:2"
        key = b["run_name"]
        use_real = "real_time" in key
        out[key] = b["real_time" if use_real else "cpu_time"]
        if use_real:
            # CPU time summed over the threads / wall time: ~N when N threads
            # each had a core to themselves.
            out[key + "#cpu/real"] = b["cpu_time"] / b["real_time"]
    return out, data["context"]


def fmt(x):
    return "  n/a " if x is None else f"{x:6.2f}"


def table(tag, opt, path):
    m, ctx = medians(path)
    print(f"\n### {tag} -{opt}  ({ctx.get('date')}, {ctx.get('num_cpus')} CPUs,"
          f" load avg {ctx.get('load_avg')})")
    print("| what | statusz ns | baseline | baseline ns | ratio |")
    print("| --- | ---: | --- | ---: | ---: |")
    for label, s, b in SINGLE:
        sv, bv = m.get(s), m.get(b)
        r = None if sv is None or bv is None else sv / bv
        print(f"| {label} | {fmt(sv)} | {b.replace('BM_', '')} | {fmt(bv)} | {fmt(r)} |")
    g = m.get("BM_base_fetch_add_global")
    for s in VS_GLOBAL:
        sv = m.get(s)
        r = None if sv is None or g is None else sv / g
        print(f"| {s.replace('BM_', '')} vs global fetch_add | {fmt(sv)} |"
              f" base_fetch_add_global | {fmt(g)} | {fmt(r)} |")
    print("\n| 2 threads on one object (real time, aggregate ns/call) | 1 thread |"
          " 2 threads | aggregate throughput 2T/1T | cores got at 2T (cpu/real) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for s in THREADED:
        t1 = m.get(f"{s}/real_time/threads:1")
        t2 = m.get(f"{s}/real_time/threads:2")
        r = None if t1 is None or t2 is None else t1 / t2
        c2 = m.get(f"{s}/real_time/threads:2#cpu/real")
        print(f"| {s.replace('BM_', '')} | {fmt(t1)} | {fmt(t2)} | {fmt(r)} | {fmt(c2)} |")
    b1 = m.get("BM_mt_base_fetch_add/real_time/threads:1")
    for s in ("BM_mt_meter_mark", "BM_mt_counter_inc"):
        v = m.get(f"{s}/real_time/threads:1")
        r = None if v is None or b1 is None else v / b1
        print(f"| {s.replace('BM_', '')} 1T / mt_base_fetch_add 1T | {fmt(v)} |"
              f" {fmt(b1)} | {fmt(r)} (ratio of times) |")
    missing = [k for k, v in m.items() if v is None and "#" not in k]
    if missing:
        print("ERRORS in:", ", ".join(missing))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tag")
    ap.add_argument("--min-time", default="0.1")
    ap.add_argument("--repetitions", type=int, default=7)
    ap.add_argument("--report-only", action="store_true")
    a = ap.parse_args()
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    for opt in ("O2", "O3"):
        out = os.path.join(HERE, "results", f"{a.tag}_{opt}.json")
        if not a.report_only:
            run(os.path.join(HERE, f"hot_path_{opt}"), out, a.min_time, a.repetitions)
    for opt in ("O2", "O3"):
        table(a.tag, opt, os.path.join(HERE, "results", f"{a.tag}_{opt}.json"))


if __name__ == "__main__":
    sys.exit(main())
