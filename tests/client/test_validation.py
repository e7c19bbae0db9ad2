"""Bad input fails while the call is built, naming the field and the rule."""

from __future__ import annotations

import pytest

from cos_provider.client import operations as ops
from cos_provider.client import validation
from cos_provider.client.endpoints import Endpoint
from cos_provider.client.errors import CosValidationError
from cos_provider.client.operations import CopyConditions, ObjectAttributes, ObjectRef

EP = Endpoint(region="ap-beijing")
CONDITION_HEADERS = {
    "if_match": "x-cos-copy-source-If-Match",
    "if_none_match": "x-cos-copy-source-If-None-Match",
    "if_modified_since": "x-cos-copy-source-If-Modified-Since",
    "if_unmodified_since": "x-cos-copy-source-If-Unmodified-Since",
}
CONDITION_VALUES = {  # what test_condition_pairs gives, as sent: ETags quoted, dates in HTTP form
    "if_match": '"e"',
    "if_none_match": '"e"',
    "if_modified_since": "Mon, 01 Jan 2024 00:00:00 GMT",
    "if_unmodified_since": "Mon, 01 Jan 2024 00:00:00 GMT",
}
SRC = ObjectRef("src-1250000000", "a.txt")
DST = ObjectRef("dst-1250000000", "b.txt")


def error_of(fn, *args, **kwargs) -> CosValidationError:
    with pytest.raises(CosValidationError) as info:
        fn(*args, **kwargs)
    return info.value


def test_key_rules():
    assert "850" in error_of(validation.validate_key, "k" * 851).rule
    assert validation.validate_key("中" * 283) == "中" * 283  # 849 bytes
    assert "850" in error_of(validation.validate_key, "中" * 284).rule
    assert "control" in error_of(validation.validate_key, "a\x1bb").rule
    assert error_of(validation.validate_key, "").field == "key"
    assert error_of(ops.head_object, ObjectRef("src-1250000000", "")).field == "object.key"
    assert error_of(ops.head_object, ObjectRef("nobucketappid", "k")).field == "object.bucket"


@pytest.mark.parametrize(
    ("given", "ok"),
    [
        ({"if_match": "e"}, True),
        ({"if_match": "e", "if_unmodified_since": "2024-01-01T00:00:00Z"}, True),
        ({"if_none_match": "e", "if_modified_since": "2024-01-01T00:00:00Z"}, True),
        ({"if_match": "e", "if_none_match": "f"}, False),
        ({"if_match": "e", "if_modified_since": "2024-01-01T00:00:00Z"}, False),
        ({"if_none_match": "e", "if_unmodified_since": "2024-01-01T00:00:00Z"}, False),
        ({"if_modified_since": "2024-01-01T00:00:00Z", "if_unmodified_since": "2024-01-02T00:00:00Z"}, False),
        (
            {
                "if_match": "e",
                "if_unmodified_since": "2024-01-01T00:00:00Z",
                "if_modified_since": "2024-01-01T00:00:00Z",
            },
            False,
        ),
    ],
)
def test_condition_pairs(given, ok):
    conditions = CopyConditions(**given)
    if ok:
        call = ops.copy_object(SRC, DST, EP, conditions=conditions)
        sent = {k: v for k, v in call.request.headers.items() if k.startswith("x-cos-copy-source-If-")}
        assert sent == {CONDITION_HEADERS[name]: CONDITION_VALUES[name] for name in given}
    else:
        err = error_of(ops.copy_object, SRC, DST, EP, conditions=conditions)
        assert "If-Match with If-Unmodified-Since" in err.rule
        assert all(f"copy_source_{name}" in err.field for name in given)


def test_metadata_rules():
    assert validation.normalise_metadata({"X-COS-META-Owner": "me", "Team": "data"}) == {
        "owner": "me",
        "team": "data",
    }
    assert "'_'" in error_of(validation.normalise_metadata, {"bad_name": "x"}).rule
    assert "2048" in error_of(validation.normalise_metadata, {"big": "x" * 2049}).rule
    err = error_of(validation.normalise_metadata, {f"k{i}": "x" * 1000 for i in range(5)})
    assert err.field == "metadata" and "4096" in err.rule
    assert "duplicates" in error_of(validation.normalise_metadata, {"A": "1", "a": "2"}).rule
    assert "line breaks" in error_of(validation.normalise_metadata, {"a": "x\r\ny"}).rule


