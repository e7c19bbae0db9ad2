"""The shipped ``example_cos_objectstorage`` DAG, run to success in ``dag.test()`` against the emulator."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest

from cos_provider.client.crc64 import crc64
from scripts import demo_world as world
from tests.airflow_support import run_dag, task_states, xcom
from tests.conftest import SECRET_ID, SECRET_KEY
from tests.fs.conftest import ops

pytestmark = pytest.mark.airflow_db
D = world.LOGICAL_DATE


def test_example_objectstorage_dag(airflow_db: None, cos: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    cos.reset()
    for name in ("staging", "warehouse"):
        region, versioned = world.BUCKETS[world.bucket(name)]
        cos.create_bucket(world.bucket(name), region=region, versioning=versioned)
    (manifest,) = [s for s in world.SEEDS if s["key"] == f"incoming/{D}/manifest.json"]
    cos.put_object(manifest["bucket"], manifest["key"], manifest["body"])
    cos.put_object(world.bucket("staging"), f"incoming/{D}-late/part.csv", b"id\n")
    extra = {"region": world.REGION, "app_id": world.APP_ID, "connect_address": cos.address}
    monkeypatch.setenv(
        "AIRFLOW_CONN_COS_DEFAULT",
        json.dumps({"conn_type": "tencent_cos", "login": SECRET_ID, "password": SECRET_KEY, "extra": extra}),
    )
    run = run_dag(
        "example_cos_objectstorage", logical_date=datetime.fromisoformat(D).replace(tzinfo=timezone.utc)
    )
    assert set(task_states(run).values()) == {"success"}, task_states(run)
    result = xcom(run, "publish_to_warehouse")
    assert result["listing"] == [f"{D}-late/", f"{D}/"]  # prefixes as directories
    assert result["day"] == ["manifest.json", "summary.txt"]
    assert result["source_uri"] == f"cos://{manifest['bucket']}/{manifest['key']}"
    assert result["dest_uri"] == f"cos://{world.bucket('warehouse')}/manifests/{D}/manifest.json"
    copied = cos.head(world.bucket("warehouse"), f"manifests/{D}/manifest.json")
    assert int(copied["crc64"]) == crc64(manifest["body"]) == int(result["crc64"])
    summary = cos.get_object_bytes(world.bucket("staging"), f"incoming/{D}/summary.txt")
    assert summary == b"3 files, 1200000000 rows\n"
    assert ops(cos)["CopyObject"] == 1
