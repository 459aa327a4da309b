"""The ``statusz`` command (also ``python -m statusz``).

  statusz demo [--host H] [--port 8080] [--latency]
                                             run the demo service
  statusz get URL [--details] [--pretty]     fetch and print a document
  statusz check URL [-w RANGE] [-c RANGE] [--timeout S]
                [--warning-p99-ms MS] [--critical-p99-ms MS] [--timer PATH]
                                             a Nagios/Icinga plugin
  statusz watch URL [--interval S]           a live terminal view
  statusz --version

URL is a server's base (``http://127.0.0.1:8080``) or a full status URL;
any server that speaks the seed's format works. ``--token`` (default
``$STATUSZ_TOKEN``) is sent as ``Authorization: Bearer``.

Exit codes: ``check`` follows the monitoring-plugins guidelines (0 OK,
1 WARNING, 2 CRITICAL, 3 UNKNOWN, usage errors included, always one line on
stdout); the other commands exit 0 on success, 1 when the document cannot be
fetched or stdout is closed under them, 2 on a usage error (argparse's
convention).
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import re
import signal
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Iterator, List, NoReturn, Optional, Sequence, TextIO, Tuple

__all__ = ["main"]

# Nagios plugin exit codes.
OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
_EXIT_FOR_STATUS = {"ok": OK, "warning": WARNING, "ko": CRITICAL, "unknown": UNKNOWN}
_LABEL = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}
# monitoring-plugins' max_state(): CRITICAL > WARNING > UNKNOWN > OK.
_SEVERITY = {OK: 0, UNKNOWN: 1, WARNING: 2, CRITICAL: 3}

# Bounds of --timeout and --interval, seconds.
_MAX_SECONDS = 86400.0
# A body larger than this is not a status document.
_MAX_BODY_BYTES = 64 * 1024 * 1024


class FetchError(Exception):
    """The document could not be fetched or read; the message says why."""


class UsageError(Exception):
    """The command line asks for something impossible; the message says why."""


def status_url(url: str, details: bool = False, pretty: bool = False, *,
               from_options: bool = False) -> str:
    """`url` with the status path (if it has none); ``details=true`` and
    ``pretty=true`` appended when asked and absent. The URL's own query is
    kept as given (``details=yes`` reaches the server, which answers 400);
    asking for details or pretty when the URL sets them otherwise raises
    UsageError rather than silently replacing the URL's value, as does a
    malformed URL (a bad port or IPv6 address, a space). `from_options`:
    details and pretty are ``get``'s ``--details`` and ``--pretty``, which
    the contradiction's message then names."""
    # RFC 3986 has no spaces or control characters in a URL (http.client
    # refuses them with InvalidURL, which is not a ValueError).
    if re.search(r"[\x00-\x20\x7f]", url):
        raise UsageError(f"bad URL '{plugin_text(url)}': a space or control character "
                         "(percent-encode it)")
    try:
        parts = urllib.parse.urlsplit(url if "://" in url else "http://" + url)
        parts.port  # raises ValueError unless a number within 0..65535
    except ValueError as e:  # "Invalid IPv6 URL", "Port out of range 0-65535", ...
        raise UsageError(f"bad URL '{url}': {e}") from None
    if parts.scheme not in ("http", "https"):
        raise UsageError(f"unsupported URL scheme '{parts.scheme}'")
    if not parts.hostname:
        raise UsageError(f"no host in the URL '{url}'")
    path = parts.path if parts.path not in ("", "/") else "/serverstatus"
    query = parts.query
    for name, wanted in (("details", details), ("pretty", pretty)):
        if not wanted:
            continue
        given = [v for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True) if k == name]
        # A bare "?details" means true, as the server reads it.
        if not given:
            query = f"{query}&{name}=true" if query else f"{name}=true"
        else:
            bad = [v for v in given if v.lower() not in ("true", "")]
            if bad:
                asked = f"--{name}" if from_options else f"{name}=true"
                raise UsageError(f"the URL sets {name}={bad[0]}, which contradicts {asked}")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, query, ""))


