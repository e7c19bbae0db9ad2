"""Resuming a multipart copy whose process died (see cos_provider.client.copy.resume)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cos_provider.client import limits
from cos_provider.client.client import CosClient
from cos_provider.client.copy import CopyEngine, CopyOptions
from cos_provider.client.copy.resume import WITNESS_PART_NUMBER
from cos_provider.client.operations import ObjectAttributes
from cos_provider.emulator import FaultRule
from tests.conftest import DST_BUCKET, SRC_BUCKET
from tests.copy.conftest import settle

MiB = limits.MiB
ROOT = Path(__file__).resolve().parents[2]
PARTS = 16
OPTIONS = CopyOptions(multipart_threshold=0, part_size=MiB, concurrency=2)


def parts_in(client: CosClient, key: str) -> dict[str, list[int]]:
    """upload id -> part numbers of the open uploads of ``dst/key``."""
    dest = client.ref(DST_BUCKET, key)
    return {
        u.upload_id: [p.part_number for p in client.iter_parts(dest, u.upload_id)]
        for u in client.iter_multipart_uploads(DST_BUCKET, prefix=key)
        if u.key == key
    }


def crash_after(engine: CopyEngine, client: CosClient, key: str, numbers: list[int], **options: Any) -> str:
    """Start a copy and copy some parts, then stop as a killed process would (no abort)."""
    opts = CopyOptions(**{**OPTIONS.__dict__, **options})
    session = engine.start_multipart(client.ref(SRC_BUCKET, key), client.ref(DST_BUCKET, key), opts)
    engine.copy_parts(session, numbers, 2)
    return session.upload_id


def test_resume_copies_only_missing_parts(cos: Any, client: CosClient, requests_of: Any) -> None:
    info = cos.seed_synthetic(SRC_BUCKET, "r.bin", size=PARTS * MiB - 10)
    upload_id = crash_after(CopyEngine(client), client, "r.bin", [1, 2, 3, 5, 8])
    before = {op: requests_of(op) for op in ("UploadPartCopy", "InitiateMultipartUpload", "UploadPart")}
    out = CopyEngine(client).copy(client.ref(SRC_BUCKET, "r.bin"), client.ref(DST_BUCKET, "r.bin"), OPTIONS)
    assert requests_of("UploadPartCopy") - before["UploadPartCopy"] == PARTS - 5
    # Open uploads are listed before anything is initiated: no upload was started only to be aborted.
    assert requests_of("InitiateMultipartUpload") == before["InitiateMultipartUpload"]
    assert requests_of("UploadPart") == before["UploadPart"]  # the witness is already there
    assert requests_of("AbortMultipartUpload") == 0
    assert (out.upload_id, out.parts_reused, out.parts_copied) == (upload_id, 5, PARTS - 5)
    assert (out.size, out.crc64) == (info["size"], info["crc64"])
    assert cos.head(DST_BUCKET, "r.bin")["parts_count"] == PARTS  # the witness is not in the object
    assert cos.live_uploads() == 0


def test_parts_of_another_source_version_are_never_reused(
    cos: Any, client: CosClient, requests_of: Any
) -> None:
    cos.seed_synthetic(SRC_BUCKET, "r.bin", size=PARTS * MiB, seed=1)
    crash_after(CopyEngine(client), client, "r.bin", list(range(1, 11)))
    new = cos.seed_synthetic(SRC_BUCKET, "r.bin", size=PARTS * MiB, seed=2)  # same size, new bytes
    before = requests_of("UploadPartCopy")
    out = CopyEngine(client).copy(client.ref(SRC_BUCKET, "r.bin"), client.ref(DST_BUCKET, "r.bin"), OPTIONS)
    assert requests_of("UploadPartCopy") - before == PARTS
    assert (out.parts_reused, out.crc64) == (0, new["crc64"])
    assert cos.live_uploads() == 0  # the stale upload was aborted


@pytest.mark.parametrize(
    "change",
    [
        {"part_size": 2 * MiB},
        {"metadata_directive": "Replaced", "attributes": ObjectAttributes(content_type="text/plain")},
        {"attributes": ObjectAttributes(storage_class="STANDARD_IA")},
    ],
    ids=["part-size", "metadata", "storage-class"],
)
def test_other_settings_are_not_resumed(
    cos: Any, client: CosClient, requests_of: Any, change: dict[str, Any]
) -> None:
    cos.seed_synthetic(SRC_BUCKET, "r.bin", size=PARTS * MiB)
    crash_after(CopyEngine(client), client, "r.bin", [1, 2, 3])
    options = CopyOptions(**{**OPTIONS.__dict__, **change})
    out = CopyEngine(client).copy(client.ref(SRC_BUCKET, "r.bin"), client.ref(DST_BUCKET, "r.bin"), options)
    assert out.parts_reused == 0
    assert cos.live_uploads() == 0


def test_foreign_uploads_are_left_alone(cos: Any, client: CosClient) -> None:
    cos.seed_synthetic(SRC_BUCKET, "r.bin", size=4 * MiB)
    foreign = client.initiate_multipart_upload(client.ref(DST_BUCKET, "r.bin")).upload_id
    out = CopyEngine(client).copy(client.ref(SRC_BUCKET, "r.bin"), client.ref(DST_BUCKET, "r.bin"), OPTIONS)
    assert out.parts_reused == 0
    assert list(parts_in(client, "r.bin")) == [foreign]


def test_wrong_sized_parts_are_copied_again(cos: Any, client: CosClient, requests_of: Any) -> None:
    cos.seed_synthetic(SRC_BUCKET, "r.bin", size=4 * MiB)
    engine = CopyEngine(client)
    upload_id = crash_after(engine, client, "r.bin", [1, 2])
    # Part 3 holds a wrong range (as if written by a buggy writer with the same pin).
    session_ref = client.ref(DST_BUCKET, "r.bin")
    client.upload_part_copy(client.ref(SRC_BUCKET, "r.bin"), session_ref, upload_id, 3, 0, MiB // 2)
    before = requests_of("UploadPartCopy")
    out = CopyEngine(client).copy(client.ref(SRC_BUCKET, "r.bin"), client.ref(DST_BUCKET, "r.bin"), OPTIONS)
    assert requests_of("UploadPartCopy") - before == 2
    assert out.parts_reused == 2


@pytest.mark.parametrize(("kind", "attempts"), [("access_denied", 1), ("internal_error", 3)])
def test_a_refused_witness_costs_only_resumability(
    cos: Any, client: CosClient, caplog: pytest.LogCaptureFixture, kind: str, attempts: int
) -> None:
    info = cos.seed_synthetic(SRC_BUCKET, "r.bin", size=4 * MiB)
    cos.add_fault(FaultRule.always("UploadPart", kind))
    upload_id = crash_after(CopyEngine(client), client, "r.bin", [1, 2])
    assert parts_in(client, "r.bin") == {upload_id: [1, 2]}  # parts were copied, but no witness
    assert cos.counters()["faults_injected"]["UploadPart"] == {kind: attempts}
    assert f"Could not write the resume witness of upload {upload_id}" in caplog.text

    out = CopyEngine(client).copy(client.ref(SRC_BUCKET, "r.bin"), client.ref(DST_BUCKET, "r.bin"), OPTIONS)
    assert (out.parts_reused, out.size, out.crc64) == (0, info["size"], info["crc64"])
    assert out.upload_id != upload_id
    assert list(parts_in(client, "r.bin")) == [upload_id]  # unrecognisable, so left alone


def test_a_forbidden_upload_listing_starts_afresh(
    cos: Any, client: CosClient, requests_of: Any, caplog: pytest.LogCaptureFixture
) -> None:
    info = cos.seed_synthetic(SRC_BUCKET, "r.bin", size=PARTS * MiB)
    crashed = crash_after(CopyEngine(client), client, "r.bin", [1, 2, 3])
    cos.add_fault(FaultRule.always("ListMultipartUploads", "access_denied"))
    before = requests_of("UploadPartCopy")
    out = CopyEngine(client).copy(client.ref(SRC_BUCKET, "r.bin"), client.ref(DST_BUCKET, "r.bin"), OPTIONS)
    assert (out.parts_reused, out.size, out.crc64) == (0, info["size"], info["crc64"])
    assert out.upload_id != crashed
    assert requests_of("UploadPartCopy") - before == PARTS
    assert cos.counters()["requests"]["ListMultipartUploads"] == {
        "200": 1,
        "403": 1,
    }  # first try, then refused
    assert f"Cannot list open uploads of cos://{DST_BUCKET}/r.bin" in caplog.text
    assert cos.live_uploads() == 1  # the crashed try's upload, which this key may not even see


def _run_and_kill(cos: Any, key: str, parts: int) -> None:
    """Start the worker process and SIGKILL it once it has copied ``parts`` parts (it copies no more)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.copy.copy_worker", cos.address, key, key, str(MiB), "2", str(parts)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    try:
        reported = [proc.stdout.readline() for _ in range(parts)]  # blocks until each part returns
        alive = proc.poll() is None
    finally:
        proc.kill()  # SIGKILL
        rest, errors = proc.communicate(timeout=10)
    assert alive, errors
    assert proc.returncode == -signal.SIGKILL
    assert all(line.startswith("part ") for line in reported), (reported, rest, errors)
    settle(cos)


