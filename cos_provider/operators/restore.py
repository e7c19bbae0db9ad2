"""Restore archived objects (:meth:`CosHook.restore_objects
<cos_provider.hooks.cos.CosHook.restore_objects>` as a task), and ``restore_first`` for the copy operators.

Both wait, when they wait, by deferring to
:class:`~cos_provider.triggers.restore.CosObjectRestoredTrigger`: a restore
takes minutes (Expedited) to 48 hours (DEEP_ARCHIVE Bulk), which is no time
to hold a worker slot.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from cos_provider.client.errors import CosValidationError
from cos_provider.client.params import positive_seconds
from cos_provider.client.restore import IN_PROGRESS, validate_days, validate_tier
from cos_provider.client.validation import validate_bool
from cos_provider.client.watch import SYSTEM_CLOCK, WatchError
from cos_provider.hooks.restore import DEFAULT_RESTORE_CONCURRENCY
from cos_provider.operators.base import CosBaseOperator
from cos_provider.triggers.cos import DEFAULT_TIMEOUT
from cos_provider.triggers.restore import RESTORE_POKE_INTERVAL, CosObjectRestoredTrigger

if TYPE_CHECKING:
    from airflow.sdk import Context

    from cos_provider.hooks.cos import CosHook

REQUESTED_XCOM = "restore_requested"
"""The URIs whose restore a deferred :class:`CosRestoreObjectOperator` started (read on resume)."""
GRACE = 60.0
"""Seconds the framework's deferral timeout allows beyond the trigger's own deadline."""


def _templated(value: Any) -> bool:
    return isinstance(value, str) and "{{" in value


def check_restore_params(days: Any, tier: Any, days_field: str = "days", tier_field: str = "tier") -> None:
    """At DAG parse time, what is not a template; the rest is checked in ``execute``."""
    if not _templated(days):
        validate_days(days, days_field)
    if not _templated(tier):
        validate_tier(tier, tier_field)


def counts(records: Sequence[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in records:
        out[r["status"]] = out.get(r["status"], 0) + 1
    return out


def restore_trigger(
    op: Any, uris: Sequence[str], poke_interval: float, timeout: float, region: str | None
) -> CosObjectRestoredTrigger:
    """The trigger that waits until ``uris`` are readable (the same watch as the sensor)."""
    return CosObjectRestoredTrigger(
        cos_conn_id=op.cos_conn_id,
        region=region,
        poke_interval=poke_interval,
        timeout=timeout,
        started_at=SYSTEM_CLOCK.time(),
        poke_count=0,
        targets=list(uris),
    )


def restored_records(event: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The records of a restore trigger's success event; its error or timeout raised."""
    if not event:
        raise AirflowException("the COS restore trigger returned no event")
    status = event.get("status")
    if status == "error":
        error = WatchError.from_event(event)
        raise (AirflowFailException if error.fail_fast else AirflowException)(error.message)
    if status == "timeout":
        raise AirflowException(f"Restore did not finish in time: {event.get('message', '')}")
    if status != "success":
        raise AirflowException(f"Unexpected event from the COS restore trigger: {event!r}")
    result: Any = event.get("result")
    return list(result) if isinstance(result, list) else [result]


