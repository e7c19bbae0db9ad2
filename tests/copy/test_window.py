"""The bounded submit window that runs the parts of a copy and the objects of a prefix copy.

Plain callables stand in for the requests here; every wait is on an Event or
a Barrier, so these tests do not depend on timing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from cos_provider.client.copy import CopyCancelled, run_window

TIMEOUT = 10.0


class Tracker:
    """Counts work running at once and items pulled ahead of the finished ones."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.max_running = 0
        self.finished = 0
        self.ran: list[int] = []
        self.max_ahead = 0

    def items(self, count: int) -> Iterator[int]:
        for n in range(count):
            with self.lock:
                self.max_ahead = max(self.max_ahead, n - self.finished)
            yield n

    def enter(self, n: int) -> None:
        with self.lock:
            self.running += 1
            self.max_running = max(self.max_running, self.running)
            self.ran.append(n)

    def leave(self) -> None:
        with self.lock:
            self.running -= 1


def test_n_run_at_once_and_two_are_queued_per_worker() -> None:
    concurrency = 4
    together = threading.Barrier(concurrency, timeout=TIMEOUT)  # passes only if 4 run at once
    t = Tracker()
    results: dict[int, int] = {}

    def work(n: int) -> int:
        t.enter(n)
        if n < concurrency:
            together.wait()
        t.leave()
        return n * n

    def done(n: int, square: int) -> None:
        results[n] = square
        t.finished += 1  # on the caller's thread, after the item left the window

    run_window(work, t.items(50), concurrency=concurrency, on_result=done)
    assert results == {n: n * n for n in range(50)}
    assert t.max_running == concurrency
    assert t.max_ahead <= 2 * concurrency


def test_the_first_error_stops_the_window_before_it_drains() -> None:
    second_started = threading.Event()
    release = threading.Event()
    t = Tracker()
    seen_at_stop: list[int] = []

    def work(n: int) -> int:
        t.enter(n)
        try:
            if n == 0:
                assert second_started.wait(TIMEOUT)
                raise ValueError("part 0 failed")
            if n == 1:
                second_started.set()
                assert release.wait(TIMEOUT)
            return n
        finally:
            t.leave()

    def on_stop(exc: BaseException) -> None:
        seen_at_stop.append(t.running)  # item 1 is still in flight: abort before waiting for it
        release.set()

    with pytest.raises(ValueError, match="part 0 failed"):
        run_window(
            work,
            range(100),
            concurrency=2,
            queued_per_worker=1,  # nothing queued, so no worker can pick item 2 before the stop
            on_result=lambda n, r: None,
            on_stop=on_stop,
        )
    assert seen_at_stop == [1]
    assert sorted(t.ran) == [0, 1]  # nothing was submitted after the failure


def test_on_error_that_returns_goes_on() -> None:
    errors: list[int] = []
    results: list[int] = []

    def work(n: int) -> int:
        if n % 3 == 0:
            raise KeyError(n)
        return n

    run_window(
        work,
        range(30),
        concurrency=3,
        on_result=lambda n, r: results.append(r),
        on_error=lambda n, exc: errors.append(n),
    )
    assert sorted(errors) == list(range(0, 30, 3))
    assert sorted(results) == [n for n in range(30) if n % 3]


def test_the_cancel_event_stops_it_with_copy_cancelled() -> None:
    cancel = threading.Event()
    t = Tracker()

    def work(n: int) -> int:
        t.enter(n)
        if n == 0:
            cancel.set()  # as engine.cancel() does from a signal handler
            raise ConnectionError("NoSuchUpload: the upload was aborted")  # what a part then gets
        t.leave()
        return n

    with pytest.raises(CopyCancelled):
        run_window(work, range(100), concurrency=1, on_result=lambda n, r: None, cancel=cancel)
    assert t.ran == [0]  # item 1 was queued behind it, and skipped once cancelled


def test_an_error_from_the_items_stops_it_too() -> None:
    stopped: list[BaseException] = []

    def items() -> Iterator[int]:
        yield 1
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_window(lambda n: n, items(), concurrency=2, on_result=lambda n, r: None, on_stop=stopped.append)
    assert len(stopped) == 1 and isinstance(stopped[0], KeyboardInterrupt)


def test_tick_is_asked_when_to_come_back() -> None:
    ticks: list[int] = []
    release = threading.Event()

    def tick() -> float:
        ticks.append(1)
        if len(ticks) >= 3:
            release.set()  # the window came back while the work was still running
        return 0.0

    def work(n: int) -> int:
        assert release.wait(TIMEOUT)
        return n

    run_window(work, [1], concurrency=1, on_result=lambda n, r: None, tick=tick)
    assert len(ticks) >= 3
