"""Keys with dot segments, doubled and leading slashes, as they cross the wire.

A front end that resolves dot segments (RFC 3986 §5.2.4) would turn
``PUT /x/../y`` into ``PUT /y``: another key than the one signed. Both HTTP
libraries get in the way differently (``requests`` decodes ``%2E`` back to
``.``; urllib3 and httpx resolve literal dot segments), so these tests look at
the request line the recording proxy saw, next to what the official SDK
sends for the same key.
"""

from __future__ import annotations

from typing import Any

import pytest
from qcloud_cos import CosS3Client
from qcloud_cos.cos_exception import CosServiceError as SdkServiceError

from cos_provider.client.client import CosClient
from cos_provider.client.errors import CosValidationError
from cos_provider.client.operations import ObjectRef
from cos_provider.emulator import CosEmulator
from tests.conftest import DST_BUCKET, SECRET_ID, SECRET_KEY, SRC_BUCKET, connection_json

from .conftest import run_async
from .proxy import RecordingProxy

# key -> the path on the wire. Where the SDK gets it right, these are the SDK's bytes.
WIRE_PATHS = {
    "a/./b": b"/a/.%2Fb",
    "a/../b": b"/a/..%2Fb",
    "./x": b"/.%2Fx",
    "a//b": b"/a//b",
    "..": b"/%2E%2E",
    ".": b"/%2E",
    "a/..": b"/a/%2E%2E",
}
SDK_LOSES = {"..", ".", "a/.."}
"""Keys whose last segment is dots: the SDK sends them literally and urllib3 resolves them to ``/``."""


@pytest.mark.parametrize("key", sorted(WIRE_PATHS))
def test_request_line_holds_the_encoded_path_like_the_sdk(
    cos: Any, proxy: RecordingProxy, client: CosClient, sdk: CosS3Client, key: str
) -> None:
    client.put_object("src", key, b"ours")
    ours = proxy.only("PUT")
    assert ours.request_line == b"PUT " + WIRE_PATHS[key] + b" HTTP/1.1"
    assert cos.get_object_bytes(SRC_BUCKET, key) == b"ours"
    proxy.clear()

    if key in SDK_LOSES:
        with pytest.raises(SdkServiceError):
            sdk.put_object(Bucket=SRC_BUCKET, Key=key, Body=b"sdk")
        assert proxy.only("PUT").path == b"/"  # the SDK's bug: the key was resolved away
    else:
        sdk.put_object(Bucket=SRC_BUCKET, Key=key, Body=b"sdk")
        assert proxy.only("PUT").path == WIRE_PATHS[key]
        assert cos.get_object_bytes(SRC_BUCKET, key) == b"sdk"


@pytest.mark.parametrize("key", sorted(WIRE_PATHS))
def test_async_transport_sends_the_same_path(cos: Any, proxy: RecordingProxy, key: str) -> None:
    async def go(c: Any) -> Any:
        await c.put_object("src", key, b"async")
        return await c.head_object("src", key)

    info = run_async(proxy.address, go)
    assert [r.path for r in proxy.requests] == [WIRE_PATHS[key]] * 2
    assert (info.key, info.size) == (key, 5)
    assert cos.get_object_bytes(SRC_BUCKET, key) == b"async"


@pytest.mark.parametrize("key", sorted(WIRE_PATHS))
def test_put_head_copy_round_trip(cos: Any, proxy: RecordingProxy, client: CosClient, key: str) -> None:
    client.put_object("src", key, b"payload")
    assert client.head_object("src", key).size == 7
    client.copy_object(ObjectRef(SRC_BUCKET, key), ObjectRef(DST_BUCKET, key))
    assert cos.get_object_bytes(DST_BUCKET, key) == b"payload"
    assert client.head_object("dst", key).key == key
    assert {r.path for r in proxy.requests} == {WIRE_PATHS[key]}
    # Only the listed key exists: nothing was written under a resolved path.
    assert [o.key for o in client.list_objects("dst").objects] == [key]


# ---------------------------------------------------------------- leading slashes


