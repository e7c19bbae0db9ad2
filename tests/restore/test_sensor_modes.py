"""Mode parity of ``CosObjectRestoredSensor``: with the same restore history it pushes the same XCom,
and fails the same way, in poke, reschedule and deferrable mode - driven directly (``execute``, the
round-tripped trigger in an event loop, ``resume_execution``) and end to end through ``dag.test()``."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from cos_provider.hooks.cos import CosHook
from cos_provider.sensors.restore import CosObjectRestoredSensor
from cos_provider.triggers.restore import CosObjectRestoredTrigger
from tests.airflow_support import load_dag
from tests.conftest import SRC_BUCKET
from tests.restore.conftest import expected_record
from tests.restore.dags import restore_dags
from tests.sensors.support import DeferralLog, install_fake_clock, roundtrip_trigger, run_deferrable

WAYS = ["poke", "deferrable-trigger", "dag-poke", "dag-reschedule", "dag-deferrable"]


def reschedules(dag_run: Any, task_id: str) -> int:
    from airflow.models.taskreschedule import TaskReschedule
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    with create_session() as session:
        (ti,) = [t for t in dag_run.get_task_instances(session=session) if t.task_id == task_id]
        return int(
            session.scalar(select(func.count(TaskReschedule.id)).where(TaskReschedule.ti_id == ti.id)) or 0
        )


def drive(way: str, monkeypatch: pytest.MonkeyPatch, trigger_runs: list[str]) -> Any:
    """Run the parity sensor in ``way``; return what it pushed."""
    from airflow.models.xcom import XComModel

    if way == "poke":
        install_fake_clock(monkeypatch)
        return restore_dags.restored_sensor(**restore_dags.MODES["poke"]).execute({})
    if way == "deferrable-trigger":
        install_fake_clock(monkeypatch)
        log = DeferralLog()
        result = run_deferrable(restore_dags.restored_sensor(**restore_dags.MODES["deferrable"]), {}, log)
        assert log.deferrals and all(e["status"] == "success" for e in log.events)
        return result
    mode = way.removeprefix("dag-")
    run = load_dag(f"cos_restore_sensor_{mode}").test()
    assert str(getattr(run.state, "value", run.state)) == "success"
    if mode == "reschedule":
        assert reschedules(run, "wait") >= 1, "the sensor never rescheduled"
    if mode == "deferrable":
        assert trigger_runs == ["CosObjectRestoredTrigger"], "the sensor never deferred"
    from airflow.utils.session import create_session

    with create_session() as session:
        row = (
            session.query(XComModel)
            .filter_by(dag_id=run.dag_id, run_id=run.run_id, task_id="wait", key="return_value")
            .one()
        )
        return row.value


@pytest.mark.airflow_db
@pytest.mark.usefixtures("airflow_db")
@pytest.mark.parametrize("way", WAYS)
def test_same_xcom_in_every_mode(
    way: str,
    cos: Any,
    cos_connection: str,
    finish_after: Any,
    trigger_runs: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cos.put_object(SRC_BUCKET, "cold/a.bin", b"archived bytes", storage_class="ARCHIVE")
    CosHook(cos_connection).restore_object("cos://src/cold/a.bin", days=3, tier="Bulk")
    running = finish_after(3)  # the hook's HEAD after its POST, then two pokes see it running
    pushed = drive(way, monkeypatch, trigger_runs)
    assert pushed == expected_record(cos, SRC_BUCKET, "cold/a.bin")
    assert pushed["status"] == "restored" and pushed["expiry_date"]
    assert running == {"cold/a.bin": 3}  # exactly as many pokes saw it running in every mode


@pytest.mark.parametrize("way", ["poke", "deferrable"])
def test_unrequested_archive_fails_fast_in_every_mode(
    way: str, cos: Any, cos_connection: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_fake_clock(monkeypatch)
    cos.put_object(SRC_BUCKET, "cold/a.bin", b"x", storage_class="DEEP_ARCHIVE")
    sensor = restore_dags.restored_sensor(**restore_dags.MODES[way])

    def run() -> Any:
        return sensor.execute({}) if way == "poke" else run_deferrable(sensor, {})

    with pytest.raises(
        AirflowFailException, match=r"no restore is running or done.*CosRestoreObjectOperator"
    ):
        run()


@pytest.mark.parametrize("way", ["poke", "deferrable"])
def test_a_missing_key_is_waited_for_and_a_plain_object_counts(
    way: str, cos: Any, cos_connection: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = install_fake_clock(monkeypatch)
    clock.at(0.5, lambda: cos.put_object(SRC_BUCKET, "late.txt", b"plain"))
    sensor = CosObjectRestoredSensor(
        task_id="s",
        key=["cos://src/late.txt"],
        poke_interval=0.25,
        timeout=30,
        deferrable=way == "deferrable",
    )
    pushed = sensor.execute({}) if way == "poke" else run_deferrable(sensor, {})
    assert pushed == [expected_record(cos, SRC_BUCKET, "late.txt")]  # a list for a list of keys
    assert pushed[0]["status"] == "not_archived" and pushed[0]["expiry_date"] is None


def test_trigger_round_trips_without_secrets(cos_connection: str) -> None:
    trigger = CosObjectRestoredTrigger(targets=["cos://src-1250000000/a"], single=True, poke_interval=5)
    again = roundtrip_trigger(trigger)
    assert again.serialize() == trigger.serialize()
    assert "secret" not in repr(trigger.serialize()).lower()
