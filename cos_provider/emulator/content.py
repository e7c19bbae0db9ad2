"""Object content as extents over immutable blobs.

An object (or an uploaded part) is a tuple of :class:`Extent` - a window
``[start, start + length)`` onto an immutable :class:`Blob`. Copying a range
therefore only slices extents: a 5 GB part copy allocates a few small objects
and reads no bytes, and completing 10,000 parts concatenates 10,000 extents.

Three kinds of blob exist:

* :class:`BytesBlob` - real bytes from a PUT or Upload Part, exact everywhere;
* :class:`SpilledBlob` - the same for a body above :data:`SPILL_THRESHOLD`, kept
  in a file of a temporary directory instead of memory (deleted with the blob),
  so uploading large files keeps the emulator's memory bounded;
* :class:`PatternBlob` - the synthetic stream of a seed (:mod:`.synthetic`),
  addressed by absolute offset, so a synthetic object of any size is one extent;
* :class:`FlippedBlob` - another extent with its first bit flipped, which is how
  the ``corrupt`` fault stores a part whose bytes and CRC differ from its source.

Every extent caches its CRC-64; a whole content's CRC is the
:func:`crc64_combine` fold of its extents' CRCs, never a re-read.

ETags: a real MD5 needs the bytes. For ranges made only of real bytes (and at
most :data:`MAX_MD5_BYTES`) the ETag is the true MD5. Anything touching
synthetic content gets a documented stand-in, ``md5(fingerprint)`` where the
fingerprint names the blobs and offsets - deterministic, and equal for equal
content descriptions.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
import weakref
from array import array
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from typing import Protocol

from cos_provider.client.crc64 import crc64, crc64_combine
from cos_provider.emulator.synthetic import Pattern, pattern, zeros_crc

MAX_MD5_BYTES = 64 * 1024 * 1024
READ_CHUNK = 1024 * 1024
SPILL_THRESHOLD = 256 * 1024
"""Written bodies larger than this live in a temporary file, not in memory."""
_spill_lock = threading.Lock()
_spill_dir: str | None = None


def spill_dir() -> str:
    """The process's spill directory (created on first use)."""
    global _spill_dir
    with _spill_lock:
        if _spill_dir is None or not os.path.isdir(_spill_dir):
            _spill_dir = tempfile.mkdtemp(prefix="cos-emulator-spill-")
        return _spill_dir


class Blob(Protocol):
    @property
    def real(self) -> bool: ...

    def read(self, start: int, length: int) -> bytes: ...

    def crc(self, start: int, length: int) -> int: ...

    def fingerprint(self, start: int, length: int) -> str: ...


class BytesBlob:
    __slots__ = ("data", "md5")
    real = True

    def __init__(self, data: bytes, md5: str | None = None) -> None:
        self.data = data
        self.md5 = md5 or hashlib.md5(data).hexdigest()

    def read(self, start: int, length: int) -> bytes:
        return self.data[start : start + length]

    def crc(self, start: int, length: int) -> int:
        return crc64(memoryview(self.data)[start : start + length])

    def fingerprint(self, start: int, length: int) -> str:
        return f"bytes:{self.md5}:{start}:{length}"


class SpilledBlob:
    """Real bytes in a temporary file (see :data:`SPILL_THRESHOLD`); the file goes with the blob."""

    __slots__ = ("__weakref__", "_crc", "md5", "path", "size")
    real = True

    def __init__(self, data: bytes, md5: str | None = None) -> None:
        fd, self.path = tempfile.mkstemp(dir=spill_dir(), suffix=".part")
        with os.fdopen(fd, "wb") as handle:  # no descriptor is held between reads
            handle.write(data)
        self.size = len(data)
        self.md5 = md5 or hashlib.md5(data).hexdigest()
        self._crc = crc64(data)
        weakref.finalize(self, _drop_spill, self.path)

    def read(self, start: int, length: int) -> bytes:
        length = max(0, min(length, self.size - start))
        if not length:
            return b""
        with open(self.path, "rb") as handle:
            handle.seek(start)
            return handle.read(length)

    def crc(self, start: int, length: int) -> int:
        if start == 0 and length == self.size:
            return self._crc
        out = 0
        for offset in range(start, start + length, READ_CHUNK):
            out = crc64(self.read(offset, min(READ_CHUNK, start + length - offset)), out)
        return out

    def fingerprint(self, start: int, length: int) -> str:
        return f"bytes:{self.md5}:{start}:{length}"


def _drop_spill(path: str) -> None:
    with contextlib.suppress(OSError):  # already gone
        os.unlink(path)


def written_blob(data: bytes, md5: str | None = None) -> BytesBlob | SpilledBlob:
    """The blob of a written body: in memory when small, spilled to disk above the threshold.

    ``md5`` is the body's MD5 (hex) when the caller has it already (PUT and
    Upload Part do, for the ETag): hashing a body twice was the emulator's
    largest cost per uploaded byte.
    """
    return SpilledBlob(data, md5) if len(data) > SPILL_THRESHOLD else BytesBlob(data, md5)


