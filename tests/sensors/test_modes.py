"""Mode parity: each sensor, with the same inputs and the same bucket history,
pushes the same XCom in poke mode, reschedule mode and deferrable mode - driven
directly (``execute`` / trigger ``run()`` in an event loop / ``execute_complete``)
and end to end through ``dag.test()``, which runs triggers inline."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest

from tests.conftest import DST_BUCKET, SRC_BUCKET, VERSIONED_BUCKET
from tests.sensors.dags import sensor_modes
from tests.sensors.support import DeferralLog, Script, expected_record, run_deferrable

WAYS = ["poke", "deferrable-trigger", "dag-poke", "dag-reschedule", "dag-deferrable"]


def drive(
    way: str,
    kind: str,
    run_dag: Callable[..., Any],
    trigger_runs: list[str],
    logical_date: datetime | None = None,
) -> Any:
    """Run the ``kind`` sensor in one mode; return what it pushed."""
    factory = sensor_modes.FACTORIES[kind]
    context: dict[str, Any] = {"params": {}, "data_interval_end": logical_date}
    if way == "poke":
        return factory(**sensor_modes.MODES["poke"]).execute(context)
    if way == "deferrable-trigger":
        log = DeferralLog()
        result = run_deferrable(factory(**sensor_modes.MODES["deferrable"]), context, log)
        assert log.deferrals, "the sensor never deferred"
        assert all(e["status"] == "success" for e in log.events)
        return result
    mode = way.removeprefix("dag-")
    kwargs = {"logical_date": logical_date} if logical_date else {}
    result = run_dag(f"cos_{kind}_{mode}", **kwargs)
    assert result.state == "success", result.tasks
    if mode == "reschedule":
        assert result.reschedules["wait"] >= 1, "the sensor never rescheduled"
    if mode == "deferrable":
        assert trigger_runs, "the sensor never deferred"
    return result.xcom["wait"]


@pytest.mark.airflow_db
@pytest.mark.parametrize("way", WAYS)
def test_object_sensor_same_xcom_in_every_mode(way, cos, run_dag, trigger_runs):
    """Globs + a cos:// URL, min_size, metadata and a check_fn that first says no."""
    cos.put_object(VERSIONED_BUCKET, "data/part-1.csv", b"0123456789", metadata={"Source": "export"})
    cos.put_object(VERSIONED_BUCKET, "data/part-2.csv", b"abc")  # below min_size for now
    cos.put_object(VERSIONED_BUCKET, "data/readme.txt", b"not a csv")
    script = [
        # after the first poke saw no flag: the flag arrives (15 bytes matched, check_fn says no)
        ("HeadObject", 1, lambda: cos.put_object(DST_BUCKET, "flags/ready", b"ready")),
        # after the poke that saw the flag: part-2 is rewritten, big enough now (27 bytes)
        ("HeadObject", 2, lambda: cos.put_object(VERSIONED_BUCKET, "data/part-2.csv", b"x" * 12)),
    ]
    with Script(cos, script) as s:
        pushed = drive(way, "object", run_dag, trigger_runs)
    assert s.done == 2
    assert pushed == [
        expected_record(cos, VERSIONED_BUCKET, "data/part-1.csv", with_metadata=True),
        expected_record(cos, VERSIONED_BUCKET, "data/part-2.csv", with_metadata=True),
        expected_record(cos, DST_BUCKET, "flags/ready", with_metadata=True),
    ]
    assert pushed[0]["metadata"] == {"source": "export"}
    assert pushed[0]["version_id"]


@pytest.mark.airflow_db
@pytest.mark.parametrize("way", WAYS)
def test_updated_sensor_same_xcom_in_every_mode(way, cos, run_dag, trigger_runs):
    """Waits for a write after the run's data_interval_end (the default)."""
    cos.put_object(VERSIONED_BUCKET, "exports/daily.csv", b"yesterday")
    logical_date = datetime.now(timezone.utc)

    def rewrite() -> None:
        # Last-Modified has whole seconds: write in the next second.
        time.sleep(max(0.0, math.floor(logical_date.timestamp()) + 1 - time.time()))
        cos.put_object(VERSIONED_BUCKET, "exports/daily.csv", b"today")

    with Script(cos, [("HeadObject", 1, rewrite)]) as s:
        pushed = drive(way, "updated", run_dag, trigger_runs, logical_date=logical_date)
    assert s.done == 1
    assert pushed == expected_record(cos, VERSIONED_BUCKET, "exports/daily.csv")
    assert pushed["size"] == len(b"today")


@pytest.mark.airflow_db
@pytest.mark.parametrize("way", WAYS)
def test_inactivity_sensor_same_xcom_in_every_mode(way, cos, client, run_dag, trigger_runs):
    """Additions, a rewrite and a deletion each restart the inactivity period."""
    cos.put_object(SRC_BUCKET, "batch/a", b"1")
    cos.put_object(SRC_BUCKET, "batch/b", b"22")
    cos.put_object(SRC_BUCKET, "other/z", b"not watched")

    def delete_b_add_d() -> None:
        client.delete_object(SRC_BUCKET, "batch/b")
        cos.put_object(SRC_BUCKET, "batch/d", b"4444")

    script = [
        ("ListObjects", 1, lambda: cos.put_object(SRC_BUCKET, "batch/c", b"333")),
        ("ListObjects", 1, lambda: cos.put_object(SRC_BUCKET, "batch/a", b"11")),
        ("ListObjects", 1, delete_b_add_d),
    ]
    with Script(cos, script) as s:
        pushed = drive(way, "inactivity", run_dag, trigger_runs)
    assert s.done == 3
    assert pushed == {
        "bucket": SRC_BUCKET,
        "prefix": "batch/",
        "count": 3,
        "total_size": 2 + 3 + 4,
        "keys": ["batch/a", "batch/c", "batch/d"],
    }