def _http_error(url: str, e: urllib.error.HTTPError) -> FetchError:
    detail = ""
    try:
        doc = json.loads(e.read(65536))
        if isinstance(doc, dict) and isinstance(doc.get("error"), str):
            detail = f": {doc['error']}"
    except (ValueError, OSError, RecursionError):  # a body we cannot read
        pass
    return FetchError(f"HTTP {e.code} from {url}{detail}")


class _RedirectHandler(urllib.request.HTTPRedirectHandler):
    """Follows redirects, but sends the bearer token only to the origin it
    was given for: urllib copies every header to the redirected request, so
    a redirect to another host (or from https to http) would hand the token
    over. Dropped as curl and requests drop Authorization on a change of
    origin (RFC 9110 §15.4: a redirect's target is another resource)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[override]
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and _origin(new.full_url) != _origin(req.full_url):
            new.remove_header("Authorization")
        return new


def _origin(url: str) -> Tuple[str, str, Optional[int]]:
    parts = urllib.parse.urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or ""), parts.port or default


_OPENER = urllib.request.build_opener(_RedirectHandler)


def _fetch_before(url: str, timeout: float, deadline: float, token: Optional[str]) -> str:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    late = FetchError(f"no complete answer from {url} within {timeout:g} s")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            chunks: List[bytes] = []
            size = 0
            while True:
                if time.monotonic() > deadline:
                    raise late
                chunk = response.read1(65536)
                if not chunk:
                    break
                size += len(chunk)
                if size > _MAX_BODY_BYTES:
                    raise FetchError(f"the body from {url} is over {_MAX_BODY_BYTES} bytes")
                chunks.append(chunk)
            return b"".join(chunks).decode("utf-8", errors="replace")
    except urllib.error.HTTPError as e:
        raise _http_error(url, e) from None
    except urllib.error.URLError as e:
        if isinstance(e.reason, TimeoutError):
            raise late from None
        raise FetchError(f"cannot reach {url}: {e.reason}") from None
    except TimeoutError:
        raise late from None
    except OSError as e:
        raise FetchError(f"cannot reach {url}: {e}") from None
    except ValueError as e:  # a malformed URL (bad port, ...)
        raise FetchError(f"bad URL {url}: {e}") from None
    except http.client.HTTPException as e:  # not HTTP (BadStatusLine, ...), not an OSError
        raise FetchError(f"no HTTP answer from {url}: {type(e).__name__} {e}") from None


def _not_json(constant: str) -> NoReturn:
    """json.loads reads NaN, Infinity and -Infinity, which JSON has not
    (RFC 8259 §6) and a statusz server never writes: a NaN p99 would pass
    every threshold."""
    raise ValueError(f"{constant} is not a JSON number (RFC 8259 §6)")


def fetch(url: str, timeout: float, token: Optional[str] = None) -> Tuple[str, Any]:
    """GETs `url`; returns (body text, parsed JSON). Raises FetchError.

    `timeout` (seconds) bounds the whole exchange (name resolution, connect,
    headers and a body sent slowly), not only each socket operation: the
    request runs on a daemon thread that is abandoned at the deadline.
    """
    deadline = time.monotonic() + timeout
    outcome: dict = {}

    def work() -> None:
        try:
            outcome["body"] = _fetch_before(url, timeout, deadline, token)
        except BaseException as e:  # handed to the caller's thread
            outcome["error"] = e

    worker = threading.Thread(target=work, name="statusz-fetch", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise FetchError(f"no complete answer from {url} within {timeout:g} s")
    if "error" in outcome:
        raise outcome["error"]
    body = outcome["body"]
    try:
        doc = json.loads(body, parse_constant=_not_json)
    except ValueError as e:
        raise FetchError(f"the body from {url} is not JSON ({e})") from None
    except RecursionError:  # json.loads recurses once per array or object
        raise FetchError(f"the body from {url} nests too deeply to be read") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("status"), str):
        raise FetchError(f"the body from {url} has no 'status' string")
    return body, doc


def _walk(node: Any, path: str = "") -> Iterator[Tuple[str, Any]]:
    if isinstance(node, dict):
        for k, v in node.items():
            sub = f"{path}.{k}" if path else str(k)
            yield sub, v
            yield from _walk(v, sub)


def _probes(doc: dict) -> List[Tuple[str, dict]]:
    """(name, node) of every probe in the document: a node with a string
    status. Groups without a probe (``applications.servlet`` holding only
    meters) have none and are not probes. Names drop ``applications.``."""
    found = []
    for path, v in _walk(doc):
        if isinstance(v, dict) and isinstance(v.get("status"), str):
            name = path[len("applications."):] if path.startswith("applications.") else path
            found.append((name, v))
    return found


def _is_meter(v: Any) -> bool:
    return isinstance(v, dict) and {"count", "meanRate", "oneMinuteRate"} <= v.keys()


def _is_timer(v: Any) -> bool:
    """A timer: a meter's members plus ``durationMs`` statistics."""
    return _is_meter(v) and isinstance(v.get("durationMs"), dict)


