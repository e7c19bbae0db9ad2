"""Concurrency that adapts to 503 ``SlowDown``: the one AIMD limit behind :func:`~cos_provider.client.copy.window.run_window`.

A bucket over its request-rate limit answers ``SlowDown``. A fixed pool
either hammers it (every worker retrying on its own clock, the retries
themselves over the limit) or, sized down for the worst case, crawls. So
every window carries an :class:`AdaptiveLimit`, TCP's congestion control on
requests in flight:

* a worker takes a slot before it runs an item and gives it back after; at
  most ``floor(limit)`` items run at once, ``limit`` starting at the
  window's concurrency, which it never exceeds;
* each item that succeeds adds ``increase / limit`` (about ``increase`` per
  round of ``limit`` items: additive increase);
* a ``SlowDown`` multiplies ``limit`` by ``decrease`` (multiplicative
  decrease), once per *epoch*: answers to requests sent under an older
  limit were caused by the overshoot already corrected, so they do not
  shrink it again (which would collapse the window to 1 after one burst);
* the throttled request gives its slot back while it waits a jittered
  backoff (so the pauses of the workers throttled together spread out),
  takes a slot again (under the new limit) and is resent. That resend is
  not one of the retry policy's attempts (:mod:`~cos_provider.client.retry`):
  throttling alone never exhausts the retry budget, only the policy's
  ``throttle_timeout`` ends it.

The transport finds the limit of the request it is sending through
:func:`current_permit` (a thread-local that the window sets around each
item), so the limit sees the ``SlowDown`` of any request of an item, however
deep in the engine it was sent. Outside a window there is no permit and a
throttled request just backs off.

Without throttling nothing changes: the limit stays at the concurrency.
"""

from __future__ import annotations

import logging
import random as _random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("cos_provider.client")

DEFAULT_INCREASE = 1.0
"""Slots added per round of ``limit`` successful items."""
DEFAULT_DECREASE = 0.75
"""What a ``SlowDown`` multiplies the limit by (TCP Reno halves; CUBIC uses 0.7)."""
WAIT_SLICE = 0.2
"""Longest wait for a slot between two looks at whether the window stopped."""


def throttle_delay(
    consecutive: int,
    base: float,
    cap: float,
    random: Callable[[], float] = _random.random,
) -> float:
    """The pause before resending a request after its ``consecutive``-th ``SlowDown`` in a row.

    Exponential, capped, with "equal jitter": uniform in ``[d/2, d]`` for
    ``d = min(cap, base * 2**(consecutive-1))``, so workers throttled by the
    same burst come back spread out, yet each waits at least half its step.
    """
    step: float = min(cap, base * 2.0 ** max(0, consecutive - 1))
    return step / 2 + random() * step / 2


@dataclass(frozen=True)
class LimitStats:
    """What a window's limit went through: for the log line and for benchmarks."""

    slowdowns: int
    decreases: int
    lowest: int
    final: float


class AdaptiveLimit:
    """An AIMD limit on items in flight (see the module docstring); thread-safe."""

    def __init__(
        self,
        ceiling: int,
        *,
        floor: int = 1,
        increase: float = DEFAULT_INCREASE,
        decrease: float = DEFAULT_DECREASE,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if ceiling < 1 or not 1 <= floor <= ceiling:
            raise ValueError("need 1 <= floor <= ceiling")
        if increase <= 0 or not 0 < decrease < 1:
            raise ValueError("need increase > 0 and 0 < decrease < 1")
        self.ceiling = ceiling
        self.floor = floor
        self.increase = increase
        self.decrease = decrease
        self._sleep = sleep
        self._cond = threading.Condition()
        self._limit = float(ceiling)
        self._active = 0
        self._epoch = 0
        self._closed = False
        self._slowdowns = 0
        self._decreases = 0
        self._lowest = ceiling

    # -- observation

    @property
    def limit(self) -> float:
        return self._limit

    @property
    def active(self) -> int:
        return self._active

    @property
    def epoch(self) -> int:
        return self._epoch

    def stats(self) -> LimitStats:
        with self._cond:
            return LimitStats(self._slowdowns, self._decreases, self._lowest, self._limit)

    # -- slots

    def _allowed(self) -> int:
        return max(self.floor, int(self._limit))

    def acquire(self, stopped: Callable[[], bool] = lambda: False) -> Permit:
        """Wait for a slot; :class:`CopyCancelled` if the window closes or ``stopped()`` meanwhile."""
        from cos_provider.client.copy.errors import CopyCancelled  # the copy package imports the transport

        with self._cond:
            while True:
                if self._closed or stopped():
                    raise CopyCancelled("not started: the copy was stopped")
                if self._active < self._allowed():
                    self._active += 1
                    return Permit(self, self._epoch, stopped)
                self._cond.wait(WAIT_SLICE)

    def _release(self) -> None:
        with self._cond:
            self._active -= 1
            self._cond.notify()

    def close(self) -> None:
        """Wake every worker waiting for a slot, to give up (the window is stopping)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    # -- feedback

    def succeeded(self) -> None:
        """Additive increase: ``increase / limit`` per item, up to the ceiling."""
        with self._cond:
            if self._limit < self.ceiling:
                before = self._allowed()
                self._limit = min(float(self.ceiling), self._limit + self.increase / self._limit)
                if self._allowed() > before:
                    self._cond.notify()

    def throttled(self, epoch: int) -> bool:
        """A ``SlowDown`` to a request sent in ``epoch``; ``True`` if it shrank the limit."""
        with self._cond:
            self._slowdowns += 1
            if epoch != self._epoch:
                return False
            self._epoch += 1
            self._decreases += 1
            before = self._limit
            self._limit = max(float(self.floor), self._limit * self.decrease)
            self._lowest = min(self._lowest, self._allowed())
        log.debug("COS answered SlowDown: concurrency %.1f -> %.1f", before, self._limit)
        return True


class Permit:
    """One worker's slot in an :class:`AdaptiveLimit`, and the epoch it was taken in."""

    def __init__(self, owner: AdaptiveLimit, epoch: int, stopped: Callable[[], bool]) -> None:
        self.owner = owner
        self.epoch = epoch
        self._stopped = stopped
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self.owner._release()

    def throttled(self) -> None:
        """The request this permit's item was sending got ``SlowDown``."""
        self.owner.throttled(self.epoch)

    def pause(self, seconds: float) -> None:
        """Back off without holding the slot, then wait for one under the current limit."""
        self.release()
        self.owner._sleep(seconds)
        fresh = self.owner.acquire(self._stopped)
        self.epoch, self._held = fresh.epoch, True


_local = threading.local()


def current_permit() -> Permit | None:
    """The permit of the item this thread is running, if it runs in a window."""
    permit: Permit | None = getattr(_local, "permit", None)
    return permit


def bind(permit: Permit | None) -> Permit | None:
    """Make ``permit`` this thread's current one; returns the previous one (to restore)."""
    previous = current_permit()
    _local.permit = permit
    return previous


def summary(limit: AdaptiveLimit, label: str) -> None:
    """One INFO line per window that was throttled (nothing otherwise)."""
    stats = limit.stats()
    if stats.slowdowns:
        log.info(
            "%s: COS answered SlowDown %d time(s); concurrency lowered %d time(s), to %d at the lowest "
            "(ceiling %d, %.1f at the end)",
            label,
            stats.slowdowns,
            stats.decreases,
            stats.lowest,
            limit.ceiling,
            stats.final,
        )
