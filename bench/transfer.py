"""Transfer benchmark: our uploads, downloads and deletes against cos-python-sdk-v5, on the emulator.

    .venv/bin/python bench/transfer.py            # every row (~12 minutes: row 6b alone is 10,000 requests)
    .venv/bin/python bench/transfer.py --quick    # 512 MiB, 1,000 keys, for a smoke run (~2 minutes)

The emulator runs in this process with a transfer model: 30 ms per request,
50 MB/s for one request's body (a PUT, an Upload Part or a GET body, like one
TCP connection of a real client) and 500 MB/s shared by all bodies in flight
(the client machine's link). One connection fills a tenth of the link, so
parallelism matters as it does with ``bench/copy.py``'s figures (100 MB/s and
2 GB/s there). They are halved and quartered here because an upload costs the
Python emulator an MD5, a CRC-64 and a spill-file write of every byte: on this
project's shared 2-core machine it receives a few hundred MB/s at most, and
above that the benchmark would measure the emulator instead of the clients.
Every client (ours and the SDK's) runs in its own child process, so its CPU
time and peak RSS are its own and it does not share the GIL with the emulator.

Rows:

1. upload of a 2 GiB local file of random bytes: ``CosHook.upload_file`` with
   its defaults, the SDK's ``upload_file`` at its defaults (1 MB parts, 5
   threads), the SDK at our part size and threads, and the model's ideal time
   (``ideal_upload_time``) for our plan and for the best plan (every part size
   of whole MiB up to 640 MiB, concurrency 1..64); ours and the SDK at our plan run ``--repeat``
   times, alternately, and medians are shown;
2. download of the same object the same three ways (``CosHook.download_file``;
   SDK ``download_file``, defaults 20 MB parts and 5 threads) and the ideal
   (``ideal_download_time``);
3. client CPU seconds per GiB moved, ours and the SDK's (from the runs above);
4. peak RSS growth of the client process during the upload and the download:
   the peak resident set (``VmHWM``, reset through ``/proc/self/clear_refs``
   once the client is built) less the resident set just before the transfer;
5. CRC-64 throughput of ``cos_provider.client.crc64`` against the SDK's
   ``crcmod`` (``bench/crc64.py``'s functions, 256 MB, best of 5);
6. deleting 10,000 keys: ``CosHook.delete_objects(keys=...)`` against a loop
   of SDK ``delete_object`` calls and the SDK's ``delete_objects`` in batches
   of 1,000.

The last line is ``upload_ratio_vs_sdk_default=… download_ratio_vs_sdk_default=…
upload_ratio_vs_ideal=… download_ratio_vs_ideal=… rss_growth_mb=… crc64_mb_s=…``:
the SDK's default time over ours, ours over the best plan's ideal, the larger of
the upload's and the download's RSS growth, and our CRC-64 MB/s.
"""

# ruff: noqa: I001  (_bench_path must be imported first)
from __future__ import annotations

import _bench_path
import _harness

import contextlib
import os
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

ROOT = _bench_path.ROOT

SECRET_ID = "AKIDbenchTransfer00000000000000000"
SECRET_KEY = "bench-transfer-secret-key-0123456"
APP_ID = "1250000000"
REGION = "ap-beijing"
BUCKET = f"data-{APP_ID}"
LATENCY, TRANSFER_BW, TRANSFER_AGGREGATE_BW = 0.03, 50e6, 500e6
MiB, GiB = 1024**2, 1024**3
SDK_UPLOAD_DEFAULT = (1, 5)  # upload_file(PartSize=1 MB, MAXThread=5)
SDK_DOWNLOAD_DEFAULT = (20, 5)  # download_file(PartSize=20 MB, MAXThread=5)


# ---------------------------------------------------------------- workers (child processes)


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _sdk(address: str, pool: int = 10) -> Any:
    return _harness.sdk_client(address, REGION, SECRET_ID, SECRET_KEY, pool)


