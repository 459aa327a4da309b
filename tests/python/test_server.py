"""statusz.serve(): every route and bad input through real HTTP on loopback."""

import http.client
import json
import socket
import threading

import pytest

import statusz

from conftest import build_sample, load_sample


@pytest.fixture
def server(reg):
    build_sample(reg, load_sample())
    with statusz.serve(reg, port=0) as srv:
        yield srv


def request(srv, method, target, headers=None, body=None):
    conn = http.client.HTTPConnection(srv.host, srv.port, timeout=30)
    try:
        conn.request(method, target, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def test_the_seed_request(server):
    status, headers, body = request(
        server, "GET", "/serverstatus?details=true&pretty=true",
        {"accept": "application / javascript"})
    assert status == 200
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert headers["cache-control"] == "no-store"
    doc = json.loads(body)
    assert doc["withDetails"] is True
    assert list(doc) == list(load_sample())
    assert b'\n  "withDetails": true,' in body
    assert int(headers["content-length"]) == len(body)


def test_the_server_header_is_a_product_token(server):
    # RFC 9110 §10.2.4: product "/" version, no trailing space.
    _, headers, _ = request(server, "GET", "/healthz")
    assert headers["server"] == f"statusz/{statusz.__version__}"
    _, headers, _ = raw(server, b"GET /healthz HTTP/1.1\r\n" + b"X: y\r\n" * 101 + b"\r\n")
    assert headers["server"] == f"statusz/{statusz.__version__}"  # the error path too


def test_defaults_are_compact_without_details(server):
    status, _, body = request(server, "GET", "/serverstatus")
    assert status == 200
    doc = json.loads(body)
    assert doc["withDetails"] is False
    assert b"\n " not in body
    assert doc["applications"]["runtime"] == {"status": "Ok"}


def test_the_seeds_own_path(server):
    status, _, body = request(server, "GET", "/servlet/api/serverstatus?details=true")
    assert status == 200
    assert json.loads(body)["withDetails"] is True


@pytest.mark.parametrize("target,parameter", [
    ("/serverstatus?details=yes", "details"),
    ("/serverstatus?pretty=2", "pretty"),
    ("/serverstatus?details=true&details=false", "details"),
    ("/serverstatus?details=%zz", "details"),
])
def test_bad_query_values_are_400_naming_the_parameter(server, target, parameter):
    status, headers, body = request(server, "GET", target)
    assert status == 400
    assert headers["content-type"].startswith("application/json")
    doc = json.loads(body)
    assert doc["parameter"] == parameter
    assert parameter in doc["error"]


def test_unknown_path_is_404(server):
    status, _, body = request(server, "GET", "/nope")
    assert status == 404
    assert "error" in json.loads(body)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_are_405_with_allow(server, method):
    status, headers, _ = request(server, method, "/serverstatus", body=b"x" if method != "OPTIONS" else None)
    assert status == 405
    assert headers["allow"] == "GET, HEAD"


@pytest.mark.parametrize("target", ["/serverstatus?details=true&pretty=true", "/metrics", "/healthz"])
def test_head_has_the_gets_headers_and_content_length_and_no_body(reg, target):
    # RFC 9110 §9.3.2 / §8.6: HEAD's Content-Length is the GET's (or absent).
    reg.counter("volumes.connectedPeople").set(9)
    reg.probe("applications.runtime", lambda: statusz.Status.OK)
    with statusz.serve(reg, port=0) as srv:
        _, got, body = request(srv, "GET", target)
        status, headers, head_body = request(srv, "HEAD", target)
    assert status == 200
    assert head_body == b""
    assert len(body) > 0
    assert headers["content-length"] == got["content-length"] == str(len(body))
    assert headers["content-type"] == got["content-type"]


def raw(srv, data, timeout=30):
    """Sends `data` as is; returns (status, headers, body) of the one answer
    (the server closes the connection after an error)."""
    with socket.create_connection((srv.host, srv.port), timeout=timeout) as s:
        s.sendall(data)
        r = http.client.HTTPResponse(s)
        r.begin()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()


def assert_json_error(status, headers, body, code):
    assert status == code
    assert headers["content-type"] == "application/json; charset=utf-8"
    doc = json.loads(body)
    assert doc["status"] == code
    assert isinstance(doc["error"], str) and doc["error"]


def test_a_target_over_64_kib_gets_the_json_414(server):
    # Past the standard library's 64 KiB request line limit, not only past
    # max_target_bytes: JSON, not the standard library's HTML page.
    status, headers, body = raw(
        server, b"GET /serverstatus?x=" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert_json_error(status, headers, body, 414)
    assert b"8192 bytes" in body


def test_more_than_100_headers_get_the_json_431(server):
    fields = b"".join(b"X-F%d: v\r\n" % i for i in range(101))
    status, headers, body = raw(server, b"GET /serverstatus HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n")
    assert_json_error(status, headers, body, 431)
    assert b"100" in body


def test_a_header_line_over_64_kib_gets_the_json_431(server):
    status, headers, body = raw(
        server, b"GET /serverstatus HTTP/1.1\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n")
    assert_json_error(status, headers, body, 431)


@pytest.mark.parametrize("line", [b"GET /serverstatus HTTP/9.9", b"GET /serverstatus HTTP/1.1 extra",
                                  b"GET /serverstatus HTTP/x"])
def test_malformed_request_lines_get_json_errors(server, line):
    status, headers, body = raw(server, line + b"\r\nHost: x\r\n\r\n")
    assert status in (400, 505)
    assert_json_error(status, headers, body, status)


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "FOO"])
def test_methods_the_standard_library_does_not_know_reach_the_handler(server, method):
    # BaseHTTPRequestHandler alone answers 501 in HTML.
    status, headers, body = raw(server, method.encode() + b" /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert_json_error(status, headers, body, 405)
    assert headers["allow"] == "GET, HEAD"


def test_post_without_content_is_405_at_once(server):
    status, headers, body = raw(server, b"POST /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert_json_error(status, headers, body, 405)
    assert headers["allow"] == "GET, HEAD"


def test_oversized_target_is_414(server):
    status, _, _ = request(server, "GET", "/serverstatus?x=" + "a" * 9000)
    assert status == 414


def test_metrics_negotiates_the_format(server):
    status, headers, body = request(server, "GET", "/metrics")
    assert status == 200
    assert headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert b"# EOF" not in body
    status, headers, body = request(
        server, "GET", "/metrics",
        {"Accept": "application/openmetrics-text; version=1.0.0, text/plain;q=0.5"})
    assert headers["content-type"].startswith("application/openmetrics-text")
    assert body.endswith(b"# EOF\n")


def test_healthz_follows_the_probes(reg):
    state = {"status": statusz.Status.OK}
    reg.probe("applications.runtime", lambda: state["status"])
    with statusz.serve(reg, port=0) as srv:
        for s, code in [(statusz.Status.OK, 200), (statusz.Status.WARNING, 200),
                        (statusz.Status.UNKNOWN, 503), (statusz.Status.KO, 503)]:
            state["status"] = s
            status, _, body = request(srv, "GET", "/healthz")
            assert status == code
            assert json.loads(body) == {"status": str(s)}


def test_bearer_token_guards_details_and_metrics(reg):
    with statusz.serve(reg, port=0, bearer_token="s3cret") as srv:
        assert request(srv, "GET", "/serverstatus")[0] == 200
        status, headers, _ = request(srv, "GET", "/serverstatus?details=true")
        assert status == 401
        assert headers["www-authenticate"] == 'Bearer realm="statusz"'
        assert request(srv, "GET", "/metrics")[0] == 401
        assert request(srv, "GET", "/metrics", {"Authorization": "Bearer nope"})[0] == 401
        assert request(srv, "GET", "/metrics", {"Authorization": "Bearer s3cret"})[0] == 200


def test_port_zero_picks_a_free_port_and_close_releases_it(reg):
    srv = statusz.serve(reg, port=0)
    port = srv.port
    assert port > 0
    assert srv.url == f"http://127.0.0.1:{port}"
    srv.close()
    srv.close()  # idempotent
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))  # released


