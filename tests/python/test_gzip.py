"""gzip for /metrics (RFC 9110 §12.5.3) in statusz.serve(), the WSGI app and
the ASGI app: compressed only when Accept-Encoding accepts gzip, with
Content-Encoding and Vary, and HEAD gets the compressed length."""

import asyncio
import gzip
import http.client

import pytest

import statusz
from statusz._web import accepts_gzip

from conftest import build_sample, load_sample


@pytest.mark.parametrize("value,expected", [
    (None, False),
    ("", False),
    ("gzip", True),
    ("GZIP", True),
    ("x-gzip", True),
    ("deflate, gzip;q=1.0, *;q=0.5", True),
    ("br;q=1, gzip;q=0.001", True),
    ("gzip;q=0", False),
    ("gzip; q=0.000", False),
    ("*", True),
    ("*;q=0", False),
    ("*, gzip;q=0", False),           # named beats the wildcard
    ("gzip;q=0, *", False),
    ("identity", False),
    ("br, deflate", False),
    ("gzip;q=2", False),              # malformed weight: not acceptable
    ("gzip;q=abc", False),
    ("gzip;level=1", True),           # other parameters do not matter
    ("deflate,,  gzip ", True),
    # identity's weight (RFC 9110 §12.5.3): the higher weight wins, gzip on
    # a tie; a refused identity never makes a refused gzip acceptable.
    ("gzip;q=0.5, identity", False),
    ("gzip;q=0.5, identity;q=0.5", True),
    ("gzip, identity;q=0", True),
    ("identity;q=0", False),
    ("*;q=0.5, gzip;q=0.4", False),   # identity takes *'s weight
    ("*;q=0.5, identity;q=0.1", True),
])
def test_accept_encoding_negotiation(value, expected):
    assert accepts_gzip(value) is expected


# One client per app kind (with the app's options), each returning (status,
# headers, raw body bytes).

def via_server(reg, **options):
    server = statusz.serve(reg, port=0, **options)

    def request(method, target, headers):
        conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
        try:
            conn.request(method, target, headers=headers)
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()
    return request, server.close


def via_wsgi(reg, **options):
    app = statusz.wsgi_app(reg, **options)

    def request(method, target, headers):
        path, _, query = target.partition("?")
        environ = {"REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": path,
                   "QUERY_STRING": query}
        for k, v in headers.items():
            environ["HTTP_" + k.upper().replace("-", "_")] = v
        seen = {}

        def start_response(status, hdrs):
            seen["status"], seen["headers"] = int(status.split()[0]), hdrs
        body = b"".join(app(environ, start_response))
        return seen["status"], {k.lower(): v for k, v in seen["headers"]}, body
    return request, lambda: None


def via_asgi(reg, **options):
    app = statusz.asgi_app(reg, **options)

    def request(method, target, headers):
        path, _, query = target.partition("?")
        sent = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            sent.append(message)
        scope = {"type": "http", "method": method, "path": path, "root_path": "",
                 "query_string": query.encode(), "headers": [
                     (k.lower().encode(), v.encode()) for k, v in headers.items()]}
        asyncio.run(app(scope, receive, send))
        hdrs = {k.decode(): v.decode() for k, v in sent[0]["headers"]}
        return sent[0]["status"], hdrs, b"".join(m.get("body", b"") for m in sent[1:])
    return request, lambda: None


@pytest.fixture(params=[via_server, via_wsgi, via_asgi], ids=["serve", "wsgi", "asgi"])
def client(request, reg):
    build_sample(reg, load_sample())
    do, close = request.param(reg)
    yield do
    close()


def test_metrics_gzipped_when_accepted(client, reg):
    status, plain_headers, plain = client("GET", "/metrics", {})
    assert status == 200
    assert "content-encoding" not in plain_headers
    assert plain_headers["vary"] == "Accept-Encoding"
    status, headers, body = client("GET", "/metrics", {"Accept-Encoding": "gzip, deflate"})
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert headers["vary"] == "Accept-Encoding"
    assert headers["content-type"] == plain_headers["content-type"]
    assert int(headers["content-length"]) == len(body) < len(plain)
    # The registry's clock is a ManualClock: two renders are the same text.
    assert gzip.decompress(body) == plain


@pytest.mark.parametrize("target", ["/metrics/", "/metrics/?x=1"])
def test_every_target_routed_to_metrics_gets_vary_and_gzip(client, target):
    # The handler ignores one trailing '/': the route, not the literal
    # target, decides (it once answered without Vary and never gzipped).
    _, plain_headers, plain = client("GET", target, {})
    assert plain_headers["vary"] == "Accept-Encoding"
    status, headers, body = client("GET", target, {"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["vary"] == "Accept-Encoding"
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == plain


@pytest.mark.parametrize("target", ["http://x/metrics", "/%6detrics", "/%6Detrics/"])
def test_serve_gzips_absolute_form_and_percent_encoded_metrics(reg, target):
    # RFC 9112 §3.2.2 absolute-form, and a path the handler percent-decodes.
    build_sample(reg, load_sample())
    do, close = via_server(reg)
    try:
        status, headers, body = do("GET", target, {"Accept-Encoding": "gzip"})
        _, _, plain = do("GET", "/metrics", {})
    finally:
        close()
    assert status == 200
    assert headers["vary"] == "Accept-Encoding"
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == plain


def test_openmetrics_is_gzipped_too(client):
    accept = {"Accept": "application/openmetrics-text", "Accept-Encoding": "gzip"}
    status, headers, body = client("GET", "/metrics", accept)
    assert status == 200
    assert headers["content-type"].startswith("application/openmetrics-text")
    assert headers["vary"] == "Accept-Encoding"
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(body).endswith(b"# EOF\n")


def test_head_gets_the_compressed_length(client):
    _, headers, body = client("GET", "/metrics", {"Accept-Encoding": "gzip"})
    status, head_headers, head_body = client("HEAD", "/metrics", {"Accept-Encoding": "gzip"})
    assert status == 200 and head_body == b""
    assert head_headers["content-encoding"] == "gzip"
    assert int(head_headers["content-length"]) == len(body)
    _, plain_headers, _ = client("HEAD", "/metrics", {})
    assert int(plain_headers["content-length"]) > int(head_headers["content-length"])


def test_refused_gzip_and_other_routes_are_identity(client):
    _, headers, body = client("GET", "/metrics", {"Accept-Encoding": "gzip;q=0, br"})
    assert "content-encoding" not in headers and body.startswith(b"# HELP")
    _, headers, body = client("GET", "/serverstatus", {"Accept-Encoding": "gzip"})
    assert "content-encoding" not in headers and body.startswith(b"{")
    assert "vary" not in headers


def test_errors_are_not_compressed(reg):
    app = statusz.wsgi_app(reg, bearer_token="t")
    seen = {}

    def start_response(status, hdrs):
        seen["status"], seen["headers"] = status, dict(hdrs)
    body = b"".join(app({"REQUEST_METHOD": "GET", "PATH_INFO": "/metrics",
                         "QUERY_STRING": "", "HTTP_ACCEPT_ENCODING": "gzip"},
                        start_response))
    assert seen["status"].startswith("401")
    assert "Content-Encoding" not in seen["headers"]
    assert body.startswith(b"{")
