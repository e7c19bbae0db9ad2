"""``ObjectStoragePath`` on ``cos://``: Airflow's object-storage API, served by this provider.

Each day the ERP drops a manifest in ``staging``. This DAG reads it with
``read_text``, writes a small summary next to it with ``write_text``, copies
the manifest into the ``warehouse`` (a server-side copy: ``copy()`` between
two ``cos://`` paths of one connection never moves the bytes through the
worker, and the copy is CRC64-verified), and lists the staging folders with
``iterdir``, prefixes shown as directories.

The provider registers ``cos://`` with fsspec and Airflow; the connection
(``cos_default``) gives the credentials, region and APPID.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from airflow.sdk import DAG, ObjectStoragePath, task

CONN_ID = "cos_default"
STAGING = "staging-1250000000"
WAREHOUSE = "warehouse-1250000000"


def uri(path: ObjectStoragePath) -> str:
    """``cos://bucket/key`` without the connection id ``str(path)`` carries."""
    return f"cos://{path.bucket}/{path.key}"


with DAG(
    dag_id="example_cos_objectstorage",
    schedule="@daily",
    start_date=datetime(2026, 11, 1),
    # Retries are what resume a copy or transfer after a killed worker: a retried try
    # picks up the parts already done (see docs/running-in-production.md).
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30)},
    catchup=False,
    tags=["example", "cos", "objectstorage"],
    doc_md=__doc__,
) as dag:

    @task
    def summarise_manifest(ds: str | None = None) -> dict:
        manifest = ObjectStoragePath(f"cos://{STAGING}/incoming/{ds}/manifest.json", conn_id=CONN_ID)
        content = json.loads(manifest.read_text())
        summary = manifest.parent / "summary.txt"
        summary.write_text(f"{content['files']} files, {content['rows']} rows\n")
        return {"manifest": uri(manifest), "crc64": str(manifest.stat()["crc64"]), **content}

    @task
    def publish_to_warehouse(found: dict, ds: str | None = None) -> dict:
        source = ObjectStoragePath(found["manifest"], conn_id=CONN_ID)
        target = ObjectStoragePath(f"cos://{WAREHOUSE}/manifests/{ds}/manifest.json", conn_id=CONN_ID)
        source.copy(target)  # server-side, verified against the source's CRC64
        copied = target.stat()
        if str(copied["crc64"]) != found["crc64"]:
            raise ValueError(f"{uri(target)} differs from {uri(source)}")
        incoming = ObjectStoragePath(f"cos://{STAGING}/incoming/", conn_id=CONN_ID)
        return {
            "source_uri": uri(source),
            "dest_uri": uri(target),
            "size": copied["size"],
            "crc64": str(copied["crc64"]),
            "listing": sorted(f"{p.name}/" if p.is_dir() else p.name for p in incoming.iterdir()),
            "day": sorted(p.name for p in source.parent.iterdir()),
        }

    publish_to_warehouse(summarise_manifest())
