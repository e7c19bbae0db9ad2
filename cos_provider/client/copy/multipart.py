"""A managed multipart copy, step by step: start, then (parts), then finish.

* :func:`start` checks the caller's conditions against the HEAD, plans the
  parts, and resumes a matching open upload (see :mod:`resume`) or
  initiates a new one, one attempt at a time, so that the uploads of
  attempts whose reply was lost are found and aborted (:mod:`orphans`; the
  session carries what recognises them to the later steps). Initiate carries the destination's attributes: with
  directive ``Copy`` the source's Content-Type, Cache-Control,
  Content-Disposition, Content-Encoding, Expires and ``x-cos-meta-*`` (COS
  does not carry them over to a multipart upload by itself); with
  ``Replaced`` the caller's. Storage class, ACL, grants and SSE are the
  caller's in both cases, as with a single PUT copy. Tags follow the tagging
  directive: ``Replaced`` sends the caller's, otherwise the source's are read
  with GET Object tagging (only when HEAD counted some) and sent, as COS
  would have copied them. ``overwrite=False`` sends ``x-cos-forbid-overwrite``
  on Initiate and Complete; an SSE-C destination's key goes on Initiate, on
  every part (the resume witness too) and on the HEAD that verifies the result.
* Every part then carries ``x-cos-copy-source-If-Match: <ETag at HEAD>``
  (plus the caller's ``If-Unmodified-Since``), so a source overwritten
  mid-copy fails with 412 instead of yielding a mix of versions
  (:mod:`parts`).
* :func:`finish`: when every part was copied by this run, the part CRC64s
  are combined and compared with the source's *before* Complete, so a
  corrupt part aborts the upload and the destination is never touched.
  After Complete the destination is HEADed: its size must equal the
  source's, and its CRC64 the source's whenever the source has one;
  otherwise :class:`CosIntegrityError` (and the corrupt result is deleted).
  Any failure of Complete aborts the upload. A retried Complete answered
  ``NoSuchUpload`` is success only if the destination proves to be the
  object this Complete created (:func:`not_this_complete`), since an upload
  aborted from outside gets the same answer; otherwise
  :class:`LostUploadError`. When the copy ends, succeeded or failed, the
  orphans of a lost Initiate reply are looked for once more.

The steps are separate because the mapped Airflow pattern runs them in
different tasks, with a :class:`MultipartSession` travelling between them as
a JSON dict.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from itertools import islice

from cos_provider.client.client import CosClient
from cos_provider.client.copy import orphans, resume
from cos_provider.client.copy.cancel import OpenUploads, reason
from cos_provider.client.copy.cleanup import discard, version_param
from cos_provider.client.copy.errors import LostUploadError, restate
from cos_provider.client.copy.models import COMPLETE_READ_TIMEOUT, CopyOptions, CopyOutcome, MultipartSession
from cos_provider.client.copy.overwrite import DestinationExistsError, is_conflict
from cos_provider.client.copy.plan import CopyPlan, plan_parts
from cos_provider.client.copy.progress import LoggerLike
from cos_provider.client.copy.source import check_conditions, initiate_attributes
from cos_provider.client.crc64 import crc64_combine
from cos_provider.client.errors import CosError, CosIntegrityError, CosServiceError, CosValidationError
from cos_provider.client.etag import normalise_etag
from cos_provider.client.models import CompleteResult, ObjectInfo, Upload
from cos_provider.client.operations import ObjectRef, forbid_overwrite_header


def start(
    client: CosClient,
    uploads: OpenUploads,
    source: ObjectRef,
    dest: ObjectRef,
    options: CopyOptions,
    info: ObjectInfo,
    *,
    log: LoggerLike,
) -> MultipartSession:
    """Check conditions, plan, then resume a matching upload or initiate one (and write its witness)."""
    check_conditions(info, options.conditions, source)
    if not info.etag:
        raise CosError(f"HEAD of {source.uri()} returned no ETag; cannot pin the parts to one version")
    plan = plan_parts(info.size, options.part_size, options.concurrency, options.model)
    if plan.part_count == 0:
        raise CosValidationError("source size", "a 0-byte source cannot be copied in parts")
    source_tags = None
    if options.tag_directive != "Replaced" and info.tag_count:
        version = version_param(info.version_id) or source.version_id  # the version HEAD described
        try:
            source_tags = client.get_object_tagging(
                ObjectRef(source.bucket, source.key, version, source.region)
            )
        except CosError as exc:
            step = "GetObjectTagging of the source (to keep its tags; tagging_directive='Replaced' skips it)"
            raise restate(exc, step) from exc
    attrs = initiate_attributes(info, options, source_tags)
    part_conditions = options.conditions.pinned_to(info.etag)
    keys = options.keys
    forbid = not options.overwrite
    witness: bytes | None = None
    if options.resume and plan.part_count < resume.WITNESS_PART_NUMBER:
        initiate_headers = {**attrs.headers(), **forbid_overwrite_header(forbid)}
        if keys.dest is not None:  # the key's MD5 only: the witness must not depend on a secret
            initiate_headers["x-cos-server-side-encryption-customer-key-MD5"] = keys.dest.md5
        ident = resume.identity(
            source, info, dest, plan.part_size, initiate_headers, part_conditions.headers()
        )
        witness = resume.witness_body(ident)
    uploads.check()
    point: resume.ResumePoint | None = None
    listed: list[Upload] | None = None
    if witness is not None:
        listed = resume.open_uploads(client, dest, logger=log)
        if listed:
            point = resume.match_uploads(client, dest, plan, witness, listed, logger=log)
    window: orphans.OrphanWindow | None = None
    if point is not None:
        upload_id = point.upload_id
        initiated_at = point.initiated.replace(microsecond=0) if point.initiated else None
        uploads.add(upload_id, dest)
        log.info(
            "Resuming upload %s of %s: %d of %d parts (%d bytes) already copied from the same source version",
            upload_id,
            dest.uri(),
            len(point.parts),
            plan.part_count,
            point.reused_bytes,
        )
    else:
        known = [u.upload_id for u in listed or ()]
        try:
            initiated = orphans.initiate(
                client, uploads, dest, attrs, known, log=log, forbid_overwrite=forbid, customer_key=keys.dest
            )
        except CosServiceError as exc:
            if is_conflict(exc):
                raise DestinationExistsError(exc, dest, "Initiate Multipart Upload") from exc
            raise
        upload_id, window = initiated.upload_id, initiated.window
        # The reply's Date is whole seconds, taken after the upload was created.
        initiated_at = initiated.date - orphans.GRANULARITY if initiated.date else None
        uploads.add(upload_id, dest)
        if witness is not None:
            try:
                resume.write_witness(
                    client, dest, upload_id, witness, logger=log, headers=keys.dest_headers()
                )
            except BaseException as exc:  # an interrupt: the upload is ours to abort
                uploads.abort(dest, upload_id, reason(exc), failure=exc)
                orphans.sweep_after_failure(window, client, dest, uploads, exc, log=log)
                raise
        log.info(
            "Started multipart copy of %s (%d bytes, ETag %s) to %s: upload %s, %d parts of %d bytes",
            source.uri(),
            info.size,
            info.etag,
            dest.uri(),
            upload_id,
            plan.part_count,
            plan.part_size,
        )
    return MultipartSession(
        source=source,
        dest=dest,
        upload_id=upload_id,
        source_etag=info.etag,
        source_size=info.size,
        source_crc64=info.crc64,
        source_version_id=info.version_id or source.version_id,
        part_size=plan.part_size,
        conditions=part_conditions,
        resumed_parts=dict(point.parts) if point else {},
        resumed_bytes=point.reused_bytes if point else 0,
        forbid_overwrite=forbid,
        source_key_md5=keys.source.md5 if keys.source else None,
        dest_key_md5=keys.dest.md5 if keys.dest else None,
        keys=keys,
        initiated_at=initiated_at,
        initiate_headers=attrs.headers(),
        orphans=window,
    )


def combined_crc64(plan: CopyPlan, crcs: Mapping[int, int]) -> int:
    """The CRC64 of the whole object from the CRC64 of each of its parts 1..N."""
    combined = crcs[1]
    for part in islice(plan, 1, None):
        combined = crc64_combine(combined, crcs[part.number], part.size)
    return combined


def finish(
    client: CosClient,
    uploads: OpenUploads,
    session: MultipartSession,
    parts: Mapping[int, tuple[str, int | None]],
    *,
    log: LoggerLike,
    complete_timeout: float = COMPLETE_READ_TIMEOUT,
    started: float | None = None,
    parts_copied: int = 0,
) -> CopyOutcome:
    """Complete with parts 1..N (number -> (ETag, CRC64 or None)) and verify (see the module docstring)."""
    plan = session.plan
    numbers = range(1, plan.part_count + 1)
    missing = [n for n in numbers if n not in parts]
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
        raise CosValidationError("parts", f"{len(missing)} part(s) missing before Complete: {shown}")
    uploads.check()
    crcs = {n: crc for n in numbers if (crc := parts[n][1]) is not None}
    combined = combined_crc64(plan, crcs) if len(crcs) == plan.part_count else None
    if session.source_crc64 is not None and combined is not None and combined != session.source_crc64:
        mismatch = CosIntegrityError(
            f"multipart copy of {session.source.uri()} to {session.dest.uri()}: the CRC64 of the "
            f"copied parts combines to {combined}, the source's is {session.source_crc64}; "
            f"upload {session.upload_id} was aborted and the destination left untouched"
        )
        uploads.abort(session.dest, session.upload_id, "CRC64 mismatch", failure=mismatch)
        orphans.sweep_after_failure(session.orphans, client, session.dest, uploads, mismatch, log=log)
        raise mismatch
    ordered = [(n, parts[n][0]) for n in numbers]
    expected_crc = combined if combined is not None else session.source_crc64
    try:
        try:
            result = complete(client, session, ordered, complete_timeout, expected_crc, log=log)
        except BaseException as exc:
            uploads.abort(session.dest, session.upload_id, reason(exc), failure=exc)
            raise
        finally:
            uploads.forget(session.upload_id)
        outcome = verify(client, session, result, log=log, started=started, parts_copied=parts_copied)
    except BaseException as exc:
        orphans.sweep_after_failure(session.orphans, client, session.dest, uploads, exc, log=log)
        raise
    if session.orphans is not None:
        session.orphans.sweep(client, session.dest, uploads, log=log, wait=True)
    return outcome


def verify(
    client: CosClient,
    session: MultipartSession,
    result: CompleteResult,
    *,
    log: LoggerLike,
    started: float | None,
    parts_copied: int,
) -> CopyOutcome:
    """HEAD the completed object and compare it with the source; delete it if it is wrong."""
    plan = session.plan
    head = client.head_object(
        session.dest.bucket,
        session.dest.key,
        version_param(result.version_id),
        session.dest.region,
        customer_key=session.keys.dest,
    )
    problems = []
    if head.size != session.source_size:
        problems.append(f"size {head.size} != source size {session.source_size}")
    crc = head.crc64 if head.crc64 is not None else result.crc64
    if session.source_crc64 is not None and crc != session.source_crc64:
        problems.append(f"CRC64 {crc} != source CRC64 {session.source_crc64}")
    if problems:
        discard(client, session.dest, result.version_id, result.etag, head, logger=log)
        raise CosIntegrityError(
            f"multipart copy of {session.source.uri()} to {session.dest.uri()} (upload "
            f"{session.upload_id}, Complete request_id={result.request_id}, HEAD request_id="
            f"{head.request_id}): {'; '.join(problems)}; the corrupt result was deleted"
        )
    elapsed = time.monotonic() - started if started is not None else 0.0
    return CopyOutcome(
        dest_uri=session.dest.uri(),
        bucket=session.dest.bucket,
        key=session.dest.key,
        etag=head.etag or result.etag,
        version_id=result.version_id or head.version_id,
        crc64=crc,
        size=head.size,
        last_modified=head.last_modified,
        source_uri=session.source.uri(),
        source_version_id=session.source_version_id,
        source_etag=session.source_etag,
        part_count=plan.part_count,
        method="multipart",
        upload_id=session.upload_id,
        parts_copied=parts_copied,
        parts_reused=plan.part_count - parts_copied,
        elapsed_seconds=round(elapsed, 3),
        request_id=result.request_id,
    )


def complete(
    client: CosClient,
    session: MultipartSession,
    ordered: Sequence[tuple[int, str]],
    timeout: float,
    expected_crc: int | None = None,
    *,
    log: LoggerLike,
) -> CompleteResult:
    """Complete; a retry answered ``NoSuchUpload`` counts as done only if the destination proves it.

    COS removes the upload when a Complete succeeds, so when the answer to
    the first attempt is lost, the retry finds no upload. But an upload
    aborted from outside (a lifecycle rule, another actor) gives the same
    answer, and the destination may already hold the same bytes (an earlier
    copy). So the destination must be the object this Complete creates
    (:func:`not_this_complete`); otherwise :class:`LostUploadError`.
    ``expected_crc`` is the parts' combined CRC64 (the source's when some
    parts were reused without a CRC).
    """
    try:
        return client.complete_multipart_upload(
            session.dest, session.upload_id, ordered, timeout, forbid_overwrite=session.forbid_overwrite
        )
    except CosServiceError as exc:
        if is_conflict(exc):
            raise DestinationExistsError(
                exc, session.dest, f"Complete of upload {session.upload_id}"
            ) from exc
        retried = getattr(exc, "attempt", 1) > 1
        if exc.code == "NoSuchUpload" and retried:
            try:
                head: ObjectInfo | None = client.head_object(
                    session.dest.bucket, session.dest.key, customer_key=session.keys.dest
                )
            except CosServiceError as missing:
                if not missing.is_not_found:
                    raise
                head = None
            problems = not_this_complete(session, head, expected_crc)
            if problems:
                raise LostUploadError(exc, session.upload_id, session.dest.uri(), problems) from exc
            assert head is not None
            log.warning(
                "Complete of upload %s answered NoSuchUpload on a retry; the destination is the object it "
                "creates (multipart ETag %s, CRC64 %s, attributes, modified %s), so the first attempt succeeded",
                session.upload_id,
                head.etag,
                head.crc64,
                head.last_modified.isoformat() if head.last_modified else "?",
            )
            return CompleteResult(
                location="",
                bucket=session.dest.bucket,
                key=session.dest.key,
                etag=head.etag,
                crc64=head.crc64,
                version_id=head.version_id,
                request_id=head.request_id,
            )
        raise restate(exc, "CompleteMultipartUpload", None, session.upload_id) from exc
    except CosError as exc:
        raise restate(exc, "CompleteMultipartUpload", None, session.upload_id) from exc


_MULTIPART_ETAG = re.compile(r"[0-9a-f]+-([0-9]+)")
_HEAD_FIELDS = {
    "content-type": "content_type",
    "cache-control": "cache_control",
    "content-disposition": "content_disposition",
    "content-encoding": "content_encoding",
    "expires": "expires",
    "x-cos-server-side-encryption": "server_side_encryption",
}


def not_this_complete(
    session: MultipartSession, head: ObjectInfo | None, expected_crc: int | None
) -> list[str]:
    """Why ``head`` (the destination now) is not provably the object this session's Complete created; ``[]`` if it is.

    It is when all of these hold: the source's size; a multipart ETag of the
    plan's part count (``...-N``); the parts' combined CRC64; every
    attribute Initiate sent that HEAD shows (content headers, exactly the
    ``x-cos-meta-*`` sent, storage class, SSE); and a Last-Modified no
    earlier than the upload's initiation (whole seconds, as COS keeps it).
    """
    if head is None:
        return ["the destination does not exist"]
    problems: list[str] = []
    if head.size != session.source_size:
        problems.append(f"size {head.size} != source size {session.source_size}")
    parts = session.plan.part_count
    match = _MULTIPART_ETAG.fullmatch(normalise_etag(head.etag))
    if match is None or int(match.group(1)) != parts:
        problems.append(f"ETag {head.etag} is not the ETag of a {parts}-part upload (...-{parts})")
    if expected_crc is None:
        problems.append("no CRC64 of the parts to compare with")
    elif head.crc64 != expected_crc:
        problems.append(f"CRC64 {head.crc64} != the parts' combined CRC64 {expected_crc}")
    if session.initiate_headers is None:
        problems.append("the session does not record the attributes Initiate sent")
    else:
        problems.extend(_attribute_problems(session.initiate_headers, head))
    if session.initiated_at is None:
        problems.append("the session does not record when the upload was initiated")
    elif head.last_modified is None:
        problems.append("the destination has no Last-Modified")
    elif head.last_modified < session.initiated_at.replace(microsecond=0):
        problems.append(
            f"last modified {head.last_modified.isoformat()}, before the upload was initiated "
            f"({session.initiated_at.isoformat()})"
        )
    return problems


def _attribute_problems(sent: Mapping[str, str], head: ObjectInfo) -> list[str]:
    problems: list[str] = []
    metadata: dict[str, str] = {}
    for name, value in sent.items():
        lower = name.lower()
        if lower.startswith("x-cos-meta-"):
            metadata[lower[len("x-cos-meta-") :]] = value
        elif lower == "x-cos-storage-class":
            if (head.storage_class or "").upper() != value.upper():
                problems.append(f"storage class {head.storage_class} != {value} sent on Initiate")
        elif lower in _HEAD_FIELDS and getattr(head, _HEAD_FIELDS[lower]) != value:
            problems.append(f"{name} {getattr(head, _HEAD_FIELDS[lower])!r} != {value!r} sent on Initiate")
    have = {k.lower(): v for k, v in head.metadata.items()}
    if have != metadata:
        problems.append(f"metadata {have} != {metadata} sent on Initiate")
    return problems
