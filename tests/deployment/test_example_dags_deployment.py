"""Every example DAG in a real deployment: scheduler, dag-processor, triggerer and api-server as processes.

The world is the demo's (``scripts/demo_world.py``): the same buckets, sources
and logical date, seeded into an emulator running as a process of its own.
The components run the LocalExecutor on SQLite in a throwaway ``AIRFLOW_HOME``
(:class:`~tests.deployment.stack.AirflowStack`). Task logs go to COS through
``cos_provider.log.logging_config``, as the README's "Task logs in COS"
configures them. The DAG files are read from COS by a ``CosDagBundle``, the
only bundle in ``[dag_processor] dag_bundle_config_list`` (README "DAG
bundle"). Scheduled runs are off (``use_job_schedule = False``): every run
here is triggered through the REST API for the demo's date, so ``{{ ds }}``
names the seeded sources; the asset-scheduled consumer is triggered once its
producer has published the asset event.

Checked:

* every example DAG was parsed from the bundle, and every task ran from it;
* every task instance of every run (mapped ones included) ends ``success``;
* the deferrable sensor was seen ``deferred``, holding a trigger owned by the
  triggerer's job (the only ``TriggererJob``), while its export did not exist;
  the export is seeded only then. The trigger's log, which the triggerer
  process writes as ``<try's log>.trigger.<its job id>.log`` and uploads to
  COS, shows it firing for that task instance; the task then finished on
  the same try, its one log object holding both halves;
* the destinations' CRC64s equal their sources' (the demo's checks,
  ``scripts/demo_checks.py``), and the emulator holds no multipart upload;
* every task try's log is an object in COS (the deferred sensor's holds both
  halves), and none holds the secret key.

It prints how long each phase took (``-s`` or ``-rP`` to see them).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cos_provider.emulator.process import EmulatorProcess, start_emulator_process
from scripts import demo_world as world
from scripts.demo_checks import (
    client_for,
    live_uploads,
    log_key,
    log_objects,
    seed,
    upload_dag_files,
    verify_data_plane,
    verify_destinations,
)
from tests.deployment.stack import AirflowStack, StackError

ROOT = Path(__file__).resolve().parents[2]
DAGS = sorted((ROOT / "dags_examples").glob("example_*.py"))
LOGICAL_DATE = f"{world.LOGICAL_DATE}T00:00:00+00:00"
ARCHIVE = "example_cos_daily_export_archive"
CONSUMER = "example_cos_asset_consumer"
SENSOR = "wait_for_export"
ASSET_URI = f"cos://{world.bucket('archive')}/exports"
PRODUCERS = [d for d in world.DAG_ORDER if d != CONSUMER]
BUNDLE = world.DAG_BUNDLE  # the only bundle: every DAG here is parsed from COS


@pytest.fixture
def emulator_process() -> Iterator[EmulatorProcess]:
    with start_emulator_process(world.emulator_args(), new_session=True) as emu:
        yield emu


class Phases:
    """Wall-clock seconds per phase of the test, printed at the end."""

    def __init__(self) -> None:
        self.started = self.last = time.monotonic()
        self.seconds: dict[str, float] = {}

    def done(self, phase: str) -> None:
        now = time.monotonic()
        self.seconds[phase] = round(now - self.last, 1)
        self.last = now

    def report(self) -> str:
        total = round(time.monotonic() - self.started, 1)
        return "deployment test phases (s): " + json.dumps({**self.seconds, "total": total})


def start_stack(airflow_stack: Callable[..., AirflowStack], address: str, bundles: Path) -> AirflowStack:
    return airflow_stack(
        name="example-dags-deployment",
        config={
            "core": {"parallelism": 4},  # the mapped copy's tasks mostly wait on COS
            "dag_processor": world.dag_bundle_config(bundles),
            "scheduler": {"use_job_schedule": False},  # only the runs triggered here, for the demo's date
            "logging": {**world.remote_logging_config("cos_logs"), "logging_level": "INFO"},
        },
        env={
            "AIRFLOW_CONN_COS_DEFAULT": json.dumps(world.connection(address)),
            "AIRFLOW_CONN_COS_LOGS": json.dumps(world.connection(address)),
        },
    )


def all_task_instances(stack: AirflowStack, dag_id: str, run_id: str) -> list[dict[str, Any]]:
    response = stack.api("GET", f"dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 100})
    response.raise_for_status()
    return response.json()["task_instances"]  # type: ignore[no-any-return]


def wait_until_deferred(stack: AirflowStack, run_id: str) -> dict[str, Any]:
    """The sensor's TI while it is deferred: its trigger and the triggerer job holding it."""

    def probe() -> dict[str, Any] | None:
        response = stack.api("GET", f"dags/{ARCHIVE}/dagRuns/{run_id}/taskInstances/{SENSOR}")
        response.raise_for_status()
        ti = response.json()
        if ti["state"] in ("success", "failed", "up_for_retry"):
            raise StackError(f"{SENSOR} ended {ti['state']} without deferring")
        return ti if ti["state"] == "deferred" and ti.get("triggerer_job") else None

    return stack.wait_for(f"{SENSOR} to be deferred on a triggerer", probe, timeout=120)


