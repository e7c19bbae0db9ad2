"""Scale benchmark: throttled copies, a 100,000-object prefix, a batch job; on the emulator.

    .venv/bin/python bench/scale.py            # every row (~5-6 minutes)
    .venv/bin/python bench/scale.py --quick    # 2,000 / 10,000 objects, for a smoke run

The emulator runs in this process; every client runs in its own child
process (its CPU time and RSS are its own, and it does not share the GIL with
the emulator). Objects are seeded with the emulator's bulk seed
(``seed_many``: 100,000 objects in seconds).

Rows:

1. 10,000 objects of 1 KB copied within one bucket limited to 500 requests/s
   (token bucket, a burst of 50), 30 ms per request:
   a. ``CosCopyPrefixOperator`` with ``concurrency=32``: its time against the
      limit's ideal (the bucket's successful requests / 500 per s), the 503
      SlowDowns it received per 1,000 successful requests, and whether any
      copy failed;
   b. a loop of SDK ``copy_object`` calls on a fixed pool of 32 threads (the
      SDK retries 5xx 3 times, sleeping 1, 2, 3 s): the same figures, and
      how many copies failed for good;
   c. one plain loop of SDK ``copy_object`` calls, on a tenth of the objects
      (never throttled: one request at a time crawls at 1 / 30 ms).
2. 100,000 objects of 1 KB, no rate limit, 30 ms per request:
   ``CosHook.copy_prefix`` with ``concurrency=16`` (its default): peak RSS
   growth over the RSS before the copy, and the time against the latency
   model's ideal (``ceil(N / 16)`` rounds of 30 ms, plus the first listing
   page).
3. A COS Batch Operations job for 100,000 objects, measured by
   ``bench/_scale_batch.py`` (``measure_batch_job``) when that module exists.

The last line is ``throttled_ratio_vs_ideal=… slowdowns_per_1000=…
prefix100k_rss_growth_mb=… prefix100k_ratio_vs_ideal=…``. Goals: within
1.25x of the ideal under throttling with fewer than 50 SlowDowns per 1,000
requests; RSS growth under 30 MB; within 1.2x of the ideal without throttling.
"""

# ruff: noqa: I001  (_bench_path must be imported first)
from __future__ import annotations

import _bench_path
import _harness

import argparse
import importlib.util
import inspect
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

ROOT = _bench_path.ROOT

SECRET_ID = "AKIDbenchScale00000000000000000000"
SECRET_KEY = "bench-scale-secret-key-0123456789"
APP_ID = "1250000000"
REGION = "ap-beijing"
THROTTLED, SRC, DST = f"throttled-{APP_ID}", f"src-{APP_ID}", f"dst-{APP_ID}"
LATENCY = 0.03
RATE_LIMIT, BURST = 500.0, 50.0
CONCURRENCY = 32
"""Row 1: the fixed pool of the issue, which the adaptive limit must tame."""
PREFIX_CONCURRENCY = 16
"""Row 2: the operator's default; 16 copies of 30 ms are ~530 requests/s, what the emulator (one
Python process) sustains on a small machine, so the ideal measures the client, not the server."""
OBJECT_SIZE = 1024


# ---------------------------------------------------------------- workers (child processes)


def _rss_now_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024**2


def _usage() -> tuple[float, float]:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def _sdk(address: str, pool: int) -> Any:
    return _harness.sdk_client(address, REGION, SECRET_ID, SECRET_KEY, pool)


class _TI:
    def xcom_push(self, key: str, value: Any) -> None:
        pass


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    kind = spec["kind"]
    out: dict[str, Any] = {}
    if kind == "operator":
        from cos_provider.hooks.cos import CosHook
        from cos_provider.operators.prefix_copy import CosCopyPrefixOperator

        CosHook("cos_default").get_conn()  # resolve the connection before timing
        op = CosCopyPrefixOperator(
            task_id="bench",
            source_bucket=spec["bucket"],
            prefix=spec["prefix"],
            dest_prefix=spec["dest_prefix"],
            concurrency=spec["concurrency"],
        )
        cpu0, _ = _usage()
        t0 = time.perf_counter()
        out["copied"] = len(op.execute({"ti": _TI()}))  # type: ignore[arg-type]
        out["elapsed"] = time.perf_counter() - t0
    elif kind == "hook":
        import gc

        from cos_provider.hooks.cos import CosHook

        hook = CosHook("cos_default")
        hook.get_conn()
        gc.collect()
        before = _rss_now_mb()
        cpu0, _ = _usage()
        t0 = time.perf_counter()
        result = hook.copy_prefix(
            spec["source_bucket"],
            spec["dest_bucket"],
            prefix=spec["prefix"],
            concurrency=spec["concurrency"],
        )
        out["elapsed"] = time.perf_counter() - t0
        out["copied"] = len(result.copied)
        out["failures"] = len(result.failures)
        out["rss_before_mb"] = before
    elif kind == "sdk_pool":
        from qcloud_cos.cos_exception import CosException

        sdk = _sdk(spec["address"], spec["threads"])
        keys = [f"{spec['prefix']}{n:08d}" for n in range(spec["count"])]
        failed = 0
        lock = threading.Lock()

        def copy(key: str) -> None:
            nonlocal failed
            try:
                sdk.copy_object(
                    spec["bucket"],
                    spec["dest_prefix"] + key[len(spec["prefix"]) :],
                    {"Bucket": spec["bucket"], "Key": key, "Region": REGION},
                )
            except CosException:
                with lock:
                    failed += 1

        cpu0, _ = _usage()
        t0 = time.perf_counter()
        with ThreadPoolExecutor(spec["threads"]) as pool:
            list(pool.map(copy, keys))
        out["elapsed"] = time.perf_counter() - t0
        out["failed"] = failed
    else:
        raise SystemExit(f"unknown worker kind {kind!r}")
    cpu1, peak = _usage()
    out["cpu"] = cpu1 - cpu0
    out["maxrss_mb"] = peak
    return out


