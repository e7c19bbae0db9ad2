"""The restore trigger: polls HEAD until every target's ``x-cos-restore`` says it is readable.

One trigger for every deferred wait on a restore: the sensor's deferrable
mode, :class:`~cos_provider.operators.restore.CosRestoreObjectOperator`'s
``wait_for_completion`` and the copy operators' ``restore_first``. It is a
:class:`~cos_provider.triggers.cos.CosPollingTrigger`, so its cadence,
timeout and events are those of the other COS triggers, and its verdict is
:class:`~cos_provider.client.watch.RestoreWatch`'s, the watch ``poke()`` runs.
"""

from __future__ import annotations

from typing import Any

from cos_provider.client.watch import RestoreWatch, parse_targets
from cos_provider.triggers.cos import CosPollingTrigger

RESTORE_POKE_INTERVAL = 60.0
"""Default seconds between restore polls: Expedited takes minutes, the other tiers hours."""


class CosObjectRestoredTrigger(CosPollingTrigger):
    """Fires when every target is restored (or not archived); the result is one record per target.

    :param targets: ``cos://bucket/key`` URLs (bucket as ``name-appid``, or ``name`` with the
        connection's APPID).
    :param single: The result is the one target's record, not a list.
    """

    watch_fields = ("targets", "single")

    def __init__(self, *, targets: list[str], single: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.targets = list(targets)
        self.single = bool(single)

    @classmethod
    def make_watch(cls, *, targets: list[str], single: bool = False) -> RestoreWatch:  # type: ignore[override]
        return RestoreWatch(parse_targets(None, targets), bool(single))


__all__ = ["RESTORE_POKE_INTERVAL", "CosObjectRestoredTrigger"]
