"""statusz's routes as an ASGI application (ASGI 3.0, HTTP), to mount in
Starlette, FastAPI or any ASGI server next to an application's own routes.

Every request goes through the same C++ HttpHandler as :func:`statusz.serve`:
``GET /serverstatus`` (and ``/servlet/api/serverstatus``), ``/metrics``,
``/healthz``, ``/livez`` and ``/readyz``, with the same query parsing, errors,
authentication and content negotiation; HEAD gets the GET's headers without the body. The routes are
matched against ``scope["path"]`` below ``scope["root_path"]`` (the ASGI
spec's mount point), so mounted at ``/status`` the document is
``/status/serverstatus``:

>>> from starlette.routing import Mount                    # doctest: +SKIP
>>> app = Starlette(routes=[Mount("/status", statusz.asgi_app(reg))])  # doctest: +SKIP

The handler (which may run probes for up to their timeouts) runs in a worker
thread, with the GIL released in C++, never on the event loop: a slow probe
does not hold up other requests on the same loop.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

from ._core import Registry
from ._web import make_handler, respond, target_of

__all__ = ["AsgiApp", "asgi_app"]

Scope = Dict[str, Any]
Receive = Callable[[], Awaitable[Dict[str, Any]]]
Send = Callable[[Dict[str, Any]], Awaitable[None]]

try:  # Starlette and FastAPI bring anyio; it also runs under trio.
    from anyio import to_thread as _to_thread
except ImportError:  # pragma: no cover - exercised only without anyio
    _to_thread = None


async def _in_thread(fn: Callable[[], Any]) -> Any:
    if _to_thread is not None:
        return await _to_thread.run_sync(fn)
    return await asyncio.get_running_loop().run_in_executor(None, fn)


def _route_path(scope: Scope) -> str:
    """The path below the mount point. The ASGI spec has ``path`` include
    ``root_path``; servers and routers written before that clarification
    strip it themselves, so it is removed only when present."""
    path = scope.get("path") or "/"
    root = scope.get("root_path") or ""
    if root and (path == root or path.startswith(root.rstrip("/") + "/")):
        path = path[len(root.rstrip("/")):]
    return path


class AsgiApp:
    """An ASGI application serving one Registry; make it with
    :func:`asgi_app`. ``handler`` is the C++ HttpHandler it calls."""

    def __init__(
        self,
        registry: Registry,
        *,
        bearer_token: Optional[str] = None,
        metrics_prefix: Optional[str] = None,
        max_target_bytes: Optional[int] = None,
    ) -> None:
        """The options are :func:`asgi_app`'s."""
        self.registry = registry
        self.handler = make_handler(
            registry, "asgi_app", bearer_token, metrics_prefix, max_target_bytes
        )
        self.metrics_prefix = self.handler.metrics_prefix
        self.max_target_bytes = self.handler.max_target_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            # Served on its own (not mounted), the server asks this app too.
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if kind != "http":
            raise ValueError(f"statusz.asgi_app serves HTTP, not {kind!r}")
        # The request body (none is expected) is read and dropped, so the
        # server does not wait on it.
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            more = bool(message.get("more_body", False))
        headers: List[Tuple[str, str]] = [
            (k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", ())
        ]
        target = target_of(_route_path(scope), scope.get("query_string", b"").decode("latin-1"))
        status, out, body = await _in_thread(
            functools.partial(respond, self.handler, scope["method"], target, headers)
        )
        await send({
            "type": "http.response.start",
            "status": status,
            "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in out],
        })
        await send({"type": "http.response.body", "body": body})

    def __repr__(self) -> str:
        return f"<statusz.AsgiApp metrics_prefix={self.metrics_prefix!r}>"


def asgi_app(
    registry: Registry,
    *,
    bearer_token: Optional[str] = None,
    metrics_prefix: Optional[str] = None,
    max_target_bytes: Optional[int] = None,
) -> AsgiApp:
    """An ASGI 3.0 application serving `registry`'s routes, the same as
    :func:`statusz.serve`'s, below wherever it is mounted (``root_path``).
    The C++ handler runs in a worker thread (anyio's when installed, else the
    event loop's default executor), never on the event loop.

    bearer_token: when set, ``details=true`` and ``/metrics`` require
        ``Authorization: Bearer <token>`` (401 otherwise); ``None``: none.
    metrics_prefix: the Prometheus names' prefix (``None``: ``statusz``).
    max_target_bytes: longer request targets get 414 (``None``: 8192; at
        least 64, which the seed's longest request, 50 bytes, fits).

    Raises TypeError if `registry` is not a Registry, ValueError for an
    empty or blank `bearer_token` or a `max_target_bytes` below 64.
    """
    return AsgiApp(
        registry,
        bearer_token=bearer_token,
        metrics_prefix=metrics_prefix,
        max_target_bytes=max_target_bytes,
    )