def run_worker(spec: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps(spec)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"worker {spec['kind']} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- emulator figures


def _ok_requests(emu: Any) -> int:
    """Requests the emulator answered with something else than 503 (all buckets)."""
    counts = emu.counters()["requests"]
    return sum(n for per_op in counts.values() for status, n in per_op.items() if status != "503")


def _slowdowns(emu: Any) -> int:
    return int(emu.counters()["slowdowns"]["total"])


def _batch_row(emu: Any, env: dict[str, str], count: int, quick: bool) -> str:
    """Row 3, from ``bench/_scale_batch.py`` (another benchmark's module) when it exists."""
    path = _bench_path.HERE / "_scale_batch.py"
    if not path.exists():
        return "not available (bench/_scale_batch.py is missing)"
    spec = importlib.util.spec_from_file_location("_scale_batch", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    measure = getattr(module, "measure_batch_job", None)
    if measure is None:
        return "not available (no measure_batch_job in bench/_scale_batch.py)"
    offered = {
        "emulator": emu,
        "emu": emu,
        "env": env,
        "count": count,
        "objects": count,
        "quick": quick,
        "address": emu.address,
        "secret_id": SECRET_ID,
        "secret_key": SECRET_KEY,
        "app_id": APP_ID,
        "region": REGION,
    }
    params = inspect.signature(measure).parameters
    takes_all = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    kwargs = {k: v for k, v in offered.items() if takes_all or k in params}
    result = measure(**kwargs)
    if isinstance(result, dict):
        return ", ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in result.items())
    return str(result)


def _prefix_row(emu: Any, env: dict[str, str], count: int) -> dict[str, Any]:
    server_cpu0, _ = _usage()  # this process: the emulator (the client is a child)
    hook = run_worker(
        {
            "kind": "hook",
            "source_bucket": SRC,
            "dest_bucket": DST,
            "prefix": "p/",
            "concurrency": PREFIX_CONCURRENCY,
        },
        env,
    )
    server_cpu = _usage()[0] - server_cpu0
    assert hook["copied"] == count and hook["failures"] == 0, hook
    ideal = math.ceil(count / PREFIX_CONCURRENCY) * LATENCY + LATENCY
    growth = hook["maxrss_mb"] - hook["rss_before_mb"]
    print(
        f"2. {count:,} x 1 KB, CosHook.copy_prefix, concurrency {PREFIX_CONCURRENCY}, no rate limit",
        flush=True,
    )
    _row(
        f"   time / ideal (ceil({count:,}/{PREFIX_CONCURRENCY}) x {LATENCY * 1000:.0f} ms + 1 listing)",
        f"{hook['elapsed']:7.2f} s / {ideal:6.2f} s = {hook['elapsed'] / ideal:.2f}x",
    )
    _row(
        "   peak RSS growth (peak - RSS before the copy)",
        f"{growth:7.1f} MB (peak {hook['maxrss_mb']:.0f} MB)",
    )
    _row(
        "   CPU: client / emulator (both must fit in the ideal's wall time)",
        f"{hook['cpu']:7.1f} s / {server_cpu:.1f} s ({(hook['cpu'] + server_cpu) * 1000 / count:.2f} ms a copy)",
    )
    return hook


def _row(name: str, value: str) -> None:
    print(f"{name:<62} {value}", flush=True)


# ---------------------------------------------------------------- main


def main(quick: bool, only: set[int]) -> None:
    from cos_provider.emulator import CosEmulator

    throttled_count = 2_000 if quick else 10_000
    prefix_count = 10_000 if quick else 100_000
    emu = CosEmulator(credentials={SECRET_ID: SECRET_KEY})
    emu.start()
    for name in (THROTTLED, SRC, DST):
        emu.create_bucket(name, region=REGION)
    home = tempfile.mkdtemp(prefix="cos-bench-scale-")
    conn = {
        "conn_type": "tencent_cos",
        "login": SECRET_ID,
        "password": SECRET_KEY,
        "extra": {
            "region": REGION,
            "app_id": APP_ID,
            "connect_address": emu.address,
        },
    }
    env = {
        **os.environ,
        "AIRFLOW_HOME": home,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW_CONN_COS_DEFAULT": json.dumps(conn),
        "PYTHONPATH": str(ROOT),
    }

    row = _row
    t0 = time.perf_counter()
    emu.seed_many(THROTTLED, "t/", throttled_count, size=OBJECT_SIZE)
    emu.seed_many(SRC, "p/", prefix_count, size=OBJECT_SIZE)
    print(
        f"seeded {throttled_count + prefix_count:,} objects in {time.perf_counter() - t0:.1f} s; "
        f"model: {LATENCY * 1000:.0f} ms per request",
        flush=True,
    )

    results: dict[str, dict[str, Any]] = {}
    ours: dict[str, Any] = {"elapsed": math.nan, "ideal": 1.0, "slowdowns": math.nan, "ok": 1}
    hook: dict[str, Any] = {"elapsed": math.nan}
    ideal2, growth = 1.0, math.nan
    # 1. throttled
    emu.set_model(latency=LATENCY, bucket_rate_limits={THROTTLED: RATE_LIMIT}, rate_limit_burst=BURST)
    print(
        f"1. {throttled_count:,} x 1 KB within one bucket limited to {RATE_LIMIT:.0f} requests/s "
        f"(burst {BURST:.0f}), {CONCURRENCY} at most at once",
        flush=True,
    )
    for label, spec in (
        ()
        if 1 not in only
        else (
            (
                "a. CosCopyPrefixOperator",
                {"kind": "operator", "bucket": THROTTLED, "prefix": "t/", "dest_prefix": "ours/"},
            ),
            (
                "b. SDK copy_object loop, 32 threads",
                {
                    "kind": "sdk_pool",
                    "address": emu.address,
                    "bucket": THROTTLED,
                    "prefix": "t/",
                    "dest_prefix": "sdk/",
                    "count": throttled_count,
                    "threads": CONCURRENCY,
                },
            ),
        )
    ):
        ok0, slow0 = _ok_requests(emu), _slowdowns(emu)
        result = run_worker({**spec, "concurrency": CONCURRENCY}, env)
        ok, slow = _ok_requests(emu) - ok0, _slowdowns(emu) - slow0
        ideal = ok / RATE_LIMIT
        result.update(ok=ok, slowdowns=slow, ideal=ideal)
        results[label] = result
        failed = result.get("failed", throttled_count - result.get("copied", 0))
        row(
            f"   {label}: time / ideal ({ok:,} requests / {RATE_LIMIT:.0f}/s)",
            f"{result['elapsed']:7.2f} s / {ideal:6.2f} s = {result['elapsed'] / ideal:.2f}x",
        )
        row(f"   {label}: 503 SlowDown received", f"{slow:7,d} ({slow * 1000 / ok:.1f} per 1,000 requests)")
        row(f"   {label}: copies failed", f"{failed:7,d}")
    ours = results.get("a. CosCopyPrefixOperator", ours)
    if 1 in only:
        sample = throttled_count // 10
        slow0 = _slowdowns(emu)
        loop = run_worker(
            {
                "kind": "sdk_pool",
                "address": emu.address,
                "bucket": THROTTLED,
                "prefix": "t/",
                "dest_prefix": "loop/",
                "count": sample,
                "threads": 1,
            },
            env,
        )
        slow = _slowdowns(emu) - slow0
        row(
            f"   c. one loop of SDK copy_object: {sample:,} objects (x10 for all)",
            f"{loop['elapsed']:7.2f} s ({loop['elapsed'] * 10:.0f} s for {throttled_count:,}), "
            f"{slow} SlowDowns, {loop['failed']} failed",
        )
    emu.set_model(bucket_rate_limits={}, rate_limit_burst=None)

    # 2. a big prefix, no throttling
    emu.set_model(latency=LATENCY)
    if 2 in only:
        hook = _prefix_row(emu, env, prefix_count)
        ideal2 = math.ceil(prefix_count / PREFIX_CONCURRENCY) * LATENCY + LATENCY
        growth = hook["maxrss_mb"] - hook["rss_before_mb"]
    emu.set_model(latency=0.0)

    # 3. batch job
    if 3 in only:
        print(f"3. batch job for {prefix_count:,} objects", flush=True)
        row("   measure_batch_job", _batch_row(emu, env, prefix_count, quick))
    emu.stop()

    ratio1 = ours["elapsed"] / ours["ideal"]
    per_1000 = ours["slowdowns"] * 1000 / ours["ok"]
    ratio2 = hook["elapsed"] / ideal2
    print()
    print(
        f"goals: throttled <= 1.25x ideal: {ratio1:.2f}x; SlowDowns < 50 per 1,000: {per_1000:.1f}; "
        f"RSS growth < 30 MB: {growth:.1f}; unthrottled <= 1.2x ideal: {ratio2:.2f}x"
    )
    print(
        f"throttled_ratio_vs_ideal={ratio1:.2f} slowdowns_per_1000={per_1000:.1f} "
        f"prefix100k_rss_growth_mb={growth:.1f} prefix100k_ratio_vs_ideal={ratio2:.2f}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="2,000 throttled and 10,000 prefix objects")
    parser.add_argument("--only", type=int, action="append", choices=(1, 2, 3), help="run these rows")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
    else:
        main(args.quick, set(args.only or (1, 2, 3)))
