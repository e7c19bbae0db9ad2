"""The data plane end to end: upload a local file, copy it in COS, re-tag it, download it, tidy up.

A nightly job on the worker produces a local file (here: 20 MiB of
generated rows). This DAG

1. writes that file into a working folder on the worker;
2. uploads it to the ``ingest`` bucket (``LocalFilesystemToCosOperator``).
   With a 4 MiB part size and an 8 MiB threshold it is a multipart upload:
   five parts from file ranges, each part's CRC64 checked, the object's
   CRC64 compared with the local file's. A retried task resumes the parts
   the failed try left behind; a failure aborts the upload;
3. copies the object server-side into the ``warehouse`` bucket
   (``CosCopyObjectOperator``): no bytes pass through the worker;
4. re-tags the copy in place (``CosReplaceObjectMetadataOperator`` with
   ``tagging``: directive ``Replaced``), keeping its metadata;
5. downloads the copy into the working folder (``CosToLocalFilesystemOperator``):
   parallel ranged GETs pinned to the ETag, CRC64-verified, then renamed into place;
6. deletes what was uploaded to ``ingest`` (``CosDeleteObjectsOperator``,
   by prefix: one Delete Multiple Objects request).

The XComs carry the CRC64s: the local file's, the upload's, the copy's and
the downloaded file's are one value.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
from datetime import datetime, timedelta

from airflow.sdk import DAG, task

from cos_provider.operators.delete import CosDeleteObjectsOperator
from cos_provider.operators.download import CosToLocalFilesystemOperator
from cos_provider.operators.metadata import CosReplaceObjectMetadataOperator
from cos_provider.operators.object_copy import CosCopyObjectOperator
from cos_provider.operators.upload import LocalFilesystemToCosOperator

MiB = 1024 * 1024
FILE_SIZE = 20 * MiB
LANDING_KEY = "landing/{{ ds }}/events.csv"
CURATED_KEY = "curated/events/{{ ds }}.csv"
# What write_local_file returned: where the file is, and where the download goes.
LOCAL_PATH = "{{ ti.xcom_pull(task_ids='write_local_file')['path'] }}"
DOWNLOAD_FOLDER = "{{ ti.xcom_pull(task_ids='write_local_file')['folder'] }}"


def work_folder(ds: str) -> str:
    """A folder of the worker's own for this date (under AIRFLOW_HOME, else the temp dir)."""
    base = os.environ.get("AIRFLOW_HOME") or tempfile.gettempdir()
    return os.path.join(base, "cos-data-plane", ds)


with DAG(
    dag_id="example_cos_data_plane",
    schedule="@daily",
    start_date=datetime(2026, 11, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30)},
    tags=["example", "cos"],
    doc_md=__doc__,
) as dag:

    @task
    def write_local_file(ds: str | None = None) -> dict[str, object]:
        """The file to upload: deterministic rows, so every run of a date writes the same bytes."""
        assert ds is not None
        folder = work_folder(ds)
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(os.path.join(folder, "downloaded"))
        path = os.path.join(folder, "events.csv")
        rng = random.Random(ds)
        with open(path, "wb") as out:
            written = 0
            while written < FILE_SIZE:
                row = f"{written},{rng.randrange(10**9)},{rng.random():.6f}\n".encode()[: FILE_SIZE - written]
                out.write(row)
                written += len(row)
        return {"path": path, "folder": os.path.join(folder, "downloaded"), "size": FILE_SIZE}

    local_file = write_local_file()

    upload = LocalFilesystemToCosOperator(
        task_id="upload",
        source=LOCAL_PATH,
        dest_bucket="ingest",
        dest_key=LANDING_KEY,
        multipart_threshold=8 * MiB,  # above it: multipart ...
        part_size=4 * MiB,  # ... of five parts
        concurrency=4,
        content_type="text/csv",
        metadata={"produced-by": "{{ dag.dag_id }}", "run": "{{ run_id }}"},
        tagging={"stage": "landing"},
    )

    copy = CosCopyObjectOperator(
        task_id="copy_to_warehouse",
        source_bucket_name="ingest",
        source_bucket_key=LANDING_KEY,
        dest_bucket_name="warehouse",
        dest_bucket_key=CURATED_KEY,
    )

    retag = CosReplaceObjectMetadataOperator(
        task_id="retag",
        bucket_name="warehouse",
        bucket_key=CURATED_KEY,
        tagging={"stage": "curated", "retention": "90d"},
    )

    download = CosToLocalFilesystemOperator(
        task_id="download",
        bucket="warehouse",
        key=CURATED_KEY,
        local_folder=DOWNLOAD_FOLDER,
        part_size=4 * MiB,
        concurrency=4,
    )

    delete_landing = CosDeleteObjectsOperator(
        task_id="delete_landing",
        bucket="ingest",
        prefix="landing/{{ ds }}/",
    )

    local_file >> upload >> copy >> retag >> download >> delete_landing
