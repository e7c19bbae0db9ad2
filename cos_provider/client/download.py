"""Downloads to a local path, and small reads into memory; no Airflow import.

A download HEADs the object first (size, ETag, CRC64, version), then fetches
ranges in parallel through the bounded window (:func:`run_window`), each
pinned with ``If-Match`` to the ETag it read, so an object overwritten
mid-download fails with 412 instead of mixing two versions. Ranges are
written at their offsets (``os.pwrite``) into ``<name>.cos-partial`` in the
target folder; a sidecar ``<name>.cos-partial.json`` records the object's
ETag, version and size and the ranges completed with their CRC64s. The
whole file's CRC64, combined from the ranges', must equal the object's
``x-cos-hash-crc64ecma`` before one atomic ``os.replace`` puts it in place.

Resume: a rerun after a kill reuses the recorded ranges only if the sidecar's
ETag, version, size and part size match a fresh HEAD, and only those whose
bytes in the partial file still have the recorded CRC64. Any other failure
removes the partial file and its sidecar.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from cos_provider.client import operations as ops
from cos_provider.client.client import CosClient
from cos_provider.client.copy.errors import CopyCancelled
from cos_provider.client.copy.plan import validate_concurrency
from cos_provider.client.copy.progress import LoggerLike, ProgressReporter
from cos_provider.client.copy.window import run_window
from cos_provider.client.crc64 import crc64, crc64_combine
from cos_provider.client.encryption import CustomerKey, key_needed, require_https
from cos_provider.client.errors import CosIntegrityError, CosServiceError, CosValidationError
from cos_provider.client.models import ObjectInfo
from cos_provider.client.operations import ObjectRef
from cos_provider.client.restore import require_readable

log = logging.getLogger("cos_provider.download")

MiB = 1024 * 1024
DEFAULT_PART_SIZE = 16 * MiB
DEFAULT_CONCURRENCY = 16
"""Ranges in flight; as uploads, and each range streams into the file."""
DEFAULT_MAX_READ = 64 * MiB
PARTIAL_SUFFIX = ".cos-partial"
SIDECAR_SUFFIX = ".cos-partial.json"
VERIFY_CHUNK = 8 * MiB


@dataclass(frozen=True)
class DownloadResult:
    """What one download did; :meth:`to_dict` is JSON-able (an XCom)."""

    uri: str
    path: str
    size: int
    crc64: int
    etag: str
    version_id: str | None
    elapsed: float
    resumed_bytes: int
    ranges: int
    verified: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Range:
    index: int
    first: int
    last: int  # inclusive

    @property
    def size(self) -> int:
        return self.last - self.first + 1


def plan_ranges(size: int, part_size: int) -> list[Range]:
    return [
        Range(i, start, min(size, start + part_size) - 1) for i, start in enumerate(range(0, size, part_size))
    ]


def validate_part_size(part_size: int) -> int:
    if not isinstance(part_size, int) or isinstance(part_size, bool) or part_size < 64 * 1024:
        raise CosValidationError(
            "part_size", f"must be an integer of at least 65536 bytes, got {part_size!r}"
        )
    return part_size


class _Sidecar:
    """The JSON record next to the partial file; written atomically after every range."""

    def __init__(self, path: str, info: ObjectInfo, part_size: int) -> None:
        self.path = path
        self.identity = {
            "bucket": info.bucket,
            "key": info.key,
            "etag": info.etag,
            "version_id": info.version_id,
            "size": info.size,
            "part_size": part_size,
        }
        self.done: dict[int, int] = {}

    def load_matching(self) -> dict[int, int]:
        """The recorded ranges if the sidecar describes this very object version, else ``{}``."""
        try:
            with open(self.path, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or any(data.get(k) != v for k, v in self.identity.items()):
            return {}
        done = data.get("done", {})
        if not isinstance(done, dict):
            return {}
        try:
            return {int(k): int(v) for k, v in done.items()}
        except (TypeError, ValueError):
            return {}

    def save(self) -> None:
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({**self.identity, "done": {str(k): v for k, v in sorted(self.done.items())}}, f)
        os.replace(tmp, self.path)


class _RangeSink:
    """Writes one range's chunks at its offset; ``restart`` goes back to its start (a retry)."""

    def __init__(self, fd: int, start: int) -> None:
        self.fd = fd
        self.start = start
        self.pos = start

    def restart(self) -> None:
        self.pos = self.start

    def write(self, chunk: bytes) -> None:
        view = memoryview(chunk)
        while view:
            n = os.pwrite(self.fd, view, self.pos)
            self.pos += n
            view = view[n:]


