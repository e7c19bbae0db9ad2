"""DAGs run by tests/headers through ``dag.test()``: SSE-C keys must never reach the metadata DB or logs."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from cos_provider.operators.object_copy import CosCopyObjectOperator

# Tencent's example keys (doc 436/10881), the same as tests/headers/conftest.py
KEY_A = "MDEyMzQ1Njc4OUFCQ0RFRjAxMjM0NTY3ODlBQkNERUY="
KEY_B = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

with DAG("cos_sse_c_over_http", schedule=None, start_date=datetime(2026, 1, 1)):
    # the emulator connection is plain http: the task must fail before sending, saying so
    CosCopyObjectOperator(
        task_id="copy",
        source_bucket_key="cos://src/in.bin",
        dest_bucket_key="cos://dst/{{ dag.dag_id }}.bin",
        source_sse_customer_key=KEY_A,
        sse_customer_key=KEY_B,
        retries=0,
    )
