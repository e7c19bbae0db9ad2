"""``python -m cos_provider.emulator``: one ready line, serves, exits 0 on SIGINT/SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest
import requests

from .helpers import Raw, error_code, xml


def start(*args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "cos_provider.emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    m = re.fullmatch(r"COS emulator ready at (http://127\.0\.0\.1:\d+)\n", line)
    assert m, line
    return proc, m.group(1)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_serves_and_stops(sig: signal.Signals) -> None:
    proc, address = start(
        "--secret-id",
        "AKIDCLI",
        "--secret-key",
        "cli-secret",
        "--secret-id",
        "AKIDCLI2",
        "--secret-key",
        "cli-secret-2",
        "--temporary",
        "AKIDTMP:tmp-secret:tmp-token",
        "--bucket",
        "cli-1250000000:ap-beijing",
        "--bucket",
        "ver-1250000000:ap-beijing:versioned",
        "--latency",
        "0",
        "--copy-bandwidth",
        "1e12",
        "--aggregate-bandwidth",
        "1e13",
        "--fault",
        "HeadObject:slow_down:1.0",
        "--fault",
        "GetObject:internal_error",
    )
    try:
        raw = Raw(address, "AKIDCLI", "cli-secret")
        assert raw.put("cli-1250000000", "k", b"v", region="ap-beijing").status_code == 200
        assert raw.request("HEAD", "cli-1250000000", "k", region="ap-beijing").status_code == 503
        resp = raw.request("GET", "cli-1250000000", "k", region="ap-beijing")
        assert (resp.status_code, error_code(resp)) == (500, "InternalError")
        second = Raw(address, "AKIDCLI2", "cli-secret-2").request(
            "GET", "cli-1250000000", region="ap-beijing"
        )
        assert xml(second).findtext("Contents/Key") == "k"
        sts = Raw(address, "AKIDTMP", "tmp-secret").request(
            "GET", "cli-1250000000", region="ap-beijing", headers={"x-cos-security-token": "tmp-token"}
        )
        assert sts.status_code == 200
        assert raw.put("ver-1250000000", "k", b"v", region="ap-beijing").headers["x-cos-version-id"] != "null"
        model = requests.get(f"{address}/_emulator/model", timeout=10).json()
        assert model == {
            "latency": 0.0,
            "copy_bandwidth": 1e12,
            "aggregate_bandwidth": 1e13,
            "transfer_bandwidth": None,
            "transfer_aggregate_bandwidth": None,
            "rate_limit": None,
            "rate_limit_burst": None,
            "bucket_rate_limits": {},
        }
    finally:
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert out == ""


def test_cli_rejects_bad_arguments() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "cos_provider.emulator", "--port", "0", "--secret-id", "only-id"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode != 0
    assert "pairs" in proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "cos_provider.emulator", "--port", "0", "--fault", "GetObject:error_200"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode != 0
    assert "applies only" in proc.stderr
