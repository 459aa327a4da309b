"""statusz: lock-free meters, counters, keyed counters, gauges, timers,
histograms and health probes that produce a server status document (the
``GET /serverstatus`` document of the spec), from Python, with the C++
library's renderer.

>>> import statusz
>>> reg = statusz.Registry(host_name="app1", version="49.2470")
>>> ok = reg.meter("applications.servlet.requests.chatHttp.successes")
>>> ok.mark()
>>> @reg.probe("applications.runtime", timeout=2.0)
... def runtime():
...     return statusz.Status.OK
>>> reg.snapshot()["status"]
'Ok'

Everything is safe to use from many threads. The hot calls (``Meter.mark``,
``Counter.inc``/``dec``/``set``, ``KeyedCounter.inc``) are lock-free and
keep the GIL; snapshots, probe runs and registrations release it.
"""

from ._core import (
    Clock,
    Counter,
    Gauge,
    Histogram,
    HttpHandler,
    Kind,
    KindError,
    KeyedCounter,
    ManualClock,
    Meter,
    Probe,
    ProbeReport,
    Registry,
    SharedStoreError,
    Status,
    SteadyClock,
    Timer,
    TimerContext,
    __version__,
    default_clock,
    remove_shared,
    shared_path,
    to_json,
    worst,
)
from .asgi import AsgiApp, asgi_app
from .exposition import push, pushgateway_path, write_textfile
from .server import StatusServer, serve
from .wsgi import WsgiApp, wsgi_app

__all__ = [
    "AsgiApp",
    "Clock",
    "Counter",
    "Gauge",
    "Histogram",
    "HttpHandler",
    "KeyedCounter",
    "Kind",
    "KindError",
    "ManualClock",
    "Meter",
    "Probe",
    "ProbeReport",
    "Registry",
    "SharedStoreError",
    "Status",
    "StatusServer",
    "SteadyClock",
    "Timer",
    "TimerContext",
    "__version__",
    "default_clock",
    "remove_shared",
    "serve",
    "shared_path",
    "to_json",
    "worst",
    "WsgiApp",
    "asgi_app",
    "push",
    "pushgateway_path",
    "write_textfile",
    "wsgi_app",
]