def run_the_example_dags(
    stack: AirflowStack, address: str, source_crc: dict[str, int], phases: Phases
) -> tuple[dict[str, str], dict[str, Any]]:
    """Trigger every example DAG for the demo's date; returns the run ids and the sensor's deferred TI."""
    for dag_id in world.DAG_ORDER:
        dag = stack.wait_for_dag(dag_id, timeout=90)
        assert dag["bundle_name"] == BUNDLE["name"], dag
        assert dag["relative_fileloc"] in {p.name for p in DAGS}, dag
    phases.done("dags parsed from the bundle")

    runs = {dag_id: stack.trigger_dag(dag_id, logical_date=LOGICAL_DATE) for dag_id in PRODUCERS}
    deferred = wait_until_deferred(stack, runs[ARCHIVE])
    phases.done("sensor deferred")
    assert deferred["try_number"] == 1
    assert deferred["trigger"]["classpath"].startswith("cos_provider.triggers.")
    assert deferred["triggerer_job"]["job_type"] == "TriggererJob"
    assert deferred["triggerer_job"]["state"] == "running"
    # The export lands only now, and only after the ObjectStoragePath DAG has read the
    # staging manifest the archive DAG moves away.
    assert (
        stack.wait_for_run("example_cos_objectstorage", runs["example_cos_objectstorage"], 120) == "success"
    )
    seed(address, world.late_arrivals(), source_crc, lambda _: None)

    assert stack.wait_for_run(ARCHIVE, runs[ARCHIVE], timeout=150) == "success"
    phases.done("archive done")
    events = stack.api(
        "GET", "assets/events", params={"source_dag_id": ARCHIVE, "source_run_id": runs[ARCHIVE]}
    )
    events.raise_for_status()
    assert ASSET_URI in {e["uri"] for e in events.json()["asset_events"]}
    runs[CONSUMER] = stack.trigger_dag(CONSUMER, logical_date=LOGICAL_DATE)

    for dag_id, run_id in runs.items():
        state = stack.wait_for_run(dag_id, run_id, timeout=150)
        assert state == "success", (
            dag_id,
            [(t["task_id"], t["state"]) for t in all_task_instances(stack, dag_id, run_id)],
        )
    phases.done("all runs done")
    return runs, deferred


def every_task_succeeded(stack: AirflowStack, runs: dict[str, str]) -> list[dict[str, Any]]:
    tis = [ti for dag_id, run_id in runs.items() for ti in all_task_instances(stack, dag_id, run_id)]
    states = {(ti["dag_id"], ti["task_id"], ti["map_index"]): ti["state"] for ti in tis}
    assert set(states.values()) == {"success"}, states
    assert {dag_id for dag_id, _, _ in states} == set(world.DAG_ORDER)
    mapped = [k for k in states if k[0] == "example_cos_mapped_multipart_copy" and k[2] >= 0]
    assert len(mapped) == 8  # max_mapped_tasks
    # Tasks ran the DAG files the workers synced from COS too (no other bundle is configured).
    assert {ti["dag_version"]["bundle_name"] for ti in tis} == {BUNDLE["name"]}
    return tis