def _hook() -> Any:
    """The hook with its connection resolved before timing, as the SDK rows build their client first."""
    from cos_provider.hooks.cos import CosHook

    hook = CosHook("cos_default")
    hook.get_conn()
    return hook


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    kind, address = spec["kind"], spec["address"]
    out: dict[str, Any] = {}
    run: Any
    if kind == "ours_upload":
        hook = _hook()

        def run() -> None:
            result = hook.upload_file(spec["path"], spec["key"], BUCKET)
            out["parts"] = result.parts

    elif kind == "ours_download":
        hook = _hook()

        def run() -> None:
            out["parts"] = hook.download_file(spec["key"], spec["path"], BUCKET).ranges

    elif kind == "sdk_upload":
        sdk = _sdk(address, max(10, spec["threads"]))

        def run() -> None:
            sdk.upload_file(
                BUCKET, spec["key"], spec["path"], PartSize=spec["part_mb"], MAXThread=spec["threads"]
            )

    elif kind == "sdk_download":
        sdk = _sdk(address, max(10, spec["threads"]))

        def run() -> None:
            sdk.download_file(
                BUCKET, spec["key"], spec["path"], PartSize=spec["part_mb"], MAXThread=spec["threads"]
            )

    elif kind == "ours_delete":
        hook = _hook()
        keys = [f"del/{i:05d}" for i in range(spec["count"])]

        def run() -> None:
            result = hook.delete_objects(BUCKET, keys=keys)
            assert result.count == len(keys) and not result.errors, result.errors[:3]
            out["requests"] = result.requests

    elif kind == "sdk_delete_loop":
        sdk = _sdk(address)
        keys = [f"del/{i:05d}" for i in range(spec["count"])]

        def run() -> None:
            for key in keys:
                sdk.delete_object(BUCKET, key)

    elif kind == "sdk_delete_batch":
        sdk = _sdk(address)
        keys = [f"del/{i:05d}" for i in range(spec["count"])]

        def run() -> None:
            for i in range(0, len(keys), 1000):
                objects = [{"Key": k} for k in keys[i : i + 1000]]
                answer = sdk.delete_objects(BUCKET, {"Object": objects, "Quiet": "true"})
                assert not answer.get("Error"), answer.get("Error")

    else:
        raise SystemExit(f"unknown worker kind {kind!r}")
    resettable = _reset_peak()
    rss0 = _status_kb("VmRSS")
    maxrss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    run()
    out["elapsed"] = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    out["cpu"] = ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime
    out["sys"] = ru1.ru_stime - ru0.ru_stime
    if resettable:
        out["rss_growth_mb"] = (_status_kb("VmHWM") - rss0) / 1024
    else:  # the lifetime peak: an upper bound on the growth
        out["rss_growth_mb"] = (ru1.ru_maxrss - min(rss0, maxrss0)) / 1024
    return out


