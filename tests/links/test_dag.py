"""The link in real Airflow: ``dag.test()`` runs each family of task, then the link is read back
the way the API server reads it (the serialized DAG's generic XCom link), never from our class."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cos_provider.links.cos import CosConsoleLink, console_url
from tests.airflow_support import run_dag, task_states, xcom
from tests.conftest import ARCHIVE_BUCKET, DST_BUCKET, OTHER_REGION, REGION, SRC_BUCKET

pytestmark = [pytest.mark.airflow_db, pytest.mark.usefixtures("airflow_db")]
NAME = "Tencent COS console"


def links_as_the_ui_reads_them(run: Any) -> dict[str, str | None]:
    """task_id -> the URL the UI shows, through the serialized DAG stored in the metadata DB."""
    from airflow.models.serialized_dag import SerializedDagModel

    dag = SerializedDagModel.get_dag(run.dag_id)
    assert dag is not None
    out = {}
    for ti in run.get_task_instances():
        task = dag.get_task(ti.task_id)
        assert NAME in task.extra_links, task.extra_links
        out[ti.task_id] = task.get_extra_links(ti, NAME)
    return out


def test_every_task_family_links_to_its_folder(cos: Any, cos_connection: str, tmp_path: Path) -> None:
    run = run_dag("cos_console_links", run_conf={"folder": str(tmp_path)})
    assert set(task_states(run).values()) == {"success"}, task_states(run)
    src_folder = console_url(SRC_BUCKET, REGION, "报表/2026 年/")
    expected = {
        "create": src_folder,
        "wait": src_folder,
        "meta": src_folder,
        "copy": console_url(ARCHIVE_BUCKET, OTHER_REGION, "冷/"),
        "prefix": console_url(DST_BUCKET, REGION, "报表/"),
        "download": console_url(SRC_BUCKET, REGION, "报表/"),
    }
    assert links_as_the_ui_reads_them(run) == expected
    # On the worker, get_link turned what execute persisted into the URL, under the same key.
    assert {t: xcom(run, t, CosConsoleLink.key) for t in expected} == expected
    assert src_folder.endswith("&path=%252F%25E6%258A%25A5%25E8%25A1%25A8%252F2026%2520%25E5%25B9%25B4%252F")


def test_a_failed_task_still_links_where_it_worked(cos: Any, cos_connection: str) -> None:
    run = run_dag("cos_console_link_failed")
    assert task_states(run) == {"copy_missing": "failed"}
    assert links_as_the_ui_reads_them(run) == {"copy_missing": console_url(DST_BUCKET, REGION, "wanted/")}


def test_console_url_setting_moves_every_link(
    cos: Any, cos_connection: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = "https://console.example.internal/cos/bucket"
    monkeypatch.setenv("AIRFLOW__TENCENT_COS__CONSOLE_URL", other)
    run = run_dag("cos_console_link_failed")
    assert links_as_the_ui_reads_them(run) == {
        "copy_missing": console_url(DST_BUCKET, REGION, "wanted/", base=other)
    }
