"""The statusz command: check, get, watch and demo, as real processes."""

import http.server
import json
import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

import statusz
from statusz import cli

from conftest import load_sample

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
    assert lines[0].startswith(f"STATUSZ {label} - server status {status}")
    assert " | " in lines[0] and "'runtime_duration'=" in lines[0]
    if status != statusz.Status.OK:
        assert f"runtime {status}" in lines[0]


def test_check_ratio_thresholds(reg, clock):
    ok = reg.meter("applications.servlet.requests.chatHttp.successes")
    errors = reg.meter("applications.servlet.requests.chatHttp.errors")
    reg.ratio("applications.servlet.requests.chatHttp.fiveMinuteErrorsRatio",
              errors=errors, successes=ok)
    ok.mark(90)
    errors.mark(10)
    clock.advance(5.5)  # ratio 0.1 (Dropwizard ticks once more than 5 s passed)
    with statusz.serve(reg, port=0) as srv:
        assert run("check", srv.url, "--warning-ratio", "0.05").returncode == 1
        r = run("check", srv.url, "--warning-ratio", "0.05", "--critical-ratio", "0.1")
        assert r.returncode == 2
        assert "errors ratio 0.1 >= 0.1" in r.stdout
        assert "fiveMinuteErrorsRatio'=0.1;0.05;0.1;0;1" in r.stdout
        assert run("check", srv.url, "--critical-ratio", "0.5").returncode == 0
        assert run("check", srv.url, "--warning-ratio", "2").returncode == 2  # argparse error


def test_check_unreachable_is_unknown():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = run("check", f"http://127.0.0.1:{port}")
    assert r.returncode == 3
    assert r.stdout.startswith("STATUSZ UNKNOWN - cannot reach")


def test_check_timeout_is_unknown():
    with socket.socket() as s:  # accepts connections (backlog), never answers
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        port = s.getsockname()[1]
        r = run("check", f"http://127.0.0.1:{port}", "--timeout", "0.5")
    assert r.returncode == 3
    assert "no answer" in r.stdout and "0.5 s" in r.stdout


class _NotJson(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<html>surprise</html>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_check_unparseable_body_is_unknown():
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _NotJson)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        r = run("check", f"http://127.0.0.1:{httpd.server_address[1]}")
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert r.returncode == 3
    assert "not JSON" in r.stdout


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


def test_status_url_building():
    assert cli.status_url("127.0.0.1:8080", True) == "http://127.0.0.1:8080/serverstatus?details=true"
    assert cli.status_url("http://h/servlet/api/serverstatus?pretty=true", False) == \
        "http://h/servlet/api/serverstatus?pretty=true&details=false"


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


def test_watch_redraws_under_a_terminal_and_quits_on_ctrl_c(reg):
    reg.probe("applications.runtime", lambda: statusz.Status.WARNING)
    reg.keyed("applications.servlet.requests.chatHttp.errorsByBot").inc("bot-7", 3)
    reg.meter("applications.servlet.requests.chatHttp.successes").mark(5)
    with statusz.serve(reg, port=0) as srv:
        master, slave = pty.openpty()
        proc = subprocess.Popen(PY + ["watch", srv.url, "--interval", "0.2"],
                                stdin=slave, stdout=slave, stderr=slave, close_fds=True)
        os.close(slave)
        try:
            out = read_pty(master, lambda b: b.count(b"refreshed") >= 2)
            assert out.count(b"refreshed") >= 2, out
            assert b"\x1b[H\x1b[2J" in out  # redraws in place
            assert b"runtime" in out and b"\x1b[1;33mWarning\x1b[0m" in out  # coloured
            assert b"bot-7" in out and b"chatHttp.successes" in out
            proc.send_signal(signal.SIGINT)
            rest = read_pty(master, lambda b: False, timeout=10) if proc.wait(timeout=30) is not None else b""
            assert proc.returncode == 0
            assert b"\x1b[?25h" in out + rest  # cursor restored
        finally:
            if proc.poll() is None:
                proc.kill()
            os.close(master)


def test_demo_serves_the_sample_shape():
    proc = subprocess.Popen(PY + ["demo", "--port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        m = re.search(r"(http://127\.0\.0\.1:\d+)", first)
        assert m, first
        base = m.group(1)
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
