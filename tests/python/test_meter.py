"""statusz.Meter: counts and Dropwizard rates, checked against the
independent model in conftest.py, with a ManualClock (no sleeping)."""

import gc
import weakref

import pytest

import statusz
from conftest import MeterModel


def assert_rates(meter, model):
    m1, m5, m15 = model.rates()
    assert meter.one_minute_rate == pytest.approx(m1, rel=1e-12, abs=1e-300)
    assert meter.five_minute_rate == pytest.approx(m5, rel=1e-12, abs=1e-300)
    assert meter.fifteen_minute_rate == pytest.approx(m15, rel=1e-12, abs=1e-300)


def test_mark_counts():
    m = statusz.Meter(clock=statusz.ManualClock())
    assert m.count == 0
    m.mark()
    m.mark(5)
    m.mark(n=2)
    m.mark(0)
    assert m.count == 8


def test_mark_accepts_index_objects_and_large_counts():
    class Seven:
        def __index__(self):
            return 7

    m = statusz.Meter(clock=statusz.ManualClock())
    m.mark(Seven())
    m.mark(True)
    assert m.count == 8
    m.mark(2**63)
    assert m.count == 2**63 + 8


@pytest.mark.parametrize("bad, error, match", [
    (-1, ValueError, "n must be >= 0, got -1"),
    (-2**70, ValueError, "n must be >= 0"),
    (2**64, OverflowError, "n must be < 2\\*\\*64"),
    (1.0, TypeError, "n must be an int, not float"),
    ("1", TypeError, "n must be an int, not str"),
    (None, TypeError, "n must be an int, not NoneType"),
])
def test_mark_rejects_bad_counts(bad, error, match):
    m = statusz.Meter(clock=statusz.ManualClock())
    with pytest.raises(error, match=match):
        m.mark(bad)
    assert m.count == 0


def test_mark_argument_errors():
    m = statusz.Meter(clock=statusz.ManualClock())
    with pytest.raises(TypeError, match="at most 1 argument"):
        m.mark(1, 2)
    with pytest.raises(TypeError, match="unexpected keyword argument 'count'"):
        m.mark(count=1)
    with pytest.raises(TypeError, match="multiple values for argument 'n'"):
        m.mark(1, n=1)
    with pytest.raises(TypeError):
        statusz.Meter.mark(object())
    assert m.count == 0


def test_no_rates_before_the_first_tick(clock):
    m = statusz.Meter(clock=clock)
    m.mark(100)
    clock.advance(4.999)
    assert (m.one_minute_rate, m.five_minute_rate, m.fifteen_minute_rate) == (0, 0, 0)
    assert m.count == 100


def test_first_tick_sets_the_rate(clock):
    m = statusz.Meter(clock=clock)
    m.mark(10)
    clock.advance(5)
    # Dropwizard ticks once more than 5 s have passed, not at 5 s exactly
    assert (m.one_minute_rate, m.five_minute_rate, m.fifteen_minute_rate) == (0, 0, 0)
    clock.advance_ns(1)
    # instant rate = 10 events / 5 s for all three averages
    assert m.one_minute_rate == 2.0
    assert m.five_minute_rate == 2.0
    assert m.fifteen_minute_rate == 2.0
    assert m.mean_rate == pytest.approx(2.0)


def test_rates_follow_the_model_interval_by_interval(clock):
    m = statusz.Meter(clock=clock)
    model = MeterModel()
    pattern = [10, 0, 3, 7, 7, 0, 0, 1, 50, 2] * 5
    clock.advance(1)  # marks 1 s after each boundary, reads 1 s after the next
    for events in pattern:
        m.mark(events)
        clock.advance(2.5)
        assert_rates(m, model)  # inside the interval: the last completed tick
        clock.advance(2.5)
        model.tick(events)
        assert_rates(m, model)
    assert m.count == sum(pattern)
    assert m.mean_rate == pytest.approx(sum(pattern) / (1 + 5.0 * len(pattern)))


def test_idle_intervals_are_ticks_with_zero(clock):
    m = statusz.Meter(clock=clock)
    model = MeterModel()
    m.mark(30)
    clock.advance(5)
    model.tick(30)
    clock.advance(600)  # 120 idle intervals at once, read nowhere in between
    for _ in range(120):
        model.tick(0)
    assert_rates(m, model)
    assert m.one_minute_rate < 1e-4 * m.fifteen_minute_rate