def test_storage_class_acl_sse_directive():
    assert validation.validate_storage_class("standard_ia") == "STANDARD_IA"
    assert "NEARLINE" in error_of(validation.validate_storage_class, "NEARLINE").rule
    assert error_of(validation.validate_acl, "public").field == "acl"
    assert "AES256" in error_of(validation.validate_sse, "aws:kms").rule
    assert validation.validate_directive("replaced") == "Replaced"
    assert error_of(validation.validate_directive, "REPLACE").field == "metadata_directive"


def test_ranges_and_part_sizes():
    assert validation.validate_range(0, 9) == "bytes=0-9"
    assert error_of(validation.validate_range, 10, 9).field == "copy_source_range"
    assert "5 GB" in error_of(validation.validate_range, 0, 5 * 1024**3).rule
    assert "1 MB" in error_of(validation.validate_part_size, 1024).rule
    assert error_of(validation.validate_part_number, 10_001).field == "part_number"
    assert error_of(ops.upload_part_copy, SRC, DST, EP, "u", 0).field == "part_number"


def test_same_object_needs_replaced():
    err = error_of(ops.copy_object, SRC, SRC, EP)
    assert err.field == "metadata_directive" and "Replaced" in err.rule
    call = ops.copy_object(
        SRC, SRC, EP, metadata_directive="Replaced", attributes=ObjectAttributes(content_type="a/b")
    )
    assert call.request.headers["x-cos-metadata-directive"] == "Replaced"
    # A named source version is a different object: restoring it in place is allowed.
    restore = ops.copy_object(ObjectRef(SRC.bucket, SRC.key, "v1"), SRC, EP).request
    assert (restore.method, restore.bucket, restore.key) == ("PUT", SRC.bucket, SRC.key)
    assert restore.headers["x-cos-copy-source"] == (
        "src-1250000000.cos.ap-beijing.myqcloud.com/a.txt?versionId=v1"
    )
    assert restore.headers["x-cos-metadata-directive"] == "Copy"


def test_copy_directive_refuses_new_metadata():
    err = error_of(ops.copy_object, SRC, DST, EP, attributes=ObjectAttributes(metadata={"a": "b"}))
    assert "Replaced" in err.rule


def test_copy_request_headers():
    call = ops.copy_object(
        ObjectRef("src-1250000000", "dir/a b+c.txt", "v 1", region="ap-guangzhou"),
        DST,
        EP,
        metadata_directive="Replaced",
        attributes=ObjectAttributes(
            content_type="text/csv",
            metadata={"Owner": "me"},
            storage_class="standard_ia",
            acl="private",
            grant_read='id="100000000001"',
            server_side_encryption="AES256",
        ),
        conditions=CopyConditions(if_match="abc", if_unmodified_since="2024-01-01T00:00:00Z"),
    )
    h = call.request.headers
    assert (
        h["x-cos-copy-source"]
        == "src-1250000000.cos.ap-guangzhou.myqcloud.com/dir/a%20b%2Bc.txt?versionId=v%201"
    )
    assert h["x-cos-copy-source-If-Match"] == '"abc"'
    assert h["x-cos-copy-source-If-Unmodified-Since"] == "Mon, 01 Jan 2024 00:00:00 GMT"
    assert h["Content-Type"] == "text/csv" and h["x-cos-meta-owner"] == "me"
    assert h["x-cos-storage-class"] == "STANDARD_IA" and h["x-cos-acl"] == "private"
    assert h["x-cos-grant-read"] == 'id="100000000001"' and h["x-cos-server-side-encryption"] == "AES256"


def test_complete_parts_must_ascend():
    assert "ascending" in error_of(ops.complete_multipart_upload, DST, "u", [(2, "a"), (1, "b")]).rule
    assert "at least one" in error_of(ops.complete_multipart_upload, DST, "u", []).rule


def test_one_leading_slash_is_dropped_and_more_are_refused():
    assert validation.normalise_key("/a/b") == "a/b"
    assert validation.normalise_key("a/./b") == "a/./b"
    assert validation.validate_key("/a") == "a"
    assert validation.validate_key("a//b/../c") == "a//b/../c"  # legal key characters, kept
    assert error_of(validation.validate_key, "//a").field == "key"
    assert "403" in error_of(validation.validate_key, "//a").rule
    assert "only '/'" in error_of(validation.validate_key, "/").rule
    assert error_of(validation.validate_object_key, "/a", "object.key").field == "object.key"
