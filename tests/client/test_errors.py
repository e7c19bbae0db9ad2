"""Which call failed, and on which attempt: recorded on every error alike by both transports."""

from __future__ import annotations

import asyncio
import logging
import socket

import pytest

from cos_provider.client.aio import AsyncCosClient
from cos_provider.client.client import CosClient
from cos_provider.client.credentials import Credentials
from cos_provider.client.endpoints import Endpoint
from cos_provider.client.errors import (
    CosError,
    CosServiceError,
    CosTransportError,
    CosValidationError,
    error_from_response,
)
from cos_provider.client.retry import RetryPolicy
from cos_provider.client.transport import TransportConfig
from cos_provider.emulator import FaultRule
from tests.conftest import APP_ID, REGION, SECRET_ID, SECRET_KEY, SRC_BUCKET

CONFIG = TransportConfig(
    read_timeout=5, connect_timeout=2, retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02)
)


def endpoint(address: str) -> Endpoint:
    return Endpoint(region=REGION, scheme="http", connect_address=address)


def sync_head(address: str, key: str) -> None:
    with CosClient(Credentials(SECRET_ID, SECRET_KEY), endpoint(address), CONFIG, app_id=APP_ID) as c:
        c.head_object("src", key)


def async_head(address: str, key: str) -> None:
    async def main() -> None:
        async with AsyncCosClient(
            Credentials(SECRET_ID, SECRET_KEY), endpoint(address), CONFIG, app_id=APP_ID
        ) as c:
            await c.head_object("src", key)

    asyncio.run(main())


BOTH = pytest.mark.parametrize("head", [sync_head, async_head], ids=["sync", "async"])


def closed_port_address() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_errors_not_from_a_request_keep_the_defaults():
    for error in (
        CosError("plain"),
        CosValidationError("key", "must not be empty"),
        CosServiceError(404, "NoSuchKey"),
        CosTransportError("down"),
        error_from_response(500, {}, b""),
    ):
        assert (error.cos_request, error.attempt) == ("", 0)


def test_during_records_the_call_on_the_same_error():
    error = CosServiceError(503, "SlowDown")
    assert error.during("HeadObject b-1/k", 2) is error
    assert (error.cos_request, error.attempt) == ("HeadObject b-1/k", 2)
    assert (CosError.cos_request, CosError.attempt) == ("", 0)  # the class defaults are untouched


def test_during_names_the_object_and_region_in_the_message():
    error = CosServiceError(404, "NoSuchResource", request_id="r1", method="HEAD")
    assert str(error) == "COS error 404 NoSuchResource (method=HEAD, request_id=r1)"
    error.during("HeadObject b-1/k", 1, target="cos://b-1/k?versionId=v", region="ap-beijing")
    assert str(error) == (
        "COS error 404 NoSuchResource on HeadObject cos://b-1/k?versionId=v in region ap-beijing "
        "(method=HEAD, request_id=r1)"
    )


def test_request_target_names_bucket_key_and_version():
    from cos_provider.client.protocol import CosRequest

    assert (
        CosRequest("HeadObject", "HEAD", "b-1", "k", params={"versionId": "v"}).target()
        == "cos://b-1/k?versionId=v"
    )
    assert CosRequest("ListObjects", "GET", "b-1").target() == "cos://b-1/"
    assert CosRequest("GetService", "GET", "").target() == ""


@BOTH
def test_a_refused_call_names_itself_and_its_first_attempt(cos, head):
    with pytest.raises(CosServiceError) as info:
        head(cos.address, "missing")
    assert info.value.status == 404
    assert (info.value.cos_request, info.value.attempt) == (f"HeadObject {SRC_BUCKET}/missing", 1)


@BOTH
def test_a_retried_call_names_its_last_attempt(cos, head):
    cos.add_fault(FaultRule(operation="HeadObject", kind="internal_error", permanent=True))
    with pytest.raises(CosServiceError) as info:
        head(cos.address, "k")
    assert (info.value.code, info.value.cos_request, info.value.attempt) == (
        "InternalError",
        f"HeadObject {SRC_BUCKET}/k",
        3,
    )


@BOTH
def test_an_unanswered_call_names_itself_and_counts_attempts(head):
    with pytest.raises(CosTransportError) as info:
        head(closed_port_address(), "k")
    error = info.value
    assert (error.cos_request, error.attempt, error.attempts) == (f"HeadObject {SRC_BUCKET}/k", 3, 3)


def test_retry_log_names_the_call_and_the_attempt(cos, caplog):
    caplog.set_level(logging.WARNING, logger="cos_provider.client.retry")
    cos.put_object(SRC_BUCKET, "k", b"x")
    cos.add_fault(FaultRule(operation="HeadObject", kind="internal_error", times=2))
    sync_head(cos.address, "k")
    lines = [r.getMessage() for r in caplog.records if r.name == "cos_provider.client.retry"]
    assert len(lines) == 2
    for number, line in enumerate(lines, start=1):
        assert line.startswith(f"COS HeadObject {SRC_BUCKET}/k failed (attempt {number} of 3): COS error 500")
