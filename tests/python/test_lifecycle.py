"""Interpreter exit with statusz threads still busy, uninitialised objects,
and garbage collection of standalone probes and gauges.

Each exit scenario runs in a fresh interpreter several times: the exit code
must be 0 every time, the process must end within the probe timeout plus a
small bound, and nothing may be printed to stderr (no "terminate called",
no "Fatal Python error")."""

import gc
import subprocess
import sys
import textwrap
import threading
import time
import weakref

import pytest

import statusz
from statusz import Status

RUNS = 5
BOUND = 3.0  # seconds an interpreter may take to start, run and exit


def run_script(code, runs=RUNS, bound=BOUND):
    """Runs code `runs` times; returns the stdout of the last run."""
    out = ""
    for _ in range(runs):
        t0 = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            capture_output=True, text=True, timeout=60,
        )
        elapsed = time.monotonic() - t0
        assert proc.returncode == 0, (proc.returncode, proc.stderr)
        assert proc.stderr == "", proc.stderr
        assert elapsed < bound, f"exit took {elapsed:.2f} s"
        out = proc.stdout
    return out


def test_exit_while_a_pure_python_probe_computes():
    # The probe computes for ~20 s; the process must not wait for it.
    out = run_script("""
        import statusz
        def busy():
            total, end = 0, __import__("time").monotonic() + 20
            while __import__("time").monotonic() < end:
                total += sum(range(100))
            return statusz.Status.OK
        def main():
            reg = statusz.Registry()
            reg.probe("busy", busy, timeout=0.1)
            doc = reg.to_json()
            print("Unknown" in doc)
        main()
    """)
    assert out.strip() == "True"


def test_exit_while_a_probe_hangs_forever():
    run_script("""
        import threading, statusz
        reg = statusz.Registry()
        reg.probe("hung", lambda: threading.Event().wait() or statusz.Status.OK,
                  timeout=0.1)
        assert reg.status() == statusz.Status.UNKNOWN
    """)


@pytest.mark.parametrize("call", [
    "reg.to_json()",
    "reg.status()",
    "probe.run()",
    "reg.snapshot()",
    "meter.snapshot()",
    "meter.one_minute_rate + meter.mean_rate",
])
def test_exit_while_a_daemon_thread_waits_in_a_gil_releasing_call(call):
    run_script(f"""
        import threading, time, statusz
        reg = statusz.Registry()
        def slow():
            time.sleep(0.05)
            return statusz.Status.OK
        reg.probe("slow", slow, timeout=0.5)
        probe = statusz.Probe(slow, timeout=0.5)
        meter = reg.meter("requests")
        started = threading.Event()
        def loop():
            while True:
                started.set()
                {call}
        for _ in range(3):
            threading.Thread(target=loop, daemon=True).start()
        started.wait()
        time.sleep(0.02)
    """)


def test_exit_while_probes_call_back_into_their_registry():
    run_script("""
        import threading, time, statusz
        reg = statusz.Registry()
        def nested():
            reg.to_json()
            reg.status()
            return statusz.Status.OK
        for i in range(4):
            reg.probe(f"p{i}", nested, timeout=0.5)
        started = threading.Event()
        def loop():
            while True:
                started.set()
                reg.to_json()
        for _ in range(2):
            threading.Thread(target=loop, daemon=True).start()
        started.wait()
        time.sleep(0.02)
        print(reg.status())
    """)


def test_exit_while_a_server_answers_requests():
    run_script("""
        import threading, time, urllib.request, statusz
        reg = statusz.Registry()
        def slow():
            time.sleep(0.05)
            return statusz.Status.OK
        reg.probe("slow", slow, timeout=0.5)
        server = statusz.serve(reg, port=0)
        started = threading.Event()
        def client():
            while True:
                started.set()
                try:
                    urllib.request.urlopen(server.url, timeout=5).read()
                except OSError:
                    pass
        for _ in range(2):
            threading.Thread(target=client, daemon=True).start()
        started.wait()
        time.sleep(0.1)
    """)


