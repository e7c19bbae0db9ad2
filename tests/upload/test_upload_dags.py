"""The upload operators inside real Airflow, through ``dag.test()``, against the emulator."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cos_provider.client.crc64 import crc64
from tests.airflow_support import run_dag, task_states, xcom
from tests.conftest import DST_BUCKET

MiB = 1024 * 1024
pytestmark = [pytest.mark.airflow_db, pytest.mark.usefixtures("airflow_db")]


def test_local_filesystem_to_cos(cos: Any, cos_connection: str, tmp_path: Any) -> None:
    (tmp_path / "sub").mkdir()
    files = {"a.csv": b"1,2\n", "sub/b.csv": b"3,4\n", "sub/big.bin": bytes(range(256)) * (12 * 1024)}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    run = run_dag("cos_upload_local", run_conf={"folder": str(tmp_path), "run": "r7"})
    assert task_states(run) == {"upload_folder": "success", "upload_glob": "success"}
    folder = xcom(run, "upload_folder")
    assert folder["count"] == 3 and folder["bytes"] == sum(map(len, files.values()))
    by_uri = {o["uri"]: o for o in folder["objects"]}
    for name, data in files.items():
        obj = by_uri[f"cos://{DST_BUCKET}/up/r7/{name}"]
        assert obj["crc64"] == str(crc64(data)) and obj["size"] == len(data)
        assert cos.get_object_bytes(DST_BUCKET, f"up/r7/{name}") == data
    assert by_uri[f"cos://{DST_BUCKET}/up/r7/sub/big.bin"]["parts"] == 3
    assert cos.head(DST_BUCKET, "up/r7/a.csv")["metadata"] == {"run": "r7", "note": "中文"}
    glob_result = xcom(run, "upload_glob")
    assert sorted(o["uri"] for o in glob_result["objects"]) == [
        f"cos://{DST_BUCKET}/csv/a.csv",
        f"cos://{DST_BUCKET}/csv/sub/b.csv",
    ]


def test_create_object(cos: Any, cos_connection: str) -> None:
    run = run_dag("cos_create_object", run_conf={"run": "r2"})
    assert task_states(run) == {"text": "success", "json": "success"}
    assert cos.get_object_bytes(DST_BUCKET, "made/r2.txt") == b"run r2"
    assert json.loads(cos.get_object_bytes(DST_BUCKET, "made/doc.json")) == {"名字": "值", "n": 1}
    assert xcom(run, "json")["uri"] == f"cos://{DST_BUCKET}/made/doc.json"


def test_a_lost_initiate_reply_leaves_no_upload_after_a_retried_task(
    cos: Any, cos_connection: str, tmp_path: Any
) -> None:
    """Try 1: Initiate's reply is cut (two uploads), then part 2 keeps failing: the task fails.
    Try 2 (Airflow's retry) uploads the file. Nothing of try 1 is left open."""
    from cos_provider.emulator import FaultRule

    path = tmp_path / "r.bin"
    path.write_bytes(bytes(range(256)) * (12 * 1024))  # 3 MiB: three parts
    cos.add_fault(FaultRule(operation="InitiateMultipartUpload", kind="reset", times=1))
    cos.add_fault(FaultRule(operation="UploadPart", kind="internal_error", times=3, part_number=2))
    try:
        run = run_dag("cos_upload_retried", run_conf={"path": str(path)})
    finally:
        cos.clear_faults()
    assert task_states(run) == {"upload": "success"}
    (ti,) = run.get_task_instances()
    assert ti.try_number == 2
    assert cos.counters()["requests"]["InitiateMultipartUpload"] == {"200": 3}
    assert cos.live_uploads() == 0
    assert cos.get_object_bytes(DST_BUCKET, "retried.bin") == path.read_bytes()
    assert xcom(run, "upload")["objects"][0]["crc64"] == str(crc64(path.read_bytes()))
