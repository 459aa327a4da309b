"""statusz.Probe and Registry.probe: results, errors, timeouts (driven by a
ManualClock: nothing sleeps), reuse, and hung Python probes."""

import threading

import pytest

import statusz
from statusz import Status

WAIT = 30.0  # real seconds a test waits for a thread before failing


def run_in_thread(fn):
    """Starts fn() in a thread; returns (thread, result dict)."""
    out = {}

    def target():
        try:
            out["value"] = fn()
        except BaseException as e:  # pragma: no cover - reported by the test
            out["error"] = e

    t = threading.Thread(target=target, daemon=True)
    t.start()
    return t, out


def test_status_message_and_duration_on_the_clock(clock):
    def check():
        clock.advance(0.04)
        return Status.WARNING, "disk 91% full"

    p = statusz.Probe(check, clock=clock)
    r = p.run()
    assert isinstance(r, statusz.ProbeReport)
    assert r.status is Status.WARNING
    assert r.message == "disk 91% full"
    assert r.duration == pytest.approx(0.04)
    assert r.duration_ns == 40_000_000
    assert r.timed_out is False
    assert r.reused is False
    assert repr(r) == ("ProbeReport(status=Status.WARNING, message='disk 91% full', "
                       "duration=0.04, timed_out=False, reused=False)")


@pytest.mark.parametrize("status", list(Status))
def test_each_status_passes_through(clock, status):
    assert statusz.Probe(lambda: status, clock=clock).run().status is status
    report = statusz.Probe(lambda: (status, None), clock=clock).run()
    assert report.status is status and report.message == ""


def test_unencodable_message_is_repaired(clock):
    r = statusz.Probe(lambda: (Status.WARNING, "disk \udc80 full"), clock=clock).run()
    assert r.status is Status.WARNING
    assert r.message == "disk \ufffd\ufffd\ufffd full"


def test_raising_is_ko_with_the_exception(clock):
    def check():
        raise RuntimeError("db down")

    r = statusz.Probe(check, clock=clock).run()
    assert r.status is Status.KO
    assert r.message == "RuntimeError: db down"

    def bare():
        raise KeyError

    assert statusz.Probe(bare, clock=clock).run().message == "KeyError"


@pytest.mark.parametrize("result, message", [
    (None, "TypeError: probe must return a Status or (Status, str), not NoneType"),
    (0, "TypeError: probe must return a Status or (Status, str), not int"),
    ("Ok", "TypeError: probe must return a Status or (Status, str), not str"),
    ((Status.OK,), "TypeError: probe must return a Status or (Status, str), not tuple"),
    (("Ok", "fine"), "TypeError: probe must return a Status or (Status, str), not tuple"),
    ((Status.OK, 5), "TypeError: probe message must be str, not int"),
    ([Status.OK, "x"], "TypeError: probe must return a Status or (Status, str), not list"),
])
def test_returning_something_else_is_ko(clock, result, message):
    r = statusz.Probe(lambda: result, clock=clock).run()
    assert r.status is Status.KO
    assert r.message == message


def test_probe_function_must_be_callable(clock, reg):
    with pytest.raises(TypeError, match="probe function must be callable, not str"):
        statusz.Probe("Ok", clock=clock)
    with pytest.raises(TypeError, match="probe function must be callable"):
        reg.probe("applications.x", 42)
    assert "applications.x" not in reg


@pytest.mark.parametrize("kwargs, match", [
    ({"timeout": 0.0}, "timeout must be > 0"),
    ({"timeout": -1.0}, "timeout must be > 0"),
    ({"timeout": float("nan")}, "timeout must be a finite number"),
    ({"timeout": float("inf")}, "timeout must be a finite number"),
    ({"timeout": 1e12}, "timeout is out of range"),
    ({"max_age": -0.5}, "max_age must be >= 0"),
])
def test_bad_options(clock, reg, kwargs, match):
    with pytest.raises(ValueError, match=match):
        statusz.Probe(lambda: Status.OK, clock=clock, **kwargs)
    with pytest.raises(ValueError, match=match):
        reg.probe("applications.x", lambda: Status.OK, **kwargs)


def test_options_are_properties(clock):
    p = statusz.Probe(lambda: Status.OK, clock=clock, timeout=2.0, max_age=0.5)
    assert (p.timeout, p.max_age) == (2.0, 0.5)
    p.timeout = 3.5
    p.max_age = 0.0
    assert (p.timeout, p.max_age) == (3.5, 0.0)
    with pytest.raises(ValueError, match="timeout must be > 0"):
        p.timeout = 0.0
    assert p.timeout == 3.5
    assert repr(p) == "Probe(timeout=3.5, max_age=0.0)"


