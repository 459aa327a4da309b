"""statusz's routes as a WSGI application (PEP 3333), to mount in Flask,
Django or any WSGI server next to an application's own routes.

Every request goes through the same C++ HttpHandler as :func:`statusz.serve`:
``GET /serverstatus`` (and ``/servlet/api/serverstatus``), ``/metrics``,
``/healthz``, ``/livez`` and ``/readyz``, with the same query parsing, errors,
authentication and content negotiation; HEAD gets the GET's headers without the body. The routes are
matched against ``PATH_INFO``, the part of the path below where the app is
mounted (``SCRIPT_NAME``), so mounted at ``/status`` the document is
``/status/serverstatus``:

>>> import statusz
>>> from werkzeug.middleware.dispatcher import DispatcherMiddleware  # doctest: +SKIP
>>> flask_app.wsgi_app = DispatcherMiddleware(                        # doctest: +SKIP
...     flask_app.wsgi_app, {"/status": statusz.wsgi_app(reg)})

Probes run in the calling worker thread with the GIL released.
"""

from __future__ import annotations

import http
from typing import Any, Callable, Iterable, List, Optional, Tuple

from ._core import Registry
from ._web import make_handler, respond, target_of

__all__ = ["WsgiApp", "wsgi_app"]

StartResponse = Callable[..., Any]


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _headers(environ: dict) -> List[Tuple[str, str]]:
    """The request's headers back from their CGI names (HTTP_ACCEPT_ENCODING
    is Accept-Encoding; CONTENT_TYPE and CONTENT_LENGTH carry no HTTP_)."""
    out = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:]
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key
        else:
            continue
        if isinstance(value, str):
            out.append((name.replace("_", "-").title(), value))
    return out


class WsgiApp:
    """A WSGI application serving one Registry; make it with :func:`wsgi_app`.

    ``handler`` is the C++ HttpHandler it calls; ``metrics_prefix`` and
    ``max_target_bytes`` are the handler's (defaults resolved)."""

    def __init__(
        self,
        registry: Registry,
        *,
        bearer_token: Optional[str] = None,
        metrics_prefix: Optional[str] = None,
        max_target_bytes: Optional[int] = None,
    ) -> None:
        """The options are :func:`wsgi_app`'s."""
        self.registry = registry
        self.handler = make_handler(
            registry, "wsgi_app", bearer_token, metrics_prefix, max_target_bytes
        )
        self.metrics_prefix = self.handler.metrics_prefix
        self.max_target_bytes = self.handler.max_target_bytes

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        # PEP 3333: PATH_INFO is the decoded path as latin-1 code points of
        # its bytes; back to bytes, then UTF-8 (what clients send).
        raw = environ.get("PATH_INFO", "").encode("latin-1", "replace")
        path = raw.decode("utf-8", "surrogateescape")
        target = target_of(path, environ.get("QUERY_STRING", ""))
        status, headers, body = respond(
            self.handler, environ.get("REQUEST_METHOD", "GET"), target, _headers(environ)
        )
        start_response(f"{status} {_reason(status)}", headers)
        return [body]

    def __repr__(self) -> str:
        return f"<statusz.WsgiApp metrics_prefix={self.metrics_prefix!r}>"


def wsgi_app(
    registry: Registry,
    *,
    bearer_token: Optional[str] = None,
    metrics_prefix: Optional[str] = None,
    max_target_bytes: Optional[int] = None,
) -> WsgiApp:
    """A WSGI application (PEP 3333) serving `registry`'s routes, the same as
    :func:`statusz.serve`'s, below wherever it is mounted.

    bearer_token: when set, ``details=true`` and ``/metrics`` require
        ``Authorization: Bearer <token>`` (401 otherwise); ``None``: none.
    metrics_prefix: the Prometheus names' prefix (``None``: ``statusz``).
    max_target_bytes: longer request targets get 414 (``None``: 8192; at
        least 64, which the seed's longest request, 50 bytes, fits).

    Raises TypeError if `registry` is not a Registry, ValueError for an
    empty or blank `bearer_token` or a `max_target_bytes` below 64.
    """
    return WsgiApp(
        registry,
        bearer_token=bearer_token,
        metrics_prefix=metrics_prefix,
        max_target_bytes=max_target_bytes,
    )
