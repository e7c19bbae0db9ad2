"""The distribution declares what the package imports, and ships what type checkers need.

Airflow happens to install most of what this package imports, so a missing
declaration works on every machine until Airflow drops or caps one of them.
These tests read every module under ``cos_provider/`` (the emulator too: it
ships in the wheel and runs from it) so that the list cannot rot.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from email.parser import Parser
from functools import cache
from importlib.metadata import distribution, packages_distributions
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

import cos_provider
from scripts.dev import UV_VERSION

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = ROOT / "cos_provider"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
LOCK = tomllib.loads((ROOT / "uv.lock").read_text())

TOOL_PLUGINS = {"cos_provider/emulator/pytest_plugin.py": "pytest"}
"""Modules only a tool loads (pytest loads its plugin), mapped to the extra declaring their imports."""

IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError"}


# ------------------------------------------------------------------ reading the code


@dataclass(frozen=True)
class Import:
    path: str
    line: int
    module: str
    optional: bool
    """Inside ``try: ... except ImportError``: an integration used only when installed."""

    def __str__(self) -> str:
        return f"{self.path}:{self.line} imports {self.module}"


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    caught = handler.type
    names = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    return any(isinstance(n, ast.Name) and n.id in IMPORT_ERRORS for n in names)


def third_party_imports(path: Path) -> list[Import]:
    """Absolute imports of non-stdlib modules that run (``if TYPE_CHECKING`` bodies do not)."""
    rel = path.relative_to(ROOT).as_posix()
    found: list[Import] = []

    def record(node: ast.stmt, module: str, optional: bool) -> None:
        if module.split(".")[0] not in (*sys.stdlib_module_names, "cos_provider"):
            found.append(Import(rel, node.lineno, module, optional))

    def visit(node: ast.AST, optional: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child, optional)
            return
        if isinstance(node, ast.Try) and any(_catches_import_error(h) for h in node.handlers):
            for child in node.body:
                visit(child, True)
            for child in (*node.handlers, *node.orelse, *node.finalbody):
                visit(child, optional)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                record(node, alias.name, optional)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            record(node, node.module, optional)
        for child in ast.iter_child_nodes(node):
            visit(child, optional)

    visit(ast.parse(path.read_text(), rel), False)
    return found


@cache
def all_imports() -> tuple[Import, ...]:
    return tuple(i for path in sorted(PACKAGE_DIR.rglob("*.py")) for i in third_party_imports(path))


# ------------------------------------------------------------------ reading the metadata


def requirement_names(requirements: list[str], extra: str = "") -> set[str]:
    env = {**default_environment(), "extra": extra}
    return {
        canonicalize_name(r.name)
        for r in map(Requirement, requirements)
        if r.marker is None or r.marker.evaluate(env)
    }


@cache
def files_of(dist_name: str) -> frozenset[str]:
    return frozenset(str(f) for f in distribution(dist_name).files or ())


@cache
def providers_of(module: str) -> frozenset[str]:
    """The installed distributions that provide ``module``.

    A top-level name that several distributions share (``airflow`` is split
    into core, the task SDK and providers) is resolved to whichever ships the
    module's own file, so ``airflow.providers.x`` is not credited to core.
    """
    candidates = packages_distributions().get(module.split(".")[0], [])
    if len(candidates) <= 1:
        return frozenset(canonicalize_name(c) for c in candidates)
    base = module.replace(".", "/")
    owners = {
        canonicalize_name(c)
        for c in candidates
        if any(f in (f"{base}.py", f"{base}/__init__.py") or f.startswith(f"{base}.") for f in files_of(c))
    }
    return frozenset(owners)


def covered_by(declared: set[str]) -> set[str]:
    """Declared distributions, plus the parts of a declared meta-package.

    ``apache-airflow`` ships no code: it exists to install ``apache-airflow-core``
    and ``apache-airflow-task-sdk``, so declaring it declares them. Only direct
    parts count; what those parts depend on (httpx, tenacity...) must be
    declared by name.
    """
    out = set(declared)
    for name in declared:
        if not any(f.endswith(".py") for f in files_of(name)):
            out |= requirement_names(distribution(name).requires or [])
    return out


DEPENDENCIES = requirement_names(PROJECT["dependencies"])
EXTRAS = {extra: requirement_names(reqs, extra) for extra, reqs in PROJECT["optional-dependencies"].items()}


# ------------------------------------------------------------------ declarations


def test_the_scan_sees_the_imports_it_must():
    """Guards the scanner itself: a regression here would make the tests below pass vacuously."""
    by_module = {i.module: i for i in all_imports()}
    assert {"requests", "httpx", "tenacity", "lxml", "certifi", "airflow.sdk.log"} <= set(by_module)
    assert "airflow.providers.common.compat.sdk" in by_module
    assert by_module["airflow.providers.openlineage.extractors"].optional
    assert by_module["wtforms"].optional  # the connection form of Airflow < 3.2, when FAB is there
    assert not by_module["httpx"].optional
    assert providers_of("airflow.sdk") == {"apache-airflow-task-sdk"}
    assert providers_of("airflow.providers.common.compat.sdk") == {"apache-airflow-providers-common-compat"}
    assert providers_of("airflow.triggers.base") == {"apache-airflow-core"}
    assert providers_of("airflow.providers.common.compat.openlineage.facet") == {
        "apache-airflow-providers-common-compat"
    }
    assert providers_of("lxml.etree") == {"lxml"}


def test_every_runtime_import_is_declared():
    covered = covered_by(DEPENDENCIES)
    problems = []
    for imp in all_imports():
        if imp.path in TOOL_PLUGINS or imp.optional:
            continue
        providers = providers_of(imp.module)
        if not providers:
            problems.append(f"{imp}: no installed distribution provides it (optional? guard the import)")
        elif not providers & covered:
            problems.append(f"{imp}, from {', '.join(sorted(providers))}: not in [project].dependencies")
    assert not problems, "\n".join(problems)


def test_tool_plugins_declare_their_imports_in_an_extra():
    for path, extra in TOOL_PLUGINS.items():
        covered = covered_by(DEPENDENCIES | EXTRAS[extra])
        imports = third_party_imports(ROOT / path)
        assert imports, f"{path} imports nothing third-party: drop it from TOOL_PLUGINS"
        for imp in imports:
            assert providers_of(imp.module) & covered, f"{imp}: not declared in extra {extra!r}"
    plugin_modules = {p.removesuffix(".py").replace("/", ".") for p in TOOL_PLUGINS}
    users = []
    for path in PACKAGE_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            else:
                continue
            if plugin_modules.intersection(names):
                users.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert users == [], "the package itself must not import a plugin whose imports are optional"


def test_every_declared_dependency_is_imported():
    """No stale declarations: each one is there because some module imports it."""
    imported = set().union(*(providers_of(i.module) for i in all_imports() if i.path not in TOOL_PLUGINS))
    unused = sorted(name for name in DEPENDENCIES if not covered_by({name}) & imported)
    assert not unused, f"declared but imported nowhere: {', '.join(unused)}"


# ------------------------------------------------------------------ versions and the lock


DECLARED = [
    *PROJECT["dependencies"],
    *(r for requirements in PROJECT["optional-dependencies"].values() for r in requirements),
]
"""Every requirement, extras included, as written in pyproject.toml."""


def locked_versions(name: str) -> list[Version]:
    return [Version(p["version"]) for p in LOCK["package"] if canonicalize_name(p["name"]) == name]


@pytest.mark.parametrize("requirement", DECLARED)
def test_each_declaration_has_a_floor_that_the_lock_satisfies(requirement):
    req = Requirement(requirement)
    floors = [s for s in req.specifier if s.operator == ">="]
    assert len(floors) == 1, f"{requirement}: declare exactly one '>=' floor"
    assert all(s.operator in (">=", "<", "!=") for s in req.specifier), f"{requirement}: no pins"
    locked = locked_versions(canonicalize_name(req.name))
    assert locked, f"{req.name} is not in uv.lock: run uv lock"
    for version in locked:
        assert version in req.specifier, f"uv.lock has {req.name} {version}, outside {req.specifier}"


def test_the_lock_was_refreshed_after_the_last_dependency_change():
    (entry,) = [p for p in LOCK["package"] if p["name"] == PROJECT["name"]]
    locked = {
        (canonicalize_name(d["name"]), d.get("specifier", "")) for d in entry["metadata"]["requires-dist"]
    }
    declared = {(canonicalize_name(r.name), str(r.specifier)) for r in map(Requirement, DECLARED)}
    assert locked == declared, "pyproject.toml and uv.lock disagree: run uv lock"


def test_the_package_version_is_the_distributions():
    assert cos_provider.__version__ == PROJECT["version"]


# ------------------------------------------------------------------ the wheel


def test_py_typed_marker_is_in_the_packaged_tree():
    marker = PACKAGE_DIR / "py.typed"
    assert marker.is_file() and marker.read_bytes() == b""
    assert PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["cos_provider"]


def find_uv() -> str | None:
    """uv on PATH, or the pinned one that ``scripts/dev.py`` installs next to the environment."""
    candidates = [
        shutil.which("uv"),
        ROOT / ".cache" / f"uv-{UV_VERSION}" / "bin" / "uv",
        Path(sys.prefix).parent / ".cache" / f"uv-{UV_VERSION}" / "bin" / "uv",
    ]
    return next((str(c) for c in candidates if c and Path(c).is_file()), None)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    uv = find_uv()
    assert uv is not None, "uv is not installed: python3 scripts/dev.py setup installs the pinned one"
    out = tmp_path_factory.mktemp("wheel")
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    # Offline: the build backend is in uv's cache since the environment was set up.
    subprocess.run(
        [uv, "build", "--wheel", "--offline", "--quiet", "--out-dir", str(out), str(ROOT)],
        check=True,
        env=env,
        timeout=120,
    )
    (built,) = out.glob("*.whl")
    with zipfile.ZipFile(built) as zf:
        yield zf


def test_wheel_ships_py_typed_and_every_module(wheel):
    names = set(wheel.namelist())
    assert "cos_provider/py.typed" in names
    sources = {
        p.relative_to(ROOT).as_posix() for p in PACKAGE_DIR.rglob("*.py") if "__pycache__" not in p.parts
    }
    assert {n for n in names if n.endswith(".py")} == sources
    assert not [n for n in names if n.startswith(("tests/", "bench/", "scripts/")) or n.endswith(".pyc")]


def test_wheel_metadata_declares_the_dependencies(wheel):
    (metadata_name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    metadata = Parser().parsestr(wheel.read(metadata_name).decode())
    extras = PROJECT["optional-dependencies"]
    assert sorted(metadata.get_all("Requires-Dist")) == sorted(
        [*PROJECT["dependencies"], *(f"{r}; extra == '{e}'" for e, reqs in extras.items() for r in reqs)]
    )
    assert metadata.get_all("Provides-Extra") == list(extras)


# ------------------------------------------------------------------ release metadata


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel, as `uv build` makes them for a release."""
    uv = find_uv()
    assert uv is not None, "uv is not installed: python3 scripts/dev.py setup installs the pinned one"
    out = tmp_path_factory.mktemp("dists")
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    subprocess.run(
        [uv, "build", "--offline", "--quiet", "--out-dir", str(out), str(ROOT)],
        check=True,
        env=env,
        timeout=180,
    )
    return out


