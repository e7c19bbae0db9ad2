"""A 200 whose body cannot be read is retried like a reset connection, then named.

The emulator's ``truncated_body`` fault cuts a real answer in half (the
operation happened); ``garbage_body`` answers an HTML page instead (nothing
happened). Either way the client cannot use the answer: both transports must
retry it, and when the retries run out, raise a :class:`CosResponseError`
that names the operation and the object, never a bare XML or value error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cos_provider.client.client import CosClient
from cos_provider.client.errors import CosResponseError, CosServiceError, CosTransportError
from cos_provider.client.operations import ObjectRef
from cos_provider.emulator import CosEmulator, FaultRule
from tests.conftest import DST_BUCKET, REGION, SRC_BUCKET, connection_json

from .conftest import FAST, run_async
from .proxy import RecordingProxy

SRC = ObjectRef(SRC_BUCKET, "src.bin")
DST = ObjectRef(DST_BUCKET, "out.bin")
DATA = bytes(range(256)) * 8


def _initiated(client: CosClient) -> str:
    return client.initiate_multipart_upload(DST).upload_id


def _part_copied(client: CosClient) -> tuple[str, str]:
    upload_id = _initiated(client)
    return upload_id, client.upload_part_copy(SRC, DST, upload_id, 1).etag


# operation -> (what to set up without a fault, the call under test given that set-up)
OPERATIONS: dict[str, tuple[Callable[[CosClient], Any], Callable[[CosClient, Any], Any]]] = {
    "CopyObject": (lambda c: None, lambda c, _: c.copy_object(SRC, DST)),
    "InitiateMultipartUpload": (lambda c: None, lambda c, _: c.initiate_multipart_upload(DST)),
    "UploadPartCopy": (_initiated, lambda c, upload: c.upload_part_copy(SRC, DST, upload, 1)),
    "CompleteMultipartUpload": (
        _part_copied,
        lambda c, up: c.complete_multipart_upload(DST, up[0], [(1, up[1])]),
    ),
    "ListObjects": (lambda c: None, lambda c, _: c.list_objects("src")),
    "ListParts": (_part_copied, lambda c, up: c.list_parts(DST, up[0])),
    "ListMultipartUploads": (_initiated, lambda c, _: c.list_multipart_uploads("dst")),
}


def answered(cos: CosEmulator, operation: str) -> dict[str, int]:
    return dict(cos.counters()["requests"].get(operation, {}))


def injected(cos: CosEmulator, operation: str) -> dict[str, int]:
    return dict(cos.counters()["faults_injected"].get(operation, {}))


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_a_garbage_answer_is_retried(cos: CosEmulator, client: CosClient, operation: str) -> None:
    cos.put_object(SRC_BUCKET, "src.bin", DATA)
    setup, call = OPERATIONS[operation]
    state = setup(client)
    before = answered(cos, operation).get("200", 0)
    cos.add_fault(FaultRule(operation=operation, kind="garbage_body", times=1))
    assert call(client, state) is not None
    assert injected(cos, operation) == {"garbage_body": 1}
    assert answered(cos, operation)["200"] - before == 2


@pytest.mark.parametrize("operation", sorted(set(OPERATIONS) - {"CompleteMultipartUpload"}))
def test_a_truncated_answer_is_retried(cos: CosEmulator, client: CosClient, operation: str) -> None:
    cos.put_object(SRC_BUCKET, "src.bin", DATA)
    setup, call = OPERATIONS[operation]
    state = setup(client)
    before = answered(cos, operation).get("200", 0)
    cos.add_fault(FaultRule(operation=operation, kind="truncated_body", times=1))
    call(client, state)
    assert injected(cos, operation) == {"truncated_body": 1}
    assert answered(cos, operation)["200"] - before == 2
    if operation == "CopyObject":
        assert cos.get_object_bytes(DST_BUCKET, "out.bin") == DATA


def test_a_truncated_complete_is_retried_and_the_lost_success_shows(
    cos: CosEmulator, client: CosClient
) -> None:
    """The first Complete worked but its answer was cut: the retry finds the upload gone.

    That is the ``NoSuchUpload`` on a retried attempt that the copy engine
    checks against the destination; what matters here is that the cut answer
    was retried as an unanswered call is, not raised as an XML error.
    """
    cos.put_object(SRC_BUCKET, "src.bin", DATA)
    upload_id, etag = _part_copied(client)
    cos.add_fault(FaultRule(operation="CompleteMultipartUpload", kind="truncated_body", times=1))
    with pytest.raises(CosServiceError) as info:
        client.complete_multipart_upload(DST, upload_id, [(1, etag)])
    assert (info.value.code, info.value.attempt) == ("NoSuchUpload", 2)
    assert cos.get_object_bytes(DST_BUCKET, "out.bin") == DATA


@pytest.mark.parametrize("kind", ["garbage_body", "truncated_body"])
def test_when_retries_run_out_the_error_names_operation_and_object(
    cos: CosEmulator, client: CosClient, kind: str
) -> None:
    cos.put_object(SRC_BUCKET, "src.bin", DATA)
    cos.add_fault(FaultRule.always("CopyObject", kind))
    with pytest.raises(CosResponseError) as info:
        client.copy_object(SRC, DST)
    error = info.value
    assert isinstance(error, CosTransportError)  # handled as an unanswered call
    assert (error.status, error.attempt, error.attempts) == (200, FAST.max_attempts, FAST.max_attempts)
    assert error.request_id
    assert (error.target, error.region) == (f"cos://{DST_BUCKET}/out.bin", REGION)
    text = str(error)
    assert f"COS answered 200 to CopyObject cos://{DST_BUCKET}/out.bin in region {REGION}" in text
    assert f"request_id={error.request_id}" in text
    assert injected(cos, "CopyObject") == {kind: FAST.max_attempts}


def test_the_async_transport_retries_an_unreadable_listing(cos: CosEmulator, proxy: RecordingProxy) -> None:
    cos.put_object(SRC_BUCKET, "k", b"1")
    cos.add_fault(FaultRule(operation="ListObjects", kind="truncated_body", times=2))

    async def go(c: Any) -> Any:
        return await c.list_objects("src")

    page = run_async(proxy.address, go)
    assert [o.key for o in page.objects] == ["k"]
    assert [r.method for r in proxy.requests] == ["GET"] * 3
    cos.add_fault(FaultRule.always("ListObjects", "garbage_body"))
    with pytest.raises(CosResponseError) as info:
        run_async(proxy.address, go)
    assert f"to ListObjects cos://{SRC_BUCKET}/ in region {REGION}" in str(info.value)


def test_an_unreadable_header_is_an_unreadable_answer() -> None:
    """A HEAD has no body, but its numbers must parse too: a bad one raises the same class
    (so it is retried the same way), decided by the sans-I/O step both transports share."""
    from cos_provider.client import operations as ops
    from cos_provider.client.protocol import Headers, RawResponse
    from cos_provider.client.transport import finish

    call = ops.head_object(SRC)
    response = RawResponse(200, Headers({"Content-Length": "many", "x-cos-request-id": "r9"}), b"")
    with pytest.raises(CosResponseError, match=r"HeadObject cos://src-1250000000/src\.bin.*request_id=r9"):
        finish(call, response, call.request, 1, 0.0, REGION)


def test_hook_copy_survives_a_truncated_copy_answer(
    cos: CosEmulator, proxy: RecordingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cos_provider.hooks.cos import CosHook

    monkeypatch.setenv("AIRFLOW_CONN_COS_DEFAULT", connection_json(proxy.address))
    cos.put_object(SRC_BUCKET, "a.txt", b"hello")
    cos.add_fault(FaultRule(operation="CopyObject", kind="truncated_body", times=1))
    outcome = CosHook().copy_object("cos://src/a.txt", "cos://dst/b.txt")
    assert outcome.size == 5
    assert injected(cos, "CopyObject") == {"truncated_body": 1}
    assert [r.method for r in proxy.requests] == ["HEAD", "PUT", "PUT"]
