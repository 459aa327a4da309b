"""statusz.Timer and statusz.Histogram from Python: recording, the context
manager and decorator (also when the body raises), snapshots against an exact
model, the window with a ManualClock (no sleeping), threads, the exposition
through both prometheus_client parsers, and the stubs."""

import ast
import asyncio
import functools
import inspect
import math
import pathlib
import random
import re
import threading

import pytest
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_openmetrics,
)
from prometheus_client.parser import text_string_to_metric_families as parse_text

import statusz
from statusz import _core

BOUND = 1 / 128  # the headers' stated relative error
STATS = ["min", "mean", "max", "stddev", "p50", "p75", "p95", "p98", "p99", "p999"]


def nearest_rank(sorted_values, q):
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def test_histogram_matches_the_exact_model():
    clock = statusz.ManualClock()
    h = statusz.Histogram(clock=clock)
    rng = random.Random(1)
    values = [int(rng.lognormvariate(10, 2)) for _ in range(20000)]
    for v in values:
        h.update(v)
    values.sort()
    s = h.snapshot()
    assert list(s) == ["count", "sum"] + STATS
    assert s["count"] == len(values) == h.count
    assert s["sum"] == sum(values)
    assert s["mean"] == pytest.approx(sum(values) / len(values), rel=1e-12)
    for name, q in [("p50", 0.5), ("p75", 0.75), ("p95", 0.95), ("p98", 0.98),
                    ("p99", 0.99), ("p999", 0.999)]:
        exact = nearest_rank(values, q)
        assert abs(s[name] - exact) <= BOUND * exact, name
        assert abs(h.quantile(q) - exact) <= BOUND * exact
    assert h.quantile(0, window=False) == values[0]
    assert h.quantile(1, window=False) == values[-1]


def test_histogram_rejects_bad_values():
    h = statusz.Histogram(clock=statusz.ManualClock())
    h.update(0)
    h.update(2**64 - 1)
    with pytest.raises(ValueError, match="value must be >= 0"):
        h.update(-1)
    with pytest.raises(ValueError, match="below 2\\*\\*64"):
        h.update(2**64)
    with pytest.raises(TypeError, match="value must be an int, not float"):
        h.update(1.5)
    with pytest.raises(TypeError, match="exactly one argument"):
        h.update()
    h.update(value=3)
    assert h.count == 3
    with pytest.raises(ValueError):
        h.quantile(1.5)
    with pytest.raises(ValueError):
        statusz.Histogram(window_ticks=0)


def test_timer_context_manager_records_the_clocks_time():
    clock = statusz.ManualClock()
    t = statusz.Timer(clock=clock)
    with t.time():
        clock.advance(0.002)
    with pytest.raises(RuntimeError):
        with t.time():
            clock.advance(0.005)
            raise RuntimeError("boom")
    assert t.count == 2
    s = t.snapshot()
    assert list(s) == ["fiveMinuteRate", "oneMinuteRate", "fifteenMinuteRate",
                       "count", "meanRate", "durationMs"]
    assert list(s["durationMs"]) == STATS
    assert s["durationMs"]["max"] == pytest.approx(5.0, rel=BOUND)
    assert s["durationMs"]["min"] == pytest.approx(2.0, rel=BOUND)
    assert s["durationMs"]["mean"] == pytest.approx(3.5, rel=1e-12)


def test_timer_decorator_times_each_call_also_when_it_raises():
    clock = statusz.ManualClock()
    t = statusz.Timer(clock=clock)

    @t.time()
    def work(x, *, y=1):
        """Does work."""
        clock.advance(0.001 * x)
        if y == 0:
            raise ValueError("y")
        return x + y

    assert work.__name__ == "work"
    assert work.__doc__ == "Does work."
    assert work(3) == 4
    assert work(2, y=5) == 7
    with pytest.raises(ValueError):
        work(7, y=0)
    assert t.count == 3
    assert t.quantile(1, window=False) == pytest.approx(0.007, rel=BOUND)
    assert t.quantile(0, window=False) == pytest.approx(0.002, rel=BOUND)

    class Service:
        @t.time()
        def handle(self):
            return self

    svc = Service()
    assert svc.handle() is svc  # works on methods too
    assert t.count == 4
    with pytest.raises(TypeError):
        t.time()(42)


