"""Uploading a local file (a path or a seekable file object) to COS, never holding it in memory.

Up to ``multipart_threshold`` bytes: one PUT Object whose body is the file
streamed from disk (:class:`~cos_provider.client.protocol.FileRange`). Above
it: Initiate, Upload Part from file ranges through the bounded window
(:func:`~cos_provider.client.copy.window.run_window`), Complete. Every part's
CRC64 is computed locally, checked against the part's answer, and combined;
the object's ``x-cos-hash-crc64ecma`` must equal the local file's CRC64, or
the object is deleted and :class:`CosIntegrityError` raised. Any failure or
cancel aborts the upload.

Initiate goes through :func:`~cos_provider.client.copy.orphans.initiate`,
as for copies: when an attempt's reply was lost and the retry created
another upload, the uploads the lost attempts created are found and aborted
once the upload ends, succeeded or failed.

Resume uses the copies' witness (:mod:`~cos_provider.client.copy.resume`):
part 10,000 of an upload holds the hash of the upload's identity (the
destination, the size, the part size and the Initiate headers). A retried
upload finds an open upload on the key with the expected witness, and keeps
only the parts whose ETag (the MD5 COS computed of the part's body) equals
the MD5 of the local file's bytes at that range, so a local file that
changed between tries is never mixed in: a changed range is uploaded again.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from cos_provider.client import limits
from cos_provider.client import operations as ops
from cos_provider.client.client import CosClient
from cos_provider.client.copy import orphans, resume
from cos_provider.client.copy.cancel import OpenUploads, reason
from cos_provider.client.copy.cleanup import discard
from cos_provider.client.copy.progress import LoggerLike, ProgressReporter
from cos_provider.client.copy.window import run_window
from cos_provider.client.crc64 import crc64, crc64_combine
from cos_provider.client.encryption import CustomerKey, require_https
from cos_provider.client.errors import CosIntegrityError, CosValidationError
from cos_provider.client.etag import normalise_etag
from cos_provider.client.models import Upload
from cos_provider.client.operations import ObjectAttributes, ObjectRef
from cos_provider.client.protocol import FileRange

log = logging.getLogger("cos_provider.upload")

LocalSource = str | os.PathLike[str] | IO[bytes]
DEFAULT_MULTIPART_THRESHOLD = 64 * limits.MiB
DEFAULT_PART_SIZE = 8 * limits.MiB
DEFAULT_UPLOAD_CONCURRENCY = 16
"""Parts in flight: one COS connection is far slower than a worker's link, so it
takes many (bench/transfer.py: 4 left a 10:1 aggregate/per-request model 4x from
its ideal); 16 matches the transport's pool. Memory does not grow with it:
parts stream from the file."""
MAX_DATA_PARTS = limits.MAX_PARTS - 1
"""Part 10,000 is the resume witness."""


@dataclass(frozen=True)
class UploadOptions:
    multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD
    part_size: int | None = None
    concurrency: int = DEFAULT_UPLOAD_CONCURRENCY
    resume: bool = True
    overwrite: bool = True
    attributes: ObjectAttributes = field(default_factory=ObjectAttributes)
    customer_key: CustomerKey | None = None
    """SSE-C: sent on the PUT, or on Initiate and every part (COS wants it on each); HTTPS only."""

    def validate(self) -> None:
        if self.multipart_threshold < 0 or self.multipart_threshold > limits.MAX_PUT_SIZE:
            raise CosValidationError("multipart_threshold", f"must be from 0 to {limits.MAX_PUT_SIZE} bytes")
        if self.part_size is not None and not limits.MIN_PART_SIZE <= self.part_size <= limits.MAX_PART_SIZE:
            raise CosValidationError(
                "part_size", f"must be from {limits.MIN_PART_SIZE} to {limits.MAX_PART_SIZE} bytes"
            )
        if self.concurrency < 1:
            raise CosValidationError("concurrency", "must be at least 1")
        self.attributes.headers()


@dataclass(frozen=True)
class UploadResult:
    """What an upload made; ``to_dict()`` is JSON-able (XCom)."""

    uri: str
    size: int
    crc64: int
    etag: str
    version_id: str | None
    parts: int
    resumed_parts: int
    elapsed: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "uri": self.uri,
            "size": self.size,
            "crc64": str(self.crc64),
            "etag": self.etag,
            "version_id": self.version_id,
            "parts": self.parts,
            "resumed_parts": self.resumed_parts,
            "elapsed": round(self.elapsed, 3),
        }


def source_size(source: LocalSource) -> tuple[int, int]:
    """``(offset, size)`` of what is uploaded: a whole path, or a file object from its position."""
    if isinstance(source, str | os.PathLike):
        return 0, os.path.getsize(source)
    if not (hasattr(source, "seek") and hasattr(source, "read")) or not source.seekable():
        raise CosValidationError("local_path_or_fileobj", "must be a path or a seekable binary file object")
    start = source.tell()
    end = source.seek(0, os.SEEK_END)
    source.seek(start)
    return start, end - start


def range_digests(body: FileRange) -> tuple[int, str]:
    """``(crc64, md5 hex)`` of a file range, read in chunks."""
    crc = 0
    md5 = hashlib.md5(usedforsecurity=False)
    for chunk in body.chunks():
        crc = crc64(chunk, crc)
        md5.update(chunk)
    return crc, md5.hexdigest()


def range_crc(body: FileRange) -> int:
    """CRC64 of a file range, read in chunks: all an upload needs before it sends the range.

    The MD5 of :func:`range_digests` is only for comparing with a kept part's
    ETag on resume; hashing every part with it too cost more CPU than the
    whole rest of the upload.
    """
    crc = 0
    for chunk in body.chunks():
        crc = crc64(chunk, crc)
    return crc


def part_size_for(size: int, requested: int | None) -> int:
    """The part size: the requested one (or the default), grown so the parts fit in 9,999."""
    part = requested or DEFAULT_PART_SIZE
    need = -(-size // MAX_DATA_PARTS)
    if part < need:
        if requested:
            raise CosValidationError(
                "part_size", f"{requested} bytes makes more than {MAX_DATA_PARTS} parts of {size} bytes"
            )
        part = -(-need // limits.MiB) * limits.MiB
    return part


def plan_ranges(source: LocalSource, start: int, size: int, part: int) -> list[tuple[int, FileRange]]:
    out = []
    number = 1
    for offset in range(0, size, part):
        out.append((number, FileRange(source, start + offset, min(part, size - offset))))
        number += 1
    return out


class Uploader:
    """Uploads local files through one :class:`CosClient`; :meth:`cancel` stops them (``on_kill``)."""

    def __init__(
        self,
        client: CosClient,
        *,
        logger: LoggerLike = log,
        progress_interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.log = logger
        self.progress_interval = progress_interval
        self.clock = clock
        """What the progress lines measure MB/s and ETA by (a fake one in tests)."""
        self.uploads = OpenUploads(client, logger)
        self._lock = threading.Lock()

    def cancel(self) -> None:
        self.uploads.cancel()

    def upload(
        self, source: LocalSource, dest: ObjectRef, options: UploadOptions | None = None
    ) -> UploadResult:
        options = options or UploadOptions()
        options.validate()
        if options.customer_key is not None:
            require_https(self.client.endpoint, "sse_customer_key")
        start, size = source_size(source)
        started = time.monotonic()
        self.uploads.check()
        if size <= options.multipart_threshold:
            return self._single(source, start, size, dest, options, started)
        return self._multipart(source, start, size, dest, options, started)

    # ------------------------------------------------------------ one PUT

    def _single(
        self,
        source: LocalSource,
        start: int,
        size: int,
        dest: ObjectRef,
        options: UploadOptions,
        started: float,
    ) -> UploadResult:
        body = FileRange(source, start, size)
        local_crc = range_crc(body)
        put = self.client.execute(
            ops.put_object(
                dest,
                body,
                options.attributes,
                forbid_overwrite=not options.overwrite,
                customer_key=options.customer_key,
            )
        )
        self._verify(dest, put.crc64, local_crc, put.version_id, put.etag)
        return UploadResult(
            dest.uri(), size, local_crc, put.etag, put.version_id, 1, 0, time.monotonic() - started
        )

    def _verify(
        self, dest: ObjectRef, remote: int | None, local: int, version_id: str | None, etag: str
    ) -> None:
        if remote is None or remote != local:
            discard(self.client, dest, version_id, etag, logger=self.log)
            raise CosIntegrityError(
                f"Upload to {dest.uri()}: COS reports CRC64 {remote}, the local file has {local}; "
                "the object was removed"
            )

    # ------------------------------------------------------------ multipart

    def _identity(
        self, dest: ObjectRef, size: int, part: int, headers: Mapping[str, str], key: CustomerKey | None
    ) -> bytes:
        ident = {
            "v": 1,
            "kind": "upload",
            "dest": {"bucket": dest.bucket, "region": dest.region, "key": dest.key},
            "size": size,
            "part_size": part,
            "initiate_headers": {k.lower(): v for k, v in sorted(headers.items())},
            # Only the key's MD5: an upload under another key is not resumed, and the witness holds no secret.
            "sse_customer_key_md5": key.md5 if key is not None else None,
        }
        return resume.witness_body(ident)

    def _find_resumable(
        self,
        dest: ObjectRef,
        witness: bytes,
        ranges: list[tuple[int, FileRange]],
        listed: list[Upload] | None,
    ) -> tuple[str, dict[int, tuple[str, int]]] | None:
        """An open upload of ours with this witness, and its parts equal to the local bytes (number -> etag, crc)."""
        if not listed:
            return None
        expected = resume.witness_etag(witness)
        by_number = dict(ranges)
        for upload in listed:
            found = resume._witness_of(self.client, dest, upload.upload_id)
            if found is None or found.size != resume.WITNESS_SIZE or normalise_etag(found.etag) != expected:
                continue
            kept: dict[int, tuple[str, int]] = {}
            for part in self.client.iter_parts(dest, upload.upload_id):
                body = by_number.get(part.part_number)
                if body is None or part.size != body.length:
                    continue
                crc, md5 = range_digests(body)
                if normalise_etag(part.etag) == md5:
                    kept[part.part_number] = (part.etag, crc)
                else:
                    self.log.info(
                        "Part %d of upload %s differs from the local file; uploading it again",
                        part.part_number,
                        upload.upload_id,
                    )
            return upload.upload_id, kept
        return None

    def _multipart(
        self,
        source: LocalSource,
        start: int,
        size: int,
        dest: ObjectRef,
        options: UploadOptions,
        started: float,
    ) -> UploadResult:
        part = part_size_for(size, options.part_size)
        ranges = plan_ranges(source, start, size, part)
        headers = options.attributes.headers()
        key = options.customer_key
        witness = self._identity(
            dest, size, part, {**headers, **ops.forbid_overwrite_header(not options.overwrite)}, key
        )
        # The listing is also what the orphan rule spares: whatever was open before Initiate is not ours.
        listed = resume.open_uploads(self.client, dest, logger=self.log) if options.resume else None
        point = self._find_resumable(dest, witness, ranges, listed)
        window: orphans.OrphanWindow | None = None
        if point is not None:
            upload_id, kept = point
            self.log.info(
                "Resuming upload %s of %s: %d of %d parts kept", upload_id, dest.uri(), len(kept), len(ranges)
            )
        else:
            # One attempt at a time, so the uploads of attempts whose reply was lost are found and aborted.
            initiated = orphans.initiate(
                self.client,
                self.uploads,
                dest,
                options.attributes,
                [u.upload_id for u in listed or ()],
                log=self.log,
                forbid_overwrite=not options.overwrite,
                customer_key=key,
            )
            upload_id, window = initiated.upload_id, initiated.window
            kept = {}
        self.uploads.add(upload_id, dest)
        try:
            if point is None and options.resume:
                resume.write_witness(
                    self.client,
                    dest,
                    upload_id,
                    witness,
                    logger=self.log,
                    headers=key.headers() if key is not None else None,
                )
            done: dict[int, tuple[str, int]] = dict(kept)
            reused_bytes = sum(body.length for n, body in ranges if n in kept)
            progress = ProgressReporter(
                len(ranges),
                size,
                label=f"Upload to {dest.uri()}",
                log=self.log,
                interval=self.progress_interval,
                clock=self.clock,
                reused_parts=len(kept),
                reused_bytes=reused_bytes,
            )

            def work(item: tuple[int, FileRange]) -> tuple[str, int]:
                number, body = item
                local_crc = range_crc(body)
                answer = self.client.execute(ops.upload_part(dest, upload_id, number, body, customer_key=key))
                if answer.crc64 is not None and answer.crc64 != local_crc:
                    raise CosIntegrityError(
                        f"Upload to {dest.uri()}: part {number} has CRC64 {answer.crc64} at COS, "
                        f"{local_crc} locally"
                    )
                return answer.etag, local_crc

            def on_result(item: tuple[int, FileRange], result: tuple[str, int]) -> None:
                done[item[0]] = result
                progress.add(item[1].length)

            def tick() -> float:
                progress.maybe_report()
                return progress.seconds_to_next()

            todo: Iterator[tuple[int, FileRange]] = (r for r in ranges if r[0] not in kept)
            run_window(
                work,
                todo,
                concurrency=options.concurrency,
                on_result=on_result,
                cancel=self.uploads.cancelled,
                tick=tick,
                thread_name="cos-upload",
            )
            self.uploads.check()
            combined = 0
            for number, body in ranges:
                combined = crc64_combine(combined, done[number][1], body.length)
            result = self.client.execute(
                ops.complete_multipart_upload(
                    dest,
                    upload_id,
                    [(n, done[n][0]) for n, _ in ranges],
                    forbid_overwrite=not options.overwrite,
                )
            )
            self.uploads.forget(upload_id)
        except BaseException as exc:
            self.uploads.abort(dest, upload_id, reason(exc), failure=exc)
            orphans.sweep_after_failure(window, self.client, dest, self.uploads, exc, log=self.log)
            raise
        if window is not None:
            # A timed-out Initiate's upload may appear after Complete: look until it does, or give up (logged).
            window.sweep(self.client, dest, self.uploads, log=self.log, wait=True)
        self._verify(dest, result.crc64, combined, result.version_id, result.etag)
        progress.finish()
        return UploadResult(
            dest.uri(),
            size,
            combined,
            result.etag,
            result.version_id,
            len(ranges),
            len(kept),
            time.monotonic() - started,
        )

    # ------------------------------------------------------------ small writes

    def write(
        self,
        data: bytes,
        dest: ObjectRef,
        attributes: ObjectAttributes | None = None,
        *,
        overwrite: bool = True,
        customer_key: CustomerKey | None = None,
    ) -> UploadResult:
        """One PUT of ``data``; its CRC64 is checked against the answer's."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise CosValidationError("data", f"must be bytes, got {type(data).__name__}")
        data = bytes(data)
        if customer_key is not None:
            require_https(self.client.endpoint, "sse_customer_key")
        started = time.monotonic()
        local_crc = crc64(data)
        put = self.client.execute(
            ops.put_object(dest, data, attributes, forbid_overwrite=not overwrite, customer_key=customer_key)
        )
        self._verify(dest, put.crc64, local_crc, put.version_id, put.etag)
        return UploadResult(
            dest.uri(), len(data), local_crc, put.etag, put.version_id, 1, 0, time.monotonic() - started
        )
