"""What the client benchmarks (``bench/copy.py``, ``bench/transfer.py``) share.

Every client runs in a child process (``python <script> --worker <spec>``), so
its CPU time and peak RSS are its own; the parent sets up the emulator, the
Airflow connection of the children and the table, and searches the model for
the best uniform plan to compare ours against.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from _bench_path import ROOT

MiB = 1024**2


def sdk_client(address: str, region: str, secret_id: str, secret_key: str, pool: int = 10) -> Any:
    """cos-python-sdk-v5's client, through ``address`` (the emulator), with a pool of ``pool``."""
    from qcloud_cos import CosConfig, CosS3Client

    config = CosConfig(
        Region=region,
        SecretId=secret_id,
        SecretKey=secret_key,
        Scheme="http",
        Proxies={"http": address},
        PoolConnections=pool,
        PoolMaxSize=pool,
    )
    return CosS3Client(config, retry=3)


def child_env(
    home: str, address: str, *, secret_id: str, secret_key: str, region: str, app_id: str
) -> dict[str, str]:
    """The children's environment: their own Airflow home, ``cos_default`` pointing at the emulator."""
    conn = {
        "conn_type": "tencent_cos",
        "login": secret_id,
        "password": secret_key,
        "extra": {"region": region, "app_id": app_id, "connect_address": address},
    }
    return {
        **os.environ,
        "AIRFLOW_HOME": home,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW_CONN_COS_DEFAULT": json.dumps(conn),
        "PYTHONPATH": str(ROOT),
    }


def run_worker(script: str, spec: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """Run ``script --worker spec`` in a child; its last stdout line (JSON) is the result."""
    proc = subprocess.run(
        [sys.executable, script, "--worker", json.dumps(spec)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"worker {spec['kind']} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def uniform(size: int, part: int) -> list[int]:
    n = -(-size // part)
    return [part] * (n - 1) + [size - part * (n - 1)]


def best_plan(
    size: int,
    settings: Any,
    *,
    bandwidth: float,
    aggregate: float,
    extra: int,
    max_part: int,
    ideal: Callable[..., float],
    max_concurrency: int = 64,
) -> tuple[int, int, float]:
    """(part size, concurrency, ideal seconds) of the fastest uniform plan under ``settings``.

    Uniform parts on ``C`` workers finish in ``ceil(n/C)`` waves of one part
    time (``latency + part / bandwidth``, the emulator's greedy schedule),
    bounded below by the ``aggregate`` pipe, plus ``extra`` serial requests;
    the winner is then re-timed with the model's own ``ideal`` function.
    """
    from cos_provider.client import limits

    lat = settings.latency
    best: tuple[float, int, int] | None = None
    # Largest parts first, then fewest threads: among equally fast plans the
    # one with the fewest requests wins.
    for part in range(max_part, limits.MIN_PART_SIZE - 1, -MiB):
        n = -(-size // part)
        if n > limits.MAX_PARTS:
            break
        for c in range(1, max_concurrency + 1):
            t = max(-(-n // c) * (lat + part / bandwidth), lat + size / aggregate) + extra * lat
            if best is None or t < best[0] - 1e-9:
                best = (t, part, c)
    assert best is not None
    _, part, c = best
    return part, c, ideal(uniform(size, part), c, settings, extra_requests=extra)


def table(width: int) -> Callable[[str, str], None]:
    """A printer of ``name  value`` rows, the name padded to ``width``; flushed, so a long run shows each row."""

    def row(name: str, value: str) -> None:
        print(f"{name:<{width}} {value}", flush=True)

    return row


def cli(
    doc: str | None,
    worker: Callable[[dict[str, Any]], dict[str, Any]],
    main: Callable[[bool, int], None],
    *,
    repeat_help: str,
    quick_help: str,
) -> None:
    """The scripts' command line: ``--quick``, ``--repeat N``, and the hidden ``--worker SPEC``."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, default=3, help=repeat_help)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
    else:
        main(args.quick, args.repeat)
