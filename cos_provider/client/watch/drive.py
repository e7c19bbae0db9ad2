"""Plans and the two drivers that run them: one verdict, whichever client does the I/O.

A sensor in poke or reschedule mode and its trigger in the triggerer must
reach the same verdict from the same bucket state. So a watch does no I/O: its
``plan()`` generator yields COS calls (built by
:mod:`cos_provider.client.operations`), receives their results or has their
errors thrown in, and returns an :class:`Outcome`. :func:`run_sync` answers
the calls with the blocking client (``poke()``), :func:`run_async` with the
async client (``trigger.run()``); nothing else differs between the modes.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from cos_provider.client.errors import CosError
from cos_provider.client.protocol import Call

if TYPE_CHECKING:
    from cos_provider.client.aio import AsyncCosClient
    from cos_provider.client.client import CosClient


@dataclass(frozen=True)
class Batch:
    """Calls a plan needs together: run concurrently by the async driver.

    The plan receives a list with, per call, its result or the
    :class:`CosError` it raised, so that one missing key does not cancel its
    siblings.
    """

    calls: tuple[Call[Any], ...]


@dataclass
class Outcome:
    """The verdict of one poke."""

    done: bool
    xcom: Any = None
    """What the sensor pushes when done (JSON-serialisable)."""
    state: dict[str, Any] | None = None
    """What the next poke needs to know (prefix inactivity); JSON-serialisable."""
    reason: str = ""
    """Why it is not done yet, for the log."""


Step = Call[Any] | Batch
Plan = Generator[Step, Any, Outcome]


class Watch(Protocol):
    """Anything that can plan one poke.

    ``verified`` maps buckets known to exist to when they were checked (the
    plan may update it); ``state`` is the previous poke's
    :attr:`Outcome.state`; ``now`` is epoch seconds from the caller's clock.
    """

    def plan(
        self,
        app_id: str | None,
        verified: dict[str, float],
        state: Mapping[str, Any] | None = None,
        now: float = 0.0,
    ) -> Plan: ...


def run_sync(plan: Plan, client: CosClient) -> Outcome:
    """Drive ``plan`` with the blocking client; a batch runs call after call."""
    try:
        step = next(plan)
        while True:
            if isinstance(step, Batch):
                results: list[Any] = []
                for call in step.calls:
                    try:
                        results.append(client.execute(call))
                    except CosError as exc:
                        results.append(exc)
                step = plan.send(results)
                continue
            try:
                result = client.execute(step)
            except CosError as exc:
                step = plan.throw(exc)
            else:
                step = plan.send(result)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


async def run_async(plan: Plan, client: AsyncCosClient, concurrency: int = 8) -> Outcome:
    """Drive ``plan`` with the async client; a batch runs ``concurrency`` calls at a time."""
    try:
        step = next(plan)
        while True:
            if isinstance(step, Batch):
                step = plan.send(await client.execute_many(step.calls, concurrency=concurrency))
                continue
            try:
                result = await client.execute(step)
            except CosError as exc:
                step = plan.throw(exc)
            else:
                step = plan.send(result)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


__all__ = ["Batch", "Outcome", "Plan", "Step", "Watch", "run_async", "run_sync"]