def test_one_leading_slash_is_dropped_as_the_sdk_drops_it(
    cos: Any, proxy: RecordingProxy, client: CosClient, sdk: CosS3Client
) -> None:
    sdk.put_object(Bucket=SRC_BUCKET, Key="/lead", Body=b"sdk")
    theirs = proxy.only("PUT")
    proxy.clear()
    client.put_object("src", "/lead", b"ours")
    ours = proxy.only("PUT")
    assert ours.path == theirs.path == b"/lead"
    assert ours.authorization.header_list == theirs.authorization.header_list
    assert cos.get_object_bytes(SRC_BUCKET, "lead") == b"ours"
    assert cos.head(SRC_BUCKET, "/lead") is None

    info = client.head_object("src", "/lead")
    assert info.key == "lead"
    client.copy_object(ObjectRef(SRC_BUCKET, "/lead"), ObjectRef(DST_BUCKET, "/copied"))
    assert cos.get_object_bytes(DST_BUCKET, "copied") == b"ours"
    copy = proxy.requests[-1]
    assert copy.path == b"/copied"
    assert copy.header("x-cos-copy-source") == f"{SRC_BUCKET}.cos.ap-beijing.myqcloud.com/lead".encode()


@pytest.mark.parametrize("key", ["//x", "/", "///a/b"])
def test_keys_cos_cannot_address_are_refused_before_any_request(
    proxy: RecordingProxy, client: CosClient, key: str
) -> None:
    with pytest.raises(CosValidationError) as info:
        client.head_object("src", key)
    assert info.value.field == "object.key"
    assert proxy.requests == []


def test_hook_drops_one_leading_slash_from_cos_urls(
    cos: Any, proxy: RecordingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cos_provider.hooks.cos import CosHook

    monkeypatch.setenv("AIRFLOW_CONN_COS_DEFAULT", connection_json(proxy.address))
    cos.put_object(SRC_BUCKET, "a.txt", b"hello")
    outcome = CosHook().copy_object("cos://src//a.txt", "cos://dst//b.txt")
    assert (outcome.source_uri, outcome.dest_uri) == (
        f"cos://{SRC_BUCKET}/a.txt",
        f"cos://{DST_BUCKET}/b.txt",
    )
    assert cos.get_object_bytes(DST_BUCKET, "b.txt") == b"hello"
    with pytest.raises(CosValidationError) as info:
        CosHook().head_object("cos://src///a.txt")
    assert info.value.field == "key"


# ---------------------------------------------------------------- the emulator sees the raw path


def _signed_put(port: int, target: str, signed_path: str) -> tuple[int, bytes]:
    import http.client
    import time

    from cos_provider.client.signing import authorization

    host = f"{SRC_BUCKET}.cos.ap-beijing.myqcloud.com"
    now = int(time.time())
    auth = authorization(
        SECRET_ID,
        SECRET_KEY,
        "PUT",
        signed_path,
        {},
        {"Host": host, "Content-Length": "1"},
        now - 60,
        now + 600,
    )
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest("PUT", target, skip_host=True, skip_accept_encoding=True)
        for name, value in (("Host", host), ("Content-Length", "1"), ("Authorization", auth)):
            conn.putheader(name, value)
        conn.endheaders(b"x")
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_emulator_verifies_the_path_as_sent_not_as_collapsed(cos: CosEmulator) -> None:
    # Signed over what was sent: the signature holds, then COS's rule for "//" applies.
    status, body = _signed_put(cos.port, "//x", "//x")
    assert (status, b"<Code>AccessDenied</Code>" in body) == (403, True)
    # Signed over the collapsed path http.server would have served: not the request that was sent.
    status, body = _signed_put(cos.port, "//x", "/x")
    assert (status, b"<Code>SignatureDoesNotMatch</Code>" in body) == (403, True)
    assert cos.head(SRC_BUCKET, "x") is None and cos.head(SRC_BUCKET, "/x") is None
    # Dot segments are neither resolved nor refused: the key is what was signed.
    status, _ = _signed_put(cos.port, "/a/./b", "/a/./b")
    assert status == 200
    assert cos.get_object_bytes(SRC_BUCKET, "a/./b") == b"x"
