"""Seeding the demo world into an emulator, and checking what the example DAGs left there.

Shared by the demo (``scripts/demo.py``, ``airflow dags test``) and the
deployment test (``tests/deployment/test_example_dags_deployment.py``, real
scheduler and triggerer), so both hold the DAGs to the same standard: every
destination's CRC64 equals its source's as the seeding saw it, the data-plane
chain keeps one CRC64 from local file to downloaded file, and no multipart
upload is left.

``source_crc`` maps ``cos://bucket/key`` of each seeded source to its CRC64:
the independent truth, filled by :func:`seed`, read by the checks.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import requests

from cos_provider.client import operations as ops
from cos_provider.client.client import CosClient
from cos_provider.client.crc64 import crc64
from cos_provider.client.credentials import Credentials
from cos_provider.client.endpoints import Endpoint
from cos_provider.client.errors import CosError, CosServiceError
from scripts.demo_world import (
    APP_ID,
    BUCKETS,
    DAG_BUNDLE_PREFIX,
    LOG_FOLDER,
    SECRET_ID,
    SECRET_KEY,
    GiB,
    prefix_copy_source,
)

DATA_PLANE_DAG = "example_cos_data_plane"
Check = tuple[str, bool, str]
"""(what was checked, passed, why not)."""


def admin(address: str, method: str, path: str, body: Any = None) -> Any:
    """The emulator's admin API (``/_emulator/...``): seeding synthetic objects, counters."""
    resp = requests.request(method, f"{address}/_emulator/{path}", json=body, timeout=30)
    resp.raise_for_status()
    return resp.json() if resp.content else None


def live_uploads(address: str) -> int:
    """Multipart uploads initiated and neither completed nor aborted, on every bucket."""
    return int(admin(address, "GET", "counters")["live_uploads"])


def client_for(address: str, bucket: str) -> CosClient:
    region = BUCKETS[bucket][0]
    return CosClient(
        Credentials(SECRET_ID, SECRET_KEY), Endpoint(region=region, scheme="http", connect_address=address)
    )


def seed(address: str, seeds: Iterable[dict[str, Any]], source_crc: dict[str, int], say: Any = print) -> None:
    """Create each source (synthetic through the admin API, small ones by PUT); record its CRC64."""
    for spec in seeds:
        uri = f"cos://{spec['bucket']}/{spec['key']}"
        if "size" in spec:
            source_crc[uri] = int(admin(address, "POST", "seed", spec)["crc64"])
            say(f"seeded {uri} ({spec['size'] / GiB:.1f} GiB synthetic)")
        else:
            with client_for(address, spec["bucket"]) as c:
                c.put_object(
                    spec["bucket"],
                    spec["key"],
                    spec["body"],
                    content_type=spec.get("content_type"),
                    metadata=spec.get("metadata"),
                )
            source_crc[uri] = crc64(spec["body"])
            say(f"seeded {uri} ({len(spec['body'])} bytes)")


def upload_dag_files(address: str, paths: Iterable[Path]) -> list[str]:
    """Put DAG files where :data:`~scripts.demo_world.DAG_BUNDLE` reads them; returns their ``cos://`` URIs."""
    bucket = f"dags-{APP_ID}"
    uris = []
    with client_for(address, bucket) as c:
        for path in paths:
            c.put_object(bucket, DAG_BUNDLE_PREFIX + path.name, path.read_bytes())
            uris.append(f"cos://{bucket}/{DAG_BUNDLE_PREFIX}{path.name}")
    return uris


def destinations(rows: list[dict[str, Any]]) -> dict[str, str]:
    """Every object the DAGs wrote (from the tasks' XCom results), mapped to the source it must equal."""
    found: dict[str, str] = {}
    for row in rows:
        result = row["result"]
        if isinstance(result, dict) and "dest_uri" in result and "source_uri" in result:
            found[result["dest_uri"]] = found.get(result["source_uri"], result["source_uri"])
        elif isinstance(result, list) and result and all(isinstance(u, str) for u in result):
            for uri in result:
                found[uri] = prefix_copy_source(uri)
    return found


def verify_destinations(
    address: str, rows: list[dict[str, Any]], source_crc: dict[str, int]
) -> list[dict[str, Any]]:
    """HEAD every destination; ``verified`` when its CRC64 is its source's."""
    checks = []
    for dest, source in sorted(destinations(rows).items()):
        bucket, key = dest.removeprefix("cos://").split("/", 1)
        check: dict[str, Any] = {"uri": dest, "size": 0, "verified": False, "why": ""}
        try:
            with client_for(address, bucket) as c:
                info = c.head_object(bucket, key, region=BUCKETS[bucket][0])
        except CosError as exc:
            check["why"] = f"HEAD failed: {exc}"
            checks.append(check)
            continue
        check["size"] = info.size
        expected = source_crc.get(source)
        if expected is None:
            check["why"] = f"unknown source {source}"
        elif info.crc64 != expected:
            check["why"] = f"crc64 {info.crc64} != source {source} {expected}"
        else:
            check["verified"] = True
        checks.append(check)
    return checks


