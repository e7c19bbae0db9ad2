"""Daily export archive: wait for the export, archive exactly what arrived, re-tag it, fan out, tidy up.

Every night an ERP job writes ``exports/<date>/data.parquet`` (several GB) plus
a few small files to the ``exports`` bucket in ap-guangzhou. This DAG

1. waits for the day's ``data.parquet`` without holding a worker slot
   (deferrable sensor; it pokes once first, then the triggerer waits);
2. copies *exactly the version the sensor saw* to the ``archive`` bucket in
   ap-shanghai: the copy is pinned with If-Match to the sensor's ETag, so an
   export rewritten in between fails the copy (412) instead of archiving
   unseen data. Above 5 GB the copy is a verified multipart range copy;
3. replaces the archived object's metadata in place: content type, the run
   that archived it, and a retention tag (merged with what is there);
4. copies the whole day's prefix to the ``warehouse`` bucket for loading;
5. moves the staging manifest to ``processed/`` (copy, verify, then delete).

Buckets are given by bare name; the connection's APPID completes them. The
archived objects are published as ``cos://`` assets, so downstream DAGs can
be scheduled on them (see ``example_cos_asset_consumer``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, Asset

from cos_provider.operators.metadata import CosReplaceObjectMetadataOperator
from cos_provider.operators.object_copy import CosCopyObjectOperator
from cos_provider.operators.prefix_copy import CosCopyPrefixOperator
from cos_provider.sensors.cos import CosObjectSensor

ARCHIVE_REGION = "ap-shanghai"
EXPORT_KEY = "exports/{{ ds }}/data.parquet"
# What the sensor saw: its XCom holds one dict per matched object.
SEEN_ETAG = "{{ ti.xcom_pull(task_ids='wait_for_export')[0]['etag'] }}"

ARCHIVED_EXPORTS = Asset("cos://archive-1250000000/exports")
WAREHOUSE_DAILY = Asset("cos://warehouse-1250000000/daily")

with DAG(
    dag_id="example_cos_daily_export_archive",
    schedule="@daily",
    start_date=datetime(2026, 11, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
    tags=["example", "cos"],
    doc_md=__doc__,
) as dag:
    wait_for_export = CosObjectSensor(
        task_id="wait_for_export",
        bucket="exports",
        key=EXPORT_KEY,
        min_size=1,  # an empty placeholder file is not an export
        deferrable=True,
        poke_interval=10,
        timeout=6 * 3600,
    )

    archive_export = CosCopyObjectOperator(
        task_id="archive_export",
        source_bucket_name="exports",
        source_bucket_key=EXPORT_KEY,
        copy_source_if_match=SEEN_ETAG,
        dest_bucket_name="archive",
        dest_region=ARCHIVE_REGION,
        dest_bucket_key=EXPORT_KEY,
        storage_class="STANDARD_IA",
        outlets=[ARCHIVED_EXPORTS],
    )

    tag_archived_export = CosReplaceObjectMetadataOperator(
        task_id="tag_archived_export",
        bucket_name="archive",
        region=ARCHIVE_REGION,
        bucket_key=EXPORT_KEY,
        content_type="application/vnd.apache.parquet",
        metadata={"archived-by-run": "{{ run_id }}", "retention": "400d", "source-etag": SEEN_ETAG},
        storage_class="STANDARD_IA",
    )

    copy_day_to_warehouse = CosCopyPrefixOperator(
        task_id="copy_day_to_warehouse",
        source_bucket="exports",
        prefix="exports/{{ ds }}/",
        dest_bucket="warehouse",
        dest_prefix="daily/{{ ds }}/",
        replace=False,  # a re-run skips files already copied unchanged
        outlets=[WAREHOUSE_DAILY],
    )

    move_manifest = CosCopyObjectOperator(
        task_id="move_manifest",
        source_bucket_name="staging",
        source_bucket_key="incoming/{{ ds }}/manifest.json",
        dest_bucket_key="processed/{{ ds }}/manifest.json",
        move=True,
    )

    wait_for_export >> [archive_export, copy_day_to_warehouse]
    archive_export >> tag_archived_export
    [tag_archived_export, copy_day_to_warehouse] >> move_manifest
