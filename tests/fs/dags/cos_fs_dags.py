"""DAGs run by tests/fs/test_dags.py through ``dag.test()`` (emulator buckets, ``cos_default``)."""

from __future__ import annotations

from datetime import datetime

from airflow.providers.common.io.operators.file_transfer import FileTransferOperator
from airflow.sdk import DAG, ObjectStoragePath, task

START = datetime(2026, 1, 1)

with DAG("cos_fs_objectstoragepath", schedule=None, start_date=START):

    @task
    def write_read_copy_list() -> dict:
        base = ObjectStoragePath("cos://src/fs-dag/", conn_id="cos_default")
        report = base / "report.txt"
        report.write_text("rows=3\n")
        with (base / "big.bin").open("wb", buffering=1024 * 1024) as f:  # streamed multipart
            for _ in range(3):
                f.write(b"z" * 1024 * 1024)
        copied = ObjectStoragePath("cos://dst/fs-dag/report.txt", conn_id="cos_default")
        report.copy(copied)  # same store: server-side
        return {
            "text": copied.read_text(),
            "listing": sorted(p.name for p in base.iterdir()),
            "size": (base / "big.bin").stat()["size"],
            "crc64": str(copied.stat()["crc64"]),
        }

    write_read_copy_list()


with DAG("cos_fs_file_transfer", schedule=None, start_date=START, params={"folder": "/tmp/cos-fs"}):
    up = FileTransferOperator(
        task_id="local_to_cos",
        src="{{ params.folder }}/in.bin",
        dst="cos://src/transfer/in.bin",
        dest_conn_id="cos_default",
    )
    across = FileTransferOperator(
        task_id="cos_to_cos_other_connection",
        src="cos://src/transfer/in.bin",
        source_conn_id="cos_default",
        dst="cos://dst/transfer/in.bin",
        dest_conn_id="cos_other",
    )
    down = FileTransferOperator(
        task_id="cos_to_local",
        src="cos://dst/transfer/in.bin",
        source_conn_id="cos_default",
        dst="file://{{ params.folder }}/out.bin",
    )
    up >> across >> down


with DAG("cos_fs_xcom_backend", schedule=None, start_date=START):

    @task
    def produce() -> dict:
        return {"rows": 1200, "files": ["a.csv", "b.csv"]}

    @task
    def consume(value: dict) -> str:
        if value != {"rows": 1200, "files": ["a.csv", "b.csv"]}:
            raise ValueError(f"the XCom read back differs: {value!r}")
        return f"{value['rows']} rows"

    consume(produce())
