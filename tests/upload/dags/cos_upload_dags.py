"""DAGs run by tests/upload/test_upload_dags.py through ``dag.test()`` (emulator buckets)."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from cos_provider.operators.upload import CosCreateObjectOperator, LocalFilesystemToCosOperator

MiB = 1024 * 1024
START = datetime(2026, 1, 1)

with DAG("cos_upload_local", schedule=None, start_date=START, params={"folder": "/nonexistent", "run": "r1"}):
    LocalFilesystemToCosOperator(
        task_id="upload_folder",
        source="{{ params.folder }}",
        dest_bucket="dst",
        dest_prefix="up/{{ params.run }}/",
        metadata={"run": "{{ params.run }}", "note": "中文"},
        multipart_threshold=MiB,
        part_size=MiB,
    )
    LocalFilesystemToCosOperator(
        task_id="upload_glob",
        source="{{ params.folder }}/**/*.csv",
        dest_bucket="dst",
        dest_prefix="csv/",
    )

with DAG("cos_create_object", schedule=None, start_date=START, params={"run": "r1"}):
    CosCreateObjectOperator(
        task_id="text", bucket="dst", key="made/{{ params.run }}.txt", data="run {{ params.run }}"
    )
    CosCreateObjectOperator(task_id="json", bucket="dst", key="made/doc.json", data={"名字": "值", "n": 1})

with DAG(
    "cos_upload_retried",
    schedule=None,
    start_date=START,
    params={"path": "/nonexistent"},
    default_args={"retries": 1, "retry_delay": timedelta(seconds=0)},
):
    LocalFilesystemToCosOperator(
        task_id="upload",
        source="{{ params.path }}",
        dest_bucket="dst",
        dest_key="retried.bin",
        multipart_threshold=MiB,
        part_size=MiB,
    )
