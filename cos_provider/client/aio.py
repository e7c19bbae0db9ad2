"""The asynchronous transport and client, for triggers running in an event loop.

Only the HTTP library differs from :mod:`transport`: every request is built and
signed by :func:`protocol.prepare` (afresh for each attempt), every operation
comes from :mod:`operations`, every response goes through
:func:`transport.finish` (log, ``<Error>`` detection, parsing), every attempt
without one through :func:`transport.no_answer`, and retries are driven by
:meth:`RetryPolicy.async_retrying`. httpx is used because Airflow
already installs it. One :class:`AsyncCosClient` owns its connections, split
over a few small ``httpx.AsyncClient`` pools (see :class:`AsyncTransport`).

A triggerer may run thousands of triggers against the same connection, so
:func:`shared_client` hands every trigger of one event loop that uses the same
settings the same client (reference counted, closed with its last user), and
TLS contexts are built once per process instead of once per client.
"""

from __future__ import annotations

import asyncio
import functools
import os
import ssl
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from cos_provider.client import operations as ops
from cos_provider.client.client import BucketNaming
from cos_provider.client.credentials import Credentials
from cos_provider.client.endpoints import Endpoint, validate_app_id
from cos_provider.client.errors import CosError
from cos_provider.client.models import BucketInfo, ListedObject, ObjectInfo, ObjectsPage, PutResult
from cos_provider.client.operations import ObjectAttributes
from cos_provider.client.protocol import (
    Body,
    Call,
    FileRange,
    Headers,
    PreparedRequest,
    RawResponse,
    decode_header_value,
    prepare,
)
from cos_provider.client.transport import (
    USER_AGENT,
    TransportConfig,
    env_ca_bundle,
    finish,
    no_answer,
    region_of,
    tls_name,
)

T = TypeVar("T")

SHARED_MIN_CONNECTIONS = 64
"""Connections of a client shared by many triggers: enough that a burst of
polls from a thousand triggers drains in about half a second at 30 ms RTT."""
SHARD_CONNECTIONS = 8
"""Largest httpx connection pool (see :class:`AsyncTransport`)."""


@functools.lru_cache(maxsize=8)
def ssl_context(verify: bool | str) -> ssl.SSLContext:
    """One TLS context per ``verify`` setting for the whole process.

    httpx would otherwise build (and load the CA bundle into) a new context for
    every client, which costs about a megabyte and tens of milliseconds each.
    ``verify`` follows ``requests``: ``True``, ``False`` or a CA bundle path.
    """
    if verify is False:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    if isinstance(verify, str):
        if os.path.isdir(verify):
            return ssl.create_default_context(capath=verify)
        return ssl.create_default_context(cafile=verify)
    bundle = env_ca_bundle()
    if bundle:
        return ssl.create_default_context(cafile=bundle)
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


class _Pool:
    """The ``httpx.AsyncClient`` shards that carry one virtual host's requests (or every host's)."""

    def __init__(self, clients: list[httpx.AsyncClient]) -> None:
        self.clients = clients
        self.busy = [0] * len(clients)


