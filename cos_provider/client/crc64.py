"""CRC-64/XZ (what COS calls ECMA-182), as carried in ``x-cos-hash-crc64ecma``.

The checksum itself comes from ``fastcrc`` (Rust, about 30 GB/s on one core,
and it releases the GIL, so parallel part uploads checksum in parallel);
``bench/transfer.py`` measured it against ``anycrc`` (16 GB/s, holds the
GIL) and the official SDK's ``crcmod`` (0.5 GB/s). Where fastcrc cannot be
installed, a pure-Python table runs instead, at about 10 MB/s, and says so
once in the log. Besides the plain checksum this module *combines* checksums (zlib's ``crc32_combine``
carried to 64 bits): the CRC of ``A + B`` from ``crc(A)``, ``crc(B)`` and
``len(B)``. That is what lets the emulator give a 48 TB multipart object its
checksum from its parts' checksums without reading a byte, and lets a caller
predict the checksum of a copy plan.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import cache

try:
    import fastcrc
except ImportError:  # pragma: no cover - a platform without a fastcrc wheel
    fastcrc = None  # type: ignore[assignment]

_POLY_REFLECTED = 0xC96C5795D7870F42  # 0x42F0E1EBA9EA3693 bit-reversed
_MASK = 0xFFFFFFFFFFFFFFFF


def _make_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ _POLY_REFLECTED if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _make_table()


def crc64(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """CRC-64/XZ of ``data``, continuing from ``crc`` (the CRC of preceding bytes)."""
    if fastcrc is not None:
        return int(fastcrc.crc64.xz(data, crc) if crc else fastcrc.crc64.xz(data))
    _warn_slow()
    return crc64_pure(data, crc)


@cache
def _warn_slow() -> None:
    logging.getLogger("cos_provider.crc64").warning(
        "fastcrc is not installed: CRC-64 runs in pure Python at about 10 MB/s; "
        "install fastcrc for verified transfers at memory speed"
    )


def crc64_pure(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """The table-driven CRC-64/XZ: the fallback, and the reference the tests check fastcrc against."""
    table = _TABLE
    c = crc ^ _MASK
    for b in bytes(data):
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ _MASK


def gf2_matrix_times(mat: Sequence[int], vec: int) -> int:
    """``mat`` (64 columns, column ``i`` the image of bit ``i``) applied to ``vec`` over GF(2).

    CRC-64 is linear over GF(2), so appending bytes is such a matrix; the
    emulator's synthetic content builds its own from the same two helpers.
    """
    total = 0
    i = 0
    while vec:
        if vec & 1:
            total ^= mat[i]
        vec >>= 1
        i += 1
    return total


def gf2_matrix_square(mat: Sequence[int]) -> list[int]:
    """``mat`` applied twice, as one matrix."""
    return [gf2_matrix_times(mat, col) for col in mat]


@cache
def _zero_operators() -> list[list[int]]:
    """Operators appending 2**k zero *bytes* (k = 0..63), built on first use (about 15 ms)."""
    odd = [_POLY_REFLECTED] + [1 << n for n in range(63)]  # one zero bit
    even = gf2_matrix_square(odd)  # two zero bits
    odd = gf2_matrix_square(even)  # four zero bits
    ops = []
    mat = gf2_matrix_square(odd)  # eight zero bits = one zero byte
    for _ in range(64):
        ops.append(mat)
        mat = gf2_matrix_square(mat)
    return ops


def crc64_combine(crc_a: int, crc_b: int, len_b: int) -> int:
    """CRC of ``A + B`` given ``crc64(A)``, ``crc64(B)`` and ``len(B)``."""
    if len_b <= 0:
        return crc_a
    zero_ops = _zero_operators()
    crc = crc_a
    k = 0
    n = len_b
    while n:
        if n & 1:
            crc = gf2_matrix_times(zero_ops[k], crc)
        n >>= 1
        k += 1
    return crc ^ crc_b