def test_licence_and_notice_ship_in_the_wheel_and_the_sdist(dists):
    import tarfile

    (whl,) = dists.glob("*.whl")
    with zipfile.ZipFile(whl) as zf:
        licences = {Path(n).name for n in zf.namelist() if ".dist-info/licenses/" in n}
        metadata = Parser().parsestr(
            zf.read(next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))).decode()
        )
    assert licences == {"LICENSE", "NOTICE"}
    assert metadata["License-Expression"] == "Apache-2.0"
    (sdist,) = dists.glob("*.tar.gz")
    with tarfile.open(sdist) as tf:
        top = {Path(*Path(n).parts[1:]).as_posix() for n in tf.getnames()}
    assert {"LICENSE", "NOTICE", "CHANGELOG.md", "README.md", "docs/pypi-description.md"} <= top
    assert "Apache License" in (ROOT / "LICENSE").read_text()


def test_the_long_description_is_for_someone_running_pip_install(dists):
    (whl,) = dists.glob("*.whl")
    with zipfile.ZipFile(whl) as zf:
        metadata = Parser().parsestr(
            zf.read(next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))).decode()
        )
    body = metadata.get_payload()
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert body.index("pip install airflow-provider-tencent-cos") < body.index("```python")
    assert "not published" not in body.lower()
    links = re.findall(r"\]\(([^)]+)\)", body)
    assert links, "the description links to Airflow and COS"
    assert all(link.startswith("https://") for link in links), links
    assert not metadata.get_all("Project-URL"), "no placeholder URLs: give real ones or none"
    assert metadata["Author"] or metadata["Author-email"]
    assert metadata["Maintainer"] or metadata["Maintainer-email"]


def test_a_classifier_for_each_python_version_the_package_declares():
    from packaging.specifiers import SpecifierSet

    declared = SpecifierSet(PROJECT["requires-python"])
    classified = {
        c.rsplit(" :: ", 1)[1]
        for c in PROJECT["classifiers"]
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    }
    assert classified
    assert all(Version(v) in declared for v in classified)
    floor = min(classified, key=Version)
    assert Version(f"3.{int(floor.split('.')[1]) - 1}") not in declared, "the lowest classifier is the floor"


def test_twine_check_strict_passes(dists):
    """What PyPI will say of the upload: the long description renders, metadata is complete."""
    files = sorted(str(p) for p in [*dists.glob("*.whl"), *dists.glob("*.tar.gz")])
    out = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *files],
        env={**os.environ, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("PASSED") == len(files) == 2, out.stdout
