"""The "Tencent COS" connection form in Airflow's real UI, driven in Debian's Chromium.

Starts ``airflow api-server`` on loopback (simple auth manager, everyone admin,
``[core] test_connection = Enabled``), adds a connection through the form,
checks the relabelled and extra fields, presses Test against the emulator and
checks that the saved connection is what the hook reads back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Page, Route, expect, sync_playwright

from tests.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, wait_healthy
from tests.browser import api_server as start_api_server
from tests.bundles.runner import AIRFLOW
from tests.conftest import APP_ID, REGION, SECRET_ID, SECRET_KEY, SRC_BUCKET


@pytest.fixture(scope="module")
def api_server(tmp_path_factory) -> Iterator[tuple[str, dict[str, str]]]:
    home = tmp_path_factory.mktemp("airflow-ui")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
    }
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True)
    log_path = home / "api-server.log"
    with start_api_server(env, log_path) as (base, proc):
        wait_healthy(base, proc, log_path)
        yield base, env


def fix_port_zero(route: Route) -> None:
    """Work around an Airflow 3.3.2 UI bug, and only that.

    The row's Test button posts ``port: Number(conn.port)``, i.e. ``0`` for a
    connection without a port, and the API then refuses the test with 400
    ("host or port ... differs from the stored connection") because 0 != NULL.
    Every port-less connection type hits it. ``test_row_test_bug_is_still_there``
    proves the bug exists, so this shim can go as soon as Airflow fixes it.
    """
    body = json.loads(route.request.post_data or "{}")
    if body.get("port") == 0:
        body["port"] = None
    route.continue_(post_data=json.dumps(body))


def open_add_form(page: Page, base: str) -> None:
    page.goto(f"{base}/connections", wait_until="networkidle")
    page.get_by_role("button", name="Add Connection").click()
    page.get_by_role("combobox").fill("Tencent")
    page.get_by_role("option", name="Tencent COS").click()


def show_section(page: Page, title: str, probe: str) -> None:
    """Open an accordion section of the form and wait for it.

    One section is open at a time and they animate, so a field can still look
    visible while its section closes: go by the trigger's ``aria-expanded``.
    """
    trigger = page.get_by_role("button", name=title, exact=True)
    if trigger.get_attribute("aria-expanded") != "true":
        trigger.click()
    expect(trigger).to_have_attribute("aria-expanded", "true")
    field = page.locator(probe)
    field.wait_for(state="visible")
    page.wait_for_timeout(400)  # let the accordion finish moving before typing
    field.wait_for(state="visible")


def fill_and_save(page: Page, conn_id: str, emulator_address: str) -> None:
    page.locator("input[name=connection_id]").fill(conn_id)
    show_section(page, "Standard Fields", "input[name=password]")
    page.locator("input[name=login]").fill(SECRET_ID)
    page.locator("input[name=password]").fill(SECRET_KEY)
    show_section(page, "Extra Fields", "[name=element_region]")
    page.locator("[name=element_region]").fill(REGION)
    page.locator("[name=element_app_id]").fill(APP_ID)
    page.locator("[name=element_connect_address]").fill(emulator_address)
    page.locator("[name=element_bucket]").fill("src")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("row").filter(has_text=conn_id).wait_for()


@pytest.fixture
def browser_page() -> Iterator[Page]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 2000})
        try:
            yield page
        finally:
            browser.close()


def test_connection_form_end_to_end(api_server, cos, browser_page):
    base, env = api_server
    page = browser_page
    cos.put_object(SRC_BUCKET, "probe.txt", b"x")
    open_add_form(page, base)

    # Relabelled standard fields, hidden host/port/schema, and our extra fields.
    labels = [t.strip().rstrip("*").strip() for t in page.locator("label").all_inner_texts()]
    assert "SecretId" in labels and "SecretKey" in labels
    assert "Host" not in labels and "Port" not in labels and "Schema" not in labels
    show_section(page, "Extra Fields", "[name=element_region]")
    labels = [t.strip().rstrip("*").strip() for t in page.locator("label").all_inner_texts()]
    for label in ("Region", "APPID", "Session token", "Connect address override", "Scheme", "Verify TLS"):
        assert label in labels, labels
    assert page.locator("[name=element_session_token]").get_attribute("type") == "password"

    fill_and_save(page, "cos_ui", cos.address)
    page.route("**/api/v2/connections/test", fix_port_zero)
    page.get_by_role("row").filter(has_text="cos_ui").get_by_label("Test Connection").click()
    success = page.get_by_text("Test Connection Successful")
    success.wait_for(timeout=20_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "connection-form-test.png"), full_page=True)
    assert SECRET_KEY not in page.content()

    # The hook, in a fresh process, reads what the form saved. Outside a task the SDK
    # does not read the metadata DB, so fetch the row as the API server and the
    # Execution API do (core Connection, secrets backends incl. the metastore) and
    # hand it over the way a worker receives it.
    code = (
        "import json, os; from airflow.models.connection import Connection;"
        "os.environ['AIRFLOW_CONN_COS_UI'] = Connection.get_connection_from_secrets('cos_ui').as_json();"
        "from cos_provider.hooks.cos import CosHook; h = CosHook('cos_ui'); s = h.settings;"
        "print(json.dumps([s.credentials.secret_id, s.endpoint.region, s.app_id, s.endpoint.connect_address,"
        " s.bucket, h.test_connection()[0]]))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [
        SECRET_ID,
        REGION,
        APP_ID,
        cos.address,
        "src",
        True,
    ]


def test_row_test_bug_is_still_there(api_server, cos):
    """Guards the shim above: remove it when this starts failing."""
    base, _ = api_server
    body = {
        "connection_id": "cos_bug",
        "conn_type": "tencent_cos",
        "login": SECRET_ID,
        "password": SECRET_KEY,
        "extra": json.dumps({"region": REGION, "app_id": APP_ID, "connect_address": cos.address}),
    }
    assert requests.post(f"{base}/api/v2/connections", json=body, timeout=10).status_code == 201
    as_ui_sends = {**body, "password": "***", "host": "", "port": 0, "schema": ""}
    answer = requests.post(f"{base}/api/v2/connections/test", json=as_ui_sends, timeout=30)
    assert answer.status_code == 400
    assert "differs from the stored connection" in answer.text
