"""COS sensors that behave the same in poke, reschedule and deferrable modes.

How the modes are kept identical:

* **One verdict.** ``poke()`` runs the trigger class's own watch
  (:meth:`CosPollingTrigger.make_watch`) on the sync client; the trigger runs the
  same watch on the async client, built from the same JSON parameters.
* **One cadence.** ``_get_next_poke_interval`` (poke/reschedule) and the trigger
  both call :func:`~cos_provider.client.watch.next_poke_interval` (Airflow's own
  formula, backoff and jitter included). Deferrable mode pokes once in the
  worker, then hands the trigger the poke count and the time of that first
  poke, so the deadline (``timeout``) and every wait are those of poke mode.
* **One decision.** ``check_fn`` and the XCom are applied in the worker in every
  mode (``poke()`` or ``execute_complete()``), through one signature inspection
  (:func:`~cos_provider.client.watch.call_check_fn`). If ``check_fn`` says no
  after a deferral, the sensor defers again.
* **One error policy.** Errors are classified once
  (:func:`~cos_provider.client.watch.classify`, and
  :func:`~cos_provider.client.watch.unusable_connection` before the first
  request), with the advice of :mod:`cos_provider.client.explain`. Bad credentials, missing
  buckets and other errors that waiting cannot fix raise
  ``AirflowFailException`` at once (no retries, no waiting out the timeout);
  transient errors that outlived the client's retries fail the poke like any
  task error. ``soft_fail`` (and ``never_fail``) turn timeouts *and* errors into
  a skip, and ``silent_fail`` keeps polling through transient errors, in all modes.
"""

from __future__ import annotations

import time
import traceback
from abc import abstractmethod
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from airflow.sdk.bases.sensor import BaseSensorOperator, PokeReturnValue
from airflow.sdk.configuration import conf
from airflow.sdk.exceptions import (
    AirflowException,
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    AirflowTaskTimeout,
)

