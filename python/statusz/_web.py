"""What serve(), wsgi_app() and asgi_app() share: building the C++
HttpHandler from typed options, turning one request into a response (HEAD as
GET without the body, RFC 9110 §9.3.2), and gzip for /metrics when the
client accepts it (RFC 9110 §12.5.3)."""

from __future__ import annotations

import gzip
from typing import List, Optional, Sequence, Tuple
from urllib.parse import quote

from ._core import HttpHandler, Registry
from ._core import _EXPOSITION_CONTENT_TYPES, _accepts_gzip

Headers = List[Tuple[str, str]]

# RFC 3986 pchar minus what quote() keeps anyway, plus "/": a decoded path
# (PATH_INFO, scope["path"]) percent-encoded back into a request target.
_PATH_SAFE = "/:@!$&'()*+,;=~"


def make_handler(
    registry: Registry,
    caller: str,
    bearer_token: Optional[str],
    metrics_prefix: Optional[str],
    max_target_bytes: Optional[int],
) -> HttpHandler:
    """The handler for the typed options (None: the C++ library's default).
    Raises TypeError if `registry` is not a Registry, ValueError for an empty
    or blank bearer token, and (from HttpHandler) for a max_target_bytes below
    HttpHandler.MIN_TARGET_BYTES."""
    if not isinstance(registry, Registry):
        raise TypeError(f"{caller}() needs a statusz.Registry")
    if bearer_token is not None and not isinstance(bearer_token, str):
        raise TypeError(f"bearer_token must be a str or None, not {type(bearer_token).__name__}")
    # "" is no token to HttpHandler; here None says that, and "" is a
    # mistake. HttpHandler refuses a blank or otherwise malformed token.
    if bearer_token == "":
        raise ValueError("bearer_token must not be empty (None: no authentication)")
    limits = {
        name: value
        for name, value in (
            ("metrics_prefix", metrics_prefix),
            ("max_target_bytes", max_target_bytes),
        )
        if value is not None
    }
    return HttpHandler(registry, bearer_token=bearer_token, **limits)


def target_of(path: str, query: str) -> str:
    """The request target for a decoded path (the part below the mount
    point) and a raw query string."""
    target = quote((path or "/").encode("utf-8", "surrogateescape"), safe=_PATH_SAFE)
    return target + "?" + query if query else target


# Level 1: on a 10 000-series scrape (bench/gzip_scrape.py) it sends 7.0% of
# the bytes for about a quarter of the render's time; zlib's default, 6,
# sends 6.2% for about as long again as the render.
GZIP_LEVEL = 1


def accepts_gzip(accept_encoding: Optional[str]) -> bool:
    """Whether an Accept-Encoding field value accepts gzip (RFC 9110
    §12.5.3): ``gzip`` or its alias ``x-gzip`` (§8.4.1.3), else ``*``, with
    a weight above 0 (``;q=0`` refuses it; a malformed weight counts as 0)
    and at least identity's (``identity``'s own, else ``*``'s; identity not
    listed ranks below any coding named, so ``gzip;q=0.5, identity`` stays
    identity). No field, or gzip not acceptable: no, even with
    ``identity;q=0`` (sent without a coding rather than a 406). The C++
    library's rule (statusz/http.hpp, ``detail::accepts_gzip``), which the
    cpp-httplib adapter applies too."""
    return _accepts_gzip(accept_encoding)


def gzip_metrics(
    content_type: str, accept_encoding: Optional[str], status: int,
    headers: Headers, body: bytes,
) -> Tuple[Headers, bytes]:
    """For the handler's ``/metrics`` exposition (told by `content_type`, so
    whatever target the handler routed there: ``/metrics/``, absolute-form,
    percent-encoded): ``Vary: Accept-Encoding``, and a 200's body gzipped
    with ``Content-Encoding: gzip`` when `accept_encoding` accepts it.
    Other answers pass through. `headers` must not carry Content-Length
    yet."""
    if content_type not in _EXPOSITION_CONTENT_TYPES:  # prometheus.hpp's
        return headers, body
    headers = headers + [("Vary", "Accept-Encoding")]
    if status == 200 and accepts_gzip(accept_encoding):
        body = gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
        headers.append(("Content-Encoding", "gzip"))
    return headers, body


def respond(
    handler: HttpHandler, method: str, target: str, headers: Sequence[Tuple[str, str]]
) -> Tuple[int, Headers, bytes]:
    """One request through the C++ handler: (status, headers, body to send).
    HEAD is asked as GET and gets the GET's headers, Content-Length
    included, with an empty body; /metrics is gzipped when the request's
    Accept-Encoding accepts it. Releases the GIL while the handler runs."""
    head = method == "HEAD"
    headers = list(headers)
    status, content_type, extra, body = handler.handle(
        "GET" if head else method, target, headers
    )
    out: Headers = [("Content-Type", content_type)]
    out.extend((str(k), str(v)) for k, v in extra)
    codings = [v for k, v in headers if k.lower() == "accept-encoding"]
    out, body = gzip_metrics(content_type, ",".join(codings) if codings else None, status, out, body)
    out.append(("Content-Length", str(len(body))))
    return status, out, (b"" if head else body)
