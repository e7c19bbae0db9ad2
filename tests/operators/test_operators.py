"""Operators called directly (``execute(context)``), against the emulator; no metadata DB."""

from __future__ import annotations

import sys
import time
import types
from typing import Any

import pytest

from cos_provider.client import limits
from cos_provider.client.copy import CopyCancelled
from cos_provider.client.errors import CosError, CosServiceError, CosValidationError
from cos_provider.client.globbing import glob_regex, literal_prefix
from cos_provider.emulator import FaultRule
from cos_provider.operators.metadata import CosReplaceObjectMetadataOperator
from cos_provider.operators.multipart import (
    CosAbortMultipartCopyOperator,
    CosCompleteMultipartCopyOperator,
    CosCopyPartsOperator,
    CosInitiateMultipartCopyOperator,
)
from cos_provider.operators.object_copy import CosCopyObjectOperator
from cos_provider.operators.prefix_copy import CosCopyPrefixOperator
from tests.background import start_copy_in_background
from tests.conftest import ARCHIVE_BUCKET, DST_BUCKET, OTHER_REGION, SRC_BUCKET, VERSIONED_BUCKET

MiB = limits.MiB


class FakeTI:
    def __init__(self) -> None:
        self.xcoms: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = value


def ctx() -> dict[str, Any]:
    return {"ti": FakeTI()}


def copy_op(**kw: Any) -> CosCopyObjectOperator:
    params = {"task_id": "t", "source_bucket_key": f"cos://{SRC_BUCKET}/in.bin", "dest_bucket_key": "out.bin"}
    params["dest_bucket_name"] = DST_BUCKET
    params.update(kw)
    return CosCopyObjectOperator(**params)


# ---------------------------------------------------------------- parameter errors


BAD_COPY_PARAMS = [
    (
        {"copy_source_if_match": "a", "copy_source_if_none_match": "b"},
        "copy_source_if_match + copy_source_if_none_match",
        "If-Match with If-Unmodified-Since",
    ),
    ({"copy_source_if_modified_since": "yesterday"}, "copy_source_if_modified_since", "neither ISO 8601"),
    ({"metadata_directive": "Replaced", "metadata": {"k": "v" * 3000}}, "metadata['k']", "exceeds"),
    (
        {"metadata_directive": "Replaced", "metadata": {f"k{i}": "v" * 1500 for i in range(3)}},
        "metadata",
        "x-cos-meta-*",
    ),
    ({"metadata": {"k": "v"}}, "metadata_directive", "use 'Replaced'"),
    ({"storage_class": "GLACIER"}, "storage_class", "not one of"),
    ({"acl": "world"}, "acl", "not one of"),
    ({"part_size": 1000}, "part_size", "from 1048576"),
    ({"part_size": 6 * limits.GiB}, "part_size", "5368709120"),
    ({"multipart_threshold": 6 * limits.GiB}, "multipart_threshold", "5368709120"),
    ({"concurrency": 0}, "concurrency", "from 1 to"),
    ({"metadata_directive": "Keep"}, "metadata_directive", "'Copy' or 'Replaced'"),
    (
        {"dest_bucket_key": f"cos://{SRC_BUCKET}/in.bin", "dest_bucket_name": None},
        "metadata_directive",
        "same",
    ),
    ({"source_bucket_key": "cos://nokey"}, "source_bucket_key", "cos://<bucket>/<key>"),
    ({"source_bucket_key": "in.bin"}, "source_bucket_name", "is required"),
    ({"dest_bucket_name": "Bad_Bucket"}, "dest_bucket_name", "must be <name>-<appid>"),
    ({"dest_bucket_key": "x" * 900}, "dest_bucket_key", "850"),
    ({"server_side_encryption": "AES128"}, "server_side_encryption", "AES256, SM4, cos/kms"),
    (
        {
            "move": True,
            "dest_bucket_key": f"cos://{SRC_BUCKET}/in.bin",
            "dest_bucket_name": None,
            "metadata_directive": "Replaced",
        },
        "move",
        "onto itself",
    ),
]


