"""Copy benchmark: our engine and operators against cos-python-sdk-v5, on the emulator.

    .venv/bin/python bench/copy.py            # every row (~3-4 minutes)
    .venv/bin/python bench/copy.py --quick    # smaller sizes, for a smoke run

The emulator runs in this process with the model of the issue: 30 ms per
request, 100 MB/s per copy request, 2 GB/s shared by all copies. Every
client (ours and the SDK's) runs in its own child process, so its CPU time
and peak RSS are its own and it does not share the GIL with the emulator.

Rows:

1. a 20 GiB cross-region copy by ``CosCopyObjectOperator`` with defaults
   (rows 1 and 3 run ``--repeat`` times, alternately; medians are shown);
2. the same by the SDK's ``copy()`` with its defaults (10 MB parts, 5 threads);
3. the same by the SDK at our part size and concurrency (and a pool as big);
4. the model's ideal time (``cos_provider.emulator.ideal_copy_time``) for our
   plan and for the best plan (every MiB part size, concurrency 1..64);
5. 2,000 objects of 1 KB: ``CosCopyPrefixOperator`` against a loop of SDK
   ``copy_object`` calls;
6. client CPU seconds per 1,000 part copies, ours against the SDK's (no
   latency or bandwidth limit, 1 MiB parts, 8 threads each);
7. peak RSS of a 100-part and a 10,000-part copy by our engine.

The last line is ``ratio_vs_sdk_default=X ratio_vs_ideal=Y``: row 2 / row 1,
and row 1 / the best plan's ideal time.
"""

# ruff: noqa: I001  (_bench_path must be imported first)
from __future__ import annotations

import _bench_path
import _harness

import os
import resource
import statistics
import tempfile
import time
from typing import Any

ROOT = _bench_path.ROOT

SECRET_ID = "AKIDbenchCopy000000000000000000000"
SECRET_KEY = "bench-copy-secret-key-0123456789"
APP_ID = "1250000000"
REGION, OTHER_REGION = "ap-beijing", "ap-guangzhou"
SRC, DST, FAR = f"src-{APP_ID}", f"dst-{APP_ID}", f"far-{APP_ID}"
LATENCY, COPY_BW, AGGREGATE_BW = 0.03, 100e6, 2e9
MiB, GiB = 1024**2, 1024**3


# ---------------------------------------------------------------- workers (child processes)


def _usage() -> tuple[float, int]:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime, ru.ru_maxrss


def _our_client(address: str, region: str, pool: int) -> Any:
    from cos_provider.client.client import CosClient
    from cos_provider.client.credentials import Credentials
    from cos_provider.client.endpoints import Endpoint
    from cos_provider.client.transport import TransportConfig

    return CosClient(
        Credentials(SECRET_ID, SECRET_KEY),
        Endpoint(region=region, scheme="http", connect_address=address),
        TransportConfig(pool_size=pool),
        app_id=APP_ID,
    )


def _sdk(address: str, pool: int = 10) -> Any:
    return _harness.sdk_client(address, REGION, SECRET_ID, SECRET_KEY, pool)


class _TI:
    def xcom_push(self, key: str, value: Any) -> None:
        pass


