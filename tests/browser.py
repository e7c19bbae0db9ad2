"""What the tests that drive Airflow's real UI in Debian's Chromium share: the browser, and an
``airflow api-server`` on a free loopback port."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.bundles.runner import AIRFLOW, stop
from tests.deployment.stack import ARTIFACTS, free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Flags that keep Chromium from reaching for Google's servers on a closed network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def api_server(env: dict[str, str], log_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``(base URL, process)`` of a started (not yet healthy: see :func:`wait_healthy`) api-server.

    Not waited on here, so a caller can overlap its slow start with other work.
    """
    port = free_port()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [AIRFLOW, "api-server", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield f"http://127.0.0.1:{port}", proc
        finally:
            stop(proc)


def wait_healthy(base: str, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            if requests.get(f"{base}/api/v2/monitor/health", timeout=2).ok:
                return
        except requests.ConnectionError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"api-server not healthy: {log_path.read_text()[-2000:]}")
        time.sleep(0.5)  # another process: nothing to wait on but its port


__all__ = ["ARTIFACTS", "CHROMIUM", "CHROMIUM_ARGS", "api_server", "wait_healthy"]
