"""Downstream of the archive: scheduled on the ``cos://`` asset the archive DAG publishes.

When ``example_cos_daily_export_archive`` archives a day's export, Airflow
records an event on ``cos://archive-1250000000/exports`` and runs this DAG.
It checks the archive has what a restore would need (object present, size
and CRC64 known) and reports it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, Asset

from cos_provider.sensors.cos import CosObjectSensor

with DAG(
    dag_id="example_cos_asset_consumer",
    schedule=[Asset("cos://archive-1250000000/exports")],
    start_date=datetime(2026, 11, 1),
    # Retries are what resume a copy or transfer after a killed worker: a retried try
    # picks up the parts already done (see docs/running-in-production.md).
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30)},
    catchup=False,
    tags=["example", "cos"],
    doc_md=__doc__,
) as dag:
    CosObjectSensor(
        task_id="check_archive",
        bucket="archive",
        region="ap-shanghai",
        key="exports/*/data.parquet",
        use_glob=True,
        timeout=600,
        poke_interval=30,
    )
