#!/usr/bin/env python3
"""Per-call cost of statusz's hot calls from Python, against prometheus_client
and a plain Python counter under a threading.Lock, in one and two threads;
Histogram.update and `with Timer.time()` against prometheus_client's Histogram;
plus rendering the seed document (tests/data/serverstatus-sample.json).

    python bench/python_bench.py                 # table on stdout
    python bench/python_bench.py --json out.json # also the figures as JSON

Every figure is the median of --repeat runs of --number calls per thread,
expressed as wall time / calls made (so, with 2 threads, the cost per call of
the pair together). The loops are identical for every subject: a Python
`for` over a prebuilt list calling a bound method, whose own cost is shown
as "loop + call overhead" and included in every figure (not subtracted).
Needs: statusz (pip install .) and prometheus_client.
"""

import argparse
import gc
import importlib.metadata
import json
import os
import pathlib
import platform
import statistics
import sys
import threading
import time

import statusz

try:
    import prometheus_client
except ImportError:  # pragma: no cover - reported in the table
    prometheus_client = None

SAMPLE = pathlib.Path(__file__).resolve().parents[1] / "tests" / "data" / "serverstatus-sample.json"
VALUES = [  # histogram values: 16 ints from 1 000 to 512 555
    1000 * 2 ** (k * 10 // 16) + 37 * k for k in range(16)]
# The same, in seconds from 0.01 to 5.1: spread over prometheus_client's
# default buckets (0.005 to 10 s, scanned in order), as its observe() is meant
# to be fed; not all past its last bound (its slowest case), nor all in its
# first (its fastest).
SECONDS = [v / 1e5 for v in VALUES]
KEYS = [  # the sample's bot ids
    "0df33792-2271-472b-a817-bb0f556c016d", "3c1556aa-c715-464e-8d0d-9655399c2323",
    "84e8cb21-ef29-4334-ac6b-027d61803807", "c868780f-78d4-44be-a369-d0922d0f3ede",
    "5826436b-01e8-4ce0-adc9-206e7d639aa6", "dfe48d5d-ab32-48be-a26e-1fe3eb3cc1ec",
    "06516c4f-9316-4164-a749-21c4f8fc0cb4", "6c510ad0-7d9d-4ce7-8827-6d22daa3ed37",
    "ef07a37a-2f38-44f1-a2c4-d2e71e7c6d20", "4e3aca48-e3a4-4f06-8355-94e2975de855",
    "0d78d5ab-5f98-4304-9cf7-08fea68f95fd", "1d332804-adc4-4e12-88b9-cbb0ef3a6a87",
    "1793f1cb-17dd-46d6-9f3e-7987e07dbd20", "428861e2-0b89-4d17-a698-7517279900b9",
    "b4ef36d7-8d70-46bf-a70c-ea9edc078399", "382e4eab-ff06-4b15-83bd-0cf8c8dde391",
]


# ---- subjects: each returns (fn, args): args None (fn()) or a list cycled ----
# through (fn(a)): KEYS for keyed calls, VALUES for histograms.

def subjects():
    reg = statusz.Registry(host_name="bench")
    base = "applications.servlet.requests.chatHttp."
    meter = reg.meter(base + "successes")
    counter = reg.counter("volumes.connectedPeople")
    keyed = reg.keyed(base + "errorsByBot")
    for k in KEYS:
        keyed.inc(k)

    hist = reg.histogram(base + "bodyBytes")
    timer = reg.timer(base + "latency")

    def timer_with():
        with timer.time():
            pass

    lock = threading.Lock()

    class Plain:
        value = 0

    plain = Plain()

    def locked_inc():
        with lock:
            plain.value += 1

    # The cheapest C calls there are: what any call from the loop costs.
    empty_list = []
    empty_set = frozenset()

    out = {
        "loop + call overhead ([].clear())": (empty_list.clear, None),
        "statusz Meter.mark()": (meter.mark, None),
        "statusz Counter.inc()": (counter.inc, None),
        "statusz KeyedCounter.inc(key)": (keyed.inc, KEYS),
        "statusz Histogram.update(v)": (hist.update, VALUES),
        "statusz `with Timer.time(): pass` (in a function)": (timer_with, None),
        "Python += 1 under threading.Lock": (locked_inc, None),
        "loop + call overhead (frozenset().__contains__(key))": (
            empty_set.__contains__, KEYS),
        "loop + call overhead (frozenset().__contains__(v))": (
            empty_set.__contains__, VALUES),
    }
    if prometheus_client is not None:
        preg = prometheus_client.CollectorRegistry()
        pc = prometheus_client.Counter("chat_successes", "successes", registry=preg)
        pl = prometheus_client.Counter("chat_errors_by_bot", "errors", ["bot"],
                                       registry=preg)
        for k in KEYS:
            pl.labels(k).inc()

        def labels_inc(key):
            pl.labels(key).inc()

        ph = prometheus_client.Histogram("chat_latency_seconds", "latency", registry=preg)

        def ph_with():
            with ph.time():
                pass

        out["prometheus_client Histogram.observe(v)"] = (ph.observe, SECONDS)
        out["prometheus_client `with Histogram.time(): pass` (in a function)"] = (ph_with, None)
        out["prometheus_client Counter.inc()"] = (pc.inc, None)
        out["prometheus_client Counter.labels(key).inc()"] = (labels_inc, KEYS)
    return out


def cycled(args, number):
    return (args * (number // len(args) + 1))[:number]


def run_loop(fn, args, number):
    """Calls fn `number` times; returns nothing (timed by the caller)."""
    if args is not None:
        for a in cycled(args, number):
            fn(a)
    else:
        for _ in range(number):
            fn()


def time_calls(fn, args, number, threads):
    """ns per call: wall time of `threads` threads each making `number`
    calls, divided by all the calls made."""
    if threads == 1:
        values = cycled(args, number) if args is not None else None
        t0 = time.perf_counter_ns()
        if values is not None:
            for a in values:
                fn(a)
        else:
            for _ in range(number):
                fn()
        return (time.perf_counter_ns() - t0) / number
    barrier = threading.Barrier(threads + 1)
    done = []

    def worker():
        barrier.wait()
        run_loop(fn, args, number)
        done.append(time.perf_counter_ns())

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    barrier.wait()
    t0 = time.perf_counter_ns()
    for t in ts:
        t.join()
    return (max(done) - t0) / (number * threads)


def median_of(repeat, f):
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        samples = [f() for _ in range(repeat)]
    finally:
        if was:
            gc.enable()
    return statistics.median(samples), samples


# ---- the sample document ----------------------------------------------------

def build_sample(max_age):
    with open(SAMPLE, encoding="utf-8") as f:
        sample = json.load(f)
    reg = statusz.Registry(host_name=sample["hostName"], version=sample["version"])
    for name, value in sample["volumes"].items():
        reg.counter("volumes." + name).set(value)
    for app, body in sample["applications"].items():
        base = "applications." + app
        status = statusz.Status.parse(body["status"])
        reg.probe(base, lambda status=status: status, max_age=max_age)
        for group, metrics in body.get("requests", {}).items():
            prefix = f"{base}.requests.{group}."
            meters = {}
            for metric, value in metrics.items():
                if metric == "errorsByBot":
                    k = reg.keyed(prefix + metric)
                    for bot, n in value.items():
                        k.inc(bot, n)
                elif metric == "fiveMinuteErrorsRatio":
                    reg.ratio(prefix + metric, errors=meters["errors"],
                              successes=meters["successes"])
                else:
                    meters[metric] = reg.meter(prefix + metric)
                    meters[metric].mark(value["count"])
        for name, value in body.get("customs", {}).items():
            reg.counter(f"{base}.customs.{name}").set(value)
    return reg


def time_render(reg, number, what):
    f = {"to_json": lambda: reg.to_json(details=True, pretty=True),
         "snapshot": lambda: reg.snapshot(details=True)}[what]
    f()  # warm: worker threads started, plan built
    t0 = time.perf_counter_ns()
    for _ in range(number):
        f()
    return (time.perf_counter_ns() - t0) / number


def package_version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


# ---- main -------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--number", type=int, default=200_000,
                    help="calls per thread per run (default 200000)")
    ap.add_argument("--repeat", type=int, default=7, help="runs per figure (median)")
    ap.add_argument("--render-number", type=int, default=2_000,
                    help="documents rendered per run (default 2000)")
    ap.add_argument("--json", metavar="PATH", help="also write the figures as JSON "
                    "('-' for stdout)")
    args = ap.parse_args(argv)

    results = {"python": sys.version.split()[0], "platform": platform.platform(),
               "cpus": os.cpu_count(), "statusz": statusz.__version__,
               "prometheus_client": package_version("prometheus_client")
               if prometheus_client else None,
               "number": args.number, "repeat": args.repeat, "calls": {}, "render": {}}
    subj = subjects()
    for threads in (1, 2):
        for name, (fn, fn_args) in subj.items():
            med, samples = median_of(
                args.repeat, lambda: time_calls(fn, fn_args, args.number, threads))
            results["calls"].setdefault(name, {})[f"{threads}t"] = {
                "median_ns": med, "samples_ns": samples}

    for label, max_age in (("probes run on every render", 0.0),
                           ("probe results reused (max_age=60 s)", 60.0)):
        reg = build_sample(max_age)
        for what in ("to_json", "snapshot"):
            med, samples = median_of(
                args.repeat, lambda: time_render(reg, args.render_number, what))
            results["render"][f"{what}, {label}"] = {
                "median_us": med / 1000, "samples_us": [s / 1000 for s in samples]}

    comparisons = [
        ("statusz Meter.mark()", "prometheus_client Counter.inc()"),
        ("statusz Counter.inc()", "prometheus_client Counter.inc()"),
        ("statusz KeyedCounter.inc(key)", "prometheus_client Counter.labels(key).inc()"),
        ("statusz Histogram.update(v)", "prometheus_client Histogram.observe(v)"),
        ("statusz `with Timer.time(): pass` (in a function)",
         "prometheus_client `with Histogram.time(): pass` (in a function)"),
        ("statusz Meter.mark()", "Python += 1 under threading.Lock"),
        ("statusz Counter.inc()", "Python += 1 under threading.Lock"),
        ("statusz KeyedCounter.inc(key)", "Python += 1 under threading.Lock"),
    ]
    results["ratios"] = {}
    for ours, theirs in comparisons:
        if theirs not in results["calls"]:
            continue
        for t in ("1t", "2t"):
            r = (results["calls"][theirs][t]["median_ns"]
                 / results["calls"][ours][t]["median_ns"])
            results["ratios"].setdefault(f"{ours} vs {theirs}", {})[t] = r

    print(f"statusz {results['statusz']}, prometheus_client "
          f"{results['prometheus_client']}, Python {results['python']}, "
          f"{results['cpus']} CPUs; median of {args.repeat} runs")
    print()
    print(f"{'ns per call (wall / calls)':<56} {'1 thread':>10} {'2 threads':>10}")
    for name, row in results["calls"].items():
        print(f"{name:<56} {row['1t']['median_ns']:>10.1f} {row['2t']['median_ns']:>10.1f}")
    print()
    print(f"{'speed-up (their ns / our ns)':<78} {'1t':>6} {'2t':>6}")
    for name, row in results["ratios"].items():
        print(f"{name:<78} {row['1t']:>5.1f}x {row['2t']:>5.1f}x")
    print()
    print(f"{'rendering the sample document (details, pretty)':<62} {'us':>8}")
    for name, row in results["render"].items():
        print(f"{name:<62} {row['median_us']:>8.1f}")

    if args.json:
        text = json.dumps(results, indent=2)
        if args.json == "-":
            print(text)
        else:
            with open(args.json, "w", encoding="utf-8") as f:
                f.write(text + "\n")
    return results


if __name__ == "__main__":
    main()
