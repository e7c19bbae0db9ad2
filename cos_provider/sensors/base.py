"""What the COS sensors share so that poke, reschedule and deferrable mode behave alike.

How the modes are kept identical:

* **One verdict.** ``poke()`` runs the trigger class's own watch
  (:meth:`CosPollingTrigger.make_watch`) on the sync client; the trigger runs the
  same watch on the async client, built from the same JSON parameters.
* **One deadline, Airflow's cadence.** In poke and reschedule mode
  ``BaseSensorOperator`` itself waits between pokes and enforces ``timeout``,
  from the public ``poke_interval``, ``exponential_backoff`` and ``max_wait``;
  these sensors do not touch that machinery. Deferrable mode pokes once in the
  worker, then hands the trigger the same parameters, the poke count and the
  time of that first poke: the trigger enforces the same ``timeout`` counted
  from the same instant, and waits ``poke_interval`` between polls (with
  backoff, our own documented rule: :meth:`~cos_provider.client.watch.Timing.next_wait`).
* **One decision.** ``check_fn`` and the XCom are applied in the worker in every
  mode (``poke()`` or ``execute_complete()``), through one signature inspection
  (:func:`~cos_provider.client.watch.call_check_fn`). If ``check_fn`` says no
  after a deferral, the sensor defers again.
* **One error policy.** Errors are classified once
  (:func:`~cos_provider.client.watch.classify`, and
  :func:`~cos_provider.client.watch.unusable_connection` before the first
  request). Bad credentials, missing buckets and other errors that waiting
  cannot fix raise ``AirflowFailException`` at once (no retries, no waiting
  out the timeout); transient errors that outlived the client's retries fail
  the poke like any task error. ``soft_fail`` (and ``never_fail``) turn
  timeouts *and* errors into a skip, and ``silent_fail`` keeps polling through
  transient errors, in all modes.
"""

from __future__ import annotations

import traceback
from abc import abstractmethod
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from airflow.providers.common.compat.sdk import (
    AirflowException,
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    AirflowTaskTimeout,
    BaseSensorOperator,
    PokeReturnValue,
    conf,
)

from cos_provider.client.watch import (
    SYSTEM_CLOCK,
    Clock,
    Outcome,
    Timing,
    WatchError,
    classify,
    run_sync,
    unusable_connection,
)
from cos_provider.hooks.cos import CosHook
from cos_provider.links.cos import CosConsoleLinkMixin
from cos_provider.triggers.cos import CosPollingTrigger

if TYPE_CHECKING:
    from airflow.sdk import Context

TRIGGER_GRACE = 60.0
"""Seconds the framework's deferral timeout allows beyond the trigger's own last poll."""


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


def _count(result: Any) -> int:
    return len(result) if isinstance(result, list) else 1


class CosBaseSensor(CosConsoleLinkMixin, BaseSensorOperator):
    """Shared machinery of the COS sensors (see the module docstring).

    :param cos_conn_id: Connection id (type ``tencent_cos``).
    :param region: Overrides the connection's region.
    :param deferrable: Defer to the triggerer while waiting. Defaults to
        Airflow's ``[operators] default_deferrable``.
    """

    console_link_fields = (("key", "prefix"), ("bucket",), "region")
    trigger_class: ClassVar[type[CosPollingTrigger]]
    clock: ClassVar[Clock] = SYSTEM_CLOCK
    """Where the first poke's time and the watch's ``now`` come from (a seam for tests)."""
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
            plan = watch.plan(client.app_id, self._verified_buckets, state, self.clock.time())
            outcome = run_sync(plan, client)
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

    @property
    def timing(self) -> Timing:
        """The public cadence parameters, as the trigger receives them."""
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
        self.persist_console_link(context)
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
        started_at = self.clock.time()
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
        elapsed = self.clock.time() - started_at
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
            **timing.to_dict(),
            started_at=started_at,
            poke_count=poke_count,
            silent_fail=self.silent_fail,
            state=state,
            verified_buckets=self._verified_buckets,
            **self.watch_kwargs(context),
        )
        # The trigger enforces the deadline itself (a "timeout" event); the
        # framework's deferral timeout is only a backstop past its last poll.
        self.defer(
            trigger=trigger,
            method_name="execute_complete",
            timeout=timedelta(seconds=max(0.0, self.timeout - elapsed) + timing.overshoot + TRIGGER_GRACE),
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


__all__ = ["TRIGGER_GRACE", "CosBaseSensor", "CosSensorError"]
