"""statusz.push against a real Prometheus Pushgateway and
statusz.write_textfile against a real node_exporter textfile collector (the
Debian servers, started on loopback ports of their own)."""

import http.server
import os
import shutil
import socket
import stat
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

import statusz
from prometheus_client.parser import text_string_to_metric_families

PUSHGATEWAY = shutil.which("prometheus-pushgateway") or "/usr/bin/prometheus-pushgateway"
NODE_EXPORTER = shutil.which("prometheus-node-exporter") or "/usr/bin/prometheus-node-exporter"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_daemon(argv, port, log_path):
    log = open(log_path, "wb")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc, log
        except OSError:
            time.sleep(0.05)  # polling a subprocess's startup, not timing logic
    proc.kill()
    proc.wait()
    log.close()
    pytest.fail(f"{argv[0]} did not start: {open(log_path, errors='replace').read()[-2000:]}")


def stop_daemon(proc, log):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        return r.read().decode("utf-8")


def samples(text, name):
    """{frozenset(labels): value} of every sample called `name`."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name:
                out[frozenset(s.labels.items())] = s.value
    return out


@pytest.fixture
def pushgateway(tmp_path):
    if not os.access(PUSHGATEWAY, os.X_OK):
        pytest.skip("prometheus-pushgateway is not installed (scripts/setup installs it)")
    port = free_port()
    proc, log = start_daemon(
        [PUSHGATEWAY, f"--web.listen-address=127.0.0.1:{port}", "--persistence.file="],
        port, tmp_path / "pushgateway.log")
    yield f"http://127.0.0.1:{port}", port
    stop_daemon(proc, log)


@pytest.fixture
def node_exporter(tmp_path):
    if not os.access(NODE_EXPORTER, os.X_OK):
        pytest.skip("prometheus-node-exporter is not installed (scripts/setup installs it)")
    directory = tmp_path / "textfiles"
    directory.mkdir()
    port = free_port()
    proc, log = start_daemon(
        [NODE_EXPORTER, "--collector.disable-defaults", "--collector.textfile",
         f"--collector.textfile.directory={directory}",
         f"--web.listen-address=127.0.0.1:{port}"],
        port, tmp_path / "node_exporter.log")
    yield directory, port
    stop_daemon(proc, log)


def batch_registry(rows):
    reg = statusz.Registry(host_name="batch1", version="1.0")
    reg.counter("volumes.rows").set(rows)
    reg.meter("import.errors").mark(3)
    return reg


# Pushgateway paths ----------------------------------------------------------

def test_pushgateway_paths():
    assert statusz.pushgateway_path("nightly") == "/metrics/job/nightly"
    assert statusz.pushgateway_path("nightly", {"instance": "db 1", "dc": "eu"}) == \
        "/metrics/job/nightly/instance/db%201/dc/eu"
    # A value with a '/' or an empty one: base64url with @base64 (the
    # Pushgateway README's example: /var/tmp is L3Zhci90bXA=).
    assert statusz.pushgateway_path("a/b", {"path": "/var/tmp", "empty": ""}) == \
        "/metrics/job@base64/YS9i/path@base64/L3Zhci90bXA=/empty@base64/="
    for job, grouping in [("", None), ("j", {"job": "x"}), ("j", {"bad-name": "x"})]:
        with pytest.raises(ValueError):
            statusz.pushgateway_path(job, grouping)
    with pytest.raises(TypeError):
        statusz.pushgateway_path("j", {"n": 1})


# The real Pushgateway -------------------------------------------------------

def test_push_then_read_back(pushgateway):
    url, port = pushgateway
    grouping = {"instance": "db1", "path": "/var/tmp"}
    assert statusz.push(batch_registry(1200), url, "nightly", grouping) == 200
    text = scrape(port)
    labels = frozenset({"job": "nightly", "instance": "db1", "path": "/var/tmp"}.items())
    assert samples(text, "statusz_volumes_rows")[labels] == 1200
    assert samples(text, "statusz_import_errors_total")[labels] == 3
    assert samples(text, "push_failure_time_seconds")[labels] == 0


def test_put_replaces_the_group_and_post_only_the_names_pushed(pushgateway):
    url, port = pushgateway
    statusz.push(batch_registry(10), url, "j", {"instance": "a"})
    only_rows = statusz.Registry(host_name="batch1", version="1.0")
    only_rows.counter("volumes.rows").set(20)
    labels = frozenset({"job": "j", "instance": "a"}.items())

    statusz.push(only_rows, url, "j", {"instance": "a"}, method="POST")
    text = scrape(port)
    assert samples(text, "statusz_volumes_rows")[labels] == 20
    assert labels in samples(text, "statusz_import_errors_total")   # kept by POST

    statusz.push(only_rows, url, "j", {"instance": "a"}, method="PUT")
    text = scrape(port)
    assert samples(text, "statusz_volumes_rows")[labels] == 20
    assert labels not in samples(text, "statusz_import_errors_total")  # gone with PUT


def test_push_arguments_are_checked(reg):
    for kwargs in ({"method": "DELETE"}, {"timeout": 0}):
        with pytest.raises(ValueError):
            statusz.push(reg, "http://127.0.0.1:9", "j", **kwargs)
    with pytest.raises(ValueError):
        statusz.push(reg, "127.0.0.1:9091", "j")


def test_push_sends_the_token_and_raises_on_refusal(reg):
    seen = []

    class Capture(http.server.BaseHTTPRequestHandler):
        def do_PUT(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append((self.command, self.path, dict(self.headers), body))
            self.send_response(400 if "refuse" in self.path else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/gw/"
        reg.counter("volumes.x").set(5)
        assert statusz.push(reg, base, "ok", bearer_token="t0k", metrics_prefix="app") == 200
        with pytest.raises(urllib.error.HTTPError) as e:
            statusz.push(reg, base, "refuse")
        assert e.value.code == 400
    finally:
        server.shutdown()
        server.server_close()
    method, path, headers, body = seen[0]
    assert (method, path) == ("PUT", "/gw/metrics/job/ok")
    assert headers["Authorization"] == "Bearer t0k"
    assert headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert b"app_volumes_x 5" in body
    assert "Authorization" not in seen[1][2]


def test_push_to_nothing_raises_oserror(reg):
    with pytest.raises(OSError):
        statusz.push(reg, f"http://127.0.0.1:{free_port()}", "j", timeout=5)


# Textfiles ------------------------------------------------------------------

def test_write_textfile_then_read_back_from_node_exporter(node_exporter):
    directory, port = node_exporter
    path = directory / "batch.prom"
    statusz.write_textfile(batch_registry(1200), path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert os.listdir(directory) == ["batch.prom"]
    text = scrape(port)
    assert samples(text, "statusz_volumes_rows")[frozenset()] == 1200
    assert samples(text, "node_textfile_scrape_error")[frozenset()] == 0
    statusz.write_textfile(batch_registry(1300), str(path))
    assert samples(scrape(port), "statusz_volumes_rows")[frozenset()] == 1300


def test_write_textfile_is_atomic(tmp_path):
    """A reader polling the file while it is rewritten sees whole files
    only (rewriting in place would show empty or partial ones)."""
    path = tmp_path / "m.prom"
    regs = []
    for n in (1, 22, 333):  # counters only: a meter's mean rate moves with time
        regs.append(statusz.Registry(host_name="batch1", version="1.0"))
        for i in range(50):
            regs[-1].counter(f"volumes.table{i}").set(n * i)
    statusz.write_textfile(regs[0], path)
    expected = {r.to_prometheus() for r in regs}
    done = threading.Event()
    bad = []

    def reader():
        while not done.is_set():
            text = path.read_text(encoding="utf-8")
            if text not in expected:
                bad.append(text)

    t = threading.Thread(target=reader)
    t.start()
    try:
        for i in range(300):
            statusz.write_textfile(regs[i % 3], path)
    finally:
        done.set()
        t.join()
    assert not bad, bad[:1]
    assert sorted(os.listdir(tmp_path)) == ["m.prom"]


def test_write_textfile_errors_leave_nothing_behind(tmp_path, reg):
    with pytest.raises(OSError):
        statusz.write_textfile(reg, tmp_path / "missing" / "m.prom")
    (tmp_path / "dir.prom").mkdir()
    with pytest.raises(OSError):
        statusz.write_textfile(reg, tmp_path / "dir.prom")
    assert os.listdir(tmp_path) == ["dir.prom"]


def test_the_readme_cron_snippet(pushgateway, node_exporter, monkeypatch):
    """The README's batch job, its gateway and textfile path pointed at the
    servers started here."""
    from test_readme_snippets import run, snippet
    url, gw_port = pushgateway
    directory, ne_port = node_exporter
    real_push, real_write = statusz.push, statusz.write_textfile
    asked = []

    def push(reg, gw_url, job, **kwargs):
        asked.append(gw_url)
        return real_push(reg, url, job, **kwargs)

    def write_textfile(reg, path, **kwargs):
        asked.append(str(path))
        return real_write(reg, directory / os.path.basename(path), **kwargs)

    monkeypatch.setattr(statusz, "push", push)
    monkeypatch.setattr(statusz, "write_textfile", write_textfile)
    run(snippet("README.md", "python-cron"), "README.md")
    assert asked == ["http://pushgateway:9091",
                     "/var/lib/prometheus/node-exporter/nightly_import.prom"]
    labels = frozenset({"job": "nightly_import", "instance": "db1"}.items())
    assert samples(scrape(gw_port), "statusz_import_rows")[labels] == 1200
    assert samples(scrape(ne_port), "statusz_import_rows")[frozenset()] == 1200
