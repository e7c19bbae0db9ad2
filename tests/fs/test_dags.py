"""``ObjectStoragePath("cos://...")`` and common-io inside real Airflow tasks (``dag.test()`` on SQLite)."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any

import pytest

from cos_provider.client.crc64 import crc64
from tests.airflow_support import run_dag, task_states, xcom
from tests.conftest import DST_BUCKET, SRC_BUCKET, connection_json
from tests.fs.conftest import ops

pytestmark = pytest.mark.airflow_db
MiB = 1024 * 1024


def test_objectstoragepath_in_a_task(airflow_db: None, cos: Any, cos_connection: str) -> None:
    run = run_dag("cos_fs_objectstoragepath")
    assert task_states(run) == {"write_read_copy_list": "success"}, task_states(run)
    result = xcom(run, "write_read_copy_list")
    assert result["text"] == "rows=3\n" and result["listing"] == ["big.bin", "report.txt"]
    assert result["size"] == 3 * MiB and int(result["crc64"]) == crc64(b"rows=3\n")
    assert cos.head(SRC_BUCKET, "fs-dag/big.bin")["parts_count"] == 3
    assert cos.get_object_bytes(DST_BUCKET, "fs-dag/report.txt") == b"rows=3\n"
    assert ops(cos)["CopyObject"] == 1 and cos.live_uploads() == 0


def test_file_transfer_operator_between_local_and_cos(
    airflow_db: None, cos: Any, cos_connection: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_COS_OTHER", connection_json(cos.address))
    data = os.urandom(2 * MiB + 11)
    (tmp_path / "in.bin").write_bytes(data)
    run = run_dag("cos_fs_file_transfer", run_conf={"folder": str(tmp_path)})
    assert set(task_states(run).values()) == {"success"}, task_states(run)
    assert int(cos.head(SRC_BUCKET, "transfer/in.bin")["crc64"]) == crc64(data)
    assert int(cos.head(DST_BUCKET, "transfer/in.bin")["crc64"]) == crc64(data)
    assert (tmp_path / "out.bin").read_bytes() == data
    assert cos.live_uploads() == 0


@pytest.mark.parametrize("compression", [None, "gzip"])
def test_object_storage_xcom_backend_on_cos(
    airflow_db: None,
    cos: Any,
    cos_connection: str,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    compression: str | None,
) -> None:
    import airflow.sdk.execution_time.task_runner as task_runner
    import airflow.sdk.execution_time.xcom as sdk_xcom

    monkeypatch.setenv(
        "AIRFLOW__CORE__XCOM_BACKEND", "airflow.providers.common.io.xcom.backend.XComObjectStorageBackend"
    )
    monkeypatch.setenv("AIRFLOW__COMMON_IO__XCOM_OBJECTSTORAGE_PATH", f"cos://cos_default@{SRC_BUCKET}/xcom")
    monkeypatch.setenv("AIRFLOW__COMMON_IO__XCOM_OBJECTSTORAGE_THRESHOLD", "0")
    if compression:
        monkeypatch.setenv("AIRFLOW__COMMON_IO__XCOM_OBJECTSTORAGE_COMPRESSION", compression)
    from airflow.providers.common.io.xcom import backend as common_io

    # The backend caches its three settings, and the task SDK resolves [core] xcom_backend once,
    # at import: read them again for this configuration (and forget them afterwards).
    settings = (common_io._get_base_path, common_io._get_compression, common_io._get_threshold)
    for cached in settings:
        cached.cache_clear()
    request.addfinalizer(lambda: [cached.cache_clear() for cached in settings])
    backend = sdk_xcom.resolve_xcom_backend()
    assert backend.__name__ == "XComObjectStorageBackend"
    monkeypatch.setattr(sdk_xcom, "XCom", backend)
    monkeypatch.setattr(task_runner, "XCom", backend)

    run = run_dag("cos_fs_xcom_backend")
    assert task_states(run) == {"produce": "success", "consume": "success"}, task_states(run)
    stored = xcom(run, "produce")  # the metadata DB holds only where the value is
    assert isinstance(stored, str) and stored.startswith(f"cos://cos_default@{SRC_BUCKET}/xcom/")

    def stored_value(uri: str) -> Any:
        data = cos.get_object_bytes(SRC_BUCKET, uri.split(f"{SRC_BUCKET}/", 1)[1])
        return json.loads(gzip.decompress(data) if compression else data)

    assert stored.endswith(".gz") == bool(compression)
    assert stored_value(stored) == {"rows": 1200, "files": ["a.csv", "b.csv"]}
    assert stored_value(xcom(run, "consume")) == "1200 rows"
    assert cos.live_uploads() == 0