def the_triggerer_resumed_the_sensor(
    stack: AirflowStack, address: str, run_id: str, deferred: dict[str, Any]
) -> None:
    """The triggerer process fired the trigger for that TI (its own log, in COS, says so); same try after."""
    job_id, trigger_id = deferred["triggerer_job"]["id"], deferred["trigger"]["id"]
    jobs = stack.api("GET", "jobs", params={"job_type": "TriggererJob"})
    jobs.raise_for_status()
    assert [j["id"] for j in jobs.json()["jobs"]] == [job_id]  # the one triggerer component
    # The triggerer writes a deferred TI's trigger lines to "<its log>.trigger.<triggerer job id>.log"
    # and uploads that file when the trigger ends: only the triggerer process can have made it.
    uri = f"{log_key(ARCHIVE, run_id, SENSOR)}.trigger.{job_id}.log"
    stack.wait_for(f"the trigger's log {uri}", lambda: log_objects(address).get(uri), timeout=30)
    bucket = world.bucket("logs")
    with client_for(address, bucket) as c:
        text = c.get_object(bucket, uri.removeprefix(f"cos://{bucket}/")).decode()
    local = stack.log_folder / uri.removeprefix(world.LOG_FOLDER + "/")
    stack.wait_for(f"{local} to be removed after its upload", lambda: None if local.exists() else True, 15)
    events = [json.loads(line) for line in text.splitlines()]
    name = f"{ARCHIVE}/{run_id}/{SENSOR}/-1/1 (ID {trigger_id})"
    fired = [e for e in events if e["event"] == "Trigger fired event" and e.get("name") == name]
    assert len(fired) == 1, text[-3000:]
    assert "'status': 'success'" in fired[0]["result"]

    (ti,) = [t for t in all_task_instances(stack, ARCHIVE, run_id) if t["task_id"] == SENSOR]
    assert (ti["state"], ti["try_number"], ti["trigger"]) == ("success", 1, None)
    tries = stack.api("GET", f"dags/{ARCHIVE}/dagRuns/{run_id}/taskInstances/{SENSOR}/tries")
    tries.raise_for_status()
    assert [(t["try_number"], t["state"]) for t in tries.json()["task_instances"]] == [(1, "success")]


def destinations_match_their_sources(stack: AirflowStack, address: str, source_crc: dict[str, int]) -> None:
    """The demo's report and checks, on this deployment's metadata DB."""
    report = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo_report.py"), *world.DAG_ORDER],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    rows = json.loads(report.stdout.strip().splitlines()[-1])
    plane = verify_data_plane(address, rows, source_crc)
    assert plane
    assert all(ok for _, ok, _ in plane), plane
    checks = verify_destinations(address, rows, source_crc)
    assert len(checks) >= 6
    assert all(c["verified"] for c in checks), [c for c in checks if not c["verified"]]
    assert live_uploads(address) == 0


def every_task_log_is_in_cos(
    stack: AirflowStack, address: str, tis: list[dict[str, Any]], sensor_run: str
) -> None:
    expected = {
        log_key(ti["dag_id"], ti["dag_run_id"], ti["task_id"], ti["map_index"], ti["try_number"])
        for ti in tis
    }
    # The supervisor uploads after reporting the state: wait for the last objects.
    stack.wait_for(
        "every task log in COS", lambda: True if expected <= set(log_objects(address)) else None, timeout=30
    )
    bucket = world.bucket("logs")

    def text(uri: str) -> str:
        with client_for(address, bucket) as c:
            return c.get_object(bucket, uri.removeprefix(f"cos://{bucket}/")).decode(errors="replace")

    # One object for the try, appended to when the resumed half ended: both halves are in it.
    # The first half's object exists early, so wait for the append, not for the object.
    sensor_uri = log_key(ARCHIVE, sensor_run, SENSOR)
    sensor_log = stack.wait_for(
        "the resumed half in the sensor's log",
        lambda: found if "Success criteria met" in (found := text(sensor_uri)) else None,
        timeout=30,
    )
    paused, met = sensor_log.find("Pausing task as DEFERRED"), sensor_log.find("Success criteria met")
    assert 0 <= paused < met, sensor_log[-3000:]
    assert all(world.SECRET_KEY not in text(uri) for uri in expected)


def test_every_example_dag_in_a_real_deployment(
    airflow_stack: Callable[..., AirflowStack], emulator_process: EmulatorProcess, tmp_path: Path
) -> None:
    phases = Phases()
    address = emulator_process.address
    source_crc: dict[str, int] = {}
    seed(address, world.SEEDS, source_crc, lambda _: None)
    upload_dag_files(address, DAGS)
    phases.done("emulator seeded")
    stack = start_stack(airflow_stack, address, tmp_path / "bundles")
    phases.done("stack started")
    runs, deferred = run_the_example_dags(stack, address, source_crc, phases)
    tis = every_task_succeeded(stack, runs)
    destinations_match_their_sources(stack, address, source_crc)
    phases.done("destinations verified")
    every_task_log_is_in_cos(stack, address, tis, runs[ARCHIVE])
    phases.done("task logs checked")
    the_triggerer_resumed_the_sensor(stack, address, runs[ARCHIVE], deferred)
    for component in stack.components.values():
        assert world.SECRET_KEY not in component.tail(10**7), component.name
    print(phases.report())
