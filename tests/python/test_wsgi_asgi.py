"""statusz.wsgi_app and statusz.asgi_app: the serve() routes mounted under a
prefix in Flask and Starlette, in process and under real gunicorn (sync
worker) and uvicorn on loopback; the ASGI app never blocks its event loop."""

import asyncio
import http.client
import json
import os
import pathlib
import socket
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import statusz

from conftest import build_sample, load_sample

flask = pytest.importorskip("flask")
starlette = pytest.importorskip("starlette")
try:  # Starlette's TestClient uses httpx2 (httpx is deprecated there)
    import httpx2 as httpx
except ImportError:
    httpx = pytest.importorskip("httpx")

from starlette.applications import Starlette  # noqa: E402
from starlette.responses import PlainTextResponse  # noqa: E402
from starlette.routing import Mount, Route  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402
from werkzeug.middleware.dispatcher import DispatcherMiddleware  # noqa: E402


@pytest.fixture
def sample_reg(reg):
    build_sample(reg, load_sample())
    return reg


def flask_app(registry, **options):
    app = flask.Flask("shop")

    @app.route("/")
    def index():
        return "the shop"

    app.wsgi_app = DispatcherMiddleware(
        app.wsgi_app, {"/status": statusz.wsgi_app(registry, **options)})
    return app


def starlette_app(registry, **options):
    async def index(request):
        return PlainTextResponse("the shop")

    return Starlette(routes=[
        Route("/", index),
        Mount("/status", app=statusz.asgi_app(registry, **options)),
    ])


class FlaskClient:
    """Flask's test client with httpx-like results (status, headers, bytes)."""

    def __init__(self, app):
        self.client = app.test_client()

    def request(self, method, target, headers=None):
        r = self.client.open(target, method=method, headers=headers or {})
        return r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.get_data()


class StarletteClient:
    def __init__(self, app):
        self.client = TestClient(app)

    def request(self, method, target, headers=None):
        r = self.client.request(method, target, headers=headers or {})
        return r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content


@pytest.fixture(params=["flask", "starlette"])
def mounted(request, sample_reg):
    def make(**options):
        if request.param == "flask":
            return FlaskClient(flask_app(sample_reg, **options))
        return StarletteClient(starlette_app(sample_reg, **options))
    return make


def test_the_document_below_the_mount_point(mounted):
    client = mounted()
    status, headers, body = client.request("GET", "/status/serverstatus?details=true")
    assert status == 200
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert headers["cache-control"] == "no-store"
    assert int(headers["content-length"]) == len(body)
    doc = json.loads(body)
    assert doc["withDetails"] is True
    assert list(doc) == list(load_sample())
    status, _, body = client.request("GET", "/status/servlet/api/serverstatus")
    assert status == 200 and json.loads(body)["withDetails"] is False


def test_the_app_keeps_its_own_routes(mounted):
    client = mounted()
    status, _, body = client.request("GET", "/")
    assert (status, body) == (200, b"the shop")
    # The routes exist only below the mount point.
    status, _, _ = client.request("GET", "/serverstatus")
    assert status == 404


def test_metrics_and_healthz(mounted, sample_reg):
    client = mounted(metrics_prefix="shop")
    status, headers, body = client.request("GET", "/status/metrics")
    assert status == 200
    assert headers["content-type"].startswith("text/plain; version=0.0.4")
    assert b"# TYPE shop_" in body
    status, headers, body = client.request(
        "GET", "/status/metrics", {"Accept": "application/openmetrics-text"})
    assert headers["content-type"].startswith("application/openmetrics-text")
    assert body.endswith(b"# EOF\n")
    status, _, body = client.request("GET", "/status/healthz")
    assert status == 200 and json.loads(body)["status"] in ("Ok", "Warning")
    sample_reg.probe("applications.broken", lambda: statusz.Status.KO, timeout=5.0)
    status, _, body = client.request("GET", "/status/healthz")
    assert status == 503 and json.loads(body)["status"] == "Ko"


def test_head_is_get_without_the_body(mounted):
    client = mounted()
    _, get_headers, get_body = client.request("GET", "/status/serverstatus")
    status, headers, body = client.request("HEAD", "/status/serverstatus")
    assert status == 200
    assert body == b""
    assert headers["content-length"] == str(len(get_body)) == get_headers["content-length"]


