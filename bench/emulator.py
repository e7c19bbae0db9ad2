"""Benchmark of the local COS emulator (run by hand: ``.venv/bin/python bench/emulator.py``).

Measures, against an emulator started as a separate process through its CLI:

* requests/second of HEAD Object and of Upload Part - Copy with zero latency,
  from 16 concurrent client threads (each with its own ``requests.Session``,
  signed with :mod:`cos_provider.client.signing`), and the same with the
  official SDK (one ``CosS3Client`` per thread) for comparison;
* the emulator process's resident memory after copying a 48.8 TB synthetic
  object as 10,000 x 5 GB parts;
* start-up time: process start until the ready line, and in-process
  ``CosEmulator().start()``.

Everything runs on loopback and stops by itself.
"""

# ruff: noqa: I001  (_bench_path must be imported first)
from __future__ import annotations

import _bench_path  # first: see its docstring

import argparse
import re
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import psutil
import requests

from cos_provider.client import limits
from cos_provider.client.endpoints import copy_source
from cos_provider.client.signing import authorization
from cos_provider.emulator import CosEmulator, EmulatorProcess, start_emulator_process

SECRET_ID = "AKIDBENCH"
SECRET_KEY = "bench-secret"
REGION = "ap-guangzhou"
SRC = "bench-src-1250000000"
DST = "bench-dst-1250000000"
THREADS = 16
MB = 1024 * 1024


def host(bucket: str) -> str:
    return f"{bucket}.cos.{REGION}.myqcloud.com"


