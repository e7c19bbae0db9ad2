"""Tags on copies: ``x-cos-tagging-directive``, the source's tags on a multipart copy, tag rules.

COS copies the source's tags unless the directive is ``Replaced`` and then
ignores the request's tags: the emulator applies exactly that rule, so a
client that sends tags without the directive loses them here as on COS.
"""

from __future__ import annotations

from typing import Any

import pytest
from qcloud_cos.cos_exception import CosServiceError as SdkServiceError

from cos_provider.client import limits
from cos_provider.client.copy import CopyPartServiceError
from cos_provider.client.errors import CosValidationError
from cos_provider.emulator import FaultRule
from cos_provider.hooks.cos import CosHook
from cos_provider.operators.metadata import CosReplaceObjectMetadataOperator
from cos_provider.operators.object_copy import CosCopyObjectOperator
from cos_provider.operators.prefix_copy import CosCopyPrefixOperator
from tests.conftest import DST_BUCKET, REGION, SRC_BUCKET
from tests.headers.conftest import sdk_client

MiB = limits.MiB
MULTIPART = {"multipart_threshold": 0, "part_size": MiB}
MODES = {"single": {}, "multipart": MULTIPART}
SOURCE_TAGS = (("team", "data"), ("note", "a b+c/d:e=f@g"))
DATA = bytes(range(256)) * (9 * 1024)  # 2.25 MiB: three parts of 1 MiB in multipart mode


def seed(cos: Any, key: str = "in.bin", tags: tuple[tuple[str, str], ...] = SOURCE_TAGS) -> None:
    cos.put_object(SRC_BUCKET, key, DATA, metadata={"m": "1"}, tags=tags)


def copy(**kw: Any) -> dict[str, Any]:
    op = CosCopyObjectOperator(
        task_id="t",
        source_bucket_key=f"cos://{SRC_BUCKET}/in.bin",
        dest_bucket_key=f"cos://{DST_BUCKET}/out.bin",
        **kw,
    )
    return op.execute({})  # type: ignore[arg-type]


def sdk(cos: Any) -> Any:
    return sdk_client(cos.address)


# ---------------------------------------------------------------- copies


@pytest.mark.parametrize("mode", MODES)
def test_tags_given_to_a_copy_replace_the_sources(cos: Any, cos_connection: str, mode: str) -> None:
    seed(cos)
    copy(tagging={"project": "x+y 中", "path": "a/b:c"}, **MODES[mode])
    assert cos.head(DST_BUCKET, "out.bin")["tags"] == {"project": "x+y 中", "path": "a/b:c"}
    assert cos.get_object_bytes(DST_BUCKET, "out.bin") == DATA


@pytest.mark.parametrize("mode", MODES)
def test_a_copy_keeps_the_source_tags_by_default(
    cos: Any, cos_connection: str, requests_of: Any, mode: str
) -> None:
    seed(cos)
    copy(metadata_directive="Replaced", metadata={"new": "1"}, **MODES[mode])
    head = cos.head(DST_BUCKET, "out.bin")
    assert head["tags"] == dict(SOURCE_TAGS)
    assert head["metadata"] == {"new": "1"}
    # PUT copy lets COS carry the tags; a multipart copy reads them once and sends them with Initiate
    assert requests_of("GetObjectTagging") == (1 if mode == "multipart" else 0)


def test_an_untagged_source_is_not_asked_for_tags(cos: Any, cos_connection: str, requests_of: Any) -> None:
    seed(cos, tags=())
    copy(**MULTIPART)
    assert cos.head(DST_BUCKET, "out.bin")["tags"] == {}
    assert requests_of("GetObjectTagging") == 0  # HEAD counted none (no x-cos-tagging-count)


@pytest.mark.parametrize("mode", MODES)
def test_replaced_without_tags_removes_them(cos: Any, cos_connection: str, mode: str) -> None:
    seed(cos)
    copy(tagging_directive="replaced", **MODES[mode])  # case-folded
    assert cos.head(DST_BUCKET, "out.bin")["tags"] == {}


def test_tags_as_the_header_string_are_reencoded(cos: Any, cos_connection: str) -> None:
    """The string form is URL-encoded by the caller; ``+`` is a plus (a legal tag character)."""
    seed(cos)
    copy(tagging="a=x+y&b=%E4%B8%AD%20z&c=")
    assert cos.head(DST_BUCKET, "out.bin")["tags"] == {"a": "x+y", "b": "中 z", "c": ""}


