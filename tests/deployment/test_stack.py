"""The harness's own promises, without starting Airflow: process groups die, failures leave their logs."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from tests.deployment.stack import AirflowStack, Component, StackError, config_env

# A leader that starts a grandchild which ignores SIGTERM, prints its pid, then waits.
SPAWNER = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
print(child.pid, flush=True)
time.sleep(600)
"""


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is dead for our purpose.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def gone(pid: int) -> bool:
    """SIGKILL is delivered asynchronously: wait (boundedly) for the process to be dead."""
    deadline = time.monotonic() + 10
    while pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def start_spawner(tmp_path: Path, name: str = "spawner") -> tuple[Component, int]:
    log_path = tmp_path / f"{name}.log"
    component = Component(name, [sys.executable, "-c", SPAWNER], os.environ, log_path)
    # Component sends output to its log file; read the pid from there once the leader wrote it.
    deadline = time.monotonic() + 30
    while not log_path.read_text().strip():
        assert component.alive and time.monotonic() < deadline, "spawner did not report its child"
        time.sleep(0.02)
    return component, int(log_path.read_text().split()[0])


def test_stop_kills_the_whole_process_group(tmp_path: Path) -> None:
    component, grandchild = start_spawner(tmp_path)
    assert pid_alive(grandchild)
    component.stop(grace=0.5)
    assert not component.alive
    assert gone(grandchild)  # it ignored SIGTERM; the group SIGKILL reached it


def test_a_failure_in_the_with_block_saves_logs_and_stops_everything(tmp_path: Path) -> None:
    stack = AirflowStack(
        tmp_path / "home",
        name="harness-self-test",
        config={"logging": {"remote_logging": True}},
        artifacts=tmp_path / "artifacts",
    )
    (stack.home / "components").mkdir(parents=True)
    component, grandchild = start_spawner(stack.home / "components", "scheduler")
    stack.components["scheduler"] = component
    stack.stop_grace = 0.5

    failure = RuntimeError("the test failed")
    assert not stack.__exit__(RuntimeError, failure, None)  # what ``with`` calls; the failure propagates

    assert not component.alive and gone(grandchild)
    saved = tmp_path / "artifacts" / "harness-self-test"
    assert (saved / "components" / "scheduler.log").read_text().strip() == str(grandchild)
    env = json.loads((saved / "airflow-env.json").read_text())
    assert env["AIRFLOW__LOGGING__REMOTE_LOGGING"] == "True"
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"


def test_a_dead_component_fails_the_wait_with_its_log(tmp_path: Path) -> None:
    stack = AirflowStack(tmp_path / "home")
    (stack.home / "components").mkdir(parents=True)
    dead = Component(
        "triggerer",
        [sys.executable, "-c", "print('boom: bad config'); raise SystemExit(3)"],
        os.environ,
        stack.home / "components" / "triggerer.log",
    )
    dead.proc.wait(timeout=30)
    stack.components["triggerer"] = dead
    with pytest.raises(StackError, match=r"(?s)triggerer exited with 3.*boom: bad config"):
        stack.wait_for("anything", lambda: None, timeout=5)
    stack.stop()


def test_environment_is_isolated_and_configurable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "CeleryExecutor")  # the caller's settings do not leak in
    monkeypatch.setenv("AIRFLOW_CONN_SOMETHING", "x")
    stack = AirflowStack(
        tmp_path / "home",
        config={"core": {"parallelism": 4}, "dag_processor": {"refresh_interval": 1}},
        env={"AIRFLOW_CONN_COS_LOGS": "{}"},
    )
    env = stack.env
    assert env["AIRFLOW_HOME"] == str(tmp_path / "home")
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["AIRFLOW__CORE__PARALLELISM"] == "4"
    assert env["AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL"] == "1"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == f"sqlite:///{tmp_path / 'home' / 'airflow.db'}"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == f"{stack.base_url}/execution/"
    assert "AIRFLOW_CONN_SOMETHING" not in env and env["AIRFLOW_CONN_COS_LOGS"] == "{}"
    assert config_env({"a": {"b": True}}) == {"AIRFLOW__A__B": "True"}


@pytest.mark.parametrize(
    ("components", "message"),
    [
        (["scheduler", "webserver", "api-server"], "unknown components"),
        (["scheduler"], "api-server is needed"),
    ],
)
def test_bad_component_lists_are_refused(tmp_path: Path, components: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AirflowStack(tmp_path, components=components)
