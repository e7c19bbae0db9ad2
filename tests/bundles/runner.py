"""The smallest real deployment this folder needs: ``airflow db migrate`` and ``airflow dag-processor``
as separate processes, with a throwaway ``AIRFLOW_HOME`` and SQLite.

Kept apart (and tiny) so it can be swapped for the shared deployment harness
(``tests/deployment/stack.py``) once that exists: the tests only use
:func:`airflow_env`, :func:`migrate`, :func:`dag_processor`, :func:`dag_rows` and :func:`stop`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW = str(Path(sys.executable).parent / "airflow")
T = TypeVar("T")


def airflow_env(home: Path, bundles: list[dict[str, Any]], **extra: str) -> dict[str, str]:
    """Environment of every process: its own home and DB, only ``bundles``, our code first on the path."""
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(bundles),
        "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_STORAGE_PATH": str(home / "bundles"),
        "AIRFLOW__DAG_PROCESSOR__BUNDLE_REFRESH_CHECK_INTERVAL": "1",
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
        **extra,
    }
    for name in [
        k for k in env if k.startswith("AIRFLOW__") and k not in extra and k.endswith("DAGS_FOLDER")
    ]:
        del env[name]  # the pytest session's own test folders
    return env


def migrate(env: dict[str, str]) -> None:
    out = subprocess.run([AIRFLOW, "db", "migrate"], env=env, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"airflow db migrate failed: {out.stderr[-3000:]}")


@contextmanager
def dag_processor(env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A running ``airflow dag-processor``; stopped (terminate, then kill) on exit."""
    with log_path.open("wb") as log:
        proc = subprocess.Popen([AIRFLOW, "dag-processor"], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate, then kill what is still running after 20 s."""
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def dag_rows(home: Path) -> dict[str, dict[str, Any]]:
    """``dag_id`` -> its ``dag`` table row, read straight from the SQLite file."""
    db = home / "airflow.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute(
            "SELECT dag_id, bundle_name, fileloc, relative_fileloc, is_stale FROM dag"
        ).fetchall()
    return {r["dag_id"]: dict(r) for r in rows}


def wait_until(
    check: Callable[[], T | None], *, proc: subprocess.Popen[bytes], log_path: Path, timeout: float = 45
) -> T:
    """Poll ``check`` (the processor runs in another process: there is no event to wait on)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if proc.poll() is not None:
            raise RuntimeError(f"dag-processor exited {proc.returncode}: {log_path.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(
                f"not seen within {timeout} s; dag-processor log: {log_path.read_text()[-3000:]}"
            )
        time.sleep(0.5)
