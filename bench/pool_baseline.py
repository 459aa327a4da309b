"""The pool baseline (issue 14): the same gunicorn pool and load as
tests/python/test_shared.py (4 sync workers, preload_app, max_requests = 12,
N requests each marking a request counter), once counted by prometheus_client's
multiprocess mode and once by a statusz shared registry. Prints, for each,
the number of files its pool leaves (prometheus_client: in
PROMETHEUS_MULTIPROC_DIR; statusz: /dev/shm/statusz.NAME) and the median time
a worker takes to render /metrics (measured inside the worker, 9 scrapes)
before and after the load.

    .venv/bin/python bench/pool_baseline.py [N]

Needs gunicorn and prometheus_client; loopback only."""

import concurrent.futures
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request

PROM_APP = """
import time
from prometheus_client import CollectorRegistry, Counter, generate_latest, multiprocess

REQUESTS = Counter("hits", "Requests")

def app(environ, start_response):
    if environ["PATH_INFO"] == "/hit":
        REQUESTS.inc()
        body = b"ok"
    elif environ["PATH_INFO"] == "/rendertime":
        t0 = time.perf_counter()
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        generate_latest(registry)
        body = repr(time.perf_counter() - t0).encode()
    else:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]
"""

STATUSZ_APP = """
import time
import statusz

reg = statusz.Registry(shared={name!r})
hits = reg.meter("hits")
status = statusz.wsgi_app(reg)

def app(environ, start_response):
    if environ["PATH_INFO"] == "/hit":
        hits.mark()
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]
    if environ["PATH_INFO"] == "/rendertime":
        t0 = time.perf_counter()
        status(dict(environ, PATH_INFO="/metrics"), lambda *a: None)
        body = repr(time.perf_counter() - t0).encode()
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]
    return status(environ, start_response)
"""

CONF = """
preload_app = True
workers = 4
worker_class = "sync"
max_requests = 12
bind = "127.0.0.1:{port}"
loglevel = "warning"
{extra}
"""

PROM_EXTRA = """
def child_exit(server, worker):
    from prometheus_client import multiprocess
    multiprocess.mark_process_dead(worker.pid)
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url):
    for _ in range(50):
        try:
            with urllib.request.urlopen(url, timeout=30) as r:
                return r.read()
        except OSError:
            time.sleep(0.01)
    raise RuntimeError(url)


def run(kind, n):
    port = free_port()
    work = tempfile.mkdtemp(prefix=f"pool-{kind}-")
    env = dict(os.environ)
    name = f"baseline-{os.getpid()}"
    if kind == "prometheus_client":
        prom_dir = os.path.join(work, "prom")
        os.mkdir(prom_dir)
        env["PROMETHEUS_MULTIPROC_DIR"] = prom_dir
        app, extra = PROM_APP, PROM_EXTRA
        files = lambda: len(os.listdir(prom_dir))  # noqa: E731
    else:
        import statusz

        statusz.remove_shared(name)
        app, extra = STATUSZ_APP.format(name=name), ""
        files = lambda: len([p for p in os.listdir("/dev/shm") if name in p])  # noqa: E731
    with open(os.path.join(work, "pool_app.py"), "w") as f:
        f.write(textwrap.dedent(app))
    with open(os.path.join(work, "gunicorn.conf.py"), "w") as f:
        f.write(CONF.format(port=port, extra=extra))
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "pool_app:app"],
        cwd=work, env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/hit", timeout=5):
                    break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.05)

        def scrape():
            # The worker's own time to render /metrics (no HTTP, no respawn).
            return float(fetch(base + "/rendertime"))

        before = statistics.median([scrape() for _ in range(9)])
        files_before = files()
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda _: fetch(base + "/hit"), range(n)))
        after = statistics.median([scrape() for _ in range(9)])
        print(f"{kind:18} N={n}: files {files_before} -> {files()}, "
              f"render median {before * 1e3:.3f} ms -> {after * 1e3:.3f} ms")
    finally:
        proc.terminate()
        proc.wait(30)
        if kind == "statusz":
            import statusz

            statusz.remove_shared(name)


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1500
    for kind in ("prometheus_client", "statusz"):
        run(kind, n)
