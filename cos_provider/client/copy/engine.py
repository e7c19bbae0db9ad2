"""The copy engine: one object, any size, verified.

``CopyEngine(client).copy(source, dest, options)``:

1. HEAD the source (size, ETag, CRC64, version, content headers, metadata).
2. Up to ``options.multipart_threshold`` (5 GB by default): one PUT Object -
   Copy, pinned to the ETag read by HEAD and checked against its CRC64
   (:mod:`single`).
3. Above it: a managed multipart copy (:mod:`multipart`): conditions checked
   against the HEAD, every part pinned to its ETag, parts copied on a bounded
   window (:mod:`window`, at most ``concurrency`` requests in flight) with
   progress logged about every 10 s, the part CRC64s combined and compared
   before Complete, the result HEADed and compared after it.
4. Any terminal failure, :meth:`CopyEngine.cancel` or interrupt aborts the
   upload; the error names the part, its range and the COS request id, and
   an abort that failed too (the upload id, bucket and key left behind). A
   killed process's upload is resumed by the next run (:mod:`resume`).
   Succeeded or failed, a copy whose Initiate reply was lost aborts the
   uploads that Initiate created (:mod:`orphans`).

Many objects at once (a prefix) go through :meth:`CopyEngine.copy_many`
(:mod:`many`). No Airflow import here; operators build on it, and so can scripts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping

from cos_provider.client import operations as ops
from cos_provider.client.client import CosClient
from cos_provider.client.copy import multipart, orphans
from cos_provider.client.copy.cancel import OpenUploads
from cos_provider.client.copy.cleanup import abort_upload
from cos_provider.client.copy.errors import UploadNotAborted
from cos_provider.client.copy.many import ManyCopyResult, Pair, copy_many
from cos_provider.client.copy.models import (
    COMPLETE_READ_TIMEOUT,
    CopiedPart,
    CopyOptions,
    CopyOutcome,
    MultipartSession,
)
from cos_provider.client.copy.parts import copy_parts, planned_parts
from cos_provider.client.copy.plan import DEFAULT_CONCURRENCY
from cos_provider.client.copy.progress import LoggerLike
from cos_provider.client.copy.single import copy_single
from cos_provider.client.copy.source import listed_info
from cos_provider.client.encryption import key_needed, require_https
from cos_provider.client.errors import CosServiceError, CosValidationError
from cos_provider.client.models import ListedObject, ObjectInfo, PartCopyResult
from cos_provider.client.operations import ObjectRef
from cos_provider.client.restore import is_archived, require_readable

log = logging.getLogger("cos_provider.copy")


class CopyEngine:
    """Copies objects with one :class:`CosClient` (the destination's region).

    Thread-safe for concurrent :meth:`copy` calls (a prefix copy runs many).
    :meth:`cancel` stops every copy in progress and aborts their uploads.
    """

    def __init__(self, client: CosClient, *, logger: LoggerLike | None = None) -> None:
        self.client = client
        self.log: LoggerLike = logger or log
        self.uploads = OpenUploads(client, self.log)

    def cancel(self, wait_seconds: float = 15.0) -> None:
        """Stop all copies and abort their uploads (safe to call from a signal handler)."""
        self.uploads.cancel(wait_seconds)

    def validate(self, source: ObjectRef, dest: ObjectRef, options: CopyOptions) -> None:
        """Every rule a copy can break before sending anything (builds the same calls)."""
        options.validate()
        if options.keys:
            require_https(self.client.endpoint, options.keys.field())
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
            tagging_directive=options.tagging_directive,
            forbid_overwrite=not options.overwrite,
            keys=options.keys,
        )
        if options.directive == "Replaced":
            ops.initiate_multipart_upload(dest, options.attributes, customer_key=options.keys.dest)

    def head_source(self, source: ObjectRef, options: CopyOptions | None = None) -> ObjectInfo:
        """HEAD the source (with its SSE-C key, if the options carry one)."""
        key = options.keys.source if options is not None else None
        try:
            return self.client.head_object(
                source.bucket, source.key, source.version_id, source.region, customer_key=key
            )
        except CosServiceError as exc:
            if key is None:
                raise key_needed(exc, source.uri(), "source_sse_customer_key") from exc
            raise

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
        self.uploads.check()
        started = time.monotonic()
        small = listed is not None and listed.size <= options.multipart_threshold
        if small and listed is not None and not is_archived(listed.storage_class):
            info = listed_info(source.bucket, listed)
            return copy_single(
                self.client, source, dest, options, info, have_crc=False, started=started, log=self.log
            )
        info = source_info or self.head_source(source, options)
        require_readable(info, "copy")  # an unrestored archive: refused before any write
        if info.size <= options.multipart_threshold:
            return copy_single(
                self.client, source, dest, options, info, have_crc=True, started=started, log=self.log
            )
        session = self.start_multipart(source, dest, options, info)
        try:
            outcome = self._copy_started(session, options, started)
        except BaseException as exc:
            # finish_multipart has looked already when it ran; this covers a failure before it.
            orphans.sweep_after_failure(session.orphans, self.client, dest, self.uploads, exc, log=self.log)
            raise
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

    def _copy_started(self, session: MultipartSession, options: CopyOptions, started: float) -> CopyOutcome:
        """The parts and the Complete of a managed multipart copy whose upload is open."""
        plan = session.plan
        source, dest = session.source, session.dest
        results = self.copy_parts(
            session,
            [n for n in range(1, plan.part_count + 1) if n not in session.resumed_parts],
            options.concurrency,
            progress_interval=options.progress_interval,
            label=f"Copy {source.uri()} -> {dest.uri()}",
            total_parts=plan.part_count,
            reused_parts=len(session.resumed_parts),
            reused_bytes=session.resumed_bytes,
        )
        done: dict[int, tuple[str, int | None]] = {
            n: (etag, None) for n, etag in session.resumed_parts.items()
        }
        done.update({n: (r.etag, r.crc64) for n, r in results.items()})
        return self.finish_multipart(
            session,
            done,
            complete_timeout=options.complete_timeout,
            started=started,
            parts_copied=len(results),
        )

    def copy_many(
        self,
        pairs: Iterable[Pair],
        options: CopyOptions,
        *,
        concurrency: int,
        replace: bool = True,
        continue_on_failure: bool = False,
    ) -> ManyCopyResult:
        """:func:`~cos_provider.client.copy.many.copy_many` with this engine."""
        return copy_many(
            self,
            pairs,
            options,
            concurrency=concurrency,
            replace=replace,
            continue_on_failure=continue_on_failure,
        )

    # -- multipart, step by step (the mapped operators run them in separate tasks)

    def start_multipart(
        self, source: ObjectRef, dest: ObjectRef, options: CopyOptions, info: ObjectInfo | None = None
    ) -> MultipartSession:
        """HEAD (unless given), check conditions, plan, then resume or Initiate."""
        self.validate(source, dest, options)
        info = info or self.head_source(source, options)
        require_readable(info, "copy")
        return multipart.start(self.client, self.uploads, source, dest, options, info, log=self.log)

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
        """:func:`~cos_provider.client.copy.parts.copy_parts` for ``session``."""
        if session.keys:
            require_https(self.client.endpoint, session.keys.field())
        return copy_parts(
            self.client,
            self.uploads,
            session,
            numbers,
            concurrency,
            log=self.log,
            progress_interval=progress_interval,
            abort_on_failure=abort_on_failure,
            label=label,
            total_parts=total_parts,
            reused_parts=reused_parts,
            reused_bytes=reused_bytes,
        )

    def existing_parts(
        self, session: MultipartSession, numbers: Iterable[int] | None = None
    ) -> dict[int, CopiedPart]:
        """Parts an earlier try left in the session's upload that can be kept (:func:`~cos_provider.client.copy.parts.planned_parts`)."""
        return planned_parts(self.client, session.dest, session.upload_id, session.plan, numbers)

    def finish_multipart(
        self,
        session: MultipartSession,
        parts: Mapping[int, tuple[str, int | None]],
        *,
        complete_timeout: float = COMPLETE_READ_TIMEOUT,
        started: float | None = None,
        parts_copied: int = 0,
    ) -> CopyOutcome:
        """:func:`~cos_provider.client.copy.multipart.finish` for ``session``."""
        return multipart.finish(
            self.client,
            self.uploads,
            session,
            parts,
            log=self.log,
            complete_timeout=complete_timeout,
            started=started,
            parts_copied=parts_copied,
        )

    def abort(self, session: MultipartSession, reason: str = "") -> bool:
        """Abort the session's upload, and the orphans of its Initiate, logging why; ``True`` if it was open.

        The mapped copy's teardown: when COS keeps refusing the abort (or an
        orphan's), raises :class:`UploadNotAborted`, which names the upload
        id, bucket and key left to clean up.
        """
        self.uploads.forget(session.upload_id)
        try:
            aborted = abort_upload(self.client, session.dest, session.upload_id)
        except UploadNotAborted as exc:
            self.log.error("%s", exc)
            orphans.sweep_after_failure(
                session.orphans, self.client, session.dest, self.uploads, exc, log=self.log
            )
            raise
        if aborted:
            self.log.warning(
                "Aborted upload %s of %s%s",
                session.upload_id,
                session.dest.uri(),
                f": {reason}" if reason else "",
            )
        if session.orphans is not None:
            left = session.orphans.sweep(self.client, session.dest, self.uploads, log=self.log, wait=True)
            if left:
                raise left[0]
        return aborted
