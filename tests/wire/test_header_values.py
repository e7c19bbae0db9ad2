"""Non-ASCII header values go out as the official SDK sends them, and come back readable.

The SDK converts every header value to its UTF-8 bytes and signs those bytes
percent-encoded (``cos-data-plane.md`` §1). The tests below capture what the
SDK and both of our transports put on the wire for the same object and
compare the bytes, so "as the SDK does" is shown, not assumed. Values that
HTTP cannot carry faithfully are refused before any request is sent.
"""

from __future__ import annotations

import http.client
from typing import Any

import pytest
from qcloud_cos import CosS3Client

from cos_provider.client import operations as ops
from cos_provider.client.client import CosClient
from cos_provider.client.errors import CosValidationError
from cos_provider.client.operations import CopyConditions, ObjectAttributes, ObjectRef
from cos_provider.client.protocol import CosRequest, prepare
from tests.conftest import DST_BUCKET, SRC_BUCKET, connection_json

from .conftest import run_async
from .proxy import Recorded, RecordingProxy

CITY = "北京"
DISPOSITION = 'attachment; filename="报告 2024.pdf"'
ACCENTED = "café"  # latin-1 encodable: http.client would send one byte 0xE9 for "é" if given str
SDK_METADATA = {"x-cos-meta-city": CITY, "x-cos-meta-accent": ACCENTED}
OUR_METADATA = {"city": CITY, "accent": ACCENTED}


def signed_headers(recorded: Recorded) -> list[str]:
    return list(recorded.authorization.header_list)


def assert_same_header_bytes(ours: Recorded, theirs: Recorded) -> None:
    for name in ("x-cos-meta-city", "x-cos-meta-accent", "Content-Disposition"):
        assert ours.header(name) == theirs.header(name), name
    assert ours.header("x-cos-meta-city") == CITY.encode("utf-8")
    assert ours.header("x-cos-meta-accent") == ACCENTED.encode("utf-8")
    assert ours.header("Content-Disposition") == DISPOSITION.encode("utf-8")
    assert signed_headers(ours) == signed_headers(theirs)
    assert {"content-disposition", "x-cos-meta-city", "x-cos-meta-accent"} <= set(signed_headers(ours))


def sdk_put(sdk: CosS3Client, proxy: RecordingProxy, key: str) -> Recorded:
    sdk.put_object(
        Bucket=SRC_BUCKET, Key=key, Body=b"data", Metadata=SDK_METADATA, ContentDisposition=DISPOSITION
    )
    recorded = proxy.requests[-1]
    assert recorded.method == "PUT"
    return recorded


def test_sync_put_sends_the_sdks_bytes_and_head_decodes_them(
    cos: Any, proxy: RecordingProxy, client: CosClient, sdk: CosS3Client
) -> None:
    theirs = sdk_put(sdk, proxy, "sdk.txt")
    attrs = ObjectAttributes(metadata=OUR_METADATA, content_disposition=DISPOSITION)
    client.put_object("src", "ours.txt", b"data", attributes=attrs)
    ours = proxy.requests[-1]
    assert_same_header_bytes(ours, theirs)

    # The emulator stored text, not mojibake, and our HEAD reads it back whoever wrote it.
    assert cos.head(SRC_BUCKET, "ours.txt")["metadata"] == OUR_METADATA
    for key in ("ours.txt", "sdk.txt"):
        info = client.head_object("src", key)
        assert info.metadata == OUR_METADATA
        assert info.content_disposition == DISPOSITION


def test_async_put_sends_the_sdks_bytes_and_head_decodes_them(
    cos: Any, proxy: RecordingProxy, sdk: CosS3Client
) -> None:
    theirs = sdk_put(sdk, proxy, "sdk.txt")

    async def go(c: Any) -> Any:
        await c.put_object("src", "ours.txt", b"data", metadata=OUR_METADATA)
        return await c.head_object("src", "sdk.txt")

    info = run_async(proxy.address, go)
    ours = proxy.requests[-2]
    assert ours.method == "PUT"
    for name in ("x-cos-meta-city", "x-cos-meta-accent"):
        assert ours.header(name) == theirs.header(name)
    assert {"x-cos-meta-city", "x-cos-meta-accent"} <= set(signed_headers(ours))
    assert cos.head(SRC_BUCKET, "ours.txt")["metadata"] == OUR_METADATA
    assert info.metadata == OUR_METADATA
    assert info.content_disposition == DISPOSITION


