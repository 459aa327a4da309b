"""Registry.process_metrics(): the process's figures from /proc/self as
gauges of a "process" group, cross-checked against prometheus_client's
process collector (the reference Python implementation)."""

import sys
import threading

import pytest

import statusz

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="process metrics read Linux's /proc")

KEYS = ["cpuSecondsTotal", "residentMemoryBytes", "virtualMemoryBytes", "openFds",
        "maxFds", "startTimeSeconds", "threads"]


def group(reg, name="process"):
    return reg.snapshot()[name]


def test_the_group_in_the_document(reg):
    assert reg.process_metrics() is True
    p = group(reg)
    assert list(p) == KEYS
    assert p["cpuSecondsTotal"] >= 0
    assert 0 < p["residentMemoryBytes"] <= p["virtualMemoryBytes"]
    assert 3 <= p["openFds"] <= p["maxFds"]
    assert p["threads"] >= 1
    assert all(reg.kind(f"process.{k}") is statusz.Kind.GAUGE for k in KEYS)


def test_agrees_with_prometheus_client():
    process_collector = pytest.importorskip("prometheus_client.process_collector")
    reg = statusz.Registry()
    reg.process_metrics()
    before = group(reg)
    ref = {s.name: s.value
           for m in process_collector.ProcessCollector(registry=None).collect()
           for s in m.samples}
    after = group(reg)
    assert after["maxFds"] == ref["process_max_fds"]
    assert after["startTimeSeconds"] == pytest.approx(ref["process_start_time_seconds"], abs=0.011)
    assert before["cpuSecondsTotal"] <= ref["process_cpu_seconds_total"] + 0.011
    assert ref["process_cpu_seconds_total"] <= after["cpuSecondsTotal"] + 0.011
    # Same figures, different files (status kB vs stat pages): a few pages
    # may come and go between the reads.
    assert after["residentMemoryBytes"] == pytest.approx(ref["process_resident_memory_bytes"],
                                                         rel=0.05)
    assert after["virtualMemoryBytes"] == pytest.approx(ref["process_virtual_memory_bytes"],
                                                        rel=0.05)
    assert abs(after["openFds"] - ref["process_open_fds"]) <= 2


def test_read_when_rendered(reg, tmp_path):
    reg.process_metrics()
    fds = group(reg)["openFds"]
    threads = group(reg)["threads"]
    release = threading.Event()
    t = threading.Thread(target=release.wait, args=(30,))
    with open(tmp_path / "f", "w"):
        t.start()
        try:
            p = group(reg)
        finally:
            release.set()
            t.join()
    assert p["openFds"] == fds + 1
    assert p["threads"] == threads + 1


def test_the_exposition_has_the_standard_process_families(reg):
    """The names prometheus_client's ProcessCollector exports, unprefixed, the
    CPU time a counter; read back by both of its parsers."""
    from prometheus_client.openmetrics.parser import text_string_to_metric_families as om_parse
    from prometheus_client.parser import text_string_to_metric_families as text_parse
    reg.process_metrics()
    want = {"process_cpu_seconds": "counter", "process_resident_memory_bytes": "gauge",
            "process_virtual_memory_bytes": "gauge", "process_open_fds": "gauge",
            "process_max_fds": "gauge", "process_start_time_seconds": "gauge",
            "process_threads": "gauge"}
    for text, parse in ((reg.to_prometheus(), text_parse),
                        (reg.to_prometheus(openmetrics=True), om_parse)):
        families = {f.name: f for f in parse(text)}
        for name, kind in want.items():
            assert families[name].type == kind, (name, families[name].type)
        cpu = families["process_cpu_seconds"].samples
        assert [s.name for s in cpu] == ["process_cpu_seconds_total"]
        assert cpu[0].value == pytest.approx(group(reg)["cpuSecondsTotal"], abs=0.5)
        assert not any(n.startswith("statusz_process") for n in families)


def test_another_group_and_errors(reg):
    assert reg.process_metrics("runtime.self") is True
    assert list(group(reg, "runtime")["self"]) == KEYS
    assert "process" not in reg.snapshot()
    reg.counter("taken")
    with pytest.raises(statusz.KindError):
        reg.process_metrics("taken")


def test_promtool_finds_nothing_to_lint(reg):
    import shutil
    import subprocess
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool (Debian package prometheus) is not installed")
    reg.process_metrics()
    r = subprocess.run([promtool, "check", "metrics"], input=reg.to_prometheus(),
                       capture_output=True, text=True, timeout=60)
    complaints = [ln for ln in (r.stdout + r.stderr).splitlines() if ln.strip()]
    assert r.returncode == 0 and complaints == [], complaints
