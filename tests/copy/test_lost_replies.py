"""Nothing is lost, whichever reply was lost (see cos_provider.client.copy.orphans and multipart.complete).

Every test injects its fault into the emulator over real loopback HTTP and
checks the emulator's counters that it fired. ``reset`` means the operation
happened and its reply was cut; ``slow`` holds the request past the client's
read timeout, then processes it, so a retried Initiate's first upload appears
*after* the retry's, possibly after the copy has finished its parts.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from cos_provider.client import limits
from cos_provider.client.client import CosClient
from cos_provider.client.copy import (
    CopyEngine,
    CopyOptions,
    CopyPartServiceError,
    MultipartSession,
    copy_many,
    mapped,
)
from cos_provider.client.copy.errors import LostUploadError
from cos_provider.client.credentials import Credentials
from cos_provider.client.endpoints import Endpoint
from cos_provider.client.operations import ObjectAttributes, ObjectRef
from cos_provider.client.retry import RetryPolicy
from cos_provider.client.transport import TransportConfig
from cos_provider.emulator import FaultRule
from tests.conftest import APP_ID, DST_BUCKET, REGION, SECRET_ID, SECRET_KEY, SRC_BUCKET
from tests.copy.conftest import settle

MiB = limits.MiB
READ_TIMEOUT = 0.5
"""The client's read timeout in these tests; a ``slow`` fault holds a request longer."""
HELD = 1.0
"""How long a ``slow`` fault holds its request before COS (the emulator) processes it."""
OPTIONS = CopyOptions(multipart_threshold=0, part_size=MiB, concurrency=2, complete_timeout=READ_TIMEOUT)
"""3 MiB sources in three 1 MiB parts; Complete's own read timeout is the short one too."""


@contextmanager
def impatient_client(cos: Any) -> Iterator[CosClient]:
    """A client that gives up on a reply after :data:`READ_TIMEOUT` and retries (3 attempts)."""
    config = TransportConfig(
        read_timeout=READ_TIMEOUT,
        retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05),
        pool_size=16,
    )
    endpoint = Endpoint(region=REGION, scheme="http", connect_address=cos.address)
    with CosClient(Credentials(SECRET_ID, SECRET_KEY), endpoint, config, app_id=APP_ID) as client:
        yield client


@pytest.fixture(autouse=True)
def _no_request_outlives_its_test(cos: Any) -> Iterator[None]:
    """A held request the client gave up on is still processed later: let it land before the next test."""
    yield
    settle(cos)


def lose_reply(kind: str, operation: str, **filters: Any) -> FaultRule:
    """The first matching request's reply is lost: cut (``reset``) or later than the read timeout (``slow``)."""
    if kind == "slow":
        return FaultRule(operation=operation, kind="slow", times=1, delay=HELD, **filters)
    return FaultRule(operation=operation, kind=kind, times=1, **filters)


def injected(cos: Any, operation: str, kind: str) -> int:
    return int(cos.counters()["faults_injected"].get(operation, {}).get(kind, 0))


def statuses(cos: Any, operation: str) -> dict[str, int]:
    settle(cos)
    return dict(cos.counters()["requests"].get(operation, {}))


def open_uploads(cos: Any, key: str) -> list[str]:
    """Upload ids the emulator holds for ``dst/key``, once every request it received is decided."""
    settle(cos)
    with cos.store.lock:
        return sorted(u.upload_id for u in cos.store.bucket(DST_BUCKET).uploads.values() if u.key == key)


def backdate_upload(cos: Any, upload_id: str, seconds: float) -> None:
    """Make an upload look initiated ``seconds`` earlier (an upload of someone else, started long before)."""
    with cos.store.lock:
        cos.store.bucket(DST_BUCKET).uploads[upload_id].initiated -= seconds


def src(client: CosClient, key: str) -> ObjectRef:
    return client.ref(SRC_BUCKET, key)


def dst(client: CosClient, key: str) -> ObjectRef:
    return client.ref(DST_BUCKET, key)


