"""The performance model: what a request costs in wall-clock time.

* ``latency`` - seconds added to every COS request (admin calls excluded).
* ``copy_bandwidth`` - bytes/s of one copy request: a CopyObject or
  UploadPartCopy of B bytes takes ``latency + B / copy_bandwidth``.
* ``aggregate_bandwidth`` - bytes/s shared by all copies in flight.
* ``rate_limit`` / ``rate_limit_burst`` / ``bucket_rate_limits`` - requests/s
  a bucket takes before it answers 503 ``SlowDown`` (:mod:`.ratelimit`).

The aggregate cap is a FIFO pipe with a virtual clock: a copy of B bytes
reserves ``B / aggregate_bandwidth`` seconds of the pipe after the
reservations before it, and finishes at the later of that reservation's end
and ``start + B / copy_bandwidth``. Reservations are O(1) under a lock; the
sleeping happens outside it. The makespan of N concurrent copies is therefore
``max(B / copy_bandwidth, N * B / aggregate_bandwidth)``, the same as with
fair sharing, which is what makes :func:`ideal_copy_time` a true lower bound
to compare benchmarks against.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from cos_provider.emulator.ratelimit import RateLimiter, RateLimitSettings


@dataclass(frozen=True)
class ModelSettings:
    latency: float = 0.0
    copy_bandwidth: float | None = None
    aggregate_bandwidth: float | None = None
    rate_limit: float | None = None
    rate_limit_burst: float | None = None
    bucket_rate_limits: Mapping[str, float] = field(default_factory=dict)

    @property
    def rate_limits(self) -> RateLimitSettings:
        return RateLimitSettings(self.rate_limit, self.rate_limit_burst, dict(self.bucket_rate_limits))

    def __post_init__(self) -> None:
        self.rate_limits  # noqa: B018 - validates the rate-limit fields
        if self.latency < 0:
            raise ValueError("latency must be >= 0")
        for name in ("copy_bandwidth", "aggregate_bandwidth"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be > 0 or None (unlimited)")


class PerformanceModel:
    def __init__(
        self,
        settings: ModelSettings | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings or ModelSettings()
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._pipe_free = 0.0
        self.rate_limiter = RateLimiter(self.settings.rate_limits, clock=clock)

    def update(self, settings: ModelSettings) -> None:
        with self._lock:
            self.settings = settings
            self._pipe_free = 0.0
        self.rate_limiter.update(settings.rate_limits)

    def admit(self, bucket: str | None) -> bool:
        """May a request to ``bucket`` run now, or is it over the bucket's rate limit (503 SlowDown)?"""
        return self.rate_limiter.admit(bucket)

    def copy_finish(self, nbytes: int, now: float) -> float:
        """When a copy of ``nbytes`` started at ``now`` finishes (reserves the pipe)."""
        s = self.settings
        finish = now
        if s.copy_bandwidth:
            finish = now + nbytes / s.copy_bandwidth
        if s.aggregate_bandwidth:
            with self._lock:
                start = max(now, self._pipe_free)
                self._pipe_free = start + nbytes / s.aggregate_bandwidth
                finish = max(finish, self._pipe_free)
        return finish

    def transfer(self, nbytes: int) -> None:
        """Block for the copy time of ``nbytes`` (not the base latency)."""
        s = self.settings
        if not (s.copy_bandwidth or s.aggregate_bandwidth) or nbytes <= 0:
            return
        now = self._clock()
        wait = self.copy_finish(nbytes, now) - now
        if wait > 0:
            self._sleep(wait)

    def request_latency(self) -> None:
        if self.settings.latency > 0:
            self._sleep(self.settings.latency)


def ideal_copy_time(
    part_sizes: Sequence[int],
    concurrency: int,
    settings: ModelSettings,
    *,
    extra_requests: int = 2,
) -> float:
    """Lower bound on the wall time of a multipart copy plan under ``settings``.

    ``part_sizes`` are the Upload Part - Copy sizes, run ``concurrency`` at a
    time (greedy list scheduling in order); ``extra_requests`` serial requests
    (Initiate and Complete by default) add one ``latency`` each.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be >= 1")
    lat = settings.latency
    workers = [0.0] * min(concurrency, max(1, len(part_sizes)))
    heapq.heapify(workers)
    for size in part_sizes:
        start = heapq.heappop(workers)
        duration = lat + (size / settings.copy_bandwidth if settings.copy_bandwidth else 0.0)
        heapq.heappush(workers, start + duration)
    makespan = max(workers) if part_sizes else 0.0
    if settings.aggregate_bandwidth:
        makespan = max(makespan, lat + sum(part_sizes) / settings.aggregate_bandwidth)
    return makespan + extra_requests * lat
