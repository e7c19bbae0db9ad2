"""``CosFile``: the file ``CosFileSystem.open`` returns, streamed both ways.

Reading: HEAD once at open (size, ETag, CRC64, version), then ranged GETs
of ``block_size`` through fsspec's read-ahead cache, each pinned with
``If-Match`` to that ETag, so an object overwritten while it is read fails
with 412 instead of mixing two versions. When the ranges read cover the
object from its first byte to its last in order (``read()``, a sequential
loop, ``shutil.copyfileobj``), their combined CRC64 must equal the object's
``x-cos-hash-crc64ecma``, or the last read raises :class:`CosIntegrityError`.

Writing: bytes are buffered up to ``block_size``. A file that never fills
one block is one CRC64-checked PUT at close (the data plane's
:meth:`~cos_provider.client.upload.Uploader.write`). A larger one is a
multipart upload: each full block is a part whose CRC64 COS must echo, and
the completed object's CRC64 must equal the combination of the parts', or
it is removed. Only a clean ``close()`` completes it: an exception inside
``with``, a failing part, :meth:`discard`, or a file dropped unclosed
(garbage collection) aborts the upload, so no partial object ever appears
and no upload is left open. Parts grow (doubling every 1,000) so a stream
of any length fits COS's 10,000 parts.

fsspec puts text and compression layers over the file whose ``with`` would
complete it on an exception (:class:`io.TextIOWrapper`) or never close it
(the compressors); :class:`TextWriter` and :class:`CompressedWriter` carry
the same rule through those layers.
"""

from __future__ import annotations

import io
import logging
from typing import Any

from fsspec.spec import AbstractBufferedFile

from cos_provider.client import limits
from cos_provider.client import operations as ops
from cos_provider.client.copy.cleanup import abort_quietly, discard
from cos_provider.client.crc64 import crc64, crc64_combine
from cos_provider.client.errors import CosIntegrityError, CosServiceError, CosValidationError
from cos_provider.client.upload import Uploader
from cos_provider.fs.filesystem import info_dict, os_errors

log = logging.getLogger("cos_provider.fs")

PARTS_PER_SIZE = 1000
"""Parts of one size before the part size doubles (9,999 data parts reach far beyond 48.8 TB)."""


