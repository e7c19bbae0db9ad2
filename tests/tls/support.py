"""Helpers of the TLS tests: names, and what the emulator saw."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cos_provider.client.aio import AsyncCosClient
from cos_provider.client.client import CosClient
from cos_provider.client.credentials import Credentials
from cos_provider.client.endpoints import Endpoint
from cos_provider.client.errors import CosError
from cos_provider.client.retry import RetryPolicy
from cos_provider.client.transport import TransportConfig
from cos_provider.emulator import CosEmulator
from cos_provider.emulator.tls import ConnectionStats, server_context
from tests.conftest import APP_ID, BUCKETS, REGION, SECRET_ID, SECRET_KEY
from tests.tls.pki import ServerCert


def vhost(bucket: str, region: str = REGION) -> str:
    return f"{bucket}.cos.{region}.myqcloud.com"


def answered(emu: CosEmulator, operation: str, status: str | None = None) -> int:
    """Requests of ``operation`` the emulator answered (with ``status``, if given)."""
    per_status: dict[str, int] = emu.counters()["requests"].get(operation, {})
    return per_status.get(status, 0) if status else sum(per_status.values())


def all_over_tls(stats: ConnectionStats) -> dict[str, Any]:
    """Every accepted connection finished a TLS handshake; returns the snapshot."""
    assert stats.wait_settled(), "a TLS handshake did not end"
    snap = stats.snapshot()
    assert snap["accepted"] >= 1
    assert snap["tls_handshakes"] == snap["accepted"], snap
    assert snap["tls_handshake_failures"] == 0, snap
    return snap


@contextmanager
def emulator_presenting(cert: ServerCert) -> Iterator[CosEmulator]:
    """A fresh HTTPS emulator presenting ``cert``, with the standard buckets."""
    with CosEmulator(
        credentials={SECRET_ID: SECRET_KEY}, ssl_context=server_context(cert.certfile, cert.keyfile)
    ) as emu:
        for bucket, (region, versioned) in BUCKETS.items():
            emu.create_bucket(bucket, region=region, versioning=versioned)
        yield emu


Step = tuple[str, tuple[Any, ...], dict[str, Any]]


def run_calls(
    kind: str, address: str, verify: str | bool, steps: list[Step], max_attempts: int = 5
) -> list[Any]:
    """Run ``steps`` (client method, args, kwargs) in order on ONE sync or async client.

    Each step's result, or the :class:`CosError` it raised, in order: later
    steps reuse the connections of earlier ones, which is what some tests
    are about. The retry policy allows ``max_attempts`` with short delays,
    so a failure that were retried would show as more connections.
    """
    endpoint = Endpoint(region=REGION, connect_address=address)
    config = TransportConfig(
        read_timeout=10,
        verify=verify,
        retry=RetryPolicy(max_attempts=max_attempts, base_delay=0.01, max_delay=0.02),
    )
    credentials = Credentials(SECRET_ID, SECRET_KEY)
    results: list[Any] = []
    if kind == "sync":
        with CosClient(credentials, endpoint, config, app_id=APP_ID) as client:
            for name, args, kwargs in steps:
                try:
                    results.append(getattr(client, name)(*args, **kwargs))
                except CosError as exc:
                    results.append(exc)
        return results

    async def main() -> None:
        async with AsyncCosClient(credentials, endpoint, config, app_id=APP_ID) as client:
            for name, args, kwargs in steps:
                try:
                    results.append(await getattr(client, name)(*args, **kwargs))
                except CosError as exc:
                    results.append(exc)

    asyncio.run(main())
    return results
