"""An upload whose Initiate reply was lost leaves no upload behind (the copies' rule, cos_provider.client.copy.orphans).

The emulator creates the upload and then loses the reply: ``reset`` cuts the
connection, ``slow`` holds the request past the client's read timeout and
only then creates it, so the lost attempt's upload appears *after* the
retry's. Either way the client retries Initiate and uses the second upload;
the first must be found and aborted whether the upload then succeeds, fails,
or fails and succeeds on a retried task.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from cos_provider.client import limits
from cos_provider.client.client import CosClient
from cos_provider.client.credentials import Credentials
from cos_provider.client.endpoints import Endpoint
from cos_provider.client.errors import CosServiceError
from cos_provider.client.retry import RetryPolicy
from cos_provider.client.transport import TransportConfig
from cos_provider.client.upload import Uploader, UploadOptions
from cos_provider.emulator import FaultRule
from tests.conftest import APP_ID, DST_BUCKET, REGION, SECRET_ID, SECRET_KEY
from tests.copy.conftest import settle
from tests.upload.test_upload import file_crc, write_random

MiB = limits.MiB
READ_TIMEOUT = 0.5
HELD = 1.0
OPTIONS = UploadOptions(multipart_threshold=0, part_size=MiB, concurrency=2)
"""3 MiB files in three 1 MiB parts."""
KINDS = ["reset", "slow"]


@pytest.fixture(autouse=True)
def _faults_cleared_and_settled(cos: Any) -> Iterator[None]:
    yield
    settle(cos)
    cos.clear_faults()


@contextmanager
def impatient_client(cos: Any) -> Iterator[CosClient]:
    config = TransportConfig(
        read_timeout=READ_TIMEOUT, retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05)
    )
    endpoint = Endpoint(region=REGION, scheme="http", connect_address=cos.address)
    with CosClient(Credentials(SECRET_ID, SECRET_KEY), endpoint, config, app_id=APP_ID) as client:
        yield client


def lose_initiate_reply(cos: Any, kind: str) -> None:
    extra = {"delay": HELD} if kind == "slow" else {}
    cos.add_fault(FaultRule(operation="InitiateMultipartUpload", kind=kind, times=1, **extra))


def open_uploads(cos: Any, key: str) -> list[str]:
    settle(cos)
    with cos.store.lock:
        return sorted(u.upload_id for u in cos.store.bucket(DST_BUCKET).uploads.values() if u.key == key)


def initiates(cos: Any) -> dict[str, int]:
    settle(cos)
    return dict(cos.counters()["requests"].get("InitiateMultipartUpload", {}))


@pytest.mark.parametrize("kind", KINDS)
def test_a_successful_upload_aborts_the_upload_of_the_lost_reply(
    cos: Any, tmp_path: Any, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_random(tmp_path / "f.bin", 3 * MiB)
    lose_initiate_reply(cos, kind)
    caplog.set_level(logging.WARNING)
    with impatient_client(cos) as client:
        result = Uploader(client).upload(str(path), client.ref(DST_BUCKET, "f.bin"), OPTIONS)
    assert initiates(cos) == {"200": 2}  # the lost attempt created an upload too
    assert open_uploads(cos, "f.bin") == []
    assert result.parts == 3 and result.crc64 == file_crc(path)
    assert int(cos.head(DST_BUCKET, "f.bin")["crc64"]) == result.crc64
    aborted = [r.getMessage() for r in caplog.records if "whose reply was lost created it" in r.getMessage()]
    assert len(aborted) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_a_failed_upload_leaves_neither_upload(cos: Any, tmp_path: Any, kind: str) -> None:
    path = write_random(tmp_path / "g.bin", 3 * MiB)
    lose_initiate_reply(cos, kind)
    cos.add_fault(FaultRule.always("UploadPart", "internal_error", part_number=2))
    with impatient_client(cos) as client, pytest.raises(CosServiceError):
        Uploader(client).upload(str(path), client.ref(DST_BUCKET, "g.bin"), OPTIONS)
    assert initiates(cos) == {"200": 2}
    assert open_uploads(cos, "g.bin") == []
    assert cos.head(DST_BUCKET, "g.bin") is None


@pytest.mark.parametrize("kind", KINDS)
def test_a_retried_task_succeeds_and_nothing_is_left(cos: Any, tmp_path: Any, kind: str) -> None:
    """The first try loses Initiate's reply and then fails; the retry (a new Uploader, as a new try) succeeds."""
    path = write_random(tmp_path / "h.bin", 3 * MiB)
    lose_initiate_reply(cos, kind)
    failing = FaultRule.always("UploadPart", "internal_error", part_number=3)
    cos.add_fault(failing)
    with impatient_client(cos) as client:
        with pytest.raises(CosServiceError):
            Uploader(client).upload(str(path), client.ref(DST_BUCKET, "h.bin"), OPTIONS)
        settle(cos)
        cos.clear_faults()
        result = Uploader(client).upload(str(path), client.ref(DST_BUCKET, "h.bin"), OPTIONS)
    assert initiates(cos) == {"200": 3}
    assert open_uploads(cos, "h.bin") == []
    assert int(cos.head(DST_BUCKET, "h.bin")["crc64"]) == result.crc64 == file_crc(path)


def test_no_listing_after_an_initiate_that_answered(cos: Any, tmp_path: Any) -> None:
    """The orphan look costs nothing when no reply was lost: the one listing is the resume check's."""
    path = write_random(tmp_path / "i.bin", 3 * MiB)
    with impatient_client(cos) as client:
        Uploader(client).upload(str(path), client.ref(DST_BUCKET, "i.bin"), OPTIONS)
    listings = sum(cos.counters()["requests"].get("ListMultipartUploads", {}).values())
    assert listings == 1
    assert initiates(cos) == {"200": 1}
