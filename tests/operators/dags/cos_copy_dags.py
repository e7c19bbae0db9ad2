"""DAGs run by tests/operators/test_dags.py through ``dag.test()`` (emulator buckets)."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from cos_provider.operators.metadata import CosReplaceObjectMetadataOperator
from cos_provider.operators.multipart import cos_multipart_copy_group
from cos_provider.operators.object_copy import CosCopyObjectOperator
from cos_provider.operators.prefix_copy import CosCopyPrefixOperator

MiB = 1024 * 1024
START = datetime(2026, 1, 1)

with DAG("cos_copy_object", schedule=None, start_date=START, params={"run": "r1"}):
    big = CosCopyObjectOperator(
        task_id="copy_big",
        source_bucket_key="cos://src/in/{{ params.run }}/big.bin",
        dest_bucket_key="out/{{ params.run }}/big.bin",
        dest_bucket_name="dst",
        metadata_directive="Replaced",
        metadata={"run": "{{ params.run }}", "dag": "{{ dag.dag_id }}"},
        content_type="application/x-{{ params.run }}",
        multipart_threshold=0,
        part_size=MiB,
        concurrency=4,
    )
    move = CosCopyObjectOperator(
        task_id="move_small",
        source_bucket_key="in/{{ params.run }}/small.txt",
        source_bucket_name="src",
        dest_bucket_key="cos://dst/moved/small.txt",
        move=True,
    )
    big >> move

with DAG("cos_replace_metadata", schedule=None, start_date=START):
    CosReplaceObjectMetadataOperator(
        task_id="replace",
        bucket_key="cos://src/meta.bin",
        metadata={"stage": "{{ dag.dag_id }}"},
        remove=["drop-me"],
        cache_control="no-cache",
    )

with DAG("cos_copy_prefix", schedule=None, start_date=START):
    CosCopyPrefixOperator(
        task_id="copy_prefix",
        source_bucket="src",
        dest_bucket="dst",
        prefix="logs/",
        dest_prefix="backup/{{ dag.dag_id }}/",
        concurrency=4,
    )

with DAG("cos_mapped_copy", schedule=None, start_date=START):
    cos_multipart_copy_group(
        "huge_copy",
        source_bucket_key="cos://src/huge.bin",
        dest_bucket_key="cos://dst/huge-copy.bin",
        part_size=MiB,
        max_mapped_tasks=3,
        part_concurrency=2,
        metadata_directive="Replaced",
        metadata={"copied-by": "{{ dag.dag_id }}"},
        content_type="application/octet-stream",
    )

with DAG("cos_mapped_copy_fails", schedule=None, start_date=START):
    cos_multipart_copy_group(
        "huge_copy",
        source_bucket_key="cos://src/huge.bin",
        dest_bucket_key="cos://dst/never.bin",
        part_size=MiB,
        max_mapped_tasks=3,
        part_concurrency=2,
    )
