"""Run inside one compat venv (``python -I``): the installed wheel against one Airflow.

``scripts/compat_check.py`` starts this with the venv's interpreter in
isolated mode from an empty working directory, so ``cos_provider`` can only
come from the venv's site-packages (checked below). It starts the emulator
from the wheel (``python -m cos_provider.emulator``), seeds it, runs
``compat_smoke_dag.py`` with ``dag.test()`` on a throwaway SQLite DB, then
checks what the tasks left behind in the emulator. Its last stdout line is
``COMPAT-RESULT <json>``: check name -> ``"ok"`` or the reason it failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import sysconfig
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULT_PREFIX = "COMPAT-RESULT "
SECRET_ID = "AKIDCOMPATSMOKE"
SECRET_KEY = "compat-smoke-secret"
APP_ID = "1250000000"
REGION = "ap-guangzhou"
SRC = f"src-{APP_ID}"
DST = f"dst-{APP_ID}"
DAG_ID = "cos_compat_smoke"
MiB = 1024 * 1024

CHECKS = (
    "connection form",
    "wheel imports",
    "deferrable sensor",
    "single copy",
    "multipart copy",
    "mapped multipart copy",
    "metadata replacement",
)


def configure(work: Path, dag_file: Path) -> None:
    """A throwaway AIRFLOW_HOME whose only DAG bundle holds the smoke DAG (before Airflow is imported)."""
    home = work / "airflow_home"
    dags = work / "dags"
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(dags, ignore_errors=True)
    dags.mkdir(parents=True)
    home.mkdir()
    shutil.copy(dag_file, dags / dag_file.name)
    bundles = [
        {
            "name": "compat-smoke",
            "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
            "kwargs": {"path": str(dags), "refresh_interval": 0},
        }
    ]
    os.environ.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(bundles),
        }
    )


def installed_from_site_packages() -> str:
    import cos_provider

    where = Path(cos_provider.__file__).resolve()
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    if site not in where.parents:
        raise RuntimeError(f"cos_provider comes from {where}, not from the venv's {site}")
    return str(where.parent)


def check_imports() -> None:
    """Every module that provider info names imports, and Airflow discovers the provider."""
    import importlib
    import pkgutil

    from airflow.providers_manager import ProvidersManager

    import cos_provider
    from cos_provider.get_provider_info import CONN_TYPE, get_provider_info

    info = get_provider_info()
    # Every module of the wheel, not only those provider info names: the filesystem, the log
    # handler, the links and the bundle are loaded by Airflow from other keys, and a module
    # written against one Airflow's layout must fail here, not in a user's scheduler.
    modules = [
        m.name
        for m in pkgutil.walk_packages(cos_provider.__path__, "cos_provider.")
        if m.name != "cos_provider.emulator.pytest_plugin"  # loaded by pytest only (the extra)
    ]
    for module in modules:
        importlib.import_module(module)
    for dotted in (
        *info["logging"],
        *(e["classpath"] for e in info["remote-logging"]),
        *info["extra-links"],
        "cos_provider.bundles.cos.CosDagBundle",
        "cos_provider.log.logging_config.LOGGING_CONFIG",
    ):
        module, _, name = dotted.rpartition(".")
        getattr(importlib.import_module(module), name)
    for dotted in (info["asset-uris"][0]["handler"], info["asset-uris"][0]["factory"]):
        module, _, name = dotted.rpartition(".")
        getattr(importlib.import_module(module), name)
    pm = ProvidersManager()
    if info["package-name"] not in pm.providers:
        raise AssertionError(f"Airflow does not list {info['package-name']} among its providers")
    hook = pm.hooks.get(CONN_TYPE)
    if hook is None or hook.hook_class_name != "cos_provider.hooks.cos.CosHook":
        raise AssertionError(f"connection type {CONN_TYPE} not registered: {hook!r}")


def check_connection_form() -> None:
    """The API server's form for our connection type has every CONN_FIELDS field, typed, and the relabels."""
    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

    from cos_provider.get_provider_info import CONN_FIELDS, CONN_TYPE, UI_FIELD_BEHAVIOUR

    (meta,) = [m for m in HookMetaService.hook_meta_data() if m.connection_type == CONN_TYPE]
    fields = dict(meta.extra_fields or {})
    if set(fields) != set(CONN_FIELDS):
        raise AssertionError(f"form fields {sorted(fields)} != CONN_FIELDS {sorted(CONN_FIELDS)}")
    for name, spec in CONN_FIELDS.items():
        schema = fields[name].get("schema", {})
        want = spec["schema"]["type"]
        want_types = {want} if isinstance(want, str) else set(want)
        got = schema.get("type")
        got_types = {got} if isinstance(got, str) else set(got or ())
        # Airflow < 3.2 has no number field: there a number is entered as text, which the hook parses.
        if "number" in want_types and "number" not in got_types:
            want_types = (want_types - {"number"}) | {"string"}
        if not (want_types - {"null"}) <= got_types:
            raise AssertionError(f"field {name}: type {got!r}, CONN_FIELDS says {want!r}")
        if schema.get("title") != spec["label"]:
            raise AssertionError(f"field {name}: title {schema.get('title')!r} != {spec['label']!r}")
        if "enum" in spec["schema"] and schema.get("enum") != spec["schema"]["enum"]:
            raise AssertionError(f"field {name}: enum {schema.get('enum')!r}")
        if spec["schema"].get("format") == "password" and schema.get("format") != "password":
            raise AssertionError(f"field {name}: not a password field")
    login = meta.standard_fields.login if meta.standard_fields else None
    if login is None or login.title != UI_FIELD_BEHAVIOUR["relabeling"]["login"]:
        raise AssertionError(f"login field not relabelled: {login!r}")


