"""Deferrable COS triggers: the sensors' poke loop, run in the triggerer's event loop.

Each trigger holds only a connection id and JSON parameters (``serialize()``
never contains a secret). It goes through :class:`~cos_provider.hooks.cos.CosHook`
like every other user of the connection: ``aget_settings()`` resolves the
connection without blocking the loop, through the same connection-to-settings
step as the sensor's ``get_conn()``, and the async client built from those
settings is shared by every trigger of the loop with the same settings
(:func:`~cos_provider.client.aio.shared_client`), so a triggerer running
thousands of triggers on one connection keeps one HTTP pool.

The verdict of each poll is computed by the very same watch
(:mod:`cos_provider.client.watch`) that the sensor's ``poke()`` uses, and
errors are classified by the same function, so a sensor fails, succeeds and
pushes alike whether it pokes, reschedules or defers. The wait between polls
is :meth:`~cos_provider.client.watch.Timing.next_wait`.

Events (``TriggerEvent.payload``), all JSON:

* ``{"status": "success", "result": <what the sensor pushes to XCom>, "state": ...,
  "poke_count": n, "started_at": t}``
* ``{"status": "timeout", "message": ..., "poke_count": n, "started_at": t}`` when the
  sensor's ``timeout`` (counted from its first poke, ``started_at``) has passed;
* ``{"status": "error", "kind": ..., "message": ..., "code": ..., "http_status": ...}``.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import AsyncIterator
from datetime import datetime
from functools import cached_property
from typing import Any, ClassVar

from airflow.triggers.base import BaseTrigger, TriggerEvent

from cos_provider.client.aio import shared_client
from cos_provider.client.timestamps import to_datetime
from cos_provider.client.watch import (
    SYSTEM_CLOCK,
    Clock,
    InactivityWatch,
    ObjectWatch,
    Timing,
    UpdatedWatch,
    Watch,
    classify,
    parse_target,
    parse_targets,
    run_async,
    unusable_connection,
)
from cos_provider.hooks.connection import ConnectionSettings
from cos_provider.hooks.cos import CosHook

DEFAULT_TIMEOUT = 7 * 24 * 3600.0


def _event(payload: dict[str, Any]) -> TriggerEvent:
    return TriggerEvent(payload)  # type: ignore[no-untyped-call]


class CosPollingTrigger(BaseTrigger):
    """Base of the COS triggers: resolve the connection, poll a watch, fire one event.

    :param cos_conn_id: Connection id (type ``tencent_cos``), resolved in the triggerer.
    :param region: Overrides the connection's region.
    :param poke_interval: Seconds between polls (as the sensor's ``poke_interval``).
    :param timeout: Seconds from ``started_at`` after which a ``timeout`` event fires.
    :param exponential_backoff: Double the wait after every poll (see ``Timing.next_wait``).
    :param max_wait: Upper bound of the wait with backoff.
    :param started_at: Epoch seconds of the sensor's first poke (defaults to now).
    :param poke_count: Polls already made (the sensor pokes once before deferring),
        so backoff continues from where the sensor left it.
    :param silent_fail: Like the sensor's: transient errors are logged and polling goes on.
    :param state: What the watch carries from poll to poll (prefix inactivity).
    :param verified_buckets: Buckets known to exist (name -> epoch seconds), from the sensor.
    """

    watch_fields: ClassVar[tuple[str, ...]] = ()
    clock: ClassVar[Clock] = SYSTEM_CLOCK

    def __init__(
        self,
        *,
        cos_conn_id: str = CosHook.default_conn_name,
        region: str | None = None,
        poke_interval: float = 60.0,
        timeout: float = DEFAULT_TIMEOUT,
        exponential_backoff: bool = False,
        max_wait: float | None = None,
        started_at: float | None = None,
        poke_count: int = 1,
        silent_fail: bool = False,
        state: dict[str, Any] | None = None,
        verified_buckets: dict[str, float] | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.cos_conn_id = cos_conn_id
        self.region = region
        self.poke_interval = float(poke_interval)
        self.timeout = float(timeout)
        self.exponential_backoff = bool(exponential_backoff)
        self.max_wait = float(max_wait) if max_wait is not None else None
        self.started_at = float(started_at) if started_at is not None else self.clock.time()
        self.poke_count = int(poke_count)
        self.silent_fail = bool(silent_fail)
        self.state = state
        self.verified_buckets = dict(verified_buckets or {})

    # -- what subclasses define

    def watch_kwargs(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.watch_fields}

    @classmethod
    @abstractmethod
    def make_watch(cls, **watch_kwargs: Any) -> Watch:
        """The watch this trigger polls, from its serialised parameters."""

    # -- serialisation

    @property
    def timing(self) -> Timing:
        return Timing(self.poke_interval, self.timeout, self.exponential_backoff, self.max_wait)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "cos_conn_id": self.cos_conn_id,
            "region": self.region,
            **self.timing.to_dict(),
            "started_at": self.started_at,
            "poke_count": self.poke_count,
            "silent_fail": self.silent_fail,
            "state": self.state,
            "verified_buckets": self.verified_buckets,
        }
        kwargs.update(self.watch_kwargs())
        return f"{type(self).__module__}.{type(self).__qualname__}", kwargs

    # -- the loop

    @cached_property
    def hook(self) -> CosHook:
        """The one way this trigger reaches the connection (built lazily: never on the DAG side)."""
        return CosHook(self.cos_conn_id, region=self.region)

    def _progress(self, poke_count: int, state: dict[str, Any] | None) -> dict[str, Any]:
        return {
            "poke_count": poke_count,
            "started_at": self.started_at,
            "state": state,
            "verified_buckets": self.verified_buckets,
        }

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            watch = self.make_watch(**self.watch_kwargs())
            settings = await self.hook.aget_settings()
        except Exception as exc:
            error = unusable_connection(exc, self.cos_conn_id)
            yield _event({**error.to_event(), **self._progress(self.poke_count, self.state)})
            return

        # The event is yielded only after the shared client is released: a
        # fired trigger may stay suspended until the triggerer closes it.
        payload = await self._poll(watch, settings)
        yield _event(payload)

    async def _poll(self, watch: Watch, settings: ConnectionSettings) -> dict[str, Any]:
        """Poll until done, failed or timed out; return the event's payload."""
        timing, clock = self.timing, self.clock
        poke_count, state = self.poke_count, self.state
        verified = self.verified_buckets
        last_reason = None
        async with shared_client(
            settings.credentials, settings.endpoint, settings.transport, app_id=settings.app_id
        ) as client:
            while True:
                await clock.sleep(timing.next_wait(poke_count, clock.time() - self.started_at))
                poke_count += 1
                plan = watch.plan(client.app_id, verified, state, clock.time())
                try:
                    outcome = await run_async(plan, client)
                except Exception as exc:
                    error = classify(exc, self.cos_conn_id)
                    if error.fail_fast or not self.silent_fail:
                        return {**error.to_event(), **self._progress(poke_count, state)}
                    self.log.warning("COS poll failed; silent_fail is set, polling on: %s", error.message)
                else:
                    if outcome.state is not None:
                        state = outcome.state
                    if outcome.done:
                        return {
                            "status": "success",
                            "result": outcome.xcom,
                            **self._progress(poke_count, state),
                        }
                    if outcome.reason != last_reason:
                        self.log.info("Not yet: %s", outcome.reason)
                        last_reason = outcome.reason
                elapsed = clock.time() - self.started_at
                if elapsed > timing.timeout:
                    return {
                        "status": "timeout",
                        "message": f"Sensor has timed out; run duration of {elapsed} seconds exceeds "
                        f"the specified timeout of {timing.timeout}.",
                        **self._progress(poke_count, state),
                    }


class CosObjectTrigger(CosPollingTrigger):
    """Fires when every target matches an object (see :class:`~cos_provider.sensors.cos.CosObjectSensor`).

    :param targets: ``cos://bucket/key`` URLs (bucket as ``name-appid``, or ``name`` with the
        connection's APPID); with ``use_glob`` the keys may be globs.
    :param min_size: Objects smaller than this many bytes do not count.
    :param with_metadata: Include content type and ``x-cos-meta-*`` in the result.
    """

    watch_fields = ("targets", "use_glob", "min_size", "with_metadata")

    def __init__(
        self,
        *,
        targets: list[str],
        use_glob: bool = False,
        min_size: int | None = None,
        with_metadata: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.targets = list(targets)
        self.use_glob = bool(use_glob)
        self.min_size = min_size
        self.with_metadata = bool(with_metadata)

    @classmethod
    def make_watch(  # type: ignore[override]
        cls, *, targets: list[str], use_glob: bool, min_size: int | None, with_metadata: bool
    ) -> ObjectWatch:
        return ObjectWatch(parse_targets(None, targets, use_glob), min_size, with_metadata)


class CosObjectUpdatedTrigger(CosPollingTrigger):
    """Fires when ``target`` exists and was modified after ``after`` (ISO 8601)."""

    watch_fields = ("target", "after", "with_metadata")

    def __init__(self, *, target: str, after: str, with_metadata: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target = target
        self.after = after
        self.with_metadata = bool(with_metadata)

    @classmethod
    def make_watch(  # type: ignore[override]
        cls, *, target: str, after: str | datetime, with_metadata: bool
    ) -> UpdatedWatch:
        return UpdatedWatch(parse_target(None, target), to_datetime(after), with_metadata)


class CosPrefixInactivityTrigger(CosPollingTrigger):
    """Fires when the objects under ``prefix`` stop changing (see
    :class:`~cos_provider.sensors.cos.CosPrefixInactivitySensor`); ``state`` is the
    listing and last-activity time carried over from the sensor's pokes."""

    watch_fields = ("bucket", "prefix", "inactivity_period", "min_objects", "allow_delete")

    def __init__(
        self,
        *,
        bucket: str,
        prefix: str,
        inactivity_period: float,
        min_objects: int = 1,
        allow_delete: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.bucket = bucket
        self.prefix = prefix
        self.inactivity_period = float(inactivity_period)
        self.min_objects = int(min_objects)
        self.allow_delete = bool(allow_delete)

    @classmethod
    def make_watch(  # type: ignore[override]
        cls, *, bucket: str, prefix: str, inactivity_period: float, min_objects: int, allow_delete: bool
    ) -> InactivityWatch:
        return InactivityWatch(bucket, prefix, float(inactivity_period), int(min_objects), bool(allow_delete))


__all__ = [
    "CosObjectTrigger",
    "CosObjectUpdatedTrigger",
    "CosPollingTrigger",
    "CosPrefixInactivityTrigger",
]
