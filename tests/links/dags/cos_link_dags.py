"""DAGs of tests/links: each family of COS task once, so each one's console link can be checked."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from cos_provider.operators.download import CosToLocalFilesystemOperator
from cos_provider.operators.metadata import CosReplaceObjectMetadataOperator
from cos_provider.operators.object_copy import CosCopyObjectOperator
from cos_provider.operators.prefix_copy import CosCopyPrefixOperator
from cos_provider.operators.upload import CosCreateObjectOperator
from cos_provider.sensors.cos import CosObjectSensor

START = datetime(2026, 1, 1)
KEY = "报表/2026 年/q1 #1+%.csv"
"""Chinese, a space, ``#``, ``+`` and ``%``: each must survive both rounds of URL encoding."""

with DAG("cos_console_links", schedule=None, start_date=START, params={"folder": "/tmp"}):
    create = CosCreateObjectOperator(task_id="create", bucket="src", key=KEY, data="a,b\n")
    wait = CosObjectSensor(task_id="wait", bucket="src", key=KEY, poke_interval=0.1, timeout=30)
    copy = CosCopyObjectOperator(
        task_id="copy",
        source_bucket_key=f"cos://src/{KEY}",
        dest_bucket_key="cos://archive/冷/q1.csv",
        dest_region="ap-guangzhou",
    )
    meta = CosReplaceObjectMetadataOperator(
        task_id="meta", bucket_key=f"cos://src/{KEY}", metadata={"a": "1"}
    )
    prefix = CosCopyPrefixOperator(task_id="prefix", source_bucket="src", prefix="报表/", dest_bucket="dst")
    download = CosToLocalFilesystemOperator(
        task_id="download", bucket="src", prefix="报表/", local_folder="{{ params.folder }}"
    )
    create >> wait >> [copy, meta, prefix, download]

with DAG("cos_console_link_failed", schedule=None, start_date=START):
    # The object is missing: the task fails, and its link still opens the folder it looked in.
    CosCopyObjectOperator(
        task_id="copy_missing",
        source_bucket_key="cos://src/missing/none.bin",
        dest_bucket_key="cos://dst/wanted/none.bin",
        retries=0,
    )
