"""gzip on /metrics: a scrape of 10 000 series, its bytes on the wire with
and without ``Accept-Encoding: gzip``, and the time gzip adds to a scrape.

Two measurements, each the median of --repeat runs:
  1. in process: the C++ handler's render of /metrics, and gzip.compress of
     that body at statusz's level, 1 (and 6, 9 for comparison);
  2. over loopback through statusz.serve(): a whole scrape (request, render,
     compress, response read), with and without Accept-Encoding: gzip, and
     the Content-Length each gets (the bytes of the body on the wire).

    python bench/gzip_scrape.py --series 10000 --repeat 21
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import statistics
import time

import statusz
from statusz import _web


def registry(series: int) -> statusz.Registry:
    reg = statusz.Registry(host_name="bench", version="1")
    # Counters are one series each; names like a real service's.
    for i in range(series):
        reg.counter(f"applications.svc{i // 100}.requests.route{i % 100}.inFlight").set(i * 7)
    return reg


def median_seconds(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def scrape(port: int, accept_gzip: bool):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        headers = {"Accept-Encoding": "gzip"} if accept_gzip else {}
        conn.request("GET", "/metrics", headers=headers)
        r = conn.getresponse()
        body = r.read()
        assert r.status == 200, r.status
        assert (r.getheader("Content-Encoding") == "gzip") == accept_gzip
        return int(r.getheader("Content-Length")), body
    finally:
        conn.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--series", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=21)
    args = ap.parse_args()

    reg = registry(args.series)
    handler = statusz.HttpHandler(reg)
    body = handler.handle("GET", "/metrics", [])[3]
    samples = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))
    print(f"series (sample lines): {samples}")
    render = median_seconds(lambda: handler.handle("GET", "/metrics", []), args.repeat)
    print(f"in process, median of {args.repeat}:")
    print(f"  render /metrics                 {render * 1e3:8.2f} ms  {len(body):>9} bytes")
    for level in sorted({1, 6, 9, _web.GZIP_LEVEL}):
        packed = gzip.compress(body, compresslevel=level, mtime=0)
        t = median_seconds(lambda: gzip.compress(body, compresslevel=level, mtime=0), args.repeat)
        mark = " (statusz)" if level == _web.GZIP_LEVEL else ""
        print(f"  gzip level {level}{mark:<10}          {t * 1e3:8.2f} ms  {len(packed):>9} bytes"
              f"  ({len(packed) / len(body):.3f} of plain; +{t / render:.0%} of the render)")

    with statusz.serve(reg, port=0, client_timeout=60) as server:
        scrape(server.port, False)  # warm up
        plain_len, plain = scrape(server.port, False)
        gz_len, packed = scrape(server.port, True)
        assert gzip.decompress(packed) == plain
        t_plain = median_seconds(lambda: scrape(server.port, False), args.repeat)
        t_gz = median_seconds(lambda: scrape(server.port, True), args.repeat)
    print(f"over loopback (statusz.serve), median of {args.repeat}:")
    print(f"  identity   {t_plain * 1e3:8.2f} ms per scrape  {plain_len:>9} bytes of body")
    print(f"  gzip       {t_gz * 1e3:8.2f} ms per scrape  {gz_len:>9} bytes of body"
          f"  ({gz_len / plain_len:.3f} of the bytes; {t_gz / t_plain:.2f}x the time)")


if __name__ == "__main__":
    main()