@pytest.mark.parametrize(("params", "field", "rule"), BAD_COPY_PARAMS)
def test_copy_parameter_errors_before_any_request(
    cos: Any, cos_connection: str, params: dict[str, Any], field: str, rule: str
) -> None:
    before = cos.counters()["requests"]
    with pytest.raises(CosValidationError) as err:
        copy_op(**params).execute(ctx())
    assert err.value.field == field
    assert rule in err.value.rule
    assert cos.counters()["requests"] == before


@pytest.mark.parametrize(
    ("op", "field"),
    [
        (CosCopyPrefixOperator(task_id="p", source_bucket=SRC_BUCKET), "prefix/match_glob/keys"),
        (
            CosCopyPrefixOperator(task_id="p", source_bucket=SRC_BUCKET, prefix="a/", keys=["b"]),
            "prefix/match_glob/keys",
        ),
        (CosCopyPrefixOperator(task_id="p", source_bucket=SRC_BUCKET, prefix="a/"), "metadata_directive"),
        (
            CosCopyPrefixOperator(
                task_id="p", source_bucket=SRC_BUCKET, prefix="a/", dest_bucket=DST_BUCKET, part_concurrency=0
            ),
            "part_concurrency",
        ),
        (
            CosReplaceObjectMetadataOperator(
                task_id="r", bucket_key=f"cos://{SRC_BUCKET}/x", remove=["a"], merge=False
            ),
            "remove",
        ),
        (
            CosReplaceObjectMetadataOperator(
                task_id="r", bucket_key=f"cos://{SRC_BUCKET}/x", remove=["a"], metadata={"A": "1"}
            ),
            "remove",
        ),
        (
            CosReplaceObjectMetadataOperator(
                task_id="r", bucket_key=f"cos://{SRC_BUCKET}/x", storage_class="X"
            ),
            "storage_class",
        ),
        (
            CosInitiateMultipartCopyOperator(
                task_id="i",
                source_bucket_key=f"cos://{SRC_BUCKET}/x",
                dest_bucket_key="y",
                max_mapped_tasks=2000,
            ),
            "max_mapped_tasks",
        ),
        (CosCopyPartsOperator(task_id="c", session={"x": 1}, batch={}), "session"),
        (CosCompleteMultipartCopyOperator(task_id="c", session="nope", parts=[]), "session"),
    ],
)
def test_other_parameter_errors(cos: Any, cos_connection: str, op: Any, field: str) -> None:
    before = cos.counters()["requests"]
    with pytest.raises(CosValidationError) as err:
        op.execute(ctx())
    assert err.value.field == field
    assert cos.counters()["requests"] == before


def test_templated_fields() -> None:
    copy_fields = set(CosCopyObjectOperator.template_fields)
    for name in (
        "source_bucket_key",
        "dest_bucket_key",
        "source_bucket_name",
        "dest_bucket_name",
        "metadata",
        "copy_source_if_match",
        "copy_source_if_none_match",
        "copy_source_if_modified_since",
        "copy_source_if_unmodified_since",
    ):
        assert name in copy_fields
    assert {"bucket_key", "bucket_name", "metadata", "if_match"} <= set(
        CosReplaceObjectMetadataOperator.template_fields
    )
    assert {"source_bucket", "dest_bucket", "prefix", "match_glob", "keys", "metadata"} <= set(
        CosCopyPrefixOperator.template_fields
    )
    for op in (copy_op(), CosCopyPrefixOperator(task_id="p", source_bucket="b", prefix="x")):
        for name in op.template_fields:
            assert hasattr(op, name), name


# ---------------------------------------------------------------- copy object