from cos_provider.client.timestamps import to_datetime
from cos_provider.client.watch import (
    Outcome,
    Timing,
    WatchError,
    call_check_fn,
    classify,
    next_poke_interval,
    parse_target,
    parse_targets,
    run_sync,
    unusable_connection,
    validate_check_fn,
)
from cos_provider.hooks.cos import CosHook
from cos_provider.triggers.cos import (
    CosObjectTrigger,
    CosObjectUpdatedTrigger,
    CosPollingTrigger,
    CosPrefixInactivityTrigger,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

STATE_STORE_KEY = "cos_prefix_inactivity"
TRIGGER_GRACE = 60.0
"""Seconds the framework's deferral timeout allows beyond the trigger's own deadline."""


class CosSensorError(AirflowException):
    """A poke failed for a reason that may pass (COS or the network kept failing)."""

    def __init__(self, error: WatchError) -> None:
        self.kind = error.kind
        self.code = error.code
        self.http_status = error.http_status
        super().__init__(error.message)


def _exception(error: WatchError) -> AirflowException:
    """The exception a classified error raises, whatever the mode."""
    if error.fail_fast:
        return AirflowFailException(error.message)
    return CosSensorError(error)


class CosBaseSensor(BaseSensorOperator):
    """Shared machinery of the COS sensors (see the module docstring).

    :param cos_conn_id: Connection id (type ``tencent_cos``).
    :param region: Overrides the connection's region.
    :param deferrable: Defer to the triggerer while waiting. Defaults to
        Airflow's ``[operators] default_deferrable``.
    """

    trigger_class: ClassVar[type[CosPollingTrigger]]
    ui_color = "#dbe9ff"

    def __init__(
        self,
        *,
        cos_conn_id: str = CosHook.default_conn_name,
        region: str | None = None,
        deferrable: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.cos_conn_id = cos_conn_id
        self.region = region
        if deferrable is None:
            deferrable = conf.getboolean("operators", "default_deferrable", fallback=False)
        self.deferrable = deferrable
        self._verified_buckets: dict[str, float] = {}
        self._state: dict[str, Any] | None = None

    @cached_property
    def hook(self) -> CosHook:
        return CosHook(self.cos_conn_id, region=self.region)

    # ------------------------------------------------------------ per sensor

    @abstractmethod
    def watch_kwargs(self, context: Context) -> dict[str, Any]:
        """The trigger's watch parameters, computed from the rendered fields."""

    def accept(self, result: Any, context: Context) -> bool:
        """Final say on a result the watch found (``check_fn``); the same in every mode."""
        return True

    def load_state(self, context: Context) -> dict[str, Any] | None:
        return self._state

    def save_state(self, context: Context, state: dict[str, Any] | None, done: bool) -> None:
        self._state = state

    # ------------------------------------------------------------ poke

    def evaluate(self, context: Context) -> Outcome:
        """Run the watch once on the sync client; raise the classified error on failure."""
        try:
            watch = self.trigger_class.make_watch(**self.watch_kwargs(context))
            client = self.hook.get_conn()
        except Exception as exc:
            raise _exception(unusable_connection(exc, self.cos_conn_id)) from exc
        state = self.load_state(context)
        try:
            outcome = run_sync(watch.plan(client.app_id, self._verified_buckets, state, time.time()), client)
        except Exception as exc:
            if isinstance(exc, AirflowException):
                raise
            raise _exception(classify(exc, self.cos_conn_id)) from exc
        self.save_state(context, outcome.state, outcome.done)
        return outcome

    def poke(self, context: Context) -> bool | PokeReturnValue:
        outcome = self.evaluate(context)
        if not outcome.done:
            self.log.info("Not yet: %s", outcome.reason)
            return False
        if not self.accept(outcome.xcom, context):
            self.log.info("check_fn returned False for %d object(s); waiting", _count(outcome.xcom))
            return False
        return PokeReturnValue(is_done=True, xcom_value=outcome.xcom)

    def _get_next_poke_interval(
        self,
        started_at: datetime | float,
        run_duration: Callable[[], float],
        poke_count: int,
    ) -> float:
        interval = next_poke_interval(
            self.timing,
            poke_count=poke_count,
            elapsed=run_duration(),
            seed=f"{self.dag_id}#{self.task_id}#{started_at}",
            estimate_poke_count=self.reschedule,
        )
        if self.exponential_backoff:
            self.log.info("new %s interval is %s", self.mode, interval)
        return interval

    @property
    def timing(self) -> Timing:
        return Timing(
            self.poke_interval,
            self.timeout,
            self.exponential_backoff,
            self.max_wait.total_seconds() if self.max_wait else None,
        )

    # ------------------------------------------------------------ execute

    def _skip_or_raise(self, exc: BaseException) -> NoReturn:
        if self.soft_fail:
            raise AirflowSkipException(f"Skipping due to soft_fail is set to True ({exc})") from exc
        if self.never_fail:
            raise AirflowSkipException(f"Skipping due to never_fail is set to True ({exc})") from exc
        raise exc

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            try:
                return super().execute(context)
            except CosSensorError as exc:  # BaseSensorOperator applies soft_fail to timeouts only
                self._skip_or_raise(exc)
            except AirflowSkipException as exc:
                cause = exc.__cause__
                if cause is not None and str(cause) not in str(exc):  # say why, as in deferrable mode
                    raise AirflowSkipException(f"{str(exc).rstrip('.')} ({cause})") from cause
                raise
        started_at = time.time()
        result = self._first_poke(context)
        if result:
            self.log.info("Success criteria met. Exiting.")
            return result.xcom_value if isinstance(result, PokeReturnValue) else None
        self._defer_or_time_out(context, started_at=started_at, poke_count=1, state=self._state)

    def _first_poke(self, context: Context) -> bool | PokeReturnValue:
        """One poke with the exception handling of ``BaseSensorOperator.execute``'s loop."""
        try:
            return self.poke(context)
        except (AirflowSensorTimeout, AirflowTaskTimeout, AirflowFailException) as exc:
            self._skip_or_raise(exc)
        except AirflowSkipException:
            raise
        except Exception as exc:
            if self.silent_fail:
                self.log.error("Sensor poke failed: \n %s", traceback.format_exc())
                return False
            if isinstance(exc, CosSensorError) or self.never_fail:
                self._skip_or_raise(exc)
            raise

    def _defer_or_time_out(
        self, context: Context, *, started_at: float, poke_count: int, state: dict[str, Any] | None
    ) -> NoReturn:
        elapsed = time.time() - started_at
        if elapsed > self.timeout:
            self._skip_or_raise(
                AirflowSensorTimeout(
                    f"Sensor has timed out; run duration of {elapsed} seconds exceeds "
                    f"the specified timeout of {self.timeout}."
                )
            )
        timing = self.timing
        trigger = self.trigger_class(
            cos_conn_id=self.cos_conn_id,
            region=self.region,
            poke_interval=timing.poke_interval,
            timeout=timing.timeout,
            exponential_backoff=timing.exponential_backoff,
            max_wait=timing.max_wait,
            started_at=started_at,
            poke_count=poke_count,
            jitter_seed=f"{self.dag_id}#{self.task_id}#{started_at}",
            silent_fail=self.silent_fail,
            state=state,
            verified_buckets=self._verified_buckets,
            **self.watch_kwargs(context),
        )
        # The trigger enforces the deadline itself (a "timeout" event); the
        # framework's deferral timeout is only a backstop past it.
        slack = (1.0 if timing.exponential_backoff else timing.poke_interval) + TRIGGER_GRACE
        self.defer(
            trigger=trigger,
            method_name="execute_complete",
            timeout=timedelta(seconds=max(0.0, self.timeout - elapsed) + slack),
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        """Resume after the trigger fired: the same decision and XCom as ``poke()``."""
        if not event:
            raise AirflowException("COS trigger returned no event")
        status = event.get("status")
        if status == "error":
            self._skip_or_raise(_exception(WatchError.from_event(event)))
        if status == "timeout":
            self._skip_or_raise(AirflowSensorTimeout(str(event.get("message", "Sensor has timed out"))))
        if status != "success":
            raise AirflowException(f"Unexpected event from the COS trigger: {event!r}")
        self._verified_buckets.update(event.get("verified_buckets") or {})
        result = event.get("result")
        try:
            accepted = self.accept(result, context)
        except Exception as exc:
            if not self.silent_fail:
                if self.never_fail:
                    self._skip_or_raise(exc)
                raise
            self.log.error("Sensor poke failed: \n %s", traceback.format_exc())
            accepted = False
        if accepted:
            self.save_state(context, event.get("state"), True)
            self.log.info("Success criteria met. Exiting.")
            return result
        self.log.info("check_fn returned False for %d object(s); deferring again", _count(result))
        self._defer_or_time_out(
            context,
            started_at=float(event["started_at"]),
            poke_count=int(event["poke_count"]),
            state=event.get("state"),
        )


def _count(result: Any) -> int:
    return len(result) if isinstance(result, list) else 1


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
        if min_size is not None and (not isinstance(min_size, int) or min_size < 0):
            raise ValueError(f"min_size must be a non-negative integer, got {min_size!r}")
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
            raise ValueError("give either timestamp or ts_func, not both")
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
        if isinstance(inactivity_period, timedelta):
            inactivity_period = inactivity_period.total_seconds()
        if inactivity_period < 0:
            raise ValueError("inactivity_period must not be negative")
        if min_objects < 0:
            raise ValueError("min_objects must not be negative")
        self.bucket = bucket
        self.prefix = prefix
        self.inactivity_period = float(inactivity_period)
        self.min_objects = min_objects
        self.allow_delete = allow_delete

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
