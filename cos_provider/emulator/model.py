"""The performance model: what a request costs in wall-clock time.

* ``latency`` - seconds added to every COS request (admin calls excluded).
* ``copy_bandwidth`` - bytes/s of one copy request: a CopyObject or
  UploadPartCopy of B bytes takes ``latency + B / copy_bandwidth``.
* ``aggregate_bandwidth`` - bytes/s shared by all copies in flight.
* ``transfer_bandwidth`` - bytes/s of one body on the wire: a PUT Object or
  Upload Part body, or a GET body, of B bytes takes ``B / transfer_bandwidth``
  on top of the latency (a link to one connection, like a real client's TCP).
* ``transfer_aggregate_bandwidth`` - bytes/s shared by all bodies in flight
  (the machine's NIC), a pipe of its own: copies run inside COS, transfers
  over the client's network, and neither slows the other.
* ``restore_expedited``, ``restore_standard``, ``restore_bulk`` - seconds a
  POST Object restore of an ARCHIVE object takes per tier, on the restore
  clock (see :mod:`.restore`; DEEP_ARCHIVE takes longer).
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

Bodies are paced from when their request arrived (an upload) or their first
byte is sent (a download), so the time the real socket took counts towards
the model's, not on top of it: a body finishes at the later of the two.
:func:`ideal_upload_time` and :func:`ideal_download_time` are the transfer
counterparts of :func:`ideal_copy_time`.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from cos_provider.emulator.ratelimit import RateLimiter, RateLimitSettings


@dataclass(frozen=True)
class ModelSettings:
    latency: float = 0.0
    copy_bandwidth: float | None = None
    aggregate_bandwidth: float | None = None
    transfer_bandwidth: float | None = None
    transfer_aggregate_bandwidth: float | None = None
    restore_expedited: float = 60.0
    restore_standard: float = 3 * 3600.0
    restore_bulk: float = 5 * 3600.0
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
        for name in ("restore_expedited", "restore_standard", "restore_bulk"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0 seconds")
        for name in (
            "copy_bandwidth",
            "aggregate_bandwidth",
            "transfer_bandwidth",
            "transfer_aggregate_bandwidth",
        ):
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
        self._pipe_free = {"copy": 0.0, "transfer": 0.0}
        self.rate_limiter = RateLimiter(self.settings.rate_limits, clock=clock)

    def update(self, settings: ModelSettings) -> None:
        with self._lock:
            self.settings = settings
            self._pipe_free = {"copy": 0.0, "transfer": 0.0}
        self.rate_limiter.update(settings.rate_limits)

    def admit(self, bucket: str | None) -> bool:
        """May a request to ``bucket`` run now, or is it over the bucket's rate limit (503 SlowDown)?"""
        return self.rate_limiter.admit(bucket)

    def copy_finish(self, nbytes: int, now: float) -> float:
        """When a copy of ``nbytes`` started at ``now`` finishes (reserves the pipe)."""
        s = self.settings
        return self._finish("copy", nbytes, now, s.copy_bandwidth, s.aggregate_bandwidth)

    def transfer(self, nbytes: int) -> None:
        """Block for the copy time of ``nbytes`` (not the base latency)."""
        s = self.settings
        if not (s.copy_bandwidth or s.aggregate_bandwidth) or nbytes <= 0:
            return
        now = self._clock()
        wait = self.copy_finish(nbytes, now) - now
        if wait > 0:
            self._sleep(wait)

    def body_finish(self, nbytes: int, start: float) -> float:
        """When a body of ``nbytes`` whose transfer began at ``start`` is through (reserves the transfer pipe)."""
        s = self.settings
        return self._finish("transfer", nbytes, start, s.transfer_bandwidth, s.transfer_aggregate_bandwidth)

    def _finish(self, pipe: str, nbytes: int, start: float, own: float | None, shared: float | None) -> float:
        """``own`` bytes/s for this request alone; ``shared`` bytes/s for all that use ``pipe``, in turn."""
        finish = start
        if own:
            finish = start + nbytes / own
        if shared:
            with self._lock:
                begin = max(start, self._pipe_free[pipe])
                self._pipe_free[pipe] = begin + nbytes / shared
                finish = max(finish, self._pipe_free[pipe])
        return finish

    def receive(self, nbytes: int, since: float) -> None:
        """Block until a received body of ``nbytes``, arriving since ``since``, is through the model."""
        s = self.settings
        if not (s.transfer_bandwidth or s.transfer_aggregate_bandwidth) or nbytes <= 0:
            return
        wait = self.body_finish(nbytes, since) - self._clock()
        if wait > 0:
            self._sleep(wait)

    def send(self, chunks: Iterator[bytes], nbytes: int) -> Iterator[bytes]:
        """``chunks`` (``nbytes`` in all) released no faster than the model sends them.

        Each chunk waits until its share of the body's modelled time has
        passed, so the client receives a steady stream (and can checksum and
        write while the rest is "on the wire") rather than one late burst.
        """
        s = self.settings
        if not (s.transfer_bandwidth or s.transfer_aggregate_bandwidth) or nbytes <= 0:
            yield from chunks
            return
        start = self._clock()
        span = self.body_finish(nbytes, start) - start
        sent = 0
        for chunk in chunks:
            sent += len(chunk)
            wait = start + span * min(1.0, sent / nbytes) - self._clock()
            if wait > 0:
                self._sleep(wait)
            yield chunk

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
    return _ideal_time(
        part_sizes,
        concurrency,
        settings.latency,
        settings.copy_bandwidth,
        settings.aggregate_bandwidth,
        extra_requests,
    )


def ideal_upload_time(
    part_sizes: Sequence[int],
    concurrency: int,
    settings: ModelSettings,
    *,
    extra_requests: int = 2,
) -> float:
    """Lower bound on the wall time of uploading ``part_sizes`` (PUT or Upload Part bodies).

    As :func:`ideal_copy_time`, with the transfer bandwidths. One PUT Object
    is ``[size]`` with ``extra_requests=0``; a multipart upload has Initiate
    and Complete (pass 3 if a resume witness part is written too).
    """
    return _ideal_time(
        part_sizes,
        concurrency,
        settings.latency,
        settings.transfer_bandwidth,
        settings.transfer_aggregate_bandwidth,
        extra_requests,
    )


def ideal_download_time(
    range_sizes: Sequence[int],
    concurrency: int,
    settings: ModelSettings,
    *,
    extra_requests: int = 1,
) -> float:
    """Lower bound on the wall time of ranged GETs of ``range_sizes``, ``concurrency`` at a time.

    ``extra_requests`` is the HEAD that reads the size and ETag first.
    """
    return _ideal_time(
        range_sizes,
        concurrency,
        settings.latency,
        settings.transfer_bandwidth,
        settings.transfer_aggregate_bandwidth,
        extra_requests,
    )


def _ideal_time(
    part_sizes: Sequence[int],
    concurrency: int,
    lat: float,
    bandwidth: float | None,
    aggregate: float | None,
    extra_requests: int,
) -> float:
    if concurrency < 1:
        raise ValueError("concurrency must be >= 1")
    workers = [0.0] * min(concurrency, max(1, len(part_sizes)))
    heapq.heapify(workers)
    for size in part_sizes:
        start = heapq.heappop(workers)
        duration = lat + (size / bandwidth if bandwidth else 0.0)
        heapq.heappush(workers, start + duration)
    makespan = max(workers) if part_sizes else 0.0
    if aggregate:
        makespan = max(makespan, lat + sum(part_sizes) / aggregate)
    return makespan + extra_requests * lat
