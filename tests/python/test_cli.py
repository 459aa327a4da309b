"""The statusz command: check, get, watch and demo, as real processes."""

import contextlib
import fcntl
import http.server
import json
import os
import pty
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import termios
import threading
import time
import urllib.error
import urllib.request

import pytest

import statusz
from statusz import cli

from conftest import build_sample, load_sample

PY = [sys.executable, "-m", "statusz"]


def run(*args, timeout=60):
    return subprocess.run(PY + list(args), capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def controlled(reg):
    """A served registry whose runtime probe answers state['status']."""
    state = {"status": statusz.Status.OK}
    reg.probe("applications.runtime", lambda: state["status"])
    reg.probe("applications.sso", lambda: statusz.Status.OK)
    with statusz.serve(reg, port=0) as srv:
        yield srv, state


@pytest.mark.parametrize("status,code,label", [
    (statusz.Status.OK, 0, "OK"),
    (statusz.Status.WARNING, 1, "WARNING"),
    (statusz.Status.KO, 2, "CRITICAL"),
    (statusz.Status.UNKNOWN, 3, "UNKNOWN"),
])
def test_check_exit_codes_follow_the_status(controlled, status, code, label):
    srv, state = controlled
    state["status"] = status
    r = run("check", srv.url)
    assert r.returncode == code, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"STATUSZ {label}: server status {status}")
    assert_plugin_line(lines[0])
    assert "'runtime_duration'=" in lines[0]
    if status != statusz.Status.OK:
        assert f"runtime {status}" in lines[0]


# The monitoring-plugins guidelines' grammar ("Plugin Output", "Performance
# data"): one line "SERVICE STATE: text", one "|", then space-separated
# 'label'=value[UOM];[warn];[crit];[min];[max], values in [-0-9.].
_VALUE = r"-?[0-9.]+"
_RANGE = r"@?(?:~|-?[0-9.]*)?:?(?:-?[0-9.]*)?"
_PERF = re.compile(rf"'[^'=]+'={_VALUE}(?:us|ms|s|%|B|KB|MB|TB|c)?"
                   rf"(?:;(?:{_RANGE})?(?:;(?:{_RANGE})?(?:;(?:{_VALUE})?(?:;(?:{_VALUE})?)?)?)?)?\Z")


def assert_plugin_line(line):
    assert "\n" not in line
    assert line.count("|") <= 1, line
    text, _, perf = line.partition(" | ")
    assert re.match(r"STATUSZ (OK|WARNING|CRITICAL|UNKNOWN): \S", text), text
    for item in perf.split(" ") if perf else []:
        assert _PERF.match(item), item


@pytest.fixture
def ratio_server(reg, clock):
    """A server whose fiveMinuteErrorsRatio is 0.1."""
    ok = reg.meter("applications.servlet.requests.chatHttp.successes")
    errors = reg.meter("applications.servlet.requests.chatHttp.errors")
    reg.ratio("applications.servlet.requests.chatHttp.fiveMinuteErrorsRatio",
              errors=errors, successes=ok)
    ok.mark(90)
    errors.mark(10)
    clock.advance(5.5)  # ratio 0.1 (Dropwizard ticks once more than 5 s passed)
    with statusz.serve(reg, port=0) as srv:
        yield srv


@pytest.mark.parametrize("args,code", [
    # The guidelines' examples ("Threshold and ranges") against a ratio of 0.1.
    (["-w", "0.05"], 1),            # outside 0..0.05
    (["-w", "0.1"], 0),             # endpoints are inside
    (["-c", "0.09"], 2),
    (["-w", "0.2:"], 1),            # below 0.2
    (["-w", "0.05:"], 0),
    (["-w", "~:0.05"], 1),          # above 0.05
    (["-w", "0.05:0.2"], 0),
    (["-w", "0.11:0.2"], 1),
    (["-c", "@0.05:0.2"], 2),       # inside
    (["-c", "@0.1:0.1"], 2),
    (["-c", "@0.2:0.3"], 0),
    (["-w", "0.01", "-c", "0.05"], 2),  # critical wins
    (["-w", "0.01", "-c", "0.5"], 1),
    (["--warning-ratio", "0.05"], 1),   # the older options: @R:
    (["--critical-ratio", "0.1"], 2),
    (["--critical-ratio", "0.5"], 0),
])
def test_check_threshold_ranges(ratio_server, args, code):
    r = run("check", ratio_server.url, *args)
    assert r.returncode == code, r.stdout + r.stderr
    assert_plugin_line(r.stdout.rstrip("\n"))
    assert r.stdout.count("\n") == 1