class CosFile(AbstractBufferedFile):  # type: ignore[misc]
    """A ``cos://`` object opened ``rb``, ``wb`` or ``xb`` (see the module)."""

    buffer: io.BytesIO
    closed: bool

    def __init__(
        self,
        fs: Any,
        path: str,
        mode: str = "rb",
        block_size: int = 8 * limits.MiB,
        autocommit: bool = True,
        cache_type: str = "readahead",
        cache_options: dict[str, Any] | None = None,
        version_id: str | None = None,
        **attributes: Any,
    ) -> None:
        if mode not in ("rb", "wb", "xb"):
            raise CosValidationError(
                "mode", f"must be 'rb', 'wb' or 'xb' (COS objects are not appended), got {mode!r}"
            )
        self.ref = fs._ref(path, version_id)
        self.upload_id: str | None = None
        self.parts: list[tuple[int, str]] = []
        self._crc = 0
        self._verified_to = 0
        if mode == "rb":
            if attributes:
                raise CosValidationError(
                    ", ".join(sorted(attributes)), "is not an option of a file opened for reading"
                )
            with os_errors(path):
                self.head = fs.hook.conn.execute(ops.head_object(self.ref))
            self.details = info_dict(path, self.head)
            super().__init__(
                fs, path, mode, block_size, autocommit, cache_type, cache_options, size=self.head.size
            )
            return
        if block_size < limits.MIN_PART_SIZE:
            raise CosValidationError(
                "block_size", f"must be at least {limits.MIN_PART_SIZE} bytes to write (COS's smallest part)"
            )
        from cos_provider.client import params, validation
        from cos_provider.hooks.upload import check_upload_params

        check_upload_params(attributes)
        overwrite = validation.validate_bool(attributes.pop("overwrite", True), "overwrite")
        self.overwrite = mode == "wb" and overwrite
        self.attributes = params.attributes(attributes)
        self.attributes.headers()  # every header checked before the first byte is sent
        super().__init__(fs, path, "wb", block_size, autocommit, cache_type, cache_options)
        self.client = fs.hook.conn
        self.part_size = block_size
        self.result: Any = None

    # ------------------------------------------------------------ reading

    def _fetch_range(self, start: int, end: int) -> bytes:
        end = min(end, self.size)
        if start >= end:
            return b""
        chunks: list[bytes] = []
        with os_errors(self.path):
            try:
                got = self.fs.hook.conn.transport.execute_stream(
                    ops.get_object_stream(self.ref, start, end - 1, if_match=self.head.etag),
                    chunks.append,
                    restart=chunks.clear,
                )
            except CosServiceError as exc:
                if exc.status == 412:
                    raise CosIntegrityError(
                        f"{self.ref.uri()} changed while it was read (ETag is no longer {self.head.etag})"
                    ) from exc
                raise
        data = b"".join(chunks)
        if len(data) != end - start or got.size != len(data):
            raise CosIntegrityError(f"{self.ref.uri()}: bytes {start}-{end - 1} returned {len(data)} bytes")
        self._verify(start, data)
        return data

    def _verify(self, start: int, data: bytes) -> None:
        """Extend the CRC64 of the prefix read so far; at the last byte it must be the object's."""
        pos = self._verified_to
        if not start <= pos < start + len(data):
            return
        tail = data[pos - start :]
        self._crc = crc64_combine(self._crc, crc64(tail), len(tail))
        self._verified_to = pos + len(tail)
        if self._verified_to == self.size and self.head.crc64 is not None and self._crc != self.head.crc64:
            raise CosIntegrityError(
                f"{self.ref.uri()}: CRC64 of the bytes read is {self._crc}, "
                f"the object's x-cos-hash-crc64ecma is {self.head.crc64}"
            )

    @property
    def verified(self) -> bool:
        """Every byte was read in order and matched the object's CRC64."""
        return self.mode == "rb" and self._verified_to == self.size and self.head.crc64 is not None

    # ------------------------------------------------------------ writing

    def _initiate_upload(self) -> None:
        if self.autocommit and self.tell() < self.blocksize:
            return  # small: one PUT when the file closes
        self._start_multipart()

    def _start_multipart(self) -> None:
        with os_errors(self.path):
            self.upload_id = self.client.execute(
                ops.initiate_multipart_upload(self.ref, self.attributes, forbid_overwrite=not self.overwrite)
            ).upload_id

    def _upload_chunk(self, final: bool = False) -> bool:
        try:
            return self._send(final)
        except BaseException as exc:
            self._abort(exc)
            self.closed = True  # a stream with a lost part cannot go on
            raise

    def _send(self, final: bool) -> bool:
        data = self.buffer.getvalue()
        if final and self.upload_id is None and self.autocommit:
            with os_errors(self.path):
                self.result = Uploader(self.client, logger=log).write(
                    data, self.ref, self.attributes, overwrite=self.overwrite
                )
            self.buffer = io.BytesIO()
            self.offset += len(data)
            return False
        if self.upload_id is None:
            self._start_multipart()
        view = memoryview(data)
        sent = 0
        while len(view) - sent >= self.part_size or (final and sent < len(view)):
            size = min(self.part_size, len(view) - sent)
            self._part(bytes(view[sent : sent + size]))
            sent += size
        if final and not self.parts:
            self._part(b"")  # nothing was written: one empty part makes the empty object
        rest = bytes(view[sent:])
        self.buffer = io.BytesIO()
        self.buffer.write(rest)
        self.offset += sent
        if final and self.autocommit:
            self.commit()
        return False

    def _part(self, body: bytes) -> None:
        number = len(self.parts) + 1
        if number >= limits.MAX_PARTS:
            raise CosValidationError("block_size", f"the stream needs more than {limits.MAX_PARTS - 1} parts")
        local = crc64(body)
        if self.upload_id is None:  # pragma: no cover - _send starts the upload first
            raise RuntimeError("no multipart upload to add a part to")
        with os_errors(self.path):
            answer = self.client.execute(ops.upload_part(self.ref, self.upload_id, number, body))
        if answer.crc64 is not None and answer.crc64 != local:
            raise CosIntegrityError(
                f"Write to {self.ref.uri()}: part {number} has CRC64 {answer.crc64} at COS, {local} locally"
            )
        self.parts.append((number, answer.etag))
        self._crc = crc64_combine(self._crc, local, len(body))
        if number % PARTS_PER_SIZE == 0 and self.part_size * 2 <= limits.MAX_PART_SIZE:
            self.part_size *= 2

    def commit(self) -> None:
        """Complete the multipart upload; the object's CRC64 must be the parts' combined."""
        if self.upload_id is None:
            return
        upload_id, self.upload_id = self.upload_id, None
        try:
            with os_errors(self.path):
                result = self.client.execute(
                    ops.complete_multipart_upload(
                        self.ref, upload_id, self.parts, forbid_overwrite=not self.overwrite
                    )
                )
        except BaseException as exc:
            abort_quietly(self.client, self.ref, upload_id, logger=log, failure=exc)
            raise
        if result.crc64 is None or result.crc64 != self._crc:
            discard(self.client, self.ref, result.version_id, result.etag, logger=log)
            raise CosIntegrityError(
                f"Write to {self.ref.uri()}: COS reports CRC64 {result.crc64}, the bytes written have "
                f"{self._crc}; the object was removed"
            )
        self.result = result

    def discard(self) -> None:
        """Abort the upload: nothing written so far becomes an object."""
        self._abort(None)
        self.buffer = io.BytesIO()

    def _abort(self, failure: BaseException | None) -> None:
        upload_id, self.upload_id = self.upload_id, None
        if upload_id is not None:
            log.warning("Aborting the upload to %s (%s)", self.ref.uri(), failure or "discarded")
            abort_quietly(self.client, self.ref, upload_id, logger=log, failure=failure)

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None and self.mode != "rb" and not self.closed:
            self.discard()
            self.closed = True
            return
        self.close()

    def __del__(self) -> None:
        if not self.closed and self.mode != "rb":
            # Dropped without close(): what was written is not a finished object.
            self.discard()
            self.closed = True
            return
        if not self.closed:
            self.close()

    def close(self) -> None:
        if not self.closed and self.mode != "rb" and getattr(self, "forced", True):
            self.closed = True  # a failed final flush: nothing to finish
            return
        try:
            super().close()
        except BaseException:
            self.closed = True
            raise


class TextWriter(io.TextIOWrapper):
    """A text writer whose ``with`` block, left by an exception, aborts the object instead of completing it."""

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None and not self.closed:
            binary: Any = self.buffer
            binary.__exit__(exc_type, exc, tb)  # CosFile: abort, and closed
            return
        super().__exit__(exc_type, exc, tb)


class CompressedWriter:
    """A compressor over a ``CosFile``: closing it completes the object; an exception aborts it."""

    def __init__(self, compressor: Any, raw: Any) -> None:
        self._compressor = compressor
        self._raw = raw

    def __getattr__(self, name: str) -> Any:
        return getattr(self._compressor, name)

    def write(self, data: Any) -> int:
        return self._compressor.write(data)  # type: ignore[no-any-return]

    @property
    def closed(self) -> bool:
        return bool(self._raw.closed)

    def writable(self) -> bool:
        return not self.closed

    def close(self) -> None:
        if self.closed:
            return
        try:
            self._compressor.close()  # the compressed stream's last bytes
        except BaseException as exc:
            self._raw.__exit__(type(exc), exc, exc.__traceback__)
            raise
        self._raw.close()

    def __enter__(self) -> CompressedWriter:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            self._raw.__exit__(exc_type, exc, tb)
            return
        self.close()
