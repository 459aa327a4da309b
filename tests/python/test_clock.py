"""statusz.ManualClock, statusz.SteadyClock, statusz.default_clock."""

import threading

import pytest

import statusz


def test_manual_clock_starts_at_zero_and_moves_only_when_told():
    clock = statusz.ManualClock()
    assert clock.now_ns == 0
    assert clock.now == 0.0
    assert clock.wall_time == 0.0
    clock.advance(1.5)
    assert clock.now_ns == 1_500_000_000
    assert clock.now == 1.5
    clock.advance_ns(7)
    assert clock.now_ns == 1_500_000_007
    clock.advance(0)
    assert clock.now_ns == 1_500_000_007
    assert repr(clock) == "ManualClock(now_ns=1500000007)"


def test_wall_start():
    clock = statusz.ManualClock(wall_start=1553622049.0)
    assert clock.wall_time == 1553622049.0
    clock.advance(0.25)
    assert clock.wall_time == pytest.approx(1553622049.25)
    assert clock.now == 0.25


@pytest.mark.parametrize("bad, error", [
    (-1.0, ValueError), (float("nan"), ValueError), (float("inf"), ValueError),
    (1e300, ValueError), ("1", TypeError)])
def test_advance_rejects_bad_durations(bad, error):
    clock = statusz.ManualClock()
    with pytest.raises(error):
        clock.advance(bad)
    assert clock.now_ns == 0


def test_advance_ns_rejects_going_backwards():
    clock = statusz.ManualClock()
    with pytest.raises(ValueError, match="cannot go backwards"):
        clock.advance_ns(-1)
    with pytest.raises(TypeError):
        clock.advance_ns(1.5)


def test_waiters_and_await_waiters():
    clock = statusz.ManualClock()
    assert clock.waiters == 0
    assert clock.await_waiters(0) is True
    assert clock.await_waiters(1, timeout=0.0) is False
    gate = threading.Event()

    def hung():
        gate.wait()
        return statusz.Status.OK

    p = statusz.Probe(hung, clock=clock, timeout=1.0)
    out = {}
    t = threading.Thread(target=lambda: out.update(r=p.run()), daemon=True)
    try:
        t.start()
        assert clock.await_waiters(1, timeout=30.0) is True
        assert clock.waiters == 1
        clock.advance(1.0)
        t.join(30.0)
        assert not t.is_alive()
        assert clock.waiters == 0
        assert out["r"].status is statusz.Status.UNKNOWN
    finally:
        gate.set()


def test_steady_clock_moves_by_itself():
    clock = statusz.SteadyClock()
    a = clock.now_ns
    b = clock.now_ns
    assert b >= a > 0
    assert clock.wall_time > 1.5e9  # after 2017
    assert repr(clock) == "SteadyClock()"


def test_default_clock():
    clock = statusz.default_clock()
    assert isinstance(clock, statusz.SteadyClock)
    assert isinstance(clock, statusz.Clock)
    earlier = clock.now_ns
    assert statusz.default_clock().now_ns >= earlier
    assert isinstance(statusz.Registry().clock, statusz.SteadyClock)


def test_clock_is_abstract():
    with pytest.raises(TypeError):
        statusz.Clock()
    with pytest.raises(TypeError):
        statusz.ProbeReport()


def test_a_registry_on_a_steady_clock_of_its_own():
    clock = statusz.SteadyClock()
    reg = statusz.Registry(clock=clock)
    m = reg.meter("a.m")
    m.mark(3)
    assert m.count == 3
    assert reg.clock is clock