def test_check_state_is_the_worst_critical_over_unknown(reg, clock):
    state = {"status": statusz.Status.UNKNOWN}
    reg.probe("applications.runtime", lambda: state["status"])
    ok = reg.meter("applications.servlet.requests.chatHttp.successes")
    errors = reg.meter("applications.servlet.requests.chatHttp.errors")
    reg.ratio("applications.servlet.requests.chatHttp.fiveMinuteErrorsRatio", errors=errors, successes=ok)
    errors.mark(1)
    clock.advance(5.5)  # ratio 1 (Dropwizard ticks once more than 5 s passed)
    with statusz.serve(reg, port=0) as srv:
        assert run("check", srv.url, "-c", "0.5").returncode == 2  # CRITICAL > UNKNOWN
        assert run("check", srv.url, "-w", "0.5").returncode == 1  # WARNING > UNKNOWN
        assert run("check", srv.url).returncode == 3
        state["status"] = statusz.Status.KO
        assert run("check", srv.url, "-w", "0.5").returncode == 2


def test_token_is_sent_and_http_errors_are_explained(reg):
    reg.probe("applications.runtime", lambda: statusz.Status.OK)
    with statusz.serve(reg, port=0, bearer_token="s3cret") as srv:
        r = run("check", srv.url)
        assert r.returncode == 3
        assert r.stdout.startswith("STATUSZ UNKNOWN: HTTP 401 from ")
        assert run("check", srv.url, "--token", "s3cret").returncode == 0
        env = dict(os.environ, STATUSZ_TOKEN="s3cret")
        r = subprocess.run(PY + ["get", srv.url, "--details"], capture_output=True, text=True,
                           timeout=60, env=env)
        assert r.returncode == 0 and json.loads(r.stdout)["withDetails"] is True
        r = run("get", srv.url, "--details", "--token", "wrong")
        assert r.returncode == 1 and "HTTP 401" in r.stderr


def test_check_perfdata_carries_the_ranges(ratio_server):
    r = run("check", ratio_server.url, "-w", "~:0.05", "-c", "@0.5:1")
    assert r.returncode == 1
    assert "'applications.servlet.requests.chatHttp.fiveMinuteErrorsRatio'=0.1;~:0.05;@0.5:1;0;1" in r.stdout
    assert "fiveMinuteErrorsRatio 0.1 outside warning range ~:0.05" in r.stdout


def test_check_help_gives_range_examples_for_a_ratio():
    r = run("check", "--help")
    assert r.returncode == 0
    text = " ".join(r.stdout.split())
    examples = re.search(r"\(monitoring-plugins syntax: (.*?)\)", text).group(1)
    # Each example fits a ratio (0 to 1) and does what its words say.
    for spec, alerts, quiet in (("0.05", 0.06, 0.04), ("0.01:", 0.005, 0.5),
                                ("0.01:0.1", 0.2, 0.05), ("@0.2:0.5", 0.3, 0.6)):
        assert spec in examples.split(), examples
        assert cli.Range(spec).alerts(alerts) and not cli.Range(spec).alerts(quiet)


