"""The demo service: a simulated chatbot platform instrumented with statusz.

It registers what the seed document shows: the volumes, the nine
applications with probes (some slow, ``router`` flapping to Warning), the
``chatHttp`` successes / errors / ignored meters fed at realistic rates by a
background thread, errors by bot id, the 5-minute errors ratio, and the
applications' ``customs.sessions``. With ``latency=True`` (``statusz demo
--latency``) it also times each simulated chatHttp request in a Timer at
``applications.servlet.requests.chatHttp.latency``; by default the document
keeps the seed's exact shape.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Optional

from ._core import Clock, Registry, Status

__all__ = ["APPLICATIONS", "BOTS", "DemoPlatform"]

APPLICATIONS = (
    "runtime", "dialog", "slogger", "website", "servlet",
    "sso", "router", "livechat", "analytic",
)

BOTS = (
    "0df33792-2271-472b-a817-bb0f556c016d",
    "3c1556aa-c715-464e-8d0d-9655399c2323",
    "84e8cb21-ef29-4334-ac6b-027d61803807",
    "c868780f-78d4-44be-a369-d0922d0f3ede",
    "5826436b-01e8-4ce0-adc9-206e7d639aa6",
    "dfe48d5d-ab32-48be-a26e-1fe3eb3cc1ec",
    "1d332804-adc4-4e12-88b9-cbb0ef3a6a87",
    "1793f1cb-17dd-46d6-9f3e-7987e07dbd20",
)

# Probe run times (seconds) of the sample, roughly: some are slow.
_PROBE_SECONDS = {
    "runtime": 0.040, "dialog": 0.060, "slogger": 0.033, "website": 0.054,
    "servlet": 0.062, "sso": 0.042, "router": 0.002, "livechat": 0.011,
    "analytic": 0.007,
}


class DemoPlatform:
    """A Registry filled like the seed document, plus a traffic simulator.

    ``start()`` starts the traffic thread, ``stop()`` stops it. Rates follow
    the sample: ~6 successes/s, ~2 ignored/s, errors now and then, spread
    over the bots. ``router`` reports Warning one minute in five.
    """

    def __init__(
        self,
        registry: Optional[Registry] = None,
        *,
        clock: Optional[Clock] = None,
        seed: Optional[int] = None,
        probe_delay: bool = True,
        latency: bool = False,
    ) -> None:
        if registry is None:
            registry = Registry(
                clock=clock,
                host_name=None,
                version="49.2470 statusz-demo",
            )
        self.registry = reg = registry
        self._rng = random.Random(seed)
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._started = time.monotonic()

        volumes = {"connectedPeople": 9, "connectedOperators": 3,
                   "currentDialogs": 273, "currentLivechatDialogs": 1}
        self.volumes = {name: reg.counter(f"volumes.{name}") for name in volumes}
        for name, value in volumes.items():
            self.volumes[name].set(value)

        for app in APPLICATIONS:
            reg.probe(f"applications.{app}", timeout=2.0)(self._probe_for(app, probe_delay))

        chat = "applications.servlet.requests.chatHttp"
        self.successes = reg.meter(f"{chat}.successes")
        self.errors = reg.meter(f"{chat}.errors")
        self.errors_by_bot = reg.keyed(f"{chat}.errorsByBot")
        self.ignored = reg.meter(f"{chat}.ignored")
        reg.ratio(f"{chat}.fiveMinuteErrorsRatio", errors=self.errors, successes=self.successes)
        self.latency = reg.timer(f"{chat}.latency") if latency else None

        self.sessions = {}
        for app in ("website", "servlet", "router", "livechat", "analytic"):
            self.sessions[app] = reg.counter(f"applications.{app}.customs.sessions")
        for app, value in {"website": 16, "servlet": 0, "router": 4,
                           "livechat": 168, "analytic": 0}.items():
            self.sessions[app].set(value)

    def _probe_for(self, app: str, delay: bool):
        seconds = _PROBE_SECONDS[app]

        def probe():
            if delay:
                time.sleep(seconds * (0.5 + self._rng.random()))
            if app == "router" and int((time.monotonic() - self._started) // 60) % 5 == 4:
                return Status.WARNING, "routing table refresh is late"
            return Status.OK

        probe.__name__ = f"{app}_probe"
        return probe

    def step(self, seconds: float) -> None:
        """Simulates `seconds` of traffic at once (no sleeping)."""
        rng = self._rng
        successes = _poisson(rng, 6.0 * seconds)
        ignored = _poisson(rng, 2.0 * seconds)
        errors = _poisson(rng, 0.3 * seconds)
        if successes:
            self.successes.mark(successes)
        if self.latency is not None:
            # Log-normal request times: ~40 ms median, a slow tail.
            for _ in range(successes + errors):
                self.latency.update_ns(int(rng.lognormvariate(17.5, 0.6)))
        if ignored:
            self.ignored.mark(ignored)
        for _ in range(errors):
            self.errors.mark()
            # A few bots cause most errors.
            bot = BOTS[min(int(rng.expovariate(0.6)), len(BOTS) - 1)]
            self.errors_by_bot.inc(bot)
        people = self.volumes["connectedPeople"]
        people.set(max(0, people.value + rng.choice((-1, 0, 0, 1))))
        dialogs = self.volumes["currentDialogs"]
        dialogs.set(max(0, dialogs.value + rng.randint(-3, 3)))

    def _run(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(0.1):
            now = time.monotonic()
            self.step(now - last)
            last = now

    def start(self) -> "DemoPlatform":
        """Starts feeding traffic from a daemon thread."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="statusz-demo", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stops the traffic thread."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method for small means, normal beyond)."""
    if mean <= 0:
        return 0
    if mean > 50:
        return max(0, int(round(rng.gauss(mean, mean ** 0.5))))
    limit, k, p = pow(2.718281828459045, -mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1
