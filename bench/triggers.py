"""Benchmark: many ``CosObjectTrigger`` in one event loop vs the official SDK polling in threads.

Setup (the issue's): the emulator runs in its own process with 30 ms latency
per request; 1,000 watchers each wait for their own object, polling every 5 s
for 60 s; the objects appear at random (seeded) times, written by a separate
process that records when each PUT completed. Measured in this process:

* memory per watcher: peak RSS growth while all watchers are alive / count,
  and (separate short run under ``tracemalloc``) Python heap per trigger;
* CPU seconds per 1,000 polls: this process's user+sys CPU / HEAD requests
  the emulator answered;
* delay: time the trigger fired (or the SDK thread saw the object) minus the
  time the object's PUT completed; p50 / p99 / max;
* threads: peak ``threading.active_count()``.

Targets: under 50 KB per trigger, no thread per trigger, p99 delay under one
poll interval + 1 s. The baseline (project rule: always compare with the
official SDK in the same run) polls with ``qcloud_cos.CosS3Client.head_object``,
one thread per watcher, same schedule, same first-poll offset.

Run: ``.venv/bin/python bench/triggers.py`` (about 2.5 minutes);
``--watchers 200 --duration 20`` for a quick look; ``--json out.json`` to keep figures.
"""

# ruff: noqa: E402  (sys.path is fixed before the other imports)
# ruff: noqa: I001  (_bench_path must be imported first)
from __future__ import annotations

import _bench_path

import sys
from pathlib import Path

import argparse
import asyncio
import gc
import json
import logging
import multiprocessing as mp
import os
import random
import statistics
import tempfile
import threading
import time
import tracemalloc
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

ROOT = _bench_path.ROOT

import psutil

SECRET_ID = "AKIDbenchTriggers00000000000000000000"
SECRET_KEY = "bench-secret-key-0123456789"
APP_ID = "1250000000"
REGION = "ap-beijing"
BUCKET = f"bench-{APP_ID}"
CONN_ID = "cos_bench"


# ---------------------------------------------------------------- emulator process


class Emulator:
    def __init__(self, latency: float) -> None:
        from cos_provider.emulator.process import start_emulator_process

        self._process = start_emulator_process(
            [
                "--secret-id",
                SECRET_ID,
                "--secret-key",
                SECRET_KEY,
                "--latency",
                str(latency),
                "--bucket",
                f"{BUCKET}:{REGION}",
            ],
            cwd=ROOT,
        )
        self.address = self._process.address

    def admin(self, path: str, method: str = "GET", body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.address}/_emulator/{path}", data=data, method=method)
        with urllib.request.urlopen(req) as resp:
            return json.loads(resp.read() or b"null")

    def heads(self) -> int:
        return sum(self.admin("counters")["requests"].get("HeadObject", {}).values())

    def stop(self) -> None:
        self._process.stop()


# ---------------------------------------------------------------- writer process


def _writer(address: str, keys: list[str], offsets: list[float], t0: float, out: Any) -> None:
    from cos_provider.client.client import CosClient
    from cos_provider.client.credentials import Credentials
    from cos_provider.client.endpoints import Endpoint

    order = sorted(range(len(keys)), key=lambda i: offsets[i])
    appeared: dict[str, float] = {}
    with CosClient(
        Credentials(SECRET_ID, SECRET_KEY),
        Endpoint(region=REGION, scheme="http", connect_address=address),
        app_id=APP_ID,
    ) as client:
        for i in order:
            delay = t0 + offsets[i] - time.time()
            if delay > 0:
                time.sleep(delay)
            client.put_object(BUCKET, keys[i], b"ready")
            appeared[keys[i]] = time.time()
    out.put(appeared)


class Writer:
    def __init__(self, address: str, keys: list[str], offsets: list[float], t0: float) -> None:
        self.queue: Any = mp.get_context("spawn").Queue()
        self.proc = mp.get_context("spawn").Process(
            target=_writer, args=(address, keys, offsets, t0, self.queue), daemon=True
        )
        self.proc.start()

    def result(self) -> dict[str, float]:
        appeared: dict[str, float] = self.queue.get(timeout=300)
        self.proc.join(timeout=10)
        return appeared


# ---------------------------------------------------------------- sampling