@pytest.mark.parametrize("spec,value,alerts", [
    ("10", -1, True), ("10", 0, False), ("10", 10, False), ("10", 10.5, True),
    ("10:", 9.9, True), ("10:", 1e9, False),
    ("~:10", -1e9, False), ("~:10", 10.1, True),
    ("10:20", 9, True), ("10:20", 15, False), ("10:20", 21, True),
    ("@10:20", 10, True), ("@10:20", 20, True), ("@10:20", 9, False),
    ("0.05", 0.1, True), (":5", 5, False), (":5", -1, True),
])
def test_range_semantics(spec, value, alerts):
    assert cli.Range(spec).alerts(value) is alerts


@pytest.mark.parametrize("spec", ["", "abc", "20:10", "1e3", "nan", "inf", "~", "1:2:3", "@", "10:x"])
def test_bad_ranges_are_rejected(spec):
    with pytest.raises(ValueError):
        cli.Range(spec)


@pytest.mark.parametrize("args", [
    [],                                  # no URL
    ["http://h", "--timeout", "inf"],
    ["http://h", "--timeout", "nan"],
    ["http://h", "--timeout", "-1"],
    ["http://h", "--timeout", "0"],
    ["http://h", "--timeout", "86401"],
    ["http://h", "--timeout", "soon"],
    ["http://h", "-w", "20:10"],
    ["http://h", "-c", "x"],
    ["http://h", "--warning-ratio", "2"],
    ["http://h", "--no-such-option"],
    ["http://h", "-w", "1", "--warning-ratio", "0.5"],
])
def test_check_usage_errors_are_unknown_with_one_line(args):
    r = run("check", *args)
    assert r.returncode == 3, r.stdout + r.stderr
    assert r.stdout.startswith("STATUSZ UNKNOWN: usage: ")
    assert r.stdout.count("\n") == 1
    assert "Traceback" not in r.stderr
    assert_plugin_line(r.stdout.rstrip("\n"))


def test_check_names_with_a_pipe_do_not_split_the_line(clock):
    reg = statusz.Registry(clock=clock, host_name="web|01", version="1")
    reg.probe("applications.cache|redis", lambda: (statusz.Status.KO, "down | since\nnoon"))
    with statusz.serve(reg, port=0) as srv:
        r = run("check", srv.url)
    assert r.returncode == 2
    line = r.stdout.rstrip("\n")
    assert_plugin_line(line)
    text, _, perf = line.partition(" | ")
    assert "host web/01" in text
    assert "cache/redis Ko (down / since noon)" in text
    assert "'cache/redis_duration'=" in perf


def test_check_lists_probes_with_messages_and_not_groups_without_a_probe(reg):
    reg.probe("applications.runtime", lambda: (statusz.Status.WARNING, "disk 91% full"))
    reg.meter("applications.servlet.requests.chatHttp.successes").mark(3)  # a group, no probe
    reg.counter("applications.website.customs.sessions").set(2)
    with statusz.serve(reg, port=0) as srv:
        r = run("check", srv.url)
    assert r.returncode == 1
    assert "probes: runtime Warning (disk 91% full);" in r.stdout
    assert "None" not in r.stdout and "servlet" not in r.stdout.partition("|")[0]
    assert "website" not in r.stdout.partition("|")[0]


class _Trickle(http.server.BaseHTTPRequestHandler):
    """Sends the headers, then a valid document at a few bytes a second."""

    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = json.dumps({"status": "Ok", "padding": "x" * 200}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            for i in range(0, len(body), 4):
                self.wfile.write(body[i:i + 4])
                self.wfile.flush()
                time.sleep(0.5)
        except OSError:
            pass

    def log_message(self, *args):
        pass


def test_check_timeout_bounds_a_body_sent_slowly():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Trickle)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        started = time.monotonic()
        r = run("check", f"http://127.0.0.1:{httpd.server_address[1]}", "--timeout", "1")
        elapsed = time.monotonic() - started
    finally:
        httpd.shutdown()
        httpd.server_close()
    # The whole body takes 27 s; the check ends at its 1 s deadline (plus
    # the interpreter's start-up).
    assert r.returncode == 3, r.stdout
    assert r.stdout.startswith("STATUSZ UNKNOWN: no complete answer from ")
    assert "within 1 s" in r.stdout
    assert elapsed < 10