def test_loopback_by_default(reg):
    with statusz.serve(reg, port=0) as srv:
        assert srv.host == "127.0.0.1"


def test_rejects_bad_arguments(reg):
    with pytest.raises(TypeError):
        statusz.serve(object(), port=0)
    with pytest.raises(ValueError):
        statusz.serve(reg, port=0, client_timeout=0)
    with pytest.raises(TypeError):
        statusz.serve(reg, port=0, no_such_option=1)  # a typed signature, no **options


@pytest.mark.parametrize("options", [
    {"client_timeout": True}, {"client_timeout": "10"},
    {"max_connections": 1.5}, {"max_connections": float("nan")},
    {"max_connections": float("inf")}, {"max_connections": True},
    {"bearer_token": True}, {"bearer_token": b"s3cret"}, {"bearer_token": 1},
])
def test_options_of_the_wrong_type_are_a_type_error(reg, options):
    # nan and inf max_connections once started a server without any limit;
    # a bool or int token raised AttributeError, bytes were accepted.
    with pytest.raises(TypeError):
        statusz.serve(reg, port=0, **options)


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf"), 1e10, 86400.5])
def test_a_client_timeout_out_of_range_is_rejected(reg, timeout):
    # inf and 1e10 once started a server that dropped every connection
    # (socket.settimeout's OverflowError).
    with pytest.raises(ValueError, match="client_timeout must be > 0 and <= 86400 seconds"):
        statusz.serve(reg, port=0, client_timeout=timeout)