class Signer:
    """A tiny client: one session per thread, every request signed by the project's signer."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.local = threading.local()

    @property
    def session(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
        return self.local.session  # type: ignore[no-any-return]

    def request(
        self,
        method: str,
        bucket: str,
        key: str,
        params: dict[str, str],
        headers: dict[str, str],
        body: bytes = b"",
    ) -> requests.Response:
        hdrs = {"Host": host(bucket), **headers}
        if method in ("PUT", "POST"):
            hdrs["Content-Length"] = str(len(body))
        now = int(time.time())
        hdrs["Authorization"] = authorization(
            SECRET_ID,
            SECRET_KEY,
            method,
            "/" + key,
            params,
            {k: v for k, v in hdrs.items()},
            now - 60,
            now + 3600,
        )
        return self.session.request(method, f"{self.address}/{key}", params=params, headers=hdrs, data=body)


def start_cli() -> tuple[EmulatorProcess, float]:
    """The emulator in its own process, and the seconds from process start to its ready line."""
    began = time.perf_counter()
    emu = start_emulator_process(
        [
            "--secret-id",
            SECRET_ID,
            "--secret-key",
            SECRET_KEY,
            "--bucket",
            f"{SRC}:{REGION}",
            "--bucket",
            f"{DST}:{REGION}",
        ],
        cwd=_bench_path.ROOT,
    )
    return emu, time.perf_counter() - began


def run_parallel(n: int, fn: Callable[[int], int]) -> tuple[float, int]:
    began = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        codes = list(pool.map(fn, range(n)))
    elapsed = time.perf_counter() - began
    bad = sum(1 for c in codes if c != 200)
    return n / elapsed, bad


def admin(address: str, method: str, path: str, **kw: object) -> dict[str, object]:
    resp = requests.request(method, f"{address}/_emulator/{path}", timeout=60, **kw)  # type: ignore[arg-type]
    resp.raise_for_status()
    return resp.json()  # type: ignore[no-any-return]


def initiate(client: Signer, key: str) -> str:
    resp = client.request("POST", DST, key, {"uploads": ""}, {})
    return re.search(r"<UploadId>([^<]+)</UploadId>", resp.text).group(1)  # type: ignore[union-attr]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=4000, help="requests per throughput measurement")
    args = parser.parse_args()

    # -- start-up ------------------------------------------------------------------
    inproc = []
    for _ in range(5):
        began = time.perf_counter()
        emu = CosEmulator(credentials={SECRET_ID: SECRET_KEY}).start()
        inproc.append(time.perf_counter() - began)
        emu.stop()

    process, cli_startup = start_cli()
    address = process.address
    rows: list[tuple[str, str]] = []
    try:
        emu_ps = psutil.Process(process.pid)
        rss_idle = emu_ps.memory_info().rss
        info = admin(
            address, "POST", "seed", json={"bucket": SRC, "key": "huge.bin", "size": limits.MAX_OBJECT_SIZE}
        )
        admin(address, "POST", "seed", json={"bucket": SRC, "key": "small.bin", "size": 1024})
        client = Signer(address)
        source = copy_source(host(SRC), "huge.bin")

        # -- HEAD Object, project signer --------------------------------------------
        def head(_: int) -> int:
            return client.request("HEAD", SRC, "small.bin", {}, {}).status_code

        def cpu() -> float:
            t = emu_ps.cpu_times()
            return float(t.user + t.system)

        run_parallel(200, head)  # warm connections
        c0 = cpu()
        head_rps, head_bad = run_parallel(args.requests, head)
        head_cpu = (cpu() - c0) / args.requests

        # -- Upload Part - Copy, project signer -------------------------------------
        upload = initiate(client, "upc.bin")

        def part_copy(i: int) -> int:
            n = i % limits.MAX_PARTS + 1
            first = (n - 1) * limits.MAX_PART_SIZE
            headers = {
                "x-cos-copy-source": source,
                "x-cos-copy-source-range": f"bytes={first}-{first + limits.MAX_PART_SIZE - 1}",
            }
            return client.request(
                "PUT", DST, "upc.bin", {"partNumber": str(n), "uploadId": upload}, headers
            ).status_code

        c0 = cpu()
        upc_rps, upc_bad = run_parallel(args.requests, part_copy)
        upc_cpu = (cpu() - c0) / args.requests

        # -- the same with the official SDK -------------------------------------------
        from qcloud_cos import CosConfig, CosS3Client

        sdk_local = threading.local()

        def sdk() -> CosS3Client:
            if not hasattr(sdk_local, "client"):
                sdk_local.client = CosS3Client(
                    CosConfig(
                        Region=REGION,
                        SecretId=SECRET_ID,
                        SecretKey=SECRET_KEY,
                        Scheme="http",
                        Proxies={"http": address},
                    ),
                    retry=0,
                )
            return sdk_local.client  # type: ignore[no-any-return]

        def sdk_head(_: int) -> int:
            sdk().head_object(Bucket=SRC, Key="small.bin")
            return 200

        sdk_upload = initiate(client, "sdk-upc.bin")

        def sdk_part_copy(i: int) -> int:
            n = i % limits.MAX_PARTS + 1
            first = (n - 1) * limits.MAX_PART_SIZE
            sdk().upload_part_copy(
                Bucket=DST,
                Key="sdk-upc.bin",
                PartNumber=n,
                UploadId=sdk_upload,
                CopySource={"Bucket": SRC, "Key": "huge.bin", "Region": REGION},
                CopySourceRange=f"bytes={first}-{first + limits.MAX_PART_SIZE - 1}",
            )
            return 200

        run_parallel(200, sdk_head)
        sdk_head_rps, _ = run_parallel(args.requests, sdk_head)
        sdk_upc_rps, _ = run_parallel(args.requests, sdk_part_copy)

        # -- a full 10,000-part copy of 48.8 TB, then the emulator's RSS ----------------
        big = initiate(client, "huge-copy.bin")
        etags: dict[int, str] = {}

        def copy_part(i: int) -> int:
            n = i + 1
            first = i * limits.MAX_PART_SIZE
            resp = client.request(
                "PUT",
                DST,
                "huge-copy.bin",
                {"partNumber": str(n), "uploadId": big},
                {
                    "x-cos-copy-source": source,
                    "x-cos-copy-source-range": f"bytes={first}-{first + limits.MAX_PART_SIZE - 1}",
                },
            )
            etags[n] = re.search(r"<ETag>([^<]+)</ETag>", resp.text).group(1)  # type: ignore[union-attr]
            return resp.status_code

        big_rps, big_bad = run_parallel(limits.MAX_PARTS, copy_part)
        body = (
            "<CompleteMultipartUpload>"
            + "".join(
                f"<Part><PartNumber>{n}</PartNumber><ETag>{etags[n]}</ETag></Part>" for n in sorted(etags)
            )
            + "</CompleteMultipartUpload>"
        )
        began = time.perf_counter()
        done = client.request("POST", DST, "huge-copy.bin", {"uploadId": big}, {}, body.encode())
        complete_s = time.perf_counter() - began
        crc_ok = int(done.headers["x-cos-hash-crc64ecma"]) == info["crc64"]
        rss_after = emu_ps.memory_info().rss
        counters = admin(address, "GET", "counters")
    finally:
        process.stop(timeout=30)

    rows += [
        ("HEAD Object, 16 threads, project signer", f"{head_rps:,.0f} req/s ({head_bad} errors)"),
        ("Upload Part - Copy, 16 threads, project signer", f"{upc_rps:,.0f} req/s ({upc_bad} errors)"),
        (
            "emulator CPU per HEAD Object",
            f"{head_cpu * 1e6:,.0f} us (capacity ~{1 / head_cpu:,.0f} req/s per core)",
        ),
        (
            "emulator CPU per Upload Part - Copy",
            f"{upc_cpu * 1e6:,.0f} us (capacity ~{1 / upc_cpu:,.0f} req/s per core)",
        ),
        ("HEAD Object, 16 threads, official SDK", f"{sdk_head_rps:,.0f} req/s"),
        ("Upload Part - Copy, 16 threads, official SDK", f"{sdk_upc_rps:,.0f} req/s"),
        (
            "48.8 TB copy: 10,000 part copies",
            f"{big_rps:,.0f} req/s ({big_bad} errors), Complete {complete_s:.2f} s",
        ),
        ("48.8 TB copy: CRC64 of result == source", str(crc_ok)),
        ("emulator RSS idle (after start)", f"{rss_idle / MB:.1f} MB"),
        ("emulator RSS after the 10,000-part copy", f"{rss_after / MB:.1f} MB"),
        ("start-up, CLI process to ready line", f"{cli_startup * 1000:.0f} ms"),
        (
            "start-up, in-process CosEmulator().start()",
            f"{statistics.median(inproc) * 1000:.2f} ms (median of 5)",
        ),
        ("bytes copied (emulator counter)", f"{int(counters['bytes_copied']) / 1024**4:,.1f} TiB"),  # type: ignore[call-overload]
    ]
    width = max(len(k) for k, _ in rows)
    print(
        f"COS emulator benchmark (zero latency, {THREADS} client threads, {args.requests} requests per rate)"
    )
    print("-" * (width + 40))
    for k, v in rows:
        print(f"{k:<{width}}  {v}")


if __name__ == "__main__":
    main()
