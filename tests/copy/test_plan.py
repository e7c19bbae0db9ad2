"""The planner: pure arithmetic, checked exhaustively with hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cos_provider.client import limits
from cos_provider.client.copy.plan import (
    DEFAULT_CONCURRENCY,
    MAX_CONCURRENCY,
    PREFERRED_MAX_PART_SIZE,
    CopyPlan,
    TransferModel,
    auto_part_size,
    plan_parts,
)
from cos_provider.client.errors import CosValidationError


def ideal_time(plan: CopyPlan, concurrency: int, model: TransferModel, requests_before: int = 0) -> float:
    """Seconds the plan takes under ``model`` when nothing else limits it: the planner's yardstick.

    Parts run in waves of ``concurrency``; each wave lasts one latency plus
    its largest part's transfer at the bandwidth its width allows.
    ``requests_before`` sequential requests (HEAD, Initiate, Complete...) add
    one latency each.
    """
    n = plan.part_count
    total = requests_before * model.latency
    full_waves, rest = divmod(n, concurrency)
    if full_waves:
        # The last part may be short, but the wave that holds it lasts as long
        # as its longest part; only a one-part tail wave benefits.
        total += full_waves * (model.latency + plan.part_size / model.bandwidth(concurrency))
    if rest:
        longest = plan.part_size if rest > 1 else plan.part(n).size
        total += model.latency + longest / model.bandwidth(rest)
    return total


def best_plan(
    size: int, model: TransferModel, max_concurrency: int = 64, requests_before: int = 0
) -> tuple[CopyPlan, int, float]:
    """The (plan, concurrency) with the least :func:`ideal_time`, searched over every part count
    that yields a distinct MiB-multiple part size and every concurrency up to ``max_concurrency``."""
    best: tuple[CopyPlan, int, float] | None = None
    min_parts = max(1, -(-size // limits.MAX_PART_SIZE))
    seen: set[int] = set()
    for count in range(min_parts, limits.MAX_PARTS + 1):
        mib = -(-size // (count * limits.MiB))  # the part size for this count, rounded up to whole MiB
        part = max(mib * limits.MiB, limits.MIN_PART_SIZE)
        if part in seen or part > limits.MAX_PART_SIZE:
            continue
        seen.add(part)
        plan = CopyPlan(size, part)
        if plan.part_count > limits.MAX_PARTS:
            continue
        for c in range(1, max_concurrency + 1):
            t = ideal_time(plan, c, model, requests_before)
            if best is None or t < best[2]:
                best = (plan, c, t)
    assert best is not None, f"no valid plan for {size} bytes"
    return best


sizes = st.one_of(
    st.integers(0, 4 * limits.MiB),
    st.integers(0, limits.MAX_OBJECT_SIZE),
    st.sampled_from(
        [
            0,
            1,
            limits.MIN_PART_SIZE - 1,
            limits.MIN_PART_SIZE,
            limits.MIN_PART_SIZE + 1,
            limits.MAX_PART_SIZE,
            limits.MAX_PART_SIZE + 1,
            limits.MAX_OBJECT_SIZE - 1,
            limits.MAX_OBJECT_SIZE,
        ]
    ),
)
concurrency = st.integers(1, MAX_CONCURRENCY)


def assert_covers(plan: CopyPlan, size: int) -> None:
    """Every byte exactly once, parts in order, within COS's limits."""
    parts = list(plan.parts)
    assert len(parts) == plan.part_count <= limits.MAX_PARTS
    if size == 0:
        assert parts == []
        return
    assert parts[0].first == 0
    assert parts[-1].last == size - 1
    for i, part in enumerate(parts, start=1):
        assert part.number == i
        assert part.first <= part.last
        assert part.size <= limits.MAX_PART_SIZE
        if i < len(parts):
            assert part.size == plan.part_size >= limits.MIN_PART_SIZE
            assert parts[i].first == part.last + 1  # contiguous: no gap, no overlap
    assert sum(p.size for p in parts[:3]) + sum(p.size for p in parts[3:]) == size


@settings(max_examples=400, deadline=None)
@given(size=sizes, workers=concurrency)
def test_auto_plan_covers_every_byte_once(size: int, workers: int) -> None:
    plan = plan_parts(size, concurrency=workers)
    assert_covers(plan, size)
    assert plan.part_size % limits.MiB == 0


