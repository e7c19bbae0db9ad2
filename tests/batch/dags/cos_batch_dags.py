"""DAGs run by tests/batch/test_operator.py through ``dag.test()`` (emulator buckets, owner UIN 100000000001)."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from cos_provider.operators.batch import CosBatchCopyJobOperator

START = datetime(2026, 1, 1)
ROLE = "qcs::cam::uin/100000000001:roleName/COS_Batch_QcsRole"

with DAG("cos_batch_copy", schedule=None, start_date=START, params={"prefix": "data/"}):
    CosBatchCopyJobOperator(
        task_id="batch_copy",
        source_bucket="src",
        prefix="{{ params.prefix }}",
        dest_bucket="dst",
        dest_prefix="copied/",
        role_arn=ROLE,
        storage_class="STANDARD_IA",
        metadata_directive="Add",
        metadata={"origin": "batch"},
        tagging_directive="Replaced",
        tagging={"job": "{{ dag.dag_id }}"},
        poll_interval=0.05,
    )

with DAG("cos_batch_fail", schedule=None, start_date=START):
    CosBatchCopyJobOperator(
        task_id="batch_fail",
        source_bucket="src",
        prefix="data/",
        dest_bucket="dst",
        role_arn=ROLE,
        poll_interval=0.05,
    )

with DAG("cos_batch_timeout", schedule=None, start_date=START):
    CosBatchCopyJobOperator(
        task_id="batch_timeout",
        source_bucket="src",
        prefix="data/",
        dest_bucket="dst",
        dest_prefix="slow/",
        role_arn=ROLE,
        poll_interval=0.05,
        wait_timeout=0.5,
    )