def test_timer_decorator_times_a_coroutine_until_its_await_ends():
    clock = statusz.ManualClock()
    t = statusz.Timer(clock=clock)

    @t.time()
    async def fetch(x):
        """Fetches."""
        await asyncio.sleep(0)  # suspends: the await is part of the call
        clock.advance(0.001 * x)
        if x == 0:
            raise ValueError("x")
        return x

    assert inspect.iscoroutinefunction(fetch)
    assert (fetch.__name__, fetch.__doc__) == ("fetch", "Fetches.")
    assert asyncio.run(fetch(4)) == 4
    clock.advance(1.0)  # between the calls: not timed
    with pytest.raises(ValueError):
        asyncio.run(fetch(0))
    assert t.count == 2
    assert t.quantile(1, window=False) == pytest.approx(0.004, rel=BOUND)
    assert t.quantile(0, window=False) == 0


def test_timer_decorator_times_other_awaitable_callables_until_done():
    # Decided by what a call returns, not only by inspect at decoration: an
    # object's async __call__ and a partial of it returned a coroutine that
    # was timed at its creation (~0).
    clock = statusz.ManualClock()
    t = statusz.Timer(clock=clock)

    class Fetcher:
        async def __call__(self, x):
            await asyncio.sleep(0)
            clock.advance(0.001 * x)
            return x

    class Service:
        @t.time()
        @staticmethod
        async def ping():
            clock.advance(0.002)
            return "pong"

        @t.time()
        @classmethod
        def name(cls):
            clock.advance(0.003)
            return cls.__name__

    timed_object = t.time()(Fetcher())
    timed_partial = t.time()(functools.partial(Fetcher(), 5))
    assert asyncio.run(timed_object(4)) == 4
    assert asyncio.run(timed_partial()) == 5
    assert asyncio.run(Service().ping()) == "pong"  # stays a staticmethod
    assert inspect.iscoroutinefunction(Service.ping)
    assert Service().name() == "Service"  # stays a classmethod
    assert t.count == 4
    values = sorted(t.quantile(q, window=False) for q in (0, 1 / 3, 2 / 3, 1))
    assert values == pytest.approx([0.002, 0.003, 0.004, 0.005], rel=BOUND)


def test_timer_decorator_refuses_generator_functions():
    t = statusz.Timer(clock=statusz.ManualClock())

    def rows():
        yield 1

    async def stream():
        yield 1

    for fn in (rows, stream):
        with pytest.raises(TypeError, match="generator function"):
            t.time()(fn)
    assert t.count == 0


def test_timer_context_is_made_only_by_time():
    # A TimerContext made by calling its type had no timer: entering it
    # crashed the process.
    with pytest.raises(TypeError, match="Timer.time"):
        statusz.TimerContext()
    with pytest.raises(TypeError, match="Timer.time"):
        type(statusz.Timer().time())()


def test_timer_update_and_update_ns():
    t = statusz.Timer(clock=statusz.ManualClock())
    t.update(0.25)
    t.update(seconds=1.5)
    t.update_ns(1000)
    t.update_ns(ns=0)
    assert t.count == 4
    assert t.quantile(1) == pytest.approx(1.5, rel=BOUND)
    assert t.quantile(0) == 0.0
    for bad in (-1.0, math.nan, math.inf, 1e10, 9.2e9):
        with pytest.raises(ValueError, match="below 9.2e9"):
            t.update(bad)
    t.update(9.19e9)
    with pytest.raises(ValueError):
        t.update_ns(-1)
    for big in (2**63, 2**64, 2**100):  # the bound named is the one applied
        with pytest.raises(ValueError, match=r"below 2\*\*63"):
            t.update_ns(big)
    t.update_ns(2**63 - 1)
    with pytest.raises(TypeError):
        t.update_ns(1.0)
    assert t.count == 6


def test_window_empties_after_idle_and_counts_stay():
    clock = statusz.ManualClock()
    reg = statusz.Registry(clock=clock)
    t = reg.timer("app.latency")
    h = reg.histogram("app.sizes", window_ticks=2)  # 10 s
    t.update(0.010)
    h.update(100)
    clock.advance(9.0)
    assert h.snapshot()["p50"] == 100.0
    clock.advance(1.0)  # 10 s: beyond h's window
    assert h.snapshot()["p50"] == 0.0
    assert h.snapshot()["count"] == 1
    assert t.snapshot()["durationMs"]["p99"] == pytest.approx(10.0, rel=BOUND)
    clock.advance(50.0)  # 60 s: beyond t's window
    s = t.snapshot()
    assert s["durationMs"] == dict.fromkeys(STATS, 0.0)
    assert s["count"] == 1


