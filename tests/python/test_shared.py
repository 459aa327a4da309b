"""Shared registries: statusz.Registry(shared=NAME) counts every process of a
pool into one shared-memory store (README "Pools of worker processes").

The gunicorn test is real processes and real time: 4 sync workers recycled
every few requests (max_requests), a bounded loopback load, then exact totals
in the document and /metrics of whichever worker answers."""

import concurrent.futures
import json
import os
import pathlib
import signal
import socket
import stat
import statistics
import subprocess
import sys
import textwrap
import time
import urllib.request

import pytest

import statusz


@pytest.fixture
def name(request):
    n = f"pytest-{os.getpid()}-{request.node.name[:40]}".replace("[", "-").replace("]", "")
    statusz.remove_shared(n)
    yield n
    statusz.remove_shared(n)


def test_forked_children_count_into_one_store(name):
    reg = statusz.Registry(shared=name)
    assert reg.shared == name
    hits = reg.meter("hits")
    live = reg.counter("live", mode="live-sum")
    hits.mark(3)
    pids = []
    for i in range(6):
        pid = os.fork()
        if pid == 0:
            try:
                hits.mark(10)
                live.inc(1)
            finally:
                os._exit(0)
        pids.append(pid)
    for pid in pids:
        assert os.waitpid(pid, 0)[1] == 0
    assert hits.count == 63
    assert live.value == 0  # every child is gone
    doc = reg.snapshot()
    assert doc["hits"]["count"] == 63
    # A second registry of the same name (as another process would open) sees it.
    other = statusz.Registry(shared=name)
    assert other.meter("hits").count == 63


def test_file_is_private_and_names_are_checked(name):
    statusz.Registry(shared=name)
    path = statusz.shared_path(name)
    assert path == f"/dev/shm/statusz.{name}"
    st = os.stat(path)
    assert stat.S_IMODE(st.st_mode) == 0o600
    assert st.st_uid == os.geteuid()
    for bad in ["", "a/b", "..", "white space"]:
        with pytest.raises(ValueError):
            statusz.Registry(shared=bad)
    assert statusz.remove_shared(name) is True
    assert statusz.remove_shared(name) is False


def test_counter_modes_and_kind_errors(name):
    reg = statusz.Registry(shared=name)
    with pytest.raises(ValueError, match="mode"):
        reg.counter("x", mode="average")
    top = reg.counter("top", mode="max")
    top.set(4)
    with pytest.raises(ValueError, match="mode max"):
        statusz.Registry(shared=name).counter("top", mode="min")
    with pytest.raises(statusz.KindError):
        statusz.Registry(shared=name).meter("top")
    assert top.value == 4
    with pytest.raises(RuntimeError, match="not supported by a shared registry"):
        reg.keyed("k")
    with pytest.raises(RuntimeError, match="histograms are not supported"):
        reg.histogram("h")
    with pytest.raises(RuntimeError, match="timers are not supported"):
        reg.timer("t")


def test_another_layout_version_is_refused(name):
    statusz.Registry(shared=name)
    with open(statusz.shared_path(name), "r+b") as f:
        f.seek(8)
        f.write((12345).to_bytes(4, "little"))
    with pytest.raises(statusz.SharedStoreError, match="layout version 12345"):
        statusz.Registry(shared=name)


APP = """
import os
import time
import statusz

reg = statusz.Registry(shared={name!r})
hits = reg.meter("hits")
served = reg.counter("served")
status = statusz.wsgi_app(reg)

def app(environ, start_response):
    if environ["PATH_INFO"] == "/hit":
        hits.mark()
        served.inc()
        body = str(os.getpid()).encode()
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", str(len(body)))])
        return [body]
    if environ["PATH_INFO"] == "/rendertime":
        # The time this worker takes to render /metrics (no HTTP, no respawn).
        inner = dict(environ, PATH_INFO="/metrics")
        t0 = time.perf_counter()
        status(inner, lambda *a: None)
        body = repr(time.perf_counter() - t0).encode()
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", str(len(body)))])
        return [body]
    return status(environ, start_response)
"""

CONF = """
preload_app = True
workers = 4
worker_class = "sync"
max_requests = {max_requests}
bind = "127.0.0.1:{port}"
timeout = 30
loglevel = "warning"
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url):
    for attempt in range(50):
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return r.read()
        except (ConnectionError, urllib.error.URLError):
            # A recycled worker may close the connection of a request that
            # never reached the application: retried (it did not mark).
            time.sleep(0.01)
    raise AssertionError(f"{url} kept failing")


def shm_objects(name):
    return sorted(p for p in os.listdir("/dev/shm") if name in p)


def test_gunicorn_pool_counts_exactly(tmp_path, name):
    pytest.importorskip("gunicorn")
    port = free_port()
    max_requests = 12
    n = 1500
    (tmp_path / "pool_app.py").write_text(textwrap.dedent(APP.format(name=name)))
    (tmp_path / "gunicorn.conf.py").write_text(
        CONF.format(port=port, max_requests=max_requests)
    )
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "pool_app:app"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=5):
                    break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.05)
        started = time.monotonic()

        def scrape_seconds():
            return float(fetch(base + "/rendertime"))

        first_scrapes = None
        pool = concurrent.futures.ThreadPoolExecutor(4)
        pids = set()
        objects_after_first_second = None
        done = 0
        for batch in range(0, n, 100):
            pids.update(pool.map(lambda _: fetch(base + "/hit"), range(batch, min(n, batch + 100))))
            done = min(n, batch + 100)
            if first_scrapes is None:
                # Live workers hold slots now; ~8 have come and gone.
                first_scrapes = [scrape_seconds() for _ in range(9)]
            if objects_after_first_second is None and time.monotonic() - started > 1.0:
                objects_after_first_second = shm_objects(name)
        pool.shutdown()
        if objects_after_first_second is None:
            objects_after_first_second = shm_objects(name)
        assert done == n
        # Workers were recycled at least 100 times (each served <= 12 hits).
        assert len(pids) >= 100, len(pids)
        last_scrapes = [scrape_seconds() for _ in range(9)]
        # Any worker's document and /metrics show exactly n.
        for _ in range(4):
            doc = json.loads(fetch(base + "/serverstatus?details=true"))
            assert doc["hits"]["count"] == n
            assert doc["served"] == n
            metrics = fetch(base + "/metrics").decode()
            assert f"statusz_hits_total {n}" in metrics.splitlines(), metrics
            assert f"statusz_served {n}" in metrics.splitlines(), metrics
        # One shared-memory object, as after the first second: nothing piles up.
        assert shm_objects(name) == objects_after_first_second == [f"statusz.{name}"]
        # Rendering costs what it cost when ~8 workers had come and gone,
        # now that 100+ have.
        before, after = statistics.median(first_scrapes), statistics.median(last_scrapes)
        print(f"render median before {before * 1e3:.3f} ms, after {after * 1e3:.3f} ms, "
              f"{len(pids)} worker pids")
        assert after < 3 * before + 0.002, (first_scrapes, last_scrapes)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
