"""``CosObjectSensor(deferrable=True)`` over HTTPS: the worker's poke on the sync client,
the trigger's polls on the async one, both verifying the emulator against the CA of the
connection's ``verify`` path.

Only public API is used: the trigger is the one the sensor defers with, rebuilt from
its ``serialize()`` the way the triggerer does, run to its first event, and handed
back through ``resume_execution`` as Airflow does.
"""

from __future__ import annotations

import asyncio
import importlib
import threading
from typing import Any

import pytest
from airflow.sdk.exceptions import TaskDeferred

from cos_provider.emulator import CosEmulator
from cos_provider.emulator.tls import ConnectionStats
from cos_provider.sensors.cos import CosObjectSensor
from tests.airflow_support import run_dag, task_states, xcom
from tests.conftest import SRC_BUCKET
from tests.tls.dags import tls_sensor
from tests.tls.support import all_over_tls, answered, vhost

CONTEXT: dict[str, Any] = {"params": {}, "ds": "2024-01-01", "ti": None}


def rebuilt(trigger: Any) -> Any:
    """The trigger as the triggerer builds it: from its classpath and serialized kwargs."""
    classpath, kwargs = trigger.serialize()
    module, _, name = classpath.rpartition(".")
    return getattr(importlib.import_module(module), name)(**kwargs)


async def first_event(trigger: Any) -> Any:
    events = trigger.run()
    try:
        return await anext(events)
    finally:
        await events.aclose()


def assert_found(result: Any, emu: CosEmulator, key: str) -> None:
    head = emu.head(SRC_BUCKET, key)
    assert head is not None
    (record,) = result
    assert record["uri"] == f"cos://{SRC_BUCKET}/{key}"
    assert (record["size"], record["etag"], record["crc64"]) == (
        head["size"],
        head["etag"].strip('"'),
        str(head["crc64"]),
    )


def test_deferrable_sensor_trigger_over_https(
    cos: CosEmulator, cos_connection: str, tls: ConnectionStats
) -> None:
    key = "arrivals/direct.csv"
    sensor = CosObjectSensor(
        task_id="wait", bucket=SRC_BUCKET, key=key, deferrable=True, poke_interval=0.05, timeout=30
    )
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(dict(CONTEXT))
    assert answered(cos, "HeadObject", "404") == 1  # the worker's poke, over HTTPS
    assert all_over_tls(tls)["tls_server_names"] == {vhost(SRC_BUCKET): 1}

    tls.reset()
    cos.put_object(SRC_BUCKET, key, b"id\n1\n")
    event = asyncio.run(first_event(rebuilt(deferred.value.trigger)))
    assert event.payload["status"] == "success", event.payload
    result = sensor.resume_execution(deferred.value.method_name, {"event": event.payload}, dict(CONTEXT))

    assert_found(result, cos, key)
    assert answered(cos, "HeadObject", "200") == 1  # the trigger's poll, over HTTPS
    snap = all_over_tls(tls)  # the trigger's own (async) connection, verified
    assert snap["tls_server_names"] == {vhost(SRC_BUCKET): 1}


@pytest.mark.airflow_db
def test_deferrable_sensor_in_a_dag_run_over_https(
    airflow_db: None, cos: CosEmulator, cos_connection: str, tls: ConnectionStats
) -> None:
    """``dag.test()``: the task pokes, defers, and its trigger runs in the same process.
    The object arrives once the worker's poke and the trigger's first poll have both
    missed it (two 404s), so the run must have gone through the trigger."""
    done = threading.Event()

    def arrive() -> None:
        missed_twice = tls.wait_for(
            lambda: done.is_set() or answered(cos, "HeadObject", "404") >= 2, timeout=120
        )
        if missed_twice and not done.is_set():
            cos.put_object(SRC_BUCKET, tls_sensor.KEY, b"id\n1\n2\n")

    thread = threading.Thread(target=arrive, daemon=True)
    thread.start()
    try:
        dag_run = run_dag("tls_deferrable_sensor")
    finally:
        done.set()
        tls.notify()
        thread.join(timeout=10)

    assert task_states(dag_run) == {"wait": "success"}
    assert_found(xcom(dag_run, "wait"), cos, tls_sensor.KEY)
    assert answered(cos, "HeadObject", "404") >= 2 and answered(cos, "HeadObject", "200") == 1
    assert set(all_over_tls(tls)["tls_server_names"]) == {vhost(SRC_BUCKET)}