def test_copy_result_for_xcom(cos: Any, cos_connection: str) -> None:
    info = cos.seed_synthetic(SRC_BUCKET, "in.bin", size=3 * MiB, metadata={"a": "1"})
    result = copy_op(storage_class="standard_ia", acl="private", grant_write='id="100000000002"').execute(
        ctx()
    )
    assert set(result) >= {
        "dest_uri",
        "etag",
        "version_id",
        "crc64",
        "size",
        "last_modified",
        "source_version_id",
        "part_count",
    }
    assert (result["size"], result["crc64"], result["part_count"]) == (info["size"], info["crc64"], 0)
    head = cos.head(DST_BUCKET, "out.bin")
    assert (head["storage_class"], head["acl"], head["metadata"]) == ("STANDARD_IA", "private", {"a": "1"})
    assert head["grants"] == {"x-cos-grant-write": 'id="100000000002"'}


def test_cross_region_with_regions_as_parameters(cos: Any, cos_connection: str) -> None:
    info = cos.seed_synthetic(SRC_BUCKET, "in.bin", size=2 * MiB + 1)
    result = copy_op(
        dest_bucket_name=ARCHIVE_BUCKET, dest_region=OTHER_REGION, multipart_threshold=MiB, part_size=MiB
    ).execute(ctx())
    assert result["part_count"] == 3
    assert cos.head(ARCHIVE_BUCKET, "out.bin")["crc64"] == info["crc64"]
    back = CosCopyObjectOperator(
        task_id="t",
        source_bucket_key=f"cos://{ARCHIVE_BUCKET}/out.bin",
        source_region=OTHER_REGION,
        dest_bucket_key=f"cos://{DST_BUCKET}/back.bin",
    ).execute(ctx())
    assert back["crc64"] == info["crc64"]


def test_source_version_id(cos: Any, cos_connection: str) -> None:
    v1 = cos.seed_synthetic(VERSIONED_BUCKET, "doc", size=MiB, seed=1)
    cos.seed_synthetic(VERSIONED_BUCKET, "doc", size=MiB, seed=2)
    result = copy_op(
        source_bucket_key=f"cos://{VERSIONED_BUCKET}/doc", source_version_id=v1["version_id"]
    ).execute(ctx())
    assert (result["crc64"], result["source_version_id"]) == (v1["crc64"], v1["version_id"])


def test_move_deletes_the_source_after_the_copy(cos: Any, cos_connection: str) -> None:
    cos.put_object(SRC_BUCKET, "in.bin", b"data")
    copy_op(move=True).execute(ctx())
    assert cos.head(SRC_BUCKET, "in.bin") is None
    assert cos.get_object_bytes(DST_BUCKET, "out.bin") == b"data"


def test_move_of_a_version(cos: Any, cos_connection: str) -> None:
    v1 = cos.put_object(VERSIONED_BUCKET, "doc", b"one")
    cos.put_object(VERSIONED_BUCKET, "doc", b"two")
    copy_op(
        source_bucket_key=f"cos://{VERSIONED_BUCKET}/doc", source_version_id=v1["version_id"], move=True
    ).execute(ctx())
    assert cos.head(VERSIONED_BUCKET, "doc", v1["version_id"]) is None
    assert cos.get_object_bytes(VERSIONED_BUCKET, "doc") == b"two"


def test_failed_copy_does_not_move(cos: Any, cos_connection: str) -> None:
    cos.put_object(SRC_BUCKET, "in.bin", b"data")
    with pytest.raises(CosServiceError) as err:
        copy_op(move=True, copy_source_if_match="0" * 32).execute(ctx())
    assert err.value.status == 412
    assert cos.head(SRC_BUCKET, "in.bin") is not None


def test_on_kill_aborts_the_upload(cos: Any, cos_connection: str) -> None:
    cos.seed_synthetic(SRC_BUCKET, "in.bin", size=10 * MiB)
    cos.set_model(copy_bandwidth=5 * MiB)  # 0.2 s a part
    op = copy_op(multipart_threshold=0, part_size=MiB, concurrency=2)
    worker, errors = start_copy_in_background(cos, lambda: op.execute(ctx()))
    time.sleep(0.3)
    op.on_kill()
    assert cos.live_uploads() == 0  # aborted by on_kill itself, not later
    worker.join(10)
    assert errors and isinstance(errors[0], CopyCancelled)
    assert cos.head(DST_BUCKET, "out.bin") is None


