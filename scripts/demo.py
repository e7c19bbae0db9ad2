"""The main job: every example DAG, end to end, in real Airflow, against the emulator.

    python3 scripts/dev.py demo        (sets up, then runs this)

1. starts the COS emulator on a free loopback port (a child process);
2. creates the buckets and seeds the sources the example DAGs expect
   (synthetic multi-GB objects, small files);
3. points ``cos_default`` at it through ``AIRFLOW_CONN_COS_DEFAULT``;
4. uses a throwaway ``AIRFLOW_HOME`` on SQLite;
5. runs every example DAG with ``airflow dags test``;
6. prints what each task did, whether every destination's CRC64 matches its
   source, and the emulator's count of live multipart uploads (must be 0);
7. runs the data-plane DAG once more, this time on a real scheduler and
   dag-processor (LocalExecutor, separate processes, another throwaway home),
   its DAG file read from COS by a ``CosDagBundle`` and its task logs written
   to COS (``cos_provider.log.logging_config``); prints the log objects and
   the COS URI the REST API serves each log from.
   ``airflow dags test`` cannot show remote logging: it runs tasks in its own
   process (``InProcessTestSupervisor``), which writes no log file and never
   uploads one; only a real task supervisor does.

It stops the emulator on every path and exits non-zero if anything failed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DAGS = ROOT / "dags_examples"
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from cos_provider.emulator import start_emulator_process  # noqa: E402
from scripts.demo_checks import (  # noqa: E402
    DATA_PLANE_DAG,
    admin,
    live_uploads,
    log_key,
    log_objects,
    seed,
    upload_dag_files,
    verify_data_plane,
    verify_destinations,
)
from scripts.demo_world import (  # noqa: E402
    DAG_BUNDLE,
    DAG_ORDER,
    LOGICAL_DATE,
    SEEDS,
    connection,
    dag_bundle_config,
    emulator_args,
    late_arrivals,
    remote_logging_config,
)
from tests.deployment.stack import AirflowStack, StackError  # noqa: E402

# CRC64 of every seeded source, as the seeding saw it: the independent truth
# each destination is checked against.
SOURCE_CRC: dict[str, int] = {}


def say(message: str) -> None:
    print(f"[demo] {message}", flush=True)


@contextmanager
def emulator() -> Iterator[str]:
    """The emulator as a child process in its own session; always stopped, whatever happens."""
    emu = start_emulator_process(
        ["--host", "127.0.0.1", *emulator_args()], python=BIN / "python", new_session=True
    )
    say(f"emulator ready at {emu.address} (pid {emu.pid})")
    try:
        yield emu.address
    finally:
        emu.stop()
        say("emulator stopped")


def release_late_arrivals(address: str, stop: threading.Event) -> None:
    """Make the sensor really wait: the day's export lands only after someone looks for it."""
    while not stop.is_set():
        requests_seen = admin(address, "GET", "counters")["requests"]
        if sum(requests_seen.get("ListObjects", {}).values()) + sum(
            requests_seen.get("HeadObject", {}).values()
        ):
            time.sleep(3)
            seed(address, late_arrivals(), SOURCE_CRC, say)
            return
        stop.wait(0.5)


def airflow_env(address: str, home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "AIRFLOW_CONN_COS_DEFAULT": json.dumps(connection(address)),
        "PYTHONPATH": str(ROOT),
    }


def dag_ids() -> list[str]:
    """Every example DAG, producers before the DAG scheduled on their assets."""
    ids = []
    for path in sorted(DAGS.glob("example_*.py")):
        text = path.read_text()
        marker = 'dag_id="'
        start = text.index(marker) + len(marker)
        ids.append(text[start : text.index('"', start)])
    missing = set(DAG_ORDER) ^ set(ids)
    if missing:
        raise SystemExit(f"scripts/demo_world.py DAG_ORDER and dags_examples/ disagree on {sorted(missing)}")
    return list(DAG_ORDER)


