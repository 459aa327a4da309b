"""docs/serverstatus.md agrees with what statusz renders: its member table
lists the document's top-level members in the rendered order, its meter
shape is a meter's, its statuses are statusz.Status in order, and its
details=false list is what a summary keeps."""

import json
import re

import statusz
from conftest import REPO, build_sample, load_sample

DOC = (REPO / "docs" / "serverstatus.md").read_text(encoding="utf-8")


def section(title):
    match = re.search(r"^## " + title + r"\n(.*?)(?=^## |\Z)", DOC, re.M | re.S)
    assert match, title
    return match.group(1)


def rendered_sample(details=True):
    reg = statusz.Registry(clock=statusz.ManualClock(), host_name="h", version="v")
    build_sample(reg, load_sample())
    return json.loads(reg.to_json(details=details))


def test_member_table_lists_the_top_level_members_in_order():
    rows = re.findall(r"^\| `([A-Za-z]+)` \|", section("Members"), re.M)
    assert rows == list(rendered_sample())
    assert rows == list(load_sample())


def test_member_table_covers_every_member_of_the_sample():
    table = section("Members")
    sample = load_sample()
    for app, body in sample["applications"].items():
        for member in body:
            assert f"`applications.X.{member}`" in table or member == "requests"
    chat = sample["applications"]["servlet"]["requests"]["chatHttp"]
    for member in chat:
        assert re.search(r"chatHttp\.[^|]*\b" + member + r"\b", table), member
    for name in sample["volumes"]:
        assert f"`{name}`" in table


def test_meter_shape_is_a_meters_snapshot():
    shape = re.search(r"^`(\{\"fiveMinuteRate\".*\})`:$", section("Meters"), re.M)
    assert shape
    keys = re.findall(r'"(\w+)"', shape.group(1))
    assert set(keys) == set(statusz.Meter().snapshot())
    chat = rendered_sample()["applications"]["servlet"]["requests"]["chatHttp"]
    assert list(chat["successes"]) == keys


def test_statuses_best_to_worst():
    text = section("Statuses")
    named = re.search(r"from best to worst: `(\w+)`, `(\w+)`, `(\w+)`, `(\w+)`", text)
    assert named
    assert list(named.groups()) == [str(s) for s in sorted(statusz.Status)]


def test_details_false_keeps_what_the_document_says():
    text = " ".join(section("Details").split())
    kept = re.search(r"`details=false`, the default, keeps only (.*?), and `applications`", text)
    assert kept
    names = re.findall(r"`(\w+)`", kept.group(1))
    summary = rendered_sample(details=False)
    assert set(summary) == set(names) | {"applications"}
    for body in summary["applications"].values():
        assert list(body) == ["status"]


def test_readme_lists_every_cmake_option():
    cmake = (REPO / "CMakeLists.txt").read_text(encoding="utf-8")
    options = re.findall(r"^option\((STATUSZ_\w+)", cmake, re.M)
    options += re.findall(r'^set\((STATUSZ_\w+) "[^"]*" CACHE', cmake, re.M)
    assert len(options) >= 8
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\nCMake options:\n", 1)[1].split("\n## ", 1)[0]
    table = re.findall(r"^\| `(STATUSZ_\w+)` \|", section, re.M)
    assert sorted(table) == sorted(options)
