"""The delete and list operators inside real Airflow, through ``dag.test()``, against the emulator."""

from __future__ import annotations

from typing import Any

import pytest

from cos_provider.emulator import FaultRule
from cos_provider.operators.delete import CosDeleteObjectsOperator
from cos_provider.operators.listing import CosListOperator
from tests.airflow_support import run_dag, task_states, xcom
from tests.conftest import SRC_BUCKET, VERSIONED_BUCKET

pytestmark = [pytest.mark.airflow_db, pytest.mark.usefixtures("airflow_db")]


def test_delete_objects_operator(cos: Any, cos_connection: str) -> None:
    for key in ("tmp/d1/a.csv", "tmp/d1/b.csv", "tmp/d1/c.txt", "tmp/d2/a.csv", "keep/a", "keep/b"):
        cos.put_object(SRC_BUCKET, key, b"x")
    cos.add_fault(FaultRule.always("DeleteObject", "access_denied", key="keep/b"))
    run = run_dag("cos_delete_objects")
    assert task_states(run) == {"dry": "success", "delete": "success", "keys": "success"}
    dry = xcom(run, "dry")
    assert (dry["dry_run"], dry["deleted_count"], dry["requests"]) == (True, 2, 0)
    assert dry["deleted_keys"] == ["tmp/d1/a.csv", "tmp/d1/b.csv"]
    deleted = xcom(run, "delete")
    assert sorted(deleted["deleted_keys"]) == ["tmp/d1/a.csv", "tmp/d1/b.csv", "tmp/d1/c.txt"]
    assert (deleted["deleted_count"], deleted["keys_truncated"], deleted["error_count"]) == (3, False, 0)
    assert cos.head(SRC_BUCKET, "tmp/d2/a.csv") is not None
    keys = xcom(run, "keys")
    assert keys["deleted_keys"] == ["keep/a"]
    assert [(e["key"], e["code"]) for e in keys["errors"]] == [("keep/b", "AccessDenied")]


def test_delete_fails_on_a_per_key_error(cos: Any, cos_connection: str) -> None:
    cos.put_object(SRC_BUCKET, "keep/a", b"x")
    cos.put_object(SRC_BUCKET, "keep/b", b"x")
    cos.add_fault(FaultRule.always("DeleteObject", "access_denied", key="keep/b"))
    run = run_dag("cos_delete_fails")
    assert task_states(run) == {"delete": "failed"}
    summary = xcom(run, "delete")
    assert [(e["key"], e["code"]) for e in summary["errors"]] == [("keep/b", "AccessDenied")]
    assert cos.head(SRC_BUCKET, "keep/a") is None and cos.head(SRC_BUCKET, "keep/b") is not None


def test_delete_versions_operator(cos: Any, cos_connection: str) -> None:
    for body in (b"1", b"2", b"3"):
        cos.put_object(VERSIONED_BUCKET, "old/a", body)
    cos.put_object(VERSIONED_BUCKET, "new/b", b"kept")
    run = run_dag("cos_delete_versions")
    assert task_states(run) == {"purge": "success"}
    summary = xcom(run, "purge")
    assert (summary["deleted_keys"], summary["versions_deleted"], summary["error_count"]) == (["old/a"], 3, 0)
    assert cos.head(VERSIONED_BUCKET, "old/a") is None and cos.head(VERSIONED_BUCKET, "new/b") is not None


def test_list_operator_and_expand(cos: Any, cos_connection: str) -> None:
    for key in ("logs/top.txt", "logs/a/1.csv", "logs/a/2.txt", "logs/b/3.csv", "other/x"):
        cos.put_object(SRC_BUCKET, key, b"x")
    run = run_dag("cos_list")
    states = task_states(run)
    assert set(states.values()) == {"success"}, states
    assert xcom(run, "files") == ["logs/a/1.csv", "logs/a/2.txt", "logs/b/3.csv", "logs/top.txt"]
    assert xcom(run, "top") == ["logs/top.txt"]
    assert xcom(run, "csvs") == ["logs/a/1.csv", "logs/b/3.csv"]
    assert xcom(run, "folders") == ["logs/a/", "logs/b/"]
    assert {states.get("clean[0]"), states.get("clean[1]")} == {"success"}
    assert xcom(run, "size_of", map_index=1) == "LOGS/B/"
    assert cos.head(SRC_BUCKET, "logs/a/1.csv") is None and cos.head(SRC_BUCKET, "logs/top.txt") is not None


def test_templated_fields() -> None:
    assert {"bucket", "prefix", "match_glob", "keys"} <= set(CosDeleteObjectsOperator.template_fields)
    assert {"bucket", "prefix", "match_glob", "delimiter"} <= set(CosListOperator.template_fields)
