"""statusz.Gauge and Registry.gauge / Registry.ratio."""

import gc
import json
import math

import pytest

import statusz
from conftest import MeterModel


def test_value_types():
    cases = [
        (None, None), (True, True), (False, False), (3, 3), (-7, -7), (1.5, 1.5),
        ("text", "text"), ("é", "é"), (statusz.Status.WARNING, "Warning"),
        ([1, "a", None], [1, "a", None]), ((1, 2), [1, 2]),
        ({"b": 1, "a": [2.5]}, {"b": 1, "a": [2.5]}),
        (2**64, float(2**64)), (float("nan"), None), (float("inf"), None),
    ]
    for given, expected in cases:
        g = statusz.Gauge(lambda given=given: given)
        got = g.value()
        assert got == expected, (given, got)
        assert type(got) is type(expected)


def test_number_like_objects():
    class Index:
        def __index__(self):
            return 12

    class Real:
        def __float__(self):
            return 0.25

    assert statusz.Gauge(Index).value() == 12
    assert statusz.Gauge(Real).value() == 0.25


def test_raising_or_unconvertible_reads_none():
    def boom():
        raise RuntimeError("no")

    assert statusz.Gauge(boom).value() is None
    assert statusz.Gauge(lambda: object()).value() is None
    assert statusz.Gauge(lambda: {1: "non-str key"}).value() is None
    nested = []
    nested.append(nested)
    assert statusz.Gauge(lambda: nested).value() is None


def test_gauge_needs_a_callable():
    with pytest.raises(TypeError, match="gauge function must be callable, not int"):
        statusz.Gauge(3)


def test_registry_gauge_in_document(reg):
    calls = []

    def sessions():
        calls.append(1)
        return 16

    g = reg.gauge("applications.website.customs.sessions", sessions)
    assert isinstance(g, statusz.Gauge)
    doc = reg.snapshot()
    assert doc["applications"]["website"]["customs"]["sessions"] == 16
    assert len(calls) == 1
    reg.gauge("volumes.broken", lambda: 1 / 0)
    doc = reg.snapshot()
    assert doc["volumes"]["broken"] is None
    assert '"broken":null' in reg.to_json()


def test_gauge_decorator_and_replacement(reg):
    @reg.gauge("volumes.load")
    def load():
        return 0.5

    assert isinstance(load, statusz.Gauge)
    assert load.value() == 0.5
    assert reg.snapshot()["volumes"]["load"] == 0.5
    again = reg.gauge("volumes.load", lambda: 0.75)  # replaces the function
    assert reg.snapshot()["volumes"]["load"] == 0.75
    assert again.value() == 0.75 and load.value() == 0.75


def test_gauge_non_finite_renders_null(reg):
    reg.gauge("volumes.nan", lambda: math.nan)
    assert json.loads(reg.to_json())["volumes"]["nan"] is None
    assert reg.snapshot()["volumes"]["nan"] is None


def test_ratio_of_five_minute_rates(reg, clock):
    base = "applications.servlet.requests.chatHttp."
    ok = reg.meter(base + "successes")
    ko = reg.meter(base + "errors")
    ratio = reg.ratio(base + "fiveMinuteErrorsRatio", errors=ko, successes=ok)
    assert ratio.value() == 0.0  # both rates 0
    ok_model, ko_model = MeterModel(), MeterModel()
    clock.advance(1)  # marks 1 s after each boundary: one tick per step
    for ok_n, ko_n in [(30, 2), (10, 0), (0, 5), (7, 7)]:
        ok.mark(ok_n)
        ko.mark(ko_n)
        clock.advance(5)
        ok_model.tick(ok_n)
        ko_model.tick(ko_n)
        e, s = ko_model.m5.rate, ok_model.m5.rate
        expected = e / (e + s)
        assert ratio.value() == pytest.approx(expected, rel=1e-12)
        chat = reg.snapshot()["applications"]["servlet"]["requests"]["chatHttp"]
        assert chat["fiveMinuteErrorsRatio"] == pytest.approx(expected, rel=1e-12)


def test_ratio_keeps_foreign_meters_alive(reg, clock):
    ok, ko = statusz.Meter(clock=clock), statusz.Meter(clock=clock)
    reg.ratio("volumes.ratio", errors=ko, successes=ok)
    ok.mark(3)
    ko.mark(1)
    del ok, ko
    gc.collect()
    clock.advance(6)
    assert reg.snapshot()["volumes"]["ratio"] == pytest.approx(0.25)


def test_ratio_needs_meters(reg):
    m = reg.meter("a.m")
    with pytest.raises(TypeError, match="successes must be a statusz.Meter, not int"):
        reg.ratio("a.r", errors=m, successes=3)
    with pytest.raises(TypeError, match="errors must be a statusz.Meter, not Counter"):
        reg.ratio("a.r", errors=reg.counter("a.c"), successes=m)
    with pytest.raises(TypeError):
        reg.ratio("a.r", m, m)  # errors and successes are keyword-only


def test_to_json_function():
    assert statusz.to_json({"a": [1, 2.5, None, True, "x\"y"]}) == \
        '{"a":[1,2.5,null,true,"x\\"y"]}'
    assert statusz.to_json({"a": {}}, pretty=True) == '{\n  "a": {}\n}'
    assert statusz.to_json(1.0) == "1.0"
    assert statusz.to_json(statusz.Status.KO) == '"Ko"'
    with pytest.raises(TypeError, match="cannot put a object"):
        statusz.to_json(object())
    with pytest.raises(TypeError, match="must be str"):
        statusz.to_json({1: 2})