def _warm_airflow() -> None:
    """Resolve the connection once before timing, as the SDK rows build their client
    before timing: the first lookup imports and initialises Airflow's secrets backends."""
    from cos_provider.hooks.cos import CosHook

    CosHook("cos_default").get_conn()


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    kind, address = spec["kind"], spec["address"]
    out: dict[str, Any] = {}
    if kind in ("operator", "prefix"):
        _warm_airflow()
    if kind == "operator":
        from cos_provider.operators.object_copy import CosCopyObjectOperator

        op = CosCopyObjectOperator(
            task_id="bench",
            source_bucket_key=f"cos://{spec['source_bucket']}/{spec['key']}",
            source_region=spec["source_region"],
            dest_bucket_key=f"cos://{DST}/{spec['dest_key']}",
        )
        cpu0, _ = _usage()
        t0 = time.perf_counter()
        result = op.execute({"ti": _TI()})  # type: ignore[arg-type]
        out["elapsed"] = time.perf_counter() - t0
        out["part_count"] = result["part_count"]
    elif kind == "prefix":
        from cos_provider.operators.prefix_copy import CosCopyPrefixOperator

        op = CosCopyPrefixOperator(
            task_id="bench", source_bucket=SRC, dest_bucket=DST, prefix="small/", dest_prefix="small-ours/"
        )
        cpu0, _ = _usage()
        t0 = time.perf_counter()
        out["copied"] = len(op.execute({"ti": _TI()}))  # type: ignore[arg-type]
        out["elapsed"] = time.perf_counter() - t0
    elif kind == "engine":
        from cos_provider.client.copy import CopyEngine, CopyOptions

        client = _our_client(address, REGION, spec["concurrency"] + 4)
        options = CopyOptions(
            multipart_threshold=0, part_size=spec["part_size"], concurrency=spec["concurrency"], resume=False
        )
        source = client.ref(spec["source_bucket"], spec["key"], region=spec["source_region"])
        cpu0, _ = _usage()
        t0 = time.perf_counter()
        outcome = CopyEngine(client).copy(source, client.ref(DST, spec["dest_key"]), options)
        out["elapsed"] = time.perf_counter() - t0
        out["part_count"] = outcome.part_count
    elif kind == "sdk_copy":
        pool = max(10, spec["threads"])
        sdk = _sdk(address, pool)
        sdk._conf.set_copy_part_threshold_size(spec.get("threshold", 5 * GiB))
        source = {"Bucket": spec["source_bucket"], "Key": spec["key"], "Region": spec["source_region"]}
        cpu0, _ = _usage()
        t0 = time.perf_counter()
        sdk.copy(DST, spec["dest_key"], source, PartSize=spec["part_mb"], MAXThread=spec["threads"])
        out["elapsed"] = time.perf_counter() - t0
    elif kind == "sdk_loop":
        sdk = _sdk(address)
        keys = [f"small/{i:04d}" for i in range(spec["count"])]
        cpu0, _ = _usage()
        t0 = time.perf_counter()
        for key in keys:
            sdk.copy_object(DST, f"small-sdk/{key}", {"Bucket": SRC, "Key": key, "Region": REGION})
        out["elapsed"] = time.perf_counter() - t0
    else:
        raise SystemExit(f"unknown worker kind {kind!r}")
    cpu1, rss = _usage()
    out["cpu"] = cpu1 - cpu0
    out["maxrss_mb"] = rss / 1024
    return out


