"""Kubernetes-style health: probe groups (Registry.probe(groups=...)) and
GET /livez and /readyz through statusz.serve(), the WSGI app and the ASGI
app, all answered by the C++ handler (kube-apiserver's body format)."""

import threading

import pytest

import statusz

from test_gzip import via_asgi, via_server, via_wsgi


@pytest.fixture(params=[via_server, via_wsgi, via_asgi], ids=["serve", "wsgi", "asgi"])
def frontend(request):
    """Makes the frontend's client for a registry and the app's options:
    get(method, target, headers) -> (status, lower-cased headers, body)."""
    closers = []

    def make(reg, **options):
        do, close = request.param(reg, **options)
        closers.append(close)
        return do
    yield make
    for close in closers:
        close()


def test_a_probe_failing_only_in_live_affects_livez_not_readyz(frontend, reg):
    reg.probe("loop", lambda: (statusz.Status.KO, "event loop stuck"), groups=("live",))
    reg.probe("db", lambda: statusz.Status.OK)  # no groups: ready
    reg.probe("cache", lambda: (statusz.Status.WARNING, "slow"), groups=["live", "ready"])
    get = frontend(reg)

    status, headers, body = get("GET", "/livez", {})
    assert status == 503
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert body == b"[-]loop failed: event loop stuck\n[+]cache ok\nlivez check failed\n"

    status, _, body = get("GET", "/readyz", {})
    assert (status, body) == (200, b"ok")
    status, _, body = get("GET", "/readyz?verbose", {})
    assert (status, body) == (200, b"[+]db ok\n[+]cache ok\nreadyz check passed\n")
    # /healthz is unchanged: every probe.
    assert get("GET", "/healthz", {})[0] == 503


def test_a_probe_failing_only_in_ready_affects_readyz_not_livez(frontend, reg):
    reg.probe("db", lambda: statusz.Status.UNKNOWN, groups=["ready"])
    reg.probe("loop", lambda: statusz.Status.OK, groups=["live"])
    get = frontend(reg)
    assert get("GET", "/livez", {})[:3:2] == (200, b"ok")
    status, _, body = get("GET", "/readyz", {})
    assert status == 503
    assert body == b"[-]db failed: Unknown\nreadyz check failed\n"


def test_empty_groups_pass(frontend, reg):
    get = frontend(reg)
    assert get("GET", "/livez", {})[::2] == (200, b"ok")
    assert get("GET", "/readyz?verbose", {})[::2] == (200, b"readyz check passed\n")


def test_exclude_leaves_checks_out_and_warns_about_unknown_ones(frontend, reg):
    runs = []
    reg.probe("db", lambda: runs.append(1) or statusz.Status.KO)
    reg.probe("disk", lambda: statusz.Status.OK)
    get = frontend(reg)
    status, _, body = get("GET", "/readyz?verbose&exclude=db&exclude=nope", {})
    assert status == 200
    assert body == (b"[+]db excluded: ok\n[+]disk ok\n"
                    b'warn: some health checks cannot be excluded: no matches for "nope"\n'
                    b"readyz check passed\n")
    assert runs == []
    assert get("GET", "/readyz", {})[0] == 503
    assert runs == [1]


def test_head_is_get_without_the_body(frontend, reg):
    reg.probe("db", lambda: statusz.Status.KO, groups=("live",))
    get = frontend(reg)
    status, headers, body = get("GET", "/livez", {})
    head_status, head_headers, head_body = get("HEAD", "/livez", {})
    assert (head_status, head_body) == (status, b"")
    assert head_headers["content-length"] == str(len(body)) == headers["content-length"]
    assert get("POST", "/livez", {})[0] == 405