def test_errors_are_the_handlers_json(mounted):
    client = mounted(max_target_bytes=200)
    status, _, body = client.request("GET", "/status/nope")
    assert status == 404 and "error" in json.loads(body)
    status, _, body = client.request("GET", "/status/serverstatus?details=yes")
    assert status == 400 and json.loads(body)["parameter"] == "details"
    status, headers, body = client.request("POST", "/status/serverstatus")
    assert status == 405 and "GET" in headers["allow"]
    status, _, body = client.request("GET", "/status/serverstatus?pretty=false&" + "x" * 300)
    assert status == 414


def test_bearer_token(mounted):
    client = mounted(bearer_token="s3cret")
    assert client.request("GET", "/status/metrics")[0] == 401
    assert client.request("GET", "/status/serverstatus?details=true")[0] == 401
    assert client.request("GET", "/status/serverstatus")[0] == 200
    status, _, body = client.request(
        "GET", "/status/metrics", {"Authorization": "Bearer s3cret"})
    assert status == 200 and b"# TYPE" in body


@pytest.mark.parametrize("make", [statusz.wsgi_app, statusz.asgi_app])
def test_options_are_checked(reg, make):
    with pytest.raises(TypeError):
        make(object())
    with pytest.raises(ValueError):
        make(reg, bearer_token="  ")
    app = make(reg, metrics_prefix="x", max_target_bytes=100)
    assert (app.metrics_prefix, app.max_target_bytes) == ("x", 100)
    assert make(reg).metrics_prefix == statusz.HttpHandler(reg).metrics_prefix


@pytest.mark.parametrize("make", [statusz.wsgi_app, statusz.asgi_app])
@pytest.mark.parametrize("size", [0, 1, 63])
def test_a_max_target_bytes_no_route_fits_is_rejected(reg, make, size):
    # max_target_bytes=0 once made an app that answered every request 414.
    with pytest.raises(ValueError, match=f"max_target_bytes must be >= 64, not {size}"):
        make(reg, max_target_bytes=size)


def test_the_smallest_max_target_bytes_serves_the_seeds_longest_request(reg):
    app = statusz.wsgi_app(reg, max_target_bytes=64)
    seen = {}
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/servlet/api/serverstatus",
               "QUERY_STRING": "details=true&pretty=true"}
    app(environ, lambda status, headers: seen.update(status=status))
    assert seen["status"] == "200 OK"


def test_a_percent_encoded_path_and_the_wsgi_environ_directly(sample_reg):
    app = statusz.wsgi_app(sample_reg)
    seen = {}

    def start_response(status, headers):
        seen["status"], seen["headers"] = status, dict(headers)

    environ = {"REQUEST_METHOD": "GET", "SCRIPT_NAME": "/status",
               "PATH_INFO": "/serverstatus", "QUERY_STRING": "pretty=true",
               "HTTP_ACCEPT": "application/json"}
    body = b"".join(app(environ, start_response))
    assert seen["status"] == "200 OK"
    assert b'\n  "' in body
    # A non-ASCII PATH_INFO (latin-1 code points of UTF-8 bytes) is a 404,
    # not an exception.
    environ["PATH_INFO"] = "/caf\u00c3\u00a9"
    body = b"".join(app(environ, start_response))
    assert seen["status"] == "404 Not Found"


def test_asgi_root_path_is_stripped_only_when_path_includes_it(sample_reg):
    """The ASGI spec: path includes root_path. A router that strips it
    itself (older Starlette) leaves path below the mount point."""
    app = statusz.asgi_app(sample_reg)

    async def call(scope):
        sent = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            sent.append(message)

        base = {"type": "http", "method": "GET", "query_string": b"", "headers": []}
        await app({**base, **scope}, receive, send)
        return sent[0]["status"]

    async def main():
        return [
            await call({"path": "/status/healthz", "root_path": "/status"}),
            await call({"path": "/healthz", "root_path": "/status"}),
            await call({"path": "/statusz/healthz", "root_path": "/status"}),
            await call({"path": "/healthz"}),
        ]

    assert asyncio.run(main()) == [200, 200, 404, 200]


