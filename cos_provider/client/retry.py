"""When to retry and how long to wait, shared by the sync and async transports.

Built on tenacity (already installed with Airflow) rather than a hand-rolled
loop: ``wait_random_exponential`` is exactly exponential backoff with full
jitter, and tenacity has a sync and an async driver over the same policy.
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass
from typing import Any

import tenacity

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
    """

    max_attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 20.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("delays must not be negative")

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
        log.warning(
            "COS %s failed (attempt %d of %d): %s; retrying in %.2fs",
            what,
            state.attempt_number,
            self.max_attempts,
            exc,
            delay,
        )

    def _kwargs(self) -> dict[str, Any]:
        return {
            "stop": tenacity.stop_after_attempt(self.max_attempts),
            "wait": tenacity.wait_random_exponential(multiplier=self.base_delay, max=self.max_delay),
            "retry": tenacity.retry_if_exception(self.is_retryable),
            "reraise": True,
            "before_sleep": self._before_sleep,
        }

    def retrying(self) -> tenacity.Retrying:
        return tenacity.Retrying(**self._kwargs())

    def async_retrying(self) -> tenacity.AsyncRetrying:
        return tenacity.AsyncRetrying(**self._kwargs())