def run_dag(dag_id: str, env: dict[str, str], logs: Path) -> tuple[bool, float]:
    log_file = logs / f"{dag_id}.log"
    started = time.monotonic()
    with log_file.open("w") as out:
        code = subprocess.call(
            [str(BIN / "airflow"), "dags", "test", dag_id, LOGICAL_DATE],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    elapsed = time.monotonic() - started
    say(f"airflow dags test {dag_id} -> exit {code} in {elapsed:.1f}s (log: {log_file})")
    if code != 0:
        print("".join(log_file.read_text().splitlines(keepends=True)[-40:]))
    return code == 0, elapsed


def summarise(address: str, dags: list[str], env: dict[str, str]) -> bool:
    """Print the table; True when every task succeeded and every destination verified."""
    out = subprocess.run(
        [str(BIN / "python"), str(ROOT / "scripts" / "demo_report.py"), *dags],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = json.loads(out.stdout.strip().splitlines()[-1])
    return print_report(address, rows)


def print_report(address: str, rows: list[dict[str, Any]]) -> bool:
    ok = True
    print()
    print(f"{'dag / task':<66} {'state':<9} {'secs':>6}  what it did")
    print("-" * 120)
    for row in rows:
        ok &= row["state"] == "success"
        print(
            f"{row['dag_id'] + ' / ' + row['task_id']:<66} {row['state']:<9} {row['duration']:>6.1f}  {row['what']}"
        )
    print()
    plane = verify_data_plane(address, rows, SOURCE_CRC)
    print(f"{'data plane check':<104} ok")
    print("-" * 110)
    for what, passed, why in plane:
        ok &= passed
        print(f"{what:<104} {'yes' if passed else 'NO: ' + why}")
    print()
    checks = verify_destinations(address, rows, SOURCE_CRC)
    print(f"{'destination':<78} {'size':>14}  crc64 verified")
    print("-" * 110)
    for check in checks:
        ok &= check["verified"]
        print(
            f"{check['uri']:<78} {check['size']:>14,}  {'yes' if check['verified'] else 'NO: ' + check['why']}"
        )
    live = live_uploads(address)
    ok &= live == 0 and bool(checks)
    print()
    print(f"live multipart uploads on the emulator: {live}")
    return ok


REMOTE_LOG_DAG = DATA_PLANE_DAG  # re-runnable: it deletes what it uploaded


def remote_logging_step(address: str) -> bool:
    """One example DAG from a COS bundle on a real scheduler and dag-processor, its task logs in COS."""
    say(
        f"remote logging: {REMOTE_LOG_DAG} on a real scheduler + dag-processor, DAG file and task logs in COS"
    )
    started = time.monotonic()
    home = Path(tempfile.mkdtemp(prefix="cos-demo-deployment-"))
    stack = AirflowStack(
        home,
        components=["scheduler", "dag-processor", "api-server"],
        name="demo-remote-logging",
        config={
            "scheduler": {"use_job_schedule": False},
            "logging": remote_logging_config(),
            "dag_processor": dag_bundle_config(home / "bundles"),
        },
        env={"AIRFLOW_CONN_COS_DEFAULT": json.dumps(connection(address))},
    )
    (dag_uri,) = upload_dag_files(address, [DAGS / f"{REMOTE_LOG_DAG}.py"])
    say(f"DAG file uploaded to {dag_uri}, the CosDagBundle {DAG_BUNDLE['name']!r} is the only bundle")
    rows: list[tuple[str, str, str, str]] = []
    try:
        with stack:
            say(f"scheduler, dag-processor and api-server up at {stack.base_url} (AIRFLOW_HOME={home})")
            dag = stack.wait_for_dag(REMOTE_LOG_DAG, timeout=90)
            say(
                f"{REMOTE_LOG_DAG} parsed from bundle {dag['bundle_name']!r} (file {dag['relative_fileloc']})"
            )
            ok = dag["bundle_name"] == DAG_BUNDLE["name"]
            run_id = stack.trigger_dag(REMOTE_LOG_DAG, logical_date=f"{LOGICAL_DATE}T00:00:00+00:00")
            state = stack.wait_for_run(REMOTE_LOG_DAG, run_id, timeout=180)
            tis = stack.task_instances(REMOTE_LOG_DAG, run_id)
            keys = {
                t: log_key(REMOTE_LOG_DAG, run_id, t, ti["map_index"], ti["try_number"])
                for t, ti in tis.items()
            }
            # The supervisor uploads after reporting the state: the last object may lag a moment.
            found = stack.wait_for(
                "the task log objects",
                lambda: objects if set(keys.values()) <= set(objects := log_objects(address)) else None,
                timeout=30,
            )
            for task_id, ti in sorted(tis.items(), key=lambda item: item[1]["start_date"] or ""):
                text = stack.task_log_text(REMOTE_LOG_DAG, run_id, task_id)
                served = next((ln for ln in text.splitlines() if ln.startswith("cos://")), "not from COS")
                rows.append((task_id, ti["state"], f"{found[keys[task_id]]:,}", served))
    except StackError as exc:
        say(f"remote logging step FAILED: {exc} (logs in {stack.artifacts})")
        return False
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print()
    print(
        f"{'task (' + REMOTE_LOG_DAG + ', real scheduler)':<50} {'state':<9} {'log bytes':>10}  log served by the API from"
    )
    print("-" * 150)
    for task_id, ti_state, size, served in rows:
        print(f"{task_id:<50} {ti_state:<9} {size:>10}  {served}")
    ok &= state == "success" and all(r[1] == "success" and r[3].startswith("cos://") for r in rows)
    print()
    say(f"remote logging step {'ok' if ok else 'FAILED'} in {time.monotonic() - started:.0f}s")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--keep", action="store_true", help="keep the throwaway AIRFLOW_HOME")
    args = parser.parse_args()
    started = time.monotonic()
    home = Path(tempfile.mkdtemp(prefix="cos-demo-airflow-"))
    say(f"AIRFLOW_HOME={home} (SQLite)")
    ok = True
    with emulator() as address:
        seed(address, SEEDS, SOURCE_CRC, say)
        env = airflow_env(address, home)
        subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, check=True, capture_output=True)
        say("metadata DB migrated")
        stop = threading.Event()
        releaser = threading.Thread(target=release_late_arrivals, args=(address, stop), daemon=True)
        releaser.start()
        dags = dag_ids()
        for dag_id in dags:
            ran, _ = run_dag(dag_id, env, home)
            ok &= ran
        stop.set()
        ok &= summarise(address, dags, env)
        ok &= remote_logging_step(address)
    say(f"{'SUCCESS' if ok else 'FAILED'} in {time.monotonic() - started:.0f}s")
    if not args.keep and ok:
        shutil.rmtree(home, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
