"""The package itself: version, docstrings, type stubs, py.typed."""

import ast
import importlib.metadata
import inspect
import pathlib
import re

import statusz
from statusz import _core
from conftest import REPO

PACKAGE_DIR = pathlib.Path(statusz.__file__).resolve().parent


def test_version_agrees_with_the_metadata_and_the_header():
    assert statusz.__version__ == _core.__version__
    assert statusz.__version__ == importlib.metadata.version("statusz")
    header = REPO / "include" / "statusz" / "version.hpp"
    text = header.read_text()
    parts = [re.search(rf"#define STATUSZ_VERSION_{p} (\d+)", text).group(1)
             for p in ("MAJOR", "MINOR", "PATCH")]
    assert statusz.__version__ == ".".join(parts)


def test_all_exports_the_whole_extension():
    public = {n for n in dir(_core) if not n.startswith("_")} | {"__version__"}
    assert public <= set(statusz.__all__)
    for name in public:
        assert getattr(statusz, name) is getattr(_core, name)
    for name in statusz.__all__:
        assert hasattr(statusz, name), name


def own_doc(obj, name):
    """obj's docstring without pybind11's leading signature line(s)."""
    doc = inspect.getdoc(obj) or ""
    lines = [ln for ln in doc.splitlines()
             if not re.match(rf"^(\d+\. )?{re.escape(name)}\(.*\)( -> .*)?$", ln)
             and ln.strip() not in ("Overloaded function.", "")]
    return "\n".join(lines).strip()


def public_members(cls):
    for name, value in vars(cls).items():
        if name.startswith("_") and name not in ("__init__", "__str__"):
            continue
        if name.startswith("_pybind11") or name == "__init__" and cls in (
                statusz.Clock, statusz.ProbeReport):
            continue
        yield name, value


def test_every_public_name_has_a_docstring():
    missing = []
    for name in statusz.__all__:
        obj = getattr(statusz, name)
        if name == "__version__":
            continue
        if not own_doc(obj, name):
            missing.append(name)
        if inspect.isclass(obj):
            for member, value in public_members(obj):
                if isinstance(value, (str, int)):
                    continue  # OVERFLOW_KEY and the like
                if isinstance(value, staticmethod):
                    value = value.__func__
                if not own_doc(value, member):
                    missing.append(f"{name}.{member}")
    assert not missing, f"no docstring: {missing}"


def stub_tree():
    return ast.parse((PACKAGE_DIR / "_core.pyi").read_text())


def stub_names(body):
    names = {}
    for node in body:
        if isinstance(node, ast.ClassDef):
            names[node.name] = node
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.setdefault(node.name, node)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = node
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    names[t.id] = node
    return {n: v for n, v in names.items()
            if not n.startswith("_") or n in ("__version__", "__init__")}


def test_stubs_name_exactly_the_module_contents():
    stubs = stub_names(stub_tree().body)
    runtime = {n for n in dir(_core) if not n.startswith("_")} | {"__version__"}
    assert set(stubs) == runtime


def test_stub_classes_have_exactly_the_runtime_members():
    stubs = stub_names(stub_tree().body)
    for name, node in stubs.items():
        if not isinstance(node, ast.ClassDef):
            continue
        cls = getattr(_core, name)
        declared = set(stub_names(node.body)) - {"__init__"}
        declared -= {"__lt__", "__le__", "__gt__", "__ge__", "__int__", "__getitem__",
                     "__contains__", "__len__", "__iter__"}
        actual = {m for m, _ in public_members(cls)} - {"__init__", "__str__"}
        if cls is statusz.KindError:  # attributes of the instances raised
            reg = statusz.Registry()
            reg.meter("a")
            try:
                reg.counter("a")
            except statusz.KindError as e:
                actual = set(vars(e))
        assert declared == actual, name
        # Dunder protocols the stubs promise exist at runtime.
        for dunder in {n for n in stub_names(node.body) if n.startswith("__")}:
            assert hasattr(cls, dunder), f"{name}.{dunder}"


def test_stub_signatures_of_the_fast_methods():
    """The hand-written methods carry text signatures: they match the stubs."""
    stubs = stub_names(stub_tree().body)
    for cls_name, method in [("Meter", "mark"), ("Counter", "inc"), ("Counter", "dec"),
                             ("Counter", "set"), ("KeyedCounter", "inc")]:
        runtime = inspect.signature(getattr(getattr(_core, cls_name), method))
        stub = stub_names(stubs[cls_name].body)[method]
        stub_params = [a.arg for a in stub.args.args]
        assert list(runtime.parameters) == stub_params, (cls_name, method)


def test_py_typed_is_shipped():
    assert (PACKAGE_DIR / "py.typed").is_file()
    assert (PACKAGE_DIR / "_core.pyi").is_file()


def test_mypy_stubtest_finds_the_stubs_consistent():
    """python/README.md's stub check, as it documents it: mypy's stubtest
    against the built extension, with the allowlist of pybind11's own
    differences (the metaclass of each bound class, for one)."""
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "statusz._core",
         "--allowlist", str(REPO / "python" / "stubtest-allowlist.txt")],
        capture_output=True, text=True, timeout=600, cwd=REPO)
    assert run.returncode == 0, run.stdout + run.stderr
