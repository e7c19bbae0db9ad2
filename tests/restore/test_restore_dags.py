"""Restore, the restored sensor and copies as Airflow runs them: ``dag.test()`` on SQLite."""

from __future__ import annotations

from typing import Any

import pytest

from tests.airflow_support import run_dag, task_states, xcom
from tests.conftest import DST_BUCKET, SRC_BUCKET
from tests.restore.conftest import expected_record

MiB = 1024 * 1024


@pytest.mark.airflow_db
@pytest.mark.usefixtures("airflow_db")
def test_restore_then_sensor_then_copy(
    cos: Any, cos_connection: str, finish_after: Any, trigger_runs: list[str]
) -> None:
    cos.put_object(SRC_BUCKET, "cold/a.bin", b"a" * 10, storage_class="ARCHIVE")
    cos.put_object(SRC_BUCKET, "cold/b.bin", b"b" * 20, storage_class="DEEP_ARCHIVE")
    running = finish_after(3)  # the restore's own HEADs, then the sensor's first poke
    run = run_dag("cos_restore_chain", run_conf={"prefix": "cold/", "days": "2"})
    assert task_states(run) == {"restore": "success", "wait": "success", "copy": "success"}
    restore = xcom(run, "restore")
    assert restore["counts"] == {"in_progress": 2}
    assert [(o["key"], o["storage_class"], o["requested"]) for o in restore["objects"]] == [
        ("cold/a.bin", "ARCHIVE", True),
        ("cold/b.bin", "DEEP_ARCHIVE", True),
    ]
    assert "CosObjectRestoredTrigger" in trigger_runs  # the sensor waited in the triggerer
    assert xcom(run, "wait") == [expected_record(cos, SRC_BUCKET, k) for k in ("cold/a.bin", "cold/b.bin")]
    assert all(r["expiry_date"] for r in xcom(run, "wait"))
    assert sorted(xcom(run, "copy")) == [f"cos://{DST_BUCKET}/cold/a.bin", f"cos://{DST_BUCKET}/cold/b.bin"]
    assert cos.get_object_bytes(DST_BUCKET, "cold/b.bin") == b"b" * 20
    # The sensor's two HEADs run together: whichever key's third sighting comes first ends both.
    assert set(running) == {"cold/a.bin", "cold/b.bin"} and max(running.values()) == 3


@pytest.mark.airflow_db
@pytest.mark.usefixtures("airflow_db")
def test_restore_is_idempotent_and_waits_deferred(
    cos: Any, cos_connection: str, finish_after: Any, trigger_runs: list[str]
) -> None:
    cos.put_object(SRC_BUCKET, "cold/a.bin", b"a", storage_class="ARCHIVE")
    cos.put_object(SRC_BUCKET, "cold/plain.txt", b"p")
    finish_after(2)  # "first"'s HEAD after its POST, then "again"'s HEAD
    run = run_dag("cos_restore_idempotent")
    assert task_states(run) == {"first": "success", "again": "success", "done": "success"}
    first = xcom(run, "first")["objects"][0]
    assert (first["status"], first["requested"]) == ("in_progress", True)
    again = xcom(run, "again")
    # Running already: no second POST, no failure; then the trigger saw it finish.
    assert [(o["key"], o["status"], o["requested"]) for o in again["objects"]] == [
        ("cold/a.bin", "restored", False),
        ("cold/plain.txt", "not_archived", False),
    ]
    assert again["objects"][0]["expiry_date"] and trigger_runs == ["CosObjectRestoredTrigger"]
    done = xcom(run, "done")["objects"][0]
    assert (done["status"], done["requested"]) == ("restored", True)  # restored again: extended
    assert done["expiry_date"] > again["objects"][0]["expiry_date"]
    assert done["expiry_date"] == expected_record(cos, SRC_BUCKET, "cold/a.bin")["expiry_date"]
    posts = cos.counters()["requests"]["PostObjectRestore"]
    assert posts == {"202": 1, "200": 1}


@pytest.mark.airflow_db
@pytest.mark.usefixtures("airflow_db")
def test_restore_first_on_the_copy_operators(
    cos: Any, cos_connection: str, finish_after: Any, trigger_runs: list[str]
) -> None:
    cos.put_object(SRC_BUCKET, "one/a.bin", b"one", storage_class="ARCHIVE")
    cos.put_object(SRC_BUCKET, "many/1.bin", b"m1", storage_class="ARCHIVE")
    cos.put_object(SRC_BUCKET, "many/2.bin", b"m2", storage_class="DEEP_ARCHIVE")
    cos.put_object(SRC_BUCKET, "many/3.bin", b"m3")  # not archived: copied, never restored
    big = cos.seed_synthetic(SRC_BUCKET, "big/a.bin", size=3 * MiB, storage_class="ARCHIVE")
    finish_after(1)  # each restore is seen running once by the task that started it, which defers
    run = run_dag("cos_restore_first")
    states = task_states(run)
    assert states["one"] == states["prefix"] == states["mapped.complete"] == "success", states
    assert trigger_runs == ["CosObjectRestoredTrigger"] * 3  # each operator deferred while restoring
    assert xcom(run, "one")["size"] == 3
    assert sorted(xcom(run, "prefix")) == [f"cos://{DST_BUCKET}/many/{n}.bin" for n in (1, 2, 3)]
    assert xcom(run, "mapped.complete")["crc64"] == big["crc64"]
    assert cos.get_object_bytes(DST_BUCKET, "many/2.bin") == b"m2"
    assert cos.counters()["requests"]["PostObjectRestore"] == {"202": 4}
    assert cos.live_uploads() == 0