def test_check_unreachable_is_unknown():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = run("check", f"http://127.0.0.1:{port}")
    assert r.returncode == 3
    assert r.stdout.startswith("STATUSZ UNKNOWN: cannot reach")


def test_check_timeout_is_unknown():
    with socket.socket() as s:  # accepts connections (backlog), never answers
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        port = s.getsockname()[1]
        r = run("check", f"http://127.0.0.1:{port}", "--timeout", "0.5")
    assert r.returncode == 3
    assert "no complete answer" in r.stdout and "0.5 s" in r.stdout


def answer(handler, status, body, content_type=None):
    """Writes a whole response with its Content-Length."""
    handler.send_response(status)
    if content_type:
        handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@contextlib.contextmanager
def serving(handler_class, **attributes):
    """A threading HTTP server on a free loopback port whose server object
    carries `attributes`, for its handler; yields its base URL."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    httpd.daemon_threads = True
    for name, value in attributes.items():
        setattr(httpd, name, value)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


class _NotJson(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        answer(self, 200, b"<html>surprise</html>")

    def log_message(self, *args):
        pass


def test_check_unparseable_body_is_unknown():
    with serving(_NotJson) as url:
        r = run("check", url)
    assert r.returncode == 3
    assert "not JSON" in r.stdout


class _Document(http.server.BaseHTTPRequestHandler):
    """Answers every GET with the server's `body`, as JSON."""

    def do_GET(self):
        answer(self, getattr(self.server, "status", 200), self.server.body.encode(),
               "application/json")

    def log_message(self, *args):
        pass


