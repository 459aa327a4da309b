"""Exporting a Registry's Prometheus exposition where it cannot be scraped:
:func:`push` sends it to a Prometheus Pushgateway (batch jobs, cron
scripts), :func:`write_textfile` writes it for node_exporter's textfile
collector. Both render text format 0.0.4 with the C++ renderer (probes run,
as for a scrape) and use only the standard library.

>>> import statusz
>>> reg = statusz.Registry()
>>> reg.counter("volumes.rows").set(1200)
>>> statusz.push(reg, "http://127.0.0.1:9091", "nightly_import",
...              grouping={"instance": "db1"})         # doctest: +SKIP
>>> statusz.write_textfile(reg, "/var/lib/prometheus/node-exporter/import.prom")  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import os
import re
import tempfile
import urllib.request
from typing import Mapping, Optional, Union
from urllib.parse import quote

from ._core import Registry

__all__ = ["push", "pushgateway_path", "write_textfile"]

_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _segment(name: str, value: str) -> str:
    """One ``/<name>/<value>`` pair of a Pushgateway path. A value with a
    '/' (or an empty one) is sent as ``<name>@base64/<base64url of the
    UTF-8 value>``, the Pushgateway README's encoding; any other is
    percent-encoded."""
    if not _LABEL_NAME.match(name):
        raise ValueError(f"{name!r} is not a Prometheus label name")
    if not isinstance(value, str):
        raise TypeError(f"the value of label {name!r} must be a str, not {type(value).__name__}")
    if "/" in value or value == "":
        encoded = base64.urlsafe_b64encode(value.encode("utf-8")).decode("ascii") or "="
        return f"/{name}@base64/{encoded}"
    return f"/{name}/{quote(value, safe='')}"


def pushgateway_path(job: str, grouping: Optional[Mapping[str, str]] = None) -> str:
    """The Pushgateway path of a group: ``/metrics/job/<job>{/<label>/<value>}``
    (labels in the mapping's order). Raises ValueError for an empty job, a
    bad label name or a ``job`` label in `grouping`."""
    if not isinstance(job, str) or not job:
        raise ValueError("job must be a non-empty str")
    path = "/metrics" + _segment("job", job)
    for name, value in (grouping or {}).items():
        if name == "job":
            raise ValueError("grouping must not repeat the job label")
        path += _segment(name, value)
    return path


def push(
    registry: Registry,
    url: str,
    job: str,
    grouping: Optional[Mapping[str, str]] = None,
    *,
    method: str = "PUT",
    timeout: float = 10.0,
    bearer_token: Optional[str] = None,
    metrics_prefix: str = "statusz",
) -> int:
    """Pushes `registry`'s exposition to the Pushgateway at `url`
    (``http://host:9091``; a path prefix is kept) under the group of `job`
    and `grouping`'s labels. Returns the HTTP status (200, or 202 from
    Pushgateways before 1.0).

    method: ``"PUT"`` replaces every metric of the group; ``"POST"`` replaces
        only the metrics with the names pushed (the Pushgateway API).
    timeout: seconds for connecting and for each read (> 0).
    bearer_token: sent as ``Authorization: Bearer <token>`` when set.
    metrics_prefix: the prefix of the names, as for ``/metrics``.

    Raises ValueError on a bad argument, urllib.error.HTTPError when the
    Pushgateway refuses the push (its message in the exception), OSError
    (urllib.error.URLError) when it cannot be reached.
    """
    if method not in ("PUT", "POST"):
        raise ValueError('method must be "PUT" or "POST"')
    if not timeout > 0:
        raise ValueError("timeout must be > 0")
    if not url.startswith(("http://", "https://")):
        raise ValueError("url must start with http:// or https://")
    body = registry.to_prometheus(prefix=metrics_prefix).encode("utf-8")
    request = urllib.request.Request(
        url.rstrip("/") + pushgateway_path(job, grouping), data=body, method=method,
        headers={"Content-Type": _CONTENT_TYPE},
    )
    if bearer_token is not None:
        request.add_header("Authorization", f"Bearer {bearer_token}")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        response.read()
        return int(response.status)


def write_textfile(
    registry: Registry,
    path: Union[str, "os.PathLike[str]"],
    *,
    metrics_prefix: str = "statusz",
) -> None:
    """Writes `registry`'s exposition to `path` atomically, for
    node_exporter's textfile collector (which reads ``*.prom`` files): a
    temporary file in the same directory (named ``.<name>.*.tmp``, so the
    collector skips it) is written, flushed to disk (fsync), given mode
    0644, then renamed over `path` (os.replace), and the directory is
    fsynced. A reader sees the old file or the new one, never a part.

    Raises OSError when the directory is not writable (the temporary file is
    removed on any error).
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    data = registry.to_prometheus(prefix=metrics_prefix).encode("utf-8")
    fd, tmp = tempfile.mkstemp(
        dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