def _file_crc(fd: int, first: int, size: int) -> int:
    crc, pos, end = 0, first, first + size
    while pos < end:
        chunk = os.pread(fd, min(VERIFY_CHUNK, end - pos), pos)
        if not chunk:
            return -1
        crc = crc64(chunk, crc)
        pos += len(chunk)
    return crc


def _remove(*paths: str) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


class Downloader:
    """Downloads objects with one client; :meth:`cancel` stops a running download (thread-safe)."""

    def __init__(self, client: CosClient, *, logger: LoggerLike | None = None) -> None:
        self.client = client
        self.log: LoggerLike = logger or log
        self.cancelled = threading.Event()

    def cancel(self) -> None:
        self.cancelled.set()

    def download(
        self,
        ref: ObjectRef,
        local_path: str | os.PathLike[str],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        part_size: int = DEFAULT_PART_SIZE,
        progress_interval: float = 10.0,
        customer_key: CustomerKey | None = None,
    ) -> DownloadResult:
        """``customer_key``: the SSE-C key of the object, sent on the HEAD and on every ranged GET (HTTPS only)."""
        validate_concurrency(concurrency)
        validate_part_size(part_size)
        if customer_key is not None:
            require_https(self.client.endpoint, "sse_customer_key")
        path = os.path.abspath(os.fspath(local_path))
        if os.path.isdir(path):
            raise CosValidationError("local_path", f"{path} is a directory; name the file")
        folder = os.path.dirname(path)
        started = time.monotonic()
        info = head(self.client, ref, customer_key)
        require_readable(info, "download")  # before the folder or the partial file exists
        os.makedirs(folder, exist_ok=True)
        partial, sidecar_path = path + PARTIAL_SUFFIX, path + SIDECAR_SUFFIX
        sidecar = _Sidecar(sidecar_path, info, part_size)
        ranges = plan_ranges(info.size, part_size)
        recorded = sidecar.load_matching() if os.path.exists(partial) else {}
        fd = os.open(partial, os.O_RDWR | os.O_CREAT | (0 if recorded else os.O_TRUNC), 0o644)
        keep = False
        try:
            os.ftruncate(fd, info.size)
            by_index = {r.index: r for r in ranges}
            for index, crc in recorded.items():
                r = by_index.get(index)
                if r is not None and _file_crc(fd, r.first, r.size) == crc:
                    sidecar.done[index] = crc
            resumed = sum(by_index[i].size for i in sidecar.done)
            if recorded:
                self.log.info(
                    "Resuming %s into %s: %d of %d ranges (%d bytes) already there",
                    ref.uri(),
                    path,
                    len(sidecar.done),
                    len(ranges),
                    resumed,
                )
            sidecar.save()
            keep = True  # from here a kill leaves a resumable partial file
            todo = [r for r in ranges if r.index not in sidecar.done]
            progress = ProgressReporter(
                len(ranges),
                info.size,
                label=f"Download {ref.uri()}",
                log=self.log,
                interval=progress_interval,
                reused_parts=len(sidecar.done),
                reused_bytes=resumed,
            )
            pinned = ObjectRef(ref.bucket, ref.key, ref.version_id or None, ref.region)

            def fetch(r: Range) -> int:
                sink = _RangeSink(fd, r.first)
                got = self.client.transport.execute_stream(
                    ops.get_object_stream(
                        pinned, r.first, r.last, if_match=info.etag, customer_key=customer_key
                    ),
                    sink.write,
                    restart=sink.restart,
                )
                if got.size != r.size:
                    raise CosIntegrityError(
                        f"{ref.uri()}: range {r.first}-{r.last} returned {got.size} bytes, expected {r.size}"
                    )
                return got.crc64

            def done(r: Range, crc: int) -> None:
                sidecar.done[r.index] = crc
                sidecar.save()
                progress.add(r.size)

            def tick() -> float:
                progress.maybe_report()
                return progress.seconds_to_next()

            try:
                run_window(
                    fetch,
                    todo,
                    concurrency=concurrency,
                    on_result=done,
                    cancel=self.cancelled,
                    tick=tick,
                    thread_name="cos-download",
                )
            except CopyCancelled:
                raise
            except BaseException:
                keep = False  # a failed run (not a kill) leaves nothing behind
                raise
            keep = False
            whole = 0
            for r in ranges:
                whole = crc64_combine(whole, sidecar.done[r.index], r.size)
            verified = info.crc64 is not None
            if info.crc64 is not None and whole != info.crc64:
                raise CosIntegrityError(
                    f"{ref.uri()}: CRC64 of the downloaded file is {whole}, the object's "
                    f"x-cos-hash-crc64ecma is {info.crc64}; the partial file was removed"
                )
            if not verified:
                self.log.warning("%s has no x-cos-hash-crc64ecma: the download cannot be verified", ref.uri())
            os.fsync(fd)
            os.close(fd)
            fd = -1
            os.replace(partial, path)
            _remove(sidecar_path)
            progress.finish()
            return DownloadResult(
                uri=ref.uri(),
                path=path,
                size=info.size,
                crc64=whole,
                etag=info.etag,
                version_id=info.version_id,
                elapsed=round(time.monotonic() - started, 3),
                resumed_bytes=resumed,
                ranges=len(ranges),
                verified=verified,
            )
        finally:
            if fd >= 0:
                os.close(fd)
            if not keep and os.path.exists(partial):
                _remove(partial, sidecar_path)


