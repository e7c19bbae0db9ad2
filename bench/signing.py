"""Signer speed, ours against the official SDK's ``CosS3Auth``, and hook import cost.

    .venv/bin/python bench/signing.py

Both signers get the same 10,000 generated requests (same headers, params,
keys). The SDK is timed on its real entry point, ``auth(prepared_request)``,
which includes its header filtering; ours includes ours. Import time is the
extra cost of ``import cos_provider.hooks.cos`` once ``airflow.sdk`` is loaded,
measured in fresh interpreters (median of 5).
"""

# ruff: noqa: I001  (_bench_path must be imported first)
from __future__ import annotations

import _bench_path  # noqa: F401  (first: see its docstring)

import random
import statistics
import subprocess
import sys
import time

import requests
from qcloud_cos import CosConfig
from qcloud_cos.cos_auth import CosS3Auth

from cos_provider.client import signing

N = 10_000
SECRET_ID, SECRET_KEY = "AKIDbenchmark000000000000000000000", "bench-secret-key"


def make_requests(n: int) -> list[tuple[str, str, dict[str, str], dict[str, str]]]:
    rng = random.Random(7)
    out = []
    for i in range(n):
        key = f"data/{rng.choice(['a b', '中文', 'x+y', 'plain'])}/part-{i:05d}.parquet"
        params = rng.choice(
            [
                {},
                {"uploads": ""},
                {
                    "partNumber": str(i % 10_000 + 1),
                    "uploadId": "1585130821cbb7df1d11846c073ad648e8f33b087cec2381df437acdc833cf654b9ecc6361",
                },
            ]
        )
        headers = {
            "Host": "examplebucket-1250000000.cos.ap-beijing.myqcloud.com",
            "Content-Length": "0",
            "x-cos-copy-source": "src-1250000000.cos.ap-beijing.myqcloud.com/" + key.replace(" ", "%20"),
            "x-cos-copy-source-range": f"bytes={i * 1048576}-{(i + 1) * 1048576 - 1}",
            "x-cos-copy-source-If-Match": '"0123456789abcdef0123456789abcdef"',
            "User-Agent": "bench",
        }
        out.append((rng.choice(["PUT", "POST", "GET"]), key, params, headers))
    return out


def bench_ours(reqs) -> float:
    start = time.perf_counter()
    for method, key, params, headers in reqs:
        to_sign = {k: v for k, v in headers.items() if signing.should_sign_header(k)}
        signing.authorization(
            SECRET_ID, SECRET_KEY, method, "/" + key, params, to_sign, 1_700_000_000, 1_700_000_600
        )
    return (time.perf_counter() - start) / len(reqs) * 1e6


def bench_sdk(reqs) -> float:
    conf = CosConfig(Region="ap-beijing", SecretId=SECRET_ID, SecretKey=SECRET_KEY)
    prepared = [
        (CosS3Auth(conf, key, params), requests.Request(m, "http://x/", headers=h).prepare())
        for m, key, params, h in reqs
    ]
    start = time.perf_counter()
    for auth, req in prepared:
        auth(req)
    return (time.perf_counter() - start) / len(reqs) * 1e6


def import_cost(module: str, baseline: str = "airflow.sdk", runs: int = 5) -> tuple[float, float]:
    code = (
        f"import time; t=time.perf_counter(); import {baseline}; t1=time.perf_counter(); import {module}; t2=time.perf_counter();"
        "print(t1-t, t2-t1)"
    )
    base, extra = [], []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
        base.append(float(out[0]))
        extra.append(float(out[1]))
    return statistics.median(base), statistics.median(extra)


def main() -> None:
    reqs = make_requests(N)
    ours = min(bench_ours(reqs) for _ in range(3))
    sdk = min(bench_sdk(reqs) for _ in range(3))
    base, extra = import_cost("cos_provider.hooks.cos")
    print(f"{'measure':<52}{'value':>12}")
    print(f"{'signature, ours (us, best of 3 x 10,000)':<52}{ours:>12.1f}")
    print(f"{'signature, SDK CosS3Auth (us, best of 3 x 10,000)':<52}{sdk:>12.1f}")
    print(f"{'import airflow.sdk (s, median of 5)':<52}{base:>12.3f}")
    print(f"{'+ import cos_provider.hooks.cos (s, median of 5)':<52}{extra:>12.3f}")
    print(
        f"us_per_signature_ours={ours:.1f} us_per_signature_sdk={sdk:.1f} speedup={sdk / ours:.2f} hook_import_s={extra:.3f}"
    )


if __name__ == "__main__":
    main()
