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

import shutil

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
    with pytest.raises(ValueError, match="mode max, not min"):
        reg.counter("top", mode="min")  # the same registry: refused too
    assert reg.counter("top", mode="max") is top
    with pytest.raises(statusz.KindError):
        statusz.Registry(shared=name).meter("top")
    assert top.value == 4
    reg.keyed("k", 5).inc("a")
    with pytest.raises(statusz.KindError):
        statusz.Registry(shared=name).counter("k")
    with pytest.raises(RuntimeError, match="histograms are not supported by a shared registry"):
        reg.histogram("h")
    with pytest.raises(RuntimeError, match="timers are not supported"):
        reg.timer("t")


def test_keyed_counter_is_the_pools_some_workers_killed(name):
    reg = statusz.Registry(shared=name)
    errors = reg.keyed("pool.errors", max_keys=32)
    errors.inc("common", 2)
    pids = []
    for i in range(6):
        pid = os.fork()
        if pid == 0:
            try:
                for _ in range(500):
                    errors.inc("common")
                    errors.inc(f"worker-{i}")
                errors.inc(f"pair-{i // 2}", 7)
            finally:
                os._exit(0)
        pids.append(pid)
    for pid in pids:
        assert os.waitpid(pid, 0)[1] == 0
    # A worker killed with SIGKILL while it counts: what it counted stays.
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        errors.inc("killed", 1000)
        errors.inc("spin")  # before the signal: the parent may kill at once
        os.write(w, b"x")
        while True:
            errors.inc("spin")
    os.close(w)
    assert os.read(r, 1) == b"x"
    os.close(r)
    os.kill(pid, signal.SIGKILL)
    assert os.waitpid(pid, 0)[1] & 0x7F == signal.SIGKILL
    spin = errors["spin"]
    assert spin >= 1
    expected = {"common": 3002, **{f"worker-{i}": 500 for i in range(6)},
                **{f"pair-{i}": 14 for i in range(3)}, "killed": 1000, "spin": spin}
    assert errors.snapshot() == {k: expected[k] for k in errors.keys()}
    assert set(errors.keys()) == set(expected)
    assert len(errors) == errors.size == len(expected)
    assert errors.dropped == 0
    doc = reg.snapshot()
    assert doc["pool"]["errors"] == errors.snapshot()
    text = reg.to_prometheus()
    assert 'statusz_pool_errors_total{key="common"} 3002' in text.splitlines()
    assert 'statusz_pool_errors_total{key="pair-2"} 14' in text.splitlines()
    assert "statusz_pool_errors_dropped_total 0" in text.splitlines()
    promtool = shutil.which("promtool")
    assert promtool, "promtool (Debian package prometheus) is required"
    r = subprocess.run([promtool, "check", "metrics"], input=text.encode(),
                       capture_output=True, timeout=60)
    assert r.returncode == 0 and r.stdout + r.stderr == b"", r.stdout + r.stderr
    # Another process's registry (here: another registry) renders the same.
    assert statusz.Registry(shared=name).keyed("pool.errors").snapshot() == errors.snapshot()


def test_keyed_max_keys_is_pool_wide(name):
    reg = statusz.Registry(shared=name)
    k = reg.keyed("by_bot", max_keys=3)
    k.inc("a")
    pid = os.fork()
    if pid == 0:
        try:
            joined = statusz.Registry(shared=name).keyed("by_bot", max_keys=100)
            joined.inc("b")
            joined.inc("c")
            joined.inc("d", 4)  # the fourth key of the pool: overflow
            os._exit(0 if joined.max_keys == 3 else 1)
        finally:
            os._exit(2)
    assert os.waitpid(pid, 0)[1] == 0
    k.inc("e")  # overflow here too
    k.inc("c")  # the pool's key, counted by the child
    assert k.keys() == ["a", "b", "c", "__overflow__"]
    assert k.snapshot() == {"a": 1, "b": 1, "c": 2, "__overflow__": 5}
    assert k.dropped == 2
    assert "d" not in k and "c" in k
    assert reg.snapshot()["by_bot"] == {"a": 1, "b": 1, "c": 2, "__overflow__": 5}
    lines = reg.to_prometheus().splitlines()
    assert 'statusz_by_bot_total{key="__overflow__"} 5' in lines
    assert "statusz_by_bot_dropped_total 2" in lines


def test_shared_capacity_is_explicit(name):
    reg = statusz.Registry(shared=name, shared_cells=30, shared_key_bytes=264 * 20)
    reg.keyed("a", max_keys=20)
    with pytest.raises(statusz.SharedStoreError, match="cells left"):
        reg.keyed("b", max_keys=20)
    assert "b" not in reg
    with pytest.raises(statusz.SharedStoreError, match="key bytes left"):
        reg.keyed("c", max_keys=1)
    with pytest.raises(statusz.SharedStoreError, match="other limits"):
        statusz.Registry(shared=name)
    with pytest.raises(ValueError, match="only for a shared registry"):
        statusz.Registry(shared_cells=10)
    with pytest.raises(ValueError, match="shared_slots must be"):
        statusz.Registry(shared=name + "x", shared_slots=0)


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
by_route = reg.keyed("by_route", max_keys=16)
status = statusz.wsgi_app(reg)

def app(environ, start_response):
    if environ["PATH_INFO"] == "/hit":
        hits.mark()
        served.inc()
        by_route.inc("r" + environ["QUERY_STRING"])
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
            pids.update(pool.map(lambda i: fetch(f"{base}/hit?{i % 7}"),
                                 range(batch, min(n, batch + 100))))
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
            routes = {f"r{k}": len(range(k, n, 7)) for k in range(7)}
            assert doc["by_route"] == routes
            metrics = fetch(base + "/metrics").decode()
            assert f"statusz_hits_total {n}" in metrics.splitlines(), metrics
            assert f"statusz_served {n}" in metrics.splitlines(), metrics
            for key, count in routes.items():
                assert f'statusz_by_route_total{{key="{key}"}} {count}' in metrics.splitlines()
            assert "statusz_by_route_dropped_total 0" in metrics.splitlines()
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