@settings(max_examples=400, deadline=None)
@given(size=sizes, part_size=st.integers(limits.MIN_PART_SIZE, limits.MAX_PART_SIZE))
def test_caller_part_size_is_used_or_refused(size: int, part_size: int) -> None:
    needed = -(-size // part_size)
    if needed > limits.MAX_PARTS:
        with pytest.raises(CosValidationError) as err:
            plan_parts(size, part_size)
        assert err.value.field == "part_size"
        assert "10000" in err.value.rule
    else:
        plan = plan_parts(size, part_size)
        assert plan.part_size == part_size
        assert_covers(plan, size)


@settings(max_examples=200, deadline=None)
@given(size=st.integers(1, limits.MAX_OBJECT_SIZE), batches=st.integers(1, 2048))
def test_batches_partition_the_parts(size: int, batches: int) -> None:
    plan = plan_parts(size)
    out = plan.batches(batches)
    assert len(out) == min(batches, plan.part_count)
    numbers = [n for b in out for n in range(b.first_part, b.last_part + 1)]
    assert numbers == list(range(1, plan.part_count + 1))
    lengths = {b.last_part - b.first_part + 1 for b in out}
    assert max(lengths) - min(lengths) <= 1


def test_parts_are_computed_lazily() -> None:
    plan = plan_parts(limits.MAX_OBJECT_SIZE)
    assert plan.part_count == limits.MAX_PARTS
    assert plan.parts[-1].last == limits.MAX_OBJECT_SIZE - 1
    assert plan.parts[0].header() == f"bytes=0-{limits.MAX_PART_SIZE - 1}"
    assert len(plan.parts[10:20]) == 10
    with pytest.raises(IndexError):
        plan.part(limits.MAX_PARTS + 1)


@pytest.mark.parametrize(
    ("size", "part_size", "field"),
    [
        (10 * limits.MiB, limits.MIN_PART_SIZE - 1, "part_size"),
        (10 * limits.MiB, limits.MAX_PART_SIZE + 1, "part_size"),
        (limits.MAX_OBJECT_SIZE + 1, None, "source size"),
        (-1, None, "source size"),
    ],
)
def test_out_of_bounds_is_named(size: int, part_size: int | None, field: str) -> None:
    with pytest.raises(CosValidationError) as err:
        plan_parts(size, part_size)
    assert err.value.field == field


@pytest.mark.parametrize("workers", [0, MAX_CONCURRENCY + 1, True])
def test_concurrency_bounds(workers: int) -> None:
    with pytest.raises(CosValidationError) as err:
        plan_parts(limits.GiB, concurrency=workers)
    assert err.value.field == "concurrency"


def test_auto_size_keeps_workers_busy_and_amortises_latency() -> None:
    model = TransferModel(latency=0.03, request_bandwidth=100e6, aggregate_bandwidth=2e9)
    size = 20 * limits.GiB
    part = auto_part_size(size, DEFAULT_CONCURRENCY, model)
    plan = plan_parts(size, concurrency=DEFAULT_CONCURRENCY, model=model)
    assert plan.part_size == part
    assert plan.part_count >= 4 * DEFAULT_CONCURRENCY - 1
    # Latency is at most a tenth of a part's transfer time.
    assert 0.1 * part / model.bandwidth(DEFAULT_CONCURRENCY) >= 0.03
    # Within 1.2x of the best plan the model allows.
    _, _, best = best_plan(size, model, max_concurrency=64, requests_before=3)
    ours = ideal_time(plan, DEFAULT_CONCURRENCY, model, requests_before=3)
    assert ours <= 1.2 * best


def test_auto_size_limits() -> None:
    assert plan_parts(0).part_count == 0
    assert limits.MIN_PART_SIZE <= auto_part_size(0) <= 64 * limits.MiB
    assert auto_part_size(10 * limits.TiB) <= PREFERRED_MAX_PART_SIZE * 2
    assert auto_part_size(limits.MAX_OBJECT_SIZE) == limits.MAX_PART_SIZE
    # Small objects still get parts big enough to amortise latency, not 1 MB slivers.
    assert auto_part_size(6 * limits.GiB) >= 8 * limits.MiB


def test_ideal_time_counts_waves() -> None:
    model = TransferModel(latency=1.0, request_bandwidth=float(limits.MiB))
    plan = CopyPlan(10 * limits.MiB, limits.MiB)  # 10 parts of 1 s transfer each
    assert ideal_time(plan, 10, model) == pytest.approx(2.0)
    assert ideal_time(plan, 5, model) == pytest.approx(4.0)
    assert ideal_time(plan, 3, model, requests_before=2) == pytest.approx(2 + 4 * 2.0)
