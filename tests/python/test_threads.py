"""Many Python threads at once: no lost counts, no deadlock between the GIL
and the library's locks, and clean exits with probes still running."""

import subprocess
import sys
import textwrap
import threading

import statusz
from statusz import Status

WAIT = 60.0  # real seconds before a stuck thread fails the test


def start(target, *args):
    t = threading.Thread(target=target, args=args, daemon=True)
    t.start()
    return t


def join_all(threads):
    for t in threads:
        t.join(WAIT)
    stuck = [t for t in threads if t.is_alive()]
    assert not stuck, f"{len(stuck)} threads did not finish (deadlock?)"


def test_no_count_lost_while_snapshotting(reg):
    base = "applications.servlet.requests.chatHttp."
    meter = reg.meter(base + "successes")
    keyed = reg.keyed(base + "errorsByBot")
    counter = reg.counter("volumes.currentDialogs")
    reg.probe("applications.servlet", lambda: Status.OK, timeout=WAIT)
    threads_n, per_thread = 8, 20_000
    keys = [f"bot-{i}" for i in range(10)]
    barrier = threading.Barrier(threads_n + 1)
    done = threading.Event()
    seen = []

    def work(i):
        mark, inc, step = meter.mark, keyed.inc, counter.inc
        barrier.wait()
        for j in range(per_thread):
            mark()
            inc(keys[(i + j) % 10])
            step()

    def watch():
        barrier.wait()
        while not done.is_set():
            doc = reg.snapshot()
            chat = doc["applications"]["servlet"]["requests"]["chatHttp"]
            seen.append((chat["successes"]["count"], sum(chat["errorsByBot"].values())))
            reg.to_json(pretty=True)

    workers = [start(work, i) for i in range(threads_n)]
    watcher = start(watch)
    join_all(workers)
    done.set()
    join_all([watcher])

    total = threads_n * per_thread
    assert meter.count == total
    assert counter.value == total
    assert sum(keyed.values()) == total
    assert all(keyed[k] == total // 10 for k in keys)
    doc = reg.snapshot()
    chat = doc["applications"]["servlet"]["requests"]["chatHttp"]
    assert chat["successes"]["count"] == total
    assert doc["volumes"]["currentDialogs"] == total
    assert seen, "the watcher took no snapshot"
    # Counts seen while writing only ever grow.
    assert seen == sorted(seen)


def test_registration_probes_gauges_and_snapshots_concurrently():
    """Replacing probe and gauge functions (which drops Python callables
    from C++ threads), registering, running probes and snapshotting, all at
    once from Python threads: everything finishes."""
    reg = statusz.Registry(host_name="h")  # real time: probes are fast
    rounds = 300
    barrier = threading.Barrier(5)
    errors = []

    def guard(fn):
        def run():
            try:
                barrier.wait()
                fn()
            except BaseException as e:  # pragma: no cover - reported below
                errors.append(e)
        return run

    def replace_probes():
        for i in range(rounds):
            reg.probe(f"applications.app{i % 4}",
                      lambda i=i: (Status.OK, f"run {i}"), timeout=WAIT)

    def replace_gauges():
        for i in range(rounds):
            reg.gauge(f"volumes.g{i % 3}", lambda i=i: [i, {"i": i}])

    def register():
        for i in range(rounds):
            reg.meter(f"applications.app{i % 4}.requests.m{i % 7}").mark()
            reg.keyed(f"applications.app{i % 4}.byBot").inc(f"bot{i % 5}")

    def snapshots():
        for _ in range(rounds // 3):
            doc = reg.snapshot()
            assert doc["status"] in ("Ok", "Unknown")
            reg.status()

    def run_probes():
        for i in range(rounds):
            p = reg.probe(f"applications.app{i % 4}", lambda: Status.OK, timeout=WAIT)
            assert p.run().status is Status.OK

    threads = [start(guard(f)) for f in
               (replace_probes, replace_gauges, register, snapshots, run_probes)]
    join_all(threads)
    assert not errors, errors
    doc = reg.snapshot()
    assert doc["status"] == "Ok"
    assert sum(m["count"] for app in doc["applications"].values()
               for m in app.get("requests", {}).values()) == rounds


def test_concurrent_clock_advance_and_probe_runs():
    """ManualClock.advance() takes the waiters' locks: it must not deadlock
    with probes whose Python functions advance the same clock."""
    clock = statusz.ManualClock()
    reg = statusz.Registry(clock=clock)
    m = reg.meter("a.m")

    def check():
        clock.advance(0.001)
        m.mark()
        return Status.OK

    for i in range(3):
        reg.probe(f"a.p{i}", check, timeout=3600.0)

    def advance():
        for _ in range(2000):
            clock.advance(0.01)

    def snap():
        for _ in range(100):
            assert reg.snapshot()["status"] == "Ok"

    join_all([start(advance), start(snap), start(snap)])
    # 3 probes, 2 x 100 snapshots; concurrent snapshots may share a run.
    assert 300 <= m.count <= 600


def run_script(code):
    """Runs code in a new interpreter; returns (exit code, stderr, the lines
    it printed with say())."""
    prelude = "def say(*a):\n    print('>>', *a, flush=True)\n"
    proc = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=WAIT)
    said = [ln[3:] for ln in proc.stdout.splitlines() if ln.startswith(">> ")]
    return proc.returncode, proc.stderr, said


def test_exit_with_a_hung_probe_is_clean():
    code, stderr, said = run_script("""
        import threading, statusz
        clock = statusz.ManualClock()
        reg = statusz.Registry(clock=clock)
        entered = threading.Event()
        @reg.probe("applications.runtime", timeout=1.0)
        def runtime():
            entered.set()
            threading.Event().wait()   # hangs forever
        out = {}
        t = threading.Thread(target=lambda: out.update(doc=reg.snapshot()))
        t.start()
        assert clock.await_waiters(1, timeout=30)
        assert entered.wait(30)
        clock.advance(1.0)
        t.join(30)
        say(out["doc"]["applications"]["runtime"]["status"])
    """)
    assert code == 0, stderr
    assert said == ["Unknown"]


def test_registry_destroyed_while_its_probe_hangs():
    """The registry goes away while its probe's Python function is still
    running; when the function returns, its worker drops it (and what it
    references) with the GIL, from a C++ thread."""
    code, stderr, said = run_script("""
        import gc, threading, statusz
        gate, entered, freed = threading.Event(), threading.Event(), threading.Event()
        clock = statusz.ManualClock()
        reg = statusz.Registry(clock=clock)
        class Payload:
            def __del__(self):
                freed.set()
        def make_probe():
            payload = Payload()
            def slow():
                entered.set()
                gate.wait()
                return statusz.Status.OK if payload else statusz.Status.KO
            return slow
        reg.probe("applications.slow", make_probe(), timeout=0.5)
        out = {}
        t = threading.Thread(target=lambda: out.update(doc=reg.snapshot()))
        t.start()
        assert clock.await_waiters(1, timeout=30) and entered.wait(30)
        clock.advance(0.5)
        t.join(30)
        say(out["doc"]["applications"]["slow"]["status"])
        del reg, out, t
        gc.collect()
        say("registry freed", freed.is_set())
        gate.set()                     # the orphaned run now finishes
        say("function freed", freed.wait(30))
    """)
    assert code == 0, stderr
    assert said == ["Unknown", "registry freed False", "function freed True"]
