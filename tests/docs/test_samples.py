"""Every fenced block of README.md and docs/*.md is checked, by its language.

* ``python``: compiled; a block that defines a DAG is parsed with Airflow's
  ``DagBag`` (no import errors, at least one DAG); any other block is executed
  against the emulator, with ``cos_default`` pointing at it and the objects or
  local files its setup (``SETUPS``, keyed by the block's marker name) seeds;
  ``call`` code then exercises what the block defined and checks the result.
* ``ini``: parsed with configparser; every ``[section] key`` must be an
  Airflow option (core or a provider's) or one of this provider's own, and a
  value must not carry an inline comment (Airflow would read it as the value).
* ``bash``: ``bash -n``; every ``export AIRFLOW__SECTION__KEY=`` must name a
  real option, and every ``AIRFLOW_CONN_*`` JSON must parse as a connection.
* ``json``: parsed. ``xml``: parsed with lxml.
* ``text``: not code; allowed only with ``skip-run reason=...``.

A block marked ``skip-run`` must give a ``reason=`` and is still syntax-checked.
Any other language fails, so no block goes unchecked.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import APP_ID, SECRET_ID, SECRET_KEY
from tests.docs.samples import Sample, all_samples

SAMPLES = all_samples()
HANDLED = {"python", "ini", "bash", "json", "xml", "text"}

REGION = "ap-guangzhou"
# The buckets the docs' samples use: name -> (region, versioned).
DOC_BUCKETS: dict[str, tuple[str, bool]] = {
    "exports": (REGION, False),
    "archive": ("ap-shanghai", False),
    "warehouse": (REGION, False),
    "staging": (REGION, False),
    "logs": (REGION, False),
    "dags": (REGION, False),
    "media": (REGION, False),
    "media-backup": ("ap-shanghai", False),
}
# This provider's own options (read with conf.get, not declared in Airflow's config).
PROVIDER_OPTIONS = {("tencent_cos", "console_url")}

MIB = 1024 * 1024

# Per-sample setup. seed: objects put in the emulator before the block runs
# (bytes; an int: a synthetic object of that size; a dict: put_object's arguments). files: local files made
# in the block's working directory. call: code run after the block, in its
# namespace (plus ``docs_emu``, the emulator), to exercise and check what it defined.
SETUPS: dict[str, dict[str, Any]] = {
    "conn-local-file": {"call": "assert conn.extra_dejson['app_id'] == '1250000000'"},
    "conn-test": {"call": "assert ok, message"},
    "copy-hook": {
        "seed": {
            "cos://exports-1250000000/day/summary.csv": b"id,city\n1,beijing\n",
            "cos://exports-1250000000/day/data.parquet": 6 * 1024 * MIB,
            "cos://staging-1250000000/incoming/manifest.json": b'{"files": 2}',
        },
        "call": """
            assert small.to_dict()["part_count"] == 0 and big.to_dict()["part_count"] > 1
            assert docs_emu.head("archive-1250000000", "day/data.parquet")["crc64"] == big.to_dict()["crc64"]
            assert docs_emu.head("staging-1250000000", "incoming/manifest.json") is None
            assert docs_emu.head("staging-1250000000", "processed/manifest.json") is not None
        """,
    },
    "dataplane-hook": {
        "call": """
            assert up.parts > 1 and result.ok and len(result.deleted) == 3, (up, result)
            assert Path("copy-of-day.csv").read_bytes() == Path("day.csv").read_bytes()
            assert text == "你好" and docs_emu.head("exports-1250000000", "landing/day.csv") is None
        """,
    },
    "mapped-hook": {
        "seed": {"cos://media-1250000000/raw/camera-01/2026-11-01.mxf": 6 * 1024 * MIB},
        "call": """
            head = docs_emu.head("media-backup-1250000000", "raw/camera-01/2026-11-01.mxf")
            assert head["crc64"] == outcome.to_dict()["crc64"] and len(start.batches) == 4
        """,
    },
    "osp-task": {
        "seed": {"cos://staging-1250000000/incoming/manifest.json": b'{"files": ["a.csv"]}'},
        "call": """
            names, csvs, walked = daily.function()
            assert names == ["big.bin", "manifest.json", "summary.txt"], names
            assert docs_emu.head("warehouse-1250000000", "daily/manifest.json") is not None
        """,
    },
    "emu-inprocess": {
        "call": "assert emu.counters()['faults_injected'] == {'UploadPartCopy': {'internal_error': 2}}"
    },
    "restore-hook": {
        "seed": {"cos://archive-1250000000/cold/2025.csv": {"data": b"a,b\n", "storage_class": "ARCHIVE"}},
        "call": """
            assert (record["status"], state.readable) == ("in_progress", False), (record, state)
            docs_emu.advance_clock(24 * 3600)
            later = hook.get_restore_state("cos://archive/cold/2025.csv", region="ap-shanghai")
            assert later.readable and later.status == "restored", later
        """,
    },
    "bundle-upload": {
        "files": {"my_dag.py": b"# a DAG file\n"},
        "call": "assert docs_emu.head('dags-1250000000', 'airflow/dags/my_dag.py')['size'] == 13",
    },
    "readme-hook-task": {
        "seed": {"cos://exports-1250000000/day/data.parquet": b"PAR1 day data"},
        "call": """
            result = archive.function("day/data.parquet")
            assert result["dest_uri"] == "cos://archive-1250000000/day/data.parquet", result
            assert docs_emu.head("archive-1250000000", "day/data.parquet")["metadata"] == {"city": "beijing"}
        """,
    },
    "copy-replace-metadata": {
        "seed": {"cos://exports-1250000000/day/summary.csv": b"id,city\n1,beijing\n"},
        "call": """
            assert result["metadata"]["owner"] == "etl"
            assert docs_emu.head("exports-1250000000", "day/summary.csv")["content_type"] == "text/csv"
        """,
    },
}


def _is_dag(code: str) -> bool:
    return bool(re.search(r"\bDAG\(|@dag\b", code))


def _params(kind: str) -> list[Any]:
    return [pytest.param(s, id=s.id) for s in SAMPLES if s.lang == kind]


def test_every_block_has_a_handled_language() -> None:
    unhandled = [f"{s.id} ({s.lang or 'no language'})" for s in SAMPLES if s.lang not in HANDLED]
    assert not unhandled, f"fenced blocks no check handles: {unhandled}"
    assert len(SAMPLES) > 20


def test_skipped_runs_say_why() -> None:
    silent = [s.id for s in SAMPLES if (s.skip_run or s.lang == "text") and not s.reason]
    assert not silent, f"blocks marked skip-run (or text) without a reason=: {silent}"
    pointless = [s.id for s in SAMPLES if s.lang not in ("python", "text") and s.skip_run]
    assert not pointless, f"skip-run only applies to python blocks: {pointless}"


def test_every_setup_belongs_to_a_sample() -> None:
    names = {s.name for s in SAMPLES if s.lang == "python"}
    assert not set(SETUPS) - names, f"setups for no sample: {sorted(set(SETUPS) - names)}"


# -- python -------------------------------------------------------------------


@pytest.fixture(scope="module")
def docs_emulator() -> Iterator[Any]:
    from cos_provider.emulator import CosEmulator

    with CosEmulator(credentials={SECRET_ID: SECRET_KEY}) as emu:
        yield emu


@pytest.fixture
def docs_cos(docs_emulator: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    docs_emulator.reset()
    for bucket, (region, versioned) in DOC_BUCKETS.items():
        docs_emulator.create_bucket(f"{bucket}-{APP_ID}", region=region, versioning=versioned)
    conn = {
        "conn_type": "tencent_cos",
        "login": SECRET_ID,
        "password": SECRET_KEY,
        "extra": {"region": REGION, "app_id": APP_ID, "connect_address": docs_emulator.address},
    }
    monkeypatch.setenv("AIRFLOW_CONN_COS_DEFAULT", json.dumps(conn))
    monkeypatch.setenv("AIRFLOW_CONN_COS_LOGS", json.dumps(conn))
    monkeypatch.chdir(tmp_path)
    return docs_emulator


def _seed(emu: Any, setup: dict[str, Any], root: Path) -> None:
    for uri, content in setup.get("seed", {}).items():
        bucket, key = uri.removeprefix("cos://").split("/", 1)
        if isinstance(content, int):
            emu.seed_synthetic(bucket, key, content)
        elif isinstance(content, dict):  # {"data": bytes, "storage_class": ...}
            emu.put_object(bucket, key, **content)
        else:
            emu.put_object(bucket, key, content)
    for rel, content in setup.get("files", {}).items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


@pytest.mark.parametrize("sample", _params("python"))
def test_python(sample: Sample, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    code = compile(sample.code, sample.id, "exec")
    if sample.skip_run:
        return
    if _is_dag(sample.code):
        _parse_dag(sample, tmp_path)
        return
    emu = request.getfixturevalue("docs_cos")
    setup = SETUPS.get(sample.name or "", {})
    _seed(emu, setup, Path.cwd())
    namespace: dict[str, Any] = {"__name__": f"sample_{sample.name or sample.line}"}
    exec(code, namespace)
    if "call" in setup:
        namespace["docs_emu"] = emu
        exec(compile(textwrap.dedent(setup["call"]), f"{sample.id} (call)", "exec"), namespace)
    assert emu.live_uploads() == 0, "a sample left a multipart upload behind"


def _parse_dag(sample: Sample, folder: Path) -> None:
    from airflow.dag_processing.dagbag import DagBag

    path = folder / f"sample_{(sample.name or str(sample.line)).replace('-', '_')}.py"
    path.write_text(sample.code, encoding="utf-8")
    bag = DagBag(dag_folder=str(path))
    assert not bag.import_errors, bag.import_errors
    assert bag.dags, f"{sample.id} defines no DAG"
    for dag in bag.dags.values():
        assert dag.task_dict, f"{sample.id}: DAG {dag.dag_id} has no task"
        env = dag.get_template_env()
        for task in dag.task_dict.values():  # every template must at least compile
            for field in task.template_fields:
                for text in _strings(getattr(task, field, None)):
                    env.parse(text)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


# -- ini ----------------------------------------------------------------------


def _known_option(section: str, key: str) -> bool:
    from airflow.configuration import conf

    return (section, key) in PROVIDER_OPTIONS or conf.has_option(section, key)


@pytest.mark.parametrize("sample", _params("ini"))
def test_ini(sample: Sample) -> None:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(sample.code, source=sample.id)
    assert parser.sections(), f"{sample.id} has no [section]"
    for section in parser.sections():
        for key, value in parser.items(section):
            assert _known_option(section, key), f"{sample.id}: [{section}] {key} is not an Airflow option"
            if value.lstrip().startswith(("[", "{")):  # a JSON value (bundle lists, backend kwargs)
                json.loads(value)
            assert not re.search(r"\s[#;]", value), (
                f"{sample.id}: [{section}] {key} has an inline comment; Airflow reads it as part of the value"
            )


# -- bash ---------------------------------------------------------------------

EXPORT = re.compile(r"\bexport\s+AIRFLOW__([A-Z0-9_]+?)__([A-Z0-9_]+)=")
CONN_EXPORT = re.compile(r"\bexport\s+(AIRFLOW_CONN_[A-Z0-9_]+)=")


def _env_option(section: str, key: str) -> bool:
    """``AIRFLOW__COMMON_IO__X`` may be section ``common_io`` or ``common.io``."""
    lowered = section.lower()
    candidates = {lowered, *(lowered[:i] + "." + lowered[i + 1 :] for i, c in enumerate(lowered) if c == "_")}
    return any(_known_option(s, key.lower()) for s in candidates)


@pytest.mark.parametrize("sample", _params("bash"))
def test_bash(sample: Sample) -> None:
    checked = subprocess.run(["bash", "-n"], input=sample.code, capture_output=True, text=True, check=False)
    assert checked.returncode == 0, f"{sample.id}: bash -n: {checked.stderr}"
    for section, key in EXPORT.findall(sample.code):
        assert _env_option(section, key), f"{sample.id}: AIRFLOW__{section}__{key} is not an Airflow option"
    for line in _logical_lines(sample.code):
        found = CONN_EXPORT.search(line)
        if not found:
            continue
        value = shlex.split(line[found.end() :], comments=True)[0]
        _check_connection(sample, found.group(1), value)


def _logical_lines(code: str) -> list[str]:
    """Lines with quoted newlines and backslash continuations joined, as bash reads them."""
    out, current = [], ""
    for line in code.splitlines():
        current = f"{current}\n{line}" if current else line
        try:
            shlex.split(current, comments=True)
        except ValueError:  # an open quote: the value goes on
            continue
        if current.endswith("\\"):
            current = current[:-1]
            continue
        out.append(current)
        current = ""
    return out


def _check_connection(sample: Sample, name: str, value: str) -> None:
    from airflow.models.connection import Connection

    conn = Connection.from_json(value, conn_id=name) if value.startswith("{") else Connection(uri=value)
    assert conn.conn_type == "tencent_cos", f"{sample.id}: {name} has conn_type {conn.conn_type!r}"
    from cos_provider.hooks.cos import CosHook

    saved = os.environ.get(name)
    os.environ[name] = value
    try:
        hook = CosHook(name.removeprefix("AIRFLOW_CONN_").lower())
        assert hook.settings.endpoint.region  # every extra validated, nothing sent
    finally:
        if saved is None:
            del os.environ[name]
        else:
            os.environ[name] = saved


# -- json, xml ------------------------------------------------------------------


@pytest.mark.parametrize("sample", _params("json"))
def test_json(sample: Sample) -> None:
    value = json.loads(sample.code)
    if isinstance(value, dict) and "conn_type" in value:  # a connection document
        _check_connection(sample, "AIRFLOW_CONN_DOCS_SAMPLE", sample.code.strip())


@pytest.mark.parametrize("sample", _params("xml"))
def test_xml(sample: Sample) -> None:
    from lxml import etree

    etree.fromstring(sample.code.encode())


# -- links ----------------------------------------------------------------------

LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")


def _anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    out = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            out.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return out


def test_relative_links_resolve() -> None:
    from tests.docs.samples import doc_files

    broken = []
    for doc in doc_files():
        text = re.sub(r"```.*?```", "", doc.read_text(encoding="utf-8"), flags=re.S)
        for found in LINK.finditer(text):
            target = found.group("target")
            if re.match(r"[a-z]+:", target):
                continue
            file_part, _, anchor = target.partition("#")
            path = (doc.parent / file_part).resolve() if file_part else doc
            if not path.exists():
                broken.append(f"{doc.name}: {target} (no such file)")
            elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
                broken.append(f"{doc.name}: {target} (no such heading)")
    assert not broken, broken
