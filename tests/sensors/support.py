"""Helpers shared by the sensor and trigger tests: drive a sensor the way
Airflow does in each mode, say what it must push, from the emulator's own
view of an object (not through the client under test), and replace the
clock so that deadlines and waits are arithmetic, not wall time."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.sdk._shared.module_loading import import_string
from airflow.sdk.bases import sensor as airflow_sensor
from airflow.sdk.exceptions import TaskDeferred
from airflow.sdk.serde import deserialize, serialize

from cos_provider.client.watch import Clock
from cos_provider.sensors.base import CosBaseSensor
from cos_provider.sensors.cos import CosObjectSensor
from cos_provider.triggers.cos import CosPollingTrigger

ROOT = Path(__file__).resolve().parents[2]


def fresh_import(module: str) -> list[str]:
    """The ``cos_provider``/``airflow`` modules a new interpreter loads with ``import module``.

    Run from this checkout (an installed copy of the package may be another one).
    """
    code = (
        f"import sys, {module}\n"
        "print('\\n'.join(sorted(m for m in sys.modules if m.split('.')[0] in ('airflow', 'cos_provider'))))"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


class FakeClock(Clock):
    """A clock moved only by the sensors' and triggers' own waits.

    Installed (by :func:`install_fake_clock`) as the COS sensors' and
    triggers' :attr:`clock`, and as the ``time`` that ``BaseSensorOperator``
    measures poke mode's deadline with and sleeps on: every mode then runs
    on one timeline, a wait takes no wall time and a deadline is exact
    arithmetic (tests use multiples of 1/8 s, exact in binary). Requests are
    still signed with the real time.

    ``at(t, action)`` runs ``action`` as soon as a wait reaches ``t`` seconds
    after the start, i.e. between the poke before and the poke after ``t``,
    whichever mode is poking: bucket changes happen at the same poke in
    every mode, with no thread and no race.
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.start = self.now = start
        self.sleeps: list[float] = []
        self._due: list[tuple[float, Callable[[], Any]]] = []

    def time(self) -> float:
        return self.now

    @property
    def elapsed(self) -> float:
        return self.now - self.start

    def at(self, offset: float, action: Callable[[], Any]) -> None:
        self._due.append((offset, action))
        self._due.sort(key=lambda item: item[0])

    def advance(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        while self._due and self._due[0][0] <= self.elapsed:
            _, action = self._due.pop(0)
            action()

    async def sleep(self, seconds: float) -> None:
        self.advance(seconds)
        await asyncio.sleep(0)  # still yield to the loop, as a real sleep would


def install_fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(CosBaseSensor, "clock", fake)
    monkeypatch.setattr(CosPollingTrigger, "clock", fake)
    # BaseSensorOperator's poke loop reads time.monotonic() and calls time.sleep().
    monkeypatch.setattr(airflow_sensor, "time", SimpleNamespace(monotonic=fake.time, sleep=fake.advance))
    return fake


WAYS = ["poke", "deferrable"]
"""The modes a test can drive without a metadata DB."""
CONTEXT: dict[str, Any] = {"params": {"p": 1}, "ds": "2024-01-01", "ti": "the-ti"}


def run(way: str, op: Any, context: dict[str, Any] | None = None, log: DeferralLog | None = None) -> Any:
    """Execute ``op`` in ``way``: ``execute()`` in poke mode, with its deferrals played out otherwise."""
    context = dict(CONTEXT if context is None else context)
    if way == "poke":
        return op.execute(context)
    return run_deferrable(op, context, log)


def sensor(way: str, cls: type = CosObjectSensor, **kwargs: Any) -> Any:
    """A COS sensor for ``way``, polling every 0.25 s for up to 30 s unless told otherwise."""
    defaults: dict[str, Any] = {"task_id": "s", "poke_interval": 0.25, "timeout": 30}
    defaults.update(kwargs)
    return cls(deferrable=way == "deferrable", **defaults)


def expected_record(emu: Any, bucket: str, key: str, with_metadata: bool = False) -> dict[str, Any]:
    """What a COS sensor must push about ``bucket/key``, from the emulator's state."""
    head = emu.head(bucket, key)
    assert head is not None, f"{bucket}/{key} does not exist"
    record = {
        "bucket": bucket,
        "key": key,
        "uri": f"cos://{bucket}/{key}",
        "size": head["size"],
        "etag": head["etag"].strip('"'),
        "version_id": head["version_id"],
        # HTTP dates have whole seconds.
        "last_modified": datetime.fromtimestamp(int(head["last_modified"]), tz=timezone.utc).isoformat(),
        "crc64": str(head["crc64"]) if head["crc64"] is not None else None,
        "storage_class": head["storage_class"],
    }
    if with_metadata:
        record["content_type"] = head["content_type"]
        record["metadata"] = head["metadata"]
    return record


def roundtrip_trigger(trigger: Any) -> Any:
    """Rebuild a trigger the way the triggerer does: serialize, encode, decode, import."""
    classpath, kwargs = trigger.serialize()
    decoded = deserialize(serialize(kwargs))
    return import_string(classpath)(**decoded)


async def first_event(trigger: Any) -> Any:
    gen = trigger.run()
    try:
        return await anext(gen)
    finally:
        await gen.aclose()


def run_trigger(trigger: Any) -> dict[str, Any]:
    """Run a trigger in a fresh event loop until its first event; return the payload."""
    event = asyncio.run(first_event(trigger))
    assert event is not None, "trigger ended without an event"
    return deserialize(serialize(event.payload))  # type: ignore[no-any-return]


class DeferralLog:
    def __init__(self) -> None:
        self.deferrals: list[TaskDeferred] = []
        self.events: list[dict[str, Any]] = []


def run_deferrable(op: Any, context: dict[str, Any], log: DeferralLog | None = None, rounds: int = 10) -> Any:
    """Execute ``op`` as the worker and the triggerer would: ``execute``, then for
    every deferral run the (round-tripped) trigger in an event loop and resume
    through ``resume_execution`` (which applies Airflow's own soft_fail rules)."""
    log = log if log is not None else DeferralLog()
    try:
        return op.execute(context)
    except TaskDeferred as exc:
        deferred = exc
    for _ in range(rounds):
        log.deferrals.append(deferred)
        payload = run_trigger(roundtrip_trigger(deferred.trigger))
        log.events.append(payload)
        try:
            return op.resume_execution(deferred.method_name, {"event": payload}, context)
        except TaskDeferred as exc:
            deferred = exc
    raise AssertionError(f"still deferred after {rounds} rounds")


def served(emu: Any, operation: str) -> int:
    """Requests of ``operation`` the emulator has answered so far (any status)."""
    return sum(emu.counters()["requests"].get(operation, {}).values())


class Script:
    """Changes the bucket in step with the sensor, not the clock.

    Each step ``(operation, n, action)`` runs ``action`` once the emulator has
    answered ``n`` more ``operation`` requests than when the previous step
    ran. Tied to pokes rather than to seconds, a scenario plays out the same
    in every mode, however long Airflow takes to start a task.
    """

    def __init__(self, emu: Any, steps: list[tuple[str, int, Callable[[], Any]]]) -> None:
        self.emu = emu
        self.steps = steps
        self.done = 0
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            for operation, n, action in self.steps:
                base = served(self.emu, operation)
                while served(self.emu, operation) < base + n:
                    if self._stop.wait(0.005):
                        return
                action()
                self.done += 1
        except BaseException as exc:  # pragma: no cover - surfaced in __exit__
            self.error = exc

    def __enter__(self) -> Script:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        if self.error is not None:
            raise self.error
