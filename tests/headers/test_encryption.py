"""Server-side encryption by COS (SSE-COS: AES256, SM4) and by KMS (SSE-KMS: cos/kms), on copies."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from qcloud_cos.cos_exception import CosServiceError as SdkServiceError

from cos_provider.client import limits
from cos_provider.client.errors import CosValidationError
from cos_provider.hooks.cos import CosHook
from cos_provider.operators.object_copy import CosCopyObjectOperator
from tests.conftest import DST_BUCKET, REGION, SRC_BUCKET
from tests.headers.conftest import sdk_client

MiB = limits.MiB
MODES = {"single": {}, "multipart": {"multipart_threshold": 0, "part_size": MiB}}
DATA = b"e" * (2 * MiB + 5)


def copy(**kw: Any) -> dict[str, Any]:
    op = CosCopyObjectOperator(
        task_id="t",
        source_bucket_key=f"cos://{SRC_BUCKET}/in.bin",
        dest_bucket_key=f"cos://{DST_BUCKET}/out.bin",
        **kw,
    )
    return op.execute({})  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("given", "sent"), [("aes256", "AES256"), ("sm4", "SM4"), ("COS/KMS", "cos/kms")])
def test_each_algorithm_case_folded_and_sent_in_cos_spelling(
    cos: Any, cos_connection: str, mode: str, given: str, sent: str
) -> None:
    cos.put_object(SRC_BUCKET, "in.bin", DATA)
    copy(server_side_encryption=given, **MODES[mode])
    assert cos.head(DST_BUCKET, "out.bin")["sse"] == sent  # the emulator takes only COS's spelling
    assert CosHook().head_object(f"cos://{DST_BUCKET}/out.bin").server_side_encryption == sent


@pytest.mark.parametrize("mode", MODES)
def test_kms_key_id_and_context(cos: Any, cos_connection: str, mode: str) -> None:
    cos.put_object(SRC_BUCKET, "in.bin", DATA)
    copy(
        server_side_encryption="cos/kms",
        kms_key_id="48ba38aa-26c5-11ea-855c-52540085****",
        kms_context={"project": "airflow", "中": "文"},
        **MODES[mode],
    )
    head = cos.head(DST_BUCKET, "out.bin")
    assert head["kms_key_id"] == "48ba38aa-26c5-11ea-855c-52540085****"
    assert json.loads(base64.b64decode(head["kms_context"])) == {"project": "airflow", "中": "文"}
    info = CosHook().head_object(f"cos://{DST_BUCKET}/out.bin")
    assert (info.server_side_encryption, info.kms_key_id) == (
        "cos/kms",
        "48ba38aa-26c5-11ea-855c-52540085****",
    )


def test_kms_context_already_encoded_is_sent_as_given(cos: Any, cos_connection: str) -> None:
    cos.put_object(SRC_BUCKET, "in.bin", b"x")
    encoded = "eyJhdXRob3IiOiJmeXNudGlhbiIsImNvbXBhbnkiOiJUZW5jZW50In0="  # doc 436/7749's example
    copy(server_side_encryption="cos/kms", kms_context=encoded)
    assert cos.head(DST_BUCKET, "out.bin")["kms_context"] == encoded


BAD = [
    ({"server_side_encryption": "AES128"}, "server_side_encryption", "AES256, SM4, cos/kms"),
    ({"server_side_encryption": 256}, "server_side_encryption", "must be a string"),
    ({"kms_key_id": "k"}, "kms_key_id", "cos/kms"),
    ({"server_side_encryption": "AES256", "kms_context": {"a": "b"}}, "kms_context", "cos/kms"),
    ({"server_side_encryption": "cos/kms", "kms_context": "not base64!"}, "kms_context", "base64"),
    (
        {"server_side_encryption": "cos/kms", "kms_context": base64.b64encode(b"[1, 2]").decode()},
        "kms_context",
        "JSON object",
    ),
    ({"server_side_encryption": "cos/kms", "kms_context": {"a": 1}}, "kms_context", "strings"),
    ({"server_side_encryption": "cos/kms", "kms_context": ["a"]}, "kms_context", "got list"),
    ({"server_side_encryption": "cos/kms", "kms_key_id": 7}, "kms_key_id", "must be a string"),
]


@pytest.mark.parametrize(("params", "field", "rule"), BAD)
def test_bad_encryption_parameters_are_refused_before_any_request(
    cos: Any, cos_connection: str, params: dict[str, Any], field: str, rule: str
) -> None:
    cos.put_object(SRC_BUCKET, "in.bin", b"x")
    before = cos.counters()["requests"]
    with pytest.raises(CosValidationError) as err:
        copy(**params)
    assert (err.value.field, rule in err.value.rule) == (field, True), err.value
    assert cos.counters()["requests"] == before


@pytest.mark.parametrize("mode", MODES)
def test_metadata_replacement_keeps_kms_encryption_and_key(cos: Any, cos_connection: str, mode: str) -> None:
    cos.put_object(SRC_BUCKET, "in.bin", DATA, sse="cos/kms", kms_key_id="cmk-1", metadata={"a": "1"})
    CosHook().replace_metadata(f"cos://{SRC_BUCKET}/in.bin", metadata={"b": "2"}, **MODES[mode])
    head = cos.head(SRC_BUCKET, "in.bin")
    assert (head["sse"], head["kms_key_id"], head["metadata"]) == ("cos/kms", "cmk-1", {"a": "1", "b": "2"})


@pytest.mark.parametrize("sse", ["SM4", "AES256"])
def test_metadata_replacement_keeps_sse_cos(cos: Any, cos_connection: str, sse: str) -> None:
    cos.put_object(SRC_BUCKET, "in.bin", b"x", sse=sse)
    CosHook().replace_metadata(f"cos://{SRC_BUCKET}/in.bin", metadata={"b": "2"})
    assert (cos.head(SRC_BUCKET, "in.bin")["sse"], cos.head(SRC_BUCKET, "in.bin")["kms_key_id"]) == (
        sse,
        None,
    )


def test_a_copy_is_not_encrypted_unless_asked(cos: Any, cos_connection: str) -> None:
    """COS: the destination has no SSE unless the copy request asks, whatever the source had."""
    cos.put_object(SRC_BUCKET, "in.bin", b"x", sse="cos/kms", kms_key_id="cmk-1")
    copy()
    head = cos.head(DST_BUCKET, "out.bin")
    assert (head["sse"], head["kms_key_id"]) == (None, None)


def test_emulator_refuses_an_unknown_algorithm_with_invalid_argument(cos: Any) -> None:
    cos.put_object(SRC_BUCKET, "in.bin", b"x")
    client = sdk_client(cos.address)
    source = {"Bucket": SRC_BUCKET, "Key": "in.bin", "Region": REGION}
    for bad in ({"ServerSideEncryption": "DES"}, {"ServerSideEncryption": "AES256", "SSEKMSKeyId": "k"}):
        with pytest.raises(SdkServiceError) as err:
            client.copy_object(Bucket=DST_BUCKET, Key="o", CopySource=source, **bad)
        assert (err.value.get_status_code(), err.value.get_error_code()) == (400, "InvalidArgument")
    with pytest.raises(SdkServiceError) as err:
        client.create_multipart_upload(Bucket=DST_BUCKET, Key="o", ServerSideEncryption="aes-256")
    assert (err.value.get_status_code(), err.value.get_error_code()) == (400, "InvalidArgument")
    assert cos.head(DST_BUCKET, "o") is None and cos.live_uploads() == 0
