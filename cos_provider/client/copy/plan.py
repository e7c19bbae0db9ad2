"""Split a source into part ranges: pure arithmetic, no I/O.

A plan is uniform: every part has ``part_size`` bytes except the last, which
holds the remainder. So a plan is three integers (size, part size, part
count) and a part's range is computed on demand; a 10,000-part plan costs no
more memory than a 2-part one.

Automatic part size
-------------------
A part copy costs one request latency ``L`` plus ``part/b`` of transfer, where
``b`` is the per-request bandwidth (capped by ``aggregate / concurrency``).
With ``C`` workers and ``n`` equal parts the copy takes about
``ceil(n / C) * (L + part / b)``. Latency is paid once per *wave* of ``C``
parts, so fewer, bigger parts are cheaper in an ideal world; but a wave
finishes only when its slowest part does, and a failed part is retried whole.
So the planner aims at :data:`TARGET_WAVES` waves of equal parts (enough parts
to keep every worker busy and to even out stragglers), never below the size
that keeps latency under a tenth of a part's transfer time
(:data:`LATENCY_AMORTISATION`), never above :data:`PREFERRED_MAX_PART_SIZE`
unless the 10,000-part limit forces it, and always within COS's limits
(:mod:`cos_provider.client.limits`). Part sizes are whole MiB.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import overload

from cos_provider.client import limits, validation
from cos_provider.client.errors import CosValidationError

DEFAULT_CONCURRENCY = 32
"""Parallel part copies per object. Server-side copies keep the client idle,
so the limit is the service's per-request bandwidth: 32 x 100 MB/s already
exceeds a 2 GB/s account-level cap."""
MAX_CONCURRENCY = 256
TARGET_WAVES = 4
LATENCY_AMORTISATION = 10.0
PREFERRED_MAX_PART_SIZE = 1 * limits.GiB
MAX_MAPPED_BATCHES = 1024
"""Airflow's default ``[core] max_map_length``."""


@dataclass(frozen=True)
class TransferModel:
    """The cost model of a server-side part copy (what the planner assumes).

    ``latency`` is seconds per request, ``request_bandwidth`` bytes per second
    one request moves, ``aggregate_bandwidth`` an optional account/link cap
    shared by all concurrent requests.
    """

    latency: float = 0.03
    request_bandwidth: float = 100e6
    aggregate_bandwidth: float | None = None

    def bandwidth(self, concurrent: int) -> float:
        """Bytes per second of one request when ``concurrent`` run at once."""
        if self.aggregate_bandwidth is None or concurrent <= 0:
            return self.request_bandwidth
        return min(self.request_bandwidth, self.aggregate_bandwidth / concurrent)


DEFAULT_MODEL = TransferModel()


@dataclass(frozen=True, slots=True)
class PartRange:
    """Part ``number`` (1-based) covers bytes ``first..last`` inclusive."""

    number: int
    first: int
    last: int

    @property
    def size(self) -> int:
        return self.last - self.first + 1

    def header(self) -> str:
        return f"bytes={self.first}-{self.last}"


@dataclass(frozen=True, slots=True)
class Batch:
    """Consecutive parts ``first_part..last_part`` given to one mapped task."""

    index: int
    first_part: int
    last_part: int

    def to_dict(self) -> dict[str, int]:
        return {"index": self.index, "first_part": self.first_part, "last_part": self.last_part}


