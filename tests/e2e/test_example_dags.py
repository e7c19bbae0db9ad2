"""The shipped example DAGs: they import cleanly, and run to success in real Airflow
(``dag.test()`` on SQLite) against the emulator, leaving exactly the objects they should."""

from __future__ import annotations

import json
import re
import time
import warnings

import pytest

from cos_provider.client.crc64 import crc64
from cos_provider.emulator import FaultRule
from scripts import demo_world as world
from tests.airflow_support import EXAMPLES, run_dag, task_states, xcom
from tests.conftest import SECRET_ID, SECRET_KEY
from tests.e2e.conftest import PARSE_TIMES

pytestmark = pytest.mark.airflow_db
D = world.LOGICAL_DATE
b = world.bucket


def test_every_example_dag_imports_without_errors_or_warnings():
    from airflow.dag_processing.dagbag import DagBag

    files = sorted(EXAMPLES.glob("example_*.py"))
    assert len(files) >= 3
    for path in files:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            started = time.perf_counter()
            bag = DagBag(dag_folder=str(path))
            PARSE_TIMES[path.name] = time.perf_counter() - started
        assert bag.import_errors == {}, bag.import_errors
        assert bag.dags, f"{path.name} defines no DAG"
        ours = [w for w in caught if "cos_provider" in str(w.filename) or str(path) in str(w.filename)]
        assert ours == [], [str(w.message) for w in ours]
        for dag in bag.dags.values():
            assert dag.doc_md, f"{dag.dag_id} has no doc_md"
            # Resume after a killed worker happens only on a retry: the examples show it.
            no_retries = [t.task_id for t in dag.tasks if not t.retries]
            assert no_retries == [], f"{dag.dag_id}: tasks without retries: {no_retries}"


@pytest.fixture
def world_on_emulator(cos, monkeypatch):
    """The emulator holding the demo's buckets and sources, and cos_default pointing at it."""
    cos.reset()
    for name, (region, versioned) in world.BUCKETS.items():
        cos.create_bucket(name, region=region, versioning=versioned)
    crcs: dict[str, int] = {}
    for spec in [*world.SEEDS, *world.late_arrivals()]:
        if "size" in spec:
            info = cos.seed_synthetic(
                spec["bucket"],
                spec["key"],
                size=spec["size"],
                seed=spec["seed"],
                content_type=spec.get("content_type"),
                metadata=spec.get("metadata"),
            )
            crcs[f"{spec['bucket']}/{spec['key']}"] = int(info["crc64"])
        else:
            cos.put_object(
                spec["bucket"],
                spec["key"],
                spec["body"],
                content_type=spec.get("content_type"),
                metadata=spec.get("metadata"),
            )
            crcs[f"{spec['bucket']}/{spec['key']}"] = crc64(spec["body"])
    connection = {
        "conn_type": "tencent_cos",
        "login": SECRET_ID,
        "password": SECRET_KEY,
        "extra": {
            "region": world.REGION,
            "app_id": world.APP_ID,
            "connect_address": cos.address,
            "max_attempts": 3,
        },
    }
    monkeypatch.setenv("AIRFLOW_CONN_COS_DEFAULT", json.dumps(connection))
    return crcs


def run(dag_id: str):
    from datetime import datetime, timezone

    return run_dag(dag_id, logical_date=datetime.fromisoformat(D).replace(tzinfo=timezone.utc))


def test_daily_export_archive(airflow_db, cos, world_on_emulator):
    crcs = world_on_emulator
    dag_run = run("example_cos_daily_export_archive")
    assert set(task_states(dag_run).values()) == {"success"}, task_states(dag_run)

    # Archived exactly the export the sensor saw: same bytes (CRC64), multipart, re-tagged in place.
    seen = xcom(dag_run, "wait_for_export")[0]
    archived = cos.head(b("archive"), f"exports/{D}/data.parquet")
    assert archived["size"] == 6 * world.GiB
    assert int(archived["crc64"]) == crcs[f"{b('exports')}/exports/{D}/data.parquet"]
    assert archived["metadata"]["source-etag"] == seen["etag"]
    assert archived["metadata"]["retention"] == "400d"
    assert archived["metadata"]["archived-by-run"] == dag_run.run_id
    assert archived["metadata"]["exporter"] == "nightly-erp"  # merged, not dropped
    assert archived["content_type"] == "application/vnd.apache.parquet"
    assert archived["storage_class"].upper() == "STANDARD_IA"
    result = xcom(dag_run, "archive_export")
    assert result["part_count"] > 1
    assert result["dest_uri"] == f"cos://{b('archive')}/exports/{D}/data.parquet"

    # The day's prefix, in the warehouse; small files byte for byte.
    assert (
        cos.get_object_bytes(b("warehouse"), f"daily/{D}/schema.json")
        == b'{"fields": ["id", "amount", "ts"]}'
    )
    big = cos.head(b("warehouse"), f"daily/{D}/data.parquet")
    assert int(big["crc64"]) == crcs[f"{b('exports')}/exports/{D}/data.parquet"]
    assert sorted(xcom(dag_run, "copy_day_to_warehouse")) == sorted(
        f"cos://{b('warehouse')}/daily/{D}/{name}" for name in ("_SUCCESS", "schema.json", "data.parquet")
    )

    # The manifest moved: there, intact, metadata kept; gone from incoming.
    moved = cos.get_object_bytes(b("staging"), f"processed/{D}/manifest.json")
    assert moved == b'{"files": 3, "rows": 1200000000}'
    assert cos.head(b("staging"), f"processed/{D}/manifest.json")["metadata"] == {"producer": "erp"}
    assert cos.head(b("staging"), f"incoming/{D}/manifest.json") is None
    assert cos.live_uploads() == 0