# ---------------------------------------------------------------- replace metadata


def test_replace_metadata_merges_by_default(cos: Any, cos_connection: str) -> None:
    cos.put_object(
        SRC_BUCKET,
        "m.bin",
        b"x" * 10,
        metadata={"keep": "1", "change": "old", "drop": "3"},
        content_type="text/csv",
        storage_class="STANDARD_IA",
        cache_control="max-age=1",
    )
    result = CosReplaceObjectMetadataOperator(
        task_id="r",
        bucket_key="m.bin",
        bucket_name=SRC_BUCKET,
        metadata={"change": "new", "add": "4"},
        remove=["DROP"],
    ).execute(ctx())
    head = cos.head(SRC_BUCKET, "m.bin")
    assert head["metadata"] == {"keep": "1", "change": "new", "add": "4"} == result["metadata"]
    assert (head["content_type"], head["cache_control"], head["storage_class"]) == (
        "text/csv",
        "max-age=1",
        "STANDARD_IA",
    )
    assert result["etag"].strip('"') == head["etag"]
    assert result["previous_etag"]


def test_replace_metadata_without_merge(cos: Any, cos_connection: str) -> None:
    cos.put_object(SRC_BUCKET, "m.bin", b"x", metadata={"old": "1"}, content_type="text/csv")
    result = CosReplaceObjectMetadataOperator(
        task_id="r",
        bucket_key=f"cos://{SRC_BUCKET}/m.bin",
        metadata={"only": "this"},
        merge=False,
        content_type="application/json",
        storage_class="STANDARD_IA",
    ).execute(ctx())
    head = cos.head(SRC_BUCKET, "m.bin")
    assert head["metadata"] == {"only": "this"} == result["metadata"]
    assert (head["content_type"], head["storage_class"]) == ("application/json", "STANDARD_IA")


def test_replace_metadata_of_a_big_object_uses_parts(cos: Any, cos_connection: str, requests_of: Any) -> None:
    info = cos.seed_synthetic(SRC_BUCKET, "big.bin", size=3 * MiB, metadata={"a": "1"})
    result = CosReplaceObjectMetadataOperator(
        task_id="r",
        bucket_key=f"cos://{SRC_BUCKET}/big.bin",
        metadata={"b": "2"},
        multipart_threshold=MiB,
        part_size=MiB,
    ).execute(ctx())
    assert result["part_count"] == 3
    assert result["metadata"] == {"a": "1", "b": "2"}
    assert result["crc64"] == info["crc64"]
    assert requests_of("UploadPartCopy") == 3
    assert cos.live_uploads() == 0


def test_replace_metadata_never_clobbers_a_concurrent_writer(cos: Any, cos_connection: str) -> None:
    cos.put_object(SRC_BUCKET, "m.bin", b"x", metadata={"a": "1"})
    with pytest.raises(CosServiceError) as err:
        CosReplaceObjectMetadataOperator(
            task_id="r", bucket_key=f"cos://{SRC_BUCKET}/m.bin", metadata={"b": "2"}, if_match="0" * 32
        ).execute(ctx())
    assert err.value.status == 412
    assert cos.head(SRC_BUCKET, "m.bin")["metadata"] == {"a": "1"}


def test_replace_metadata_pins_the_etag_it_read(cos: Any, cos_connection: str, monkeypatch: Any) -> None:
    """A write between the operator's HEAD and its copy makes the copy fail with 412."""
    cos.put_object(SRC_BUCKET, "m.bin", b"x", metadata={"a": "1"})
    from cos_provider.client.client import CosClient

    real_head = CosClient.head_object
    calls = []

    def head_then_write(self: CosClient, *args: Any, **kwargs: Any) -> Any:
        info = real_head(self, *args, **kwargs)
        if not calls:
            cos.put_object(SRC_BUCKET, "m.bin", b"concurrent", metadata={"writer": "other"})
        calls.append(1)
        return info

    monkeypatch.setattr(CosClient, "head_object", head_then_write)
    with pytest.raises(CosServiceError) as err:
        CosReplaceObjectMetadataOperator(
            task_id="r", bucket_key=f"cos://{SRC_BUCKET}/m.bin", metadata={"b": "2"}
        ).execute(ctx())
    assert err.value.status == 412
    assert cos.head(SRC_BUCKET, "m.bin")["metadata"] == {"writer": "other"}


