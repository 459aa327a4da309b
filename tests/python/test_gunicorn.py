"""A real pre-fork server: gunicorn with preload_app = True and 2 workers.

The application (imported once, in the master, before the workers fork)
creates the registry, a meter marked per request, and a probe that already
ran in the master. In each worker the probe runs and reads Ok (no timeout
waited for), and the meter's rates are right: events of a worker's second
5 s interval do not leak into its first interval's rate (they would if the
worker had no ticker thread). Real time: this is about real processes."""

import concurrent.futures
import json
import os
import pathlib
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request

import pytest

pytest.importorskip("gunicorn")

APP = """
import json, os, time
import statusz

CREATED = time.monotonic()
reg = statusz.Registry()
hits = reg.meter("hits")
hits.mark(5)  # 5 events before the fork, in the first interval
reg.probe("applications.app", lambda: (statusz.Status.OK, f"pid {os.getpid()}"),
          timeout=3.0)
assert reg.status() == statusz.Status.OK  # ran in the master

def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/serverstatus":
        time.sleep(0.2)  # keeps this worker busy: the other takes the next
        t0 = time.monotonic()
        doc = json.loads(reg.to_json())
        body = {"pid": os.getpid(), "doc": doc, "took": time.monotonic() - t0,
                "age": time.monotonic() - CREATED}
    else:
        hits.mark()
        body = {"pid": os.getpid(), "age": time.monotonic() - CREATED}
    data = json.dumps(body).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(data)))])
    return [data]
"""

CONF = """
preload_app = True
workers = 2
worker_class = "sync"
bind = "127.0.0.1:{port}"
timeout = 30
loglevel = "warning"
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def test_gunicorn_preload_workers_tick_and_probe(tmp_path):
    port = free_port()
    (tmp_path / "statusz_app.py").write_text(textwrap.dedent(APP))
    (tmp_path / "gunicorn.conf.py").write_text(CONF.format(port=port))
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
         "statusz_app:app"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        # Up: both workers answer.
        deadline = time.monotonic() + 20
        while True:
            try:
                get(base + "/warmup")
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.05)
        first = {}   # pid -> requests in the meter's first interval
        second = {}  # pid -> requests in its second interval
        # The warm-up request counts too.
        pool = concurrent.futures.ThreadPoolExecutor(4)
        # Burst 1: during the first interval (age < 5 s).
        ages = []
        for r in pool.map(lambda _: get(base + "/hit"), range(40)):
            first[r["pid"]] = first.get(r["pid"], 0) + 1
            ages.append(r["age"])
        assert max(ages) < 4.5, "too slow to test the first interval"
        # Wait for the 5 s boundary, then burst 2 (second interval).
        time.sleep(max(0.0, 5.3 - max(ages)))
        ages = []
        for r in pool.map(lambda _: get(base + "/hit"), range(40)):
            second[r["pid"]] = second.get(r["pid"], 0) + 1
            ages.append(r["age"])
        assert 5.0 < min(ages) and max(ages) < 9.5
        # Read each worker's document (concurrent slow reads reach both).
        docs = {}
        deadline = time.monotonic() + 4
        while len(docs) < 2 and time.monotonic() < deadline:
            for r in pool.map(lambda _: get(base + "/serverstatus"), range(2)):
                docs[r["pid"]] = r
        assert len(docs) == 2, "one worker never answered"
        for pid, r in docs.items():
            assert r["age"] < 9.8
            doc = r["doc"]
            assert doc["status"] == "Ok"
            app = doc["applications"]["app"]
            assert app["status"] == "Ok"
            assert r["took"] < 1.0  # the probe ran: no 3 s timeout
            hits = doc["hits"]
            # The warm-up request may have gone to either worker.
            n1 = first.get(pid, 0)
            n2 = second.get(pid, 0)
            assert hits["count"] - 5 - n1 - n2 in (0, 1), (hits, n1, n2)
            warm = hits["count"] - 5 - n1 - n2
            # First interval: 5 before the fork + this worker's burst 1.
            assert hits["oneMinuteRate"] == pytest.approx((5 + warm + n1) / 5.0)
        pool.shutdown()
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, proc.stderr.read().decode()
