"""A per-bucket request-rate limit: what makes COS answer 503 ``SlowDown``.

COS throttles a bucket that receives more requests per second than its limit
allows. The emulator models that with one token bucket per COS bucket: it
holds at most ``burst`` tokens, gains ``rate`` tokens a second, and every
request to the bucket takes one; a request that finds no token is answered
503 ``SlowDown`` without running (and takes no token, as a refused request
does no work). Admin calls and GetService (no bucket) are never limited.

Decisions depend only on the clock and the order of arrivals, so a test with
a fake clock (or a rate so low that no token is regained during the test) is
deterministic.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RateLimitSettings:
    """``rate``: requests/s of every bucket (``None``: unlimited); ``buckets``: per-bucket overrides.

    ``burst``: the most tokens a bucket holds, i.e. how many requests may
    arrive at once after a quiet spell; by default a tenth of a second's worth
    (at least 1).
    """

    rate: float | None = None
    burst: float | None = None
    buckets: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.rate is not None and self.rate <= 0:
            raise ValueError("rate_limit must be > 0 or None (unlimited)")
        if self.burst is not None and self.burst < 1:
            raise ValueError("rate_limit_burst must be >= 1 or None (a tenth of a second's worth)")
        for name, rate in self.buckets.items():
            if not isinstance(rate, (int, float)) or rate <= 0:
                raise ValueError(f"bucket_rate_limits[{name!r}] must be a number > 0")

    def rate_of(self, bucket: str) -> float | None:
        return self.buckets.get(bucket, self.rate)

    def burst_of(self, rate: float) -> float:
        return self.burst if self.burst is not None else max(1.0, rate / 10)

    @property
    def enabled(self) -> bool:
        return self.rate is not None or bool(self.buckets)


class _Bucket:
    __slots__ = ("stamp", "tokens")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.tokens = tokens
        self.stamp = stamp


class RateLimiter:
    """Token buckets keyed by COS bucket name; thread-safe; counts the requests it refused."""

    def __init__(self, settings: RateLimitSettings | None = None, *, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.settings = settings or RateLimitSettings()
        self._buckets: dict[str, _Bucket] = {}
        self.refused: dict[str, int] = {}

    def update(self, settings: RateLimitSettings) -> None:
        """New limits; every bucket starts again full (and the refusal counts are kept)."""
        with self._lock:
            self.settings = settings
            self._buckets.clear()

    def reset_counts(self) -> None:
        with self._lock:
            self.refused.clear()

    def admit(self, bucket: str | None) -> bool:
        """Take a token of ``bucket``; ``False`` (and counted) when it has none left."""
        settings = self.settings
        if bucket is None or not settings.enabled:
            return True
        rate = settings.rate_of(bucket)
        if rate is None:
            return True
        burst = settings.burst_of(rate)
        now = self._clock()
        with self._lock:
            state = self._buckets.get(bucket)
            if state is None:
                state = self._buckets[bucket] = _Bucket(burst, now)
            else:
                state.tokens = min(burst, state.tokens + (now - state.stamp) * rate)
                state.stamp = now
            if state.tokens >= 1 - 1e-9:  # float noise of the clock arithmetic
                state.tokens -= 1
                return True
            self.refused[bucket] = self.refused.get(bucket, 0) + 1
            return False

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self.refused)