class PatternBlob:
    __slots__ = ("pattern",)
    real = False

    def __init__(self, seed: int) -> None:
        self.pattern: Pattern = pattern(seed)

    def read(self, start: int, length: int) -> bytes:
        return self.pattern.read(start, length)

    def crc(self, start: int, length: int) -> int:
        return self.pattern.crc(start, length)

    def fingerprint(self, start: int, length: int) -> str:
        return f"synthetic:{self.pattern.seed}:{start}:{length}"


def flip_first_bit(body: bytes) -> bytes:
    """``body`` with bit 0 of byte 0 flipped (the ``corrupt`` fault on a written body)."""
    return bytes([body[0] ^ 1]) + body[1:] if body else body


class FlippedBlob:
    """``inner``'s bytes with bit 0 of byte 0 flipped (the ``corrupt`` fault)."""

    __slots__ = ("inner",)

    def __init__(self, inner: Extent) -> None:
        self.inner = inner

    @property
    def real(self) -> bool:
        return self.inner.blob.real

    def read(self, start: int, length: int) -> bytes:
        data = self.inner.blob.read(self.inner.start + start, length)
        if start == 0 and data:
            data = bytes([data[0] ^ 1]) + data[1:]
        return data

    def crc(self, start: int, length: int) -> int:
        base = self.inner.blob.crc(self.inner.start + start, length)
        if start != 0 or length <= 0:
            return base
        # crc(x ^ d) = crc(x) ^ crc(d) ^ crc(zeros); d = 0x01 then zeros.
        delta = crc64_combine(crc64(b"\x01"), zeros_crc(length - 1), length - 1)
        return base ^ delta ^ zeros_crc(length)

    def fingerprint(self, start: int, length: int) -> str:
        return "flipped(" + self.inner.blob.fingerprint(self.inner.start + start, length) + ")"


class Extent:
    __slots__ = ("_crc", "blob", "length", "start")

    def __init__(self, blob: Blob, start: int, length: int, crc: int | None = None) -> None:
        self.blob = blob
        self.start = start
        self.length = length
        self._crc = crc

    @property
    def crc(self) -> int:
        if self._crc is None:
            self._crc = self.blob.crc(self.start, self.length)
        return self._crc

    def sub(self, offset: int, length: int) -> Extent:
        if offset == 0 and length == self.length:
            return self
        return Extent(self.blob, self.start + offset, length)

    def read(self, offset: int, length: int) -> bytes:
        return self.blob.read(self.start + offset, length)


class Content:
    """An immutable byte sequence made of extents, with O(log n) range lookup."""

    __slots__ = ("_crc", "ends", "extents", "size")

    def __init__(self, extents: Sequence[Extent], crc: int | None = None) -> None:
        self.extents = tuple(e for e in extents if e.length > 0)
        ends = array("Q")
        total = 0
        for ext in self.extents:
            total += ext.length
            ends.append(total)
        self.ends = ends
        self.size = total
        self._crc: int | None = crc

    @classmethod
    def from_bytes(cls, data: bytes, md5: str | None = None) -> Content:
        return cls([Extent(written_blob(data, md5), 0, len(data))])

    @classmethod
    def synthetic(cls, seed: int, size: int) -> Content:
        return cls([Extent(PatternBlob(seed), 0, size)])

    @property
    def crc(self) -> int:
        if self._crc is None:
            crc = 0
            for ext in self.extents:
                crc = crc64_combine(crc, ext.crc, ext.length)
            self._crc = crc
        return self._crc

    @property
    def real(self) -> bool:
        return all(e.blob.real for e in self.extents)

    def slice(self, start: int, end: int) -> list[Extent]:
        """Extents covering ``[start, end)``; whole extents are shared, not copied."""
        out: list[Extent] = []
        if end <= start:
            return out
        i = bisect_right(self.ends, start)
        pos = start
        while pos < end and i < len(self.extents):
            ext = self.extents[i]
            ext_begin = self.ends[i] - ext.length
            off = pos - ext_begin
            take = min(ext.length - off, end - pos)
            out.append(ext.sub(off, take))
            pos += take
            i += 1
        return out

    def iter_bytes(self, start: int = 0, end: int | None = None, chunk: int = READ_CHUNK) -> Iterator[bytes]:
        stop = self.size if end is None else min(end, self.size)
        for ext in self.slice(start, stop):
            for off in range(0, ext.length, chunk):
                yield ext.read(off, min(chunk, ext.length - off))

    def read(self, start: int = 0, end: int | None = None) -> bytes:
        return b"".join(self.iter_bytes(start, end))

    def range_crc(self, start: int, end: int) -> int:
        crc = 0
        for ext in self.slice(start, end):
            crc = crc64_combine(crc, ext.crc, ext.length)
        return crc

    def range_etag(self, start: int, end: int) -> str:
        """MD5 of the bytes if they are real and small, else the fingerprint stand-in."""
        extents = self.slice(start, end)
        if all(e.blob.real for e in extents) and end - start <= MAX_MD5_BYTES:
            md5 = hashlib.md5()
            for ext in extents:
                md5.update(ext.read(0, ext.length))
            return md5.hexdigest()
        return hashlib.md5(
            ";".join(e.blob.fingerprint(e.start, e.length) for e in extents).encode()
        ).hexdigest()
