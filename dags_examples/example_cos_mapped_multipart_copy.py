"""One huge copy spread over many workers: 50 GiB of camera footage, cross-region.

A managed copy (``CosCopyObjectOperator``) runs every part on one worker's
thread pool, which is the right choice up to a few hundred GB. Beyond that,
or when one worker's network is the bottleneck, spread the parts over mapped
tasks so Celery or Kubernetes workers copy them in parallel:

* ``initiate`` HEADs the source, plans the parts, starts (or resumes) the
  upload and returns batches of consecutive parts;
* ``copy_parts`` is mapped over the batches; each mapped task copies its
  batch on its own thread pool, every part pinned to the source's ETag;
* ``complete`` gathers every batch, completes the upload and verifies size
  and CRC64 against the source;
* ``abort`` is a teardown: if any step failed, the upload is aborted so no
  parts are left behind (after a successful complete it does nothing).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from cos_provider.operators.multipart import cos_multipart_copy_group

with DAG(
    dag_id="example_cos_mapped_multipart_copy",
    schedule="@daily",
    start_date=datetime(2026, 11, 1),
    # Retries are what resume a copy or transfer after a killed worker: a retried try
    # picks up the parts already done (see docs/running-in-production.md).
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30)},
    catchup=False,
    max_active_runs=1,
    tags=["example", "cos"],
    doc_md=__doc__,
) as dag:
    cos_multipart_copy_group(
        "backup_camera_footage",
        source_bucket_name="media",
        source_bucket_key="raw/camera-01/{{ ds }}.mxf",
        dest_bucket_name="media-backup",
        dest_region="ap-shanghai",
        dest_bucket_key="raw/camera-01/{{ ds }}.mxf",
        storage_class="ARCHIVE",
        max_mapped_tasks=8,  # eight mapped part-copy tasks ...
        part_concurrency=8,  # ... each copying eight parts at a time
    )
