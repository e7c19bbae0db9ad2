"""The same three COS sensors in poke, reschedule and deferrable mode.

The mode-parity tests run these DAGs with ``dag.test()`` and build the very
same operators (``object_sensor`` ...) to drive them directly, so every mode
gets identical inputs and must push identical XCom.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG

from cos_provider.sensors.cos import CosObjectSensor, CosObjectUpdatedSensor, CosPrefixInactivitySensor

APP_ID = "1250000000"
VERSIONED = f"versioned-{APP_ID}"
DST = f"dst-{APP_ID}"
SRC = f"src-{APP_ID}"

MODES: dict[str, dict[str, Any]] = {
    "poke": {"mode": "poke", "deferrable": False},
    "reschedule": {"mode": "reschedule", "deferrable": False},
    "deferrable": {"deferrable": True},
}


def enough_bytes(objects: list[dict[str, Any]], **context: Any) -> bool:
    """``check_fn(objects, **context)``: needs the task context and 20 bytes in all."""
    assert "params" in context, "check_fn did not get the context"
    return sum(o["size"] for o in objects) >= 20


def object_sensor(**mode: Any) -> CosObjectSensor:
    return CosObjectSensor(
        task_id="wait",
        bucket="versioned",  # bare name: the connection's APPID completes it
        key=["data/part-*.csv", f"cos://{DST}/flags/ready"],
        use_glob=True,
        min_size=2,
        with_metadata=True,
        check_fn=enough_bytes,
        poke_interval=0.3,
        timeout=60,
        **mode,
    )


def updated_sensor(**mode: Any) -> CosObjectUpdatedSensor:
    return CosObjectUpdatedSensor(
        task_id="wait",
        key=f"cos://{VERSIONED}/exports/daily.csv",
        poke_interval=0.3,
        timeout=60,
        **mode,
    )


def inactivity_sensor(**mode: Any) -> CosPrefixInactivitySensor:
    return CosPrefixInactivitySensor(
        task_id="wait",
        bucket=SRC,
        prefix="batch/",
        inactivity_period=1.2,
        min_objects=3,
        poke_interval=0.3,
        timeout=60,
        **mode,
    )


FACTORIES = {"object": object_sensor, "updated": updated_sensor, "inactivity": inactivity_sensor}

for _kind, _factory in FACTORIES.items():
    for _mode, _kwargs in MODES.items():
        with DAG(
            f"cos_{_kind}_{_mode}", schedule=None, start_date=datetime(2024, 1, 1), catchup=False
        ) as _dag:
            _factory(**_kwargs)
        globals()[_dag.dag_id] = _dag