def test_emulator_answers_raw_utf8_in_head_and_get(cos: Any, client: CosClient) -> None:
    """What COS does with metadata the SDK wrote: the same bytes come back on HEAD and GET."""
    cos.put_object(SRC_BUCKET, "k", b"data", metadata=OUR_METADATA, content_disposition=DISPOSITION)
    ref = ObjectRef(SRC_BUCKET, "k")
    for call in (ops.head_object(ref), ops.get_object(ref)):
        signed = prepare(call.request, client.transport.credentials, client.transport.endpoint)
        conn = http.client.HTTPConnection("127.0.0.1", cos.port, timeout=10)
        try:
            conn.request(call.request.method, "/k", headers=signed.wire_headers())
            resp = conn.getresponse()
            resp.read()
        finally:
            conn.close()
        assert resp.status == 200
        # http.client decodes header bytes as latin-1; re-encoding recovers the bytes sent.
        assert resp.getheader("x-cos-meta-city", "").encode("latin-1") == CITY.encode("utf-8")
        assert resp.getheader("Content-Disposition", "").encode("latin-1") == DISPOSITION.encode("utf-8")


def test_hook_copy_with_replaced_utf8_metadata(
    cos: Any, proxy: RecordingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's reproduction: this raised UnicodeEncodeError after the HEAD had been sent."""
    from cos_provider.hooks.cos import CosHook

    monkeypatch.setenv("AIRFLOW_CONN_COS_DEFAULT", connection_json(proxy.address))
    cos.put_object(SRC_BUCKET, "a.txt", b"hello")
    CosHook().copy_object(
        "cos://src/a.txt",
        "cos://dst/b.txt",
        metadata_directive="Replaced",
        metadata={"city": CITY},
        content_disposition=DISPOSITION,
    )
    put = proxy.only("PUT")
    assert put.header("x-cos-meta-city") == CITY.encode("utf-8")
    assert put.header("Content-Disposition") == DISPOSITION.encode("utf-8")
    head = cos.head(DST_BUCKET, "b.txt")
    assert (head["metadata"], head["content_disposition"]) == ({"city": CITY}, DISPOSITION)


# ---------------------------------------------------------------- refused before any request

SRC = ObjectRef(SRC_BUCKET, "a.txt")
DST = ObjectRef(DST_BUCKET, "b.txt")
BAD_VALUES = ["two\r\nlines", "line\nfeed", "nul\x00", "bell\x07", "del\x7f", " padded", "padded\t"]


@pytest.mark.parametrize("value", BAD_VALUES)
@pytest.mark.parametrize(
    ("field", "attributes"),
    [
        ("metadata['city']", lambda v: ObjectAttributes(metadata={"city": v})),
        ("content_disposition", lambda v: ObjectAttributes(content_disposition=v)),
        ("content_type", lambda v: ObjectAttributes(content_type=v)),
        ("cache_control", lambda v: ObjectAttributes(cache_control=v)),
        ("expires", lambda v: ObjectAttributes(expires=v)),
        ("tagging", lambda v: ObjectAttributes(tagging=v)),
        ("grant_read", lambda v: ObjectAttributes(grant_read=v)),
    ],
)
def test_unsendable_values_are_refused_before_any_request(
    proxy: RecordingProxy, client: CosClient, field: str, attributes: Any, value: str
) -> None:
    with pytest.raises(CosValidationError) as info:
        client.copy_object(SRC, DST, metadata_directive="Replaced", attributes=attributes(value))
    assert info.value.field == field
    assert proxy.requests == []


@pytest.mark.parametrize("value", [v for v in BAD_VALUES if v == v.strip(" \t")])
def test_unsendable_etag_conditions_are_refused_before_any_request(
    proxy: RecordingProxy, client: CosClient, value: str
) -> None:
    with pytest.raises(CosValidationError) as info:
        client.copy_object(SRC, DST, conditions=CopyConditions(if_match="abc" + value))
    assert info.value.field == "copy_source_if_match"
    assert proxy.requests == []


def test_a_hand_built_request_cannot_carry_a_line_break() -> None:
    with pytest.raises(CosValidationError) as info:
        CosRequest(
            "PutObject", "PUT", SRC_BUCKET, "k", headers={"x-cos-meta-a": "1\r\nx-cos-acl: public-read"}
        )
    assert info.value.field == "header x-cos-meta-a"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"metadata": {"city": "bei\r\njing"}}, "metadata['city']"),
        ({"content_disposition": 'attachment; filename="a\nb"'}, "content_disposition"),
        ({"cache_control": " no-cache"}, "cache_control"),
        ({"metadata": {"city": "bei\x01jing"}}, "metadata['city']"),
        ({"tagging": "a=1\r\nx-cos-acl: public-read"}, "tagging"),
    ],
)
def test_hook_copy_refuses_unsendable_values_before_the_head(
    cos: Any, proxy: RecordingProxy, monkeypatch: pytest.MonkeyPatch, params: dict[str, Any], field: str
) -> None:
    """Today's bug: the HEAD went out, then the PUT failed inside requests (InvalidHeader)."""
    from cos_provider.hooks.cos import CosHook

    monkeypatch.setenv("AIRFLOW_CONN_COS_DEFAULT", connection_json(proxy.address))
    cos.put_object(SRC_BUCKET, "a.txt", b"hello")
    with pytest.raises(CosValidationError) as info:
        CosHook().copy_object("cos://src/a.txt", "cos://dst/b.txt", metadata_directive="Replaced", **params)
    assert info.value.field == field
    assert proxy.requests == []
