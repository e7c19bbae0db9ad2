"""DAGs run by tests/download/test_operator.py through ``dag.test()`` (emulator buckets)."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from cos_provider.operators.download import CosToLocalFilesystemOperator

START = datetime(2026, 1, 1)

with DAG("cos_download", schedule=None, start_date=START, params={"folder": "/tmp/cos-download"}):
    CosToLocalFilesystemOperator(
        task_id="one_key",
        key="cos://src/reports/{{ dag.dag_id }}.csv",
        local_folder="{{ params.folder }}/one",
        part_size=256 * 1024,
    )
    CosToLocalFilesystemOperator(
        task_id="by_glob",
        bucket="src",
        match_glob="data/**/*.bin",
        local_folder="{{ params.folder }}/glob",
        concurrency=2,
        part_size=256 * 1024,
    )
