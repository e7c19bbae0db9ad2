"""When the next poke happens and what time it is, for the parts of the wait we own.

In poke and reschedule mode Airflow's ``BaseSensorOperator`` decides the
wait between pokes from the public ``poke_interval``, ``exponential_backoff``
and ``max_wait`` parameters, and enforces ``timeout``; the COS sensors leave
that to it. Only a deferred sensor waits in our code, in its trigger, and
:meth:`Timing.next_wait` is that rule, stated in our own terms rather than
copied from Airflow's private formula. Both read the same parameters, and
both enforce the same deadline: ``timeout`` seconds after the first poke.

The clock is a seam for the same reason: sensors and triggers read the time
and sleep through a :class:`Clock`, so a test can make deadlines exact
arithmetic and waits instant without patching ``time`` or ``asyncio``.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

MAX_DOUBLINGS = 60
"""Backoff stops doubling here; long before, ``max_wait`` or the deadline bounds the wait."""


@dataclass(frozen=True)
class Timing:
    """A sensor's public cadence parameters (seconds), as its trigger receives them."""

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

    def next_wait(self, poke_count: int, elapsed: float) -> float:
        """Seconds a trigger waits after poke number ``poke_count``, ``elapsed`` seconds after the first.

        * Without ``exponential_backoff``: ``poke_interval``, as in poke mode.
        * With it: ``poke_interval * 2 ** (poke_count - 1)``, so each wait
          doubles the one before, capped by ``max_wait`` (if set and not 0,
          as Airflow reads it).
        * Never beyond the deadline by more than one ``poke_interval``: a
          long backoff is cut to end at the deadline, so the timeout is
          reported no later than poke mode would report it.
        """
        wait = self.poke_interval
        if self.exponential_backoff:
            wait = self.poke_interval * 2.0 ** min(max(poke_count - 1, 0), MAX_DOUBLINGS)
            if self.max_wait:
                wait = min(wait, self.max_wait)
        remaining = self.timeout - elapsed
        return max(0.0, min(wait, max(remaining, self.poke_interval)))

    @property
    def overshoot(self) -> float:
        """The longest a trigger may poll past its deadline before it reports the timeout."""
        return self.poke_interval


class Clock:
    """The time (epoch seconds) and the wait, as sensors and triggers see them."""

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


SYSTEM_CLOCK = Clock()


__all__ = ["SYSTEM_CLOCK", "Clock", "Timing"]