def run_worker(spec: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    return _harness.run_worker(__file__, spec, env)


# ---------------------------------------------------------------- the model's ideal time


def best_plan(size: int, settings: Any, max_concurrency: int = 64) -> tuple[int, int, float]:
    """The fastest uniform copy plan: parts up to COS's 5 GiB, Initiate and Complete serial."""
    from cos_provider.client import limits
    from cos_provider.emulator import ideal_copy_time

    return _harness.best_plan(
        size,
        settings,
        bandwidth=settings.copy_bandwidth,
        aggregate=settings.aggregate_bandwidth,
        extra=2,
        max_part=limits.MAX_PART_SIZE,
        ideal=ideal_copy_time,
        max_concurrency=max_concurrency,
    )


# ---------------------------------------------------------------- main


def main(quick: bool, repeat: int) -> None:
    from cos_provider.client.copy.plan import DEFAULT_CONCURRENCY, plan_parts
    from cos_provider.emulator import CosEmulator, ModelSettings, ideal_copy_time

    big = (6 if quick else 20) * GiB
    small_count = 200 if quick else 2000
    emu = CosEmulator(credentials={SECRET_ID: SECRET_KEY})
    emu.start()
    for name, region in ((SRC, REGION), (DST, REGION), (FAR, OTHER_REGION)):
        emu.create_bucket(name, region=region)
    home = tempfile.mkdtemp(prefix="cos-bench-")
    env = _harness.child_env(
        home, emu.address, secret_id=SECRET_ID, secret_key=SECRET_KEY, region=REGION, app_id=APP_ID
    )
    settings = ModelSettings(LATENCY, COPY_BW, AGGREGATE_BW)

    def model(on: bool) -> None:
        if on:
            emu.set_model(latency=LATENCY, copy_bandwidth=COPY_BW, aggregate_bandwidth=AGGREGATE_BW)
        else:
            emu.set_model(latency=0.0, copy_bandwidth=None, aggregate_bandwidth=None)

    base = {"address": emu.address, "source_bucket": FAR, "source_region": OTHER_REGION}
    row = _harness.table(58)

    print(
        f"model: latency {LATENCY * 1000:.0f} ms, {COPY_BW / 1e6:.0f} MB/s per copy, "
        f"{AGGREGATE_BW / 1e9:.0f} GB/s aggregate; object {big / GiB:.0f} GiB cross-region",
        flush=True,
    )
    emu.seed_synthetic(FAR, "big.bin", size=big, seed=7)
    model(True)

    plan = plan_parts(big)
    ours_spec = {**base, "kind": "operator", "key": "big.bin", "dest_key": "ours.bin"}
    same_spec = {
        **base,
        "kind": "sdk_copy",
        "key": "big.bin",
        "dest_key": "sdk2.bin",
        "part_mb": plan.part_size // MiB,
        "threads": DEFAULT_CONCURRENCY,
    }
    ours_runs, same_runs = [], []
    for _ in range(repeat):  # alternate, so drift affects both alike
        ours_runs.append(run_worker(ours_spec, env)["elapsed"])
        same_runs.append(run_worker(same_spec, env)["elapsed"])
    ours = {"elapsed": statistics.median(ours_runs)}
    sdk_same = {"elapsed": statistics.median(same_runs)}
    runs = f" (median of {repeat})" if repeat > 1 else ""
    row(
        f"1. ours, operator defaults ({plan.part_count} x {plan.part_size // MiB} MiB, {DEFAULT_CONCURRENCY} thr){runs}",
        f"{ours['elapsed']:8.2f} s",
    )
    sdk_default = run_worker(
        {**base, "kind": "sdk_copy", "key": "big.bin", "dest_key": "sdk.bin", "part_mb": 10, "threads": 5},
        env,
    )
    row("2. SDK copy() defaults (10 MB parts, 5 threads)", f"{sdk_default['elapsed']:8.2f} s")
    row(
        f"3. SDK copy() at our plan ({plan.part_size // MiB} MB, {DEFAULT_CONCURRENCY} thr){runs}",
        f"{sdk_same['elapsed']:8.2f} s",
    )
    ours_sizes = [p.size for p in plan]
    ideal_ours = ideal_copy_time(ours_sizes, DEFAULT_CONCURRENCY, settings, extra_requests=2)
    best_part, best_c, ideal_best = best_plan(big, settings)
    row("4a. model ideal, our plan", f"{ideal_ours:8.2f} s")
    row(f"4b. model ideal, best plan ({best_part // MiB} MiB parts, {best_c} thr)", f"{ideal_best:8.2f} s")

    for i in range(small_count):
        emu.put_object(SRC, f"small/{i:04d}", os.urandom(1024))
    prefix = run_worker({"address": emu.address, "kind": "prefix"}, env)
    row(f"5a. {small_count} x 1 KB, CosCopyPrefixOperator (defaults)", f"{prefix['elapsed']:8.2f} s")
    loop = run_worker({"address": emu.address, "kind": "sdk_loop", "count": small_count}, env)
    row(f"5b. {small_count} x 1 KB, loop of SDK copy_object", f"{loop['elapsed']:8.2f} s")

    model(False)
    parts = 1000
    emu.seed_synthetic(FAR, "cpu.bin", size=parts * MiB, seed=3)
    ours_cpu = run_worker(
        {
            **base,
            "kind": "engine",
            "key": "cpu.bin",
            "dest_key": "cpu-ours",
            "part_size": MiB,
            "concurrency": 8,
        },
        env,
    )
    sdk_cpu = run_worker(
        {
            **base,
            "kind": "sdk_copy",
            "key": "cpu.bin",
            "dest_key": "cpu-sdk",
            "part_mb": 1,
            "threads": 8,
            "threshold": 1,
        },
        env,
    )
    row("6a. client CPU s per 1,000 part copies, ours", f"{ours_cpu['cpu'] * 1000 / parts:8.2f} s")
    row("6b. client CPU s per 1,000 part copies, SDK", f"{sdk_cpu['cpu'] * 1000 / parts:8.2f} s")

    rss = {}
    for n in (100, 10_000 if not quick else 2_000):
        emu.seed_synthetic(FAR, f"rss-{n}.bin", size=n * MiB, seed=5)
        result = run_worker(
            {
                **base,
                "kind": "engine",
                "key": f"rss-{n}.bin",
                "dest_key": f"rss-{n}",
                "part_size": MiB,
                "concurrency": 32,
            },
            env,
        )
        assert result["part_count"] == n
        rss[n] = result["maxrss_mb"]
        row(f"7. peak RSS, {n:,}-part copy (ours)", f"{rss[n]:8.1f} MB")
    low, high = sorted(rss)
    row(f"7. RSS growth {low:,} -> {high:,} parts", f"{rss[high] - rss[low]:8.1f} MB")
    emu.stop()

    print()
    print(
        f"targets: ours <= 1.2 x best ideal: {ours['elapsed'] / ideal_best:.2f}x; "
        f"ours vs SDK at equal plan: {ours['elapsed'] / sdk_same['elapsed']:.2f}x (<= 1); "
        f"RSS growth {rss[high] - rss[low]:.1f} MB (< 10)"
    )
    print(
        f"ratio_vs_sdk_default={sdk_default['elapsed'] / ours['elapsed']:.2f} "
        f"ratio_vs_ideal={ours['elapsed'] / ideal_best:.2f}"
    )


if __name__ == "__main__":
    _harness.cli(
        __doc__,
        worker,
        main,
        repeat_help="runs of rows 1 and 3 (median)",
        quick_help="6 GiB instead of 20 GiB, 200 small objects",
    )