def _timers(doc: dict, only: Optional[Sequence[str]] = None) -> List[Tuple[str, dict]]:
    """(path, node) of the document's timers, or of those at `only`'s paths."""
    found = [(p, v) for p, v in _walk(doc) if _is_timer(v)]
    if only:
        found = [(p, v) for p, v in found if p in only]
    return found


def _number(path: str, v: Any) -> Optional[float]:
    """`v` as a float if it is a number (a bool is not), else None. Raises
    FetchError for an integer too large for a float: JSON sets no bound
    (RFC 8259 §6) and json.loads gives an int of any size."""
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        return None
    try:
        return float(v)
    except OverflowError:
        raise FetchError(f"the number at {path} is too large to evaluate") from None


def _ms(path: str, stats: dict, key: str) -> Optional[float]:
    return _number(f"{path}.durationMs.{key}", stats.get(key))


def _ratios(doc: dict) -> List[Tuple[str, float]]:
    found = []
    for p, v in _walk(doc):
        if p.endswith("ErrorsRatio"):
            ratio = _number(p, v)
            if ratio is not None and math.isfinite(ratio):
                found.append((p, ratio))
    return found


# ---- the Nagios/Icinga plugin -----------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def plugin_text(text: str) -> str:
    """`text` made safe for the plugin's output line: control characters
    (newlines included) become one space, and ``|``, which starts the
    performance data, becomes ``/`` (``web|01`` reads ``web/01``)."""
    return _CONTROL.sub(" ", text).replace("|", "/")


def perf_label(path: str) -> str:
    """A performance-data label: quoted; ``'`` and ``=``, which the
    guidelines forbid in labels, become ``_``; ``|`` becomes ``/``."""
    return "'" + re.sub(r"['=]", "_", plugin_text(path)) + "'"


def perf_number(value: float) -> str:
    """A value in the guidelines' class ``[-0-9.]``: no exponent."""
    if isinstance(value, int):
        return str(value)
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)\Z")


class Range:
    """A threshold range of the monitoring-plugins guidelines
    ("Threshold and ranges"): ``[@]start:end``. ``10`` is ``0:10``; an
    empty end is +infinity (``10:``); ``~`` as start is -infinity (``~:10``).
    It alerts when the value is outside [start, end] (endpoints inside), or,
    with a leading ``@``, when it is inside."""

    def __init__(self, text: str) -> None:
        spec = text.strip()
        self.text = spec
        self.inside = spec.startswith("@")
        if self.inside:
            spec = spec[1:]
        if ":" in spec:
            lo, hi = spec.split(":", 1)
        else:
            lo, hi = "0", spec
        if lo == "~":
            self.start = -math.inf
        elif lo == "" or _NUMBER.match(lo):
            self.start = float(lo or 0)
        else:
            raise ValueError(f"'{text}' is not a range ([@]start:end, start a number or ~)")
        if hi == "" and ":" in spec:
            self.end = math.inf
        elif _NUMBER.match(hi):
            self.end = float(hi)
        else:
            raise ValueError(f"'{text}' is not a range ([@]start:end, end a number or empty)")
        if self.start > self.end:
            raise ValueError(f"range '{text}' starts after its end")

    def alerts(self, value: float) -> bool:
        within = self.start <= value <= self.end
        return within if self.inside else not within

    def __str__(self) -> str:
        return self.text


def _worse(a: int, b: int) -> int:
    return a if _SEVERITY[a] >= _SEVERITY[b] else b


