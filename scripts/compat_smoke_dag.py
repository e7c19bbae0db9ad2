"""The DAG that ``scripts/dev.py compat`` runs with ``dag.test()`` in each compat venv.

It imports only Airflow and the installed wheel: the venv has no checkout on
its path. The driver (``scripts/compat_smoke.py``) seeds the emulator and
checks what the tasks left behind; the object names below are its contract.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from cos_provider.operators.metadata import CosReplaceObjectMetadataOperator
from cos_provider.operators.multipart import cos_multipart_copy_group
from cos_provider.operators.object_copy import CosCopyObjectOperator
from cos_provider.sensors.cos import CosObjectSensor

MiB = 1024 * 1024
SRC = "src-1250000000"
DST = "dst-1250000000"

with DAG("cos_compat_smoke", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    # The flag appears only once the trigger runs (the driver writes it then):
    # the first poke misses it, so the task must defer and be resumed.
    wait = CosObjectSensor(
        task_id="deferrable_sensor",
        bucket=SRC,
        key="flags/ready",
        deferrable=True,
        poke_interval=0.2,
        timeout=120,
    )
    single = CosCopyObjectOperator(
        task_id="single_copy",
        source_bucket_key=f"cos://{SRC}/small.bin",
        dest_bucket_key=f"cos://{DST}/small-copy.bin",
    )
    multipart = CosCopyObjectOperator(
        task_id="multipart_copy",
        source_bucket_key=f"cos://{SRC}/big.bin",
        dest_bucket_key=f"cos://{DST}/big-copy.bin",
        multipart_threshold=0,
        part_size=MiB,
        concurrency=2,
    )
    mapped = cos_multipart_copy_group(
        "mapped_copy",
        source_bucket_key=f"cos://{SRC}/big.bin",
        dest_bucket_key=f"cos://{DST}/big-mapped.bin",
        part_size=MiB,
        max_mapped_tasks=2,
        part_concurrency=2,
    )
    replace = CosReplaceObjectMetadataOperator(
        task_id="replace_metadata",
        bucket_key=f"cos://{DST}/small-copy.bin",
        metadata={"stage": "{{ dag.dag_id }}"},
        remove=["origin"],
        content_type="text/plain",
    )
    wait >> [single, multipart, mapped]
    single >> replace