@pytest.fixture
def serve_document():
    """Serves a fixed body; returns the URL."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Document)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()

    def start(body):
        httpd.body = body
        return f"http://127.0.0.1:{httpd.server_address[1]}"
    yield start
    httpd.shutdown()
    httpd.server_close()


# Valid JSON that Python reads but cannot evaluate: an integer too large for
# a float (JSON sets no bound on numbers, RFC 8259 §6).
_HUGE = "1" + "0" * 400
_TIMER = ('{"count":1,"meanRate":0,"oneMinuteRate":%s,"fiveMinuteRate":0,'
          '"fifteenMinuteRate":0,"durationMs":{"p50":%s,"p99":%s}}' % (_HUGE, _HUGE, _HUGE))


@pytest.mark.parametrize("body,args,reason", [
    ('{"status":"Ok","x":{"fiveMinuteErrorsRatio":%s}}' % _HUGE, ["-c", "0.5"],
     "x.fiveMinuteErrorsRatio is too large"),
    ('{"status":"Ok","t":%s}' % _TIMER, ["--critical-p99-ms", "5"],
     "t.durationMs.p99 is too large"),
])
def test_check_a_document_it_cannot_evaluate_is_unknown(serve_document, body, args, reason):
    json.loads(body)  # valid JSON, which Python parses
    r = run("check", serve_document(body), *args)
    assert r.returncode == 3, r.stdout + r.stderr
    assert r.stdout.startswith("STATUSZ UNKNOWN: ") and reason in r.stdout
    assert r.stdout.count("\n") == 1
    assert_plugin_line(r.stdout.rstrip("\n"))
    assert "Traceback" not in r.stderr


def test_a_body_nested_too_deeply_is_unknown_and_not_a_traceback(serve_document):
    # Valid JSON that json.loads cannot read: RecursionError, not ValueError.
    url = serve_document('{"status":"Ok","a":' + "[" * 100000 + "]" * 100000 + "}")
    assert_unfetchable(url, "the body from ", "nests too deeply", "nests too deeply")


def assert_unfetchable(url, unknown_prefix, in_check, in_get):
    """check says UNKNOWN in one plugin line, get exits 1: no traceback."""
    r = run("check", url)
    assert r.returncode == 3, r.stdout + r.stderr
    assert r.stdout.startswith("STATUSZ UNKNOWN: " + unknown_prefix)
    assert in_check in r.stdout and r.stdout.count("\n") == 1
    r = run("get", url)
    assert r.returncode == 1 and in_get in r.stderr
    assert "Traceback" not in r.stderr


def test_watch_shows_numbers_too_large_for_a_float(serve_document):
    url = serve_document('{"status":"Ok","t":%s}' % _TIMER)
    r = run("watch", url, "--iterations", "1", "--interval", "0.1")
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert "100000000~" in r.stdout  # the cells, cut to their 10 columns
    url = serve_document('{"status":"Ok","x":{"fiveMinuteErrorsRatio":%s}}' % _HUGE)
    r = run("watch", url, "--iterations", "1", "--interval", "0.1")
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert "Unknown: the number at x.fiveMinuteErrorsRatio is too large" in r.stdout


def test_an_error_answer_nested_too_deeply_is_an_http_error():
    # The 500's body is read for its "error" member: RecursionError there
    # escaped as a traceback.
    with serving(_Document, body="[" * 100000 + "]" * 100000, status=500) as url:
        assert_unfetchable(url, "HTTP 500 from ", "HTTP 500", "HTTP 500")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_json_numbers_are_unknown(serve_document, constant):
    # json.loads reads them; a NaN p99 or ratio passed every threshold.
    url = serve_document('{"status":"Ok","x":{"fiveMinuteErrorsRatio":%s}}' % constant)
    code, line = cli.check(url, 10.0, cli.Range("0.05"), None, None)
    assert code == cli.UNKNOWN
    assert f"{constant} is not a JSON number" in line


class _Redirecting(http.server.BaseHTTPRequestHandler):
    """/cross redirects to another origin (localhost for 127.0.0.1), /same to
    this one; /moved records the Authorization it got and answers a
    document."""

    def do_GET(self):
        port = self.server.server_address[1]
        path = self.path.split("?")[0]
        if path in ("/cross", "/same"):
            host = "localhost" if path == "/cross" else "127.0.0.1"
            self.send_response(302)
            self.send_header("Location", f"http://{host}:{port}/moved?details=true")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.server.seen.append(self.headers.get("Authorization"))
        answer(self, 200, b'{"status":"Ok"}', "application/json")

    def log_message(self, *args):
        pass


def test_the_token_follows_a_redirect_only_within_its_origin():
    seen = []
    with serving(_Redirecting, seen=seen) as url:
        cli.fetch(url + "/same", 10.0, "s3cret")
        cli.fetch(url + "/cross", 10.0, "s3cret")
    assert seen == ["Bearer s3cret", None]


def test_an_answer_that_is_not_http_is_unknown():
    with socket.socket() as s:  # answers like an SSH server
        s.bind(("127.0.0.1", 0))
        s.listen(8)

        def answer():
            for _ in range(2):
                conn, _ = s.accept()
                with conn:
                    conn.recv(65536)
                    conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
        t = threading.Thread(target=answer, daemon=True)
        t.start()
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
        assert_unfetchable(url, "no HTTP answer from ", "BadStatusLine", "no HTTP answer")
        t.join(timeout=30)


def test_get_prints_the_document(controlled):
    srv, _ = controlled
    r = run("get", srv.url, "--details", "--pretty")
    assert r.returncode == 0
    doc = json.loads(r.stdout)
    assert doc["withDetails"] is True
    assert '\n  "withDetails": true' in r.stdout
    r = run("get", srv.url + "/serverstatus")
    assert json.loads(r.stdout)["withDetails"] is False
    assert run("get", "http://127.0.0.1:1").returncode == 1


def test_get_keeps_the_urls_query(controlled):
    srv, _ = controlled
    r = run("get", srv.url + "/serverstatus?details=true")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["withDetails"] is True
    r = run("get", srv.url + "/serverstatus?details=true", "--details")  # agrees
    assert json.loads(r.stdout)["withDetails"] is True
    r = run("get", srv.url + "/serverstatus?pretty", "--details")  # a bare pretty is true
    assert '\n  "withDetails": true' in r.stdout
    # Passed through, not replaced: the server's own 400 names the parameter.
    r = run("get", srv.url + "/serverstatus?details=yes")
    assert r.returncode == 1
    assert "HTTP 400" in r.stderr and "'details' must be true or false, not 'yes'" in r.stderr
    # A contradiction is a usage error, not a silent choice.
    r = run("get", srv.url + "/serverstatus?details=false", "--details")
    assert r.returncode == 2
    assert r.stderr == "statusz get: the URL sets details=false, which contradicts --details\n"
    r = run("get", srv.url + "/serverstatus?pretty=0", "--pretty")
    assert r.returncode == 2
    assert r.stderr == "statusz get: the URL sets pretty=0, which contradicts --pretty\n"
    # The value named is the one that contradicts, not the first given.
    with pytest.raises(cli.UsageError, match="sets details=false, which contradicts --details"):
        cli.status_url("http://h/?details=true&details=false", True, from_options=True)


def test_status_url_building():
    assert cli.status_url("127.0.0.1:8080", True) == "http://127.0.0.1:8080/serverstatus?details=true"
    assert cli.status_url("http://h/servlet/api/serverstatus?pretty=true") == \
        "http://h/servlet/api/serverstatus?pretty=true"
    assert cli.status_url("http://h/?x=1&details=TRUE", True) == "http://h/serverstatus?x=1&details=TRUE"
    assert cli.status_url("http://h/serverstatus?details=yes") == "http://h/serverstatus?details=yes"
    with pytest.raises(cli.UsageError):
        cli.status_url("http://h/serverstatus?details=no", True)
    with pytest.raises(cli.UsageError):
        cli.status_url("ftp://h/")


@pytest.mark.parametrize("url,reason", [
    ("http://[::1", "Invalid IPv6 URL"),
    ("http://127.0.0.1:abc", "Port could not be cast to integer value as 'abc'"),
    ("http://127.0.0.1:99999", "Port out of range 0-65535"),  # not "connection refused"
    ("http://127.0.0.1:8080/server status", "a space or control character (percent-encode it)"),
])
def test_a_malformed_url_is_a_usage_error(url, reason):
    r = run("check", url)
    assert r.returncode == 3, r.stdout + r.stderr
    assert r.stdout == f"STATUSZ UNKNOWN: bad URL '{url}': {reason}\n"
    for command in ("get", "watch"):
        r = run(command, url)
        assert r.returncode == 2, r.stdout + r.stderr
        assert r.stderr == f"statusz {command}: bad URL '{url}': {reason}\n"


def test_check_refuses_a_url_without_details(controlled):
    srv, _ = controlled
    r = run("check", srv.url + "/serverstatus?details=false")
    assert r.returncode == 3
    assert r.stdout.startswith("STATUSZ UNKNOWN: the URL sets details=false")


def test_version():
    r = run("--version")
    assert r.returncode == 0
    assert r.stdout.strip() == f"statusz {statusz.__version__}"


@pytest.mark.parametrize("port", ["70000", "-1", "http"])
def test_demo_bad_port_is_a_usage_error(port):
    r = run("demo", "--port", port)
    assert r.returncode == 2
    assert "--port" in r.stderr and "Traceback" not in r.stderr


def test_demo_on_a_busy_port_exits_1():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        r = run("demo", "--port", str(s.getsockname()[1]))
    assert r.returncode == 1
    assert "cannot listen" in r.stderr and "Traceback" not in r.stderr


def test_watch_not_on_a_terminal_prints_plain_text(controlled):
    srv, _ = controlled
    r = run("watch", srv.url, "--iterations", "2", "--interval", "0.1")
    assert r.returncode == 0
    assert r.stdout.count("refreshed") == 2
    assert "\x1b" not in r.stdout
    assert "runtime" in r.stdout


def test_a_closed_stdout_ends_watch_and_get_quietly(controlled, serve_document):
    # statusz watch URL | head: the reader goes away; exit 1 without a
    # traceback (the Python documentation's note on SIGPIPE).
    srv, _ = controlled
    proc = subprocess.Popen(PY + ["watch", srv.url, "--interval", "0.1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for line in proc.stdout:  # the first refresh is out
        if line.startswith(b"refreshed"):
            break
    proc.stdout.close()
    assert proc.wait(timeout=60) == 1
    assert proc.stderr.read() == b""
    proc.stderr.close()
    url = serve_document(json.dumps({"status": "Ok", "padding": "x" * 1_000_000}))
    proc = subprocess.Popen(PY + ["get", url], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    assert proc.wait(timeout=60) == 1
    assert proc.stderr.read() == b""
    proc.stderr.close()


def test_render_watch_fits_the_width():
    doc = load_sample()
    doc["applications"]["runtime"]["message"] = "a very long probe message " * 10
    for width in (40, 60, 79):
        lines = cli.render_watch(doc, "http://127.0.0.1:8080", width)
        assert all(len(text) <= width for text, _ in lines), width
        assert any(text.startswith("runtime") and "Ok" in text for text, _ in lines)
    wide = [t for t, _ in cli.render_watch(doc, "http://h", 200)]
    assert any("a very long probe message" in t for t in wide)
    assert any("15m/s" in t for t in wide)


def read_pty(fd, until, timeout=60):
    out = b""
    deadline = time.monotonic() + timeout
    while until(out) is False and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    return out


def start_watch(srv, rows=24, cols=80, **env_extra):
    """`statusz watch` on a pty of rows x cols; returns (process, master fd)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    env = dict(os.environ, TERM="xterm-256color")
    env.pop("NO_COLOR", None)
    env.update(env_extra)
    proc = subprocess.Popen(PY + ["watch", srv.url, "--interval", "0.2"], stdin=slave, stdout=slave,
                            stderr=slave, close_fds=True, env=env, start_new_session=True)
    os.close(slave)
    return proc, master