class Sampler:
    """Peak RSS and thread count, sampled from a thread every 0.2 s."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.base_rss = self.process.memory_info().rss
        self.peak_rss = self.base_rss
        self.peak_threads = threading.active_count()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.peak_rss = max(self.peak_rss, self.process.memory_info().rss)
            # our own sampler thread does not count
            self.peak_threads = max(self.peak_threads, threading.active_count() - 1)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()


def cpu_seconds() -> float:
    t = psutil.Process().cpu_times()
    return float(t.user + t.system)


def percentiles(delays: list[float]) -> dict[str, float]:
    if not delays:
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan")}
    ordered = sorted(delays)
    p99 = ordered[min(len(ordered) - 1, max(0, round(0.99 * len(ordered)) - 1))]
    return {"p50": statistics.median(ordered), "p99": p99, "max": ordered[-1]}


def measure(
    emu: Emulator,
    keys: list[str],
    offsets: list[float],
    watch_all: Callable[[float], None],
    seen: Mapping[str, float],
) -> dict[str, Any]:
    """Both contenders' figures, taken alike: ``watch_all(t0)`` waits while the
    writer adds the objects, filling ``seen`` (key -> when it was seen)."""
    gc.collect()
    heads0, cpu0 = emu.heads(), cpu_seconds()
    t0 = time.time()
    writer = Writer(emu.address, keys, offsets, t0)
    with Sampler() as sampler:
        watch_all(t0)
    cpu = cpu_seconds() - cpu0
    polls = emu.heads() - heads0
    appeared = writer.result()
    delays = [seen[k] - appeared[k] for k in keys if k in seen and k in appeared]
    return {
        "polls": polls,
        "cpu_s": cpu,
        "cpu_s_per_1000_polls": 1000 * cpu / max(1, polls),
        "rss_kb_per_watcher": (sampler.peak_rss - sampler.base_rss) / 1024 / len(keys),
        "peak_threads": sampler.peak_threads,
        "delay_s": percentiles(delays),
        "wall_s": time.time() - t0,
    }


# ---------------------------------------------------------------- the two contenders


def run_triggers(
    emu: Emulator, keys: list[str], offsets: list[float], args: argparse.Namespace
) -> dict[str, Any]:
    from cos_provider.triggers.cos import CosObjectTrigger

    fired: dict[str, float] = {}
    statuses: dict[str, int] = {}

    async def watch(trigger: CosObjectTrigger, key: str) -> None:
        gen = trigger.run()
        try:
            event = await anext(gen)
        finally:
            await gen.aclose()
        fired[key] = time.time()
        status = event.payload["status"]
        statuses[status] = statuses.get(status, 0) + 1

    async def main(t0: float) -> None:
        triggers = [
            CosObjectTrigger(
                targets=[f"cos://{BUCKET}/{key}"],
                cos_conn_id=CONN_ID,
                poke_interval=args.interval,
                timeout=args.duration,
                started_at=t0,  # the sensor poked at t0, so the first poll is at t0 + interval
                verified_buckets={BUCKET: t0},  # as handed over by the sensor's first poke
            )
            for key in keys
        ]
        await asyncio.gather(*(watch(t, k) for t, k in zip(triggers, keys, strict=True)))

    figures = measure(emu, keys, offsets, lambda t0: asyncio.run(main(t0)), fired)
    return {"watchers": len(keys), "events": statuses, **figures}


def trigger_heap_per_watcher(emu: Emulator, n: int) -> float:
    """Python heap (tracemalloc) held per live trigger after its first poll."""
    from cos_provider.triggers.cos import CosObjectTrigger

    async def main() -> float:
        t0 = time.time()
        triggers = [
            CosObjectTrigger(
                targets=[f"cos://{BUCKET}/heap/{i}"],
                cos_conn_id=CONN_ID,
                poke_interval=1.0,
                timeout=60,
                started_at=t0,
                verified_buckets={BUCKET: t0},
            )
            for i in range(n)
        ]
        gens = [t.run() for t in triggers]
        tasks = [asyncio.create_task(anext(g)) for g in gens]
        await asyncio.sleep(2.5)  # every trigger has polled at least once, and sleeps again
        gc.collect()
        current, _ = tracemalloc.get_traced_memory()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for g in gens:
            await g.aclose()
        return current

    # warm up imports, connection resolution and the TLS context outside the measurement
    asyncio.run(_one_poll(emu))
    gc.collect()
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    current = asyncio.run(main())
    tracemalloc.stop()
    return (current - base) / 1024 / n


async def _one_poll(emu: Emulator) -> None:
    from cos_provider.triggers.cos import CosObjectTrigger

    trigger = CosObjectTrigger(
        targets=[f"cos://{BUCKET}/warmup"], cos_conn_id=CONN_ID, poke_interval=0.01, timeout=0.05
    )
    gen = trigger.run()
    await anext(gen)
    await gen.aclose()


def run_sdk_threads(
    emu: Emulator, keys: list[str], offsets: list[float], args: argparse.Namespace
) -> dict[str, Any]:
    from qcloud_cos import CosConfig, CosS3Client
    from qcloud_cos.cos_exception import CosServiceError

    from cos_provider.client.aio import SHARED_MIN_CONNECTIONS

    # the SDK logs every 404 as a warning, urllib3 every discarded connection
    logging.getLogger("qcloud_cos").setLevel(logging.ERROR)
    logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)
    client = CosS3Client(
        CosConfig(
            Region=REGION,
            SecretId=SECRET_ID,
            SecretKey=SECRET_KEY,
            Scheme="http",
            Proxies={"http": emu.address},
            # as many pooled connections as the triggers' shared client has (the
            # default of 10 would make most of 1,000 threads open a new TCP
            # connection per poll)
            PoolConnections=1,
            PoolMaxSize=SHARED_MIN_CONNECTIONS,
        ),
        retry=1,
    )
    seen: dict[str, float] = {}
    errors: list[str] = []
    lock = threading.Lock()

    def watch(key: str, t0: float) -> None:
        deadline = t0 + args.duration
        next_poll = t0 + args.interval
        while True:
            time.sleep(max(0.0, next_poll - time.time()))
            try:
                client.head_object(Bucket=BUCKET, Key=key)
            except CosServiceError as exc:
                if exc.get_status_code() != 404:
                    with lock:
                        errors.append(str(exc.get_error_code()))
            except Exception as exc:
                with lock:
                    errors.append(type(exc).__name__)
            else:
                seen[key] = time.time()
                return
            if time.time() - t0 > args.duration or time.time() > deadline:
                return
            next_poll = time.time() + args.interval

    def watch_all(t0: float) -> None:
        threads = [threading.Thread(target=watch, args=(k, t0), daemon=True) for k in keys]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    figures = measure(emu, keys, offsets, watch_all, seen)
    return {
        "watchers": len(keys),
        "events": {"success": len(seen), "timeout": len(keys) - len(seen)},
        "errors": len(errors),
        **figures,
    }


# ---------------------------------------------------------------- main


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--watchers", type=int, default=1000)
    p.add_argument("--interval", type=float, default=5.0)
    p.add_argument("--duration", type=float, default=60.0)
    p.add_argument("--latency", type=float, default=0.03)
    p.add_argument("--seed", type=int, default=20240501)
    p.add_argument("--skip-sdk", action="store_true")
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args()

    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="cos-bench-"))
    logging.basicConfig(level=logging.WARNING)
    emu = Emulator(args.latency)
    os.environ[f"AIRFLOW_CONN_{CONN_ID.upper()}"] = json.dumps(
        {
            "conn_type": "tencent_cos",
            "login": SECRET_ID,
            "password": SECRET_KEY,
            "extra": {"region": REGION, "app_id": APP_ID, "connect_address": emu.address, "scheme": "http"},
        }
    )
    rng = random.Random(args.seed)
    # every object appears early enough to be seen before the deadline
    latest = max(0.5, args.duration - 2 * args.interval)
    offsets = [rng.uniform(0.0, latest) for _ in range(args.watchers)]
    results: dict[str, Any] = {
        "setup": {
            "watchers": args.watchers,
            "poll_interval_s": args.interval,
            "duration_s": args.duration,
            "latency_s": args.latency,
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
        }
    }
    try:
        import cos_provider.triggers.cos  # noqa: F401  (import cost outside the measurements)

        results["trigger_heap_kb_per_trigger"] = trigger_heap_per_watcher(emu, min(args.watchers, 1000))
        results["triggers"] = run_triggers(emu, [f"trig/{i}" for i in range(args.watchers)], offsets, args)
        if not args.skip_sdk:
            results["sdk_threads"] = run_sdk_threads(
                emu, [f"sdk/{i}" for i in range(args.watchers)], offsets, args
            )
    finally:
        emu.stop()

    target_delay = args.interval + 1.0
    trig = results["triggers"]
    results["verdict"] = {
        "memory_under_50kb_per_trigger": max(
            trig["rss_kb_per_watcher"], results["trigger_heap_kb_per_trigger"]
        )
        < 50,
        "no_thread_per_trigger": trig["peak_threads"] < 0.05 * args.watchers + 10,
        f"p99_delay_under_{target_delay:g}s": trig["delay_s"]["p99"] < target_delay,
    }
    print(render(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0 if all(results["verdict"].values()) else 1


def render(r: dict[str, Any]) -> str:
    s = r["setup"]
    lines = [
        f"COS trigger benchmark: {s['watchers']} watchers, poll every {s['poll_interval_s']:g} s for "
        f"{s['duration_s']:g} s, emulator latency {s['latency_s'] * 1000:g} ms, {s['cpus']} CPUs, Python {s['python']}",
        "",
        f"{'':28}{'CosObjectTrigger (1 loop)':>28}{'qcloud_cos SDK (threads)':>28}",
    ]
    t, b = r["triggers"], r.get("sdk_threads")

    def row(name: str, fn: Any) -> None:
        lines.append(f"{name:28}{fn(t):>28}{(fn(b) if b else 'skipped'):>28}")

    row(
        "events (success/timeout)",
        lambda x: f"{x['events'].get('success', 0)}/{x['events'].get('timeout', 0)}",
    )
    row("HEAD polls", lambda x: f"{x['polls']}")
    row("CPU s per 1,000 polls", lambda x: f"{x['cpu_s_per_1000_polls']:.3f}")
    row("RSS growth per watcher", lambda x: f"{x['rss_kb_per_watcher']:.1f} KB")
    row("peak threads", lambda x: f"{x['peak_threads']}")
    row("delay p50", lambda x: f"{x['delay_s']['p50']:.2f} s")
    row("delay p99", lambda x: f"{x['delay_s']['p99']:.2f} s")
    row("delay max", lambda x: f"{x['delay_s']['max']:.2f} s")
    lines.append(f"{'Python heap per trigger':28}{r['trigger_heap_kb_per_trigger']:>25.1f} KB")
    lines.append("")
    lines.extend(f"  {'PASS' if ok else 'FAIL'}  {name}" for name, ok in r["verdict"].items())
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