class _Parts(Sequence[PartRange]):
    """The parts of a plan, computed on access."""

    __slots__ = ("_plan",)

    def __init__(self, plan: CopyPlan) -> None:
        self._plan = plan

    def __len__(self) -> int:
        return self._plan.part_count

    @overload
    def __getitem__(self, index: int) -> PartRange: ...
    @overload
    def __getitem__(self, index: slice) -> list[PartRange]: ...
    def __getitem__(self, index: int | slice) -> PartRange | list[PartRange]:
        if isinstance(index, slice):
            return [self._plan.part(n + 1) for n in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._plan.part(index + 1)

    def __iter__(self) -> Iterator[PartRange]:
        return (self._plan.part(n) for n in range(1, self._plan.part_count + 1))


@dataclass(frozen=True)
class CopyPlan:
    """``size`` bytes in ``part_count`` parts of ``part_size`` (the last one shorter)."""

    size: int
    part_size: int

    @property
    def part_count(self) -> int:
        return -(-self.size // self.part_size) if self.size else 0

    @property
    def parts(self) -> Sequence[PartRange]:
        return _Parts(self)

    def part(self, number: int) -> PartRange:
        if not 1 <= number <= self.part_count:
            raise IndexError(f"part {number} is outside 1..{self.part_count}")
        first = (number - 1) * self.part_size
        return PartRange(number, first, min(first + self.part_size, self.size) - 1)

    def __iter__(self) -> Iterator[PartRange]:
        return iter(self.parts)

    def batches(self, max_batches: int = MAX_MAPPED_BATCHES) -> list[Batch]:
        """Split the parts into at most ``max_batches`` runs of consecutive
        parts whose lengths differ by at most one."""
        if not isinstance(max_batches, int) or max_batches < 1:
            raise CosValidationError("max_batches", f"must be a positive integer, got {max_batches!r}")
        n = self.part_count
        count = min(max_batches, n)
        out: list[Batch] = []
        first = 1
        for i in range(count):
            length = n // count + (1 if i < n % count else 0)
            out.append(Batch(i, first, first + length - 1))
            first += length
        return out


def _round_up(value: int, unit: int) -> int:
    return -(-value // unit) * unit


def auto_part_size(
    size: int, concurrency: int = DEFAULT_CONCURRENCY, model: TransferModel = DEFAULT_MODEL
) -> int:
    """The part size the planner picks for ``size`` bytes and ``concurrency`` workers."""
    bandwidth = model.bandwidth(concurrency)
    floor = max(limits.MIN_PART_SIZE, math.ceil(LATENCY_AMORTISATION * model.latency * bandwidth))
    target = -(-size // (TARGET_WAVES * concurrency)) if size else limits.MIN_PART_SIZE
    part = min(max(target, floor), PREFERRED_MAX_PART_SIZE)
    part = max(part, -(-size // limits.MAX_PARTS))  # at most 10,000 parts
    part = _round_up(part, limits.MiB)
    return min(max(part, limits.MIN_PART_SIZE), limits.MAX_PART_SIZE)


def validate_concurrency(value: int, field: str = "concurrency") -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_CONCURRENCY:
        raise CosValidationError(field, f"must be an integer from 1 to {MAX_CONCURRENCY}, got {value!r}")
    return value


def validate_source_size(size: int, field: str = "source size") -> int:
    if not isinstance(size, int) or size < 0:
        raise CosValidationError(field, f"must be a non-negative integer, got {size!r}")
    if size > limits.MAX_OBJECT_SIZE:
        raise CosValidationError(
            field,
            f"{size} bytes exceeds COS's largest object ({limits.MAX_OBJECT_SIZE} bytes, 10,000 x 5 GB)",
        )
    return size


def plan_parts(
    size: int,
    part_size: int | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    model: TransferModel = DEFAULT_MODEL,
) -> CopyPlan:
    """Plan a multipart copy of ``size`` bytes.

    ``part_size=None`` picks one automatically (see the module docstring);
    a given part size must be 1 MB..5 GB and need at most 10,000 parts, else
    :class:`CosValidationError` names the field and the rule. A 0-byte source
    has no parts (a multipart upload cannot hold it; the engine copies it with
    a single PUT copy).
    """
    validate_source_size(size)
    validate_concurrency(concurrency)
    if part_size is None:
        return CopyPlan(size, auto_part_size(size, concurrency, model))
    validation.validate_part_size(part_size)
    count = -(-size // part_size)
    if count > limits.MAX_PARTS:
        minimum = _round_up(-(-size // limits.MAX_PARTS), limits.MiB)
        raise CosValidationError(
            "part_size",
            f"{part_size} bytes would split {size} bytes into {count} parts; COS allows "
            f"{limits.MAX_PARTS}, so use at least {minimum} bytes",
        )
    return CopyPlan(size, part_size)
