"""fork(): a forked child is a fully working statusz process. Its clock
ticks (a ticker thread of its own), its probes run, its counts start from
what the parent had at the fork. Each scenario runs in a fresh interpreter
(which forks), with the exit code and values checked."""

import json
import subprocess
import sys
import textwrap
import time

PRELUDE = """
import json, os, sys, time, statusz

def fork_and_collect(child):
    # Runs child() in a forked child; returns its JSON result (or raises).
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        code = 0
        try:
            os.write(w, json.dumps(child()).encode())
        except BaseException as e:
            os.write(w, json.dumps({"error": repr(e)}).encode())
            code = 1
        os.close(w)
        os._exit(code)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    _, status = os.waitpid(pid, 0)
    result = json.loads(data)
    assert os.waitstatus_to_exitcode(status) == 0, result
    return result
"""


def run(code, timeout=60):
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(code)],
        capture_output=True, text=True, timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "", proc.stderr
    return json.loads(proc.stdout), time.monotonic() - t0


def test_rates_in_a_forked_child_are_right():
    # The scenario: the default clock's ticker runs before the fork;
    # in both processes a new meter counts 10 events in its first 5 s
    # interval and 100 in the second. Read at 6.5 s, the one-minute rate is
    # the first interval's: 10 / 5 s = 2.0 (a child without a ticker read
    # 22.0: every event folded into the first interval). Real sleeps: this is
    # about the real ticker thread after a real fork.
    result, elapsed = run("""
        statusz.Meter().mark()  # the ticker runs
        def scenario():
            m = statusz.Meter()
            m.mark(10)
            time.sleep(5.5)
            m.mark(100)
            time.sleep(1.0)
            return {"rate": m.one_minute_rate, "count": m.count}
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.write(w, json.dumps(scenario()).encode())
            os._exit(0)
        parent = scenario()
        _, status = os.waitpid(pid, 0)
        child = json.loads(os.read(r, 4096))
        assert os.waitstatus_to_exitcode(status) == 0
        print(json.dumps({"parent": parent, "child": child}))
    """)
    assert result["parent"] == {"rate": 2.0, "count": 110}
    assert result["child"] == {"rate": 2.0, "count": 110}
    assert elapsed < 15


def test_children_run_their_probes_and_count_from_the_fork():
    result, elapsed = run("""
        reg = statusz.Registry()
        hits = reg.meter("hits")
        keyed = reg.keyed("bots")
        runs = []
        def probe():
            runs.append(os.getpid())
            return statusz.Status.OK, f"pid {os.getpid()}"
        reg.probe("applications.db", probe, timeout=5.0)
        hits.mark(7)
        keyed.inc("a", 3)
        assert reg.status() == statusz.Status.OK  # ran in the parent
        out = []
        for i in range(5):
            def child():
                t0 = time.monotonic()
                doc = reg.snapshot()
                took = time.monotonic() - t0
                hits.mark(i)
                keyed.inc("b")
                return {"status": doc["status"],
                        "db": doc["applications"]["db"]["status"],
                        "ran_here": os.getpid() in runs,
                        "took": took,
                        "count": hits.count,
                        "keyed": dict(keyed)}
            out.append(fork_and_collect(child))
            hits.mark()
        print(json.dumps({"children": out, "parent": hits.count}))
    """)
    for i, child in enumerate(result["children"]):
        assert child["status"] == "Ok"
        assert child["db"] == "Ok"
        assert child["ran_here"] is True
        assert child["took"] < 1.0  # no timeout waited for
        # Counts: what the parent had at the fork (7 + one per earlier
        # iteration), then the child's own marks.
        assert child["count"] == 7 + i + i
        assert child["keyed"] == {"a": 3, "b": 1}
    assert result["parent"] == 7 + 5  # children's marks stay in the children
    assert elapsed < 20


def test_forking_repeatedly_while_threads_mark_and_render():
    result, _ = run("""
        import threading
        reg = statusz.Registry()
        hits = reg.meter("hits")
        reg.probe("ok", lambda: statusz.Status.OK, timeout=5.0)
        stop = threading.Event()
        marked = [0, 0]
        def writer(i):
            while not stop.is_set():
                hits.mark()
                marked[i] += 1
        def reader():
            while not stop.is_set():
                reg.to_json()
        threads = [threading.Thread(target=writer, args=(i,)) for i in range(2)]
        threads.append(threading.Thread(target=reader))
        for t in threads:
            t.start()
        children = []
        for i in range(10):
            def child():
                before = hits.count
                hits.mark(5)
                doc = json.loads(reg.to_json())
                return {"exact": hits.count == before + 5,
                        "doc_count": doc["hits"]["count"] == before + 5,
                        "status": doc["status"]}
            children.append(fork_and_collect(child))
        stop.set()
        for t in threads:
            t.join()
        print(json.dumps({"children": children,
                          "exact": hits.count == sum(marked)}))
    """)
    assert result["exact"] is True
    for child in result["children"]:
        assert child == {"exact": True, "doc_count": True, "status": "Ok"}
