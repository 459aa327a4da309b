"""Randomised hostile input: keys, paths and gauge values of every kind.
The JSON always parses and keeps every key; both prometheus_client parsers
accept the exposition and read every key back as a label value."""

import json
import math
import random

from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_openmetrics,
)
from prometheus_client.parser import text_string_to_metric_families as parse_text

import statusz

ALPHABET = ['"', "\\", "\n", "\r", "\t", "\x00", "\x01", "\x7f", "{", "}", "=", ",",
            " ", "#", "a", "Z", "0", "_", ".", "é", "€", "😀", "\u2028", "\ud800"]
VALUES = [0.0, -0.0, 1.5, -2.25, 1e308, -1e-308, math.nan, math.inf, -math.inf,
          2**62, -(2**62), True, False, "text"]


def random_text(rng, n, surrogates=True):
    alphabet = ALPHABET if surrogates else [c for c in ALPHABET if c != "\ud800"]
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(n)))


def expected_key(key):
    # A lone surrogate is not UTF-8: its three bytes are stored as U+FFFD each.
    return "".join("\ufffd" * 3 if 0xD800 <= ord(c) <= 0xDFFF else c for c in key)


def test_random_hostile_registries_render_parseably():
    for seed in range(60):
        rng = random.Random(seed)
        clock = statusz.ManualClock()
        reg = statusz.Registry(clock=clock, host_name=random_text(rng, 8, False) or "h",
                               version=random_text(rng, 8, False))
        keyed = reg.keyed("hostile.byKey", max_keys=50)
        keys = set()
        for _ in range(rng.randrange(1, 80)):
            key = random_text(rng, 12)
            keyed.inc(key, rng.randrange(1, 1000))
            keys.add(expected_key(key))
        for i in range(rng.randrange(5)):
            value = rng.choice(VALUES)
            reg.gauge(f"hostile.gauge{i}", lambda v=value: v)
        reg.meter("hostile.meter").mark(rng.randrange(10**6))
        clock.advance(rng.randrange(100))

        doc = json.loads(reg.to_json(details=True, pretty=bool(seed % 2)))
        stored = dict(keyed.items())
        assert set(doc["hostile"]["byKey"]) == set(stored)
        admitted = {k for k in stored if k != statusz.KeyedCounter.OVERFLOW_KEY}
        assert admitted <= keys
        assert len(admitted) == min(len(keys), 50)

        text_samples = {}
        for family in parse_text(reg.to_prometheus(prefix=random_text(rng, 6, False))):
            for s in family.samples:
                if "key" in s.labels:
                    text_samples[s.labels["key"]] = s.value
        assert text_samples == {k: float(v) for k, v in stored.items()}

        om_keys = set()
        for family in parse_openmetrics(reg.to_prometheus(openmetrics=True)):
            for s in family.samples:
                if "key" in s.labels:
                    om_keys.add(s.labels["key"])
        assert om_keys == set(stored)
