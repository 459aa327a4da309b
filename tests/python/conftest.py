"""Shared helpers of the statusz Python tests."""

import json
import math
import pathlib

import pytest

import statusz

REPO = pathlib.Path(__file__).resolve().parents[2]
SAMPLE_PATH = REPO / "tests" / "data" / "serverstatus-sample.json"


def load_sample():
    """The seed document, keys in order (dicts keep insertion order)."""
    with open(SAMPLE_PATH, encoding="utf-8") as f:
        return json.load(f)


def build_sample(reg, sample):
    """Registers, in the sample's order, everything the sample shows, with
    its counts; each probe answers the sample's status. Returns the meters
    by path."""
    meters = {}
    for name, value in sample["volumes"].items():
        reg.counter("volumes." + name).set(value)
    for app, body in sample["applications"].items():
        base = "applications." + app
        status = statusz.Status.parse(body["status"])
        reg.probe(base, lambda status=status: status, timeout=60.0)
        for group, metrics in body.get("requests", {}).items():
            prefix = f"{base}.requests.{group}."
            for metric, value in metrics.items():
                path = prefix + metric
                if metric == "errorsByBot":
                    keyed = reg.keyed(path)
                    for bot, n in value.items():
                        keyed.inc(bot, n)
                elif metric == "fiveMinuteErrorsRatio":
                    reg.ratio(path, errors=meters[prefix + "errors"],
                              successes=meters[prefix + "successes"])
                else:
                    meters[path] = reg.meter(path)
                    meters[path].mark(value["count"])
        for name, value in body.get("customs", {}).items():
            reg.counter(f"{base}.customs.{name}").set(value)
    return meters


class EwmaModel:
    """The Dropwizard meter model of the spec, written independently of the
    library: 5 s intervals counted from creation; at each tick
    instant = events in the interval / 5 s; the first tick sets the rate,
    later ones do rate += alpha * (instant - rate), alpha = 1 - exp(-5/60/N);
    an interval without events is a tick with instant 0."""

    def __init__(self, minutes):
        self.alpha = 1.0 - math.exp(-5.0 / 60.0 / minutes)
        self.rate = 0.0
        self.ticked = False

    def tick(self, events):
        instant = events / 5.0
        if not self.ticked:
            self.rate = instant
            self.ticked = True
        else:
            self.rate += self.alpha * (instant - self.rate)


class MeterModel:
    """Events per 5 s interval, ticked into the three averages."""

    def __init__(self):
        self.m1, self.m5, self.m15 = EwmaModel(1), EwmaModel(5), EwmaModel(15)

    def tick(self, events):
        for m in (self.m1, self.m5, self.m15):
            m.tick(events)

    def rates(self):
        return self.m1.rate, self.m5.rate, self.m15.rate


@pytest.fixture
def clock():
    return statusz.ManualClock()


@pytest.fixture
def reg(clock):
    return statusz.Registry(clock=clock, host_name="app1", version="49.2470")
