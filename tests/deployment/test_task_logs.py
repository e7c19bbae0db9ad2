"""Task logs in COS in a real deployment: scheduler (LocalExecutor), dag-processor and api-server as processes.

The emulator runs as a process of its own; every component is configured for
remote logging to it through ``cos_provider.log.logging_config``. A DAG run's
task log must end up as an object in the emulator, the local file must be
gone (``delete_local_logs``), and the REST API must still serve the text -
which it can then only have read from COS.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cos_provider.client.client import CosClient
from cos_provider.client.credentials import Credentials
from cos_provider.client.endpoints import Endpoint
from cos_provider.emulator.process import EmulatorProcess, start_emulator_process
from tests.conftest import APP_ID, REGION, SECRET_ID, SECRET_KEY, connection_json
from tests.deployment.stack import AirflowStack

HERE = Path(__file__).resolve().parent
DAG_FILE = HERE / "stack_dags" / "cos_task_log.py"
DAG_ID = "cos_task_log"
BUCKET = f"logs-{APP_ID}"
PREFIX = "airflow/task-logs"
MARKER = "cos-task-log-marker"


@pytest.fixture
def emulator_process() -> Iterator[EmulatorProcess]:
    with start_emulator_process(
        ["--secret-id", SECRET_ID, "--secret-key", SECRET_KEY, "--bucket", f"{BUCKET}:{REGION}"],
        new_session=True,
    ) as emu:
        yield emu


@pytest.fixture
def cos_client(emulator_process: EmulatorProcess) -> Iterator[CosClient]:
    endpoint = Endpoint(region=REGION, scheme="http", connect_address=emulator_process.address)
    with CosClient(Credentials(SECRET_ID, SECRET_KEY), endpoint, app_id=APP_ID) as client:
        yield client


def start_stack(airflow_stack: Callable[..., AirflowStack], emulator: EmulatorProcess) -> AirflowStack:
    return airflow_stack(
        dag_files=(DAG_FILE,),
        name="task-logs-in-cos",
        components=["scheduler", "dag-processor", "api-server"],  # no deferrable task: no triggerer
        config={
            "logging": {
                "remote_logging": True,
                "remote_base_log_folder": f"cos://{BUCKET}/{PREFIX}",
                "remote_log_conn_id": "cos_logs",
                "logging_config_class": "cos_provider.log.logging_config.LOGGING_CONFIG",
                "delete_local_logs": True,
            }
        },
        env={"AIRFLOW_CONN_COS_LOGS": connection_json(emulator.address)},
    )


def local_log(stack: AirflowStack, run_id: str) -> Path:
    return stack.log_folder / f"dag_id={DAG_ID}/run_id={run_id}/task_id=say/attempt=1.log"


def no_secret_in(stack: AirflowStack, *texts: str) -> None:
    for text in texts:
        assert SECRET_KEY not in text
    for log in (stack.home / "components").glob("*.log"):
        assert SECRET_KEY not in log.read_text(errors="replace"), log.name


def log_objects(client: CosClient) -> dict[str, Any]:
    return {o.key: o for o in client.iter_objects(BUCKET, prefix=PREFIX + "/")}


def test_task_logs_in_cos_in_a_real_deployment(
    airflow_stack: Callable[..., AirflowStack], emulator_process: EmulatorProcess, cos_client: CosClient
) -> None:
    """One deployment for both halves: starting it is most of the time."""
    stack = start_stack(airflow_stack, emulator_process)
    stack.wait_for_dag(DAG_ID)
    the_log_goes_to_cos_and_the_api_reads_it_back(stack, cos_client)
    emulator_process.stop()  # COS goes away
    an_unreachable_cos_does_not_fail_the_task(stack)


def the_log_goes_to_cos_and_the_api_reads_it_back(stack: AirflowStack, cos_client: CosClient) -> None:
    run_id = stack.trigger_dag(DAG_ID)
    assert stack.wait_for_run(DAG_ID, run_id, timeout=90) == "success"

    # The supervisor uploads after reporting the state, so wait for the object, then for the local delete.
    key = f"{PREFIX}/dag_id={DAG_ID}/run_id={run_id}/task_id=say/attempt=1.log"
    stack.wait_for(f"log object {key}", lambda: log_objects(cos_client).get(key), timeout=30)
    local = local_log(stack, run_id)
    assert stack.log_folder / key.removeprefix(PREFIX + "/") == local
    stack.wait_for(f"{local} to be removed", lambda: True if not local.exists() else None, timeout=15)

    text = cos_client.get_object(BUCKET, key).decode()
    assert f"{MARKER} run={run_id}" in text
    assert f"{MARKER} printed run={run_id}" in text
    assert list(log_objects(cos_client)) == [key]  # one try, one object

    served = stack.task_log_text(DAG_ID, run_id, "say")
    assert f"cos://{BUCKET}/{key}" in served  # the source the API read from
    assert f"{MARKER} run={run_id}" in served
    assert not local.exists()  # so the text can only have come from COS
    no_secret_in(stack, text, served)


def an_unreachable_cos_does_not_fail_the_task(stack: AirflowStack) -> None:
    run_id = stack.trigger_dag(DAG_ID)
    assert stack.wait_for_run(DAG_ID, run_id, timeout=90) == "success"
    assert stack.task_instances(DAG_ID, run_id)["say"]["state"] == "success"

    # The warning is the supervisor's, in the executor's output (the scheduler's log here).
    scheduler_log = stack.components["scheduler"].log_path
    stack.wait_for(
        "the upload warning",
        lambda: True if "was not uploaded to COS" in scheduler_log.read_text(errors="replace") else None,
        timeout=30,
    )
    local = local_log(stack, run_id)
    assert f"{MARKER} run={run_id}" in local.read_text()  # kept, not deleted
    served = stack.task_log_text(DAG_ID, run_id, "say")
    assert f"{MARKER} run={run_id}" in served  # the API falls back to the local file
    no_secret_in(stack, served)
