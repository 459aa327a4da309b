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


def test_the_exposition_has_them(reg):
    reg.process_metrics()
    text = reg.to_prometheus()
    for name in ["statusz_process_cpu_seconds_total", "statusz_process_resident_memory_bytes",
                 "statusz_process_virtual_memory_bytes", "statusz_process_open_fds",
                 "statusz_process_max_fds", "statusz_process_start_time_seconds",
                 "statusz_process_threads"]:
        assert f"# TYPE {name} gauge\n" in text
        assert f"\n{name} " in text


def test_another_group_and_errors(reg):
    assert reg.process_metrics("runtime.self") is True
    assert list(group(reg, "runtime")["self"]) == KEYS
    assert "process" not in reg.snapshot()
    reg.counter("taken")
    with pytest.raises(statusz.KindError):
        reg.process_metrics("taken")


def test_promtool_lints_only_the_cpu_gauges_total_suffix(reg):
    """Until the renderer can emit process_cpu_seconds_total as a counter,
    promtool's lint flags the gauge's _total suffix, and nothing else."""
    import shutil
    import subprocess
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool (Debian package prometheus) is not installed")
    reg.process_metrics()
    r = subprocess.run([promtool, "check", "metrics"], input=reg.to_prometheus(),
                       capture_output=True, text=True, timeout=60)
    complaints = [ln for ln in (r.stdout + r.stderr).splitlines() if ln.strip()]
    assert complaints == ['statusz_process_cpu_seconds_total non-counter metrics '
                          'should not have "_total" suffix'], complaints