def test_a_slow_probe_does_not_block_the_event_loop(reg):
    """While one request waits on a probe that blocks until released, other
    requests on the same event loop (a plain route and the statusz app of
    another registry) are answered."""
    started, release = threading.Event(), threading.Event()

    def slow():
        started.set()
        release.wait(20)
        return statusz.Status.OK

    reg.probe("applications.slow", slow, timeout=30.0)
    other = statusz.Registry()
    other.counter("volumes.x").set(1)

    async def index(request):
        return PlainTextResponse("ok")

    app = Starlette(routes=[
        Route("/", index),
        Mount("/status", app=statusz.asgi_app(reg)),
        Mount("/other", app=statusz.asgi_app(other)),
    ])

    async def main():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            slow_request = asyncio.ensure_future(client.get("/status/serverstatus"))
            loop = asyncio.get_running_loop()
            assert await loop.run_in_executor(None, started.wait, 20)
            fast = await asyncio.wait_for(client.get("/"), 10)
            fast_status = await asyncio.wait_for(client.get("/other/serverstatus"), 10)
            blocked = not slow_request.done() and not release.is_set()
            release.set()
            slow_response = await asyncio.wait_for(slow_request, 20)
            return fast.text, fast_status.status_code, blocked, slow_response

    try:
        fast_text, other_status, still_blocked, slow_response = asyncio.run(main())
    finally:
        release.set()
    assert (fast_text, other_status) == ("ok", 200)
    assert still_blocked, "the other requests waited for the slow probe"
    assert slow_response.status_code == 200
    assert slow_response.json()["applications"]["slow"]["status"] == "Ok"


# Real servers on loopback ---------------------------------------------------

APP_MODULE = '''
import flask
import statusz
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route
from werkzeug.middleware.dispatcher import DispatcherMiddleware

reg = statusz.Registry(host_name="app1")
reg.counter("volumes.orders").set(7)
reg.probe("applications.db", lambda: statusz.Status.OK, timeout=5.0)

wsgi = flask.Flask("shop")
wsgi.add_url_rule("/", "index", lambda: "the shop")
wsgi.wsgi_app = DispatcherMiddleware(wsgi.wsgi_app, {"/status": statusz.wsgi_app(reg)})

async def index(request):
    return PlainTextResponse("the shop")

asgi = Starlette(routes=[Route("/", index), Mount("/status", app=statusz.asgi_app(reg))])
'''


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, method, target, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request(method, target, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


@pytest.fixture
def run_server(tmp_path):
    procs = []

    def start(argv, port):
        (tmp_path / "shopapp.py").write_text(textwrap.dedent(APP_MODULE))
        log = open(tmp_path / "server.log", "wb")
        proc = subprocess.Popen(argv, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONPATH": str(tmp_path)})
        procs.append((proc, log))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return proc
            except OSError:
                time.sleep(0.1)  # polling a subprocess's startup, not timing logic
        log.flush()
        pytest.fail(f"{argv[2]} did not start: " +
                    (tmp_path / "server.log").read_text(errors="replace")[-2000:])

    yield start
    for proc, log in procs:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def check_real_server(port):
    status, headers, body = get(port, "GET", "/status/serverstatus?details=true")
    assert status == 200
    doc = json.loads(body)
    assert doc["hostName"] == "app1"
    assert doc["volumes"]["orders"] == 7
    assert doc["applications"]["db"]["status"] == "Ok"
    # HEAD: the GET's length (of /healthz: the document's date and duration
    # change from one request to the next under a real clock).
    status, headers, body = get(port, "GET", "/status/healthz")
    assert status == 200 and int(headers["content-length"]) == len(body) > 0
    status, head_headers, head_body = get(port, "HEAD", "/status/healthz")
    assert status == 200 and head_body == b""
    assert head_headers["content-length"] == headers["content-length"]
    status, _, body = get(port, "GET", "/status/metrics")
    assert status == 200 and b"statusz_volumes_orders 7" in body
    assert get(port, "GET", "/status/healthz")[0] == 200
    assert get(port, "GET", "/")[2] == b"the shop"
    assert get(port, "GET", "/status/nope")[0] == 404


def test_under_gunicorn_sync_worker(run_server):
    pytest.importorskip("gunicorn")
    port = free_port()
    run_server([sys.executable, "-m", "gunicorn", "--worker-class", "sync", "--workers", "1",
                "--bind", f"127.0.0.1:{port}", "shopapp:wsgi"], port)
    check_real_server(port)


def test_under_uvicorn(run_server):
    pytest.importorskip("uvicorn")
    port = free_port()
    run_server([sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port),
                "--no-access-log", "shopapp:asgi"], port)
    check_real_server(port)


def test_the_readme_snippet_mounts_both():
    from test_readme_snippets import run, snippet
    ns = run(snippet("README.md", "python-frameworks"), "README.md")
    ns["reg"].counter("volumes.x").set(3)
    r = ns["app"].test_client().get("/status/serverstatus?details=true")
    assert r.status_code == 200 and r.get_json()["volumes"]["x"] == 3
    client = TestClient(ns["asgi"])
    assert client.get("/status/metrics").status_code == 401
    r = client.get("/status/metrics", headers={"Authorization": "Bearer s3cret"})
    assert r.status_code == 200 and "statusz_volumes_x 3" in r.text
