"""SlowDown is resent outside the retry budget, within ``throttle_timeout``; other failures still count."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from cos_provider.client.adaptive import AdaptiveLimit
from cos_provider.client.client import CosClient
from cos_provider.client.copy import run_window
from cos_provider.client.errors import CosServiceError
from cos_provider.emulator.faults import FaultRule
from tests.conftest import DST_BUCKET, REGION
from tests.copy.conftest import make_client


class TickingClock:
    """Each look advances 10 s: a throttle_timeout of 35 s allows exactly a few looks."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 10.0
        return self.now


@pytest.fixture
def throttled_client(cos: Any) -> Iterator[CosClient]:
    with make_client(cos.address, REGION, max_attempts=2, throttle_base_delay=0.0) as c:
        yield c


def in_window(call: Any) -> Any:
    """Run ``call()`` as the one item of a window, where throttling is resent outside the budget."""
    out: list[Any] = []
    run_window(lambda _: call(), [0], concurrency=1, on_result=lambda _, r: out.append(r))
    return out[0]


def statuses(cos: Any, operation: str) -> dict[str, int]:
    return dict(cos.counters()["requests"].get(operation, {}))


def test_slowdowns_do_not_spend_the_attempts(cos: Any, throttled_client: CosClient) -> None:
    """A HEAD's 503 has no body to say SlowDown; it is taken as throttling all the same."""
    cos.put_object(DST_BUCKET, "k", b"v")
    cos.add_fault(FaultRule("HeadObject", "slow_down", times=12))
    info = in_window(lambda: throttled_client.head_object(DST_BUCKET, "k"))  # max_attempts=2, yet 12 pass
    assert info.size == 1
    assert statuses(cos, "HeadObject") == {"503": 12, "200": 1}


def test_other_failures_still_spend_them(cos: Any, throttled_client: CosClient) -> None:
    cos.put_object(DST_BUCKET, "k", b"v")
    cos.add_fault(FaultRule("HeadObject", sequence=["slow_down", "internal_error", "slow_down", "ok"]))
    assert in_window(lambda: throttled_client.head_object(DST_BUCKET, "k")).size == 1  # 1 failure of 2
    cos.clear_faults()
    cos.add_fault(FaultRule("HeadObject", sequence=["internal_error", "slow_down", "internal_error", "ok"]))
    with pytest.raises(CosServiceError) as info:
        in_window(lambda: throttled_client.head_object(DST_BUCKET, "k"))
    # The second failure ends it; the SlowDown between them does not count.
    assert info.value.code == "InternalError"


def test_a_bucket_throttled_for_good_fails_clearly(cos: Any) -> None:
    cos.put_object(DST_BUCKET, "k", b"v")
    cos.add_fault(FaultRule("ListObjects", "slow_down"))  # always
    clock = TickingClock()
    with (
        make_client(
            cos.address, REGION, max_attempts=2, throttle_base_delay=0.0, throttle_timeout=35.0, clock=clock
        ) as c,
        pytest.raises(CosServiceError) as info,
    ):
        in_window(lambda: c.list_objects(DST_BUCKET))
    assert info.value.code == "SlowDown" and info.value.status == 503
    notes = " ".join(getattr(info.value, "__notes__", []))
    assert "kept answering SlowDown" in notes and "throttle_timeout=35s" in notes
    assert statuses(cos, "ListObjects") == {"503": 4}  # first at t=10, given up at t=40


def test_slowdowns_are_logged_quietly(
    cos: Any, throttled_client: CosClient, caplog: pytest.LogCaptureFixture
) -> None:
    cos.put_object(DST_BUCKET, "k", b"v")
    cos.add_fault(FaultRule("HeadObject", "slow_down", times=3))
    caplog.set_level(logging.DEBUG, logger="cos_provider")
    in_window(lambda: throttled_client.head_object(DST_BUCKET, "k"))
    throttled = [r for r in caplog.records if r.name == "cos_provider.client.retry"]
    assert len(throttled) == 3 and all(r.levelno == logging.DEBUG for r in throttled)


def test_a_throttled_window_adapts_and_finishes(cos: Any, throttled_client: CosClient) -> None:
    """Real requests through run_window against a rate-limited bucket: every item done, the limit lowered."""
    for n in range(60):
        cos.put_object(DST_BUCKET, f"k{n:02d}", b"v")
    cos.set_model(bucket_rate_limits={DST_BUCKET: 20.0}, rate_limit_burst=4)
    limit = AdaptiveLimit(16)
    sizes: dict[int, int] = {}
    run_window(
        lambda n: throttled_client.head_object(DST_BUCKET, f"k{n:02d}").size,
        range(60),
        concurrency=16,
        on_result=sizes.__setitem__,
        limit=limit,
    )
    assert sizes == {n: 1 for n in range(60)}
    stats = limit.stats()
    slowdowns = cos.counters()["slowdowns"]["by_bucket"][DST_BUCKET]
    assert stats.slowdowns == slowdowns > 0  # every 503 the emulator sent reached the limit
    assert stats.decreases >= 1 and stats.lowest < 16


def test_outside_a_window_slowdown_spends_attempts_as_before(cos: Any, throttled_client: CosClient) -> None:
    """One request, a sensor's poke: nothing to slow down, so SlowDown is an ordinary transient failure."""
    cos.put_object(DST_BUCKET, "k", b"v")
    cos.add_fault(FaultRule("ListObjects", "slow_down", times=5))
    with pytest.raises(CosServiceError) as info:
        throttled_client.list_objects(DST_BUCKET)
    assert info.value.code == "SlowDown"
    assert statuses(cos, "ListObjects") == {"503": 2}  # max_attempts=2
