"""The README's first command runs this script: it must keep working, and clean up after itself."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_every_example_dag_and_leaves_nothing_behind(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py")],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,  # runs from anywhere
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "live multipart uploads on the emulator: 0" in out
    verified = re.findall(r"^cos://\S+\s+[\d,]+\s+(yes|NO.*)$", out, flags=re.M)
    assert len(verified) >= 6
    assert set(verified) == {"yes"}
    for dag_id in (
        "example_cos_daily_export_archive",
        "example_cos_mapped_multipart_copy",
        "example_cos_asset_consumer",
        "example_cos_data_plane",
    ):
        assert f"airflow dags test {dag_id} -> exit 0" in out
    assert not re.search(r"^example_\S+ / \S+\s+(?!success)\w+", out, flags=re.M)
    # The data plane: local file, upload, copy and downloaded file checked against one CRC64; the deleted key gone.
    plane = out.split("data plane check", 1)[1].split("destination", 1)[0]
    checked = re.findall(
        r"^(local file|uploaded|copy re-tagged|copy|downloaded file|deleted|cos://)\S*.*\s(yes|NO.*)$",
        plane,
        flags=re.M,
    )
    assert [what for what, _ in checked] == [
        "local file",
        "uploaded",
        "copy",
        "copy re-tagged",
        "downloaded file",
        "deleted",
        "cos://",
    ]
    assert {verdict for _, verdict in checked} == {"yes"}
    assert len(set(re.findall(r"crc64 (\d+)", plane))) == 1
    # The last step: the data-plane DAG on a real scheduler, every task's log served from COS.
    served = re.findall(
        r"^(\w+)\s+success\s+[\d,]+\s+cos://logs-1250000000/airflow/task-logs/dag_id=example_cos_data_plane/"
        r"run_id=\S+/task_id=(\w+)/attempt=1\.log$",
        out.split("remote logging: ", 1)[1],
        flags=re.M,
    )
    assert len(served) == 6, out[-4000:]
    assert all(task == in_key for task, in_key in served)
    assert re.search(r"remote logging step ok in \d+s", out)
    pid = int(re.search(r"emulator ready at \S+ \(pid (\d+)\)", out).group(1))
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_demo_connection_holds_nothing_too_short_for_airflows_masker(tmp_path):
    """Airflow registers every string of a connection's extra as a secret and warns once per
    process ("Skipping masking for a secret as it's too short") for any shorter than its
    minimum: a ``"scheme": "http"`` extra put that warning in every task and trigger log."""
    import json

    from airflow.sdk._shared.secrets_masker.secrets_masker import SecretsMasker

    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import demo
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    connection = json.loads(demo.airflow_env("http://127.0.0.1:9000", tmp_path)["AIRFLOW_CONN_COS_DEFAULT"])
    strings = [v for v in connection["extra"].values() if isinstance(v, str)]
    assert strings
    assert all(len(v) >= SecretsMasker.min_length_to_mask for v in strings), connection["extra"]
