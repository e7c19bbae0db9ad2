"""The chain the sensors exist for, in a real DAG (``dag.test()``): wait for
an export, copy exactly the version that arrived, re-tag the copy - and a
copy pinned to the ETag the sensor saw fails with 412 when the export was
overwritten in between, instead of copying version 2 unnoticed."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.conftest import DST_BUCKET, VERSIONED_BUCKET
from tests.sensors.support import Script, expected_record


def _export_key(logical_date: datetime) -> str:
    return f"exports/{logical_date.strftime('%Y-%m-%d')}/data.csv"


@pytest.mark.airflow_db
def test_pinned_chain_copies_the_version_that_arrived(cos, run_dag):
    logical_date = datetime.now(timezone.utc)
    key = _export_key(logical_date)
    dest = key.replace("exports/", "imports/")
    # the export lands after the sensor's first poke: it defers, its trigger sees it
    with Script(cos, [("HeadObject", 1, lambda: cos.put_object(VERSIONED_BUCKET, key, b"version 1"))]):
        result = run_dag("example_cos_sensor_chain", logical_date=logical_date)
    assert result.tasks == {"wait_for_export": "success", "copy_export": "success", "retag_copy": "success"}
    seen = result.xcom["wait_for_export"]
    assert seen == [expected_record(cos, VERSIONED_BUCKET, key)]
    assert cos.get_object_bytes(DST_BUCKET, dest) == b"version 1"
    copied = cos.head(DST_BUCKET, dest)
    assert copied["metadata"] == {"stage": "imported", "source-etag": seen[0]["etag"]}
    assert copied["crc64"] == int(seen[0]["crc64"])


@pytest.mark.airflow_db
def test_pinned_copy_fails_with_412_when_the_export_changed(cos, run_dag):
    logical_date = datetime.now(timezone.utc)
    key = _export_key(logical_date)
    cos.put_object(VERSIONED_BUCKET, key, b"version 1")
    result = run_dag("example_cos_sensor_chain_race", logical_date=logical_date)
    assert result.tasks == {
        "wait_for_export": "success",
        "overwrite_export": "success",
        "copy_export": "failed",
        "retag_copy": "upstream_failed",
    }
    seen = result.xcom["wait_for_export"][0]
    current = cos.head(VERSIONED_BUCKET, key)
    assert current["etag"] != seen["etag"]  # version 2 is there now
    assert cos.counters()["requests"]["CopyObject"] == {"412": 1}
    assert cos.head(DST_BUCKET, key.replace("exports/", "imports/")) is None  # nothing copied