def _line(code: int, text: str, perf: Sequence[str] = ()) -> str:
    line = f"STATUSZ {_LABEL[code]}: {plugin_text(text)}"
    if perf:
        line += " | " + " ".join(perf)
    return line


def check(url: str, timeout: float, warning: Optional[Range], critical: Optional[Range],
          token: Optional[str], warning_p99_ms: Optional[float] = None,
          critical_p99_ms: Optional[float] = None,
          timers: Optional[Sequence[str]] = None) -> Tuple[int, str]:
    """The plugin's exit code and its one line of output:
    ``STATUSZ <STATE>: <text> | <perfdata>`` (monitoring-plugins guidelines:
    "Plugin Output", "Performance data"). The state is the worst of the
    server's status, the thresholds on every ``*ErrorsRatio``, and the p99
    thresholds (milliseconds, alerting when a timer's windowed p99 is above)
    on every timer, or on the timers at `timers`' paths (UNKNOWN if one of
    those is not in the document)."""
    try:
        _, doc = fetch(status_url(url, details=True), timeout, token)
        # A document that cannot be evaluated is UNKNOWN too, never a
        # traceback (monitoring-plugins guidelines: one line, exit 3).
        return _evaluate(doc, warning, critical, warning_p99_ms, critical_p99_ms, timers)
    except (FetchError, UsageError) as e:
        return UNKNOWN, _line(UNKNOWN, str(e))


def _evaluate(doc: dict, warning: Optional[Range], critical: Optional[Range],
              warning_p99_ms: Optional[float], critical_p99_ms: Optional[float],
              timers: Optional[Sequence[str]]) -> Tuple[int, str]:
    """check()'s exit code and line for a fetched document. Raises
    FetchError for a number it cannot evaluate."""
    server_status = doc["status"]
    code = _EXIT_FOR_STATUS.get(server_status.lower(), UNKNOWN)
    reasons = [f"server status {server_status}"]
    not_ok = []
    for name, probe in _probes(doc):
        if probe["status"].lower() == "ok":
            continue
        message = probe.get("message")
        not_ok.append(f"{name} {probe['status']}" + (f" ({message})" if isinstance(message, str) and message else ""))
    if not_ok:
        reasons.append("probes: " + ", ".join(not_ok))
    for path, ratio in _ratios(doc):
        for state, threshold in ((CRITICAL, critical), (WARNING, warning)):
            if threshold is not None and threshold.alerts(ratio):
                code = _worse(code, state)
                reasons.append(f"{path.rsplit('.', 1)[-1]} {perf_number(ratio)} "
                               f"{'inside' if threshold.inside else 'outside'} "
                               f"{'critical' if state == CRITICAL else 'warning'} range {threshold}")
                break
    if timers:
        present = {p for p, _ in _timers(doc)}
        missing = [p for p in timers if p not in present]
        if missing:
            code = _worse(code, UNKNOWN)
            reasons.append("no timer at " + ", ".join(missing))
    checked = _timers(doc, timers) if (warning_p99_ms is not None or critical_p99_ms is not None) else []
    for path, t in checked:
        p99 = _ms(path, t["durationMs"], "p99")
        if p99 is None:
            continue
        for state, limit in ((CRITICAL, critical_p99_ms), (WARNING, warning_p99_ms)):
            if limit is not None and p99 > limit:
                code = _worse(code, state)
                reasons.append(f"{path} p99 {perf_number(p99)} ms > "
                               f"{'critical' if state == CRITICAL else 'warning'} {perf_number(limit)} ms")
                break
    host = doc.get("hostName")
    if isinstance(host, str) and host:
        reasons.append(f"host {host}")
    perf = []
    if isinstance(doc.get("durationMs"), (int, float)):
        perf.append(f"'duration'={perf_number(doc['durationMs'])}ms;;;0")
    for name, probe in _probes(doc):
        if isinstance(probe.get("durationMs"), (int, float)):
            perf.append(f"{perf_label(name + '_duration')}={perf_number(probe['durationMs'])}ms;;;0")
    warn = "" if warning is None else str(warning)
    crit = "" if critical is None else str(critical)
    for path, ratio in _ratios(doc):
        perf.append(f"{perf_label(path)}={perf_number(ratio)};{warn};{crit};0;1")
    for path, v in _walk(doc):
        if _is_meter(v) and isinstance(v.get("count"), int) and v["count"] >= 0:
            perf.append(f"{perf_label(path)}={v['count']}c;;;0")
    pw = "" if warning_p99_ms is None else perf_number(warning_p99_ms)
    pc = "" if critical_p99_ms is None else perf_number(critical_p99_ms)
    for path, t in _timers(doc, timers):
        p99 = _ms(path, t["durationMs"], "p99")
        if p99 is not None:
            perf.append(f"{perf_label(path + '_p99')}={perf_number(p99)}ms;{pw};{pc};0")
    return code, _line(code, "; ".join(reasons), perf)


