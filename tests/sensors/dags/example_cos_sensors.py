"""Example: wait for an export, copy exactly the version that arrived, then re-tag the copy.

``CosObjectSensor`` pushes what it saw: key, size, ETag, version id,
last-modified and CRC64. The copy pins ``copy_source_if_match`` to that ETag,
so if the export is overwritten between the sensor and the copy, COS refuses
the copy (412 PreconditionFailed) instead of silently copying data nobody
waited for. In a versioned bucket, ``source_version_id`` may pin the exact
version instead (then the copy succeeds, with the data that was seen).

``example_cos_sensor_chain_race`` is the same DAG with a task that overwrites
the export right after the sensor saw it: its copy must fail with 412.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, task

from cos_provider.operators.copy import CosCopyObjectOperator, CosReplaceObjectMetadataOperator
from cos_provider.sensors.cos import CosObjectSensor

# What the sensor saw (its XCom: one dict per matched object).
SEEN_URI = "{{ ti.xcom_pull(task_ids='wait_for_export')[0]['uri'] }}"
SEEN_ETAG = "{{ ti.xcom_pull(task_ids='wait_for_export')[0]['etag'] }}"


def build(dag_id: str, *, late_writer: bool = False) -> DAG:
    with DAG(
        dag_id,
        schedule=None,
        start_date=datetime(2024, 1, 1),
        catchup=False,
        default_args={"retries": 0},
        tags=["example", "cos"],
    ) as dag:
        wait = CosObjectSensor(
            task_id="wait_for_export",
            bucket="versioned",
            key="exports/{{ ds }}/data.csv",
            min_size=1,
            deferrable=True,
            poke_interval=0.3,
            timeout=600,
        )
        copy = CosCopyObjectOperator(
            task_id="copy_export",
            source_bucket_key=SEEN_URI,
            dest_bucket_key="cos://dst/imports/{{ ds }}/data.csv",
            copy_source_if_match=SEEN_ETAG,  # the copy fails (412) if the export changed since
        )
        retag = CosReplaceObjectMetadataOperator(
            task_id="retag_copy",
            bucket_key="cos://dst/imports/{{ ds }}/data.csv",
            metadata={"stage": "imported", "source-etag": SEEN_ETAG},
        )
        if late_writer:

            @task
            def overwrite_export(ti=None) -> None:
                """Another writer replaces the export after the sensor saw it."""
                from cos_provider.hooks.cos import CosHook

                seen = ti.xcom_pull(task_ids="wait_for_export")[0]
                CosHook().get_conn().put_object(seen["bucket"], seen["key"], b"version 2, not awaited")

            wait >> overwrite_export() >> copy
        else:
            wait >> copy
        copy >> retag
    return dag


example_cos_sensor_chain = build("example_cos_sensor_chain")
example_cos_sensor_chain_race = build("example_cos_sensor_chain_race", late_writer=True)