def head(client: CosClient, ref: ObjectRef, customer_key: CustomerKey | None) -> ObjectInfo:
    """HEAD of what is read; a bare 400 without a key is restated as the likely missing SSE-C key."""
    try:
        return client.execute(ops.head_object(ref, customer_key))
    except CosServiceError as exc:
        restated = exc if customer_key is not None else key_needed(exc, ref.uri(), "sse_customer_key")
        if restated is exc:
            raise
        raise restated from exc


def read_object(
    client: CosClient,
    ref: ObjectRef,
    *,
    max_size: int = DEFAULT_MAX_READ,
    customer_key: CustomerKey | None = None,
) -> bytes:
    """The whole object in memory, refused before any GET if HEAD says it is over ``max_size``."""
    if not isinstance(max_size, int) or isinstance(max_size, bool) or max_size < 0:
        raise CosValidationError("max_size", f"must be a non-negative integer, got {max_size!r}")
    if customer_key is not None:
        require_https(client.endpoint, "sse_customer_key")
    info = head(client, ref, customer_key)
    require_readable(info, "read")
    if info.size > max_size:
        raise CosValidationError(
            "max_size", f"{ref.uri()} is {info.size} bytes, more than max_size={max_size}"
        )
    chunks: list[bytes] = []
    if info.size == 0:
        data, crc = b"", 0
    else:
        got = client.transport.execute_stream(
            ops.get_object_stream(ref, if_match=info.etag, customer_key=customer_key),
            chunks.append,
            restart=chunks.clear,
        )
        data, crc = b"".join(chunks), got.crc64
    if len(data) != info.size:
        raise CosIntegrityError(f"{ref.uri()}: read {len(data)} bytes, HEAD said {info.size}")
    if info.crc64 is not None and crc != info.crc64:
        raise CosIntegrityError(
            f"{ref.uri()}: CRC64 of the bytes read is {crc}, the object's x-cos-hash-crc64ecma is {info.crc64}"
        )
    return data


def iter_ranges(size: int, part_size: int) -> Iterator[tuple[int, int]]:
    """``(first, last)`` of each range of a download (for tests and tools)."""
    for r in plan_ranges(size, part_size):
        yield r.first, r.last


def local_path_for(folder: str, relative_key: str) -> str:
    """Where ``relative_key`` lands under ``folder``; refuses keys that would leave it (``../``, absolute)."""
    parts = relative_key.split("/")
    if not relative_key or relative_key.endswith("/") or any(p in ("", ".", "..") for p in parts):
        raise CosValidationError(
            "key",
            f"{relative_key!r} does not map to a file inside {folder} (empty, '.', '..' or trailing '/')",
        )
    root = os.path.abspath(folder)
    path = os.path.abspath(os.path.join(root, *parts))
    if os.path.commonpath([root, path]) != root:
        raise CosValidationError("key", f"{relative_key!r} would be written outside {folder}")
    return path
