"""Sensor tests: most drive the sensor directly; ``airflow_db`` ones run ``dag.test()``.

``dag.test()`` support (DB, DAG bundles for every ``tests/*/dags`` folder,
loading the DAG from its file) comes from :mod:`tests.airflow_support`; the
``run_dag`` fixture here adds what the sensor tests assert on: final task
states, tries, reschedule counts and return values. ``fake_clock`` replaces
wall time for the tests that drive sensors directly (never for ``dag.test()``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.airflow_support import airflow_db, load_dag, trigger_runs  # noqa: F401  (fixtures)
from tests.sensors.support import FakeClock, install_fake_clock

DAGS = Path(__file__).resolve().parent / "dags"


@dataclass
class DagRunResult:
    state: str
    tasks: dict[str, str]
    """task_id -> final state."""
    xcom: dict[str, Any]
    """task_id -> return_value XCom (missing if none)."""
    tries: dict[str, int] = field(default_factory=dict)
    reschedules: dict[str, int] = field(default_factory=dict)
    """task_id -> number of reschedules recorded."""


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Every mode's clock, advanced only by the sensors' and triggers' waits."""
    return install_fake_clock(monkeypatch)


@pytest.fixture
def run_dag(airflow_db: None, cos_connection: str) -> Callable[..., DagRunResult]:  # noqa: F811
    """``run_dag(dag_id, **dag_test_kwargs)``: ``dag.test()`` a DAG of ``tests/sensors/dags``."""

    def run(dag_id: str, **test_kwargs: Any) -> DagRunResult:
        from airflow.models.taskreschedule import TaskReschedule
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session
        from sqlalchemy import func, select

        dag_run = load_dag(dag_id, DAGS).test(**test_kwargs)
        with create_session() as session:
            tis = dag_run.get_task_instances(session=session)
            tasks = {ti.task_id: str(getattr(ti.state, "value", ti.state)) for ti in tis}
            tries = {ti.task_id: ti.try_number for ti in tis}
            reschedules = {
                ti.task_id: session.scalar(
                    select(func.count(TaskReschedule.id)).where(TaskReschedule.ti_id == ti.id)
                )
                or 0
                for ti in tis
            }
            xcom = {
                x.task_id: x.value
                for x in session.scalars(
                    select(XComModel).where(
                        XComModel.dag_id == dag_id,
                        XComModel.run_id == dag_run.run_id,
                        XComModel.key == "return_value",
                    )
                )
            }
        state = str(getattr(dag_run.state, "value", dag_run.state))
        return DagRunResult(state, tasks, xcom, tries, reschedules)

    return run
