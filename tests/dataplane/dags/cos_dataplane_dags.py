"""DAGs run by tests/dataplane/test_operators.py through ``dag.test()`` (emulator buckets)."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, task

from cos_provider.operators.delete import CosDeleteObjectsOperator
from cos_provider.operators.listing import CosListOperator

START = datetime(2026, 1, 1)

with DAG("cos_delete_objects", schedule=None, start_date=START, params={"day": "d1"}):
    dry = CosDeleteObjectsOperator(
        task_id="dry", bucket="src", match_glob="tmp/{{ params.day }}/*.csv", dry_run=True
    )
    real = CosDeleteObjectsOperator(task_id="delete", bucket="src", prefix="tmp/{{ params.day }}/")
    keys = CosDeleteObjectsOperator(
        task_id="keys", bucket="src", keys=["keep/a", "keep/b"], continue_on_failure=True
    )
    dry >> real >> keys

with DAG("cos_delete_fails", schedule=None, start_date=START):
    CosDeleteObjectsOperator(task_id="delete", bucket="src", keys=["keep/a", "keep/b"])

with DAG("cos_delete_versions", schedule=None, start_date=START):
    CosDeleteObjectsOperator(task_id="purge", bucket="versioned", prefix="old/", versions=True)

with DAG("cos_list", schedule=None, start_date=START):
    files = CosListOperator(task_id="files", bucket="src", prefix="logs/", match_glob=None)
    top = CosListOperator(task_id="top", bucket="src", prefix="logs/", delimiter="/")
    csvs = CosListOperator(task_id="csvs", bucket="src", match_glob="logs/**.csv")
    folders = CosListOperator(task_id="folders", bucket="src", prefix="logs/", folders=True)

    @task
    def size_of(folder: str) -> str:
        return folder.upper()

    sized = size_of.expand(folder=folders.output)
    cleaned = CosDeleteObjectsOperator.partial(task_id="clean", bucket="src").expand(prefix=folders.output)
    files >> top >> csvs >> folders
    sized >> cleaned