def test_mapped_multipart_copy(airflow_db, cos, world_on_emulator):
    crcs = world_on_emulator
    dag_run = run("example_cos_mapped_multipart_copy")
    states = task_states(dag_run)
    mapped = [name for name in states if name.startswith("backup_camera_footage.copy_parts[")]
    assert len(mapped) == 8
    assert set(states.values()) == {"success"}, states
    copied = cos.head(b("media-backup"), f"raw/camera-01/{D}.mxf")
    assert copied["size"] == 50 * world.GiB
    assert int(copied["crc64"]) == crcs[f"{b('media')}/raw/camera-01/{D}.mxf"]
    assert copied["metadata"] == {"camera": "01"}
    assert copied["content_type"] == "application/mxf"
    assert copied["storage_class"].upper() == "ARCHIVE"
    assert cos.live_uploads() == 0


def test_asset_consumer_after_producer(airflow_db, cos, world_on_emulator):
    assert run("example_cos_daily_export_archive").state == "success"
    dag_run = run("example_cos_asset_consumer")
    assert task_states(dag_run) == {"check_archive": "success"}
    (seen,) = xcom(dag_run, "check_archive")
    assert seen["key"] == f"exports/{D}/data.parquet"


def test_failing_part_copies_fail_cleanly(airflow_db, cos, world_on_emulator, caplog, capfd):
    """Every part copy fails: the task fails readably, the upload is aborted, nothing is left."""
    cos.add_fault(FaultRule(operation="UploadPartCopy", kind="internal_error", permanent=True))
    dag_run = run("example_cos_mapped_multipart_copy")
    states = task_states(dag_run)
    assert dag_run.state == "failed"
    assert any(state == "failed" for name, state in states.items() if ".copy_parts[" in name), states
    assert states["backup_camera_footage.complete"] == "upstream_failed"
    assert states["backup_camera_footage.abort"] == "success"  # the teardown ran and aborted
    assert cos.live_uploads() == 0
    assert cos.head(b("media-backup"), f"raw/camera-01/{D}.mxf") is None
    # The error names the operation, the part and its byte range, and the COS request id.
    out, err = capfd.readouterr()
    text = out + err + caplog.text  # dag.test() prints task logs to stdout
    failure = re.search(
        r"CopyPartServiceError: UploadPartCopy part (\d+) \(bytes=(\d+)-(\d+)\) of upload \S+ failed: "
        r"COS error 500 InternalError.*request_id=\S+",
        text,
    )
    assert failure, text[-3000:]
    assert SECRET_KEY not in text


def file_crc64(path) -> int:
    value = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            value = crc64(chunk, value)
    return value


def test_data_plane(airflow_db, cos, world_on_emulator):
    """Upload (multipart) -> copy -> re-tag -> download -> delete: one CRC64 all the way, nothing left."""
    dag_run = run("example_cos_data_plane")
    assert set(task_states(dag_run).values()) == {"success"}, task_states(dag_run)

    local = xcom(dag_run, "write_local_file")
    local_crc = file_crc64(local["path"])
    uploaded = xcom(dag_run, "upload")
    assert uploaded["count"] == 1
    (obj,) = uploaded["objects"]
    assert obj["uri"] == f"cos://{b('ingest')}/landing/{D}/events.csv"
    assert obj["size"] == local["size"] == 20 * 1024 * 1024
    assert obj["parts"] == 5  # the multipart path, 4 MiB parts
    assert int(obj["crc64"]) == local_crc

    copied = cos.head(b("warehouse"), f"curated/events/{D}.csv")
    assert int(copied["crc64"]) == local_crc
    assert copied["metadata"] == {"produced-by": "example_cos_data_plane", "run": dag_run.run_id}
    assert copied["content_type"] == "text/csv"
    assert copied["tags"] == {"stage": "curated", "retention": "90d"}  # re-tagged, replacing "landing"

    (downloaded,) = xcom(dag_run, "download")["files"]
    assert downloaded["uri"] == f"cos://{b('warehouse')}/curated/events/{D}.csv"
    assert int(downloaded["crc64"]) == local_crc == file_crc64(downloaded["path"])
    assert downloaded["verified"] is True

    deleted = xcom(dag_run, "delete_landing")
    assert deleted["deleted_keys"] == [f"landing/{D}/events.csv"]
    assert deleted["error_count"] == 0
    assert cos.head(b("ingest"), f"landing/{D}/events.csv") is None
    assert cos.live_uploads() == 0
