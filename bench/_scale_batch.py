"""Row 3 of ``bench/scale.py``: a Batch Operations job for ``n`` objects, end to end.

``measure_batch_job(n)`` starts an in-process emulator, seeds ``n`` small
objects straight into its store (one shared immutable body: 100,000 objects
in well under a second, no HTTP), and runs ``CosBatchCopyJobOperator``'s
real flow: ``execute()`` lists the prefix into the manifest, writes it,
creates and confirms the job and defers; the real ``CosBatchJobTrigger``
then polls DescribeJob on an asyncio loop until the job ends; then
``execute_complete()`` reads the report and returns the counts. Requests are
split by phase from the emulator's counters: what the worker sent (execute
and execute_complete) and what the trigger sent while the task was deferred.

The job runs at the emulator's modelled rate (``rate`` objects/s), so
``deferred_s`` is about ``n / rate`` plus one poll interval; ``running_s`` is
the worker's own time (listing, manifest upload, CreateJob, report reading), of which
``manifest_s`` is listing the prefix and uploading the manifest.
"""

from __future__ import annotations

import contextlib

# Run as a script, bench/ is sys.path[0] and bench/copy.py would shadow the standard library's
# copy: _bench_path fixes sys.path. Imported as bench._scale_batch from the root, it is not found.
with contextlib.suppress(ImportError):
    import _bench_path  # noqa: F401

import asyncio
import json
import os
import sys
import tempfile
import time
from typing import Any

SECRET_ID = "AKIDbenchBatch00000000000000000000"
SECRET_KEY = "bench-batch-secret-key-0123456789"
APP_ID = "1250000000"
REGION = "ap-beijing"
UIN = "100000000001"
SRC, DST = f"src-{APP_ID}", f"dst-{APP_ID}"
CONN_ID = "cos_bench_batch"
ROLE = f"qcs::cam::uin/{UIN}:roleName/COS_Batch_QcsRole"


def _requests(emu: Any) -> dict[str, int]:
    return {op: sum(statuses.values()) for op, statuses in emu.counters()["requests"].items()}


def _diff(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    out = {op: n - before.get(op, 0) for op, n in after.items()}
    return {op: n for op, n in sorted(out.items()) if n}


def _seed(emu: Any, n: int, size: int) -> float:
    """``n`` objects of ``size`` bytes under ``data/``, straight into the store (no HTTP)."""
    import hashlib

    from cos_provider.emulator.content import Content
    from cos_provider.emulator.store import ObjectAttrs

    began = time.perf_counter()
    body = b"b" * size
    content, etag = Content.from_bytes(body), hashlib.md5(body).hexdigest()
    bucket = emu.store.bucket(SRC)
    attrs = ObjectAttrs()
    for i in range(n):
        emu.store.put(bucket, f"data/{i:07d}.bin", content, etag, attrs)
    return time.perf_counter() - began


def measure_batch_job(
    n: int = 100_000, *, rate: float = 25_000.0, poll_interval: float = 0.5, object_size: int = 64
) -> dict[str, Any]:
    """Run the batch operator's flow for ``n`` objects; requests by phase and time deferred vs running."""
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="cos-bench-batch-"))
    from airflow.sdk.exceptions import TaskDeferred

    from cos_provider.emulator import CosEmulator
    from cos_provider.operators.batch import CosBatchCopyJobOperator

    with CosEmulator(credentials={SECRET_ID: SECRET_KEY}, owner_uin=UIN) as emu:
        emu.create_bucket(SRC, region=REGION)
        emu.create_bucket(DST, region=REGION)
        seed_s = _seed(emu, n, object_size)
        emu.batch_jobs.set_rate(rate)
        os.environ[f"AIRFLOW_CONN_{CONN_ID.upper()}"] = json.dumps(
            {
                "conn_type": "tencent_cos",
                "login": SECRET_ID,
                "password": SECRET_KEY,
                "extra": {"region": REGION, "app_id": APP_ID, "connect_address": emu.address},
            }
        )
        op = CosBatchCopyJobOperator(
            task_id="bench_batch",
            cos_conn_id=CONN_ID,
            source_bucket="src",
            prefix="data/",
            dest_bucket="dst",
            dest_prefix="copied/",
            role_arn=ROLE,
            manifest_key="_bench/manifest.csv",
            report_prefix="_bench/report",
            poll_interval=poll_interval,
        )
        listing: list[float] = []
        write_manifest = op.hook.write_batch_manifest

        def timed_manifest(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return write_manifest(*args, **kwargs)
            finally:
                listing.append(time.perf_counter() - began)

        op.hook.write_batch_manifest = timed_manifest  # type: ignore[method-assign]
        before = _requests(emu)
        t0 = time.perf_counter()
        try:
            op.execute({})
        except TaskDeferred as deferred:
            trigger, kwargs = deferred.trigger, deferred.kwargs or {}
        else:  # pragma: no cover - the operator always defers for a non-empty selection
            raise RuntimeError("the batch operator did not defer")
        t1 = time.perf_counter()
        mid = _requests(emu)
        event = asyncio.run(_first_event(trigger))
        t2 = time.perf_counter()
        after_wait = _requests(emu)
        result = op.execute_complete({}, event, **kwargs)
        t3 = time.perf_counter()
        end = _requests(emu)
        worker = _diff(mid, before)
        for op_name, count in _diff(end, after_wait).items():
            worker[op_name] = worker.get(op_name, 0) + count
        return {
            "objects": n,
            "rate_objects_per_s": rate,
            "seed_s": round(seed_s, 3),
            "requests_by_worker": dict(sorted(worker.items())),
            "requests_by_worker_total": sum(worker.values()),
            "requests_by_trigger": _diff(after_wait, mid),
            "deferred_s": round(t2 - t1, 3),
            "running_s": round((t1 - t0) + (t3 - t2), 3),
            "manifest_s": round(sum(listing), 3),
            "total_s": round(t3 - t0, 3),
            "ideal_job_s": round(n / rate, 3),
            "succeeded": result["succeeded"],
            "failed": result["failed"],
            "job_id": result["job_id"],
        }


async def _first_event(trigger: Any) -> dict[str, Any]:
    async for event in trigger.run():
        return dict(event.payload)
    raise RuntimeError("the batch trigger fired no event")


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    print(json.dumps(measure_batch_job(count), indent=2))
