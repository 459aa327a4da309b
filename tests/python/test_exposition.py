"""/metrics through real promtool and both of prometheus_client's parsers,
and a real Prometheus server scraping statusz on loopback."""

import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

import statusz

from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_openmetrics,
)
from prometheus_client.parser import text_string_to_metric_families as parse_text

from conftest import build_sample, load_sample

PROMTOOL = shutil.which("promtool")
PROMETHEUS = shutil.which("prometheus")

CHAT = "statusz_applications_servlet_requests_chat_http_"


@pytest.fixture
def sample_reg(reg, clock):
    build_sample(reg, load_sample())
    reg.keyed("applications.servlet.requests.chatHttp.errorsByBot").inc('q"\\\n')
    clock.advance(60.0)
    return reg


def samples(families):
    out = {}
    for family in families:
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_promtool_accepts_the_text_format_without_lint(sample_reg):
    assert PROMTOOL, "promtool (Debian package prometheus) is required"
    text = sample_reg.to_prometheus()
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(),
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout + r.stderr == b"", "lint complaints"


def test_the_text_parser_reads_every_value(sample_reg):
    sample = load_sample()
    got = samples(parse_text(sample_reg.to_prometheus()))
    chat = sample["applications"]["servlet"]["requests"]["chatHttp"]
    assert got[(CHAT + "successes_total", ())] == chat["successes"]["count"]
    assert got[(CHAT + "errors_by_bot_total",
                (("key", "1793f1cb-17dd-46d6-9f3e-7987e07dbd20"),))] == 290
    assert got[(CHAT + "errors_by_bot_total", (("key", 'q"\\\n'),))] == 1
    assert got[("statusz_volumes_current_dialogs", ())] == 273
    assert got[("statusz_status", (("status", "Ok"),))] == 1
    assert got[("statusz_probe_status",
                (("path", "applications.runtime"), ("status", "Ok")))] == 1


def test_the_openmetrics_parser_reads_the_openmetrics_format(sample_reg):
    text = sample_reg.to_prometheus(openmetrics=True)
    assert text.endswith("# EOF\n")
    families = list(parse_openmetrics(text))
    by_name = {f.name: f for f in families}
    assert by_name[CHAT + "successes"].type == "counter"
    got = samples(families)
    assert got[(CHAT + "successes_total", ())] == 1890598
    assert got[("statusz_server_info", (("host_name", "app1"), ("version", "49.2470")))] == 1


def test_the_served_metrics_parse_too(sample_reg):
    with statusz.serve(sample_reg, port=0) as srv:
        with urllib.request.urlopen(srv.url + "/metrics", timeout=30) as r:
            assert samples(parse_text(r.read().decode()))
        req = urllib.request.Request(srv.url + "/metrics",
                                     headers={"Accept": "application/openmetrics-text"})
        with urllib.request.urlopen(req, timeout=30) as r:
            assert samples(parse_openmetrics(r.read().decode()))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_real_prometheus_scrapes_statusz(reg, tmp_path):
    """Starts Prometheus on loopback with a scrape config for a statusz
    server, waits for a scrape and reads a meter back through its query API."""
    assert PROMETHEUS, "prometheus (Debian package prometheus) is required"
    meter = reg.meter("applications.servlet.requests.chatHttp.successes")
    meter.mark(1234)
    with statusz.serve(reg, port=0) as srv:
        port = free_port()
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: statusz\n    static_configs:\n"
            f"      - targets: ['127.0.0.1:{srv.port}']\n")
        log = open(tmp_path / "prometheus.log", "wb")
        proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}"],
            stdout=log, stderr=subprocess.STDOUT)
        try:
            query = urllib.parse.urlencode(
                {"query": "statusz_applications_servlet_requests_chat_http_successes_total"})
            url = f"http://127.0.0.1:{port}/api/v1/query?{query}"
            value = None
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and value is None:
                assert proc.poll() is None, (tmp_path / "prometheus.log").read_text()
                try:
                    with urllib.request.urlopen(url, timeout=5) as r:
                        result = json.loads(r.read())["data"]["result"]
                    if result:
                        value = float(result[0]["value"][1])
                        labels = result[0]["metric"]
                except OSError:
                    pass
                if value is None:
                    time.sleep(0.5)  # waiting on an external server's scrape
            assert value == 1234, (tmp_path / "prometheus.log").read_text()
            assert labels["job"] == "statusz"
            assert labels["instance"] == f"127.0.0.1:{srv.port}"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()


# Family-name clashes (issue 10): each case in both registration orders.
# promtool and both parsers must accept the output, and the names must not
# depend on the order.
CLASH_CASES = {
    "meter and counter *_created": [("meter", "jobs"), ("counter", "jobsCreated")],
    "meter and gauge *_total": [("meter", "x"), ("counter", "x_total")],
    "counter and counter *_count": [("counter", "x"), ("counter", "xCount")],
    "keyed and counter *_sum": [("keyed", "x"), ("counter", "x_sum")],
    "gauge and counter *_bucket": [("counter", "x"), ("counter", "x_bucket")],
    "counter and meter *_info": [("counter", "x"), ("meter", "x_info")],
    "counter and counter *_gcount/_gsum": [("counter", "x"), ("counter", "x_gcount"),
                                          ("counter", "x_gsum")],
    "paths that sanitise alike": [("counter", "jobs.fooBar"), ("counter", "jobs.foo_bar"),
                                  ("meter", "jobs.foo.bar")],
    "a meter's rate family": [("meter", "jobs"), ("counter", "jobsRate")],
    "a keyed counter's dropped family": [("keyed", "bots"), ("counter", "bots_dropped")],
    "statusz's own families": [("counter", "Status"), ("counter", "server"),
                               ("counter", "probe_status_count")],
}


