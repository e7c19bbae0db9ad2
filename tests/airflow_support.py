"""Running DAGs with ``dag.test()`` inside pytest (Airflow 3.3), for every test folder.

What Airflow 3.3.2 needs, found by experiment:

* a migrated metadata DB: ``airflow.utils.db.resetdb()`` once per session
  (SQLite under the throwaway ``AIRFLOW_HOME`` that ``tests/conftest.py``
  sets when it is imported), ~3 s;
* the DAG in a configured DAG bundle: ``dag.test()`` syncs the bundles to the
  DB and refuses a DAG that is not serialized from one ("the dag is not
  serialized"). Every ``tests/<folder>/dags/`` directory becomes its own
  ``LocalDagBundle`` (``[dag_processor] dag_bundle_config_list``), so each
  engineer's test DAGs live next to their tests, and ``dag.test()`` walks the
  bundles until it finds the DAG;
* the DAG object itself loaded from that file (``load_dag``), not built in
  the test function;
* connections from ``AIRFLOW_CONN_<ID>`` environment variables (the task
  runs in-process, so ``monkeypatch.setenv`` in the test is seen).

The first ``dag.test()`` of a process costs ~10 s (Airflow builds its
in-process execution API), later ones ~0.2 s. Tasks run in-process, deferred
tasks run their trigger inline.

Use it from a ``conftest.py``::

    from tests.airflow_support import airflow_db, run_dag  # noqa: F401  (the fixture)

and mark DAG tests ``@pytest.mark.airflow_db``.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parent


EXAMPLES = TESTS.parent / "dags_examples"


def dag_folders() -> list[Path]:
    """Every ``tests/*/dags`` folder, and the shipped example DAGs."""
    return [*sorted(p for p in TESTS.glob("*/dags") if p.is_dir()), EXAMPLES]


def configure_bundles() -> None:
    """Point Airflow at every ``tests/*/dags`` folder (before it reads its config)."""
    folders = dag_folders()
    bundles = [
        {
            "name": f"tests-{folder.parent.name}" if folder != EXAMPLES else "dags-examples",
            "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
            "kwargs": {"path": str(folder), "refresh_interval": 0},
        }
        for folder in folders
    ]
    values = {
        "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(bundles),
        "AIRFLOW__CORE__DAGS_FOLDER": str(folders[0]) if folders else str(TESTS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
    }
    os.environ.update(values)
    from airflow.configuration import conf

    for name, value in values.items():
        _, section, key = name.lower().split("__", 2)
        conf.set(section, key, value)


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """A fresh, migrated SQLite metadata DB that knows the test DAG folders."""
    configure_bundles()
    from airflow.utils import db

    db.resetdb()


def load_dag(dag_id: str, folder: Path | None = None) -> Any:
    """The DAG ``dag_id`` as parsed from its file in a test DAG folder."""
    from airflow.dag_processing.dagbag import DagBag

    for path in [folder] if folder else dag_folders():
        bag = DagBag(dag_folder=str(path))
        if bag.import_errors:
            raise RuntimeError(f"DAG import errors in {path}: {bag.import_errors}")
        dag = bag.dags.get(dag_id)
        if dag is not None:
            return dag
    raise LookupError(f"no DAG {dag_id!r} in {dag_folders()}")


def run_dag(dag_id: str, **kwargs: Any) -> Any:
    """``dag.test()`` the DAG ``dag_id``; returns the DagRun (check ``.state``)."""
    return load_dag(dag_id).test(**kwargs)


def task_states(dag_run: Any) -> dict[str, str]:
    """``task_id`` (``task_id[i]`` for mapped tasks) -> state name."""
    out = {}
    for ti in dag_run.get_task_instances():
        name = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
        out[name] = str(ti.state.value if hasattr(ti.state, "value") else ti.state)
    return out


def xcom(dag_run: Any, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
    """An XCom value of a finished run, deserialized."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = (
            session.query(XComModel)
            .filter_by(
                dag_id=dag_run.dag_id, run_id=dag_run.run_id, task_id=task_id, key=key, map_index=map_index
            )
            .one_or_none()
        )
        if row is None:
            return None
        value = row.value
    return XComModel.deserialize_value(row) if not isinstance(value, dict | list | str | int) else value


@pytest.fixture
def trigger_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every trigger run, including those ``dag.test()`` runs inline."""
    # Imported here: a conftest that imports Airflow at load time depends on the root
    # conftest having set AIRFLOW_HOME first (see tests/conftest.py).
    from cos_provider.triggers.cos import CosPollingTrigger

    runs: list[str] = []
    original = CosPollingTrigger.run

    async def counting_run(self: CosPollingTrigger) -> AsyncIterator[Any]:
        runs.append(type(self).__name__)
        async for event in original(self):
            yield event

    monkeypatch.setattr(CosPollingTrigger, "run", counting_run)
    return runs
