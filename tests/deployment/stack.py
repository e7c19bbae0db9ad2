"""A real Airflow deployment for tests: components as separate processes on a throwaway home.

``dag.test()`` runs a task in the test's own process; some behaviour exists
only between processes (the scheduler's LocalExecutor runs each task under a
supervisor that uploads its log, the API server reads it back, the
dag-processor syncs bundles). :class:`AirflowStack` starts exactly that::

    with AirflowStack(tmp_path, name="task-logs", config={"logging": {...}}, env={...}) as stack:
        stack.add_dag_file(DAG_FILE)
        stack.wait_for_dag("my_dag")
        run_id = stack.trigger_dag("my_dag")
        assert stack.wait_for_run("my_dag", run_id) == "success"
        text = stack.task_log_text("my_dag", run_id, "task")

What it does:

* a fresh ``AIRFLOW_HOME`` with SQLite and the LocalExecutor, configured only
  through ``AIRFLOW__*`` environment variables (so every component, and every
  task process they start, sees the same settings), migrated once with
  ``airflow db migrate``;
* free loopback ports for everything that listens (API server, worker and
  triggerer log servers), so parallel runs do not collide; one JWT secret
  shared by all components, which the execution API requires;
* each component (any of :data:`COMPONENTS`) started with ``airflow <name>``
  in a session (process group) of its own, its stdout+stderr in
  ``<home>/components/<name>.log``; the start waits until the API server's
  health endpoint reports every started component healthy;
* on every exit path - success, a failed assertion, Ctrl-C - every component
  is stopped: SIGTERM to its whole process group (task supervisors and
  gunicorn/uvicorn workers included), SIGKILL after a grace period;
* on a failure (an exception leaving the ``with`` block, or
  :meth:`collect_artifacts` called by a pytest fixture that saw the test fail),
  the component logs, task logs and the config are copied to
  ``test-artifacts/<name>/``.

Waits poll the REST API: the components are other processes, there is no
event to wait on. Every wait has a deadline and, when it expires, says what
it saw last and whether a component died.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import requests

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
COMPONENTS = ("scheduler", "dag-processor", "triggerer", "api-server")
HEALTH_KEYS = {"scheduler": "scheduler", "dag-processor": "dag_processor", "triggerer": "triggerer"}
FINISHED_RUN_STATES = frozenset({"success", "failed"})
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config_env(config: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """``{"logging": {"remote_logging": True}}`` -> ``{"AIRFLOW__LOGGING__REMOTE_LOGGING": "True"}``."""
    return {
        f"AIRFLOW__{section.upper()}__{key.upper()}": str(value)
        for section, options in config.items()
        for key, value in options.items()
    }


class StackError(RuntimeError):
    """The deployment did not do what a wait expected; the message says what was seen."""


class Component:
    """One ``airflow <name>`` process in its own process group."""

    def __init__(self, name: str, args: Sequence[str], env: Mapping[str, str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.proc = subprocess.Popen(
            list(args),
            env=dict(env),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def _signal_group(self, signum: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signum)  # the session leader's pid is the group id

    def terminate(self) -> None:
        self._signal_group(signal.SIGTERM)

    def kill(self, wait: float = 5.0) -> None:
        """SIGKILL the whole group: children (task supervisors, api workers) may outlive the leader."""
        self._signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):  # SIGKILL is not refused
            self.proc.wait(timeout=wait)
        self._log.close()

    def stop(self, grace: float) -> None:
        """SIGTERM the group, then SIGKILL it after at most ``grace`` seconds."""
        self.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=grace)
        self.kill()


class AirflowStack:
    """Airflow components as processes on a throwaway home; a context manager that always stops them.

    :param home: an empty folder to become ``AIRFLOW_HOME``.
    :param components: which of :data:`COMPONENTS` to start (``api-server`` is always needed for the waits).
    :param config: ``{section: {option: value}}``, exported as ``AIRFLOW__SECTION__OPTION``.
    :param env: more environment for every component (connections as ``AIRFLOW_CONN_*``...).
    :param name: the folder under ``test-artifacts/`` that receives the logs on failure.
    :param startup_timeout: seconds for migration plus all components to become healthy.
    :param stop_grace: seconds between SIGTERM and SIGKILL when stopping.
    """

    def __init__(
        self,
        home: Path,
        *,
        components: Iterable[str] = COMPONENTS,
        config: Mapping[str, Mapping[str, Any]] | None = None,
        env: Mapping[str, str] | None = None,
        name: str = "airflow-stack",
        startup_timeout: float = 120.0,
        stop_grace: float = 5.0,
        python: str | Path = sys.executable,
        artifacts: Path = ARTIFACTS,
    ) -> None:
        self.components_wanted = list(components)
        unknown = sorted(set(self.components_wanted) - set(COMPONENTS))
        if unknown:
            raise ValueError(f"unknown components {unknown}; known: {', '.join(COMPONENTS)}")
        if "api-server" not in self.components_wanted:
            raise ValueError("the api-server is needed: health, triggering and waits go through its REST API")
        self.home = Path(home).resolve()
        self.name = name
        self.startup_timeout = startup_timeout
        self.stop_grace = stop_grace
        self.artifacts = artifacts / name
        self.airflow = str(Path(python).parent / "airflow")
        self.dags_folder = self.home / "dags"
        self.log_folder = self.home / "logs"
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.components: dict[str, Component] = {}
        self.stop_seconds: dict[str, float] = {}
        """How long each component took to exit after SIGTERM (the grace period if it did not)."""
        self._token: str | None = None
        self._session = requests.Session()
        self.env = self._environment(config or {}, env or {})

    # ------------------------------------------------------------ configuration

    def _environment(
        self, config: Mapping[str, Mapping[str, Any]], extra: Mapping[str, str]
    ) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_"))}
        base.pop("PYTEST_CURRENT_TEST", None)  # Airflow changes behaviour under pytest
        pythonpath = [str(ROOT), *filter(None, base.get("PYTHONPATH", "").split(os.pathsep))]
        base["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(pythonpath))
        base["AIRFLOW_HOME"] = str(self.home)
        defaults: dict[str, Mapping[str, Any]] = {
            "core": {
                "executor": "LocalExecutor",
                "dags_folder": self.dags_folder,
                "load_examples": False,
                "unit_test_mode": False,
                "parallelism": 2,
                "dags_are_paused_at_creation": False,
                "execution_api_server_url": f"{self.base_url}/execution/",
                "simple_auth_manager_all_admins": True,
            },
            "database": {"sql_alchemy_conn": f"sqlite:///{self.home / 'airflow.db'}"},
            "logging": {
                "base_log_folder": self.log_folder,
                "worker_log_server_port": free_port(),
                "trigger_log_server_port": free_port(),
            },
            "api": {
                "port": self.port,
                "host": "127.0.0.1",
                "workers": 1,
                "base_url": self.base_url,
                "secret_key": secrets.token_hex(16),
            },
            "api_auth": {"jwt_secret": secrets.token_hex(32)},
            "scheduler": {
                "enable_health_check": False,
                "scheduler_health_check_server_port": free_port(),
                "scheduler_heartbeat_sec": 1,
                "scheduler_idle_sleep_time": 0.2,
            },
            "dag_processor": {"refresh_interval": 2, "min_file_process_interval": 5, "parsing_processes": 1},
            "triggerer": {"job_heartbeat_sec": 1},
        }
        merged = {section: dict(options) for section, options in defaults.items()}
        for section, options in config.items():
            merged.setdefault(section, {}).update(options)
        return {**base, **config_env(merged), **extra}

    def add_dag_file(self, source: Path, name: str | None = None) -> Path:
        """Copy a DAG file into the stack's DAG folder (before or after the start)."""
        self.dags_folder.mkdir(parents=True, exist_ok=True)
        target = self.dags_folder / (name or source.name)
        shutil.copyfile(source, target)
        return target

    # ------------------------------------------------------------ life cycle

    def cli(self, *args: str, timeout: float = 120.0, check: bool = True) -> subprocess.CompletedProcess[str]:
        """``airflow <args>`` with the stack's environment."""
        done = subprocess.run(
            [self.airflow, *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if check and done.returncode != 0:
            raise StackError(f"airflow {' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}")
        return done

    def start(self) -> AirflowStack:
        self.home.mkdir(parents=True, exist_ok=True)
        self.dags_folder.mkdir(exist_ok=True)
        (self.home / "components").mkdir(exist_ok=True)
        deadline = time.monotonic() + self.startup_timeout
        self.cli("db", "migrate", timeout=self.startup_timeout)
        for name in self.components_wanted:
            self.components[name] = Component(
                name, [self.airflow, name], self.env, self.home / "components" / f"{name}.log"
            )
        self.wait_healthy(deadline - time.monotonic())
        return self

    def stop(self) -> None:
        """SIGTERM every component at once, SIGKILL each group after the shared grace period."""
        self._session.close()  # an open keep-alive connection holds up the API server's shutdown
        components = list(self.components.values())
        for component in components:
            component.terminate()
        started = time.monotonic()
        deadline = started + self.stop_grace
        for component in components:
            with contextlib.suppress(subprocess.TimeoutExpired):
                component.proc.wait(timeout=max(deadline - time.monotonic(), 0.01))
            self.stop_seconds[component.name] = round(time.monotonic() - started, 2)
        for component in components:
            component.kill()

    def __enter__(self) -> AirflowStack:
        try:
            return self.start()
        except BaseException:
            self.collect_artifacts()
            self.stop()
            raise

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if exc_type is not None:
                self.collect_artifacts()
        finally:
            self.stop()

    def collect_artifacts(self) -> Path:
        """Copy component logs, task logs and the environment's Airflow settings to ``test-artifacts/<name>/``."""
        self.artifacts.mkdir(parents=True, exist_ok=True)
        for folder in ("components", "logs"):
            src = self.home / folder
            if src.is_dir():
                shutil.copytree(src, self.artifacts / folder, dirs_exist_ok=True)
        settings = {k: v for k, v in self.env.items() if k.startswith("AIRFLOW__")}
        (self.artifacts / "airflow-env.json").write_text(json.dumps(settings, indent=2, sort_keys=True))
        return self.artifacts

    # ------------------------------------------------------------ waiting

    def check_alive(self) -> None:
        dead = [c for c in self.components.values() if not c.alive]
        if dead:
            raise StackError(
                "; ".join(f"{c.name} exited with {c.proc.returncode}:\n{c.tail()}" for c in dead)
            )

    def wait_for(self, what: str, probe: Callable[[], T | None], timeout: float, interval: float = 0.3) -> T:
        """Call ``probe`` until it returns something other than ``None``; fail naming ``what``."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while True:
            self.check_alive()
            try:
                result = probe()
            except requests.RequestException as exc:
                result, last = None, exc
            if result is not None:
                return result
            if time.monotonic() >= deadline:
                raise StackError(f"timed out after {timeout:.0f} s waiting for {what}; last error: {last!r}")
            time.sleep(interval)

    def health(self) -> dict[str, Any]:
        response = self._session.get(f"{self.base_url}/api/v2/monitor/health", timeout=5)
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

    def wait_healthy(self, timeout: float) -> dict[str, Any]:
        keys = ["metadatabase", *(HEALTH_KEYS[c] for c in self.components_wanted if c in HEALTH_KEYS)]

        def probe() -> dict[str, Any] | None:
            health = self.health()
            ok = all((health.get(k) or {}).get("status") == "healthy" for k in keys)
            return health if ok else None

        return self.wait_for(f"{', '.join(keys)} to be healthy", probe, max(timeout, 1.0), interval=0.5)

    # ------------------------------------------------------------ REST API

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """A request to ``/api/v2/<path>`` with a token (the simple auth manager, everyone admin)."""
        if self._token is None:
            got = self._session.get(f"{self.base_url}/auth/token", timeout=10)
            got.raise_for_status()
            self._token = got.json()["access_token"]
        headers = {"Authorization": f"Bearer {self._token}", **kwargs.pop("headers", {})}
        return self._session.request(
            method, f"{self.base_url}/api/v2/{path.lstrip('/')}", headers=headers, timeout=30, **kwargs
        )

    def import_errors(self) -> list[dict[str, Any]]:
        response = self.api("GET", "importErrors")
        response.raise_for_status()
        return response.json().get("import_errors", [])  # type: ignore[no-any-return]

    def wait_for_dag(self, dag_id: str, timeout: float = 60.0) -> dict[str, Any]:
        """Until the dag-processor has parsed ``dag_id``; import errors fail at once."""

        def probe() -> dict[str, Any] | None:
            response = self.api("GET", f"dags/{dag_id}")
            if response.status_code == 200:
                return response.json()  # type: ignore[no-any-return]
            errors = self.import_errors()
            if errors:
                raise StackError(f"DAG import errors: {errors}")
            return None

        return self.wait_for(f"DAG {dag_id!r} to be parsed", probe, timeout)

    def trigger_dag(
        self, dag_id: str, conf: Mapping[str, Any] | None = None, logical_date: str | None = None
    ) -> str:
        """Unpause and trigger ``dag_id`` through the REST API; returns the run id.

        ``logical_date`` (ISO 8601, e.g. ``2026-11-20T00:00:00+00:00``) sets ``{{ ds }}``; none by default.
        """
        self.api("PATCH", f"dags/{dag_id}", json={"is_paused": False}).raise_for_status()
        response = self.api(
            "POST", f"dags/{dag_id}/dagRuns", json={"logical_date": logical_date, "conf": dict(conf or {})}
        )
        if response.status_code >= 400:
            raise StackError(f"triggering {dag_id} failed: {response.status_code} {response.text}")
        return str(response.json()["dag_run_id"])

    def run_state(self, dag_id: str, run_id: str) -> str:
        response = self.api("GET", f"dags/{dag_id}/dagRuns/{run_id}")
        response.raise_for_status()
        return str(response.json()["state"])

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 60.0) -> str:
        """Until the run is finished; returns ``success`` or ``failed``."""

        def probe() -> str | None:
            state = self.run_state(dag_id, run_id)
            return state if state in FINISHED_RUN_STATES else None

        return self.wait_for(f"run {dag_id}/{run_id} to finish", probe, timeout)

    def task_instances(self, dag_id: str, run_id: str) -> dict[str, dict[str, Any]]:
        response = self.api("GET", f"dags/{dag_id}/dagRuns/{run_id}/taskInstances")
        response.raise_for_status()
        return {ti["task_id"]: ti for ti in response.json()["task_instances"]}

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int = 1) -> dict[str, Any]:
        """The REST API's task-instance log (JSON: ``content`` is a list of structured lines)."""
        response = self.api(
            "GET",
            f"dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
            params={"full_content": "true"},
            headers={"Accept": "application/json"},
        )
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

    def task_log_text(self, dag_id: str, run_id: str, task_id: str, try_number: int = 1) -> str:
        """The events of :meth:`task_log`, one per line (source details included)."""
        content = self.task_log(dag_id, run_id, task_id, try_number)["content"]
        lines = [str(item.get("event", "")) if isinstance(item, dict) else str(item) for item in content]
        return "\n".join(lines)


__all__ = ["ARTIFACTS", "COMPONENTS", "AirflowStack", "Component", "StackError", "config_env", "free_port"]