def build(case, reverse):
    clock = statusz.ManualClock()
    reg = statusz.Registry(clock=clock, host_name="h", version="v")
    reg.probe("app", lambda: statusz.Status.OK)
    for kind, path in (reversed(case) if reverse else case):
        if kind == "meter":
            reg.meter(path).mark(3)
        elif kind == "counter":
            reg.counter(path).set(2)
        else:
            reg.keyed(path).inc("k")
    clock.advance(6)
    return reg


def sample_names(families):
    return sorted((s.name, tuple(sorted(s.labels.items())), s.value)
                  for f in families for s in f.samples)


@pytest.mark.parametrize("case", sorted(CLASH_CASES))
def test_clashing_names_are_renamed_and_every_parser_accepts(case):
    assert PROMTOOL, "promtool (Debian package prometheus) is required"
    outputs = []
    for reverse in (False, True):
        reg = build(CLASH_CASES[case], reverse)
        text = reg.to_prometheus()
        om = reg.to_prometheus(openmetrics=True)
        r = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(),
                           capture_output=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        assert r.stdout + r.stderr == b"", "lint complaints"
        text_families = list(parse_text(text))
        om_families = list(parse_openmetrics(om))
        names = [f.name for f in om_families]
        assert len(names) == len(set(names))
        assert all(n[0].isalpha() for n in names)
        outputs.append((sample_names(text_families), sample_names(om_families)))
    assert outputs[0] == outputs[1], "names depend on the registration order"


def test_issue_example_meter_jobs_and_counter_jobs_created():
    reg = build(CLASH_CASES["meter and counter *_created"], False)
    families = {f.name: f for f in parse_openmetrics(reg.to_prometheus(openmetrics=True))}
    assert families["statusz_jobs"].type == "counter"
    assert "statusz_jobs_created" not in families
    renamed = [n for n in families if n.startswith("statusz_jobs_created_")]
    assert len(renamed) == 1 and len(renamed[0]) == len("statusz_jobs_created_") + 8


@pytest.mark.parametrize("prefix, expected", [
    ("", "c"), ("9lives", "statusz_9lives_c"), ("_x", "x_c"), ("My App", "my_app_c")])
def test_names_start_with_a_letter_whatever_the_prefix(prefix, expected):
    reg = statusz.Registry(clock=statusz.ManualClock(), host_name="h", version="v")
    reg.counter("c").set(1)
    for openmetrics in (False, True):
        text = reg.to_prometheus(prefix=prefix, openmetrics=openmetrics)
        assert f"{expected} 1" in text.splitlines()
        parse = parse_openmetrics if openmetrics else parse_text
        assert all(f.name[0].isalpha() for f in parse(text))


BIG = 2**63 + 5
MAX = 2**64 - 1


def test_counts_at_or_above_2_to_63_are_exact_in_every_format(reg):
    assert PROMTOOL, "promtool (Debian package prometheus) is required"
    reg.meter("jobs.done").mark(BIG)
    k = reg.keyed("jobs.byBot", max_keys=1)
    k.inc("bot", MAX)
    k.inc("other", BIG)  # refused: counted under __overflow__
    snap = reg.snapshot(details=True)
    assert snap["jobs"]["done"]["count"] == BIG
    assert snap["jobs"]["byBot"]["bot"] == MAX
    assert snap["jobs"]["byBot"]["__overflow__"] == BIG
    doc = json.loads(reg.to_json(details=True))
    assert doc["jobs"]["done"]["count"] == BIG
    assert doc["jobs"]["byBot"]["bot"] == MAX
    text = reg.to_prometheus()
    om = reg.to_prometheus(openmetrics=True)
    assert f"statusz_jobs_done_total {BIG}" in text.splitlines()
    assert f"statusz_jobs_done_total {BIG}" in om.splitlines()
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(),
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    got = samples(parse_openmetrics(om))  # rejected a negative counter before
    assert got[("statusz_jobs_done_total", ())] == BIG
    assert got[("statusz_jobs_by_bot_total", (("key", "bot"),))] == MAX
    assert samples(parse_text(text))[("statusz_jobs_done_total", ())] == BIG


def test_a_gauge_of_a_large_python_int_stays_exact(reg):
    reg.gauge("volumes.big", lambda: BIG)
    assert reg.snapshot()["volumes"]["big"] == BIG
    assert json.loads(reg.to_json())["volumes"]["big"] == BIG
    assert f"statusz_volumes_big {BIG}" in reg.to_prometheus().splitlines()


@pytest.mark.parametrize("accept, openmetrics", [
    ("text/plain;version=0.0.4;q=1.0, application/openmetrics-text;version=1.0.0;q=0.2", False),
    ("text/plain;q=0.9,application/openmetrics-text;q=0.5", False),
    ("application/openmetrics-text; q = 0, text/plain", False),
    ("*/*", False),
    ("application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;"
     "version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2", True),
])
def test_served_metrics_negotiate_by_q_over_real_http(sample_reg, accept, openmetrics):
    with statusz.serve(sample_reg, port=0) as srv:
        req = urllib.request.Request(srv.url + "/metrics", headers={"Accept": accept})
        with urllib.request.urlopen(req, timeout=30) as r:
            body = r.read().decode()
            ctype = r.headers["Content-Type"]
    if openmetrics:
        assert ctype.startswith("application/openmetrics-text; version=1.0.0")
        assert samples(parse_openmetrics(body))
    else:
        assert ctype.startswith("text/plain; version=0.0.4")
        assert "# EOF" not in body and samples(parse_text(body))
