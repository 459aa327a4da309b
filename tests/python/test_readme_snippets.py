"""The Python snippets of README.md and python/README.md, run as they stand.

Each snippet follows a marker line ``<!-- snippet: NAME -->`` in its
document; the fenced block after it is extracted and executed, so editing
the document changes what is tested. The only liberty taken: the README's
``statusz.serve(reg, port=8080)`` is given a free port instead of 8080 (a
demo may be running on this machine), and the test then asks that server
for the document the snippet built.
"""

import json
import re
import urllib.request

import pytest

import statusz
from conftest import REPO


def snippet(document, name):
    """The fenced code block that follows ``<!-- snippet: name -->``."""
    text = (REPO / document).read_text(encoding="utf-8")
    match = re.search(
        r"^<!-- snippet: " + re.escape(name) + r" -->\n```[a-z]*\n(.*?)^```$",
        text, re.M | re.S)
    assert match, f"{document} has no snippet {name!r}"
    return match.group(1)


def run(code, document):
    namespace = {"__name__": "snippet"}
    exec(compile(code, document, "exec"), namespace)  # noqa: S102 (our own README)
    return namespace


def test_readme_python_quick_start(monkeypatch):
    asked = []
    real_serve = statusz.serve

    def serve(registry, *args, port=8080, **kwargs):
        asked.append(port)
        return real_serve(registry, *args, port=0, **kwargs)

    monkeypatch.setattr(statusz, "serve", serve)
    ns = run(snippet("README.md", "python-quick-start"), "README.md")
    server = ns["server"]
    try:
        assert asked == [8080]
        with urllib.request.urlopen(
                server.url + "/serverstatus?details=true", timeout=30) as r:
            doc = json.load(r)
    finally:
        server.close()
    chat = doc["applications"]["servlet"]["requests"]["chatHttp"]
    assert chat["successes"]["count"] == 1
    assert doc["applications"]["runtime"]["status"] == "Ok"
    assert doc["status"] == "Ok"
    assert (doc["hostName"], doc["version"]) == ("app1", "49.2470")


def test_python_readme_example():
    ns = run(snippet("python/README.md", "python-example"), "python/README.md")
    rendered = json.loads(ns["body"])
    doc = ns["doc"]
    for d in (rendered, doc):
        chat = d["applications"]["servlet"]["requests"]["chatHttp"]
        assert chat["successes"]["count"] == 1
        assert chat["errors"]["count"] == 1
        assert chat["errorsByBot"] == {"0df33792-2271-472b-a817-bb0f556c016d": 1}
        assert 0 <= chat["fiveMinuteErrorsRatio"] <= 1
        assert d["volumes"]["connectedPeople"] == 1
        assert d["applications"]["runtime"]["status"] == "Ok"
        assert d["hostName"] == "app1.earth.doyoudreamup.com"
        assert d["version"] == "49.2470 a543dff5"
    assert list(rendered) == list(doc)  # same members, same order


@pytest.mark.parametrize("document", ["README.md", "python/README.md"])
def test_every_python_block_is_a_tested_snippet(document):
    """A new Python block in a README must be marked, and so tested here."""
    text = (REPO / document).read_text(encoding="utf-8")
    blocks = re.findall(r"^(.*)\n```python\n", text, re.M)
    assert blocks, document
    for before in blocks:
        assert before.startswith("<!-- snippet: "), (document, before)
    # python-frameworks: test_wsgi_asgi.py; python-cron: test_push_textfile.py;
    # python-kubernetes-health: test_health.py; python-timers:
    # test_timer_histogram.py.
    tested = {"README.md": {"python-quick-start", "python-frameworks", "python-cron",
                            "python-kubernetes-health", "python-timers"},
              "python/README.md": {"python-example"}}[document]
    marked = set(re.findall(r"^<!-- snippet: (python-[a-z-]+) -->$", text, re.M))
    assert marked == tested, (document, marked)
