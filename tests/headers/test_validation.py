"""Attribute parameters: each refused before any request, naming the field and the rule it breaks."""

from __future__ import annotations

from typing import Any

import pytest

from cos_provider.client.errors import CosValidationError
from cos_provider.hooks.cos import CosHook
from cos_provider.operators.object_copy import CosCopyObjectOperator
from tests.conftest import DST_BUCKET, SRC_BUCKET

REPLACED = {"metadata_directive": "Replaced"}

BAD = [
    # grants: COS takes id="<uin>" or id="qcs::cam::uin/<owner>:uin/<uin>", comma-separated
    ({"grant_read": "100000000001"}, "grant_read", "not a COS grant list"),
    ({"grant_read": "id=100000000001"}, "grant_read", "not a COS grant list"),
    ({"grant_write": 'id="alice"'}, "grant_write", "not a COS grant list"),
    (
        {"grant_full_control": 'uri="http://acs.example.com/AllUsers"'},
        "grant_full_control",
        "not a COS grant",
    ),
    ({"grant_read_acp": 'id="1",'}, "grant_read_acp", "not a COS grant list"),
    ({"grant_write_acp": 'id="qcs::cam::uin/1:uin/x"'}, "grant_write_acp", "not a COS grant list"),
    ({"grant_read": 100000000001}, "grant_read", "must be a string, got int"),
    # canned ACL and SSE: case-folded, the refusal says what is accepted
    ({"acl": "world-readable"}, "acl", "not one of authenticated-read, bucket-owner-full-control"),
    ({"acl": ["private"]}, "acl", "must be a string, got list"),
    ({"server_side_encryption": "kms"}, "server_side_encryption", "not one of AES256, SM4, cos/kms"),
    # types of every attribute parameter
    ({**REPLACED, "content_type": 5}, "content_type", "must be a string, got int"),
    ({**REPLACED, "cache_control": b"no-cache"}, "cache_control", "must be a string, got bytes"),
    ({**REPLACED, "content_disposition": "a\r\nb"}, "content_disposition", "single-line"),
    ({**REPLACED, "content_encoding": ["gzip"]}, "content_encoding", "must be a string, got list"),
    ({**REPLACED, "expires": 1700000000}, "expires", "must be a string, got int"),
    ({**REPLACED, "metadata": ["a", "b"]}, "metadata", "must be a dict"),
    ({**REPLACED, "metadata": {"a": 1}}, "metadata['a']", "must be a string"),
    ({"storage_class": 3}, "storage_class", "must be a string, got int"),
    ({"tagging": 7}, "tagging", "got int"),
    ({"tagging_directive": True}, "tagging_directive", "got bool"),
    ({"tagging_directive": "Keep"}, "tagging_directive", "'Copy' or 'Replaced'"),
    ({"metadata_directive": 1}, "metadata_directive", "got int"),
    ({"kms_key_id": ["k"], "server_side_encryption": "cos/kms"}, "kms_key_id", "must be a string"),
    ({"resume": "yes"}, "resume", "True or False"),
    ({"overwrite": "false"}, "overwrite", "True or False"),
]


@pytest.mark.parametrize(
    ("params", "field", "rule"), BAD, ids=[f"{f}-{i}" for i, (_, f, _) in enumerate(BAD)]
)
def test_bad_attributes_are_refused_before_any_request(
    cos: Any, cos_connection: str, params: dict[str, Any], field: str, rule: str
) -> None:
    cos.put_object(SRC_BUCKET, "in.bin", b"x")
    before = cos.counters()["requests"]
    with pytest.raises(CosValidationError) as err:
        CosCopyObjectOperator(
            task_id="t",
            source_bucket_key=f"cos://{SRC_BUCKET}/in.bin",
            dest_bucket_key=f"cos://{DST_BUCKET}/o",
            **params,
        ).execute({})  # type: ignore[arg-type]
    assert err.value.field == field
    assert rule in err.value.rule, err.value.rule
    assert cos.counters()["requests"] == before


def test_the_hook_refuses_the_same(cos: Any, cos_connection: str) -> None:
    with pytest.raises(CosValidationError) as err:
        CosHook().copy_object(f"cos://{SRC_BUCKET}/in.bin", f"cos://{DST_BUCKET}/o", grant_read="everyone")
    assert err.value.field == "grant_read"
    with pytest.raises(CosValidationError) as err:
        CosHook().replace_metadata(f"cos://{SRC_BUCKET}/in.bin", tagging={"k": "&"})
    assert err.value.field == "tagging"
    assert cos.counters()["requests"] == {}


def test_case_folded_values_are_sent_in_cos_spelling(cos: Any, cos_connection: str) -> None:
    cos.put_object(SRC_BUCKET, "in.bin", b"x")
    grants = (
        'id="100000000001", id="qcs::cam::uin/100000000001:uin/100000000011",id="qcs::cam::anyone:anyone"'
    )
    CosCopyObjectOperator(
        task_id="t",
        source_bucket_key=f"cos://{SRC_BUCKET}/in.bin",
        dest_bucket_key=f"cos://{DST_BUCKET}/o",
        acl="Public-Read",
        storage_class="standard_ia",
        server_side_encryption="Aes256",
        grant_read=grants,
    ).execute({})  # type: ignore[arg-type]
    head = cos.head(DST_BUCKET, "o")  # the emulator accepts only COS's exact spellings
    assert (head["acl"], head["storage_class"], head["sse"]) == ("public-read", "STANDARD_IA", "AES256")
    assert head["grants"] == {"x-cos-grant-read": grants}