def test_bearer_token_withholds_reasons(frontend, reg):
    reg.probe("db", lambda: (statusz.Status.KO, "password rejected"))
    get = frontend(reg, bearer_token="s3cret")
    status, _, body = get("GET", "/readyz", {})
    assert status == 503
    assert body == b"[-]db failed: reason withheld\nreadyz check failed\n"
    _, _, body = get("GET", "/readyz", {"Authorization": "Bearer s3cret"})
    assert body == b"[-]db failed: password rejected\nreadyz check failed\n"


def test_probes_run_with_their_timeouts(reg, clock):
    """The groups' probes go through the same runner as /healthz: a probe
    that does not answer within its timeout is UNKNOWN, so not ready."""
    release = threading.Event()
    reg.probe("slow", lambda: release.wait() and statusz.Status.OK, timeout=0.05,
              groups=("ready",))
    handler = statusz.HttpHandler(reg)
    try:
        result = {}
        t = threading.Thread(target=lambda: result.update(
            r=handler.handle("GET", "/readyz", [])))
        t.start()
        # The registry's clock is a ManualClock: the timeout passes when it
        # is advanced, not by sleeping.
        while t.is_alive():
            clock.advance(0.1)
            t.join(0.01)
        status, _, _, body = result["r"]
        assert status == 503
        assert body == b"[-]slow failed: no answer within 50 ms\nreadyz check failed\n"
    finally:
        release.set()


def test_groups_are_validated():
    reg = statusz.Registry()
    with pytest.raises(ValueError, match="readiness"):
        reg.probe("db", lambda: statusz.Status.OK, groups=("readiness",))
    assert "db" not in reg
    with pytest.raises(TypeError):
        reg.probe("db", lambda: statusz.Status.OK, groups="live")  # not a str
    # The decorator form passes groups on.

    @reg.probe("loop", groups=("live",))
    def loop():
        return statusz.Status.KO
    handler = statusz.HttpHandler(reg)
    assert handler.handle("GET", "/livez", [])[0] == 503
    assert handler.handle("GET", "/readyz", [])[0] == 200


def test_readme_kubernetes_snippets(monkeypatch):
    """README's Kubernetes health snippets as they stand: the Python one
    builds and serves a registry (on a free loopback port instead of
    0.0.0.0:8080), and each probe of the pod spec, asked at its httpGet
    path, answers 200 from it: liveness and startup at /livez, readiness at
    /readyz."""
    import urllib.request

    import yaml
    from test_readme_snippets import run, snippet

    servers = []
    real_serve = statusz.serve

    def serve(reg, host="127.0.0.1", port=8080, **kw):
        assert (host, port) == ("0.0.0.0", 8080)
        servers.append(real_serve(reg, port=0, **kw))
        return servers[-1]
    monkeypatch.setattr(statusz, "serve", serve)
    ns = run(snippet("README.md", "python-kubernetes-health"), "README.md")
    try:
        (server,) = servers
        (container,) = yaml.safe_load(snippet("README.md", "k8s-probes"))["containers"]
        paths = {kind: container[kind]["httpGet"]["path"]
                 for kind in ("startupProbe", "livenessProbe", "readinessProbe")}
        assert paths == {"startupProbe": "/livez", "livenessProbe": "/livez",
                         "readinessProbe": "/readyz"}
        for kind, path in paths.items():
            assert container[kind]["httpGet"]["port"] == 8080
            with urllib.request.urlopen(server.url + path, timeout=30) as r:
                assert (r.status, r.read()) == (200, b"ok"), kind
        # The snippet's groups: the worker is in both, the db in ready only.
        with urllib.request.urlopen(server.url + "/livez?verbose", timeout=30) as r:
            assert r.read() == b"[+]applications.worker ok\nlivez check passed\n"
        with urllib.request.urlopen(server.url + "/readyz?verbose", timeout=30) as r:
            assert r.read() == (b"[+]applications.db ok\n[+]applications.worker ok\n"
                                b"readyz check passed\n")
        reg = ns["reg"]
        assert reg.kind("applications.db") == statusz.Kind.GROUP
    finally:
        for s in servers:
            s.close()