class AsyncTransport:
    """Sends :class:`Call` objects with retries over a few pooled ``httpx.AsyncClient`` shards.

    With an ``https`` connect address, the certificate is verified against
    each request's virtual host (its ``Host``, sent as SNI), not against the
    connect address, as :class:`~cos_provider.client.transport.VirtualHostTLSAdapter`
    does for the sync transport. httpcore pools connections by TCP
    destination only, so it would carry a request for one bucket's host over
    a connection verified for another's; each virtual host therefore gets
    shards of its own in that mode.
    """

    def __init__(
        self,
        credentials: Credentials,
        endpoint: Endpoint,
        config: TransportConfig | None = None,
        *,
        max_connections: int | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.credentials = credentials
        self.endpoint = endpoint
        self.config = config or TransportConfig()
        self._now = now
        connections = max(1, max_connections or self.config.pool_size)
        # httpcore's pool does bookkeeping quadratic in its size on every
        # request, and in the requests queued on it. So a large pool is split
        # into shards of at most SHARD_CONNECTIONS, and requests beyond the
        # pool wait on a semaphore (a cheap FIFO) and then take the least busy
        # shard, which therefore always has a free connection.
        self._shards = -(-connections // SHARD_CONNECTIONS)
        self._per_shard = -(-connections // self._shards)
        self._gate = asyncio.Semaphore(connections)
        # Proxies from the environment would bypass the connect-address override.
        self._trust_env = self.endpoint.connect_address is None
        self._tls_by_host = urlsplit(self.endpoint.connect_address or "").scheme == "https"
        self._pools: dict[str, _Pool] = {} if self._tls_by_host else {"": self._new_pool()}
        self._closed = False

    def _new_pool(self) -> _Pool:
        per_shard = self._per_shard
        return _Pool(
            [
                httpx.AsyncClient(
                    limits=httpx.Limits(max_connections=per_shard, max_keepalive_connections=per_shard),
                    timeout=httpx.Timeout(
                        self.config.read_timeout, connect=self.config.connect_timeout, pool=None
                    ),
                    verify=ssl_context(self.config.verify),
                    trust_env=self._trust_env,
                    follow_redirects=False,
                    headers={"User-Agent": USER_AGENT},
                )
                for _ in range(self._shards)
            ]
        )

    def _pool_for(self, host: str) -> _Pool:
        if self._closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        key = tls_name(host) if self._tls_by_host else ""
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = self._new_pool()
        return pool

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def trust_env(self) -> bool:
        """Whether proxy settings from the environment apply (never with a connect address).

        Only tests read it; it is the httpx setting every shard is built with,
        which they could otherwise reach only through private state.
        """
        return self._trust_env

    async def aclose(self) -> None:
        self._closed = True
        for pool in self._pools.values():
            for shard in pool.clients:
                await shard.aclose()

    async def _send(self, prepared: PreparedRequest, timeout: httpx.Timeout) -> httpx.Response:
        host = prepared.headers.get("Host", "")
        pool = self._pool_for(host)
        extensions = {"sni_hostname": tls_name(host)} if self._tls_by_host else None
        async with self._gate:
            index = min(range(len(pool.busy)), key=pool.busy.__getitem__)
            pool.busy[index] += 1
            try:
                # httpx keeps the URL's escapes as they are (``%2E`` stays), and takes
                # header values as bytes: the UTF-8 that was signed.
                return await pool.clients[index].request(
                    prepared.method,
                    prepared.url,
                    headers=[(n.encode("ascii"), v) for n, v in prepared.wire_headers().items()],
                    content=_async_body(prepared.body),
                    timeout=timeout,
                    extensions=extensions,
                )
            finally:
                pool.busy[index] -= 1

    async def execute(self, call: Call[T]) -> T:
        async for attempt in self.config.retry.async_retrying():
            with attempt:
                return await self._attempt(call, attempt.retry_state.attempt_number)
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    async def _attempt(self, call: Call[T], attempt: int) -> T:
        request = call.request
        prepared = prepare(request, self.credentials, self.endpoint, now=self._now)
        read = request.read_timeout or self.config.read_timeout
        timeout = httpx.Timeout(read, connect=self.config.connect_timeout, pool=None)
        started = time.monotonic()
        try:
            resp = await self._send(prepared, timeout)
        except httpx.RequestError as exc:
            timed_out = isinstance(exc, httpx.TimeoutException)
            region = region_of(request, self.endpoint)
            host = prepared.headers.get("Host", "")
            raise no_answer(
                request, prepared.url, attempt, exc, timed_out=timed_out, region=region, host=host
            ) from exc
        headers = Headers((n.decode("latin-1"), decode_header_value(v)) for n, v in resp.headers.raw)
        response = RawResponse(resp.status_code, headers, resp.content)
        elapsed = time.monotonic() - started
        return finish(call, response, request, attempt, elapsed, region_of(request, self.endpoint))


class AsyncCosClient(BucketNaming):
    """The async counterpart of :class:`~cos_provider.client.client.CosClient` (read-mostly API).

    Use as ``async with AsyncCosClient(...) as client``; or let
    :func:`shared_client` manage its life. One instance must be used from one
    event loop only.
    """

    def __init__(
        self,
        credentials: Credentials,
        endpoint: Endpoint,
        config: TransportConfig | None = None,
        *,
        app_id: str | None = None,
        max_connections: int | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.app_id = validate_app_id(app_id)
        self.transport = AsyncTransport(credentials, endpoint, config, max_connections=max_connections)

    def __repr__(self) -> str:
        return (
            f"AsyncCosClient(endpoint={self.endpoint!r}, secret_id={self.transport.credentials.secret_id!r})"
        )

    async def __aenter__(self) -> AsyncCosClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.transport.aclose()

    async def execute(self, call: Call[T]) -> T:
        return await self.transport.execute(call)

    async def execute_many(self, calls: Iterable[Call[Any]], *, concurrency: int = 8) -> list[Any | CosError]:
        """Run ``calls`` concurrently (at most ``concurrency`` at once), in order.

        A call that fails with a :class:`CosError` yields that error in its
        slot instead of cancelling the others; any other exception propagates.
        """
        gate = asyncio.Semaphore(max(1, concurrency))

        async def one(call: Call[Any]) -> Any | CosError:
            async with gate:
                try:
                    return await self.execute(call)
                except CosError as exc:
                    return exc

        return list(await asyncio.gather(*(one(c) for c in calls)))

    # -- buckets

    async def list_buckets(self, region: str | None = None) -> list[BucketInfo]:
        return await self.execute(ops.list_buckets(region))

    async def head_bucket(self, bucket: str) -> str:
        return await self.execute(ops.head_bucket(self.bucket(bucket)))

    async def list_objects(
        self, bucket: str, prefix: str = "", delimiter: str = "", marker: str = "", max_keys: int = 1000
    ) -> ObjectsPage:
        return await self.execute(ops.list_objects(self.bucket(bucket), prefix, delimiter, marker, max_keys))

    async def iter_objects(
        self, bucket: str, prefix: str = "", page_size: int = 1000
    ) -> AsyncIterator[ListedObject]:
        marker: str | None = ""
        while marker is not None:
            page = await self.list_objects(bucket, prefix=prefix, marker=marker, max_keys=page_size)
            for obj in page.objects:
                yield obj
            marker = page.next_page_marker

    # -- objects

    async def head_object(
        self, bucket: str, key: str, version_id: str | None = None, region: str | None = None
    ) -> ObjectInfo:
        return await self.execute(ops.head_object(self.ref(bucket, key, version_id, region)))

    async def get_object(
        self,
        bucket: str,
        key: str,
        version_id: str | None = None,
        first: int | None = None,
        last: int | None = None,
    ) -> bytes:
        return await self.execute(ops.get_object(self.ref(bucket, key, version_id), first, last))

    async def put_object(
        self,
        bucket: str,
        key: str,
        body: bytes,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> PutResult:
        attrs = ObjectAttributes(content_type=content_type, metadata=metadata)
        return await self.execute(ops.put_object(self.ref(bucket, key), body, attrs))

    async def delete_object(self, bucket: str, key: str, version_id: str | None = None) -> str | None:
        return await self.execute(ops.delete_object(self.ref(bucket, key, version_id)))


# ---------------------------------------------------------------- sharing


@dataclass
class _Shared:
    client: AsyncCosClient
    users: int = 0


_SHARED: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[Any, ...], _Shared]] = (
    weakref.WeakKeyDictionary()
)


@asynccontextmanager
async def shared_client(
    credentials: Credentials,
    endpoint: Endpoint,
    config: TransportConfig | None = None,
    *,
    app_id: str | None = None,
) -> AsyncIterator[AsyncCosClient]:
    """A client shared by every user in this event loop with the same settings.

    The first user creates it (with at least :data:`SHARED_MIN_CONNECTIONS`
    pooled connections), the last one to leave closes it. Settings that differ
    in anything (credentials included) get separate clients.
    """
    config = config or TransportConfig()
    loop = asyncio.get_running_loop()
    per_loop = _SHARED.setdefault(loop, {})
    key = (credentials, endpoint, config, app_id)
    entry = per_loop.get(key)
    if entry is None or entry.client.transport.closed:
        entry = _Shared(
            AsyncCosClient(
                credentials,
                endpoint,
                config,
                app_id=app_id,
                max_connections=max(config.pool_size, SHARED_MIN_CONNECTIONS),
            )
        )
        per_loop[key] = entry
    entry.users += 1
    try:
        yield entry.client
    finally:
        entry.users -= 1
        if entry.users == 0:
            if per_loop.get(key) is entry:
                del per_loop[key]
            await entry.client.aclose()


def shared_client_count() -> int:
    """How many shared clients are open in the running loop.

    Only tests use it, to prove that triggers release their shared client;
    the registry itself stays private.
    """
    return len(_SHARED.get(asyncio.get_running_loop(), {}))


__all__: Sequence[str] = [
    "SHARED_MIN_CONNECTIONS",
    "AsyncCosClient",
    "AsyncTransport",
    "shared_client",
    "shared_client_count",
    "ssl_context",
]


def _async_body(body: Body) -> bytes | AsyncIterator[bytes] | None:
    """What httpx sends: bytes as they are, a file range streamed chunk by chunk (read afresh per attempt)."""
    if isinstance(body, FileRange):
        chunks = body.chunks()

        async def stream() -> AsyncIterator[bytes]:
            for chunk in chunks:
                yield chunk

        return stream()
    return body or None
