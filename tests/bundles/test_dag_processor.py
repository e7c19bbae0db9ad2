"""A real ``airflow dag-processor`` (separate process, SQLite) configured with ``CosDagBundle``
exactly as the README's ``[dag_processor] dag_bundle_config_list`` line says."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from cos_provider.hooks.cos import CosHook
from tests.bundles.runner import AIRFLOW, airflow_env, dag_processor, dag_rows, migrate, wait_until
from tests.conftest import SRC_BUCKET, connection_json

BUNDLE = {
    "name": "cos-dags",
    "classpath": "cos_provider.bundles.cos.CosDagBundle",
    "kwargs": {"bucket_name": "src", "prefix": "dags/", "cos_conn_id": "cos_default", "refresh_interval": 1},
}


def dag_file(dag_id: str) -> bytes:
    return (
        "from airflow.sdk import dag, task\n\n"
        f"@dag(dag_id={dag_id!r}, schedule=None)\n"
        "def make():\n"
        "    @task\n"
        "    def hello():\n"
        "        return 'hi'\n\n"
        "    hello()\n\n"
        "make()\n"
    ).encode()


def test_dag_processor_picks_up_dags_from_cos(cos: Any, cos_connection: str, tmp_path: Path) -> None:
    home = tmp_path / "airflow"
    home.mkdir()
    env = airflow_env(home, [BUNDLE], AIRFLOW_CONN_COS_DEFAULT=connection_json(cos.address))
    cos.put_object(SRC_BUCKET, "dags/first.py", dag_file("cos_bundle_first"))
    migrate(env)
    log = home / "dag-processor.log"
    with dag_processor(env, log) as proc:
        first = wait_until(lambda: dag_rows(home).get("cos_bundle_first"), proc=proc, log_path=log)
        assert (first["bundle_name"], first["relative_fileloc"], first["is_stale"]) == (
            "cos-dags",
            "first.py",
            0,
        )
        assert Path(first["fileloc"]).read_bytes() == dag_file("cos_bundle_first")  # the synced copy

        # Uploaded while it runs: seen on a later refresh. Deleted: the DAG goes stale.
        cos.put_object(SRC_BUCKET, "dags/team/second.py", dag_file("cos_bundle_second"))
        CosHook(cos_connection).delete_object("dags/first.py", "src")
        rows = wait_until(
            lambda: (
                (r := dag_rows(home)).get("cos_bundle_second") and r["cos_bundle_first"]["is_stale"] and r
            ),
            proc=proc,
            log_path=log,
        )
        assert rows["cos_bundle_second"]["relative_fileloc"] == "team/second.py"
        assert not Path(first["fileloc"]).exists()

    listed = subprocess.run([AIRFLOW, "dags", "list", "-o", "json"], env=env, capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr[-3000:]
    (table,) = [line for line in listed.stdout.splitlines() if line.startswith("[")]  # after log lines
    # `dags list` shows stale DAGs too; the DB rows above say which one is stale.
    assert {d["dag_id"]: d["bundle_name"] for d in json.loads(table)} == {
        "cos_bundle_first": "cos-dags",
        "cos_bundle_second": "cos-dags",
    }
