"""CosHook as the façade: every user-facing operation is a hook method, and reports lineage."""

from __future__ import annotations

from typing import Any

import pytest

from cos_provider.client.errors import CosValidationError
from cos_provider.hooks.cos import CosHook
from tests.airflow_support import run_dag, task_states, xcom
from tests.conftest import ARCHIVE_BUCKET, DST_BUCKET, OTHER_REGION, SRC_BUCKET


@pytest.fixture
def collector(monkeypatch: Any) -> Any:
    """A real hook lineage collector, as Airflow builds one when a lineage reader is registered."""
    from airflow.sdk import lineage

    instance = lineage.HookLineageCollector()
    monkeypatch.setattr(lineage, "get_hook_lineage_collector", lambda: instance)
    return instance


@pytest.mark.airflow_db
@pytest.mark.usefixtures("airflow_db")
def test_a_hook_only_copy_from_a_task_reports_lineage(cos: Any, cos_connection: str, collector: Any) -> None:
    source = cos.put_object(SRC_BUCKET, "hook/in.csv", b"a,b\n1,2\n")
    run = run_dag("cos_hook_only_copy")
    assert task_states(run) == {"copy_with_the_hook": "success"}
    result = xcom(run, "copy_with_the_hook")
    assert result["copy"]["dest_uri"] == f"cos://{DST_BUCKET}/hook/out.csv"
    assert result["copy"]["crc64"] == source["crc64"]
    assert result["listed"] == ["hook/out.csv"]
    assert cos.head(DST_BUCKET, "hook/out.csv")["metadata"] == {"city": "beijing"}
    assets = collector.collected_assets
    assert [a.asset.uri for a in assets.inputs] == [f"cos://{SRC_BUCKET}/hook/in.csv"]
    assert [a.asset.uri for a in assets.outputs] == [f"cos://{DST_BUCKET}/hook/out.csv"]


def test_object_methods_take_urls_or_bucket_and_key(cos: Any, cos_connection: str, collector: Any) -> None:
    cos.put_object(SRC_BUCKET, "a/1.txt", b"one")
    cos.put_object(SRC_BUCKET, "a/2.csv", b"two")
    cos.put_object(SRC_BUCKET, "b/3.txt", b"three")
    hook = CosHook()
    assert hook.head_object(f"COS://{SRC_BUCKET}/a/1.txt").size == 3  # the scheme is case-insensitive
    assert hook.head_object("a/2.csv", "src").size == 3  # a bare name gets the connection's APPID
    assert [o.key for o in hook.list_objects("src", "a/")] == ["a/1.txt", "a/2.csv"]
    assert [o.key for o in hook.iter_objects(SRC_BUCKET, match_glob="**/*.txt")] == ["a/1.txt", "b/3.txt"]
    hook.delete_object(f"cos://{SRC_BUCKET}/a/1.txt")
    assert cos.head(SRC_BUCKET, "a/1.txt") is None
    assert [a.asset.uri for a in collector.collected_assets.outputs] == [f"cos://{SRC_BUCKET}/a/1.txt"]


@pytest.mark.parametrize(
    ("params", "field", "rule"),
    [
        ({"metdata": {"a": "1"}}, "metdata", "is not a copy parameter"),
        ({"concurrency": "8"}, "concurrency", "must be an integer"),
        ({"part_size": "5MB"}, "part_size", "whole number of bytes"),
        ({"multipart_threshold": 1.5}, "multipart_threshold", "whole number of bytes"),
        ({"copy_source_if_modified_since": 1700000000}, "copy_source_if_modified_since", "datetime"),
        ({"copy_source_if_unmodified_since": "yesterday"}, "copy_source_if_unmodified_since", "ISO 8601"),
        ({"move": "yes"}, "move", "True or False"),
        ({"resume": "false"}, "resume", "True or False"),
        ({"metadata": ["a"]}, "metadata", "dict"),
        ({"content_type": 7}, "content_type", "string"),
    ],
)
def test_copy_parameters_are_checked_by_name_before_any_request(
    cos: Any, cos_connection: str, params: dict[str, Any], field: str, rule: str
) -> None:
    before = cos.counters()["requests"]
    if "metadata" in params or "content_type" in params:
        params = {**params, "metadata_directive": "Replaced"}
    with pytest.raises(CosValidationError) as err:
        CosHook().copy_object(f"cos://{SRC_BUCKET}/x", "y", **params)
    assert err.value.field == field
    assert rule in err.value.rule
    assert cos.counters()["requests"] == before


@pytest.mark.parametrize(
    ("params", "field"),
    [({"replace": 0}, "replace"), ({"continue_on_failure": "true"}, "continue_on_failure")],
)
def test_prefix_flags_are_real_bools(
    cos: Any, cos_connection: str, params: dict[str, Any], field: str
) -> None:
    with pytest.raises(CosValidationError) as err:
        CosHook().copy_prefix(SRC_BUCKET, DST_BUCKET, prefix="a/", **params)
    assert err.value.field == field


def test_one_hook_serves_every_region(cos: Any, cos_connection: str) -> None:
    """A copy into another region needs a client there; the hook builds it once, from its own settings."""
    hook = CosHook()
    assert hook.client_for(None) is hook.conn
    assert hook.client_for(hook.region) is hook.conn
    other = hook.client_for(OTHER_REGION)
    assert other is hook.client_for(OTHER_REGION)
    assert other.endpoint.region == OTHER_REGION
    assert other.head_bucket(ARCHIVE_BUCKET)  # signed with the connection's keys, sent to that region
