"""How ``cos://`` becomes known: the distribution's entry points alone, and ``conn_id=None``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import SRC_BUCKET

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys, warnings
warnings.simplefilter("error")  # universal-pathlib's "not explicitly implemented" fallback would fail
from airflow.sdk import ObjectStoragePath
before = "cos_provider.fs" in sys.modules
p = ObjectStoragePath("cos://src/probe/a.txt", conn_id="cos_default")
p.write_text("from a fresh process")
print(json.dumps({
    "imported_before": before,
    "bucket": p.bucket, "key": p.key, "parent": str(p.parent),
    "wrapped": type(p.__wrapped__).__name__, "fs": type(p.fs).__name__,
    "text": p.read_text(),
}))
"""


def test_the_entry_points_alone_make_cos_paths_work(cos: Any, cos_connection: str, tmp_path: Path) -> None:
    """As installed from the wheel: nothing imports the provider before the path is built."""
    import tomllib

    points = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]
    dist = tmp_path / "entry_points_only-0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: entry-points-only\nVersion: 0\n")
    (dist / "entry_points.txt").write_text(
        "".join(
            f"[{group}]\ncos = {points[group]['cos']}\n\n"
            for group in ("fsspec.specs", "universal_pathlib.implementations")
        )
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)])}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got == {
        "imported_before": False,
        "bucket": "src",
        "key": "probe/a.txt",
        "parent": "cos://cos_default@src/probe",
        "wrapped": "CosPath",
        "fs": "CosFileSystem",
        "text": "from a fresh process",
    }
    assert cos.get_object_bytes(SRC_BUCKET, "probe/a.txt") == b"from a fresh process"


def test_a_path_without_conn_id_uses_cos_default(cos: Any, cos_connection: str) -> None:
    """Delegated calls build the class with no arguments; ``open``/``stat`` go through ``get_fs(None)``."""
    from airflow.sdk import ObjectStoragePath

    p = ObjectStoragePath("cos://src/noconn/x.txt")
    assert p.conn_id is None
    p.write_text("default connection")  # universal-pathlib's own CosFileSystem()
    with p.open("r") as f:  # Airflow's get_fs(None)
        assert f.read() == "default connection"
    assert p.stat()["size"] == len("default connection")
    assert p.exists() and p.parent.is_dir()
