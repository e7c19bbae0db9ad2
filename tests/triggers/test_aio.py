"""The async transport and client, against the emulator over real HTTP.

It must behave exactly like the sync client (same results, same errors) since
both share signing, operations, error parsing and the retry policy; only the
HTTP library differs.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from cos_provider.client.aio import AsyncCosClient, shared_client, shared_client_count, ssl_context
from cos_provider.client.credentials import Credentials
from cos_provider.client.endpoints import Endpoint
from cos_provider.client.errors import CosServiceError, CosTransportError
from cos_provider.client.retry import RetryPolicy
from cos_provider.client.transport import TransportConfig
from cos_provider.emulator import FaultRule
from tests.conftest import APP_ID, REGION, SECRET_ID, SECRET_KEY, SRC_BUCKET

FAST = TransportConfig(read_timeout=5, retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05))


def make(address: str, secret_key: str = SECRET_KEY, config: TransportConfig = FAST) -> AsyncCosClient:
    return AsyncCosClient(
        Credentials(SECRET_ID, secret_key),
        Endpoint(region=REGION, scheme="http", connect_address=address),
        config,
        app_id=APP_ID,
    )


def run(address: str, fn: Callable[[AsyncCosClient], Awaitable[Any]], **kwargs: Any) -> Any:
    async def main() -> Any:
        async with make(address, **kwargs) as c:
            return await fn(c)

    return asyncio.run(main())


ODD_KEYS = [
    "plain.txt",
    "dir/a b+c.txt",
    "中文/文件?x=1#f",
    "a/./b",
    "x/../y",
    "%41%2F",
    "dir//double",
    "~tilde!*'()",
]


def test_object_round_trip_matches_the_sync_client(cos, client):
    async def scenario(c: AsyncCosClient) -> list[Any]:
        out = []
        for key in ODD_KEYS:
            put = await c.put_object("src", key, key.encode(), metadata={"k": "v"})
            head = await c.head_object("src", key)
            body = await c.get_object("src", key)
            out.append((put.etag, head, body))
        return out

    results = run(cos.address, scenario)
    for key, (etag, head, body) in zip(ODD_KEYS, results, strict=True):
        assert body == key.encode()
        assert head.etag == etag
        sync_head = client.head_object("src", key)
        assert (head.size, head.etag, head.crc64, head.metadata) == (
            sync_head.size,
            sync_head.etag,
            sync_head.crc64,
            sync_head.metadata,
        )
    listed = run(cos.address, lambda c: c.list_objects("src"))
    assert sorted(o.key for o in listed.objects) == sorted(ODD_KEYS)


def test_iter_objects_pages(cos):
    for i in range(5):
        cos.put_object(SRC_BUCKET, f"p/{i}", b"x")

    async def collect(c: AsyncCosClient) -> list[str]:
        return [o.key async for o in c.iter_objects("src", prefix="p/", page_size=2)]

    assert run(cos.address, collect) == [f"p/{i}" for i in range(5)]
    assert sum(cos.counters()["requests"]["ListObjects"].values()) == 3


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.head_object("src", "missing"),
        lambda c: c.list_objects("nosuch"),
        lambda c: c.head_bucket("nosuch"),
        lambda c: c.head_object("src", ""),
    ],
    ids=["head-404", "list-no-bucket", "head-bucket-404", "invalid-key"],
)
def test_errors_are_the_sync_clients(cos, client, call):
    with pytest.raises(Exception) as sync_info:
        call(client)
    with pytest.raises(Exception) as async_info:
        run(cos.address, call)
    a, s = async_info.value, sync_info.value
    assert type(a) is type(s)
    if isinstance(a, CosServiceError):
        assert (a.status, a.code, a.message) == (s.status, s.code, s.message)


def test_wrong_secret(cos):
    with pytest.raises(CosServiceError) as info:
        run(cos.address, lambda c: c.list_objects("src"), secret_key="wrong")
    assert info.value.is_auth_error
    assert info.value.code == "SignatureDoesNotMatch"


def test_retries_transient_errors_then_succeeds(cos):
    cos.put_object(SRC_BUCKET, "k", b"x")
    cos.add_fault(FaultRule(operation="HeadObject", kind="slow_down", times=2))
    info = run(cos.address, lambda c: c.head_object("src", "k"))
    assert info.size == 1
    assert sum(cos.counters()["requests"]["HeadObject"].values()) == 3


def test_gives_up_after_the_policys_attempts(cos):
    cos.add_fault(FaultRule(operation="HeadObject", kind="internal_error", permanent=True))
    with pytest.raises(CosServiceError, match="InternalError"):
        run(cos.address, lambda c: c.head_object("src", "k"))
    assert sum(cos.counters()["requests"]["HeadObject"].values()) == 3


def test_connection_refused_is_a_transport_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(CosTransportError, match="connection failed") as info:
        run(f"http://127.0.0.1:{port}", lambda c: c.head_object("src", "k"))
    assert info.value.attempts == 3


def test_read_timeout_is_a_transport_error(cos):
    cos.put_object(SRC_BUCKET, "k", b"x")
    cos.add_fault(FaultRule(operation="HeadObject", kind="slow", delay=1.0, permanent=True))
    config = TransportConfig(read_timeout=0.2, retry=RetryPolicy(max_attempts=1))
    with pytest.raises(CosTransportError, match="timed out"):
        run(cos.address, lambda c: c.head_object("src", "k"), config=config)


def test_execute_many_keeps_order_and_errors_in_place(cos):
    from cos_provider.client import operations as ops
    from cos_provider.client.operations import ObjectRef

    cos.put_object(SRC_BUCKET, "a", b"1")
    cos.put_object(SRC_BUCKET, "c", b"333")
    calls = [ops.head_object(ObjectRef(SRC_BUCKET, k)) for k in ("a", "b", "c")]
    results = run(cos.address, lambda c: c.execute_many(calls, concurrency=2))
    assert results[0].size == 1 and results[2].size == 3
    assert isinstance(results[1], CosServiceError) and results[1].is_not_found


def test_shared_client_is_shared_per_settings_and_closed_by_its_last_user(cos):
    creds = Credentials(SECRET_ID, SECRET_KEY)
    endpoint = Endpoint(region=REGION, scheme="http", connect_address=cos.address)

    async def main() -> None:
        async with shared_client(creds, endpoint, FAST, app_id=APP_ID) as a:
            async with shared_client(creds, endpoint, FAST, app_id=APP_ID) as b:
                assert a is b
                async with shared_client(Credentials(SECRET_ID, "other"), endpoint, FAST, app_id=APP_ID) as c:
                    assert c is not a
                    assert shared_client_count() == 2
                assert c.transport.closed
                await b.head_bucket("src")
            assert not a.transport.closed  # still used by the outer block
            await a.head_bucket("src")
        assert a.transport.closed
        assert shared_client_count() == 0

    asyncio.run(main())


def test_tls_context_is_built_once_and_env_proxies_are_off_with_an_override(cos):
    assert ssl_context(True) is ssl_context(True)
    assert ssl_context(False) is not ssl_context(True)

    async def main() -> tuple[bool, bool]:
        async with (
            make(cos.address) as direct,
            AsyncCosClient(Credentials(SECRET_ID, SECRET_KEY), Endpoint(region=REGION)) as real,
        ):
            return direct.transport.trust_env, real.transport.trust_env

    assert asyncio.run(main()) == (False, True)


def test_repr_has_no_secret(cos):
    client = make(cos.address)
    assert SECRET_KEY not in repr(client)
    asyncio.run(client.aclose())


def test_hook_builds_the_async_client_from_the_connection(cos, cos_connection):
    from cos_provider.hooks.cos import CosHook

    cos.put_object(SRC_BUCKET, "k", b"abc")

    async def main() -> Any:
        hook = CosHook()
        async with await hook.get_async_conn() as c:
            assert hook.settings is await hook.aget_settings()  # resolved once, cached like .settings
            return await c.head_object("src", "k")

    assert asyncio.run(main()).size == 3
