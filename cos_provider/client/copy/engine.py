"""The copy engine: one object, any size, verified.

``CopyEngine(client).copy(source, dest, options)``:

1. HEAD the source (size, ETag, CRC64, version, content headers, metadata).
2. Up to ``options.multipart_threshold`` (5 GB by default): one PUT Object -
   Copy, its source pinned with ``If-Match`` to the ETag read by HEAD whenever
   the caller's conditions allow it.
3. Above it: a managed multipart copy.

   * The caller's conditions are checked against the HEAD, then every part
     carries ``x-cos-copy-source-If-Match: <ETag at HEAD>`` (plus the
     caller's ``If-Unmodified-Since``), so a source overwritten mid-copy fails
     with 412 instead of yielding a mix of versions.
   * Initiate carries the destination's attributes: with directive ``Copy``
     the source's Content-Type, Cache-Control, Content-Disposition,
     Content-Encoding, Expires and ``x-cos-meta-*`` (COS does not carry them
     over to a multipart upload by itself); with ``Replaced`` the caller's.
     Storage class, ACL, grants, SSE and tagging are the caller's in both
     cases, as with a single PUT copy.
   * Parts run on a bounded thread pool (at most ``concurrency`` requests in
     flight, two parts queued per worker; more are submitted as others
     finish, so memory does not grow with the part count). Progress is
     logged about every 10 s.
   * Before Complete, when every part was copied by this run, the part CRC64s
     are combined and compared with the source's: a corrupt part aborts the
     upload and the destination is never touched.
   * After Complete the destination is HEADed: its size must equal the
     source's, and its CRC64 the source's whenever the source has one;
     otherwise :class:`CosIntegrityError` (and the corrupt result is deleted).
   * Any terminal failure, ``cancel()`` or interrupt aborts the upload; the
     error names the part, its range and the COS request id.
   * A killed process's upload is resumed by the next run: see :mod:`resume`.

The same steps are exposed one by one (:meth:`CopyEngine.start_multipart`,
:meth:`CopyEngine.copy_parts`, :meth:`CopyEngine.finish_multipart`,
:meth:`CopyEngine.abort`) for the mapped Airflow pattern, where they run in
different tasks and a :class:`MultipartSession` travels between them as a
JSON dict.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from cos_provider.client import limits, validation
from cos_provider.client import operations as ops
from cos_provider.client.client import CosClient
from cos_provider.client.copy import resume
from cos_provider.client.copy.errors import CopyCancelled, restate
from cos_provider.client.copy.plan import (
    DEFAULT_CONCURRENCY,
    DEFAULT_MODEL,
    CopyPlan,
    PartRange,
    TransferModel,
    plan_parts,
    validate_concurrency,
)
from cos_provider.client.copy.progress import LoggerLike, ProgressReporter
from cos_provider.client.crc64 import crc64_combine
from cos_provider.client.errors import CosError, CosIntegrityError, CosServiceError, CosValidationError
from cos_provider.client.etag import normalise_etag
from cos_provider.client.models import CompleteResult, ListedObject, ObjectInfo, PartCopyResult, _AsDict
from cos_provider.client.operations import CopyConditions, ObjectAttributes, ObjectRef
from cos_provider.client.timestamps import http_date, whole_second

log = logging.getLogger("cos_provider.copy")
T = TypeVar("T")

COMPLETE_READ_TIMEOUT = 1200.0
"""Complete can take minutes for big objects (COS keeps the connection alive)."""


# ---------------------------------------------------------------- options and results


@dataclass(frozen=True)
class CopyOptions:
    """How to copy. Every field is validated by :meth:`validate` before any request."""

    metadata_directive: str = "Copy"
    attributes: ObjectAttributes = field(default_factory=ObjectAttributes)
    conditions: CopyConditions = field(default_factory=CopyConditions)
    multipart_threshold: int = limits.MAX_SINGLE_COPY_SIZE
    part_size: int | None = None
    concurrency: int = DEFAULT_CONCURRENCY
    resume: bool = True
    progress_interval: float = 10.0
    model: TransferModel = DEFAULT_MODEL
    complete_timeout: float = COMPLETE_READ_TIMEOUT

    def validate(self) -> None:
        directive = validation.validate_directive(self.metadata_directive)
        self.conditions.validate()
        self.attributes.headers(include_content=directive == "Replaced")
        if directive == "Copy" and any(
            getattr(self.attributes, a) is not None for a in (*ops.CONTENT_HEADERS, "metadata")
        ):
            raise CosValidationError(
                "metadata_directive",
                "is 'Copy', which keeps the source's content headers and metadata; use 'Replaced' to set new ones",
            )
        if (
            not isinstance(self.multipart_threshold, int)
            or isinstance(self.multipart_threshold, bool)
            or not 0 <= self.multipart_threshold <= limits.MAX_SINGLE_COPY_SIZE
        ):
            raise CosValidationError(
                "multipart_threshold",
                f"must be from 0 to {limits.MAX_SINGLE_COPY_SIZE} bytes (5 GB, the PUT copy limit), "
                f"got {self.multipart_threshold!r}",
            )
        if self.part_size is not None:
            validation.validate_part_size(self.part_size)
        validate_concurrency(self.concurrency)
        if not self.progress_interval > 0:
            raise CosValidationError("progress_interval", f"must be positive, got {self.progress_interval!r}")

    @property
    def directive(self) -> str:
        return validation.validate_directive(self.metadata_directive)


@dataclass(frozen=True)
class CopyOutcome(_AsDict):
    """What a copy produced; ``to_dict()`` is the operators' XCom value.

    ``part_count`` is 0 for a single PUT copy.
    """

    dest_uri: str
    bucket: str
    key: str
    etag: str
    version_id: str | None
    crc64: int | None
    size: int
    last_modified: datetime | None
    source_uri: str
    source_version_id: str | None
    source_etag: str
    part_count: int
    method: str
    upload_id: str | None = None
    parts_copied: int = 0
    parts_reused: int = 0
    elapsed_seconds: float = 0.0
    request_id: str | None = None


@dataclass(frozen=True)
class MultipartSession:
    """An initiated multipart copy: everything the later steps need. JSON-able."""

    source: ObjectRef
    dest: ObjectRef
    upload_id: str
    source_etag: str
    source_size: int
    source_crc64: int | None
    source_version_id: str | None
    part_size: int
    conditions: CopyConditions
    resumed_parts: Mapping[int, str] = field(default_factory=dict)
    resumed_bytes: int = 0

    @property
    def plan(self) -> CopyPlan:
        return CopyPlan(self.source_size, self.part_size)

    def to_dict(self, include_parts: bool = True) -> dict[str, Any]:
        def ref(r: ObjectRef) -> dict[str, Any]:
            return {"bucket": r.bucket, "key": r.key, "version_id": r.version_id, "region": r.region}

        c = self.conditions
        out: dict[str, Any] = {
            "source": ref(self.source),
            "dest": ref(self.dest),
            "upload_id": self.upload_id,
            "source_etag": self.source_etag,
            "source_size": self.source_size,
            "source_crc64": self.source_crc64,
            "source_version_id": self.source_version_id,
            "part_size": self.part_size,
            "part_count": self.plan.part_count,
            "conditions": {
                "if_match": c.if_match,
                "if_unmodified_since": http_date(c.if_unmodified_since) if c.if_unmodified_since else None,
            },
            "resumed_bytes": self.resumed_bytes,
        }
        if include_parts:
            out["resumed_parts"] = {str(k): v for k, v in self.resumed_parts.items()}
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MultipartSession:
        def ref(d: Mapping[str, Any]) -> ObjectRef:
            return ObjectRef(d["bucket"], d["key"], d.get("version_id"), d.get("region"))

        cond = data.get("conditions") or {}
        return cls(
            source=ref(data["source"]),
            dest=ref(data["dest"]),
            upload_id=data["upload_id"],
            source_etag=data["source_etag"],
            source_size=int(data["source_size"]),
            source_crc64=data.get("source_crc64"),
            source_version_id=data.get("source_version_id"),
            part_size=int(data["part_size"]),
            conditions=CopyConditions(
                if_match=cond.get("if_match"), if_unmodified_since=cond.get("if_unmodified_since")
            ),
            resumed_parts={int(k): v for k, v in (data.get("resumed_parts") or {}).items()},
            resumed_bytes=int(data.get("resumed_bytes") or 0),
        )


@dataclass(frozen=True)
class CopiedPart(_AsDict):
    """One part of a finished batch (``crc64`` is None for a reused part)."""

    part_number: int
    etag: str
    crc64: int | None
    size: int


# ---------------------------------------------------------------- helpers


def check_conditions(info: ObjectInfo, conditions: CopyConditions, source: ObjectRef) -> None:
    """Evaluate the caller's copy-source conditions against a HEAD of the source.

    Raises the 412 ``PreconditionFailed`` COS would have answered. Used where
    a condition cannot travel with every request (multipart parts carry
    If-Match, which COS does not combine with If-None-Match/If-Modified-Since).
    """
    etag = normalise_etag(info.etag)
    failed: list[str] = []
    if conditions.if_match and normalise_etag(conditions.if_match) != etag:
        failed.append(f"If-Match {conditions.if_match!r} (source ETag is {info.etag})")
    if conditions.if_none_match and normalise_etag(conditions.if_none_match) == etag:
        failed.append(f"If-None-Match {conditions.if_none_match!r} (source ETag is {info.etag})")
    lm = info.last_modified
    if lm is not None:
        if conditions.if_modified_since and not lm > whole_second(conditions.if_modified_since):
            failed.append(
                f"If-Modified-Since {conditions.if_modified_since} (source modified {lm.isoformat()})"
            )
        if conditions.if_unmodified_since and lm > whole_second(conditions.if_unmodified_since):
            failed.append(
                f"If-Unmodified-Since {conditions.if_unmodified_since} (source modified {lm.isoformat()})"
            )
    if failed:
        raise CosServiceError(
            412,
            "PreconditionFailed",
            "copy source condition not met: " + "; ".join(failed),
            resource=source.uri(),
            request_id=info.request_id or "",
            method="HEAD",
        )


def initiate_attributes(info: ObjectInfo, options: CopyOptions) -> ObjectAttributes:
    """What Initiate sends so the multipart result matches what PUT copy would make."""
    attrs = options.attributes
    if options.directive == "Replaced":
        return attrs
    return dataclasses.replace(
        attrs,
        content_type=info.content_type,
        cache_control=info.cache_control,
        content_disposition=info.content_disposition,
        content_encoding=info.content_encoding,
        expires=info.expires,
        metadata=dict(info.metadata) or None,
    )


def listed_info(bucket: str, obj: ListedObject) -> ObjectInfo:
    """An :class:`ObjectInfo` from a listing entry (no CRC64, no headers)."""
    return ObjectInfo(
        bucket=bucket, key=obj.key, size=obj.size, etag=obj.etag, last_modified=obj.last_modified
    )


class CopyEngine:
    """Copies objects with one :class:`CosClient` (the destination's region).

    Thread-safe for concurrent :meth:`copy` calls (the prefix operator runs
    many). :meth:`cancel` stops every copy in progress and aborts their uploads.
    """

    def __init__(self, client: CosClient, *, logger: LoggerLike | None = None) -> None:
        self.client = client
        self.log: LoggerLike = logger or log
        self._cancel = threading.Event()
        self._lock = threading.RLock()  # RLock: cancel() may run in a signal handler
        self._active: dict[str, ObjectRef] = {}
        self._witness: dict[str, Future[bool]] = {}

    # -- cancellation

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self, wait_seconds: float = 15.0) -> None:
        """Stop all copies and abort their uploads (safe to call from a signal handler).

        The aborts run on a helper thread so a handler that interrupted the
        main thread inside the HTTP pool cannot deadlock on its locks.
        """
        self._cancel.set()
        with self._lock:
            active = list(self._active.items())
        if not active:
            return

        def abort_all() -> None:
            for upload_id, dest in active:
                if resume.abort_quietly(self.client, dest, upload_id, logger=self.log):
                    self.log.warning("Cancelled: aborted upload %s of %s", upload_id, dest.uri())

        worker = threading.Thread(target=abort_all, name="cos-copy-cancel", daemon=True)
        worker.start()
        worker.join(wait_seconds)

    def _check_cancel(self) -> None:
        if self._cancel.is_set():
            raise CopyCancelled("copy cancelled")

    def _register(self, upload_id: str, dest: ObjectRef) -> None:
        with self._lock:
            self._active[upload_id] = dest

    def _unregister(self, upload_id: str) -> None:
        with self._lock:
            self._active.pop(upload_id, None)

    # -- validation

    def validate(self, source: ObjectRef, dest: ObjectRef, options: CopyOptions) -> None:
        """Every rule a copy can break before sending anything (builds the same calls)."""
        options.validate()
        here = self.client.endpoint.region
        if dest.region and here and dest.region != here:
            raise CosValidationError(
                "dest.region",
                f"is {dest.region!r} but the client is for {here!r}; copy with a client (hook) of the "
                "destination's region (the source may be in any region)",
            )
        ops.copy_object(
            source,
            dest,
            self.client.endpoint,
            metadata_directive=options.metadata_directive,
            attributes=options.attributes,
            conditions=options.conditions,
        )
        if options.directive == "Replaced":
            ops.initiate_multipart_upload(dest, options.attributes)

    def head_source(self, source: ObjectRef) -> ObjectInfo:
        return self.client.head_object(source.bucket, source.key, source.version_id, source.region)

    # -- the whole copy

    def copy(
        self,
        source: ObjectRef,
        dest: ObjectRef,
        options: CopyOptions | None = None,
        *,
        listed: ListedObject | None = None,
        source_info: ObjectInfo | None = None,
    ) -> CopyOutcome:
        """Copy ``source`` to ``dest``; see the module docstring.

        ``listed`` (a listing entry of the source) saves the HEAD of a source
        small enough for a single copy; the copy is then pinned to its ETag.
        ``source_info`` (a HEAD the caller already made) saves the HEAD.
        """
        options = options or CopyOptions()
        self.validate(source, dest, options)
        self._check_cancel()
        started = time.monotonic()
        if listed is not None and listed.size <= options.multipart_threshold:
            return self._single(source, dest, options, listed_info(source.bucket, listed), started, False)
        info = source_info or self.head_source(source)
        if info.size <= options.multipart_threshold:
            return self._single(source, dest, options, info, started, True)
        session = self.start_multipart(source, dest, options, info, wait_witness=False)
        return self.run_multipart(session, options, started=started)

    # -- single PUT copy

    def _single(
        self,
        source: ObjectRef,
        dest: ObjectRef,
        options: CopyOptions,
        info: ObjectInfo,
        started: float,
        have_crc: bool,
    ) -> CopyOutcome:
        conditions = options.conditions
        pinned = False
        if info.etag and not (
            conditions.if_match or conditions.if_none_match or conditions.if_modified_since
        ):
            conditions = dataclasses.replace(conditions, if_match=info.etag)
            pinned = True
        elif conditions.if_match and normalise_etag(conditions.if_match) == normalise_etag(info.etag):
            pinned = True
        result = self.client.copy_object(
            source,
            dest,
            metadata_directive=options.directive,
            attributes=options.attributes,
            conditions=conditions,
        )
        crc = result.crc64
        if pinned and have_crc and info.crc64 is not None:
            if crc is None:
                crc = self.client.head_object(dest.bucket, dest.key, _version(result.version_id)).crc64
            if crc != info.crc64:
                self._discard(dest, result.version_id, result.etag)
                raise CosIntegrityError(
                    f"copy of {source.uri()} to {dest.uri()}: destination CRC64 {crc} != source CRC64 "
                    f"{info.crc64} (request_id={result.request_id}); the corrupt copy was deleted"
                )
        outcome = CopyOutcome(
            dest_uri=dest.uri(),
            bucket=dest.bucket,
            key=dest.key,
            etag=result.etag,
            version_id=result.version_id,
            crc64=crc,
            size=info.size,
            last_modified=result.last_modified,
            source_uri=source.uri(),
            source_version_id=result.source_version_id or info.version_id or source.version_id,
            source_etag=info.etag,
            part_count=0,
            method="single",
            elapsed_seconds=round(time.monotonic() - started, 3),
            request_id=result.request_id,
        )
        self.log.debug("Copied %s to %s with one PUT copy (%d bytes)", source.uri(), dest.uri(), info.size)
        return outcome

    # -- multipart, step by step

    def start_multipart(
        self,
        source: ObjectRef,
        dest: ObjectRef,
        options: CopyOptions,
        info: ObjectInfo | None = None,
        *,
        wait_witness: bool = True,
    ) -> MultipartSession:
        """HEAD (unless given), check conditions, plan, then resume or Initiate.

        ``wait_witness=False`` lets the resume witness be written while the
        parts are copied (:meth:`finish_multipart` waits for it).
        """
        self.validate(source, dest, options)
        info = info or self.head_source(source)
        check_conditions(info, options.conditions, source)
        if not info.etag:
            raise CosError(f"HEAD of {source.uri()} returned no ETag; cannot pin the parts to one version")
        plan = plan_parts(info.size, options.part_size, options.concurrency, options.model)
        if plan.part_count == 0:
            raise CosValidationError("source size", "a 0-byte source cannot be copied in parts")
        attrs = initiate_attributes(info, options)
        part_conditions = options.conditions.pinned_to(info.etag)
        initiate_headers = attrs.headers()
        resumable = options.resume and plan.part_count < resume.WITNESS_PART_NUMBER
        point: resume.ResumePoint | None = None
        self._check_cancel()
        if resumable:
            ident = resume.identity(
                source, info, dest, plan.part_size, initiate_headers, part_conditions.headers()
            )
            body = resume.witness_body(ident)
            point, upload_id = self._resume_or_initiate(dest, attrs, plan, body)
            if point is None:
                witness = _in_thread(resume.write_witness, self.client, dest, upload_id, body)
                if wait_witness:
                    self._join_witness(upload_id, witness)
                else:
                    self._witness[upload_id] = witness
        else:
            upload_id = self.client.initiate_multipart_upload(dest, attrs).upload_id
            self._register(upload_id, dest)
        if point is not None:
            self.log.info(
                "Resuming upload %s of %s: %d of %d parts (%d bytes) already copied from the same source version",
                upload_id,
                dest.uri(),
                len(point.parts),
                plan.part_count,
                point.reused_bytes,
            )
        else:
            self.log.info(
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
        )

    def _resume_or_initiate(
        self, dest: ObjectRef, attrs: ObjectAttributes, plan: CopyPlan, body: bytes
    ) -> tuple[resume.ResumePoint | None, str]:
        """List the open uploads while a new one is initiated (one round trip, not two).

        If an open upload matches the resume rule, the new one is aborted and
        the old one continued.
        """
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="cos-start") as pool:
            listing = pool.submit(resume.open_uploads, self.client, dest, logger=self.log)
            initiating = pool.submit(self.client.initiate_multipart_upload, dest, attrs)
            both: list[Future[Any]] = [listing, initiating]
            wait(both)
        new_id = initiating.result().upload_id if initiating.exception() is None else None
        if new_id is not None:
            self._register(new_id, dest)
        try:
            ids = listing.result()
            if new_id is None:
                initiating.result()  # raises Initiate's error
            assert new_id is not None
            others = [u for u in ids or [] if u != new_id]
            point = (
                resume.match_uploads(self.client, dest, plan, body, others, logger=self.log)
                if others
                else None
            )
        except BaseException as exc:
            if new_id is not None:
                self.abort_upload(dest, new_id, _reason(exc))
            raise
        if point is None:
            return None, new_id
        self._unregister(new_id)
        resume.abort_quietly(self.client, dest, new_id, logger=self.log)
        self._register(point.upload_id, dest)
        return point, point.upload_id

    def _join_witness(self, upload_id: str, witness: Future[bool] | None = None) -> None:
        """Wait for the resume witness of ``upload_id``; a failure only costs resumability."""
        witness = witness or self._witness.pop(upload_id, None)
        if witness is None:
            return
        try:
            witness.result(timeout=120)
        except Exception as exc:
            self.log.warning(
                "Could not write the resume witness of upload %s (%s); it will not resume", upload_id, exc
            )

    def _copy_part(self, session: MultipartSession, part: PartRange, stop: threading.Event) -> PartCopyResult:
        if stop.is_set() or self._cancel.is_set():
            raise CopyCancelled(f"part {part.number} not started: copy stopped")
        return self.client.upload_part_copy(
            session.source,
            session.dest,
            session.upload_id,
            part.number,
            part.first,
            part.last,
            session.conditions,
        )

    def copy_parts(
        self,
        session: MultipartSession,
        numbers: Iterable[int],
        concurrency: int = DEFAULT_CONCURRENCY,
        *,
        progress_interval: float = 10.0,
        abort_on_failure: bool = True,
        label: str | None = None,
        total_parts: int | None = None,
        reused_parts: int = 0,
        reused_bytes: int = 0,
    ) -> dict[int, PartCopyResult]:
        """Copy the given parts on a bounded pool; the first failure stops the rest.

        With ``abort_on_failure`` the upload is aborted at once (before
        waiting for parts in flight) and once more after they drain.
        """
        validate_concurrency(concurrency)
        plan = session.plan
        todo = [plan.part(n) for n in numbers]
        results: dict[int, PartCopyResult] = {}
        if not todo:
            return results
        if total_parts is None:  # a batch: progress of these parts only
            total_parts, total_bytes = len(todo) + reused_parts, sum(p.size for p in todo) + reused_bytes
        else:
            total_bytes = session.source_size
        progress = ProgressReporter(
            total_parts,
            total_bytes,
            label=label or f"Copy to {session.dest.uri()}",
            log=self.log,
            interval=progress_interval,
            reused_parts=reused_parts,
            reused_bytes=reused_bytes,
        )
        stop = threading.Event()
        pending = iter(todo)
        inflight: dict[Future[PartCopyResult], PartRange] = {}
        executor = ThreadPoolExecutor(max_workers=min(concurrency, len(todo)), thread_name_prefix="cos-copy")

        def submit_next() -> None:
            part = next(pending, None)
            if part is not None:
                inflight[executor.submit(self._copy_part, session, part, stop)] = part

        failure: BaseException | None = None
        try:
            # Two parts queued per worker: a worker that finishes picks the next
            # part at once, without waiting for this thread to hand it one.
            for _ in range(min(2 * concurrency, len(todo))):
                submit_next()
            while inflight:
                self._check_cancel()
                timeout = max(0.05, min(1.0, progress.seconds_to_next()))
                done, _ = wait(inflight, timeout=timeout, return_when=FIRST_COMPLETED)
                for fut in done:
                    part = inflight.pop(fut)
                    exc = fut.exception()
                    if exc is not None:
                        self._check_cancel()  # parts fail with NoSuchUpload once cancel() aborted
                        raise restate(exc, "UploadPartCopy", part, session.upload_id) from exc
                    results[part.number] = fut.result()
                    progress.add(part.size)
                    submit_next()
                progress.maybe_report()
        except BaseException as exc:
            failure = exc
            stop.set()
            for fut in inflight:
                fut.cancel()
            if abort_on_failure:
                self.abort_upload(session.dest, session.upload_id, _reason(exc))
            raise
        finally:
            executor.shutdown(wait=True, cancel_futures=True)
            if failure is not None and abort_on_failure:
                # Parts that were in flight during the first abort may have landed.
                resume.abort_quietly(self.client, session.dest, session.upload_id, logger=self.log)
        progress.finish()
        return results

    def finish_multipart(
        self,
        session: MultipartSession,
        parts: Mapping[int, tuple[str, int | None]],
        *,
        complete_timeout: float = COMPLETE_READ_TIMEOUT,
        started: float | None = None,
        parts_copied: int = 0,
    ) -> CopyOutcome:
        """Complete with parts 1..N (number -> (ETag, CRC64 or None)) and verify.

        If every part has a CRC64 their combination must equal the source's
        before Complete is even sent; a mismatch aborts the upload.
        """
        plan = session.plan
        missing = [n for n in range(1, plan.part_count + 1) if n not in parts]
        if missing:
            shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
            raise CosValidationError("parts", f"{len(missing)} part(s) missing before Complete: {shown}")
        self._check_cancel()
        if session.source_crc64 is not None and all(
            parts[n][1] is not None for n in range(1, plan.part_count + 1)
        ):
            combined = 0
            for p in plan:
                crc = parts[p.number][1]
                assert crc is not None
                combined = crc64_combine(combined, crc, p.size) if p.number > 1 else crc
            if combined != session.source_crc64:
                self.abort_upload(session.dest, session.upload_id, "CRC64 mismatch")
                raise CosIntegrityError(
                    f"multipart copy of {session.source.uri()} to {session.dest.uri()}: the CRC64 of the "
                    f"copied parts combines to {combined}, the source's is {session.source_crc64}; "
                    f"upload {session.upload_id} was aborted and the destination left untouched"
                )
        ordered = [(n, parts[n][0]) for n in range(1, plan.part_count + 1)]
        self._join_witness(session.upload_id)
        try:
            result = self._complete(session, ordered, complete_timeout)
        except BaseException as exc:
            self.abort_upload(session.dest, session.upload_id, _reason(exc))
            raise
        finally:
            self._unregister(session.upload_id)
        head = self.client.head_object(
            session.dest.bucket, session.dest.key, _version(result.version_id), session.dest.region
        )
        problems = []
        if head.size != session.source_size:
            problems.append(f"size {head.size} != source size {session.source_size}")
        crc = head.crc64 if head.crc64 is not None else result.crc64
        if session.source_crc64 is not None and crc != session.source_crc64:
            problems.append(f"CRC64 {crc} != source CRC64 {session.source_crc64}")
        if problems:
            self._discard(session.dest, result.version_id, result.etag, head)
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

    def _complete(
        self, session: MultipartSession, ordered: Sequence[tuple[int, str]], timeout: float
    ) -> CompleteResult:
        try:
            return self.client.complete_multipart_upload(session.dest, session.upload_id, ordered, timeout)
        except CosServiceError as exc:
            retried = getattr(exc, "attempt", 1) > 1
            if exc.code == "NoSuchUpload" and retried:
                # An earlier attempt of this Complete may have succeeded with its answer lost.
                head = self.client.head_object(session.dest.bucket, session.dest.key)
                same_crc = session.source_crc64 is None or head.crc64 == session.source_crc64
                if head.size == session.source_size and same_crc and head.crc64 is not None:
                    self.log.warning(
                        "Complete of upload %s answered NoSuchUpload on a retry; the destination "
                        "matches the source, so the first attempt succeeded",
                        session.upload_id,
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

    def run_multipart(
        self, session: MultipartSession, options: CopyOptions, *, started: float | None = None
    ) -> CopyOutcome:
        """Copy the parts a session still lacks, then complete and verify."""
        started = started if started is not None else time.monotonic()
        plan = session.plan
        todo = [n for n in range(1, plan.part_count + 1) if n not in session.resumed_parts]
        if session.source_crc64 is not None and not session.resumed_parts:
            _in_thread(crc64_combine, 0, 0, 1)  # builds the combine tables while parts copy
        results = self.copy_parts(
            session,
            todo,
            options.concurrency,
            progress_interval=options.progress_interval,
            label=f"Copy {session.source.uri()} -> {session.dest.uri()}",
            total_parts=plan.part_count,
            reused_parts=len(session.resumed_parts),
            reused_bytes=session.resumed_bytes,
        )
        parts: dict[int, tuple[str, int | None]] = {
            n: (etag, None) for n, etag in session.resumed_parts.items()
        }
        parts.update({n: (r.etag, r.crc64) for n, r in results.items()})
        outcome = self.finish_multipart(
            session,
            parts,
            complete_timeout=options.complete_timeout,
            started=started,
            parts_copied=len(results),
        )
        self.log.info(
            "Copied %s to %s: %d bytes in %d parts (%d reused) in %.1fs, CRC64 %s verified",
            outcome.source_uri,
            outcome.dest_uri,
            outcome.size,
            outcome.part_count,
            outcome.parts_reused,
            outcome.elapsed_seconds,
            outcome.crc64,
        )
        return outcome

    # -- aborting

    def abort_upload(self, dest: ObjectRef, upload_id: str, reason: str = "") -> bool:
        """Abort and log; ``True`` if the upload was open. Never raises."""
        self._unregister(upload_id)
        self._witness.pop(upload_id, None)
        aborted = resume.abort_quietly(self.client, dest, upload_id, logger=self.log)
        if aborted:
            self.log.warning(
                "Aborted upload %s of %s%s", upload_id, dest.uri(), f": {reason}" if reason else ""
            )
        return aborted

    def existing_parts(
        self, session: MultipartSession, numbers: Iterable[int] | None = None
    ) -> dict[int, CopiedPart]:
        """Parts already in the session's upload with the planned size (all were
        copied pinned to the session's source ETag, so they are reusable)."""
        wanted = set(numbers) if numbers is not None else None
        plan = session.plan
        out: dict[int, CopiedPart] = {}
        for part in self.client.iter_parts(session.dest, session.upload_id):
            n = part.part_number
            if wanted is not None and n not in wanted:
                continue
            if 1 <= n <= plan.part_count and part.size == plan.part(n).size and part.etag:
                out[n] = CopiedPart(n, part.etag, None, part.size)
        return out

    def abort(self, session: MultipartSession, reason: str = "") -> bool:
        return self.abort_upload(session.dest, session.upload_id, reason)

    def _discard(
        self, dest: ObjectRef, version_id: str | None, etag: str, head: ObjectInfo | None = None
    ) -> None:
        """Delete a result that failed verification, if it is still ours."""
        try:
            if version_id and version_id != "null":
                self.client.delete_object(dest.bucket, dest.key, version_id)
                return
            current = head or self.client.head_object(dest.bucket, dest.key)
            if normalise_etag(current.etag) == normalise_etag(etag):
                self.client.delete_object(dest.bucket, dest.key)
            else:
                self.log.error(
                    "Not deleting %s: it changed since the copy (ETag %s)", dest.uri(), current.etag
                )
        except CosError as exc:
            self.log.error("Could not delete the corrupt copy at %s: %s", dest.uri(), exc)


def _in_thread(fn: Callable[..., T], *args: Any) -> Future[T]:
    """Run ``fn(*args)`` on a daemon thread; its outcome in a Future."""
    future: Future[T] = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn(*args))
        except BaseException as exc:
            future.set_exception(exc)

    threading.Thread(target=run, name="cos-copy-side", daemon=True).start()
    return future


def _version(version_id: str | None) -> str | None:
    return version_id if version_id and version_id != "null" else None


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def run_with_cancel(engine: CopyEngine, fn: Callable[[], T]) -> T:
    """Run ``fn``; on any exception (including interrupts) cancel the engine first."""
    try:
        return fn()
    except BaseException:
        engine.cancel()
        raise