def file_crc64(path: str) -> int:
    value = 0
    with open(path, "rb") as f:
        while chunk := f.read(8 * 1024 * 1024):
            value = crc64(chunk, value)
    return value


def verify_data_plane(address: str, rows: list[dict[str, Any]], source_crc: dict[str, int]) -> list[Check]:
    """The data-plane DAG: one CRC64 from the local file to the downloaded one; what it deleted is gone.

    The local and downloaded files are read back here, the copy is HEADed
    here; the upload's CRC64 (its object is deleted by then) is the XCom's,
    which the upload checked against COS's answer. Registers the uploaded
    object as a known source, so :func:`verify_destinations` checks the copy too.
    """
    results = {r["task_id"]: r["result"] for r in rows if r["dag_id"] == DATA_PLANE_DAG}
    checks: list[Check] = []

    def check(what: str, ok: bool, why: str = "") -> None:
        checks.append((what, ok, why))

    try:
        local_path = results["write_local_file"]["path"]
        local = file_crc64(local_path)
        check(f"local file {local_path} crc64 {local}", True)
        (uploaded,) = results["upload"]["objects"]
        source_crc[uploaded["uri"]] = local
        check(
            f"uploaded {uploaded['uri']} ({uploaded['parts']} parts) crc64 {uploaded['crc64']}",
            int(uploaded["crc64"]) == local and uploaded["parts"] > 1,
            "not the local file's CRC64, or not multipart",
        )
        copy_uri = results["copy_to_warehouse"]["dest_uri"]
        bucket, key = copy_uri.removeprefix("cos://").split("/", 1)
        with client_for(address, bucket) as c:
            remote = c.head_object(bucket, key, region=BUCKETS[bucket][0]).crc64
            tags = dict(c.execute(ops.get_object_tagging(c.ref(bucket, key, region=BUCKETS[bucket][0]))))
        check(f"copy {copy_uri} crc64 {remote}", remote == local, "not the local file's CRC64")
        # The upload tagged it stage=landing, the copy kept that, the re-tag replaced it.
        check(f"copy re-tagged {tags}", tags.get("stage") == "curated", "still the upload's tags")
        (downloaded,) = results["download"]["files"]
        on_disk = file_crc64(downloaded["path"])
        check(
            f"downloaded file {downloaded['path']} crc64 {on_disk}",
            on_disk == local == int(downloaded["crc64"]),
            "not the local file's CRC64",
        )
        deleted = results["delete_landing"]
        gone_bucket = deleted["bucket"]
        check(f"deleted {deleted['deleted_count']} key(s)", deleted["deleted_count"] >= 1, "nothing deleted")
        for gone in deleted["deleted_keys"]:
            try:
                with client_for(address, gone_bucket) as c:
                    c.head_object(gone_bucket, gone, region=BUCKETS[gone_bucket][0])
                check(f"cos://{gone_bucket}/{gone} is gone", False, "still there")
            except CosServiceError as exc:
                check(f"cos://{gone_bucket}/{gone} is gone", exc.status == 404, str(exc))
    except (KeyError, TypeError, ValueError, OSError, CosError) as exc:
        check(f"{DATA_PLANE_DAG} results", False, f"{type(exc).__name__}: {exc}")
    return checks


def log_objects(address: str) -> dict[str, int]:
    """The task-log objects under :data:`~scripts.demo_world.LOG_FOLDER`: ``cos://`` URI -> size."""
    bucket, prefix = LOG_FOLDER.removeprefix("cos://").split("/", 1)
    with client_for(address, bucket) as c:
        return {f"cos://{bucket}/{o.key}": o.size for o in c.iter_objects(bucket, prefix=prefix + "/")}


def log_key(dag_id: str, run_id: str, task_id: str, map_index: int = -1, try_number: int = 1) -> str:
    """Where Airflow's default ``log_filename_template`` puts a try's log, under the log folder."""
    mapped = f"map_index={map_index}/" if map_index >= 0 else ""
    return f"{LOG_FOLDER}/dag_id={dag_id}/run_id={run_id}/task_id={task_id}/{mapped}attempt={try_number}.log"