def load_dag(dags: Path) -> Any:
    try:
        from airflow.dag_processing.dagbag import DagBag  # 3.2+
    except ImportError:
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]

    bag = DagBag(dag_folder=str(dags))
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    return bag.dags[DAG_ID]


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--work", type=Path, required=True)
    p.add_argument("--dag", type=Path, required=True)
    args = p.parse_args()
    work: Path = args.work.resolve()
    configure(work, args.dag.resolve())
    results: dict[str, str] = {}
    meta: dict[str, Any] = {"python": sys.version.split()[0]}

    def record(name: str, check: Callable[[], None]) -> None:
        try:
            check()
        except Exception as exc:
            traceback.print_exc()
            results[name] = f"FAIL: {type(exc).__name__}: {exc}"[:300]
        else:
            results[name] = "ok"

    try:
        meta["package"] = installed_from_site_packages()
        import airflow

        meta["airflow"] = airflow.__version__
        run_smoke(work, results, meta, record)
    except Exception as exc:
        traceback.print_exc()
        for name in CHECKS:
            results.setdefault(name, f"FAIL: {type(exc).__name__}: {exc}"[:300])
    print(RESULT_PREFIX + json.dumps({"meta": meta, "results": results}), flush=True)
    return 0 if all(v == "ok" for v in results.values()) and set(results) == set(CHECKS) else 1


