"""Every operator once inside real Airflow, through ``dag.test()``, against the emulator."""

from __future__ import annotations

from typing import Any

import pytest

from cos_provider.client import limits
from cos_provider.emulator import FaultRule
from tests.airflow_support import run_dag, task_states, xcom
from tests.conftest import DST_BUCKET, SRC_BUCKET

MiB = limits.MiB
pytestmark = [pytest.mark.airflow_db, pytest.mark.usefixtures("airflow_db")]


def test_copy_object_operator(cos: Any, cos_connection: str) -> None:
    big = cos.seed_synthetic(SRC_BUCKET, "in/r1/big.bin", size=5 * MiB + 3, metadata={"old": "1"})
    small = cos.put_object(SRC_BUCKET, "in/r1/small.txt", b"hello", content_type="text/plain")
    run = run_dag("cos_copy_object")
    assert task_states(run) == {"copy_big": "success", "move_small": "success"}, task_states(run)

    result = xcom(run, "copy_big")
    head = cos.head(DST_BUCKET, "out/r1/big.bin")
    assert result["dest_uri"] == f"cos://{DST_BUCKET}/out/r1/big.bin"
    assert (result["size"], result["crc64"], result["part_count"]) == (big["size"], big["crc64"], 6)
    assert head["metadata"] == {"run": "r1", "dag": "cos_copy_object"}
    assert head["content_type"] == "application/x-r1"
    for field in ("etag", "version_id", "last_modified", "source_version_id"):
        assert field in result

    moved = xcom(run, "move_small")
    assert moved["dest_uri"] == f"cos://{DST_BUCKET}/moved/small.txt"
    assert cos.get_object_bytes(DST_BUCKET, "moved/small.txt") == b"hello"
    assert cos.head(SRC_BUCKET, "in/r1/small.txt") is None
    assert small["size"] == 5


def test_replace_metadata_operator(cos: Any, cos_connection: str) -> None:
    cos.put_object(
        SRC_BUCKET, "meta.bin", b"x" * 100, metadata={"keep": "1", "drop-me": "2"}, content_type="text/plain"
    )
    run = run_dag("cos_replace_metadata")
    assert task_states(run) == {"replace": "success"}
    result = xcom(run, "replace")
    head = cos.head(SRC_BUCKET, "meta.bin")
    assert head["metadata"] == {"keep": "1", "stage": "cos_replace_metadata"} == result["metadata"]
    assert (head["content_type"], head["cache_control"]) == ("text/plain", "no-cache")
    assert result["etag"].strip('"') == head["etag"]


def test_copy_prefix_operator(cos: Any, cos_connection: str) -> None:
    for i in range(5):
        cos.put_object(SRC_BUCKET, f"logs/{i}.log", f"line {i}".encode())
    cos.put_object(SRC_BUCKET, "other/x.log", b"not copied")
    run = run_dag("cos_copy_prefix")
    assert task_states(run) == {"copy_prefix": "success"}
    uris = sorted(xcom(run, "copy_prefix"))
    assert uris == [f"cos://{DST_BUCKET}/backup/cos_copy_prefix/{i}.log" for i in range(5)]
    assert cos.get_object_bytes(DST_BUCKET, "backup/cos_copy_prefix/3.log") == b"line 3"


def test_mapped_multipart_copy(cos: Any, cos_connection: str, requests_of: Any, capfd: Any) -> None:
    info = cos.seed_synthetic(SRC_BUCKET, "huge.bin", size=7 * MiB + 5)  # 8 parts in 3 batches
    run = run_dag("cos_mapped_copy")
    # complete reads the mapped results by length: no lookup past the end, no error line.
    out, err = capfd.readouterr()
    assert "huge_copy.copy_parts" in out + err
    assert "XCom not found" not in out + err
    states = task_states(run)
    assert states == {
        "huge_copy.initiate": "success",
        "huge_copy.copy_parts[0]": "success",
        "huge_copy.copy_parts[1]": "success",
        "huge_copy.copy_parts[2]": "success",
        "huge_copy.complete": "success",
        "huge_copy.abort": "success",
    }, states
    assert str(run.state) in ("success", "DagRunState.SUCCESS")
    batches = xcom(run, "huge_copy.initiate")
    assert [(b["first_part"], b["last_part"]) for b in batches] == [(1, 3), (4, 6), (7, 8)]
    last_batch = xcom(run, "huge_copy.copy_parts", map_index=2)
    assert [n for n, _, _ in last_batch] == [7, 8]
    assert all(etag and isinstance(crc, int) for _, etag, crc in last_batch)
    result = xcom(run, "huge_copy.complete")
    assert (result["size"], result["crc64"], result["part_count"]) == (info["size"], info["crc64"], 8)
    head = cos.head(DST_BUCKET, "huge-copy.bin")
    assert head["metadata"] == {"copied-by": "cos_mapped_copy"}
    assert requests_of("UploadPartCopy") == 8
    assert cos.live_uploads() == 0


def test_mapped_multipart_copy_failure_aborts(cos: Any, cos_connection: str) -> None:
    cos.seed_synthetic(SRC_BUCKET, "huge.bin", size=7 * MiB + 5)
    cos.add_fault(FaultRule.always("UploadPartCopy", "internal_error", part_number=5))
    run = run_dag("cos_mapped_copy_fails")
    states = task_states(run)
    assert states["huge_copy.copy_parts[1]"] == "failed"
    assert states["huge_copy.complete"] == "upstream_failed"
    assert states["huge_copy.abort"] == "success"
    assert xcom(run, "huge_copy.abort") is True
    assert "failed" in str(run.state).lower()
    assert cos.live_uploads() == 0
    assert cos.head(DST_BUCKET, "never.bin") is None
