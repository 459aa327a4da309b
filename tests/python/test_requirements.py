"""tests/requirements.txt (what scripts/setup installs into .venv) carries
pyproject.toml's build requirements: the scripts build without isolation."""

import re

from conftest import REPO


def test_requirements_carry_the_build_requirements():
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    block = re.search(r"^\[build-system\]\nrequires = \[(.*?)\]", pyproject, re.M | re.S)
    assert block, "no [build-system] requires in pyproject.toml"
    build = set(re.findall(r'"([^"]+)"', block.group(1)))
    assert build, block.group(0)
    lines = (REPO / "tests" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    requirements = {ln.split("#")[0].strip() for ln in lines} - {""}
    assert build <= requirements, build - requirements
