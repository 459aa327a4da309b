"""statusz.Registry: paths and kinds, the document (dict and JSON), the
sample's shape, options."""

import gc
import os
import json
import re
import socket
import weakref

import pytest

import statusz
from statusz import Kind, Status
from conftest import SAMPLE_PATH, build_sample, load_sample

# 2019-03-26 17:40:49 UTC, the sample's date.
SAMPLE_EPOCH = 1553622049.0


def shape(value):
    """The nested key structure, in order, with JSON types at the leaves."""
    if isinstance(value, dict):
        return [(k, shape(v)) for k, v in value.items()]
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def ordered(value):
    """value with every dict turned into its list of items (order-sensitive)."""
    if isinstance(value, dict):
        return [(k, ordered(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [ordered(v) for v in value]
    return value


@pytest.fixture
def sample():
    return load_sample()


@pytest.fixture
def sample_reg(sample):
    clock = statusz.ManualClock(wall_start=SAMPLE_EPOCH)
    reg = statusz.Registry(clock=clock, host_name=sample["hostName"],
                           version=sample["version"])
    build_sample(reg, sample)
    return reg


def test_sample_structure_is_reproduced_in_order(sample, sample_reg):
    doc = sample_reg.snapshot(details=True)
    assert shape(doc) == shape(sample)


def test_sample_values(sample, sample_reg):
    doc = sample_reg.snapshot()
    assert doc["volumes"] == sample["volumes"]
    assert doc["hostName"] == sample["hostName"]
    assert doc["version"] == sample["version"]
    assert doc["date"] == sample["date"]
    assert doc["status"] == "Ok"
    assert doc["withDetails"] is True
    for app, body in sample["applications"].items():
        assert doc["applications"][app]["status"] == body["status"]
        assert doc["applications"][app].get("customs") == body.get("customs")
    chat = doc["applications"]["servlet"]["requests"]["chatHttp"]
    want = sample["applications"]["servlet"]["requests"]["chatHttp"]
    assert chat["errorsByBot"] == want["errorsByBot"]
    assert list(chat["errorsByBot"]) == list(want["errorsByBot"])
    for meter in ("successes", "errors", "ignored"):
        assert chat[meter]["count"] == want[meter]["count"]
    assert chat["fiveMinuteErrorsRatio"] == 0


def test_sample_pretty_layout_is_byte_identical_but_for_numbers(sample_reg):
    """The pretty JSON has the sample's exact bytes once every number (rates
    and durations depend on time) is masked."""
    number = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?(?=,?\n)")
    with open(SAMPLE_PATH, encoding="utf-8") as f:
        expected = f.read().rstrip("\n")
    got = sample_reg.to_json(details=True, pretty=True)
    assert number.sub("N", got) == number.sub("N", expected)


def test_json_parses_back_to_the_snapshot(sample_reg, clock):
    for details in (True, False):
        for pretty in (True, False):
            text = sample_reg.to_json(details=details, pretty=pretty)
            assert ordered(json.loads(text)) == ordered(sample_reg.snapshot(details))


def test_python_rendering_of_the_snapshot_is_the_same_bytes(sample_reg):
    for pretty in (True, False):
        assert statusz.to_json(sample_reg.snapshot(), pretty=pretty) == \
            sample_reg.to_json(pretty=pretty)


def test_defaults_compact_with_details(reg):
    reg.counter("volumes.connectedPeople").set(9)
    text = reg.to_json()
    assert "\n" not in text
    assert text.startswith('{"withDetails":true,"volumes":{"connectedPeople":9},')


def test_summary_keeps_statuses_only(sample_reg, sample):
    doc = sample_reg.snapshot(details=False)
    assert list(doc) == ["withDetails", "applications", "status", "hostName",
                         "date", "version", "durationMs"]
    assert doc["withDetails"] is False
    assert doc["applications"] == {
        app: {"status": body["status"]} for app, body in sample["applications"].items()}


def test_escaping_of_keys_and_strings(reg):
    k = reg.keyed("applications.bots.errorsByBot")
    evil = 'bot "1"\\\n\t\x01é'
    k.inc(evil, 2)
    reg.gauge("applications.bots.note", lambda: "quote \" and \x7f")
    text = reg.to_json()
    doc = json.loads(text)
    assert doc["applications"]["bots"]["errorsByBot"] == {evil: 2}
    assert doc["applications"]["bots"]["note"] == "quote \" and \x7f"
    assert '"bot \\"1\\"\\\\\\n\\t\\u0001é"' in text


def test_kinds_and_contains(reg):
    reg.meter("applications.servlet.requests.chatHttp.successes")
    reg.counter("volumes.connectedPeople")
    reg.keyed("applications.servlet.requests.chatHttp.errorsByBot")
    reg.gauge("volumes.load", lambda: 1)
    assert reg.kind("applications") is Kind.GROUP
    assert reg.kind("applications.servlet.requests.chatHttp") is Kind.GROUP
    assert reg.kind("applications.servlet.requests.chatHttp.successes") is Kind.METER
    assert reg.kind("volumes.connectedPeople") is Kind.COUNTER
    assert reg.kind("applications.servlet.requests.chatHttp.errorsByBot") is Kind.KEYED_COUNTER
    assert reg.kind("volumes.load") is Kind.GAUGE
    assert reg.contains("volumes") and "volumes.load" in reg
    assert not reg.contains("volumes.nothing") and "nothing" not in reg
    assert 42 not in reg
    assert "" not in reg and "volumes..load" not in reg and "volumes.\udc80" not in reg
    with pytest.raises(ValueError, match="empty segment"):
        reg.contains("volumes..load")
    with pytest.raises(KeyError, match="nothing registered at 'volumes.nothing'"):
        reg.kind("volumes.nothing")


@pytest.mark.parametrize("first, second, path, existing, requested", [
    ("meter", "counter", "a.b", Kind.METER, Kind.COUNTER),
    ("counter", "keyed", "a.b", Kind.COUNTER, Kind.KEYED_COUNTER),
    ("keyed", "meter", "a.b", Kind.KEYED_COUNTER, Kind.METER),
    ("gauge", "counter", "a.b", Kind.GAUGE, Kind.COUNTER),
])
def test_kind_error(reg, first, second, path, existing, requested):
    make = {
        "meter": lambda p: reg.meter(p),
        "counter": lambda p: reg.counter(p),
        "keyed": lambda p: reg.keyed(p),
        "gauge": lambda p: reg.gauge(p, lambda: 1),
    }
    make[first]("a.b")
    with pytest.raises(statusz.KindError) as info:
        make[second]("a.b")
    e = info.value
    assert isinstance(e, ValueError)
    assert (e.path, e.existing, e.requested) == (path, existing, requested)
    assert str(e) == (f"statusz: 'a.b' is a {existing.name.lower().replace('_', ' ')}, "
                      f"not a {requested.name.lower().replace('_', ' ')}")
    assert reg.kind("a.b") is existing


def test_kind_error_on_groups(reg):
    reg.meter("applications.servlet.requests.chatHttp.successes")
    with pytest.raises(statusz.KindError) as info:
        reg.counter("applications.servlet")
    assert (info.value.path, info.value.existing, info.value.requested) == (
        "applications.servlet", Kind.GROUP, Kind.COUNTER)
    with pytest.raises(statusz.KindError) as info:
        reg.counter("applications.servlet.requests.chatHttp.successes.today")
    assert (info.value.path, info.value.existing, info.value.requested) == (
        "applications.servlet.requests.chatHttp.successes", Kind.METER, Kind.GROUP)


@pytest.mark.parametrize("path, match", [
    ("", "empty path"),
    ("a..b", "empty segment"),
    (".a", "empty segment"),
    ("a.", "empty segment"),
    (".".join(["a"] * 129), "more than 128 segments"),
    ("a." * 20000 + "m", "more than 128 segments"),
    ("status", "top level"),
    ("hostName.x", "top level"),
])
def test_bad_paths(reg, path, match):
    with pytest.raises(ValueError, match=match):
        reg.meter(path)
    with pytest.raises(ValueError, match=match):
        reg.counter(path)


def test_path_must_be_str(reg):
    with pytest.raises(TypeError):
        reg.meter(3)
    with pytest.raises(TypeError):
        reg.counter(None)


def test_options_and_repr(clock):
    reg = statusz.Registry(clock=clock, host_name="app1", version="49.2470 a543dff5",
                           time_zone="+02:00")
    assert reg.host_name == "app1"
    assert reg.version == "49.2470 a543dff5"
    assert reg.time_zone == "+02:00"
    assert reg.clock is clock
    assert repr(reg) == ("Registry(host_name='app1', version='49.2470 a543dff5', "
                         "time_zone='+02:00')")


def test_defaults():
    reg = statusz.Registry()
    assert reg.host_name == socket.gethostname()
    assert statusz.Registry(host_name="").host_name == socket.gethostname()
    assert reg.version == ""
    assert reg.time_zone == "UTC"
    assert isinstance(reg.clock, statusz.SteadyClock)
    doc = reg.snapshot()
    assert list(doc) == ["withDetails", "status", "hostName", "date", "version",
                         "durationMs"]
    assert doc["status"] == "Ok"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", doc["date"])


@pytest.mark.parametrize("zone, date, text", [
    ("UTC", "2019-03-26 17:40:49", "UTC"),
    ("Z", "2019-03-26 17:40:49", "UTC"),
    ("+02:00", "2019-03-26 19:40:49", "+02:00"),
    ("-05:30", "2019-03-26 12:10:49", "-05:30"),
])
def test_time_zones(zone, date, text):
    clock = statusz.ManualClock(wall_start=SAMPLE_EPOCH)
    reg = statusz.Registry(clock=clock, time_zone=zone)
    assert reg.snapshot()["date"] == date
    assert reg.time_zone == text
    clock.advance(61)
    assert reg.snapshot()["date"][-4:] == "1:50"


def test_local_time_zone():
    reg = statusz.Registry(clock=statusz.ManualClock(), time_zone="local")
    assert reg.time_zone == "local"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", reg.snapshot()["date"])


@pytest.mark.parametrize("zone", ["", "CET", "+2:00", "+24:00", "02:00", "utc+1"])
def test_bad_time_zones(zone):
    with pytest.raises(ValueError, match="bad time zone"):
        statusz.Registry(time_zone=zone)


def test_options_are_keyword_only():
    with pytest.raises(TypeError):
        statusz.Registry(statusz.ManualClock())


def test_duration_ms_measures_the_snapshot(reg, clock):
    @reg.probe("applications.runtime")
    def runtime():
        clock.advance(0.061)
        return Status.OK

    doc = reg.snapshot()
    assert doc["applications"]["runtime"]["durationMs"] == 61
    assert doc["durationMs"] == 61


def test_members_in_registration_order(reg):
    reg.counter("volumes.b")
    reg.meter("applications.x.m")
    reg.counter("volumes.a")
    reg.probe("applications.x", lambda: Status.OK)
    doc = reg.snapshot()
    assert list(doc) == ["withDetails", "volumes", "applications", "status",
                         "hostName", "date", "version", "durationMs"]
    assert list(doc["volumes"]) == ["b", "a"]
    assert list(doc["applications"]["x"]) == ["status", "durationMs", "m"]


def test_lifetimes():
    """Metrics keep their registry alive, the registry keeps its clock."""
    clock = statusz.ManualClock()
    reg = statusz.Registry(clock=clock)
    clock_ref, reg_ref = weakref.ref(clock), weakref.ref(reg)
    m = reg.meter("a.m")
    k = reg.keyed("a.k")
    del clock, reg
    gc.collect()
    assert reg_ref() is not None and clock_ref() is not None
    m.mark(5)
    k.inc("x")
    reg_ref().clock.advance(6)
    assert m.one_minute_rate == 1.0
    assert reg_ref().snapshot()["a"]["k"] == {"x": 1}
    del m, k
    gc.collect()
    assert reg_ref() is None and clock_ref() is None


def test_many_registries_come_and_go():
    for i in range(50):
        clock = statusz.ManualClock()
        reg = statusz.Registry(clock=clock)
        ok = reg.meter("a.ok")
        reg.ratio("a.ratio", errors=reg.meter("a.ko"), successes=ok)
        reg.probe("a", lambda: Status.OK)
        reg.gauge("a.g", lambda: i)
        assert reg.snapshot()["a"]["g"] == i
    gc.collect()


def os_threads():
    return len(os.listdir("/proc/self/task"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux /proc")
def test_reference_cycles_through_probes_and_gauges_are_collected():
    """A service object holding a registry and its meters, whose methods are
    the registry's probe and gauge: once dropped, the garbage collector frees
    it all, and the probes' worker threads end."""

    class Service:
        def __init__(self):
            self.reg = statusz.Registry(clock=statusz.ManualClock())
            self.ok = self.reg.meter("applications.app.requests.ok")
            self.reg.probe("applications.app", self.check, timeout=60.0)
            self.reg.gauge("volumes.load", lambda: self.ok.count)

        def check(self):
            return Status.OK if self.ok.count >= 0 else Status.KO

    gc.collect()
    threads_before = os_threads()
    refs = []
    for _ in range(5):
        s = Service()
        s.ok.mark(3)
        assert s.reg.snapshot()["volumes"]["load"] == 3  # starts a probe worker
        refs.append((weakref.ref(s), weakref.ref(s.reg), weakref.ref(s.ok)))
        del s
    assert os_threads() >= threads_before + 5
    gc.collect()
    assert all(r() is None for triple in refs for r in triple)
    assert os_threads() == threads_before


def test_a_probe_referring_to_its_registry_does_not_keep_it_alive():
    reg = statusz.Registry(clock=statusz.ManualClock())
    holder = {}

    @reg.probe("applications.app")
    def check():
        return Status.OK if holder else Status.KO

    holder["reg"] = reg  # a cycle: reg -> check -> holder -> reg
    ref = weakref.ref(reg)
    assert reg.status() is Status.OK
    del reg, check, holder
    gc.collect()
    assert ref() is None


def test_to_prometheus(reg, clock):
    reg.counter("volumes.connectedPeople").set(9)
    ok = reg.meter("applications.servlet.requests.chatHttp.successes")
    ok.mark(10)
    clock.advance(5.5)  # Dropwizard ticks once more than 5 s have passed
    reg.keyed("applications.servlet.requests.chatHttp.errorsByBot").inc('bot"1', 3)
    reg.probe("applications.runtime", lambda: Status.WARNING)
    text = reg.to_prometheus()
    lines = text.splitlines()
    assert "statusz_volumes_connected_people 9" in lines
    assert "statusz_applications_servlet_requests_chat_http_successes_total 10" in lines
    assert ('statusz_applications_servlet_requests_chat_http_errors_by_bot_total'
            '{key="bot\\"1"} 3') in lines
    assert 'statusz_probe_status{path="applications.runtime",status="Warning"} 1' in lines
    assert 'statusz_status{status="Warning"} 1' in lines
    assert 'statusz_server_info{host_name="app1",version="49.2470"} 1' in lines

    parser = pytest.importorskip("prometheus_client.parser")
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in parser.text_string_to_metric_families(text)
               for s in family.samples}
    rate = "statusz_applications_servlet_requests_chat_http_successes_rate"
    assert samples[(rate, (("window", "1m"),))] == 2.0
    assert samples[("statusz_volumes_connected_people", ())] == 9

    om = reg.to_prometheus(prefix="chat", openmetrics=True)
    assert om.endswith("# EOF\n")
    assert "chat_volumes_connected_people 9" in om.splitlines()
    with pytest.raises(TypeError):
        reg.to_prometheus("chat")  # keyword-only


def test_http_handler(reg):
    """HttpHandler: the C++ HTTP handler, bound once, as statusz.serve() holds it."""
    reg.probe("applications.a", lambda: Status.KO)
    handler = statusz.HttpHandler(reg)
    status, ctype, headers, body = handler.handle("GET", "/serverstatus?details=true&pretty=true")
    assert (status, ctype) == (200, "application/json; charset=utf-8")
    assert ("Cache-Control", "no-store") in headers
    assert isinstance(body, bytes)
    assert json.loads(body) == reg.snapshot(details=True)
    assert handler.handle("GET", "/healthz")[0] == 503
    assert handler.handle("GET", "/nowhere")[0] == 404
    assert handler.handle("GET", "/serverstatus?details=maybe")[0] == 400
    guarded = statusz.HttpHandler(reg, bearer_token="secret")
    assert guarded.handle("GET", "/serverstatus?details=true", [])[0] == 401
    assert guarded.handle("GET", "/serverstatus?details=true",
                          [("Authorization", "Bearer secret")])[0] == 200
    metrics = statusz.HttpHandler(reg, metrics_prefix="chat").handle("GET", "/metrics", [])[3].decode()
    assert 'chat_status{status="Ko"} 1' in metrics.splitlines()
    assert statusz.HttpHandler(reg, max_target_bytes=64).handle("GET", "/" + "x" * 100)[0] == 414
    # The defaults are the C++ library's, and the handler keeps its registry.
    assert (handler.metrics_prefix, handler.max_target_bytes) == ("statusz", 8192)
    # Options no request could meet are refused; None is no token, as for
    # serve(), wsgi_app() and asgi_app().
    for token in (" ", "two words", "=x"):
        with pytest.raises(ValueError, match="RFC 6750"):
            statusz.HttpHandler(reg, bearer_token=token)
    assert statusz.HttpHandler(reg, bearer_token=None).handle(
        "GET", "/serverstatus?details=true")[0] == 200
    with pytest.raises(ValueError, match="max_target_bytes must be >= 64, not 0"):
        statusz.HttpHandler(reg, max_target_bytes=0)
    alone = statusz.HttpHandler(statusz.Registry(host_name="gone"))
    gc.collect()
    assert json.loads(alone.handle("GET", "/serverstatus")[3])["hostName"] == "gone"


def test_a_failed_registration_leaves_nothing_behind(reg):
    """Issue 16: an operation that raises changes nothing observable."""
    before = reg.snapshot()
    with pytest.raises(ValueError):
        reg.probe("x.y", lambda: Status.OK, timeout=0)
    with pytest.raises((MemoryError, ValueError, OverflowError)):
        reg.keyed("a.b", max_keys=2**62)
    assert "x" not in reg and "a" not in reg
    after = reg.snapshot()
    assert [k for k in after if k != "date"] == [k for k in before if k != "date"]
    # The paths are free for a correct registration.
    reg.meter("x.y").mark()
    reg.keyed("a.b", max_keys=4).inc("k")
    doc = reg.snapshot()
    assert doc["x"]["y"]["count"] == 1 and doc["a"]["b"] == {"k": 1}


def test_re_registering_a_probe_with_bad_options_keeps_the_old_one(reg):
    probe = reg.probe("app", lambda: Status.WARNING, timeout=2.0)
    with pytest.raises(ValueError):
        reg.probe("app", lambda: Status.KO, timeout=0)
    assert probe.timeout == 2.0
    assert reg.status() is Status.WARNING
    assert reg.probe("app", lambda: Status.KO, timeout=3.0) is probe
    assert (probe.timeout, reg.status()) == (3.0, Status.KO)