# ---------------------------------------------------------------- prefix


def seed_tree(cos: Any) -> None:
    for key in ("data/a.csv", "data/b.csv", "data/sub/c.csv", "data/sub/d.json", "other/e.csv"):
        cos.put_object(SRC_BUCKET, key, key.encode())


def test_prefix_copy(cos: Any, cos_connection: str) -> None:
    seed_tree(cos)
    uris = CosCopyPrefixOperator(
        task_id="p", source_bucket=SRC_BUCKET, dest_bucket=DST_BUCKET, prefix="data/", dest_prefix="copy/"
    ).execute(ctx())
    assert sorted(uris) == [
        f"cos://{DST_BUCKET}/copy/{k}" for k in ("a.csv", "b.csv", "sub/c.csv", "sub/d.json")
    ]
    assert cos.get_object_bytes(DST_BUCKET, "copy/sub/c.csv") == b"data/sub/c.csv"


def test_glob_copy(cos: Any, cos_connection: str) -> None:
    seed_tree(cos)
    uris = CosCopyPrefixOperator(
        task_id="p", source_bucket=SRC_BUCKET, dest_bucket=DST_BUCKET, match_glob="data/**/*.csv"
    ).execute(ctx())
    assert sorted(uris) == [f"cos://{DST_BUCKET}/data/{k}" for k in ("a.csv", "b.csv", "sub/c.csv")]
    one_level = CosCopyPrefixOperator(
        task_id="p",
        source_bucket=SRC_BUCKET,
        dest_bucket=DST_BUCKET,
        match_glob="data/*.csv",
        dest_prefix="flat/",
    ).execute(ctx())
    assert sorted(one_level) == [f"cos://{DST_BUCKET}/flat/{k}" for k in ("a.csv", "b.csv")]


def test_keys_copy_with_big_objects(cos: Any, cos_connection: str, requests_of: Any) -> None:
    seed_tree(cos)
    cos.seed_synthetic(SRC_BUCKET, "big.bin", size=3 * MiB)
    uris = CosCopyPrefixOperator(
        task_id="p",
        source_bucket=SRC_BUCKET,
        dest_bucket=DST_BUCKET,
        keys=["data/a.csv", "big.bin"],
        dest_prefix="k/",
        multipart_threshold=MiB,
        part_size=MiB,
    ).execute(ctx())
    assert sorted(uris) == [f"cos://{DST_BUCKET}/k/big.bin", f"cos://{DST_BUCKET}/k/data/a.csv"]
    assert requests_of("UploadPartCopy") == 3


def test_replace_false_skips_matching_destinations(cos: Any, cos_connection: str, requests_of: Any) -> None:
    seed_tree(cos)
    cos.put_object(DST_BUCKET, "data/a.csv", b"data/a.csv")  # same bytes: skipped
    cos.put_object(DST_BUCKET, "data/b.csv", b"stale")  # differs: copied
    uris = CosCopyPrefixOperator(
        task_id="p", source_bucket=SRC_BUCKET, dest_bucket=DST_BUCKET, prefix="data/", replace=False
    ).execute(ctx())
    assert len(uris) == 4
    assert requests_of("CopyObject") == 3
    assert cos.get_object_bytes(DST_BUCKET, "data/b.csv") == b"data/b.csv"