def test_max_age_reuses_a_recent_result(clock):
    calls = []

    def check():
        calls.append(clock.now_ns)
        return Status.OK, f"run {len(calls)}"

    p = statusz.Probe(check, clock=clock, max_age=10.0)
    first = p.run()
    assert (first.message, first.reused) == ("run 1", False)
    clock.advance(10.0)
    second = p.run()
    assert (second.message, second.reused) == ("run 1", True)
    clock.advance(0.001)
    third = p.run()
    assert (third.message, third.reused) == ("run 2", False)
    assert len(calls) == 2


def test_timeout_reads_unknown_and_the_caller_returns(clock):
    gate = threading.Event()
    entered = threading.Event()

    def hung():
        entered.set()
        gate.wait()  # never set while the test looks
        return Status.OK

    p = statusz.Probe(hung, clock=clock, timeout=1.5)
    try:
        t, out = run_in_thread(p.run)
        assert clock.await_waiters(1, timeout=WAIT)
        assert entered.wait(WAIT)
        assert p.running
        clock.advance(1.5)
        t.join(WAIT)
        assert not t.is_alive()
        r = out["value"]
        assert r.status is Status.UNKNOWN
        assert r.timed_out is True
        assert r.message == "no answer within 1500 ms"
        assert r.duration == 1.5
        assert p.running  # still hung
    finally:
        gate.set()


def test_hung_python_probe_is_unknown_and_the_snapshot_returns(reg, clock):
    gate = threading.Event()
    entered = threading.Event()
    calls = []

    @reg.probe("applications.runtime", timeout=0.25)
    def runtime():
        calls.append(1)
        entered.set()
        gate.wait()  # never set while the test looks
        return Status.OK

    reg.probe("applications.dialog", lambda: Status.OK, timeout=3600.0)
    reg.counter("volumes.connectedPeople").set(9)
    try:
        for attempt in range(2):
            t, out = run_in_thread(reg.snapshot)
            assert clock.await_waiters(1, timeout=WAIT)
            assert entered.wait(WAIT)
            clock.advance(0.25)
            t.join(WAIT)
            assert not t.is_alive(), "snapshot did not return"
            doc = out["value"]
            assert doc["applications"]["runtime"] == {
                "status": "Unknown", "durationMs": 250 * (attempt + 1),
                "message": "no answer within 250 ms"}
            assert doc["applications"]["dialog"]["status"] == "Ok"
            assert doc["volumes"]["connectedPeople"] == 9
            assert doc["status"] == "Unknown"
        # The hung run was never started again.
        assert len(calls) == 1
    finally:
        gate.set()


def test_a_probe_may_use_the_registry(reg):
    c = reg.counter("volumes.currentDialogs")
    c.set(3)

    @reg.probe("applications.dialog")
    def dialog():
        reg.counter("volumes.probed").inc()  # registers while a snapshot runs
        return Status.WARNING if c.value > 2 else Status.OK

    doc = reg.snapshot()
    assert doc["applications"]["dialog"]["status"] == "Warning"
    assert reg.counter("volumes.probed").value == 1


def test_registry_probe_forms(reg, clock):
    @reg.probe("applications.runtime", timeout=2.0, max_age=0.0)
    def runtime():
        return Status.OK

    assert isinstance(runtime, statusz.Probe)
    assert (runtime.timeout, runtime.max_age) == (2.0, 0.0)
    assert runtime.run().status is Status.OK

    p = reg.probe("applications.sso", lambda: (Status.KO, "token service down"))
    assert p.timeout == 5.0
    doc = reg.snapshot()
    assert doc["applications"]["sso"] == {
        "status": "Ko", "durationMs": 0, "message": "token service down"}
    assert doc["status"] == "Ko"
    assert reg.status() is Status.KO

    # Registering again replaces the function and options of the same probe.
    again = reg.probe("applications.sso", lambda: Status.OK, timeout=1.0)
    assert again.timeout == 1.0
    assert reg.status() is Status.OK


def test_status_is_the_worst_probe(reg):
    assert reg.status() is Status.OK  # no probes
    reg.probe("applications.a", lambda: Status.OK)
    assert reg.status() is Status.OK
    reg.probe("applications.b", lambda: Status.WARNING)
    assert reg.status() is Status.WARNING
    reg.probe("applications.c", lambda: Status.UNKNOWN)
    assert reg.status() is Status.UNKNOWN
    reg.probe("applications.d", lambda: 1 / 0)
    assert reg.status() is Status.KO
    assert reg.snapshot()["applications"]["d"]["message"] == \
        "ZeroDivisionError: division by zero"


def test_probe_clashes(reg):
    reg.counter("applications.x.status")
    with pytest.raises(ValueError, match="cannot attach a probe"):
        reg.probe("applications.x", lambda: Status.OK)
    reg.probe("applications.y", lambda: Status.OK)
    with pytest.raises(ValueError, match="clashes with the probe"):
        reg.counter("applications.y.durationMs")
    reg.meter("applications.z")
    with pytest.raises(statusz.KindError):
        reg.probe("applications.z", lambda: Status.OK)
