"""DAGs run by tests/throttle/test_throttled_dag.py through ``dag.test()`` (emulator buckets)."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from cos_provider.operators.prefix_copy import CosCopyPrefixOperator

with DAG("cos_throttled_prefix_copy", schedule=None, start_date=datetime(2026, 1, 1)):
    CosCopyPrefixOperator(
        task_id="copy_prefix",
        source_bucket="src",
        dest_bucket="dst",
        prefix="many/",
        dest_prefix="copied/",
        concurrency=16,
    )