def as_xcom(session: MultipartSession) -> dict[str, Any]:
    """The session as the mapped tasks pass it to each other: JSON, without the resumed parts."""
    return json.loads(json.dumps(session.to_dict(include_parts=False)))  # type: ignore[no-any-return]


KINDS = ["reset", "slow"]


# ---------------------------------------------------------------- 1. no upload of the copy's own is left


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "operation", ["InitiateMultipartUpload", "UploadPart", "UploadPartCopy", "CompleteMultipartUpload"]
)
def test_a_successful_copy_leaves_no_upload_whichever_reply_was_lost(
    cos: Any, operation: str, kind: str
) -> None:
    info = cos.seed_synthetic(SRC_BUCKET, "l.bin", size=3 * MiB)
    cos.add_fault(lose_reply(kind, operation))
    with impatient_client(cos) as client:
        out = CopyEngine(client).copy(src(client, "l.bin"), dst(client, "l.bin"), OPTIONS)
    assert (out.size, out.crc64, out.part_count) == (info["size"], info["crc64"], 3)
    assert injected(cos, operation, kind) == 1
    assert open_uploads(cos, "l.bin") == []
    assert cos.head(DST_BUCKET, "l.bin")["crc64"] == info["crc64"]


def test_a_lost_initiate_reply_is_found_and_its_upload_aborted(
    cos: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The reset Initiate created an upload; the retry created the one the copy used; both are gone."""
    cos.seed_synthetic(SRC_BUCKET, "l.bin", size=3 * MiB)
    cos.add_fault(lose_reply("reset", "InitiateMultipartUpload"))
    with impatient_client(cos) as client:
        out = CopyEngine(client).copy(src(client, "l.bin"), dst(client, "l.bin"), OPTIONS)
    assert statuses(cos, "InitiateMultipartUpload") == {"200": 2}  # both created an upload
    assert statuses(cos, "AbortMultipartUpload") == {"204": 1}  # the orphan
    aborted = [r.getMessage() for r in caplog.records if "whose reply was lost created it" in r.getMessage()]
    assert len(aborted) == 1 and out.upload_id not in aborted[0]
    assert open_uploads(cos, "l.bin") == []


def test_nothing_is_listed_when_no_initiate_reply_was_lost(cos: Any, requests_of: Any) -> None:
    cos.seed_synthetic(SRC_BUCKET, "l.bin", size=3 * MiB)
    with impatient_client(cos) as client:
        CopyEngine(client).copy(src(client, "l.bin"), dst(client, "l.bin"), OPTIONS)
    assert requests_of("ListMultipartUploads") == 1  # the resume check, before Initiate; no sweep


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("operation", ["InitiateMultipartUpload", "UploadPart", "AbortMultipartUpload"])
def test_a_failed_copy_leaves_no_upload_whichever_reply_was_lost(cos: Any, operation: str, kind: str) -> None:
    cos.seed_synthetic(SRC_BUCKET, "f.bin", size=3 * MiB)
    cos.add_fault(FaultRule.always("UploadPartCopy", "internal_error", part_number=3))
    cos.add_fault(lose_reply(kind, operation))
    with impatient_client(cos) as client, pytest.raises(CopyPartServiceError) as err:
        CopyEngine(client).copy(src(client, "f.bin"), dst(client, "f.bin"), OPTIONS)
    assert err.value.part is not None and err.value.part.number == 3
    assert injected(cos, operation, kind) == 1
    assert open_uploads(cos, "f.bin") == []
    assert cos.head(DST_BUCKET, "f.bin") is None


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("operation", ["InitiateMultipartUpload", "AbortMultipartUpload"])
def test_a_restarted_copy_leaves_no_upload(cos: Any, operation: str, kind: str) -> None:
    """A killed try's upload is for another source version: aborted (lost reply) and a new one initiated."""
    cos.seed_synthetic(SRC_BUCKET, "r.bin", size=3 * MiB, seed=1)
    with impatient_client(cos) as client:
        engine = CopyEngine(client)
        crashed = engine.start_multipart(src(client, "r.bin"), dst(client, "r.bin"), OPTIONS)
        engine.copy_parts(crashed, [1, 2], 2)  # then the process died
        info = cos.seed_synthetic(SRC_BUCKET, "r.bin", size=3 * MiB, seed=2)
        cos.add_fault(lose_reply(kind, operation))
        out = CopyEngine(client).copy(src(client, "r.bin"), dst(client, "r.bin"), OPTIONS)
    assert (out.parts_reused, out.crc64) == (0, info["crc64"])
    assert out.upload_id != crashed.upload_id
    assert injected(cos, operation, kind) == 1
    assert open_uploads(cos, "r.bin") == []


@pytest.mark.parametrize("kind", KINDS)
def test_a_resumed_copy_whose_complete_reply_was_lost_succeeds(cos: Any, kind: str) -> None:
    """Reused parts carry no CRC64: the proof uses the source's, and the upload's listed initiation time."""
    info = cos.seed_synthetic(SRC_BUCKET, "r.bin", size=3 * MiB)
    with impatient_client(cos) as client:
        crashed = CopyEngine(client).start_multipart(src(client, "r.bin"), dst(client, "r.bin"), OPTIONS)
        CopyEngine(client).copy_parts(crashed, [1, 2], 2)
        cos.add_fault(lose_reply(kind, "CompleteMultipartUpload"))
        out = CopyEngine(client).copy(src(client, "r.bin"), dst(client, "r.bin"), OPTIONS)
    assert (out.upload_id, out.parts_reused, out.crc64) == (crashed.upload_id, 2, info["crc64"])
    assert injected(cos, "CompleteMultipartUpload", kind) == 1
    assert open_uploads(cos, "r.bin") == []


@pytest.mark.parametrize("kind", KINDS)
def test_copy_many_leaves_no_upload(cos: Any, kind: str) -> None:
    infos = {f"p/big{i}": cos.seed_synthetic(SRC_BUCKET, f"p/big{i}", size=3 * MiB, seed=i) for i in range(3)}
    cos.add_fault(lose_reply(kind, "InitiateMultipartUpload", key="q/big1"))
    with impatient_client(cos) as client:
        pairs = [(src(client, k), dst(client, "q/" + k[2:]), None) for k in infos]
        result = copy_many(CopyEngine(client), pairs, OPTIONS, concurrency=3)
    assert len(result.copied) == 3 and result.failures == []
    assert injected(cos, "InitiateMultipartUpload", kind) == 1
    for key, info in infos.items():
        assert cos.head(DST_BUCKET, "q/" + key[2:])["crc64"] == info["crc64"]
    settle(cos)
    assert cos.live_uploads() == 0


@pytest.mark.parametrize("kind", KINDS)
def test_the_mapped_steps_leave_no_upload(cos: Any, kind: str) -> None:
    info = cos.seed_synthetic(SRC_BUCKET, "m.bin", size=3 * MiB)
    cos.add_fault(lose_reply(kind, "InitiateMultipartUpload"))
    with impatient_client(cos) as client:
        session, batches = mapped.start_for_batches(
            CopyEngine(client), src(client, "m.bin"), dst(client, "m.bin"), OPTIONS, 2
        )
        xcom = as_xcom(session)
        parts: dict[int, tuple[str, int | None]] = {}
        for batch in batches:  # each in a task of its own
            parts.update(
                mapped.copy_batch(
                    CopyEngine(client),
                    MultipartSession.from_dict(xcom),
                    range(batch.first_part, batch.last_part + 1),
                    concurrency=2,
                )
            )
        out = mapped.complete(CopyEngine(client), MultipartSession.from_dict(xcom), parts)
    assert out.crc64 == info["crc64"]
    assert injected(cos, "InitiateMultipartUpload", kind) == 1
    assert open_uploads(cos, "m.bin") == []


@pytest.mark.parametrize("kind", KINDS)
def test_the_mapped_teardown_leaves_no_upload(cos: Any, kind: str) -> None:
    """The copy failed between the steps; the teardown's abort also finds what the lost Initiate created."""
    cos.seed_synthetic(SRC_BUCKET, "m.bin", size=3 * MiB)
    cos.add_fault(lose_reply(kind, "InitiateMultipartUpload"))
    with impatient_client(cos) as client:
        session, _ = mapped.start_for_batches(
            CopyEngine(client), src(client, "m.bin"), dst(client, "m.bin"), OPTIONS, 2
        )
        xcom = as_xcom(session)
    assert injected(cos, "InitiateMultipartUpload", kind) == 1
    with impatient_client(cos) as client:  # another worker
        assert CopyEngine(client).abort(MultipartSession.from_dict(xcom), "teardown") is True
    assert open_uploads(cos, "m.bin") == []


# ---------------------------------------------------------------- 1. ... and nobody else's is touched


@pytest.mark.parametrize("kind", KINDS)
def test_an_upload_of_another_actor_on_the_same_key_survives(cos: Any, kind: str) -> None:
    """Started just before the copy: the resume check listed it before the first Initiate was sent."""
    cos.seed_synthetic(SRC_BUCKET, "l.bin", size=3 * MiB)
    with impatient_client(cos) as client:
        theirs = client.initiate_multipart_upload(dst(client, "l.bin")).upload_id
        cos.add_fault(lose_reply(kind, "InitiateMultipartUpload"))
        out = CopyEngine(client).copy(src(client, "l.bin"), dst(client, "l.bin"), OPTIONS)
    assert injected(cos, "InitiateMultipartUpload", kind) == 1
    assert out.upload_id != theirs
    assert open_uploads(cos, "l.bin") == [theirs]


@pytest.mark.parametrize("kind", KINDS)
def test_without_a_resume_listing_the_time_window_spares_an_older_upload(cos: Any, kind: str) -> None:
    """No listing before Initiate (resume off): an upload initiated before the copy started is outside the window."""
    cos.seed_synthetic(SRC_BUCKET, "l.bin", size=3 * MiB)
    with impatient_client(cos) as client:
        theirs = client.initiate_multipart_upload(dst(client, "l.bin")).upload_id
        backdate_upload(cos, theirs, 600)  # initiated ten minutes ago
        cos.add_fault(lose_reply(kind, "InitiateMultipartUpload"))
        no_resume = CopyOptions(**{**OPTIONS.__dict__, "resume": False})
        CopyEngine(client).copy(src(client, "l.bin"), dst(client, "l.bin"), no_resume)
    assert injected(cos, "InitiateMultipartUpload", kind) == 1
    assert statuses(cos, "UploadPart") == {}  # no witness: resume was off
    assert open_uploads(cos, "l.bin") == [theirs]


@pytest.mark.parametrize("kind", KINDS)
def test_an_upload_of_another_key_survives(cos: Any, kind: str) -> None:
    """Same prefix, initiated right before the copy (inside the time window): another key is never touched."""
    cos.seed_synthetic(SRC_BUCKET, "l.bin", size=3 * MiB)
    with impatient_client(cos) as client:
        theirs = client.initiate_multipart_upload(dst(client, "l.bin.part")).upload_id
        cos.add_fault(lose_reply(kind, "InitiateMultipartUpload"))
        no_resume = CopyOptions(**{**OPTIONS.__dict__, "resume": False})
        CopyEngine(client).copy(src(client, "l.bin"), dst(client, "l.bin"), no_resume)
    assert injected(cos, "InitiateMultipartUpload", kind) == 1
    assert open_uploads(cos, "l.bin") == []
    assert open_uploads(cos, "l.bin.part") == [theirs]


# ---------------------------------------------------------------- 2. NoSuchUpload on a retried Complete

REPLACED = CopyOptions(
    **{
        **OPTIONS.__dict__,
        "metadata_directive": "Replaced",
        "attributes": ObjectAttributes(
            content_type="application/json", metadata={"run": "7"}, storage_class="STANDARD_IA"
        ),
    }
)


def test_a_lost_complete_reply_is_success_only_when_proven(
    cos: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Reset Complete: COS made the object; the retry gets NoSuchUpload; the destination proves it."""
    info = cos.seed_synthetic(SRC_BUCKET, "c.bin", size=3 * MiB)
    cos.add_fault(lose_reply("reset", "CompleteMultipartUpload"))
    with impatient_client(cos) as client:
        out = CopyEngine(client).copy(src(client, "c.bin"), dst(client, "c.bin"), REPLACED)
    assert injected(cos, "CompleteMultipartUpload", "reset") == 1
    assert statuses(cos, "CompleteMultipartUpload") == {"200": 1, "404": 1}  # done, then NoSuchUpload
    assert out.etag.strip('"').endswith("-3") and out.crc64 == info["crc64"]
    head = cos.head(DST_BUCKET, "c.bin")
    assert (head["metadata"], head["content_type"], head["storage_class"]) == (
        {"run": "7"},
        "application/json",
        "STANDARD_IA",
    )
    assert "so the first attempt succeeded" in caplog.text
    assert open_uploads(cos, "c.bin") == []


def test_the_proof_travels_with_the_mapped_session(cos: Any) -> None:
    info = cos.seed_synthetic(SRC_BUCKET, "c.bin", size=3 * MiB)
    with impatient_client(cos) as client:
        session, _ = mapped.start_for_batches(
            CopyEngine(client), src(client, "c.bin"), dst(client, "c.bin"), REPLACED, 1
        )
        xcom = as_xcom(session)
        parts = mapped.copy_batch(
            CopyEngine(client), MultipartSession.from_dict(xcom), [1, 2, 3], concurrency=2
        )
        cos.add_fault(lose_reply("reset", "CompleteMultipartUpload"))
        out = mapped.complete(CopyEngine(client), MultipartSession.from_dict(xcom), parts)
    assert out.crc64 == info["crc64"]
    assert statuses(cos, "CompleteMultipartUpload") == {"200": 1, "404": 1}


def _aborted_from_outside(cos: Any, client: CosClient, options: CopyOptions) -> LostUploadError:
    """Start and copy the parts; then a lifecycle rule aborts the upload and Complete's first attempt fails (500)."""
    engine = CopyEngine(client)
    before = statuses(cos, "CompleteMultipartUpload")
    session = engine.start_multipart(src(client, "c.bin"), dst(client, "c.bin"), options)
    results = engine.copy_parts(session, [1, 2, 3], 2)
    client.abort_multipart_upload(session.dest, session.upload_id)  # someone else
    cos.add_fault(FaultRule(operation="CompleteMultipartUpload", kind="internal_error", times=1))
    with pytest.raises(LostUploadError) as err:
        engine.finish_multipart(session, {n: (r.etag, r.crc64) for n, r in results.items()})
    assert injected(cos, "CompleteMultipartUpload", "internal_error") == 1
    after = statuses(cos, "CompleteMultipartUpload")
    assert {k: n - before.get(k, 0) for k, n in after.items() if n != before.get(k, 0)} == {
        "500": 1,
        "404": 1,
    }
    message = str(err.value)
    assert session.upload_id in message and err.value.upload_id == session.upload_id
    assert f"cos://{DST_BUCKET}/c.bin was not written by this copy" in message
    assert err.value.code == "NoSuchUpload"
    return err.value


def test_an_upload_aborted_from_outside_over_identical_bytes_is_not_success(cos: Any) -> None:
    """The destination holds the same bytes from an earlier single PUT copy: same size and CRC64, not ours."""
    info = cos.seed_synthetic(SRC_BUCKET, "c.bin", size=3 * MiB)
    with impatient_client(cos) as client:
        earlier = CopyEngine(client).copy(src(client, "c.bin"), dst(client, "c.bin"))
        assert earlier.method == "single" and earlier.crc64 == info["crc64"]
        err = _aborted_from_outside(cos, client, OPTIONS)
    assert any("is not the ETag of a 3-part upload" in p for p in err.problems), err.problems
    assert cos.head(DST_BUCKET, "c.bin")["etag"] == earlier.etag.strip('"')  # untouched


def test_an_earlier_identical_multipart_copy_without_the_metadata_is_not_success(cos: Any) -> None:
    """Same part size, so the same ETag and CRC64 - but not the metadata this copy asked for."""
    cos.seed_synthetic(SRC_BUCKET, "c.bin", size=3 * MiB)
    with impatient_client(cos) as client:
        CopyEngine(client).copy(src(client, "c.bin"), dst(client, "c.bin"), OPTIONS)
        err = _aborted_from_outside(cos, client, REPLACED)
    assert any(p.startswith("metadata {} != {'run': '7'}") for p in err.problems), err.problems
    assert any("storage class STANDARD != STANDARD_IA" in p for p in err.problems), err.problems


def test_an_earlier_identical_multipart_copy_from_before_the_upload_is_not_success(cos: Any) -> None:
    """Every attribute matches; only Last-Modified, older than the upload, shows it is not this Complete's."""
    cos.seed_synthetic(SRC_BUCKET, "c.bin", size=3 * MiB)
    with impatient_client(cos) as client:
        CopyEngine(client).copy(src(client, "c.bin"), dst(client, "c.bin"), OPTIONS)
        with cos.store.lock:  # that copy was made a minute ago
            cos.store.version(cos.store.bucket(DST_BUCKET), "c.bin", None).last_modified -= 60
        err = _aborted_from_outside(cos, client, OPTIONS)
    assert len(err.problems) == 1 and "before the upload was initiated" in err.problems[0], err.problems


def test_a_lost_initiate_reply_is_logged(cos: Any, caplog: pytest.LogCaptureFixture) -> None:
    cos.seed_synthetic(SRC_BUCKET, "l.bin", size=3 * MiB)
    cos.add_fault(lose_reply("slow", "InitiateMultipartUpload"))
    caplog.set_level(logging.INFO, logger="cos_provider.copy")
    with impatient_client(cos) as client:
        CopyEngine(client).copy(src(client, "l.bin"), dst(client, "l.bin"), OPTIONS)
    assert f"Initiate of cos://{DST_BUCKET}/l.bin needed 1 retry" in caplog.text
    assert "(1 timed out)" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# ---------------------------------------------------------------- 1. ... and what cannot be done is said


def test_a_late_upload_is_waited_for_only_so_long(
    cos: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """With no grace left, the copy does not wait for the held Initiate: it says what may be left."""
    from cos_provider.client.copy import orphans

    monkeypatch.setattr(orphans, "LATE_UPLOAD_GRACE", 0.0)
    cos.seed_synthetic(SRC_BUCKET, "l.bin", size=3 * MiB)
    # Held well past the whole copy, so the upload surely lands after the copy stopped looking.
    cos.add_fault(FaultRule(operation="InitiateMultipartUpload", kind="slow", times=1, delay=3 * HELD))
    with impatient_client(cos) as client:
        out = CopyEngine(client).copy(src(client, "l.bin"), dst(client, "l.bin"), OPTIONS)
    assert injected(cos, "InitiateMultipartUpload", "slow") == 1
    assert f"Gave up looking for 1 upload(s) of cos://{DST_BUCKET}/l.bin" in caplog.text
    (late,) = open_uploads(cos, "l.bin")  # it came after the copy stopped looking
    assert late != out.upload_id


def test_a_forbidden_listing_costs_only_the_cleanup(cos: Any, caplog: pytest.LogCaptureFixture) -> None:
    """The copy still succeeds; the warning says an upload may be left, and it is."""
    info = cos.seed_synthetic(SRC_BUCKET, "l.bin", size=3 * MiB)
    cos.add_fault(lose_reply("reset", "InitiateMultipartUpload"))
    cos.add_fault(FaultRule.always("ListMultipartUploads", "access_denied"))
    with impatient_client(cos) as client:
        out = CopyEngine(client).copy(src(client, "l.bin"), dst(client, "l.bin"), OPTIONS)
    assert out.crc64 == info["crc64"]
    assert injected(cos, "InitiateMultipartUpload", "reset") == 1
    assert injected(cos, "ListMultipartUploads", "access_denied") == 2  # the resume check, then the sweep
    assert f"Cannot list the open uploads of cos://{DST_BUCKET}/l.bin" in caplog.text
    assert "up to 1 may be left" in caplog.text
    assert len(open_uploads(cos, "l.bin")) == 1
