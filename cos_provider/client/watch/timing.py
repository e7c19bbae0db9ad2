"""Poke cadence and deadline, the same in every mode."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any


@dataclass(frozen=True)
class Timing:
    """Poke cadence and deadline, the same in every mode (seconds)."""

    poke_interval: float
    timeout: float
    exponential_backoff: bool = False
    max_wait: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "poke_interval": self.poke_interval,
            "timeout": self.timeout,
            "exponential_backoff": self.exponential_backoff,
            "max_wait": self.max_wait,
        }


def next_poke_interval(
    timing: Timing, *, poke_count: int, elapsed: float, seed: str, estimate_poke_count: bool = False
) -> float:
    """Seconds to wait after poke number ``poke_count``: Airflow's own formula.

    This is ``BaseSensorOperator._get_next_poke_interval`` of Airflow 3.3 as a
    pure function (the COS sensors route that method here, and their triggers
    call it), so poke, reschedule and deferrable modes wait exactly alike.
    ``seed`` is ``"<dag_id>#<task_id>#<started_at>"``, the jitter's hash input.
    In reschedule mode the poke count is estimated from ``elapsed``, as Airflow does.
    """
    if not timing.exponential_backoff:
        return timing.poke_interval

    def backoff(n: int) -> float:
        min_backoff = max(int(timing.poke_interval * (2 ** (n - 2))), 1)
        run_hash = int(hashlib.sha1(f"{seed}#{n}".encode(), usedforsecurity=False).hexdigest(), 16)
        return float(min(min_backoff + run_hash % min_backoff, timedelta.max.total_seconds() - 1))

    if estimate_poke_count:
        cumulative, estimated = 0.0, 0
        while cumulative <= elapsed:
            estimated += 1
            cumulative += backoff(estimated)
        poke_count = estimated or poke_count
    interval = min(timing.timeout - int(elapsed), backoff(poke_count))
    if timing.max_wait:
        interval = min(timing.max_wait, interval)
    return interval


__all__ = ["Timing", "next_poke_interval"]
