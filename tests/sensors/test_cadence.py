"""When sensors poke: Airflow's own cadence in poke and reschedule mode (from
the public parameters only), and what a deferral hands its trigger (the
first poke's time, the poke count, the remaining deadline)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from airflow.sdk.bases.sensor import BaseSensorOperator
from airflow.sdk.exceptions import AirflowRescheduleException, AirflowSensorTimeout, TaskDeferred

from cos_provider.sensors.base import TRIGGER_GRACE
from cos_provider.sensors.cos import (
    CosBaseSensor,
    CosObjectSensor,
    CosObjectUpdatedSensor,
    CosPrefixInactivitySensor,
)
from tests.conftest import SRC_BUCKET
from tests.sensors.support import CONTEXT, expected_record, sensor, served

# ---------------------------------------------------------------- deferral mechanics


def test_deferrable_pokes_once_before_deferring(cos, cos_connection):
    cos.put_object(SRC_BUCKET, "here", b"x")
    op = sensor("deferrable", bucket=SRC_BUCKET, key="here")
    assert op.execute(dict(CONTEXT)) == [expected_record(cos, SRC_BUCKET, "here")]


def test_deferral_carries_the_remaining_timeout_and_cadence(cos, cos_connection, fake_clock):
    op = CosObjectSensor(
        task_id="s",
        bucket=SRC_BUCKET,
        key="later",
        deferrable=True,
        poke_interval=7,
        timeout=100,
        exponential_backoff=True,
        max_wait=30,
    )
    with pytest.raises(TaskDeferred) as info:
        op.execute(dict(CONTEXT))
    trigger = info.value.trigger
    assert trigger.started_at == fake_clock.now  # the first poke, made in the worker
    assert trigger.poke_count == 1
    assert (trigger.poke_interval, trigger.timeout, trigger.exponential_backoff, trigger.max_wait) == (
        7,
        100,
        True,
        30,
    )
    # the framework's deadline is only a backstop behind the trigger's own, whose
    # last poll may come one poke interval after the deadline
    assert info.value.timeout == timedelta(seconds=100 + 7 + TRIGGER_GRACE)
    assert info.value.method_name == "execute_complete"


# ---------------------------------------------------------------- cadence (Airflow's, in the worker)


def test_sensors_leave_the_poke_cadence_to_airflow():
    """Poke and reschedule waits are BaseSensorOperator's own, from the public parameters."""
    for cls in (CosBaseSensor, CosObjectSensor, CosObjectUpdatedSensor, CosPrefixInactivitySensor):
        assert cls._get_next_poke_interval is BaseSensorOperator._get_next_poke_interval


def test_poke_mode_backoff_grows_up_to_max_wait_and_keeps_the_deadline(cos, cos_connection, fake_clock):
    op = sensor(
        "poke",
        bucket=SRC_BUCKET,
        key="never",
        poke_interval=2,
        exponential_backoff=True,
        max_wait=20,
        timeout=120.5,
    )
    with pytest.raises(AirflowSensorTimeout):
        op.execute({})
    sleeps = fake_clock.sleeps
    capped = sleeps.index(20)
    assert sleeps[: capped + 1] == sorted(sleeps[: capped + 1])  # grows ...
    assert len(set(sleeps[: capped + 1])) > 2
    assert max(sleeps) == 20  # ... up to max_wait
    assert 120.5 < fake_clock.elapsed <= 120.5 + 20  # and the deadline holds
    assert served(cos, "HeadObject") == len(sleeps) + 1


class RescheduledTI:
    """What ``BaseSensorOperator.execute`` asks of the task instance in reschedule mode."""

    def get_first_reschedule_date(self, context: Any) -> None:
        return None  # this is the first poke


@pytest.mark.parametrize(("backoff", "low", "high"), [(False, 29, 31), (True, 1, 45 + 1)])
def test_reschedule_mode_lets_airflow_pick_the_next_poke(cos, cos_connection, backoff, low, high):
    op = sensor(
        "poke",
        bucket=SRC_BUCKET,
        key="never",
        mode="reschedule",
        poke_interval=30,
        exponential_backoff=backoff,
        max_wait=45,
        timeout=3600,
    )
    before = datetime.now(timezone.utc)
    with pytest.raises(AirflowRescheduleException) as info:
        op.execute({"ti": RescheduledTI()})
    assert low <= (info.value.reschedule_date - before).total_seconds() <= high


def test_default_deferrable_follows_airflow_config(monkeypatch):
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "true")
    assert CosObjectSensor(task_id="s", bucket="b", key="k").deferrable is True
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "false")
    assert CosObjectSensor(task_id="s", bucket="b", key="k").deferrable is False
    assert CosObjectSensor(task_id="s", bucket="b", key="k", deferrable=True).deferrable is True


def test_execute_complete_rejects_garbage():
    op = CosObjectSensor(task_id="s", bucket="b", key="k")
    with pytest.raises(Exception, match="no event"):
        op.execute_complete({}, None)
    with pytest.raises(Exception, match="Unexpected event"):
        op.execute_complete({}, {"status": "weird"})