def test_registry_kinds_and_document():
    clock = statusz.ManualClock()
    reg = statusz.Registry(clock=clock)
    t = reg.timer("app.latency")
    assert reg.timer("app.latency") is t
    assert reg.kind("app.latency") is statusz.Kind.TIMER
    reg.histogram("app.sizes")
    assert reg.kind("app.sizes") is statusz.Kind.HISTOGRAM
    with pytest.raises(statusz.KindError) as e:
        reg.meter("app.latency")
    assert e.value.existing is statusz.Kind.TIMER
    with pytest.raises(statusz.KindError):
        reg.timer("app.sizes")
    with t.time():
        clock.advance(0.003)
    doc = reg.snapshot()
    assert doc["app"]["latency"]["count"] == 1
    assert doc["app"]["latency"]["durationMs"]["p50"] == pytest.approx(3.0, rel=BOUND)
    assert "app" not in reg.snapshot(details=False)


def test_threads_record_exactly():
    reg = statusz.Registry(clock=statusz.ManualClock())
    t = reg.timer("t")
    h = reg.histogram("h")
    n_threads, per = 4, 5000
    stop = threading.Event()

    def render():
        while not stop.is_set():
            reg.to_prometheus()
            reg.to_json()

    def work(k):
        for i in range(per):
            h.update(i + k)
            t.update_ns(i)
            with t.time():
                pass

    reader = threading.Thread(target=render)
    reader.start()
    workers = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    stop.set()
    reader.join()
    assert h.count == n_threads * per
    assert h.snapshot()["sum"] == sum(i + k for k in range(n_threads) for i in range(per))
    assert t.count == 2 * n_threads * per


def test_exposition_parses_in_both_parsers_with_exact_buckets():
    clock = statusz.ManualClock()
    reg = statusz.Registry(clock=clock)
    t = reg.timer("app.requests.latency")
    h = reg.histogram("app.queueDepth")
    rng = random.Random(2)
    durations = [rng.randrange(1, 3_000_000_000) for _ in range(3000)]
    depths = [rng.randrange(0, 5000) for _ in range(3000)]
    for d in durations:
        t.update_ns(d)
    for v in depths:
        h.update(v)
    reg.meter("app.requests.latencySeconds.count").mark()  # would clash
    clock.advance(6.0)
    text = reg.to_prometheus()
    families = {f.name: f for f in parse_text(text)}
    lat = families["statusz_app_requests_latency_seconds"]
    assert lat.type == "histogram"
    buckets = [(s.labels["le"], s.value) for s in lat.samples if s.name.endswith("_bucket")]
    assert buckets[-1] == ("+Inf", 3000)
    for le, count in buckets[:-1]:
        ns = round(float(le) * 1e9)
        assert count == sum(1 for d in durations if d <= ns), le
    count = [s.value for s in lat.samples if s.name.endswith("_count")]
    assert count == [3000]
    depth = families["statusz_app_queue_depth"]
    for s in depth.samples:
        if s.name.endswith("_bucket") and s.labels["le"] != "+Inf":
            le = int(float(s.labels["le"]))
            assert s.value == sum(1 for v in depths if v <= le)
    om = list(parse_openmetrics(reg.to_prometheus(openmetrics=True)))
    names = {f.name: f.type for f in om}
    assert names["statusz_app_requests_latency_seconds"] == "histogram"
    assert names["statusz_app_requests_latency_rate"] == "gauge"
    assert names["statusz_app_queue_depth"] == "histogram"


def stub_class(name):
    tree = ast.parse((pathlib.Path(statusz.__file__).parent / "_core.pyi").read_text())
    return next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name)


def test_stubs_of_the_fast_methods_match_the_runtime():
    for cls_name, method in [("Histogram", "update"), ("Timer", "update"),
                             ("Timer", "update_ns")]:
        runtime = inspect.signature(getattr(getattr(_core, cls_name), method))
        stub = next(n for n in stub_class(cls_name).body
                    if isinstance(n, ast.FunctionDef) and n.name == method)
        assert list(runtime.parameters) == [a.arg for a in stub.args.args]
    methods = {n.name for n in stub_class("TimerContext").body
               if isinstance(n, ast.FunctionDef)}
    assert {"__enter__", "__exit__", "__call__"} <= methods
    for m in methods:
        assert hasattr(statusz.TimerContext, m)