def test_copy_directive_with_tags_is_refused_before_any_request(cos: Any, cos_connection: str) -> None:
    seed(cos)
    before = cos.counters()["requests"]
    with pytest.raises(CosValidationError) as err:
        copy(tagging={"a": "1"}, tagging_directive="Copy")
    assert err.value.field == "tagging_directive"
    assert "ignore" in err.value.rule
    assert cos.counters()["requests"] == before


def test_prefix_copy_retags_every_object(cos: Any, cos_connection: str) -> None:
    for i in range(3):
        cos.put_object(SRC_BUCKET, f"p/{i}", b"x", tags=(("old", "1"),))
    CosCopyPrefixOperator(
        task_id="p", source_bucket=SRC_BUCKET, dest_bucket=DST_BUCKET, prefix="p/", tagging="new=2"
    ).execute({"ti": None})  # type: ignore[arg-type]
    assert [cos.head(DST_BUCKET, f"p/{i}")["tags"] for i in range(3)] == [{"new": "2"}] * 3


def test_multipart_copy_fails_clearly_when_the_source_tags_cannot_be_read(
    cos: Any, cos_connection: str
) -> None:
    seed(cos)
    cos.add_fault(FaultRule(operation="GetObjectTagging", kind="access_denied", times=1))
    with pytest.raises(CopyPartServiceError) as err:
        copy(**MULTIPART)
    assert err.value.status == 403
    assert "GetObjectTagging" in str(err.value) and "tagging_directive='Replaced'" in str(err.value)
    assert cos.counters()["faults_injected"] == {"GetObjectTagging": {"access_denied": 1}}
    assert cos.live_uploads() == 0  # refused before Initiate: nothing to clean up
    assert cos.head(DST_BUCKET, "out.bin") is None


def test_multipart_copy_of_a_version_takes_that_versions_tags(cos: Any, cos_connection: str) -> None:
    from tests.conftest import VERSIONED_BUCKET

    v1 = cos.put_object(VERSIONED_BUCKET, "k", DATA, tags=(("v", "1"),))["version_id"]
    cos.put_object(VERSIONED_BUCKET, "k", DATA, tags=(("v", "2"),))
    CosCopyObjectOperator(
        task_id="t",
        source_bucket_key=f"cos://{VERSIONED_BUCKET}/k",
        source_version_id=v1,
        dest_bucket_key=f"cos://{DST_BUCKET}/out.bin",
        **MULTIPART,
    ).execute({})  # type: ignore[arg-type]
    assert cos.head(DST_BUCKET, "out.bin")["tags"] == {"v": "1"}


# ---------------------------------------------------------------- in place


@pytest.mark.parametrize("mode", MODES)
def test_retag_in_place_keeps_metadata(cos: Any, cos_connection: str, mode: str) -> None:
    seed(cos)
    result = CosReplaceObjectMetadataOperator(
        task_id="r", bucket_key=f"cos://{SRC_BUCKET}/in.bin", tagging={"stage": "done"}, **MODES[mode]
    ).execute({})  # type: ignore[arg-type]
    head = cos.head(SRC_BUCKET, "in.bin")
    assert head["tags"] == {"stage": "done"}
    assert head["metadata"] == {"m": "1"} == result["metadata"]


@pytest.mark.parametrize("mode", MODES)
def test_metadata_replacement_keeps_the_tags(cos: Any, cos_connection: str, mode: str) -> None:
    seed(cos)
    CosHook().replace_metadata(f"cos://{SRC_BUCKET}/in.bin", metadata={"more": "2"}, **MODES[mode])
    head = cos.head(SRC_BUCKET, "in.bin")
    assert head["tags"] == dict(SOURCE_TAGS)
    assert head["metadata"] == {"m": "1", "more": "2"}


def test_remove_tags_in_place(cos: Any, cos_connection: str) -> None:
    seed(cos)
    CosHook().replace_metadata(f"cos://{SRC_BUCKET}/in.bin", tagging_directive="Replaced")
    assert cos.head(SRC_BUCKET, "in.bin")["tags"] == {}


# ---------------------------------------------------------------- validation

