"""Fixtures of the copy-engine tests (the emulator ones come from tests/conftest.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cos_provider.client import limits
from cos_provider.client.client import CosClient
from cos_provider.client.copy import CopyEngine
from cos_provider.client.credentials import Credentials
from cos_provider.client.endpoints import Endpoint
from cos_provider.client.retry import RetryPolicy
from cos_provider.client.transport import TransportConfig
from tests.conftest import APP_ID, OTHER_REGION, SECRET_ID, SECRET_KEY

MiB = limits.MiB


@pytest.fixture(autouse=True)
def _restore_emulator(request: pytest.FixtureRequest) -> Iterator[None]:
    """Faults and the performance model outlive ``reset()``; put them back."""
    yield
    if "emulator" in request.fixturenames:
        emu = request.getfixturevalue("emulator")
        emu.clear_faults()
        emu.set_model(latency=0.0, copy_bandwidth=None, aggregate_bandwidth=None)


def make_client(address: str, region: str, **retry: Any) -> CosClient:
    policy = RetryPolicy(**{"max_attempts": 3, "base_delay": 0.01, "max_delay": 0.05, **retry})
    return CosClient(
        Credentials(SECRET_ID, SECRET_KEY),
        Endpoint(region=region, scheme="http", connect_address=address),
        TransportConfig(read_timeout=10, retry=policy, pool_size=40),
        app_id=APP_ID,
    )


@pytest.fixture
def other_client(cos: Any) -> Iterator[CosClient]:
    """A client whose region is the archive bucket's (destination in another region)."""
    with make_client(cos.address, OTHER_REGION) as c:
        yield c


@pytest.fixture
def engine(client: CosClient) -> CopyEngine:
    return CopyEngine(client)


def settle(cos: Any, timeout: float = 5.0) -> None:
    """Wait until the emulator has decided every request it received (it counts one as it does).

    Only requests whose client gave up on them (a killed process, a read
    timeout) can still be in flight once the client has its answers.
    """
    deadline = time.monotonic() + timeout
    while cos.counters()["in_flight"]:
        assert time.monotonic() < deadline, "requests still in flight"
        time.sleep(0.002)


@pytest.fixture
def requests_of(cos: Any) -> Callable[[str], int]:
    """Successful (2xx) requests of one operation so far."""

    def count(operation: str) -> int:
        settle(cos)
        per_status = cos.counters()["requests"].get(operation, {})
        return sum(n for status, n in per_status.items() if status.startswith("2"))

    return count