def test_continue_on_failure(cos: Any, cos_connection: str) -> None:
    seed_tree(cos)
    cos.add_fault(FaultRule.always("CopyObject", "error_200", key="data/b.csv", code="AccessDenied"))
    context = ctx()
    uris = CosCopyPrefixOperator(
        task_id="p",
        source_bucket=SRC_BUCKET,
        dest_bucket=DST_BUCKET,
        prefix="data/",
        continue_on_failure=True,
    ).execute(context)
    assert len(uris) == 3
    failures = context["ti"].xcoms["failures"]
    assert [f["key"] for f in failures] == ["data/b.csv"]
    assert "AccessDenied" in failures[0]["error"]
    with pytest.raises(CosError):
        CosCopyPrefixOperator(
            task_id="p", source_bucket=SRC_BUCKET, dest_bucket=DST_BUCKET, prefix="data/"
        ).execute(ctx())


def test_prefix_in_place_needs_replaced(cos: Any, cos_connection: str) -> None:
    seed_tree(cos)
    uris = CosCopyPrefixOperator(
        task_id="p",
        source_bucket=SRC_BUCKET,
        prefix="data/sub/",
        metadata_directive="Replaced",
        metadata={"x": "y"},
    ).execute(ctx())
    assert len(uris) == 2
    assert cos.head(SRC_BUCKET, "data/sub/c.csv")["metadata"] == {"x": "y"}


@pytest.mark.parametrize(
    ("pattern", "key", "matches"),
    [
        ("data/*.csv", "data/a.csv", True),
        ("data/*.csv", "data/sub/a.csv", False),
        ("data/**/*.csv", "data/a.csv", True),
        ("data/**/*.csv", "data/x/y/a.csv", True),
        ("data/**", "data/x/y", True),
        ("data/?.csv", "data/ab.csv", False),
        ("data/[ab].csv", "data/b.csv", True),
        ("data/[!ab].csv", "data/b.csv", False),
        ("a+b (1)/*.txt", "a+b (1)/x.txt", True),
    ],
)
def test_glob(pattern: str, key: str, matches: bool) -> None:
    assert bool(glob_regex(pattern, "match_glob").match(key)) is matches
    assert key.startswith(literal_prefix(pattern)) or not matches


# ---------------------------------------------------------------- mapped steps, directly


def test_mapped_steps_resume_a_retried_part_task(cos: Any, cos_connection: str, requests_of: Any) -> None:
    info = cos.seed_synthetic(SRC_BUCKET, "h.bin", size=6 * MiB)
    context = ctx()
    batches = CosInitiateMultipartCopyOperator(
        task_id="i",
        source_bucket_key=f"cos://{SRC_BUCKET}/h.bin",
        dest_bucket_key=f"cos://{DST_BUCKET}/h.bin",
        part_size=MiB,
        max_mapped_tasks=2,
    ).execute(context)
    session = context["ti"].xcoms["session"]
    assert [(b["first_part"], b["last_part"]) for b in batches] == [(1, 3), (4, 6)]
    cos.add_fault(FaultRule.always("UploadPartCopy", "internal_error", part_number=3))
    with pytest.raises(CosServiceError):
        CosCopyPartsOperator(task_id="c", session=session, batch=batches[0], concurrency=1).execute(ctx())
    assert cos.live_uploads() == 1  # a failed part task leaves the upload for its retry
    cos.clear_faults()
    before = requests_of("UploadPartCopy")
    first = CosCopyPartsOperator(task_id="c", session=session, batch=batches[0]).execute(ctx())
    assert requests_of("UploadPartCopy") - before == 1  # parts 1 and 2 were kept
    second = CosCopyPartsOperator(task_id="c", session=session, batch=batches[1]).execute(ctx())
    result = CosCompleteMultipartCopyOperator(task_id="f", session=session, parts=[first, second]).execute(
        ctx()
    )
    assert (result["crc64"], result["part_count"]) == (info["crc64"], 6)
    assert CosAbortMultipartCopyOperator(task_id="a", session=session).execute(ctx()) is False


