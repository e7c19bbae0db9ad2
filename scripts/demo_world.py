"""The world the example DAGs expect: buckets, regions and source objects.

The DAG files name these buckets by their bare names and let the connection
add the APPID, exactly as a user's DAGs would.
"""

from __future__ import annotations

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
}

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
