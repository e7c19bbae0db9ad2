"""Every COS error names the object it was about, and auth errors say what to fix.

A HEAD answer has no body, so COS's ``<Resource>`` cannot name the object:
the message is built from the request instead (bucket, key, version, region),
plus the COS code and request id the answer did carry.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from cos_provider.client.copy.errors import CopyPartServiceError
from cos_provider.client.copy.plan import PartRange
from cos_provider.client.errors import CosServiceError, auth_hint
from cos_provider.client.operations import ObjectRef
from cos_provider.emulator import CosEmulator
from tests.conftest import APP_ID, DST_BUCKET, REGION, SECRET_ID, SRC_BUCKET, connection_json

from .conftest import make_client, run_async
from .proxy import RecordingProxy

WRONG_KEY_HINT = "The SecretKey does not match the SecretId: check the connection's SecretKey"


def test_missing_source_version_names_object_version_and_region(
    cos: Any, proxy: RecordingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's case: ``COS error 404 NoSuchResource (method=HEAD, …)`` named no key."""
    from cos_provider.hooks.cos import CosHook

    monkeypatch.setenv("AIRFLOW_CONN_COS_DEFAULT", connection_json(proxy.address))
    cos.put_object(SRC_BUCKET, "a.txt", b"hello")
    with pytest.raises(CosServiceError) as info:
        CosHook().copy_object("cos://src/a.txt", "cos://dst/b.txt", source_version_id="MTg0NDUx")
    error = info.value
    head = proxy.only("HEAD")
    assert head.body == b""
    assert (error.status, error.code) == (404, "NoSuchResource")
    assert (error.target, error.region) == (f"cos://{SRC_BUCKET}/a.txt?versionId=MTg0NDUx", REGION)
    text = str(error)
    assert f"HeadObject cos://{SRC_BUCKET}/a.txt?versionId=MTg0NDUx in region {REGION}" in text
    assert f"request_id={error.request_id}" in text and error.request_id


def test_get_and_delete_errors_name_the_object(cos: Any, proxy: RecordingProxy, client: Any) -> None:
    with pytest.raises(CosServiceError) as got:
        client.get_object("src", "missing/key.csv")
    assert f"on GetObject cos://{SRC_BUCKET}/missing/key.csv in region {REGION}: " in str(got.value)
    assert got.value.code == "NoSuchKey"
    with pytest.raises(CosServiceError) as deleted:
        client.delete_object("nobucket", "k")
    assert deleted.value.code == "NoSuchBucket"
    assert f"on DeleteObject cos://nobucket-{APP_ID}/k in region {REGION}" in str(deleted.value)


def test_async_errors_name_the_object_alike(cos: Any, proxy: RecordingProxy) -> None:
    async def go(c: Any) -> Any:
        try:
            await c.head_object("src", "gone", version_id="v1")
        except CosServiceError as exc:
            return exc
        raise AssertionError("no error")

    error = run_async(proxy.address, go)
    assert f"on HeadObject cos://{SRC_BUCKET}/gone?versionId=v1 in region {REGION}" in str(error)


def test_cross_region_source_names_its_own_region(cos: Any, proxy: RecordingProxy, client: Any) -> None:
    with pytest.raises(CosServiceError) as info:
        client.head_object("archive", "missing", region="ap-guangzhou")
    assert info.value.region == "ap-guangzhou"
    assert "in region ap-guangzhou" in str(info.value)


def test_wrong_secret_key_says_what_the_test_button_says(
    cos: Any, proxy: RecordingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cos_provider.hooks.cos import CosHook

    conn = json.loads(connection_json(proxy.address))
    conn["password"] = "not-the-secret-key"
    monkeypatch.setenv("AIRFLOW_CONN_COS_DEFAULT", json.dumps(conn))
    ok, button = CosHook().test_connection()
    assert not ok and WRONG_KEY_HINT in button

    cos.put_object(SRC_BUCKET, "a.txt", b"hello")
    with (
        make_client(proxy.address, secret_key="not-the-secret-key") as wrong,
        pytest.raises(CosServiceError) as copy,
    ):
        wrong.copy_object(ObjectRef(SRC_BUCKET, "a.txt"), ObjectRef(DST_BUCKET, "b.txt"))
    assert copy.value.code == "SignatureDoesNotMatch"
    assert WRONG_KEY_HINT in str(copy.value)
    assert f"on CopyObject cos://{DST_BUCKET}/b.txt" in str(copy.value)

    # Through the hook the copy starts with a HEAD, whose 403 has no body: the hint lists the causes.
    with pytest.raises(CosServiceError) as hooked:
        CosHook().copy_object("cos://src/a.txt", "cos://dst/b.txt")
    assert (hooked.value.status, hooked.value.code, hooked.value.message) == (403, "AccessDenied", "")
    assert "SecretId/SecretKey are wrong" in str(hooked.value)
    assert f"HeadObject cos://{SRC_BUCKET}/a.txt" in str(hooked.value)


def test_message_style_auth_errors_get_the_same_hint() -> None:
    """Tencent's troubleshooting pages show ``<Code>AccessDenied</Code><Message>SignatureDoesNotMatch``."""
    with CosEmulator(credentials={SECRET_ID: "right"}, auth_error_style="message") as emu:
        emu.create_bucket(DST_BUCKET, region=REGION)
        with make_client(emu.address) as client, pytest.raises(CosServiceError) as info:
            client.list_objects("dst")
    assert (info.value.code, info.value.message) == ("AccessDenied", "SignatureDoesNotMatch")
    assert WRONG_KEY_HINT in str(info.value)


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        ("InvalidAccessKeyId", "", "check the connection's SecretId"),
        ("SignatureDoesNotMatch", "", "check the connection's SecretKey"),
        ("AccessDenied", "SignatureDoesNotMatch", "check the connection's SecretKey"),
        ("RequestTimeTooSkewed", "", "clock is off"),
        ("AccessDenied", "Request has expired", "clock is off"),
        ("ExpiredToken", "The token has expired", "session token"),  # not the clock
        ("InvalidToken", "", "session token"),
        ("AccessDenied", "", "SecretId/SecretKey are wrong or they lack permission"),
        ("AccessDenied", "Access Denied.", "lack permission"),
        ("NoSuchKey", "The specified key does not exist.", None),
    ],
)
def test_auth_hint(code: str, message: str, expected: str | None) -> None:
    hint = auth_hint(code, message)
    assert (hint is None) if expected is None else (hint is not None and expected in hint)


def test_restated_errors_keep_the_request_context(cos: Any, proxy: RecordingProxy, client: Any) -> None:
    """The copy engine restates part errors; they must still name the object and region."""
    with pytest.raises(CosServiceError) as info:
        client.head_object("src", "missing")
    restated = CopyPartServiceError(info.value, "UploadPartCopy", PartRange(1, 0, 9), "upload-1")
    assert restated.target == f"cos://{SRC_BUCKET}/missing"
    assert f"in region {REGION}" in str(restated)
    assert str(restated).startswith(
        "UploadPartCopy part 1 (bytes=0-9) of upload upload-1 failed: COS error 404"
    )