def test_readme_timers_snippet(capsys):
    from test_readme_snippets import run, snippet

    ns = run(snippet("README.md", "python-timers"), "README.md")
    latency = ns["latency"]
    assert latency.count == 3
    p99 = float(capsys.readouterr().out)
    assert p99 == pytest.approx(4.0, rel=BOUND)


# ---- the statusz command: watch, check, demo --------------------------------

from statusz import cli  # noqa: E402


def latency_registry(p99_ms):
    clock = statusz.ManualClock()
    reg = statusz.Registry(clock=clock, host_name="h")
    reg.probe("applications.runtime", lambda: statusz.Status.OK)
    t = reg.timer("applications.servlet.requests.chatHttp.latency")
    for _ in range(99):
        t.update(0.001)
    t.update(p99_ms / 1000)  # the 100th value: p99 is the 99th, p999 this one
    for _ in range(900):
        t.update(p99_ms / 1000)
    clock.advance(1.0)
    return reg


def test_watch_shows_each_timers_count_rate_p50_p99():
    reg = latency_registry(250.0)
    doc = reg.snapshot()
    lines = [text for text, _ in cli.render_watch(doc, "http://h", 100)]
    header = next(i for i, t in enumerate(lines) if t.startswith("timer"))
    assert lines[header].split() == ["timer", "count", "1m/s", "p50", "ms", "p99", "ms"]
    row = lines[header + 1].split()
    assert row[0] == "servlet.chatHttp.latency"
    assert row[1] == "1000"
    assert float(row[3]) == pytest.approx(250.0, rel=BOUND)
    assert float(row[4]) == pytest.approx(250.0, rel=BOUND)
    assert not any(t.startswith("meter") for t in lines)  # not also a meter row
    for width in (40, 60):
        assert all(len(t) <= width for t, _ in cli.render_watch(doc, "http://h", width))


@pytest.mark.parametrize("args, code, label", [
    ([], 0, "OK"),
    (["--warning-p99-ms", "300"], 0, "OK"),
    (["--warning-p99-ms", "200"], 1, "WARNING"),
    (["--warning-p99-ms", "100", "--critical-p99-ms", "200"], 2, "CRITICAL"),
    (["--critical-p99-ms", "200", "--timer", "applications.servlet.requests.chatHttp.latency"],
     2, "CRITICAL"),
    (["--critical-p99-ms", "200", "--timer", "no.such.timer"], 3, "UNKNOWN"),
])
def test_check_alerts_on_a_timers_p99(args, code, label):
    reg = latency_registry(250.0)
    with statusz.serve(reg, port=0) as srv:
        assert cli.main(["check", srv.url] + args) == code
        parsed = cli.build_parser().parse_args(["check", srv.url] + args)
        got, line = cli.check(srv.url, 10.0, None, None, None, parsed.warning_p99_ms,
                              parsed.critical_p99_ms, parsed.timer)
    assert got == code
    assert line.startswith(f"STATUSZ {label}:")
    if "no.such.timer" not in args:
        perf = re.search(r"'applications\.servlet\.requests\.chatHttp\.latency_p99'=([0-9.]+)ms", line)
        assert float(perf.group(1)) == pytest.approx(250.0, rel=BOUND)


@pytest.mark.parametrize("bad", ["-1", "nan", "fast"])
def test_check_rejects_bad_milliseconds(capsys, bad):
    with pytest.raises(SystemExit) as e:
        cli.main(["check", "http://127.0.0.1:1", "--warning-p99-ms", bad])
    assert e.value.code == 3
    out = capsys.readouterr().out
    assert out.startswith("STATUSZ UNKNOWN: usage:")


def test_demo_keeps_the_seed_shape_and_latency_adds_a_timer():
    from statusz.demo import DemoPlatform

    plain = DemoPlatform(clock=statusz.ManualClock(), seed=1, probe_delay=False)
    plain.step(10)
    chat = plain.registry.snapshot()["applications"]["servlet"]["requests"]["chatHttp"]
    assert "latency" not in chat
    timed = DemoPlatform(clock=statusz.ManualClock(), seed=1, probe_delay=False, latency=True)
    timed.step(10)
    chat = timed.registry.snapshot()["applications"]["servlet"]["requests"]["chatHttp"]
    assert chat["latency"]["count"] == chat["successes"]["count"] + chat["errors"]["count"] > 0
    assert 5 < chat["latency"]["durationMs"]["p50"] < 500
