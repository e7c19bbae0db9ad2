"""The COS sensors: an object appears, an object is updated, a prefix goes quiet.

Each is a thin Airflow face on a watch (:mod:`cos_provider.client.watch`)
polled through its trigger class; :class:`~cos_provider.sensors.base.CosBaseSensor`
explains how poke, reschedule and deferrable mode are kept alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException

from cos_provider.client.errors import CosValidationError
from cos_provider.client.params import positive_seconds, whole_number
from cos_provider.client.timestamps import to_datetime
from cos_provider.client.validation import validate_bool
from cos_provider.client.watch import call_check_fn, parse_target, parse_targets, validate_check_fn
from cos_provider.sensors.base import CosBaseSensor, CosSensorError
from cos_provider.triggers.cos import (
    CosObjectTrigger,
    CosObjectUpdatedTrigger,
    CosPrefixInactivityTrigger,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

STATE_STORE_KEY = "cos_prefix_inactivity"
"""Where the prefix-inactivity state waits between reschedules (Airflow's task state store)."""


class CosObjectSensor(CosBaseSensor):
    """Wait for one or more objects in COS, then push what was found.

    :param key: A key or ``cos://bucket/key`` URL, or a list of them; every one
        must match. (templated)
    :param bucket: Bucket of plain keys, ``name-appid`` or ``name`` with the
        connection's APPID. (templated)
    :param use_glob: Treat keys containing ``*``, ``?`` or ``[`` as globs: ``*``
        and ``?`` match within one ``/`` segment, ``**`` across segments,
        ``[a-z]``/``[!a]`` are classes. Only the literal prefix before the first
        glob character is listed.
    :param min_size: Objects smaller than this many bytes do not count.
    :param check_fn: ``check_fn(objects)`` or ``check_fn(objects, **context)``
        (or named context entries, ``check_fn(objects, ti)``); the sensor is done
        only when it returns true. Called the same way in every mode.
    :param with_metadata: Also push each object's content type and
        ``x-cos-meta-*`` metadata.

    Pushes (XCom ``return_value``) a list with one dict per matched object:
    ``bucket, key, uri, size, etag (unquoted), version_id, last_modified (ISO 8601),
    crc64 (decimal string), storage_class`` (+ ``content_type, metadata``).
    Pin a later copy to what was seen with
    ``CosCopyObjectOperator(copy_source_if_match="{{ ti.xcom_pull('wait')[0]['etag'] }}")``.
    """

    template_fields: Sequence[str] = ("bucket", "key")
    trigger_class = CosObjectTrigger

    def __init__(
        self,
        *,
        key: str | list[str],
        bucket: str | None = None,
        use_glob: bool = False,
        min_size: int | None = None,
        check_fn: Callable[..., bool] | None = None,
        with_metadata: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if min_size is not None:
            whole_number(min_size, "min_size")
        validate_bool(use_glob, "use_glob")
        validate_bool(with_metadata, "with_metadata")
        validate_check_fn(check_fn)
        self.key = key
        self.bucket = bucket
        self.use_glob = use_glob
        self.min_size = min_size
        self.check_fn = check_fn
        self.with_metadata = with_metadata

    def watch_kwargs(self, context: Context) -> dict[str, Any]:
        targets = parse_targets(self.bucket, self.key, self.use_glob)
        return {
            "targets": [t.uri for t in targets],
            "use_glob": self.use_glob,
            "min_size": self.min_size,
            "with_metadata": self.with_metadata,
        }

    def accept(self, result: Any, context: Context) -> bool:
        if self.check_fn is None:
            return True
        return call_check_fn(self.check_fn, result, context)


class CosObjectUpdatedSensor(CosBaseSensor):
    """Wait until an object is modified after a point in time.

    :param key: Key or ``cos://bucket/key`` URL. (templated)
    :param bucket: Bucket of a plain key. (templated)
    :param timestamp: The point in time: a datetime or ISO 8601 string
        (naive means UTC). (templated)
    :param ts_func: ``ts_func(context) -> datetime``, instead of ``timestamp``.
        Without either, the run's ``data_interval_end`` is used (or, for runs
        without a data interval, its logical date, then ``run_after``). The
        point in time is computed at the first poke of a try (reschedule mode
        computes it at every reschedule, so keep ``ts_func`` deterministic).
    :param with_metadata: Also push content type and ``x-cos-meta-*`` metadata.

    Pushes the object's dict (same fields as :class:`CosObjectSensor`'s items).
    COS reports modification times to the second; "after" is strict.
    """

    template_fields: Sequence[str] = ("bucket", "key", "timestamp")
    trigger_class = CosObjectUpdatedTrigger

    def __init__(
        self,
        *,
        key: str,
        bucket: str | None = None,
        timestamp: datetime | str | None = None,
        ts_func: Callable[[Context], datetime] | None = None,
        with_metadata: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if timestamp is not None and ts_func is not None:
            raise CosValidationError("timestamp/ts_func", "give either timestamp or ts_func, not both")
        validate_bool(with_metadata, "with_metadata")
        self.key = key
        self.bucket = bucket
        self.timestamp = timestamp
        self.ts_func = ts_func
        self.with_metadata = with_metadata
        self._after: datetime | None = None

    def after(self, context: Context) -> datetime:
        """The point in time, fixed at the first poke (as the trigger gets it once)."""
        if self._after is None:
            self._after = self._compute_after(context)
        return self._after

    def _compute_after(self, context: Context) -> datetime:
        if self.timestamp not in (None, ""):
            return to_datetime(self.timestamp)
        if self.ts_func is not None:
            return to_datetime(self.ts_func(context))
        for name in ("data_interval_end", "logical_date"):
            value: Any = context.get(name)
            if value is not None:
                return to_datetime(value)
        dag_run = context.get("dag_run")
        run_after = getattr(dag_run, "run_after", None)
        if run_after is not None:
            return to_datetime(run_after)
        raise ValueError("no timestamp: give timestamp or ts_func (this run has no data interval)")

    def watch_kwargs(self, context: Context) -> dict[str, Any]:
        return {
            "target": parse_target(self.bucket, self.key).uri,
            "after": self.after(context).isoformat(),
            "with_metadata": self.with_metadata,
        }


class CosPrefixInactivitySensor(CosBaseSensor):
    """Wait until the objects under a prefix stop changing.

    Done when the listing (keys, sizes, ETags) has not changed for
    ``inactivity_period`` seconds and holds at least ``min_objects`` objects.

    :param bucket: The bucket. (templated)
    :param prefix: The prefix to watch. (templated)
    :param inactivity_period: Seconds (or a timedelta) without change.
    :param min_objects: Fewest objects that count as complete.
    :param allow_delete: If true, deletions are activity like any change; if
        false, a deletion fails the sensor.

    Works in poke, reschedule and deferrable modes. The state (last listing,
    time of last change) lives in the sensor during poke mode, in Airflow's
    task state store (``context["task_state_store"]``, Airflow 3.3+) between
    reschedules, keyed by try so that a retry starts afresh, and in the
    trigger while deferred.

    Pushes ``{"bucket", "prefix", "count", "total_size", "keys"}``.
    """

    template_fields: Sequence[str] = ("bucket", "prefix")
    trigger_class = CosPrefixInactivityTrigger

    def __init__(
        self,
        *,
        bucket: str,
        prefix: str,
        inactivity_period: float | timedelta = 60 * 60,
        min_objects: int = 1,
        allow_delete: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.bucket = bucket
        self.prefix = prefix
        self.inactivity_period = positive_seconds(inactivity_period, "inactivity_period")
        self.min_objects = whole_number(min_objects, "min_objects", minimum=1)
        self.allow_delete = validate_bool(allow_delete, "allow_delete")

    def watch_kwargs(self, context: Context) -> dict[str, Any]:
        return {
            "bucket": self.bucket,
            "prefix": self.prefix,
            "inactivity_period": self.inactivity_period,
            "min_objects": self.min_objects,
            "allow_delete": self.allow_delete,
        }

    def _store(self, context: Context) -> Any:
        store = context.get("task_state_store")
        if store is None:
            raise AirflowFailException(
                "CosPrefixInactivitySensor in reschedule mode needs Airflow 3.3's task state store; "
                "use mode='poke' or deferrable=True on older Airflow"
            )
        return store

    def load_state(self, context: Context) -> dict[str, Any] | None:
        if not self.reschedule or self.deferrable:
            return self._state
        blob = self._store(context).get(STATE_STORE_KEY)
        if isinstance(blob, dict) and blob.get("try") == context["ti"].try_number:
            state = blob.get("state")
            return state if isinstance(state, dict) else None
        return None

    def save_state(self, context: Context, state: dict[str, Any] | None, done: bool) -> None:
        self._state = state
        if not self.reschedule or self.deferrable:
            return
        store = self._store(context)
        if done:
            store.delete(STATE_STORE_KEY)
        elif state is not None:
            store.set(STATE_STORE_KEY, {"try": context["ti"].try_number, "state": state})


__all__ = [
    "CosBaseSensor",
    "CosObjectSensor",
    "CosObjectUpdatedSensor",
    "CosPrefixInactivitySensor",
    "CosSensorError",
]