BAD_TAGS = [
    ({f"k{i}": "v" for i in range(limits.MAX_TAGS + 1)}, "at most 10"),
    ({"k" * 129: "v"}, "1 to 128"),
    ({"": "v"}, "1 to 128"),
    ({"k": "v" * 257}, "at most 256"),
    ({"k": "a&b"}, "'&'"),
    ({"k#": "v"}, "'#'"),
    ("a=1&b", "not key=value"),
    ("a=%26", "'&'"),  # decoded before the charset check
    ("a=1&a=2", "given twice"),
    ("a=%FF", "not UTF-8"),
    (42, "got int"),
    (["a=1"], "got list"),
    ({"k": 1}, "string values"),
]


@pytest.mark.parametrize(("tagging", "rule"), BAD_TAGS)
def test_bad_tags_are_refused_before_any_request(
    cos: Any, cos_connection: str, tagging: Any, rule: str
) -> None:
    seed(cos)
    before = cos.counters()["requests"]
    with pytest.raises(CosValidationError) as err:
        copy(tagging=tagging)
    assert err.value.field == "tagging"
    assert rule in err.value.rule
    assert cos.counters()["requests"] == before


def test_edge_lengths_are_accepted(cos: Any, cos_connection: str) -> None:
    seed(cos)
    tags = {"k" * 128: "v" * 256, **{f"t{i}": "" for i in range(9)}}
    copy(tagging=tags)
    assert cos.head(DST_BUCKET, "out.bin")["tags"] == tags


# ---------------------------------------------------------------- the emulator, driven by the SDK


def test_emulator_applies_the_directive_rule_to_what_the_sdk_sends(cos: Any) -> None:
    seed(cos)
    client = sdk(cos)
    source = {"Bucket": SRC_BUCKET, "Key": "in.bin", "Region": REGION}
    # the SDK sends x-cos-tagging without the directive: COS keeps the source's tags
    client.copy_object(Bucket=DST_BUCKET, Key="no-directive", CopySource=source, Tagging="new=1")
    assert cos.head(DST_BUCKET, "no-directive")["tags"] == dict(SOURCE_TAGS)
    # the documented workaround (cos-data-plane.md §1): the directive as a pass-through header
    client.copy_object(
        Bucket=DST_BUCKET,
        Key="replaced",
        CopySource=source,
        Tagging="new=1",
        Metadata={"x-cos-tagging-directive": "Replaced"},
    )
    assert cos.head(DST_BUCKET, "replaced")["tags"] == {"new": "1"}
    with pytest.raises(SdkServiceError) as err:
        client.copy_object(
            Bucket=DST_BUCKET, Key="bad", CopySource=source, Metadata={"x-cos-tagging-directive": "Keep"}
        )
    assert (err.value.get_status_code(), err.value.get_error_code()) == (400, "InvalidArgument")


def test_emulator_object_tagging_api_and_count(cos: Any) -> None:
    seed(cos)
    client = sdk(cos)
    head = client.head_object(Bucket=SRC_BUCKET, Key="in.bin")
    assert head["x-cos-tagging-count"] == "2"
    got = client.get_object_tagging(Bucket=SRC_BUCKET, Key="in.bin")
    assert [(t["Key"], t["Value"]) for t in got["TagSet"]["Tag"]] == list(SOURCE_TAGS)
    client.put_object_tagging(
        Bucket=SRC_BUCKET, Key="in.bin", Tagging={"TagSet": {"Tag": [{"Key": "only", "Value": "one"}]}}
    )
    assert cos.head(SRC_BUCKET, "in.bin")["tags"] == {"only": "one"}
    client.delete_object_tagging(Bucket=SRC_BUCKET, Key="in.bin")
    assert cos.head(SRC_BUCKET, "in.bin")["tags"] == {}
    assert "x-cos-tagging-count" not in client.head_object(Bucket=SRC_BUCKET, Key="in.bin")
    too_many = {"TagSet": {"Tag": [{"Key": f"k{i}", "Value": "v"} for i in range(11)]}}
    with pytest.raises(SdkServiceError) as err:
        client.put_object_tagging(Bucket=SRC_BUCKET, Key="in.bin", Tagging=too_many)
    assert (err.value.get_status_code(), err.value.get_error_code()) == (400, "InvalidArgument")
