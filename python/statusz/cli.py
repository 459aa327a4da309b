"""The ``statusz`` command (also ``python -m statusz``).

  statusz demo [--host H] [--port 8080]      run the demo service
  statusz get URL [--details] [--pretty]     fetch and print a document
  statusz check URL [--timeout S] [--warning-ratio R] [--critical-ratio R]
                                             a Nagios/Icinga plugin
  statusz watch URL [--interval S]           a live terminal view

URL is a server's base (``http://127.0.0.1:8080``) or a full status URL;
any server that speaks the seed's format works.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Iterator, List, Optional, Sequence, TextIO, Tuple

__all__ = ["main"]

# Nagios plugin exit codes.
OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
_EXIT_FOR_STATUS = {"ok": OK, "warning": WARNING, "ko": CRITICAL, "unknown": UNKNOWN}
_LABEL = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}


class FetchError(Exception):
    """The document could not be fetched or read; the message says why."""


def status_url(url: str, details: bool, pretty: bool = False) -> str:
    """`url` with the status path (if it has none) and the query set."""
    parts = urllib.parse.urlsplit(url if "://" in url else "http://" + url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"unsupported URL scheme '{parts.scheme}'")
    path = parts.path if parts.path not in ("", "/") else "/serverstatus"
    query = dict(urllib.parse.parse_qsl(parts.query))
    query["details"] = "true" if details else "false"
    if pretty:
        query["pretty"] = "true"
    return urllib.parse.urlunsplit(
        (parts.scheme, parts.netloc, path, urllib.parse.urlencode(query), ""))


def fetch(url: str, timeout: float, token: Optional[str] = None) -> Tuple[str, Any]:
    """GETs `url`; returns (body text, parsed JSON). Raises FetchError."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read().decode("utf-8", errors="replace")
    except urllib.error.HTTPError as e:
        raise FetchError(f"HTTP {e.code} from {url}") from None
    except urllib.error.URLError as e:
        reason = e.reason
        if isinstance(reason, TimeoutError):
            raise FetchError(f"no answer from {url} within {timeout:g} s") from None
        raise FetchError(f"cannot reach {url}: {reason}") from None
    except TimeoutError:
        raise FetchError(f"no answer from {url} within {timeout:g} s") from None
    except OSError as e:
        raise FetchError(f"cannot reach {url}: {e}") from None
    try:
        doc = json.loads(body)
    except ValueError as e:
        raise FetchError(f"the body from {url} is not JSON ({e})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("status"), str):
        raise FetchError(f"the body from {url} has no 'status' string")
    return body, doc


def _applications(doc: dict) -> List[Tuple[str, dict]]:
    apps = doc.get("applications")
    if not isinstance(apps, dict):
        return []
    return [(k, v) for k, v in apps.items() if isinstance(v, dict)]


def _walk(node: Any, path: str = "") -> Iterator[Tuple[str, Any]]:
    if isinstance(node, dict):
        for k, v in node.items():
            sub = f"{path}.{k}" if path else str(k)
            yield sub, v
            yield from _walk(v, sub)


def _is_meter(v: Any) -> bool:
    return isinstance(v, dict) and {"count", "meanRate", "oneMinuteRate"} <= v.keys()


def _ratios(doc: dict) -> List[Tuple[str, float]]:
    return [(p, float(v)) for p, v in _walk(doc)
            if p.endswith("ErrorsRatio") and isinstance(v, (int, float))]


def _perf_label(path: str) -> str:
    return "'" + path.replace("'", "_").replace("=", "_") + "'"


def check(url: str, timeout: float, warning_ratio: Optional[float],
          critical_ratio: Optional[float], token: Optional[str]) -> Tuple[int, str]:
    """The plugin's exit code and its one line of output."""
    try:
        _, doc = fetch(status_url(url, details=True), timeout, token)
    except FetchError as e:
        return UNKNOWN, f"STATUSZ UNKNOWN - {e}"
    server_status = doc["status"]
    code = _EXIT_FOR_STATUS.get(server_status.lower(), UNKNOWN)
    reasons = [f"server status {server_status}"]
    not_ok = [f"{name} {app.get('status')}" for name, app in _applications(doc)
              if str(app.get("status", "")).lower() != "ok"]
    if not_ok:
        reasons.append("applications: " + ", ".join(not_ok))
    ratios = _ratios(doc)
    worst_ratio = max((r for _, r in ratios), default=None)
    if worst_ratio is not None and code != UNKNOWN:
        if critical_ratio is not None and worst_ratio >= critical_ratio:
            code = max(code, CRITICAL)
            reasons.append(f"errors ratio {worst_ratio:.4g} >= {critical_ratio:g}")
        elif warning_ratio is not None and worst_ratio >= warning_ratio:
            code = max(code, WARNING)
            reasons.append(f"errors ratio {worst_ratio:.4g} >= {warning_ratio:g}")
    host = doc.get("hostName")
    if host:
        reasons.append(f"host {host}")
    perf = []
    if isinstance(doc.get("durationMs"), (int, float)):
        perf.append(f"duration={doc['durationMs']}ms;;;0")
    for name, app in _applications(doc):
        if isinstance(app.get("durationMs"), (int, float)):
            perf.append(f"{_perf_label(name + '_duration')}={app['durationMs']}ms;;;0")
    for path, ratio in ratios:
        warn = "" if warning_ratio is None else f"{warning_ratio:g}"
        crit = "" if critical_ratio is None else f"{critical_ratio:g}"
        perf.append(f"{_perf_label(path)}={ratio:.6g};{warn};{crit};0;1")
    for path, v in _walk(doc):
        if _is_meter(v) and isinstance(v.get("count"), int):
            perf.append(f"{_perf_label(path)}={v['count']}c;;;0")
    line = f"STATUSZ {_LABEL[code]} - " + "; ".join(reasons)
    if perf:
        line += " | " + " ".join(perf)
    return code, line


# ---- watch ----------------------------------------------------------------

_COLOURS = {"ok": "32", "warning": "33", "unknown": "35", "ko": "31"}


def _coloured(status: str, colour: bool) -> str:
    if not colour:
        return status
    return f"\x1b[1;{_COLOURS.get(status.lower(), '0')}m{status}\x1b[0m"


def render_watch(doc: dict, url: str, colour: bool, top: int = 5) -> str:
    """The screen `watch` draws for one document."""
    lines = [
        f"statusz watch  {url}",
        f"server {doc.get('hostName', '?')}  version {doc.get('version', '?')}  "
        f"date {doc.get('date', '?')}  built in {doc.get('durationMs', '?')} ms",
        f"status: {_coloured(str(doc.get('status')), colour)}",
        "",
        f"{'application':<20} {'status':<10} {'ms':>6}",
    ]
    for name, app in _applications(doc):
        status = str(app.get("status", "-"))
        pad = " " * max(0, 10 - len(status))
        lines.append(f"{name:<20} {_coloured(status, colour)}{pad} {app.get('durationMs', ''):>6}")
    meters = [(p, v) for p, v in _walk(doc) if _is_meter(v)]
    if meters:
        lines += ["", f"{'meter':<44} {'count':>10} {'1m/s':>10} {'5m/s':>10} {'15m/s':>10}"]
        for path, m in meters:
            short = path.replace("applications.", "").replace(".requests.", ".")
            lines.append(
                f"{short[-44:]:<44} {m['count']:>10} {m['oneMinuteRate']:>10.3f} "
                f"{m.get('fiveMinuteRate', 0):>10.3f} {m.get('fifteenMinuteRate', 0):>10.3f}")
    for path, ratio in _ratios(doc):
        lines.append(f"{path.split('.')[-1]}: {ratio:.4%}")
    by_bot = [(p, v) for p, v in _walk(doc) if p.endswith("errorsByBot") and isinstance(v, dict)]
    for path, counts in by_bot:
        ranked = sorted(((int(c), k) for k, c in counts.items() if isinstance(c, int)), reverse=True)
        lines += ["", f"top bots by errors ({len(counts)} bots)"]
        for count, bot in ranked[:top]:
            lines.append(f"  {bot:<40} {count:>8}")
    return "\n".join(lines)


def watch(url: str, interval: float, timeout: float, token: Optional[str],
          out: TextIO, iterations: Optional[int] = None) -> int:
    colour = out.isatty() and os.environ.get("NO_COLOR") is None
    target = status_url(url, details=True)
    out.write("\x1b[?25l")  # hide the cursor while drawing
    try:
        n = 0
        while iterations is None or n < iterations:
            try:
                _, doc = fetch(target, timeout, token)
                screen = render_watch(doc, url, colour)
            except FetchError as e:
                screen = f"statusz watch  {url}\n\n{_coloured('Unknown', colour)}: {e}"
            stamp = time.strftime("%H:%M:%S")
            # Home, draw, clear what is left of the previous frame.
            out.write("\x1b[H\x1b[2J" + screen + f"\n\nrefreshed {stamp}, every {interval:g} s; Ctrl-C quits\n")
            out.flush()
            n += 1
            if iterations is None or n < iterations:
                time.sleep(interval)
    except KeyboardInterrupt:
        pass
    finally:
        out.write("\x1b[?25h\n")
        out.flush()
    return 0


# ---- demo -----------------------------------------------------------------

def demo(host: str, port: int, out: TextIO) -> int:
    from .demo import DemoPlatform
    from .server import serve

    platform = DemoPlatform().start()
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
    print(f"  {base}/healthz", file=out)
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

def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, not {text}")
    return value


def _ratio(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be within [0, 1], not {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="statusz", description="Serve, query and check server status documents.")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="run the demo service (a simulated chatbot platform)")
    d.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    d.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 picks one)")

    for name, help_text in (("get", "fetch and print a document"),
                            ("check", "Nagios/Icinga plugin: exit 0 Ok, 1 Warning, 2 Ko, 3 Unknown"),
                            ("watch", "live terminal view, Ctrl-C quits")):
        s = sub.add_parser(name, help=help_text)
        s.add_argument("url", help="server base URL or full status URL")
        s.add_argument("--timeout", type=_positive, default=10.0, help="seconds to wait for an answer (default 10)")
        s.add_argument("--token", default=os.environ.get("STATUSZ_TOKEN"),
                       help="bearer token (default $STATUSZ_TOKEN)")
        if name == "get":
            s.add_argument("--details", action="store_true", help="ask for details=true")
            s.add_argument("--pretty", action="store_true", help="ask for pretty=true")
        if name == "check":
            s.add_argument("--warning-ratio", type=_ratio, help="WARNING when an errors ratio reaches this")
            s.add_argument("--critical-ratio", type=_ratio, help="CRITICAL when an errors ratio reaches this")
        if name == "watch":
            s.add_argument("--interval", type=_positive, default=2.0, help="seconds between refreshes (default 2)")
            s.add_argument("--iterations", type=int, default=None, help=argparse.SUPPRESS)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        return demo(args.host, args.port, sys.stdout)
    if args.command == "get":
        try:
            body, _ = fetch(status_url(args.url, args.details, args.pretty), args.timeout, args.token)
        except FetchError as e:
            print(f"statusz get: {e}", file=sys.stderr)
            return 1
        sys.stdout.write(body if body.endswith("\n") else body + "\n")
        return 0
    if args.command == "check":
        if (args.warning_ratio is not None and args.critical_ratio is not None
                and args.warning_ratio > args.critical_ratio):
            print("STATUSZ UNKNOWN - --warning-ratio is above --critical-ratio")
            return UNKNOWN
        code, line = check(args.url, args.timeout, args.warning_ratio, args.critical_ratio, args.token)
        print(line)
        return code
    return watch(args.url, args.interval, args.timeout, args.token, sys.stdout, args.iterations)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
