"""A deferrable COS sensor for ``dag.test()`` over HTTPS (see ``tests/tls/test_sensor_tls.py``).

The connection (``cos_default``) comes from the test's environment: the HTTPS
emulator, trusted through ``verify`` = the test CA's path.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from cos_provider.sensors.cos import CosObjectSensor

SRC = "src-1250000000"
KEY = "arrivals/dag-run.csv"

with DAG("tls_deferrable_sensor", schedule=None, start_date=datetime(2024, 1, 1), catchup=False) as dag:
    CosObjectSensor(task_id="wait", bucket=SRC, key=KEY, deferrable=True, poke_interval=0.1, timeout=60)
