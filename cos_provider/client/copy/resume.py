"""Resuming a multipart copy whose process died: the matching rule.

The problem
-----------
When a worker is SIGKILLed mid-copy, COS keeps the open multipart upload and
every part copied so far. Airflow's next try must reuse those parts *only*
if they hold the bytes it is about to copy: the same source version, split
at the same boundaries, going into an upload that will give the final
object the same metadata. COS offers no way to read back what an open
upload was initiated with (ListMultipartUploads shows key, upload id and
date; ListParts shows part numbers, sizes and ETags), and Airflow clears a
task's XComs when a new try starts, so the identity has to travel with the
upload itself.

The rule
--------
Right after Initiate, the engine uploads a *witness part*: part number
:data:`WITNESS_PART_NUMBER` (10,000), whose 88-byte body is
``b"cos-provider resume v1 " + sha256(identity) + b"\\n"``. *identity* is a
canonical JSON of

* the source as read by HEAD: bucket, region, key, the requested version id,
  the version id, ETag, size, CRC64 and Last-Modified;
* the destination bucket, region and key;
* the part size;
* every header sent with Initiate (content headers and ``x-cos-meta-*``,
  storage class, ACL, grants, SSE, tagging), because those become the final
  object's attributes;
* the conditions every part carries.

COS answers an Upload Part with the MD5 of its body as the part's ETag, so
ListParts shows each open upload's witness as an ETag. On a new try the
engine HEADs the source afresh, computes the witness it *would* write, and
lists the destination key's open uploads *before* initiating anything, so a
resumed copy never creates an upload only to abort it:

* an upload whose part 10,000 has the witness size and exactly the expected
  ETag is **resumable**. Its parts 1..N whose size equals the plan's size for
  that number are reused; anything else is copied again. (Every part of a
  resumable upload was copied with ``x-cos-copy-source-If-Match`` pinned to
  the same ETag, so none can come from another source version; the rule is
  :func:`~cos_provider.client.copy.parts.planned_parts`.) If several
  match, the one with most reusable parts wins and the others are aborted.
* an upload with a witness-sized part 10,000 but another ETag is an earlier
  copy of ours for a *different* source version or different settings: it is
  **aborted**, so overwriting the source between a crash and the retry never
  reuses a part.
* any other upload on that key (no witness) belongs to someone else and is
  left alone; a bucket lifecycle rule that aborts incomplete uploads is the
  right tool for those. (The uploads a copy's own Initiate created when its
  reply was lost have no witness either; that copy recognises them by time
  instead, see :mod:`orphans`, using this listing to spare what existed
  before.)

Complete lists parts 1..N only, so the witness never becomes part of the
object (COS, like S3, drops parts a Complete does not list), and nothing
about resuming shows in the final object's metadata. Plans of exactly 10,000
parts have no room for a witness and are not resumable: the engine neither
lists open uploads nor writes a witness for them. If the witness cannot be
written (the service refuses Upload Part), the copy proceeds without resume;
if listing open uploads is forbidden, the copy starts afresh.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cos_provider.client import limits
from cos_provider.client.client import CosClient
from cos_provider.client.copy.cleanup import abort_quietly
from cos_provider.client.copy.parts import planned_parts
from cos_provider.client.copy.plan import CopyPlan
from cos_provider.client.copy.progress import LoggerLike
from cos_provider.client.errors import CosError, CosServiceError
from cos_provider.client.etag import normalise_etag
from cos_provider.client.models import ObjectInfo, Part, Upload
from cos_provider.client.operations import ObjectRef
from cos_provider.client.protocol import Call, CosRequest

WITNESS_PART_NUMBER = limits.MAX_PARTS
WITNESS_PREFIX = b"cos-provider resume v1 "
WITNESS_SIZE = len(WITNESS_PREFIX) + 64 + 1

log = logging.getLogger("cos_provider.copy")


def identity(
    source: ObjectRef,
    info: ObjectInfo,
    dest: ObjectRef,
    part_size: int,
    initiate_headers: Mapping[str, str],
    part_headers: Mapping[str, str],
) -> dict[str, Any]:
    """What a reusable upload must agree on (see the module docstring)."""
    return {
        "v": 1,
        "source": {
            "bucket": source.bucket,
            "region": source.region,
            "key": source.key,
            "requested_version_id": source.version_id,
            "version_id": info.version_id,
            "etag": normalise_etag(info.etag),
            "size": info.size,
            "crc64": info.crc64,
            "last_modified": info.last_modified.isoformat() if info.last_modified else None,
        },
        "dest": {"bucket": dest.bucket, "region": dest.region, "key": dest.key},
        "part_size": part_size,
        "initiate_headers": {k.lower(): v for k, v in sorted(initiate_headers.items())},
        "part_headers": {k.lower(): v for k, v in sorted(part_headers.items())},
    }


def witness_body(ident: Mapping[str, Any]) -> bytes:
    canonical = json.dumps(ident, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    body = WITNESS_PREFIX + hashlib.sha256(canonical.encode()).hexdigest().encode() + b"\n"
    assert len(body) == WITNESS_SIZE
    return body


def witness_etag(body: bytes) -> str:
    return hashlib.md5(body, usedforsecurity=False).hexdigest()


def upload_part(
    dest: ObjectRef, upload_id: str, part_number: int, body: bytes, headers: Mapping[str, str] | None = None
) -> Call[str]:
    """Upload Part (PUT with a body); returns the part's ETag. ``headers``: an SSE-C upload's key."""
    return Call(
        CosRequest(
            "UploadPart",
            "PUT",
            dest.bucket,
            dest.key,
            params={"partNumber": str(part_number), "uploadId": upload_id},
            headers=dict(headers or {}),
            body=body,
        ),
        lambda r: r.headers.get("ETag", ""),
    )


def write_witness(
    client: CosClient,
    dest: ObjectRef,
    upload_id: str,
    body: bytes,
    *,
    logger: LoggerLike = log,
    headers: Mapping[str, str] | None = None,
) -> bool:
    """Upload the witness part; ``False`` if it could not be written.

    Never raises a :class:`CosError`: the witness only buys resumability, so
    a refusal costs exactly that and the copy goes on.
    """
    try:
        etag = client.execute(upload_part(dest, upload_id, WITNESS_PART_NUMBER, body, headers))
    except CosError as exc:
        logger.warning(
            "Could not write the resume witness of upload %s (%s); this copy will not resume", upload_id, exc
        )
        return False
    if normalise_etag(etag) != witness_etag(body):
        logger.warning(
            "COS answered the resume witness of upload %s with ETag %s, not the MD5 of its body; "
            "this copy will not resume",
            upload_id,
            etag,
        )
        return False
    return True


@dataclass(frozen=True)
class ResumePoint:
    """An open upload to continue, with the parts worth keeping (number -> ETag)."""

    upload_id: str
    parts: dict[int, str]
    reused_bytes: int
    initiated: datetime | None = None
    """When COS says the upload was initiated (a resumed Complete's result is no older)."""


def _witness_of(client: CosClient, dest: ObjectRef, upload_id: str) -> Part | None:
    page = client.list_parts(dest, upload_id, part_number_marker=WITNESS_PART_NUMBER - 1, max_parts=1)
    for part in page.parts:
        if part.part_number == WITNESS_PART_NUMBER:
            return part
    return None


def open_uploads(client: CosClient, dest: ObjectRef, *, logger: LoggerLike = log) -> list[Upload] | None:
    """Uploads open on exactly ``dest``; ``None`` if listing is not allowed."""
    try:
        return [u for u in client.iter_multipart_uploads(dest.bucket, prefix=dest.key) if u.key == dest.key]
    except CosServiceError as exc:
        if exc.status not in (403, 405, 501):
            raise
        logger.warning("Cannot list open uploads of %s (%s); not resuming", dest.uri(), exc)
        return None


def match_uploads(
    client: CosClient,
    dest: ObjectRef,
    plan: CopyPlan,
    body: bytes,
    listed: list[Upload],
    *,
    logger: LoggerLike = log,
) -> ResumePoint | None:
    """Apply the matching rule to the ``listed`` uploads; abort the stale ones of ours."""
    expected = witness_etag(body)
    matches: list[ResumePoint] = []
    for upload in listed:
        upload_id = upload.upload_id
        try:
            witness = _witness_of(client, dest, upload_id)
        except CosServiceError as exc:
            if exc.code == "NoSuchUpload":
                continue
            raise
        if witness is None or witness.size != WITNESS_SIZE:
            logger.info(
                "Leaving open upload %s of %s alone: it has no resume witness (not started by this provider)",
                upload_id,
                dest.uri(),
            )
            continue
        if normalise_etag(witness.etag) != expected:
            logger.warning(
                "Aborting upload %s of %s: it was started for another source version or other settings",
                upload_id,
                dest.uri(),
            )
            abort_quietly(client, dest, upload_id, logger=logger)
            continue
        kept = planned_parts(client, dest, upload_id, plan)
        parts = {n: p.etag for n, p in kept.items()}
        matches.append(ResumePoint(upload_id, parts, sum(p.size for p in kept.values()), upload.initiated))
    if not matches:
        return None
    matches.sort(key=lambda m: len(m.parts), reverse=True)
    for extra in matches[1:]:
        logger.warning("Aborting duplicate resumable upload %s of %s", extra.upload_id, dest.uri())
        abort_quietly(client, dest, extra.upload_id, logger=logger)
    return matches[0]
