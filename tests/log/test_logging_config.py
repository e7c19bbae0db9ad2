"""``cos_provider.log.logging_config`` in fresh Airflow processes (the config is read on ``import airflow``)."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from cos_provider.client.errors import CosValidationError

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW = str(Path(sys.executable).parent / "airflow")
FOLDER = "cos://logs-1250000000/airflow"
OURS = "cos_provider.log.logging_config.LOGGING_CONFIG"

PROBE = """
import json
from airflow.logging_config import get_remote_task_log, get_default_remote_conn_id
from airflow.sdk.log import load_remote_log_handler, load_remote_conn_id
core, sdk = get_remote_task_log(), load_remote_log_handler()
print(json.dumps({
    "core": type(core).__name__ if core else None,
    "sdk": type(sdk).__name__ if sdk else None,
    "remote_base": getattr(core, "remote_base", None),
    "core_conn": get_default_remote_conn_id(),
    "sdk_conn": load_remote_conn_id(),
}))
"""


def env_for(tmp_path: Path, **logging: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__LOGGING__")}
    env["AIRFLOW_HOME"] = str(tmp_path)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    env.pop("PYTEST_CURRENT_TEST", None)
    for key, value in logging.items():
        env[f"AIRFLOW__LOGGING__{key.upper()}"] = value
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)


def test_stock_settings_still_refuse_a_cos_folder(tmp_path: Path) -> None:
    """Why the module exists: if this starts passing, Airflow accepts third-party schemes on its own."""
    done = run([AIRFLOW, "version"], env_for(tmp_path, remote_logging="True", remote_base_log_folder=FOLDER))
    assert done.returncode != 0
    assert "Incorrect remote log configuration" in done.stderr


def test_airflow_version_works_with_remote_logging_on_and_a_cos_folder(tmp_path: Path) -> None:
    env = env_for(
        tmp_path,
        remote_logging="True",
        remote_base_log_folder=FOLDER,
        remote_log_conn_id="cos_logs",
        logging_config_class=OURS,
    )
    done = run([AIRFLOW, "version"], env)
    assert done.returncode == 0, done.stderr
    import airflow

    assert done.stdout.strip().splitlines()[-1] == airflow.__version__


def probe(tmp_path: Path, **logging: str) -> dict[str, object]:
    done = run([sys.executable, "-c", PROBE], env_for(tmp_path, logging_config_class=OURS, **logging))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_core_and_task_sdk_both_resolve_the_cos_handler(tmp_path: Path) -> None:
    got = probe(tmp_path, remote_logging="True", remote_base_log_folder=FOLDER, remote_log_conn_id="cos_logs")
    assert got == {
        "core": "CosRemoteLogIO",
        "sdk": "CosRemoteLogIO",
        "remote_base": FOLDER,
        "core_conn": "cos_logs",
        "sdk_conn": "cos_logs",
    }


@pytest.fixture
def reload_config(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., ModuleType]]:
    """The module re-imported under ``[logging]`` options given as keyword arguments (env vars)."""
    import cos_provider.log.logging_config as module

    def reload(**logging: str) -> ModuleType:
        for key, value in logging.items():
            monkeypatch.setenv(f"AIRFLOW__LOGGING__{key.upper()}", value)
        return importlib.reload(module)

    yield reload
    monkeypatch.undo()
    importlib.reload(module)
    stock = sys.modules.get("airflow.config_templates.airflow_local_settings")
    if stock is not None:  # a test reloaded it under its options: give it back the session's
        importlib.reload(stock)


def test_the_dict_is_the_stock_one(reload_config: Callable[..., ModuleType]) -> None:
    module = reload_config(remote_logging="False", extra_logger_names="a.b, c")
    from airflow.config_templates import airflow_local_settings as stock

    importlib.reload(stock)  # importable because the flag is off
    assert module.LOGGING_CONFIG == stock.DEFAULT_LOGGING_CONFIG
    assert {"a.b", "c"} <= set(module.LOGGING_CONFIG["loggers"])


def test_without_a_conn_id_the_default_connection_is_used(reload_config: Callable[..., ModuleType]) -> None:
    module = reload_config(remote_logging="True", remote_base_log_folder=FOLDER, remote_log_conn_id="")
    assert type(module.REMOTE_TASK_LOG).__name__ == "CosRemoteLogIO"
    assert module.DEFAULT_REMOTE_CONN_ID == "cos_default"


@pytest.mark.parametrize(
    "logging",
    [
        {"remote_logging": "False", "remote_base_log_folder": FOLDER},  # the flag off means no remote logs
        {"remote_logging": "True", "remote_base_log_folder": "s3://other/logs"},  # not ours to claim
    ],
)
def test_the_module_claims_only_remote_logging_to_cos(
    reload_config: Callable[..., ModuleType], logging: dict[str, str]
) -> None:
    module = reload_config(**logging)
    # Both None: Airflow's tier 1 then falls through to the provider registered for the scheme.
    assert (module.REMOTE_TASK_LOG, module.DEFAULT_REMOTE_CONN_ID) == (None, None)


def test_a_bad_cos_folder_is_refused_on_import(reload_config: Callable[..., ModuleType]) -> None:
    with pytest.raises(CosValidationError, match="remote_base_log_folder"):
        reload_config(remote_logging="True", remote_base_log_folder="cos://")
