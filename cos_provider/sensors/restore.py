"""Wait for archived objects to be restored: HEAD's ``x-cos-restore`` says ``ongoing-request="false"``.

A thin face on :class:`~cos_provider.client.watch.RestoreWatch`, polled
through :class:`~cos_provider.triggers.restore.CosObjectRestoredTrigger`;
:class:`~cos_provider.sensors.base.CosBaseSensor` keeps poke, reschedule and
deferrable mode alike, as for the other COS sensors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cos_provider.client.watch import parse_targets
from cos_provider.sensors.base import CosBaseSensor
from cos_provider.triggers.restore import RESTORE_POKE_INTERVAL, CosObjectRestoredTrigger

if TYPE_CHECKING:
    from airflow.sdk import Context


class CosObjectRestoredSensor(CosBaseSensor):
    """Wait until archived objects are readable: their restore has finished.

    :param key: A key or ``cos://bucket/key`` URL, or a list of them. (templated)
    :param bucket: Bucket of plain keys, ``name-appid`` or ``name`` with the
        connection's APPID. (templated)

    An object that is not archived counts as readable. An archived object with
    no restore running or done (never requested, or its restored copy has
    expired) fails the task at once: start one with
    :class:`~cos_provider.operators.restore.CosRestoreObjectOperator`. A key
    that does not exist yet is waited for.

    Pushes (XCom ``return_value``), for one key, its record, else a list of
    them: ``bucket, key, uri, version_id, storage_class, status``
    (``restored`` or ``not_archived``) and ``expiry_date`` (ISO 8601, when the
    restored copy stops being readable). ``poke_interval`` defaults to 60 s.
    """

    template_fields: Sequence[str] = ("bucket", "key")
    trigger_class = CosObjectRestoredTrigger

    def __init__(
        self,
        *,
        key: str | list[str],
        bucket: str | None = None,
        poke_interval: float = RESTORE_POKE_INTERVAL,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, **kwargs)
        self.key = key
        self.bucket = bucket

    def watch_kwargs(self, context: Context) -> dict[str, Any]:
        targets = parse_targets(self.bucket, self.key)
        return {"targets": [t.uri for t in targets], "single": isinstance(self.key, str)}


__all__ = ["CosObjectRestoredSensor"]
