"""The AIMD limit behind every window, driven by hand: no server, no real sleeps, no timing."""

from __future__ import annotations

import threading

import pytest

from cos_provider.client.adaptive import AdaptiveLimit, bind, current_permit, throttle_delay
from cos_provider.client.copy import CopyCancelled, run_window

TIMEOUT = 10.0


def test_starts_at_the_ceiling_and_never_exceeds_it() -> None:
    limit = AdaptiveLimit(8)
    assert limit.limit == 8
    for _ in range(100):
        limit.succeeded()
    assert limit.limit == 8


def test_one_decrease_per_epoch() -> None:
    limit = AdaptiveLimit(16, decrease=0.5)
    permits = [limit.acquire() for _ in range(10)]  # all sent under epoch 0
    assert {p.epoch for p in permits} == {0}
    for p in permits:  # the whole burst answers SlowDown
        p.throttled()
    assert limit.limit == 8  # halved once, not 2**-10 times
    assert limit.stats().slowdowns == 10 and limit.stats().decreases == 1
    for p in permits:
        p.release()
    fresh = limit.acquire()  # a request sent after the decrease carries the new epoch
    assert fresh.epoch == 1
    fresh.throttled()
    assert limit.limit == 4


def test_decrease_stops_at_the_floor() -> None:
    limit = AdaptiveLimit(4, floor=2, decrease=0.5)
    for _ in range(5):
        p = limit.acquire()
        p.throttled()
        p.release()
    assert limit.limit == 2 and limit.stats().lowest == 2


def test_additive_increase_is_about_one_slot_per_round() -> None:
    limit = AdaptiveLimit(10, decrease=0.5)
    p = limit.acquire()
    p.throttled()
    p.release()
    assert limit.limit == 5
    for _ in range(5):  # one round of 5 items
        limit.succeeded()
    assert 5.9 < limit.limit < 6.0
    for _ in range(200):
        limit.succeeded()
    assert limit.limit == 10


def test_slots_follow_the_limit() -> None:
    limit = AdaptiveLimit(4, decrease=0.5)
    held = [limit.acquire() for _ in range(4)]
    assert limit.active == 4
    held[0].throttled()  # limit 2: two of the four must finish before another starts
    held[0].release()
    held[1].release()
    got: list[object] = []
    blocked = threading.Thread(target=lambda: got.append(limit.acquire()))
    blocked.start()
    held[2].release()  # active 1 < 2: the waiting worker gets its slot
    blocked.join(TIMEOUT)
    assert got and limit.active == 2


def test_close_wakes_a_waiting_worker_with_cancelled() -> None:
    limit = AdaptiveLimit(1)
    limit.acquire()
    errors: list[BaseException] = []

    def wait() -> None:
        try:
            limit.acquire()
        except CopyCancelled as exc:
            errors.append(exc)

    t = threading.Thread(target=wait)
    t.start()
    limit.close()
    t.join(TIMEOUT)
    assert not t.is_alive() and isinstance(errors[0], CopyCancelled)


def test_pause_gives_the_slot_back_while_sleeping() -> None:
    seen: list[tuple[float, int]] = []
    limit = AdaptiveLimit(4, sleep=lambda s: seen.append((s, limit.active)))
    permit = limit.acquire()
    other = limit.acquire()
    permit.throttled()  # limit 4 -> 3
    permit.pause(0.25)
    assert seen == [(0.25, 1)]  # only ``other`` held a slot during the pause
    assert permit.epoch == 1 and limit.active == 2  # resent under the new limit, holding a slot again
    other.release()
    permit.release()
    permit.release()  # twice is harmless
    assert limit.active == 0


def test_throttle_delay_is_exponential_capped_and_jittered() -> None:
    assert throttle_delay(1, 0.1, 5.0, random=lambda: 0.0) == pytest.approx(0.05)
    assert throttle_delay(1, 0.1, 5.0, random=lambda: 1.0) == pytest.approx(0.1)
    assert throttle_delay(4, 0.1, 5.0, random=lambda: 1.0) == pytest.approx(0.8)
    assert throttle_delay(30, 0.1, 5.0, random=lambda: 0.5) == pytest.approx(3.75)


def test_the_window_binds_a_permit_to_each_item_and_restores_none() -> None:
    seen: list[bool] = []

    def work(n: int) -> int:
        seen.append(current_permit() is not None)
        return n

    out: list[int] = []
    run_window(work, range(20), concurrency=3, on_result=lambda n, r: out.append(r))
    assert sorted(out) == list(range(20)) and all(seen)
    assert current_permit() is None
    assert bind(None) is None


def test_a_throttled_item_in_the_window_lowers_concurrency() -> None:
    """An item reports SlowDown through its permit (as the transport does); items started afterwards run 4 at once."""
    limit = AdaptiveLimit(8, decrease=0.5, increase=0.001)
    after: list[int] = []
    lock = threading.Lock()

    def work(n: int) -> int:
        permit = current_permit()
        assert permit is not None
        if n == 0:
            permit.throttled()
            permit.throttled()  # a second answer of the same epoch does not count
        elif permit.epoch == 1:
            with lock:
                after.append(limit.active)
        return n

    run_window(work, range(300), concurrency=8, on_result=lambda n, r: None, limit=limit)
    assert limit.stats().decreases == 1 and int(limit.limit) == 4
    assert after and max(after) <= 4