def test_a_probe_using_its_own_registry_does_not_wait_for_itself():
    clock = statusz.ManualClock()  # never advanced: a self-wait never ends
    reg = statusz.Registry(clock=clock)
    seen = []

    def probe():
        seen.append(reg.status())
        return Status.WARNING, "self"

    reg.probe("applications.self", probe, timeout=5.0)
    result = []
    t = threading.Thread(target=lambda: result.append(reg.status()), daemon=True)
    t.start()
    t.join(10)
    assert result == [Status.WARNING]
    assert seen == [Status.UNKNOWN]  # running, no earlier result
    assert reg.status() == Status.WARNING
    assert seen[1] == Status.WARNING  # its last result


BOUND_CLASSES = [
    "Meter", "Counter", "KeyedCounter", "Registry", "Probe", "Gauge",
    "ManualClock", "SteadyClock", "ProbeReport",
]


@pytest.mark.parametrize("name", BOUND_CLASSES)
def test_uninitialised_objects_raise_type_error(name):
    cls = getattr(statusz, name)
    obj = cls.__new__(cls)
    members = [m for m in dir(cls)
               if not m.startswith("__") or m in ("__repr__", "__len__",
                                                  "__int__", "__iter__")]
    checked = 0
    for m in members:
        if m in ("OVERFLOW_KEY", "parse"):
            continue
        attr = inspect_attr(cls, m)
        if attr is None:
            continue
        with pytest.raises(TypeError):
            value = getattr(obj, m)
            if callable(value):
                try:
                    value()
                except TypeError:
                    raise
                except Exception:  # wrong arguments would be a TypeError too
                    pass
        checked += 1
    assert checked > 0
    with pytest.raises(TypeError):
        repr(obj)


def inspect_attr(cls, name):
    for klass in cls.__mro__:
        if name in vars(klass):
            return vars(klass)[name]
    return None


def test_uninitialised_snapshot_and_mark_raise_type_error():
    m = statusz.Meter.__new__(statusz.Meter)
    with pytest.raises(TypeError, match="not initialized"):
        m.snapshot()
    with pytest.raises(TypeError, match="not initialized"):
        m.mark()
    with pytest.raises(TypeError, match="not initialized"):
        m.count
    r = statusz.Registry.__new__(statusz.Registry)
    with pytest.raises(TypeError, match="not initialized"):
        r.to_json()
    p = statusz.Probe.__new__(statusz.Probe)
    with pytest.raises(TypeError, match="not initialized"):
        p.run()
    c = statusz.Counter.__new__(statusz.Counter)
    with pytest.raises(TypeError, match="not initialized"):
        c.value
    with pytest.raises(TypeError, match="not initialized"):
        c.inc()


def worker_threads():
    return threading.active_count(), len(__import__("os").listdir("/proc/self/task"))


class OwnsAProbe:
    def __init__(self):
        self.probe = statusz.Probe(self.check, timeout=1.0)

    def check(self):
        return Status.OK


class OwnsAGauge:
    def __init__(self):
        self.gauge = statusz.Gauge(self.read)

    def read(self):
        return 1


@pytest.mark.parametrize("cls", [OwnsAProbe, OwnsAGauge])
def test_standalone_probe_or_gauge_on_an_owner_method_is_collected(cls):
    import os
    gc.collect()
    tasks_before = len(os.listdir("/proc/self/task"))
    refs = []
    for _ in range(20):
        owner = cls()
        if cls is OwnsAProbe:
            assert owner.probe.run().status == Status.OK
        else:
            assert owner.gauge.value() == 1
        refs.append(weakref.ref(owner))
        del owner
    gc.collect()
    assert all(r() is None for r in refs)
    # Their worker threads ended with them.
    deadline = time.monotonic() + 10
    while len(os.listdir("/proc/self/task")) > tasks_before + 2:
        assert time.monotonic() < deadline, "probe threads were not released"
        time.sleep(0.01)