class CosRestoreObjectOperator(CosBaseOperator):
    """Restore archived (ARCHIVE, DEEP_ARCHIVE) objects so that they can be read and copied.

    Give ``key`` (a key or ``cos://bucket/key``), or ``bucket`` with exactly one
    of ``keys``, ``prefix`` or ``match_glob`` (the copy operators' glob dialect).

    :param days: Days the restored copy stays readable (1-365). (templated)
    :param tier: ``Expedited`` (ARCHIVE only, minutes), ``Standard`` (hours) or
        ``Bulk`` (cheapest, slowest). (templated)
    :param version_id: Restore this version (with ``key``).
    :param wait_for_completion: Defer until every restore has finished (the
        trigger polls HEAD every ``poke_interval`` seconds, up to ``timeout``).
    :param concurrency: Restore requests in flight (COS allows 100 per second).

    Idempotent: a restore already running is left alone, an object already
    restored is restored again (COS extends its copy to ``days`` from now), an
    object that is not archived is reported and skipped. Returns (XCom)
    ``{"objects": [{bucket, key, uri, version_id, storage_class, status,
    expiry_date, requested}], "counts": {status: n}}``; ``status`` is
    ``restored``, ``in_progress`` or ``not_archived``, ``expiry_date`` the
    ISO 8601 end of the restored copy.
    """

    template_fields: Sequence[str] = (
        "key",
        "bucket",
        "keys",
        "prefix",
        "match_glob",
        "days",
        "tier",
        "version_id",
        "cos_conn_id",
        "region",
    )
    template_fields_renderers = {"keys": "json"}
    ui_color = "#e8daef"

    def __init__(
        self,
        *,
        key: str | None = None,
        bucket: str | None = None,
        keys: Sequence[str] | None = None,
        prefix: str | None = None,
        match_glob: str | None = None,
        days: int = 1,
        tier: str = "Standard",
        version_id: str | None = None,
        wait_for_completion: bool = False,
        poke_interval: float = RESTORE_POKE_INTERVAL,
        timeout: float = DEFAULT_TIMEOUT,
        concurrency: int = DEFAULT_RESTORE_CONCURRENCY,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_restore_params(days, tier)
        validate_bool(wait_for_completion, "wait_for_completion")
        self.key = key
        self.bucket = bucket
        self.keys = keys
        self.prefix = prefix
        self.match_glob = match_glob
        self.days = days
        self.tier = tier
        self.version_id = version_id
        self.wait_for_completion = wait_for_completion
        self.poke_interval = positive_seconds(poke_interval, "poke_interval")
        self.timeout_seconds = positive_seconds(timeout, "timeout")
        self.concurrency = concurrency

    def _restore(self) -> list[dict[str, Any]]:
        selectors = [
            n for n in ("keys", "prefix", "match_glob") if getattr(self, n) not in (None, "", [], ())
        ]
        if self.key is not None:
            if selectors:
                raise CosValidationError(
                    "key", f"give key or one of keys/prefix/match_glob, not key and {selectors[0]}"
                )
            return [
                self.hook.restore_object(
                    self.key, self.bucket, days=self.days, tier=self.tier, version_id=self.version_id
                )
            ]
        if self.version_id is not None:
            raise CosValidationError("version_id", "applies to one key: give key with it")
        if not self.bucket:
            raise CosValidationError("bucket", "is required with keys, prefix or match_glob")
        return self.hook.restore_objects(
            self.bucket,
            keys=self.keys,
            prefix=self.prefix,
            match_glob=self.match_glob,
            days=self.days,
            tier=self.tier,
            concurrency=self.concurrency,
        )

    def execute(self, context: Context) -> dict[str, Any]:
        records = self._restore()
        running = [r for r in records if r["status"] == IN_PROGRESS]
        if self.wait_for_completion and running:
            self.log.info(
                "Deferring until %d restore(s) finish (polling every %.0fs)", len(running), self.poke_interval
            )
            # What this try requested survives the deferral as an XCom (the
            # trigger's event reports every object's state, not who asked).
            requested = [r["uri"] for r in records if r["requested"]]
            context["ti"].xcom_push(key=REQUESTED_XCOM, value=requested)
            self.defer(
                trigger=restore_trigger(
                    self, [r["uri"] for r in records], self.poke_interval, self.timeout_seconds, self.region
                ),
                method_name="execute_complete",
                timeout=timedelta(seconds=self.timeout_seconds + self.poke_interval + GRACE),
            )
        return {"objects": records, "counts": counts(records)}

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        records = restored_records(event)
        ti = context["ti"]
        requested = set(ti.xcom_pull(task_ids=ti.task_id, key=REQUESTED_XCOM, map_indexes=ti.map_index) or ())
        merged = [{**r, "requested": r["uri"] in requested} for r in records]
        self.log.info(
            "Restored: %s",
            ", ".join(f"{r['uri']} until {r['expiry_date']}" for r in merged if r["expiry_date"]),
        )
        return {"objects": merged, "counts": counts(merged)}


class RestoreFirstMixin:
    """``restore_first`` for the copy operators: restore the sources, defer while that runs, then copy.

    :param restore_first: Restore archived sources before copying; the task defers
        (no worker slot held) until every restore has finished, then copies.
    :param restore_days: Days the restored copies stay readable (1-365).
    :param restore_tier: ``Expedited``, ``Standard`` or ``Bulk``.
    :param restore_poke_interval: Seconds between the trigger's HEADs while waiting.

    A copy operator calls :meth:`restore_sources_first` at the top of
    ``execute``; it returns at once without ``restore_first``, or once the
    sources are readable. Sources are the operator's ``source_bucket_key``
    (one object) or its ``source_bucket`` selection (``keys``, ``prefix``,
    ``match_glob``).
    """

    cos_conn_id: str
    region: str | None
    hook: CosHook

    def __init__(
        self,
        *,
        restore_first: bool = False,
        restore_days: int = 1,
        restore_tier: str = "Standard",
        restore_poke_interval: float = RESTORE_POKE_INTERVAL,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        validate_bool(restore_first, "restore_first")
        if restore_first:
            check_restore_params(restore_days, restore_tier, "restore_days", "restore_tier")
        self.restore_first = restore_first
        self.restore_days = restore_days
        self.restore_tier = restore_tier
        self.restore_poke_interval = positive_seconds(restore_poke_interval, "restore_poke_interval")
        self._sources_restored = False

    def _restore_sources(self) -> tuple[list[dict[str, Any]], str | None]:
        days = validate_days(self.restore_days, "restore_days")
        tier = validate_tier(self.restore_tier, "restore_tier")
        s: Any = self
        region = getattr(s, "source_region", None)
        if hasattr(s, "source_bucket_key"):
            record = self.hook.restore_object(
                s.source_bucket_key,
                s.source_bucket_name,
                days=days,
                tier=tier,
                version_id=s.source_version_id,
                region=region,
            )
            return [record], region
        records = self.hook.restore_objects(
            s.source_bucket,
            keys=s.keys,
            prefix=s.prefix,
            match_glob=s.match_glob,
            days=days,
            tier=tier,
            region=region,
        )
        return records, region

    def restore_sources_first(self, context: Context) -> None:
        if not self.restore_first or self._sources_restored:
            return
        records, region = self._restore_sources()
        running = [r for r in records if r["status"] == IN_PROGRESS]
        if not running:
            return
        op: Any = self
        limit = op.execution_timeout
        timeout = limit.total_seconds() if limit else DEFAULT_TIMEOUT
        op.log.info(
            "restore_first: %d source(s) are being restored (%s); deferring, the copy runs when they are readable",
            len(running),
            self.restore_tier,
        )
        op.defer(
            trigger=restore_trigger(
                self, [r["uri"] for r in running], self.restore_poke_interval, timeout, region or self.region
            ),
            method_name="execute_after_restore",
            timeout=timedelta(seconds=timeout + self.restore_poke_interval + GRACE),
        )

    def execute_after_restore(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        records = restored_records(event)
        op: Any = self
        op.log.info("restore_first: %d source(s) restored; copying", len(records))
        self._sources_restored = True
        return op.execute(context)


__all__ = ["CosRestoreObjectOperator", "RestoreFirstMixin", "check_restore_params"]