@pytest.mark.parametrize("size", [0, 1, 63])
def test_a_max_target_bytes_no_route_fits_is_rejected(reg, size):
    # max_target_bytes=0 once started a server that answered everything 414.
    with pytest.raises(ValueError, match=f"max_target_bytes must be >= 64, not {size}"):
        statusz.serve(reg, port=0, max_target_bytes=size)


def test_the_smallest_max_target_bytes_serves_the_seeds_longest_request(reg):
    with statusz.serve(reg, port=0, max_target_bytes=64) as srv:
        assert srv.max_target_bytes == 64
        target = "/servlet/api/serverstatus?details=true&pretty=true"
        assert request(srv, "GET", target)[0] == 200
        assert request(srv, "GET", target + "&" + "x" * 14)[0] == 414  # 65 bytes


def test_the_longest_client_timeout_serves(reg):
    with statusz.serve(reg, port=0, client_timeout=86400) as srv:
        assert request(srv, "GET", "/healthz")[0] == 200


@pytest.mark.parametrize("token", ["", "  "])
def test_an_empty_bearer_token_is_an_error_not_no_authentication(reg, token):
    with pytest.raises(ValueError, match="bearer_token"):
        statusz.serve(reg, port=0, bearer_token=token)


def test_serve_has_a_typed_keyword_signature():
    import inspect
    from typing import Optional, get_type_hints

    sig = inspect.signature(statusz.serve)
    keyword_only = {n: p for n, p in sig.parameters.items() if p.kind is p.KEYWORD_ONLY}
    assert list(keyword_only) == ["bearer_token", "metrics_prefix", "max_target_bytes",
                                  "client_timeout", "max_connections", "log_requests"]
    assert not any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    hints = get_type_hints(statusz.serve)
    assert hints["bearer_token"] == Optional[str]
    assert hints["client_timeout"] is float and hints["max_connections"] is int
    assert hints["return"] is statusz.StatusServer


def test_a_silent_client_does_not_stall_others(reg):
    reg.counter("volumes.connectedPeople").set(1)
    with statusz.serve(reg, port=0, client_timeout=30) as srv:
        stalled = []
        for _ in range(10):  # connect, send half a request, then nothing
            s = socket.create_connection((srv.host, srv.port))
            s.sendall(b"GET /serverstatus HTTP/1.1\r\nHost: x\r\n")
            stalled.append(s)
        try:
            for _ in range(20):
                status, _, body = request(srv, "GET", "/serverstatus?details=true")
                assert status == 200
                assert json.loads(body)["volumes"]["connectedPeople"] == 1
        finally:
            for s in stalled:
                s.close()


def test_connections_past_the_limit_get_503_not_a_hang(reg):
    with statusz.serve(reg, port=0, max_connections=2, client_timeout=30) as srv:
        held = [socket.create_connection((srv.host, srv.port)) for _ in range(2)]
        try:
            # Both slots are taken by silent clients: the next one is refused
            # at once with 503 (its own read does not wait for them).
            for s in held:
                s.sendall(b"GET /serverstatus HTTP/1.1\r\n")
            deadline_ok = False
            for _ in range(50):
                status, headers, body = request(srv, "GET", "/serverstatus")
                if status == 503:
                    assert_json_error(status, headers, body, 503)
                    deadline_ok = True
                    break
            assert deadline_ok
        finally:
            for s in held:
                s.close()


def test_a_connection_whose_thread_cannot_start_gives_its_slot_back(reg, monkeypatch):
    with statusz.serve(reg, port=0, max_connections=2) as srv:
        real_start = threading.Thread.start

        def start(thread):  # what CPython raises when the OS has no thread
            if getattr(thread, "_target", None) == srv._httpd.process_request_thread:
                raise RuntimeError("can't start new thread")
            real_start(thread)
        monkeypatch.setattr(threading.Thread, "start", start)
        for _ in range(3):  # more failures than slots
            with socket.create_connection((srv.host, srv.port), timeout=30) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                assert s.recv(100) == b""  # closed without an answer
        monkeypatch.setattr(threading.Thread, "start", real_start)
        # Threads are available again: every slot is free, none 503s.
        held = [socket.create_connection((srv.host, srv.port), timeout=30) for _ in range(2)]
        try:
            for s in held:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                assert s.recv(100).startswith(b"HTTP/1.1 200 ")
        finally:
            for s in held:
                s.close()


def test_many_concurrent_readers_get_no_errors(reg):
    build_sample(reg, load_sample())
    with statusz.serve(reg, port=0) as srv:
        failures = []

        def reader():
            for _ in range(20):
                status, _, body = request(srv, "GET", "/serverstatus?details=true")
                if status != 200:
                    failures.append(status)
                json.loads(body)

        threads = [threading.Thread(target=reader) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert failures == []
