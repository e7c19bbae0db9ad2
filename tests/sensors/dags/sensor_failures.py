"""Sensors that time out or hit errors, with and without soft_fail, in every mode.

Connections: ``cos_default`` (the emulator) and ``cos_wrong`` (same, wrong SecretKey).
The missing-bucket and wrong-secret sensors wait up to an hour: the run ends
only if they fail fast.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG

from cos_provider.sensors.cos import CosObjectSensor

MODES: dict[str, dict[str, Any]] = {
    "poke": {"mode": "poke", "deferrable": False},
    "reschedule": {"mode": "reschedule", "deferrable": False},
    "deferrable": {"deferrable": True},
}

with DAG(
    "cos_sensor_failures",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    default_args={"retries": 2, "retry_delay": timedelta(seconds=0)},
) as dag:
    for mode, kwargs in MODES.items():
        common: dict[str, Any] = {"poke_interval": 0.3, **kwargs}
        CosObjectSensor(
            task_id=f"timeout_soft_{mode}",
            bucket="src",
            key="never",
            timeout=1,
            soft_fail=True,
            retries=0,
            **common,
        )
        CosObjectSensor(task_id=f"timeout_{mode}", bucket="src", key="never", timeout=1, retries=0, **common)
        CosObjectSensor(
            task_id=f"no_bucket_soft_{mode}", bucket="nosuch", key="k", timeout=3600, soft_fail=True, **common
        )
        CosObjectSensor(task_id=f"no_bucket_{mode}", bucket="nosuch", key="k", timeout=3600, **common)
        CosObjectSensor(
            task_id=f"wrong_secret_{mode}",
            bucket="src",
            key="k",
            timeout=3600,
            cos_conn_id="cos_wrong",
            **common,
        )
