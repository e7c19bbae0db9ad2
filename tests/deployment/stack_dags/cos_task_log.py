"""One task whose log goes to COS: the deployment test looks for its marker line there."""

from __future__ import annotations

import logging

from airflow.sdk import dag, task

MARKER = "cos-task-log-marker"


@dag(dag_id="cos_task_log", schedule=None, catchup=False, tags=["test"])
def cos_task_log():
    @task
    def say(**context):
        logging.getLogger("airflow.task").info("%s run=%s", MARKER, context["run_id"])
        print(f"{MARKER} printed run={context['run_id']}")
        return "ok"

    say()


cos_task_log()