def read_first_frames(master):
    """The output of the first frame, then of the redraws (curses sends only
    what changed) for a second more."""
    out = read_pty(master, lambda b: b"refreshed" in b)
    return out + read_pty(master, lambda b: False, timeout=1.0)


def finish_watch(proc, master, how):
    """Stops `watch` (SIGINT, or "q" typed); returns what it wrote after."""
    try:
        if how == "sigint":
            proc.send_signal(signal.SIGINT)
        else:
            os.write(master, b"q")
        assert proc.wait(timeout=30) == 0
        return read_pty(master, lambda b: False, timeout=2)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)


@pytest.fixture
def busy_registry(reg):
    build_sample(reg, load_sample())
    reg.probe("applications.storage", lambda: (statusz.Status.WARNING, "disk 91% full"))
    for i in range(12):  # more meters than 24 rows hold
        reg.meter(f"applications.servlet.requests.chatHttp.extra{i}WithAVeryLongNameIndeed").mark(i)
    return reg


@pytest.mark.parametrize("how", ["sigint", "q"])
def test_watch_uses_the_alternate_screen_and_restores_the_terminal(busy_registry, how):
    with statusz.serve(busy_registry, port=0) as srv:
        proc, master = start_watch(srv)
        out = read_first_frames(master)
        rest = finish_watch(proc, master, how)
    assert b"refreshed" in out, out
    assert out.startswith(b"\x1b[?1049h")  # the alternate screen (xterm's smcup)
    assert b"\x1b[?1049l" not in out
    assert b"\x1b[?1049l" in rest and b"\x1b[?25h" in rest  # left, cursor shown again
    assert b"storage" in out and b"disk 91% full" in out
    assert re.search(rb"\x1b\[[0-9;]*33m\s*Warning", out)  # Warning in yellow


