"""When to retry and how long to wait, shared by the sync and async transports.

Built on tenacity (already installed with Airflow) rather than a hand-rolled
loop: ``wait_random_exponential`` is exactly exponential backoff with full
jitter, and tenacity has a sync and an async driver over the same policy.

Inside a pool of requests (a window, :mod:`~cos_provider.client.adaptive`)
a 503 ``SlowDown`` (or a 429) is not a failure of the request but a signal
to send less: the window's concurrency is lowered, and the request gives its
slot back, waits a backoff
(:func:`~cos_provider.client.adaptive.throttle_delay`) and is resent without
spending one of ``max_attempts``. Only ``throttle_timeout`` seconds of
throttling in a row end it, with the last ``SlowDown`` (and a note saying
how long and how often): a bucket throttled for good still fails, and says
why. Outside a window (one request, a sensor's poke, a trigger's poll) there
is nothing to slow down, so a ``SlowDown`` is an ordinary transient failure
that spends an attempt: the poll comes again anyway.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import tenacity

from cos_provider.client import adaptive
from cos_provider.client.errors import CosError, CosServiceError, CosTransportError

log = logging.getLogger(__name__)


def certificate_failure(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate verification error behind ``exc``, if that is what failed.

    ``requests`` and ``httpx`` each wrap the ``ssl`` error in their own
    exceptions (``requests`` twice, through urllib3's ``MaxRetryError``), so
    this follows causes, contexts, ``reason`` attributes and exception
    arguments until it finds one. Hostname mismatches are verification errors
    too (``ssl.CertificateError`` is the same class).
    """
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return current
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
        todo.extend(e for e in linked if isinstance(e, BaseException))
    return None


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter.

    Attempt ``n`` (0-based) sleeps a uniform random time in
    ``[0, min(max_delay, base_delay * 2**n)]``. Retried: 5xx, 429,
    ``SlowDown``/``InternalError``/``ServiceUnavailable`` whatever the status
    (COS can put them in a 200 body), connection errors and read timeouts.
    Never retried: any other 4xx, which retrying cannot fix, and a server
    certificate that failed verification: neither the certificate nor the
    trusted CAs change between attempts, so a retry would only fail again
    after the backoff (and hide the cause behind a longer wait).
    Throttling (:meth:`is_throttle`) inside a window is resent outside
    ``max_attempts``, for up to ``throttle_timeout`` seconds in a row (see
    the module docstring);
    ``clock`` and ``random`` are there for tests.
    """

    max_attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 20.0
    throttle_timeout: float = 300.0
    """Seconds of ``SlowDown`` answers in a row after which a request fails."""
    throttle_base_delay: float = 0.05
    throttle_max_delay: float = 5.0
    clock: Callable[[], float] = field(default=time.monotonic, compare=False, repr=False)
    random: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if min(self.base_delay, self.max_delay, self.throttle_base_delay, self.throttle_max_delay) < 0:
            raise ValueError("delays must not be negative")
        if self.throttle_timeout < 0:
            raise ValueError("throttle_timeout must not be negative")

    @staticmethod
    def is_throttle(exc: BaseException | None) -> bool:
        """COS asking to slow down: ``SlowDown`` (whatever the status), HTTP 429, or a 503 to a HEAD.

        An answer to HEAD has no body, so its 503 cannot say ``SlowDown``;
        under a rate limit it almost always is, and taking it for an outage
        would spend the attempts of every HEAD of a throttled prefix copy.
        """
        if not isinstance(exc, CosServiceError):
            return False
        bodiless_head = exc.status == 503 and exc.method == "HEAD" and not exc.message
        return exc.code == "SlowDown" or exc.status == 429 or bodiless_head

    @staticmethod
    def is_retryable(exc: BaseException) -> bool:
        if isinstance(exc, CosTransportError):
            return certificate_failure(exc) is None
        if isinstance(exc, CosServiceError):
            return exc.is_transient
        return False

    def _before_sleep(self, state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        what = (exc.cos_request if isinstance(exc, CosError) else "") or "request"
        delay = state.next_action.sleep if state.next_action else 0.0
        if _budget(state).last_throttled:  # routine under a rate limit; the window logs a summary
            log.debug(
                "COS %s: SlowDown (request_id=%s); resending in %.2fs, not counted as an attempt",
                what,
                getattr(exc, "request_id", "") or "-",
                delay,
            )
            return
        log.warning(
            "COS %s failed (attempt %d of %d): %s; retrying in %.2fs",
            what,
            _budget(state).failures(state),
            self.max_attempts,
            exc,
            delay,
        )

    # -- tenacity's hooks; the per-call counts live on the retry state (_budget)

    def _retry(self, state: tenacity.RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        if exc is None or not self.is_retryable(exc):
            return False
        budget = _budget(state)
        permit = adaptive.current_permit()
        throttled = permit is not None and self.is_throttle(exc)
        if throttled:
            if budget.throttled_since is None:
                budget.throttled_since = self.clock()
            budget.in_a_row += 1
            budget.slowdowns += 1
            assert permit is not None
            permit.throttled()
        else:
            budget.in_a_row = 0
            budget.throttled_since = None
        budget.last_throttled = throttled
        return True

    def _stop(self, state: tenacity.RetryCallState) -> bool:
        budget = _budget(state)
        if not budget.last_throttled:
            return budget.failures(state) >= self.max_attempts
        since = budget.throttled_since if budget.throttled_since is not None else self.clock()
        waited = self.clock() - since
        if waited < self.throttle_timeout:
            return False
        exc = state.outcome.exception() if state.outcome else None
        if exc is not None:
            exc.add_note(
                f"COS kept answering SlowDown for {waited:.0f}s ({budget.in_a_row} answers in a row; "
                f"throttle_timeout={self.throttle_timeout:g}s): the bucket's request rate is over its "
                "limit; lower the concurrency or ask Tencent Cloud for a higher limit"
            )
        return True

    def _wait(self, state: tenacity.RetryCallState) -> float:
        budget = _budget(state)
        if budget.last_throttled:
            return adaptive.throttle_delay(
                budget.in_a_row, self.throttle_base_delay, self.throttle_max_delay, self.random
            )
        # Full jitter on the failures alone: throttled resends do not lengthen the backoff.
        step: float = min(self.max_delay, self.base_delay * 2.0 ** max(0, budget.failures(state) - 1))
        return self.random() * step

    def _sleep(self, seconds: float) -> None:
        permit = adaptive.current_permit()
        if permit is not None:
            permit.pause(seconds)  # the slot goes back to the window while this request waits
        else:
            time.sleep(seconds)

    def _kwargs(self) -> dict[str, Any]:
        return {
            "stop": self._stop,
            "wait": self._wait,
            "retry": self._retry,
            "reraise": True,
            "before_sleep": self._before_sleep,
        }

    def retrying(self) -> tenacity.Retrying:
        return tenacity.Retrying(sleep=self._sleep, **self._kwargs())

    def async_retrying(self) -> tenacity.AsyncRetrying:
        return tenacity.AsyncRetrying(sleep=asyncio.sleep, **self._kwargs())


class _Budget:
    """One call's counts: failures spend ``max_attempts``, SlowDowns only ``throttle_timeout``."""

    __slots__ = ("in_a_row", "last_throttled", "slowdowns", "throttled_since")

    def __init__(self) -> None:
        self.slowdowns = 0
        self.in_a_row = 0
        self.last_throttled = False
        self.throttled_since: float | None = None

    def failures(self, state: tenacity.RetryCallState) -> int:
        """Attempts that failed other than by throttling: what ``max_attempts`` counts."""
        return state.attempt_number - self.slowdowns


def _budget(state: tenacity.RetryCallState) -> _Budget:
    budget = getattr(state, "cos_budget", None)
    if budget is None:
        budget = _Budget()
        state.cos_budget = budget  # type: ignore[attr-defined]
    return budget