@pytest.mark.parametrize("overwrite", [False, True], ids=["same-source", "source-overwritten"])
def test_resume_after_sigkill(cos: Any, client: CosClient, requests_of: Any, overwrite: bool) -> None:
    info = cos.seed_synthetic(SRC_BUCKET, "k.bin", size=PARTS * MiB, seed=1)
    _run_and_kill(cos, "k.bin", parts=6)
    open_uploads = parts_in(client, "k.bin")
    assert len(open_uploads) == 1, "the killed process left its upload"
    (left,) = open_uploads.values()
    assert WITNESS_PART_NUMBER in left
    copied = [n for n in left if n != WITNESS_PART_NUMBER]
    assert len(copied) == 6
    if overwrite:
        info = cos.seed_synthetic(SRC_BUCKET, "k.bin", size=PARTS * MiB, seed=2)

    before = requests_of("UploadPartCopy")
    out = CopyEngine(client).copy(client.ref(SRC_BUCKET, "k.bin"), client.ref(DST_BUCKET, "k.bin"), OPTIONS)
    new_parts = requests_of("UploadPartCopy") - before
    if overwrite:
        assert new_parts == PARTS
        assert out.parts_reused == 0
    else:
        assert new_parts == PARTS - len(copied)
        assert out.parts_reused == len(copied)
    assert (out.size, out.crc64) == (info["size"], info["crc64"])
    assert cos.head(DST_BUCKET, "k.bin")["crc64"] == info["crc64"]
    assert cos.live_uploads() == 0
