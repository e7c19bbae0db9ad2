"""The fourth watch: archived objects whose restore has finished.

Shared by :class:`~cos_provider.sensors.restore.CosObjectRestoredSensor`
(poke and reschedule mode), its trigger (deferrable mode) and the operators
that wait for their own restores (``wait_for_completion``, ``restore_first``),
so all of them read ``x-cos-restore`` through one rule
(:func:`cos_provider.client.restore.restore_state`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cos_provider.client.restore import NOT_REQUESTED, OPERATOR_HINT, restore_state
from cos_provider.client.watch.drive import Outcome, Plan
from cos_provider.client.watch.errors import WatchError
from cos_provider.client.watch.steps import found, head_targets
from cos_provider.client.watch.targets import Target


@dataclass(frozen=True)
class RestoreWatch:
    """Done when every target is readable: restored (``ongoing-request="false"``) or not archived.

    A missing object is waited for, like :class:`~.plans.ObjectWatch` does;
    an archived object with no restore requested (or whose restored copy
    expired) fails at once, since waiting cannot fix it.
    """

    targets: tuple[Target, ...]
    single: bool = False
    """Push the one target's record itself rather than a list of one."""

    def plan(
        self,
        app_id: str | None,
        verified: dict[str, float],
        state: Mapping[str, Any] | None = None,
        now: float = 0.0,
    ) -> Plan:
        heads = yield from head_targets(self.targets, app_id)
        waiting: list[str] = []
        records: list[dict[str, Any]] = []
        for target, (ref, result) in zip(self.targets, heads, strict=True):
            if not (yield from found(ref.bucket, result, verified, now)):
                waiting.append(f"{target.uri} (not found)")
                continue
            restore = restore_state(result)
            if restore.status == NOT_REQUESTED:
                raise WatchError(
                    "not_requested",
                    f"{restore.uri} is {restore.storage_class} and no restore is running or done "
                    f"(never requested, or the restored copy expired); {OPERATOR_HINT}",
                )
            if not restore.readable:
                waiting.append(f"{restore.uri} (restore in progress)")
                continue
            records.append(restore.to_dict())
        if waiting:
            return Outcome(False, reason="waiting for " + ", ".join(waiting))
        return Outcome(True, xcom=records[0] if self.single and len(records) == 1 else records)


__all__ = ["RestoreWatch"]
