"""The link in Airflow's real UI, in Debian's Chromium: run the DAG (``airflow dags test``, i.e.
``dag.test()``) against a throwaway SQLite DB, start ``airflow api-server`` on loopback over the same
DB, open each finished task instance and find the "Tencent COS console" link with the right URL.

The API server never imports our link class: it shows what the worker stored in XCom.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import sync_playwright

from cos_provider.links.cos import console_url
from tests.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, api_server, wait_healthy
from tests.bundles.runner import AIRFLOW, airflow_env, migrate
from tests.conftest import ARCHIVE_BUCKET, OTHER_REGION, REGION, SRC_BUCKET, connection_json

DAGS = Path(__file__).resolve().parent / "dags"
DAG_ID = "cos_console_links"
BUNDLE = {
    "name": "links-dags",
    "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
    "kwargs": {"path": str(DAGS), "refresh_interval": 0},
}


@pytest.fixture
def deployment(cos: Any, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """``(api-server URL, run_id)``: a finished run of the links DAG and an api-server on its DB.

    The api-server starts right after the migration, while the DAG runs, so
    the two slow starts overlap.
    """
    home = tmp_path / "airflow"
    home.mkdir()
    env = airflow_env(
        home,
        [BUNDLE],
        AIRFLOW_CONN_COS_DEFAULT=connection_json(cos.address),
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="True",
    )
    migrate(env)
    log_path = home / "api-server.log"
    with api_server(env, log_path) as (base, proc):
        run_id = run_links_dag(env, home, tmp_path / "downloads")
        wait_healthy(base, proc, log_path)
        yield base, run_id


def run_links_dag(env: dict[str, str], home: Path, folder: Path) -> str:
    """``airflow dags test`` (``dag.test()``) of the links DAG; its run_id once every task succeeded."""
    conf = json.dumps({"folder": str(folder)})
    out = subprocess.run(
        [AIRFLOW, "dags", "test", DAG_ID, "-B", BUNDLE["name"], "-c", conf],
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    with sqlite3.connect(home / "airflow.db") as db:
        ((run_id,),) = db.execute("SELECT run_id FROM dag_run WHERE dag_id = ?", (DAG_ID,)).fetchall()
        states = dict(db.execute("SELECT task_id, state FROM task_instance WHERE run_id = ?", (run_id,)))
    assert set(states.values()) == {"success"}, states
    return str(run_id)


def test_finished_tasks_show_the_console_link(deployment: tuple[str, str]) -> None:
    base, run_id = deployment
    src_folder = console_url(SRC_BUCKET, REGION, "报表/2026 年/")
    expected = {
        "create": src_folder,
        "wait": src_folder,
        "copy": console_url(ARCHIVE_BUCKET, OTHER_REGION, "冷/"),
    }
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            for task_id, url in expected.items():
                page.goto(
                    f"{base}/dags/{DAG_ID}/runs/{quote(run_id, safe='')}/tasks/{task_id}/details"
                )  # "Extra Links"
                link = page.get_by_role("link", name="Tencent COS console")
                link.wait_for(timeout=30_000)
                assert link.get_attribute("href") == url, task_id
                assert link.get_attribute("target") == "_blank"
            # Clicking opens the console in a new tab at exactly that URL (answered locally: a closed network).
            page.context.route(
                "https://console.cloud.tencent.com/**", lambda route: route.fulfill(body="console")
            )
            with page.expect_popup() as popup:
                link.click()
            popup.value.wait_for_load_state()
            assert popup.value.url == expected["copy"]
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "console-link.png"), full_page=True)
        finally:
            browser.close()
