"""Clients of every kind, each reaching the emulator through a :class:`RecordingProxy`.

``client`` and :func:`run_async` are ours (requests and httpx transports, origin-form
requests to the proxy as connect address); ``sdk`` is the official SDK
through ``Proxies`` (absolute-form requests, the way it reaches a real
forward proxy). All sign for the real bucket domain, so what the proxy
records is what COS would receive.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
import requests
from qcloud_cos import CosConfig, CosS3Client

from cos_provider.client.aio import AsyncCosClient
from cos_provider.client.client import CosClient
from cos_provider.client.credentials import Credentials
from cos_provider.client.endpoints import Endpoint
from cos_provider.client.retry import RetryPolicy
from cos_provider.client.transport import TransportConfig
from tests.conftest import APP_ID, REGION, SECRET_ID, SECRET_KEY

from .proxy import RecordingProxy

FAST = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02)


def make_client(address: str, secret_key: str = SECRET_KEY, **kw: Any) -> CosClient:
    return CosClient(
        Credentials(SECRET_ID, secret_key),
        Endpoint(region=REGION, scheme="http", connect_address=address),
        TransportConfig(read_timeout=10, retry=kw.pop("retry", FAST)),
        app_id=kw.pop("app_id", APP_ID),
        **kw,
    )


def make_async_client(address: str, **kw: Any) -> AsyncCosClient:
    return AsyncCosClient(
        Credentials(SECRET_ID, SECRET_KEY),
        Endpoint(region=REGION, scheme="http", connect_address=address),
        TransportConfig(read_timeout=10, retry=kw.pop("retry", FAST)),
        app_id=kw.pop("app_id", APP_ID),
        **kw,
    )


@pytest.fixture
def proxy(cos: Any) -> Iterator[RecordingProxy]:
    with RecordingProxy(cos.port) as p:
        yield p


@pytest.fixture
def client(proxy: RecordingProxy) -> Iterator[CosClient]:
    with make_client(proxy.address) as c:
        yield c


def run_async(address: str, fn: Callable[[AsyncCosClient], Awaitable[Any]], **kw: Any) -> Any:
    """Run ``fn`` with a fresh async client (httpx transport) in a new event loop."""

    async def main() -> Any:
        async with make_async_client(address, **kw) as c:
            return await fn(c)

    return asyncio.run(main())


@pytest.fixture
def sdk(proxy: RecordingProxy) -> CosS3Client:
    """The official SDK, through the recording proxy, with no retries."""
    config = CosConfig(
        Region=REGION,
        SecretId=SECRET_ID,
        SecretKey=SECRET_KEY,
        Scheme="http",
        Proxies={"http": proxy.address},
    )
    # Its own session: the SDK's built-in one is shared by every client in the process.
    return CosS3Client(config, retry=0, session=requests.Session())
