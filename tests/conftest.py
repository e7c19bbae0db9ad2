"""Fixtures shared by every test folder.

Tests talk to the real emulator over loopback HTTP. One emulator serves the
whole session; ``cos`` resets it to a known set of buckets before each test
that uses it, so tests do not leak state into each other.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

SECRET_ID = "AKIDtestEmulatorSecretId0000000000"
SECRET_KEY = "test-secret-key-do-not-log-0123456789"
APP_ID = "1250000000"
REGION = "ap-beijing"
OTHER_REGION = "ap-guangzhou"

SRC_BUCKET = f"src-{APP_ID}"
DST_BUCKET = f"dst-{APP_ID}"
ARCHIVE_BUCKET = f"archive-{APP_ID}"  # in OTHER_REGION: cross-region copies
VERSIONED_BUCKET = f"versioned-{APP_ID}"

BUCKETS: dict[str, tuple[str, bool]] = {
    SRC_BUCKET: (REGION, False),
    DST_BUCKET: (REGION, False),
    ARCHIVE_BUCKET: (OTHER_REGION, False),
    VERSIONED_BUCKET: (REGION, True),
}


def sdk_client(address: str) -> Any:
    """The official SDK (a test-only oracle) with the test credentials, through the emulator at ``address``."""
    from qcloud_cos import CosConfig, CosS3Client

    config = CosConfig(
        Region=REGION, SecretId=SECRET_ID, SecretKey=SECRET_KEY, Scheme="http", Proxies={"http": address}
    )
    return CosS3Client(config, retry=0)


def connection_json(address: str, **extra: Any) -> str:
    """An ``AIRFLOW_CONN_*`` value pointing the hook at the emulator."""
    extras = {"region": REGION, "app_id": APP_ID, "connect_address": address, "max_attempts": 3}
    extras.update(extra)
    return json.dumps(
        {"conn_type": "tencent_cos", "login": SECRET_ID, "password": SECRET_KEY, "extra": extras}
    )


@pytest.fixture(scope="session")
def emulator() -> Iterator[Any]:
    from cos_provider.emulator import CosEmulator

    emu = CosEmulator(credentials={SECRET_ID: SECRET_KEY})
    with emu:
        yield emu


@pytest.fixture
def cos(emulator: Any) -> Any:
    """The session emulator, reset to the standard buckets."""
    emulator.reset()
    for bucket, (region, versioned) in BUCKETS.items():
        emulator.create_bucket(bucket, region=region, versioning=versioned)
    return emulator


@pytest.fixture
def client(cos: Any) -> Iterator[Any]:
    from cos_provider.client.client import CosClient
    from cos_provider.client.credentials import Credentials
    from cos_provider.client.endpoints import Endpoint
    from cos_provider.client.retry import RetryPolicy
    from cos_provider.client.transport import TransportConfig

    config = TransportConfig(
        read_timeout=10, retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05)
    )
    with CosClient(
        Credentials(SECRET_ID, SECRET_KEY),
        Endpoint(region=REGION, scheme="http", connect_address=cos.address),
        config,
        app_id=APP_ID,
    ) as c:
        yield c


@pytest.fixture
def cos_connection(cos: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """``cos_default`` pointing at the emulator, via the environment as Airflow reads it."""
    monkeypatch.setenv("AIRFLOW_CONN_COS_DEFAULT", connection_json(cos.address))
    return "cos_default"


# Keep Airflow quiet and self-contained whenever a test imports it.
# A throwaway AIRFLOW_HOME: tests never touch a developer's real one, nor share
# ~/airflow/airflow.db with other test runs. Set on import, not in pytest_configure:
# pytest imports the conftests of the folders it is given (tests/sensors/conftest.py
# imports Airflow) before any pytest_configure runs, and Airflow reads AIRFLOW_HOME once.
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="cos-provider-tests-")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