# ---- watch ----------------------------------------------------------------

# A screen line: its text, and the status word in it to colour (or None).
ScreenLine = Tuple[str, Optional[str]]


def _fit(text: str, width: int) -> str:
    """`text` cut to `width` columns, ``~`` marking a cut."""
    return text if len(text) <= width else text[: max(0, width - 1)] + "~"


def _cell(fmt: str, v: Any) -> str:
    """A 10-column cell: a number formatted by `fmt`, anything else (or an
    integer too large for a float's format) as text, cut to fit."""
    if isinstance(v, (int, float)):
        try:
            return _fit(fmt.format(v), 10)
        except OverflowError:
            pass
    return _fit(f"{v!s:>10}", 10)


def render_watch(doc: dict, url: str, width: int = 80, top: int = 5) -> List[ScreenLine]:
    """The lines `watch` draws for one document, none wider than `width`
    (probe messages and meter names are cut to fit; rate columns are
    dropped from the right on narrow terminals). Raises FetchError for an
    errors ratio it cannot evaluate."""
    width = max(width, 20)
    out: List[ScreenLine] = []

    def add(text: str, status: Optional[str] = None) -> None:
        out.append((_fit(_CONTROL.sub(" ", text), width), status))

    add(f"statusz watch  {url}")
    add(f"server {doc.get('hostName', '?')}  version {doc.get('version', '?')}  "
        f"date {doc.get('date', '?')}  built in {doc.get('durationMs', '?')} ms")
    status = str(doc.get("status"))
    add(f"status: {status}", status)
    probes = _probes(doc)
    if probes:
        name_w = min(24, max(len(n) for n, _ in probes) + 1, width // 3)
        add("")
        add(f"{'probe':<{name_w}} {'status':<8} {'ms':>6}  message")
        for name, probe in probes:
            st = probe["status"]
            message = probe.get("message") if isinstance(probe.get("message"), str) else ""
            add(f"{_fit(name, name_w):<{name_w}} {st:<8} {probe.get('durationMs', ''):>6}  {message}", st)
    meters = [(p, v) for p, v in _walk(doc) if _is_meter(v) and not _is_timer(v)]
    if meters:
        columns = [("count", "count", "{:>10}"), ("1m/s", "oneMinuteRate", "{:>10.3f}"),
                   ("5m/s", "fiveMinuteRate", "{:>10.3f}"), ("15m/s", "fifteenMinuteRate", "{:>10.3f}")]
        # Keep the name at least 16 wide: drop rate columns from the right.
        while len(columns) > 1 and width - 11 * len(columns) < 16:
            columns.pop()
        name_w = width - 11 * len(columns)
        add("")
        add(f"{'meter':<{name_w}}" + "".join(f" {h:>10}" for h, _, _ in columns))
        for path, m in meters:
            short = path.replace("applications.", "").replace(".requests.", ".")
            if len(short) > name_w:
                short = "~" + short[-(name_w - 1):]
            cells = []
            for _, key, fmt in columns:
                cells.append(" " + _cell(fmt, m.get(key, 0)))
            add(f"{short:<{name_w}}" + "".join(cells))
    timers = _timers(doc)
    if timers:
        columns = [("count", "{:>10}"), ("1m/s", "{:>10.3f}"), ("p50 ms", "{:>10.3f}"),
                   ("p99 ms", "{:>10.3f}")]
        while len(columns) > 1 and width - 11 * len(columns) < 16:
            columns.pop()
        name_w = width - 11 * len(columns)
        add("")
        add(f"{'timer':<{name_w}}" + "".join(f" {h:>10}" for h, _ in columns))
        for path, t in timers:
            short = path.replace("applications.", "").replace(".requests.", ".")
            if len(short) > name_w:
                short = "~" + short[-(name_w - 1):]
            values = [t.get("count", 0), t.get("oneMinuteRate", 0),
                      t["durationMs"].get("p50", 0), t["durationMs"].get("p99", 0)]
            cells = []
            for (_, fmt), v in zip(columns, values):
                cells.append(" " + _cell(fmt, v))
            add(f"{short:<{name_w}}" + "".join(cells))
    for path, ratio in _ratios(doc):
        add(f"{path.split('.')[-1]}: {ratio:.4%}")
    by_bot = [(p, v) for p, v in _walk(doc) if p.endswith("errorsByBot") and isinstance(v, dict)]
    for path, counts in by_bot:
        ranked = sorted(((c, k) for k, c in counts.items() if isinstance(c, int)), reverse=True)
        add("")
        add(f"top bots by errors ({len(counts)} bots)")
        for count, bot in ranked[:top]:
            add(f"  {_fit(bot, max(8, width - 12)):<{max(8, width - 12)}} {count:>8}")
    return out


_CURSES_COLOURS = {"ok": "COLOR_GREEN", "warning": "COLOR_YELLOW", "unknown": "COLOR_MAGENTA",
                   "ko": "COLOR_RED"}


def _watch_screen(stdscr: Any, url: str, interval: float, timeout: float,
                  token: Optional[str], iterations: Optional[int]) -> None:
    import curses

    try:
        curses.curs_set(0)
    except curses.error:
        pass
    attrs = {}
    if curses.has_colors() and os.environ.get("NO_COLOR") is None:
        curses.start_color()
        try:
            curses.use_default_colors()
            background = -1
        except curses.error:
            background = curses.COLOR_BLACK
        for n, (word, colour) in enumerate(_CURSES_COLOURS.items(), start=1):
            curses.init_pair(n, getattr(curses, colour), background)
            attrs[word] = curses.color_pair(n) | curses.A_BOLD
    target = status_url(url, details=True)
    n = 0
    while iterations is None or n < iterations:
        try:
            _, doc = fetch(target, timeout, token)
            error = None
        except FetchError as e:
            doc, error = None, str(e)
        stamp = time.strftime("%H:%M:%S")
        while True:  # draw; redraw on resize until the next refresh is due
            rows, cols = stdscr.getmaxyx()
            width = max(1, cols - 1)  # the last column would wrap on some terminals
            lines: Optional[List[ScreenLine]] = None
            if doc is not None:
                try:
                    lines = render_watch(doc, url, width)
                except FetchError as e:  # a number it cannot evaluate
                    error = str(e)
            if lines is None:
                lines = [(f"statusz watch  {url}", None), ("", None), (f"Unknown: {error}", "Unknown")]
            status_line = _fit(f"refreshed {stamp}, every {interval:g} s; q or Ctrl-C quits", width)
            body_rows = max(0, rows - 2)
            if len(lines) > body_rows and body_rows > 0:
                hidden = len(lines) - body_rows + 1
                lines = lines[: body_rows - 1] + [(_fit(f"... {hidden} more lines: enlarge the terminal", width), None)]
            stdscr.erase()
            for y, (text, status) in enumerate(lines[:body_rows]):
                text = text[:width]  # render_watch lays out at least 20 columns
                stdscr.addstr(y, 0, text)
                attr = attrs.get((status or "").lower())
                if attr is not None and status:
                    x = text.find(status)
                    if x >= 0 and x + len(status) <= width:
                        stdscr.addstr(y, x, status, attr)
            if rows >= 1:
                stdscr.addstr(rows - 1, 0, status_line[:width], curses.A_REVERSE)
            stdscr.refresh()
            n += 1
            if iterations is not None and n >= iterations:
                return
            stdscr.timeout(int(interval * 1000))
            key = stdscr.getch()
            if key in (ord("q"), ord("Q")):
                return
            if key == curses.KEY_RESIZE:
                curses.update_lines_cols()
                n -= 1
                continue
            break


def watch(url: str, interval: float, timeout: float, token: Optional[str],
          out: TextIO, iterations: Optional[int] = None) -> int:
    """The live view. On a terminal it uses curses (the standard library's
    binding of ncurses): the alternate screen, the view cut to the
    terminal's size and redrawn on resize, the status line on the last row;
    the terminal is restored on exit, Ctrl-C and errors included. Not on a
    terminal, it prints each refresh as plain text."""
    if out.isatty():
        import curses

        try:
            curses.wrapper(_watch_screen, url, interval, timeout, token, iterations)
        except KeyboardInterrupt:
            pass
        except curses.error as e:
            print(f"statusz watch: the terminal cannot be driven ({e})", file=sys.stderr)
            return 1
        return 0
    target = status_url(url, details=True)
    n = 0
    try:
        while iterations is None or n < iterations:
            try:
                _, doc = fetch(target, timeout, token)
                text = "\n".join(line for line, _ in render_watch(doc, url))
            except FetchError as e:
                text = f"statusz watch  {url}\n\nUnknown: {e}"
            out.write(text + f"\n\nrefreshed {time.strftime('%H:%M:%S')}\n\n")
            out.flush()
            n += 1
            if iterations is None or n < iterations:
                time.sleep(interval)
    except KeyboardInterrupt:
        pass
    return 0


# ---- demo -----------------------------------------------------------------

def demo(host: str, port: int, out: TextIO, latency: bool = False) -> int:
    from .demo import DemoPlatform
    from .server import serve

    platform = DemoPlatform(latency=latency).start()
    try:
        server = serve(platform.registry, host=host, port=port)
    except OSError as e:
        platform.stop()
        print(f"statusz demo: cannot listen on {host}:{port}: {e}", file=sys.stderr)
        return 1
    base = server.url
    print(f"statusz demo: a simulated chatbot platform on {base}", file=out)
    print(f"  {base}/serverstatus?details=true&pretty=true", file=out)
    print(f"  {base}/metrics", file=out)
    print(f"  {base}/healthz  {base}/livez  {base}/readyz", file=out)
    print(f'  try: curl -X GET "{base}/serverstatus?details=true&pretty=true" '
          f'-H "accept: application / javascript"', file=out)
    print("Ctrl-C stops it.", file=out, flush=True)
    def on_term(signum, frame):  # SIGTERM: stop like Ctrl-C
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.close()
        platform.stop()
    print("statusz demo: stopped", file=out, flush=True)
    return 0


# ---- entry point ------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    """argparse, except that the ``check`` subcommand reports usage errors
    as a plugin must: one ``STATUSZ UNKNOWN:`` line on stdout, exit 3."""

    plugin = False

    def error(self, message: str) -> NoReturn:
        if self.plugin:
            print(_line(UNKNOWN, f"usage: {message} (see statusz check --help)"))
            sys.exit(UNKNOWN)
        super().error(message)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not 0 < value <= _MAX_SECONDS:  # also rejects nan and inf
        raise argparse.ArgumentTypeError(f"must be > 0 and <= {_MAX_SECONDS:g} seconds, not {text}")
    return value


def _milliseconds(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of milliseconds") from None
    if not (math.isfinite(v) and v >= 0):
        raise argparse.ArgumentTypeError(f"milliseconds must be finite and >= 0, got '{text}'")
    return v


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be within 0..65535, not {text}")
    return value


def _range(text: str) -> Range:
    try:
        return Range(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _at_least(text: str) -> Range:
    """--warning-ratio R: the range ``@R:`` (alert when the ratio >= R)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a ratio") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be within [0, 1], not {text}")
    return Range(f"@{text}:")


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    p = _Parser(prog="statusz", description="Serve, query and check server status documents.")
    p.add_argument("--version", action="version", version=f"statusz {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    d = sub.add_parser("demo", help="run the demo service (a simulated chatbot platform)")
    d.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    d.add_argument("--port", type=_port, default=8080, help="port, 0..65535 (default 8080; 0 picks one)")
    d.add_argument("--latency", action="store_true",
                   help="add a request-latency timer (chatHttp.latency) to the seed's shape")

    for name, help_text in (("get", "fetch and print a document"),
                            ("check", "Nagios/Icinga plugin: exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN"),
                            ("watch", "live terminal view; q or Ctrl-C quits")):
        s = sub.add_parser(name, help=help_text)
        s.plugin = name == "check"
        s.add_argument("url", help="server base URL or full status URL")
        s.add_argument("-t", "--timeout", type=_seconds, default=10.0,
                       help="seconds the whole exchange may take, 0 < S <= 86400 (default 10)")
        s.add_argument("--token", default=os.environ.get("STATUSZ_TOKEN"),
                       help="bearer token sent as 'Authorization: Bearer' (default $STATUSZ_TOKEN)")
        if name == "get":
            s.add_argument("--details", action="store_true", help="ask for details=true")
            s.add_argument("--pretty", action="store_true", help="ask for pretty=true")
        if name == "check":
            s.add_argument("-w", "--warning", type=_range, metavar="RANGE",
                           help="WARNING when an errors ratio (0 to 1) alerts against this range "
                                "(monitoring-plugins syntax: 0.05 alerts above 0.05, 0.01: below "
                                "0.01, 0.01:0.1 outside, @0.2:0.5 inside)")
            s.add_argument("-c", "--critical", type=_range, metavar="RANGE",
                           help="CRITICAL when an errors ratio alerts against this range")
            s.add_argument("--warning-ratio", type=_at_least, dest="warning_at_least", metavar="R",
                           help="same as -w @R: (WARNING when a ratio >= R)")
            s.add_argument("--critical-ratio", type=_at_least, dest="critical_at_least", metavar="R",
                           help="same as -c @R: (CRITICAL when a ratio >= R)")
            s.add_argument("--warning-p99-ms", type=_milliseconds, metavar="MS",
                           help="WARNING when a timer's p99 over its window is above MS milliseconds")
            s.add_argument("--critical-p99-ms", type=_milliseconds, metavar="MS",
                           help="CRITICAL when a timer's p99 over its window is above MS milliseconds")
            s.add_argument("--timer", action="append", metavar="PATH",
                           help="the timer(s) the p99 thresholds apply to, by dotted path "
                                "(repeatable; default: every timer; UNKNOWN if one is missing)")
        if name == "watch":
            s.add_argument("--interval", type=_seconds, default=2.0,
                           help="seconds between refreshes (default 2)")
            s.add_argument("--iterations", type=int, default=None, help=argparse.SUPPRESS)
    return p


def _stdout_closed() -> int:
    """The exit after BrokenPipeError on stdout (``statusz watch URL | head``):
    quiet, as the Python documentation's note on SIGPIPE (the signal module)
    says: stdout goes to devnull, so the flush at exit does not raise again,
    and the exit code is 1."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 1


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        message = "unrecognized arguments: " + " ".join(extra)
        if args.command == "check":
            print(_line(UNKNOWN, f"usage: {message} (see statusz check --help)"))
            return UNKNOWN
        parser.error(message)
    if args.command == "demo":
        return demo(args.host, args.port, sys.stdout, args.latency)
    if args.command == "get":
        try:
            target = status_url(args.url, args.details, args.pretty, from_options=True)
            body, _ = fetch(target, args.timeout, args.token)
        except UsageError as e:
            parser.exit(2, f"statusz get: {e}\n")
        except FetchError as e:
            print(f"statusz get: {e}", file=sys.stderr)
            return 1
        try:
            sys.stdout.write(body if body.endswith("\n") else body + "\n")
            sys.stdout.flush()
        except BrokenPipeError:
            return _stdout_closed()
        return 0
    if args.command == "check":
        for short, long_ in (("warning", "warning_at_least"), ("critical", "critical_at_least")):
            if getattr(args, short) is not None and getattr(args, long_) is not None:
                print(_line(UNKNOWN, f"usage: give -{short[0]} or --{short}-ratio, not both"))
                return UNKNOWN
        code, line = check(args.url, args.timeout, args.warning or args.warning_at_least,
                           args.critical or args.critical_at_least, args.token,
                           args.warning_p99_ms, args.critical_p99_ms, args.timer)
        print(line)
        return code
    try:
        status_url(args.url, details=True)
    except UsageError as e:
        parser.exit(2, f"statusz watch: {e}\n")
    try:
        return watch(args.url, args.interval, args.timeout, args.token, sys.stdout, args.iterations)
    except BrokenPipeError:
        return _stdout_closed()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
