"""The world the example DAGs expect: buckets, regions and source objects.

The DAG files name these buckets by their bare names and let the connection
add the APPID, exactly as a user's DAGs would.
"""

from __future__ import annotations

import json
from typing import Any

SECRET_ID = "AKIDLOCALDEMO0000000000000000000000"
SECRET_KEY = "local-demo-secret-key"
APP_ID = "1250000000"
REGION = "ap-guangzhou"
ARCHIVE_REGION = "ap-shanghai"
LOGICAL_DATE = "2026-11-20"
# Producers first: the consumer is scheduled on the archive DAG's asset.
DAG_ORDER = (
    "example_cos_objectstorage",  # reads the staging manifest before the archive DAG moves it
    "example_cos_daily_export_archive",
    "example_cos_mapped_multipart_copy",
    "example_cos_asset_consumer",
    "example_cos_data_plane",
)
GiB = 1024**3


def bucket(name: str) -> str:
    return f"{name}-{APP_ID}"


BUCKETS: dict[str, tuple[str, bool]] = {
    bucket("exports"): (REGION, True),
    bucket("archive"): (ARCHIVE_REGION, True),
    bucket("warehouse"): (REGION, False),
    bucket("staging"): (REGION, False),
    bucket("media"): (REGION, False),
    bucket("media-backup"): (ARCHIVE_REGION, False),
    bucket("ingest"): (REGION, False),
    bucket("logs"): (REGION, False),  # task logs, when remote logging is on
    bucket("dags"): (REGION, False),  # DAG files, for a CosDagBundle
}
LOG_FOLDER = f"cos://{bucket('logs')}/airflow/task-logs"
"""``[logging] remote_base_log_folder`` wherever the example DAGs run with remote logging."""


SEEDS: list[dict[str, Any]] = [
    # The day's other export files are there from the start; data.parquet arrives late (below).
    {"bucket": bucket("exports"), "key": f"exports/{LOGICAL_DATE}/_SUCCESS", "body": b""},
    {
        "bucket": bucket("exports"),
        "key": f"exports/{LOGICAL_DATE}/schema.json",
        "body": b'{"fields": ["id", "amount", "ts"]}',
        "content_type": "application/json",
    },
    {
        "bucket": bucket("staging"),
        "key": f"incoming/{LOGICAL_DATE}/manifest.json",
        "body": b'{"files": 3, "rows": 1200000000}',
        "content_type": "application/json",
        "metadata": {"producer": "erp"},
    },
    {
        "bucket": bucket("media"),
        "key": "raw/camera-01/2026-11-20.mxf",
        "size": 50 * GiB,
        "seed": 50,
        "content_type": "application/mxf",
        "metadata": {"camera": "01"},
    },
]


def emulator_args() -> list[str]:
    """The emulator CLI's ``--secret-id/--secret-key/--bucket`` arguments for this world."""
    args = ["--secret-id", SECRET_ID, "--secret-key", SECRET_KEY]
    for name, (region, versioned) in BUCKETS.items():
        args += ["--bucket", f"{name}:{region}" + (":versioned" if versioned else "")]
    return args


def connection(address: str) -> dict[str, Any]:
    """The ``tencent_cos`` connection (``AIRFLOW_CONN_*`` JSON) for an emulator at ``address``.

    No ``"scheme"``: the connect address says http. Airflow masks every string in a
    connection's extra, and a 4-character "http" is what made it warn "Skipping masking
    for a secret as it's too short" in every task and trigger log.
    """
    return {
        "conn_type": "tencent_cos",
        "login": SECRET_ID,
        "password": SECRET_KEY,
        "extra": {"region": REGION, "app_id": APP_ID, "connect_address": address},
    }


def remote_logging_config(conn_id: str = "cos_default") -> dict[str, Any]:
    """``[logging]`` options that send every task try's log to :data:`LOG_FOLDER` (README "Task logs in COS")."""
    return {
        "remote_logging": True,
        "remote_base_log_folder": LOG_FOLDER,
        "remote_log_conn_id": conn_id,
        "logging_config_class": "cos_provider.log.logging_config.LOGGING_CONFIG",
        "delete_local_logs": True,
    }


DAG_BUNDLE_PREFIX = "airflow/dags/"
DAG_BUNDLE = {
    "name": "cos-dags",
    "classpath": "cos_provider.bundles.cos.CosDagBundle",
    "kwargs": {
        "bucket_name": "dags",
        "prefix": DAG_BUNDLE_PREFIX,
        "cos_conn_id": "cos_default",
        "refresh_interval": 5,
    },
}
"""A ``[dag_processor] dag_bundle_config_list`` entry (README "DAG bundle"): DAG files from ``cos://dags-…/airflow/dags/``."""


def dag_bundle_config(storage_path: Any) -> dict[str, Any]:
    """``[dag_processor]`` options that make :data:`DAG_BUNDLE` the only bundle, synced under ``storage_path``."""
    return {
        "dag_bundle_config_list": json.dumps([DAG_BUNDLE]),
        "dag_bundle_storage_path": str(storage_path),
        "bundle_refresh_check_interval": 1,
    }


def late_arrivals() -> list[dict[str, Any]]:
    """The export the sensor waits for: 6 GiB, so its archive copy goes multipart."""
    return [
        {
            "bucket": bucket("exports"),
            "key": f"exports/{LOGICAL_DATE}/data.parquet",
            "size": 6 * GiB,
            "seed": 6,
            "content_type": "application/octet-stream",
            "metadata": {"exporter": "nightly-erp"},
        },
    ]


def prefix_copy_source(dest_uri: str) -> str:
    """The source of an object the prefix copy wrote (warehouse/daily/<d>/x <- exports/exports/<d>/x)."""
    prefix = f"cos://{bucket('warehouse')}/daily/"
    if not dest_uri.startswith(prefix):
        return dest_uri
    return f"cos://{bucket('exports')}/exports/" + dest_uri[len(prefix) :]
