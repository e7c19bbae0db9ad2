"""Deterministic synthetic content whose CRC-64 of any range costs O(log n).

A 48.8 TB object cannot be stored, nor hashed byte by byte, yet a client that
copies it part by part must get exact bytes back for any range it reads and a
CRC64 that changes if it copies the wrong range. So synthetic content is a
*function* of the offset::

    byte(n) = A[n mod 65521] XOR B[n mod 65519]

``A`` and ``B`` are SHAKE-256 streams of the seed. Both periods are primes, so
the content only repeats every 65521 * 65519 = 4,292,870,399 bytes. A copy that
is off by any power-of-two amount (a part size, a block) reads different bytes
and gets a different CRC, which a single power-of-two period would hide.

CRC algebra (CRC-64/XZ is affine over GF(2)):

* ``crc(x XOR y) = crc(x) ^ crc(y) ^ crc(zeros(len))`` for equal lengths;
* ``crc(X + Y) = crc64_combine(crc(X), crc(Y), len(Y))``, so
  ``crc(data[s:e]) = F(e) ^ crc64_combine(F(s), 0, e - s)`` with ``F(n)`` the
  CRC of the first ``n`` bytes;
* ``F(q*P + r)`` needs the CRC of ``q`` whole periods: built from the CRCs of
  ``2**k`` periods and the linear operators "append ``2**k`` periods", each a
  64x64 GF(2) matrix built once from :func:`crc64_combine` and then squared.

So a range CRC is a few dozen matrix-vector products, well under a
millisecond, whatever the size.
"""

from __future__ import annotations

import hashlib
import threading
from array import array
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache

from cos_provider.client.crc64 import crc64, crc64_combine, gf2_matrix_square, gf2_matrix_times

PERIOD_A = 65521
PERIOD_B = 65519
_CHECKPOINT = 16  # prefix CRCs are stored every 16 bytes: 4 K entries per period
_LEVELS = 48  # 2**48 periods is far beyond any COS object
_MEMO = 8192  # prefix CRCs kept per stream (~1 MB at most)

Matrix = Sequence[int]


@lru_cache(maxsize=8)
def _period_operators(period: int) -> tuple[Matrix, ...]:
    """``ops[k]`` appends ``period * 2**k`` bytes to a CRC (zero bytes, linear part)."""
    first: Matrix = tuple(crc64_combine(1 << n, 0, period) for n in range(64))
    ops = [first]
    for _ in range(_LEVELS - 1):
        ops.append(gf2_matrix_square(ops[-1]))
    return tuple(ops)


@lru_cache(maxsize=1)
def _zero_powers() -> tuple[int, ...]:
    """CRC of ``2**k`` zero bytes for k = 0..63."""
    powers = [crc64(b"\0")]
    for k in range(63):
        powers.append(crc64_combine(powers[-1], powers[-1], 1 << k))
    return tuple(powers)


@lru_cache(maxsize=4096)
def zeros_crc(length: int) -> int:
    """CRC-64 of ``length`` zero bytes, in O(log length) (cached: copy plans repeat lengths)."""
    powers = _zero_powers()
    acc, k = 0, 0
    while length:
        if length & 1:
            acc = crc64_combine(acc, powers[k], 1 << k)
        length >>= 1
        k += 1
    return acc


def shift(crc: int, length: int) -> int:
    """The CRC of ``X + zeros`` minus the zeros' own part: ``crc64_combine(crc, 0, length)``."""
    return crc64_combine(crc, 0, length)


class _PeriodicStream:
    """One periodic component: a block, its prefix CRCs and its power CRCs."""

    __slots__ = ("block", "checkpoints", "doubled", "ops", "period", "powers", "prefixes")

    def __init__(self, block: bytes) -> None:
        self.block = block
        self.doubled = block + block
        self.period = len(block)
        cps = array("Q", [0])
        crc = 0
        for off in range(0, self.period - _CHECKPOINT + 1, _CHECKPOINT):
            crc = crc64(block[off : off + _CHECKPOINT], crc)
            cps.append(crc)
        self.checkpoints = cps
        self.ops = _period_operators(self.period)
        powers = [crc64(block)]
        for k in range(_LEVELS - 1):
            powers.append(gf2_matrix_times(self.ops[k], powers[-1]) ^ powers[-1])
        self.powers = powers
        # Part copies of a plan share boundaries (one part's end is the next one's start).
        self.prefixes: dict[int, int] = {}

    def prefix_of_block(self, r: int) -> int:
        idx = r // _CHECKPOINT
        base = idx * _CHECKPOINT
        return crc64(self.block[base:r], self.checkpoints[idx]) if r > base else self.checkpoints[idx]

    def prefix(self, n: int) -> int:
        """CRC of the first ``n`` bytes of the infinite stream (memoised, bounded)."""
        found = self.prefixes.get(n)
        if found is None:
            found = self._prefix(n)
            if len(self.prefixes) >= _MEMO:
                self.prefixes.clear()
            self.prefixes[n] = found
        return found

    def _prefix(self, n: int) -> int:
        q, r = divmod(n, self.period)
        acc, k = 0, 0
        while q:
            if q & 1:
                acc = gf2_matrix_times(self.ops[k], acc) ^ self.powers[k]
            q >>= 1
            k += 1
        if r == 0:
            return acc
        return crc64_combine(acc, self.prefix_of_block(r), r)

    def crc(self, start: int, end: int) -> int:
        head = self.prefix(start) if start else 0
        return self.prefix(end) ^ shift(head, end - start)

    def read(self, start: int, length: int) -> bytes:
        off = start % self.period
        if off + length <= 2 * self.period:
            return self.doubled[off : off + length]
        pieces = [self.block[off:]]
        remaining = length - (self.period - off)
        full, tail = divmod(remaining, self.period)
        pieces.extend([self.block] * full)
        pieces.append(self.block[:tail])
        return b"".join(pieces)


class Pattern:
    """The infinite synthetic byte stream of one seed (see module docstring)."""

    __slots__ = ("_a", "_b", "seed")

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._a = _PeriodicStream(hashlib.shake_256(f"cos-emulator:{seed}:A".encode()).digest(PERIOD_A))
        self._b = _PeriodicStream(hashlib.shake_256(f"cos-emulator:{seed}:B".encode()).digest(PERIOD_B))

    def crc(self, start: int, length: int) -> int:
        if length <= 0:
            return 0
        end = start + length
        return self._a.crc(start, end) ^ self._b.crc(start, end) ^ zeros_crc(length)

    def read(self, start: int, length: int) -> bytes:
        if length <= 0:
            return b""
        a = self._a.read(start, length)
        b = self._b.read(start, length)
        return (int.from_bytes(a, "little") ^ int.from_bytes(b, "little")).to_bytes(length, "little")


_PATTERNS: OrderedDict[int, Pattern] = OrderedDict()
_PATTERNS_LOCK = threading.Lock()
_MAX_PATTERNS = 16  # ~0.3 MB each


def pattern(seed: int) -> Pattern:
    """The shared :class:`Pattern` of ``seed`` (a small LRU: patterns are immutable)."""
    with _PATTERNS_LOCK:
        found = _PATTERNS.get(seed)
        if found is not None:
            _PATTERNS.move_to_end(seed)
            return found
    built = Pattern(seed)
    with _PATTERNS_LOCK:
        _PATTERNS[seed] = built
        while len(_PATTERNS) > _MAX_PATTERNS:
            _PATTERNS.popitem(last=False)
    return built
