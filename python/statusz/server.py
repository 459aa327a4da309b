"""Serve a Registry over HTTP with the standard library.

Every request goes through the C++ library's HTTP handler (the one C++
services mount in their own server), so routes, query parsing, errors,
content negotiation and authentication are identical from C++ and Python:
``GET /serverstatus`` (and the seed's ``/servlet/api/serverstatus``),
``GET /metrics`` and ``GET /healthz``.

>>> import statusz
>>> reg = statusz.Registry()
>>> with statusz.serve(reg, port=0) as server:   # port=0: a free port
...     print(server.url)                        # doctest: +SKIP
http://127.0.0.1:40123
"""

from __future__ import annotations

import http.server
import socket
import threading
from typing import Optional

from ._core import HttpHandler, Registry

__all__ = ["StatusServer", "serve"]


class _Handler(http.server.BaseHTTPRequestHandler):
    server: "_HTTPServer"
    protocol_version = "HTTP/1.1"
    server_version = "statusz"
    sys_version = ""

    def _serve(self) -> None:
        headers = [(k, v) for k, v in self.headers.items()]
        status, content_type, extra, body = self.server.owner.handler.handle(
            self.command, self.path, headers
        )
        if self.command == "HEAD":
            body = b""
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
        if body:
            self.wfile.write(body)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _serve

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        if self.server.owner.log_requests:
            super().log_message(format, *args)


class _HTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: "StatusServer"

    def process_request(self, request, client_address):  # type: ignore[override]
        # Bound the connections served at once: past the limit a new client
        # gets 503 straight away instead of a thread of its own.
        if not self.owner._slots.acquire(blocking=False):
            try:
                request.sendall(
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                    b"Connection: close\r\nRetry-After: 1\r\n\r\n"
                )
            except OSError:
                pass
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

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
        if not isinstance(registry, Registry):
            raise TypeError("serve() needs a statusz.Registry")
        if client_timeout <= 0:
            raise ValueError("client_timeout must be > 0")
        if max_connections < 1:
            raise ValueError("max_connections must be >= 1")
        self.registry = registry
        self.bearer_token = bearer_token
        # None: HttpHandler's default (the C++ library's HttpOptions).
        limits = {
            name: value
            for name, value in (
                ("metrics_prefix", metrics_prefix),
                ("max_target_bytes", max_target_bytes),
            )
            if value is not None
        }
        self.handler = HttpHandler(registry, bearer_token=bearer_token or "", **limits)
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
    **options: object,
) -> StatusServer:
    """Starts an HTTP server for `registry` in a background thread.

    Returns the running :class:`StatusServer` (a context manager). ``port=0``
    picks a free port (see ``server.port``). Options: ``bearer_token`` (when
    set, required for ``details=true`` and ``/metrics``), ``metrics_prefix``,
    ``max_target_bytes``, ``client_timeout`` (seconds of silence before a
    client is dropped), ``max_connections`` (served at once; more get 503),
    ``log_requests``.
    """
    return StatusServer(registry, host, port, **options).start()  # type: ignore[arg-type]