def test_watch_fits_an_80x24_terminal(busy_registry):
    pyte = pytest.importorskip("pyte")
    with statusz.serve(busy_registry, port=0) as srv:
        proc, master = start_watch(srv, 24, 80)
        out = read_first_frames(master)
        finish_watch(proc, master, "sigint")
    screen = pyte.Screen(80, 24)
    stream = pyte.ByteStream(screen)
    # The last frame as a VT100 would show it: cut the output where the
    # alternate screen is left, i.e. look at it while watch is running.
    stream.feed(out)
    rows = screen.display
    assert rows[0].startswith("statusz watch  http://127.0.0.1:")
    assert rows[23].startswith("refreshed "), rows  # the status line stays on the last row
    assert "more lines: enlarge the terminal" in rows[21]
    assert any(r.startswith("storage ") and "Warning" in r and "disk 91% full" in r for r in rows)
    table = [r for r in rows if "count" in r and "15m/s" in r]
    assert table and table[0].rstrip().endswith("15m/s")  # the meter table is not wrapped
    assert all(not r.startswith(("WithAVeryLong", "Indeed")) for r in rows)


def test_watch_without_colour_when_no_color_is_set(busy_registry):
    with statusz.serve(busy_registry, port=0) as srv:
        proc, master = start_watch(srv, NO_COLOR="1")
        out = read_first_frames(master)
        finish_watch(proc, master, "sigint")
    assert b"Warning" in out
    assert not re.search(rb"\x1b\[[0-9;]*3[1-5]m", out)


