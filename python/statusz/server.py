"""Serve a Registry over HTTP with the standard library.

Every request goes through the C++ library's HTTP handler (the one C++
services mount in their own server), so routes, query parsing, errors,
content negotiation and authentication are identical from C++ and Python:
``GET /serverstatus`` (and the seed's ``/servlet/api/serverstatus``),
``GET /metrics``, ``GET /healthz``, and the Kubernetes-style ``GET /livez``
and ``GET /readyz``. Every method token reaches the
handler (anything but GET and HEAD gets its 405 with ``Allow``); HEAD gets the
GET's headers, ``Content-Length`` included (RFC 9110 §9.3.2), without the
body. What the standard library rejects before the handler sees it (a request
line over 64 KiB: 414; a header line over 64 KiB or more than 100 header
fields: 431; a malformed request line: 400) gets the handler's JSON error
shape, ``{"error": ..., "status": ...}``, never an HTML page.

>>> import statusz
>>> reg = statusz.Registry()
>>> with statusz.serve(reg, port=0) as server:   # port=0: a free port
...     print(server.url)                        # doctest: +SKIP
http://127.0.0.1:40123
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
from typing import Optional

from ._core import Registry, __version__
from ._web import gzip_metrics, make_handler

__all__ = ["StatusServer", "serve"]


class _Handler(http.server.BaseHTTPRequestHandler):
    server: "_HTTPServer"
    protocol_version = "HTTP/1.1"
    # RFC 9110 §10.2.4: Server is product tokens, "statusz/<version>"; the
    # standard library would append " " + sys_version (the Python version).
    server_version = f"statusz/{__version__}"

    def version_string(self) -> str:
        return self.server_version

    def _serve(self) -> None:
        headers = [(k, v) for k, v in self.headers.items()]
        head = self.command == "HEAD"
        # HEAD is answered as GET minus the body, so Content-Length is the
        # GET's (RFC 9110 §9.3.2, §8.6).
        status, content_type, extra, body = self.server.owner.handler.handle(
            "GET" if head else self.command, self.path, headers
        )
        # /metrics: gzip when Accept-Encoding accepts it (RFC 9110 §12.5.3).
        codings = self.headers.get_all("Accept-Encoding")
        extra, body = gzip_metrics(content_type, ", ".join(codings) if codings else None,
                                   status, list(extra), body)
        # A request with a body we do not read: close rather than misparse.
        if self.headers.get("Content-Length") or self.headers.get("Transfer-Encoding"):
            self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in extra:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if body and not head:
            self.wfile.write(body)

    do_GET = do_HEAD = _serve

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        # BaseHTTPRequestHandler dispatches to do_<METHOD> and answers 501 in
        # HTML when there is none: every method goes to the handler instead.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def send_error(self, code: int, message: Optional[str] = None,
                   explain: Optional[str] = None) -> None:
        """The standard library's error path (request line over 64 KiB,
        header line over 64 KiB, more than 100 headers, bad syntax), in the
        handler's JSON shape instead of an HTML page. Closes the connection:
        what follows the error on it cannot be trusted."""
        if code == 414:
            text = f"request target longer than {self.server.owner.max_target_bytes} bytes"
        elif message and explain:
            text = f"{message}: {explain}"
        else:
            text = message or explain or self.responses.get(code, ("error",))[0]
        self.log_error("code %d, message %s", code, text)
        if len(getattr(self, "requestline", "").split()) != 2:
            # Only a two-word request line is HTTP/0.9 (a body without a
            # status line); a rejected version (HTTP/9.9) gets a status line.
            self.request_version = self.protocol_version
        body = (json.dumps({"error": text, "status": code}) + "\n").encode("utf-8")
        self.close_connection = True
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        if self.server.owner.log_requests:
            super().log_message(format, *args)


# The largest client_timeout, seconds (one day).
_MAX_CLIENT_TIMEOUT = 86400.0

_BUSY_BODY = b'{"error": "too many connections", "status": 503}\n'
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    b"Content-Type: application/json; charset=utf-8\r\nCache-Control: no-store\r\n"
    b"Content-Length: " + str(len(_BUSY_BODY)).encode() + b"\r\n"
    b"Connection: close\r\nRetry-After: 1\r\n\r\n" + _BUSY_BODY
)


class _HTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: "StatusServer"

    def process_request(self, request, client_address):  # type: ignore[override]
        # Bound the connections served at once: past the limit a new client
        # gets 503 straight away instead of a thread of its own.
        if not self.owner._slots.acquire(blocking=False):
            try:
                request.sendall(_BUSY)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            # Thread.start() failed ("can't start new thread" when the OS
            # has none to give): process_request_thread, which releases the
            # slot, never runs, so release it here or it is lost for good.
            self.owner._slots.release()
            raise

    def process_request_thread(self, request, client_address):  # type: ignore[override]
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.owner._slots.release()

    def finish_request(self, request, client_address):  # type: ignore[override]
        # A silent or slow client is dropped after `client_timeout` seconds of
        # inactivity; it never holds other clients up (one thread each).
        request.settimeout(self.owner.client_timeout)
        super().finish_request(request, client_address)


class _HTTPServer6(_HTTPServer):
    address_family = socket.AF_INET6


class StatusServer:
    """An HTTP server for a Registry, running in a background thread.

    Use :func:`serve` to create and start one. Stop it with :meth:`close`
    (or use it as a context manager). Loopback by default.
    """

    def __init__(
        self,
        registry: Registry,
        host: str = "127.0.0.1",
        port: int = 8080,
        *,
        bearer_token: Optional[str] = None,
        metrics_prefix: Optional[str] = None,
        max_target_bytes: Optional[int] = None,
        client_timeout: float = 10.0,
        max_connections: int = 64,
        log_requests: bool = False,
    ) -> None:
        self.handler = make_handler(
            registry, "serve", bearer_token, metrics_prefix, max_target_bytes
        )
        # A day, as the CLI's --timeout: far beyond any client worth waiting
        # for, and inf or over ~9.2e9 s would make socket.settimeout() raise
        # OverflowError on every connection.
        if isinstance(client_timeout, bool) or not isinstance(client_timeout, (int, float)):
            raise TypeError(f"client_timeout must be a number of seconds, not {client_timeout!r}")
        if not 0 < client_timeout <= _MAX_CLIENT_TIMEOUT:  # also rejects nan
            raise ValueError(f"client_timeout must be > 0 and <= {_MAX_CLIENT_TIMEOUT:g} "
                             f"seconds, not {client_timeout!r}")
        # An int: a float (nan, inf, 1.5) would size the semaphore oddly or
        # not at all.
        if isinstance(max_connections, bool) or not isinstance(max_connections, int):
            raise TypeError(f"max_connections must be an int, not {max_connections!r}")
        if max_connections < 1:
            raise ValueError("max_connections must be >= 1")
        self.registry = registry
        self.bearer_token = bearer_token
        self.metrics_prefix = self.handler.metrics_prefix
        self.max_target_bytes = self.handler.max_target_bytes
        self.client_timeout = client_timeout
        self.max_connections = max_connections
        self.log_requests = log_requests
        self._slots = threading.BoundedSemaphore(max_connections)
        server_class = _HTTPServer6 if ":" in host else _HTTPServer
        self._httpd = server_class((host, port), _Handler)
        self._httpd.owner = self
        self._thread: Optional[threading.Thread] = None

    @property
    def host(self) -> str:
        """The address the server listens on."""
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        """The port the server listens on (the one picked, for port=0)."""
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """``http://host:port``, to which the routes are appended."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> "StatusServer":
        """Starts serving in a daemon thread; returns self."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.2},
                name=f"statusz-server-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serves in the calling thread until :meth:`close` (or Ctrl-C)."""
        self._httpd.serve_forever(poll_interval=0.2)

    def close(self) -> None:
        """Stops serving and releases the port. Idempotent."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    stop = close

    def __enter__(self) -> "StatusServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<statusz.StatusServer {self.url}>"


def serve(
    registry: Registry,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    bearer_token: Optional[str] = None,
    metrics_prefix: Optional[str] = None,
    max_target_bytes: Optional[int] = None,
    client_timeout: float = 10.0,
    max_connections: int = 64,
    log_requests: bool = False,
) -> StatusServer:
    """Starts an HTTP server for `registry` in a background thread.

    Returns the running :class:`StatusServer` (a context manager). ``port=0``
    picks a free port (see ``server.port``).

    bearer_token: when set, ``details=true`` and ``/metrics`` require
        ``Authorization: Bearer <token>``; ``None`` (the default) means no
        authentication. An empty or blank token raises ValueError rather
        than silently disabling authentication.
    metrics_prefix: the prefix of the Prometheus names (``None``: the C++
        library's default, ``statusz``; see ``HttpHandler.metrics_prefix``).
    max_target_bytes: longer request targets get 414 (``None``: the C++
        library's default, 8192 bytes); at least 64, which the seed's
        longest request (50 bytes) fits.
    client_timeout: seconds of silence before a client is dropped
        (> 0 and <= 86400).
    max_connections: connections served at once (>= 1); more get 503.
    log_requests: log each request to stderr (the standard library's format).

    Raises TypeError if `registry` is not a :class:`Registry`, ValueError on
    a bad option, OSError if the address cannot be bound.
    """
    return StatusServer(
        registry, host, port,
        bearer_token=bearer_token,
        metrics_prefix=metrics_prefix,
        max_target_bytes=max_target_bytes,
        client_timeout=client_timeout,
        max_connections=max_connections,
        log_requests=log_requests,
    ).start()
