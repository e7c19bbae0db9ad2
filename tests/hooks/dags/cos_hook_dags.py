"""A DAG that uses only the hook from ``@task`` code, as users do without operators."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, task

from cos_provider.hooks.cos import CosHook

with DAG("cos_hook_only_copy", schedule=None, start_date=datetime(2026, 1, 1)):

    @task
    def copy_with_the_hook() -> dict:
        hook = CosHook()
        outcome = hook.copy_object(
            "cos://src-1250000000/hook/in.csv",
            "cos://dst-1250000000/hook/out.csv",
            metadata_directive="Replaced",
            metadata={"city": "beijing"},
        )
        listed = [o.key for o in hook.list_objects("dst-1250000000", match_glob="hook/*.csv")]
        return {"copy": outcome.to_dict(), "listed": listed}

    copy_with_the_hook()