def test_watch_redraws_to_the_new_size_on_resize(busy_registry):
    pyte = pytest.importorskip("pyte")
    with statusz.serve(busy_registry, port=0) as srv:
        proc, master = start_watch(srv, 24, 80)
        out = read_first_frames(master)
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        proc.send_signal(signal.SIGWINCH)
        out += read_first_frames(master)
        finish_watch(proc, master, "sigint")
    screen = pyte.Screen(120, 40)
    stream = pyte.ByteStream(screen)
    stream.feed(out)  # both frames: the second, after the resize, covers the first
    rows = screen.display
    assert rows[39].startswith("refreshed "), rows
    assert any("15m/s" in r and r.rstrip().endswith("15m/s") and len(r.rstrip()) > 80 for r in rows)


def test_demo_serves_the_sample_shape():
    proc = subprocess.Popen(PY + ["demo", "--port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        m = re.search(r"(http://127\.0\.0\.1:\d+)", first)
        assert m, first
        base = m.group(1)
        # Every route the banner names answers (health: 200 or 503).
        banner = []
        for line in iter(proc.stdout.readline, ""):
            if line.startswith("Ctrl-C"):
                break
            banner += re.findall(r"http://\S+", line)
        routes = {u.split("?")[0].rsplit("/", 1)[1] for u in banner}
        assert {"serverstatus", "metrics", "healthz", "livez", "readyz"} <= routes, banner
        for url in banner:
            if "curl" in url or url.endswith('"'):
                continue
            try:
                with urllib.request.urlopen(url, timeout=30) as resp:
                    code = resp.status
            except urllib.error.HTTPError as e:
                code = e.code
            health = url.rsplit("/", 1)[1] in ("healthz", "livez", "readyz")
            assert code in ((200, 503) if health else (200,)), (url, code)
        r = run("get", base, "--details")
        assert r.returncode == 0, r.stderr
        doc = json.loads(r.stdout)
        sample = load_sample()
        assert list(doc) == list(sample)
        assert list(doc["applications"]) == list(sample["applications"])
        assert list(doc["volumes"]) == list(sample["volumes"])
        chat = doc["applications"]["servlet"]["requests"]["chatHttp"]
        assert list(chat) == list(sample["applications"]["servlet"]["requests"]["chatHttp"])
        assert run("check", base).returncode in (0, 1)  # router may flap to Warning
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