def run_smoke(work: Path, results: dict[str, str], meta: dict[str, Any], record: Any) -> None:
    from cos_provider.client.crc64 import crc64
    from cos_provider.emulator.process import start_emulator_process

    # The form first: Airflow 3.1's API server swaps in its WTForms stand-ins only
    # if no hook was imported yet in the process, as in a fresh API server.
    record("connection form", check_connection_form)
    record("wheel imports", check_imports)

    emulator_args = ["--secret-id", SECRET_ID, "--secret-key", SECRET_KEY]
    for bucket in (SRC, DST):
        emulator_args += ["--bucket", f"{bucket}:{REGION}"]
    # From the wheel: the child runs `python -m cos_provider.emulator` in the empty work dir.
    with start_emulator_process(emulator_args, python=sys.executable, cwd=work) as emu:
        os.environ["AIRFLOW_CONN_COS_DEFAULT"] = json.dumps(
            {
                "conn_type": "tencent_cos",
                "login": SECRET_ID,
                "password": SECRET_KEY,
                "extra": {"region": REGION, "app_id": APP_ID, "connect_address": emu.address},
            }
        )
        from cos_provider.hooks.cos import CosHook

        hook = CosHook()
        small = b"compat smoke: one PUT copy\n" * 100
        big = os.urandom(3 * MiB + 12345)
        hook.write_bytes(small, "small.bin", SRC, metadata={"origin": "seed", "keep": "yes"})
        hook.write_bytes(big, "big.bin", SRC)

        trigger_runs = instrument_trigger(hook)
        from airflow.utils import db

        db.resetdb()
        dag_run = load_dag(work / "dags").test()
        states = task_states(dag_run)
        meta["states"] = states
        meta["trigger_runs"] = len(trigger_runs)

        def succeeded(*task_ids: str) -> None:
            bad = {t: s for t, s in states.items() if t.split("[")[0] in task_ids and s != "success"}
            missing = [t for t in task_ids if not any(s.split("[")[0] == t for s in states)]
            if bad or missing:
                raise AssertionError(f"tasks not successful: {bad or missing}")

        def copied(key: str, data: bytes, multipart: bool) -> None:
            info = hook.head_object(key, DST)
            if info.size != len(data) or info.crc64 != crc64(data):
                raise AssertionError(f"{key}: size {info.size}, crc64 {info.crc64} != {crc64(data)}")
            if multipart != ("-" in info.etag):
                raise AssertionError(f"{key}: ETag {info.etag} says multipart={'-' in info.etag}")

        def no_upload_left() -> None:
            left = list(hook.conn.iter_multipart_uploads(DST))
            if left:
                raise AssertionError(f"multipart uploads left in {DST}: {left}")

        def sensor() -> None:
            succeeded("deferrable_sensor")
            if not trigger_runs:
                raise AssertionError("the sensor finished without deferring to its trigger")

        def single() -> None:
            succeeded("single_copy")
            copied("small-copy.bin", small, multipart=False)

        def multipart() -> None:
            succeeded("multipart_copy")
            copied("big-copy.bin", big, multipart=True)
            no_upload_left()

        def mapped() -> None:
            succeeded("mapped_copy.initiate", "mapped_copy.copy_parts", "mapped_copy.complete")
            copied("big-mapped.bin", big, multipart=True)
            no_upload_left()

        def replaced() -> None:
            succeeded("replace_metadata")
            info = hook.head_object("small-copy.bin", DST)
            # merge=True keeps "keep", the removal drops "origin", the template is rendered.
            want = {"keep": "yes", "stage": DAG_ID}
            if info.metadata != want or info.content_type != "text/plain" or info.crc64 != crc64(small):
                raise AssertionError(f"after replacement: {info.metadata}, {info.content_type}, {info.crc64}")

        record("deferrable sensor", sensor)
        record("single copy", single)
        record("multipart copy", multipart)
        record("mapped multipart copy", mapped)
        record("metadata replacement", replaced)


def instrument_trigger(hook: Any) -> list[str]:
    """Count trigger runs; the first one writes the flag the sensor waits for (after its first poke missed it)."""
    from cos_provider.triggers.cos import CosPollingTrigger

    runs: list[str] = []
    original = CosPollingTrigger.run

    async def run(self: Any) -> Any:
        runs.append(type(self).__name__)
        if len(runs) == 1:
            await asyncio.to_thread(hook.write_bytes, b"ready", "flags/ready", SRC)
        async for event in original(self):
            yield event

    CosPollingTrigger.run = run  # type: ignore[method-assign]
    return runs


def task_states(dag_run: Any) -> dict[str, str]:
    out = {}
    for ti in dag_run.get_task_instances():
        name = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
        out[name] = str(getattr(ti.state, "value", ti.state))
    return out


if __name__ == "__main__":
    sys.exit(main())