def test_complete_refuses_missing_parts(cos: Any, cos_connection: str) -> None:
    cos.seed_synthetic(SRC_BUCKET, "h.bin", size=4 * MiB)
    context = ctx()
    batches = CosInitiateMultipartCopyOperator(
        task_id="i",
        source_bucket_key=f"cos://{SRC_BUCKET}/h.bin",
        dest_bucket_key=f"cos://{DST_BUCKET}/h.bin",
        part_size=MiB,
        max_mapped_tasks=2,
    ).execute(context)
    session = context["ti"].xcoms["session"]
    first = CosCopyPartsOperator(task_id="c", session=session, batch=batches[0]).execute(ctx())
    with pytest.raises(CosValidationError) as err:
        CosCompleteMultipartCopyOperator(task_id="f", session=session, parts=[first]).execute(ctx())
    assert err.value.field == "parts" and "3, 4" in err.value.rule
    assert CosAbortMultipartCopyOperator(task_id="a", session=session).execute(ctx()) is True
    assert cos.live_uploads() == 0


# ---------------------------------------------------------------- lineage


def test_hook_lineage(cos: Any, cos_connection: str, monkeypatch: Any) -> None:
    from airflow.sdk import lineage

    collector = lineage.HookLineageCollector()
    monkeypatch.setattr(lineage, "get_hook_lineage_collector", lambda: collector)
    cos.put_object(SRC_BUCKET, "a b/ü?.bin", b"x")
    copy_op(source_bucket_key=f"cos://{SRC_BUCKET}/a b/ü?.bin").execute(ctx())
    assets = collector.collected_assets
    assert [a.asset.uri for a in assets.inputs] == [f"cos://{SRC_BUCKET}/a%20b/%C3%BC%3F.bin"]
    assert [a.asset.uri for a in assets.outputs] == [f"cos://{DST_BUCKET}/out.bin"]


@pytest.fixture
def fake_openlineage(monkeypatch: Any) -> Any:
    """Stand-ins for the OpenLineage provider modules (not installed here)."""

    class Dataset:
        def __init__(self, namespace: str, name: str) -> None:
            self.namespace, self.name = namespace, name

    class OperatorLineage:
        def __init__(self, inputs: list[Any], outputs: list[Any]) -> None:
            self.inputs, self.outputs = inputs, outputs

    facet = types.ModuleType("airflow.providers.common.compat.openlineage.facet")
    facet.Dataset = Dataset  # type: ignore[attr-defined]
    extractors = types.ModuleType("airflow.providers.openlineage.extractors")
    extractors.OperatorLineage = OperatorLineage  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "airflow.providers.common.compat.openlineage.facet", facet)
    monkeypatch.setitem(sys.modules, "airflow.providers.openlineage.extractors", extractors)
    return Dataset


def test_openlineage_without_the_provider(cos: Any, cos_connection: str) -> None:
    cos.put_object(SRC_BUCKET, "in.bin", b"x")
    op = copy_op()
    op.execute(ctx())
    assert op.get_openlineage_facets_on_complete(None) is None


def test_openlineage_facets(cos: Any, cos_connection: str, fake_openlineage: Any) -> None:
    cos.put_object(SRC_BUCKET, "in.bin", b"x")
    op = copy_op()
    assert op.get_openlineage_facets_on_complete(None) is None  # nothing copied yet
    op.execute(ctx())
    facets = op.get_openlineage_facets_on_complete(None)
    assert [(d.namespace, d.name) for d in facets.inputs] == [(f"cos://{SRC_BUCKET}", "in.bin")]
    assert [(d.namespace, d.name) for d in facets.outputs] == [(f"cos://{DST_BUCKET}", "out.bin")]

    prefix = CosCopyPrefixOperator(task_id="p", source_bucket=SRC_BUCKET, dest_bucket=DST_BUCKET, prefix="in")
    prefix.execute(ctx())
    facets = prefix.get_openlineage_facets_on_complete(None)
    assert [d.name for d in facets.outputs] == ["in.bin"]