def run_worker(spec: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    return _harness.run_worker(__file__, spec, env)


# ---------------------------------------------------------------- the model's ideal time


def best_plan(size: int, settings: Any, extra: int, max_concurrency: int = 64) -> tuple[int, int, float]:
    """The fastest uniform transfer plan, parts up to 640 MiB (uploads and downloads cost the same
    per body, they differ only in ``extra`` serial requests)."""
    from cos_provider.client import limits
    from cos_provider.emulator.model import ideal_upload_time

    return _harness.best_plan(
        size,
        settings,
        bandwidth=settings.transfer_bandwidth,
        aggregate=settings.transfer_aggregate_bandwidth,
        extra=extra,
        max_part=limits.MAX_PART_SIZE // 8,
        ideal=ideal_upload_time,
        max_concurrency=max_concurrency,
    )


# ---------------------------------------------------------------- main


def write_random_file(path: str, size: int) -> None:
    """Random-ish bytes (no sparse holes, nothing compressible): one random MiB block, each copy salted."""
    block = bytearray(os.urandom(MiB))
    with open(path, "wb") as f:
        for i in range(size // MiB):
            block[:8] = i.to_bytes(8, "little")
            f.write(block)
        f.write(os.urandom(size % MiB))


def main(quick: bool, repeat: int) -> None:
    import crc64 as crc_bench  # bench/crc64.py (on sys.path through _bench_path)

    from cos_provider.client.download import DEFAULT_CONCURRENCY as DOWN_THREADS
    from cos_provider.client.download import DEFAULT_PART_SIZE as DOWN_PART
    from cos_provider.client.upload import DEFAULT_PART_SIZE as UP_PART
    from cos_provider.client.upload import DEFAULT_UPLOAD_CONCURRENCY as UP_THREADS
    from cos_provider.emulator import CosEmulator, ModelSettings
    from cos_provider.emulator.model import ideal_download_time, ideal_upload_time

    size = (512 * MiB) if quick else 2 * GiB
    delete_count = 1000 if quick else 10_000
    emu = CosEmulator(credentials={SECRET_ID: SECRET_KEY})
    emu.start()
    emu.create_bucket(BUCKET, region=REGION)
    home = tempfile.mkdtemp(prefix="cos-bench-transfer-")
    env = _harness.child_env(
        home, emu.address, secret_id=SECRET_ID, secret_key=SECRET_KEY, region=REGION, app_id=APP_ID
    )
    env["HOME"] = home  # the SDK's download records go under ~/.tmp
    settings = ModelSettings(
        LATENCY, transfer_bandwidth=TRANSFER_BW, transfer_aggregate_bandwidth=TRANSFER_AGGREGATE_BW
    )
    emu.set_model(
        latency=LATENCY, transfer_bandwidth=TRANSFER_BW, transfer_aggregate_bandwidth=TRANSFER_AGGREGATE_BW
    )
    row = _harness.table(62)

    print(
        f"model: latency {LATENCY * 1000:.0f} ms, {TRANSFER_BW / 1e6:.0f} MB/s per body, "
        f"{TRANSFER_AGGREGATE_BW / 1e6:.0f} MB/s aggregate; file {size / GiB:g} GiB; "
        f"{os.cpu_count()} cores",
        flush=True,
    )
    src = os.path.join(home, "upload.bin")
    out_dir = os.path.join(home, "out")
    os.makedirs(out_dir)
    runs = f" (median of {repeat})" if repeat > 1 else ""
    base = {"address": emu.address}
    try:
        write_random_file(src, size)

        def file_crc(path: str) -> int:
            crc = 0
            with open(path, "rb") as f:
                while chunk := f.read(8 * MiB):
                    crc = crc_bench.crc64(chunk, crc)
            return crc

        expected_crc = file_crc(src)

        def check_object(spec: dict[str, Any]) -> None:
            found = emu.head(BUCKET, spec["key"])
            assert found is not None and found["size"] == size and found["crc64"] == expected_crc, found

        def check_file(spec: dict[str, Any]) -> None:
            path = spec["path"]
            assert os.path.getsize(path) == size and file_crc(path) == expected_crc, path
            os.remove(path)

        def compare(
            ours: dict[str, Any],
            same: dict[str, Any],
            default: dict[str, Any],
            check: Callable[[dict[str, Any]], None],
        ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
            """Ours and the SDK at our plan ``repeat`` times, then the SDK at its defaults; each run checked."""
            ours_runs, same_runs = [], []
            for _ in range(repeat):  # alternate, so drift affects both alike
                for spec, runs in ((ours, ours_runs), (same, same_runs)):
                    runs.append(run_worker(spec, env))
                    check(spec)
            sdk_default = run_worker(default, env)
            check(default)
            return ours_runs, same_runs, sdk_default

        # ------------------------------------------------ 1. upload
        part_mb, threads = SDK_UPLOAD_DEFAULT
        upload = {**base, "kind": "sdk_upload", "path": src}
        ours_up, same_up, sdk_up = compare(
            {**base, "kind": "ours_upload", "path": src, "key": "up-ours.bin"},
            {**upload, "key": "up-sdk-same.bin", "part_mb": UP_PART // MiB, "threads": UP_THREADS},
            {**upload, "key": "up-sdk.bin", "part_mb": part_mb, "threads": threads},
            check_object,
        )
        ours_up_t = statistics.median(r["elapsed"] for r in ours_up)
        same_up_t = statistics.median(r["elapsed"] for r in same_up)
        up_parts = ours_up[0]["parts"]
        row(
            f"1a. upload, ours: CosHook.upload_file defaults ({up_parts} x {UP_PART // MiB} MiB, {UP_THREADS} thr){runs}",
            f"{ours_up_t:8.2f} s",
        )
        row(
            f"1b. upload, SDK upload_file defaults ({part_mb} MB parts, {threads} thr)",
            f"{sdk_up['elapsed']:8.2f} s",
        )
        row(
            f"1c. upload, SDK upload_file at our plan ({UP_PART // MiB} MB, {UP_THREADS} thr){runs}",
            f"{same_up_t:8.2f} s",
        )
        ideal_up_ours = ideal_upload_time(_harness.uniform(size, UP_PART), UP_THREADS, settings)
        up_best_part, up_best_c, ideal_up = best_plan(size, settings, extra=2)
        row("1d. upload, model ideal, our plan", f"{ideal_up_ours:8.2f} s")
        row(
            f"1e. upload, model ideal, best plan ({up_best_part // MiB} MiB parts, {up_best_c} thr)",
            f"{ideal_up:8.2f} s",
        )

        # ------------------------------------------------ 2. download (of the object ours uploaded)
        dst = os.path.join(out_dir, "down.bin")
        part_mb, threads = SDK_DOWNLOAD_DEFAULT
        download = {**base, "kind": "sdk_download", "path": dst, "key": "up-ours.bin"}
        ours_down, same_down, sdk_down = compare(
            {**base, "kind": "ours_download", "path": dst, "key": "up-ours.bin"},
            {**download, "part_mb": DOWN_PART // MiB, "threads": DOWN_THREADS},
            {**download, "part_mb": part_mb, "threads": threads},
            check_file,
        )
        ours_down_t = statistics.median(r["elapsed"] for r in ours_down)
        same_down_t = statistics.median(r["elapsed"] for r in same_down)
        row(
            f"2a. download, ours: CosHook.download_file defaults ({ours_down[0]['parts']} x "
            f"{DOWN_PART // MiB} MiB, {DOWN_THREADS} thr){runs}",
            f"{ours_down_t:8.2f} s",
        )
        row(
            f"2b. download, SDK download_file defaults ({part_mb} MB parts, {threads} thr)",
            f"{sdk_down['elapsed']:8.2f} s",
        )
        row(
            f"2c. download, SDK download_file at our plan ({DOWN_PART // MiB} MB, {DOWN_THREADS} thr){runs}",
            f"{same_down_t:8.2f} s",
        )
        ideal_down_ours = ideal_download_time(_harness.uniform(size, DOWN_PART), DOWN_THREADS, settings)
        down_best_part, down_best_c, ideal_down = best_plan(size, settings, extra=1)
        row("2d. download, model ideal, our plan", f"{ideal_down_ours:8.2f} s")
        row(
            f"2e. download, model ideal, best plan ({down_best_part // MiB} MiB parts, {down_best_c} thr)",
            f"{ideal_down:8.2f} s",
        )

        # ------------------------------------------------ 3. CPU, 4. RSS
        gib = size / GiB

        def cpu(results: list[dict[str, Any]]) -> float:
            return statistics.median(r["cpu"] for r in results) / gib

        row("3a. client CPU s per GiB uploaded, ours (defaults)", f"{cpu(ours_up):8.2f} s")
        row(
            "3b. client CPU s per GiB uploaded, SDK (defaults / our plan)",
            f"{cpu([sdk_up]):8.2f} s / {cpu(same_up):.2f} s",
        )
        row("3c. client CPU s per GiB downloaded, ours (defaults)", f"{cpu(ours_down):8.2f} s")
        row(
            "3d. client CPU s per GiB downloaded, SDK (defaults / our plan)",
            f"{cpu([sdk_down]):8.2f} s / {cpu(same_down):.2f} s",
        )
        rss_up = max(r["rss_growth_mb"] for r in ours_up)
        rss_down = max(r["rss_growth_mb"] for r in ours_down)
        row(f"4a. peak RSS growth, {gib:g} GiB upload, ours", f"{rss_up:8.1f} MB")
        row(f"4b. peak RSS growth, {gib:g} GiB download, ours", f"{rss_down:8.1f} MB")
        row(
            "4c. peak RSS growth, SDK upload / download (at our plan)",
            f"{max(r['rss_growth_mb'] for r in same_up):8.1f} MB / "
            f"{max(r['rss_growth_mb'] for r in same_down):.1f} MB",
        )
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(src)
        shutil.rmtree(out_dir, ignore_errors=True)

    # ------------------------------------------------ 5. CRC-64
    data = os.urandom((64 if quick else 256) * 1_000_000)
    assert crc_bench.crc64(data) == crc_bench.sdk_crc64(data), "fastcrc and crcmod disagree"
    crc_ours = crc_bench.best_of(crc_bench.crc64, data, 5)
    crc_sdk = crc_bench.best_of(crc_bench.sdk_crc64, data, 5)
    del data
    row(
        f"5a. CRC-64 over {64 if quick else 256} MB, ours (cos_provider.client.crc64)",
        f"{crc_ours:8,.0f} MB/s",
    )
    row("5b. CRC-64, SDK (crcmod C extension)", f"{crc_sdk:8,.0f} MB/s")

    # ------------------------------------------------ 6. deletes
    def seed_keys() -> None:
        for i in range(delete_count):
            emu.put_object(BUCKET, f"del/{i:05d}", b"x")

    results = {}
    for kind in ("ours_delete", "sdk_delete_loop", "sdk_delete_batch"):
        seed_keys()
        results[kind] = run_worker({**base, "kind": kind, "count": delete_count}, env)
        assert (
            emu.head(BUCKET, "del/00000") is None and emu.head(BUCKET, f"del/{delete_count - 1:05d}") is None
        )
    row(
        f"6a. delete {delete_count:,} keys, ours: CosHook.delete_objects ({results['ours_delete']['requests']} requests)",
        f"{results['ours_delete']['elapsed']:8.2f} s",
    )
    row(
        f"6b. delete {delete_count:,} keys, loop of SDK delete_object",
        f"{results['sdk_delete_loop']['elapsed']:8.2f} s",
    )
    row(
        f"6c. delete {delete_count:,} keys, SDK delete_objects (batches of 1,000)",
        f"{results['sdk_delete_batch']['elapsed']:8.2f} s",
    )
    emu.stop()
    shutil.rmtree(home, ignore_errors=True)

    rss = max(rss_up, rss_down)
    print()
    print(
        f"goals: within 1.2 x of the best ideal: upload {ours_up_t / ideal_up:.2f}x, download "
        f"{ours_down_t / ideal_down:.2f}x (our plan's ideal: {ours_up_t / ideal_up_ours:.2f}x, "
        f"{ours_down_t / ideal_down_ours:.2f}x); vs SDK at equal plan (<= 1): upload "
        f"{ours_up_t / same_up_t:.2f}x, download {ours_down_t / same_down_t:.2f}x; "
        f"RSS growth {rss:.1f} MB (< 64); CRC-64 {crc_ours:,.0f} MB/s (>= 5,000)"
    )
    print(
        f"upload_ratio_vs_sdk_default={sdk_up['elapsed'] / ours_up_t:.2f} "
        f"download_ratio_vs_sdk_default={sdk_down['elapsed'] / ours_down_t:.2f} "
        f"upload_ratio_vs_ideal={ours_up_t / ideal_up:.2f} "
        f"download_ratio_vs_ideal={ours_down_t / ideal_down:.2f} "
        f"rss_growth_mb={rss:.1f} crc64_mb_s={crc_ours:.0f}"
    )


if __name__ == "__main__":
    _harness.cli(
        __doc__,
        worker,
        main,
        repeat_help="runs of ours and the SDK at our plan (median)",
        quick_help="512 MiB instead of 2 GiB, 1,000 keys to delete",
    )