def test_events_count_in_their_own_interval_however_long_unread(clock):
    m = statusz.Meter(clock=clock)
    model = MeterModel()
    clock.advance(1)
    m.mark(12)              # in interval [0, 5)
    clock.advance(63)       # to t=64: ticks at 5, 10, ..., 60
    model.tick(12)
    for _ in range(11):
        model.tick(0)
    assert_rates(m, model)
    m.mark(4)               # in interval (60, 65]
    clock.advance(1.5)      # ticks once more than 5 s since the tick at 60
    model.tick(4)
    assert_rates(m, model)


def test_intervals_count_from_the_meter_creation(clock):
    clock.advance(2.5)
    m = statusz.Meter(clock=clock)
    m.mark(5)
    clock.advance(4.9)      # t = 7.4: no boundary yet (the first is at 7.5)
    assert m.one_minute_rate == 0
    clock.advance(0.1)      # t = 7.5: exactly 5 s, no tick yet
    assert m.one_minute_rate == 0
    clock.advance_ns(1)
    assert m.one_minute_rate == pytest.approx(1.0)
    assert m.mean_rate == pytest.approx(5 / 5.0)


def test_advance_ns_ticks_too(clock):
    m = statusz.Meter(clock=clock)
    m.mark(5)
    clock.advance_ns(4_999_999_999)
    assert m.five_minute_rate == 0
    clock.advance_ns(1)
    assert m.five_minute_rate == 0
    clock.advance_ns(1)
    assert m.five_minute_rate == 1.0
    assert clock.now_ns == 5_000_000_001


def test_mean_rate(clock):
    m = statusz.Meter(clock=clock)
    assert m.mean_rate == 0.0
    clock.advance(3)
    assert m.mean_rate == 0.0
    m.mark(9)
    assert m.mean_rate == pytest.approx(3.0)
    clock.advance(6)
    assert m.mean_rate == pytest.approx(1.0)


def test_snapshot_is_consistent(clock):
    m = statusz.Meter(clock=clock)
    model = MeterModel()
    m.mark(25)
    clock.advance(5.5)
    model.tick(25)
    m.mark(5)  # ticks first: 5.5 s since the meter's creation
    clock.advance(5)
    model.tick(5)
    snap = m.snapshot()
    assert list(snap) == ["count", "meanRate", "oneMinuteRate",
                          "fiveMinuteRate", "fifteenMinuteRate"]
    assert snap["count"] == 30 and isinstance(snap["count"], int)
    assert snap["meanRate"] == pytest.approx(30 / 10.5)
    m1, m5, m15 = model.rates()
    assert snap["oneMinuteRate"] == pytest.approx(m1, rel=1e-12)
    assert snap["fiveMinuteRate"] == pytest.approx(m5, rel=1e-12)
    assert snap["fifteenMinuteRate"] == pytest.approx(m15, rel=1e-12)
    assert snap["oneMinuteRate"] == m.one_minute_rate


def test_default_clock_meter():
    m = statusz.Meter()
    m.mark(3)
    assert m.count == 3
    assert isinstance(m.clock, statusz.SteadyClock)
    assert m.mean_rate >= 0.0


def test_meter_keeps_its_clock_alive():
    clock = statusz.ManualClock()
    m = statusz.Meter(clock=clock)
    alive = weakref.ref(clock)
    del clock
    gc.collect()
    assert alive() is not None
    assert m.clock is alive()
    m.mark(5)
    m.clock.advance(6)
    assert m.one_minute_rate == 1.0
    del m
    gc.collect()
    assert alive() is None


def test_repr(clock):
    m = statusz.Meter(clock=clock)
    m.mark(12)
    clock.advance(6)
    assert repr(m) == ("Meter(count=12, mean_rate=2.0, one_minute_rate=2.4, "
                       "five_minute_rate=2.4, fifteen_minute_rate=2.4)")


def test_registry_meter_is_get_or_create(reg, clock):
    a = reg.meter("applications.servlet.requests.chatHttp.successes")
    b = reg.meter("applications.servlet.requests.chatHttp.successes")
    a.mark(2)
    b.mark(3)
    assert a.count == b.count == 5
    assert a.clock is clock


def test_meter_is_final():
    with pytest.raises(TypeError):
        class Sub(statusz.Meter):  # noqa: F841
            pass


@pytest.mark.parametrize("n", [2**63 - 1, 2**63, 2**63 + 5, 2**64 - 1])
def test_counts_at_and_above_2_to_63_are_exact(clock, n):
    m = statusz.Meter(clock=clock)
    m.mark(n)
    assert m.count == n
    snap = m.snapshot()
    assert snap["count"] == n and isinstance(snap["count"], int)
    assert f"count={n}," in repr(m)
    reg = statusz.Registry(clock=clock, host_name="h", version="v")
    reg.meter("m").mark(n)
    assert reg.snapshot()["m"]["count"] == n
    assert f'"count":{n},' in reg.to_json()
