"""The synchronous transport: one pooled ``requests.Session`` per client.

It owns I/O only. What to send comes from :mod:`protocol` (signed afresh for
each attempt), what counts as an error from :mod:`errors`, and when to retry
from :mod:`retry`, so the async transport differs from this one in the HTTP
library alone.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import requests
from requests.adapters import HTTPAdapter

from cos_provider.client.crc64 import crc64
from cos_provider.client.credentials import Credentials
from cos_provider.client.endpoints import Endpoint
from cos_provider.client.errors import (
    CosError,
    CosResponseError,
    CosTransportError,
    CosValidationError,
    error_from_response,
)
from cos_provider.client.protocol import (
    Body,
    Call,
    CosRequest,
    FileRange,
    Headers,
    PreparedRequest,
    RawResponse,
    decode_header_value,
    prepare,
)
from cos_provider.client.retry import RetryPolicy, certificate_failure

T = TypeVar("T")
log = logging.getLogger("cos_provider.client")

STREAM_CHUNK = 64 * 1024
"""Bytes read from a streamed body at a time: what a download holds in memory per request.

Small on purpose: a chunk above malloc's mmap threshold (128 KiB) is a
fresh ``mmap`` each time, so every byte received also cost a page fault.
Measured by ``bench/transfer.py``'s model on a 512 MiB download (8 ranges
at a time): 1 MiB chunks spent 0.9-1.3 s of system time and 3.5 s, 256 KiB
0.6 s and 2.5 s, 64 KiB 0.2 s and 1.75 s (the model's ideal: 1.5 s)."""


@dataclass(frozen=True)
class Streamed(Generic[T]):
    """A streamed answer: what the call's parser read from the headers, and the body's length and CRC64."""

    result: T
    size: int
    crc64: int


USER_AGENT = "airflow-provider-tencent-cos"


@dataclass(frozen=True)
class TransportConfig:
    """How to talk to COS. ``verify``: ``True`` (the default CA bundle), ``False``
    (no certificate check), or the path of a CA bundle file or directory,
    which must exist: a typo fails here, not as a TLS error on every request."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    verify: bool | str = True
    pool_size: int = 16
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def __post_init__(self) -> None:
        if isinstance(self.verify, str) and not os.path.exists(self.verify):
            raise CosValidationError(
                "verify",
                f"must be true, false or the path of a CA bundle; {self.verify!r} does not exist",
            )


def env_ca_bundle() -> str | None:
    """The CA bundle the environment names for ``verify=True``: ``REQUESTS_CA_BUNDLE``, else ``SSL_CERT_FILE``.

    Read by both transports, so they trust the same CAs in every mode:
    requests reads ``REQUESTS_CA_BUNDLE`` itself only when it trusts the
    environment, which it must not do with a connect address (proxies).
    """
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE") or None


def tls_name(host: str) -> str:
    """The name a certificate must carry for ``host`` (a Host header value): without its port."""
    if host.startswith("["):
        return host[1 : host.find("]")]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def region_of(request: CosRequest, endpoint: Endpoint) -> str:
    """The region a request goes to, for error messages ("" for accelerate or custom domains)."""
    return request.region or endpoint.region or ""


def no_answer(
    request: CosRequest,
    url: str,
    attempt: int,
    exc: Exception,
    *,
    timed_out: bool,
    region: str = "",
    host: str = "",
) -> CosTransportError:
    """The error of an attempt that got no HTTP answer, worded alike whichever HTTP library failed.

    A certificate that failed verification says so, with the name that was
    verified (``host``, the virtual host) and OpenSSL's reason: the fix is a
    setting (``verify``), which the bare library error would not suggest.
    """
    cert = certificate_failure(exc)
    if cert is not None:
        reason = (cert.verify_message or str(cert)).rstrip(".")
        message = (
            f"COS {request.describe()}: TLS certificate verification failed for host "
            f"{tls_name(host) or url}: {reason}. Check the connection's 'verify' "
            "(true, false, or the path of a CA bundle that signed the server's certificate)"
        )
    else:
        kind = "timed out" if timed_out else "connection failed"
        message = f"COS {request.describe()} {kind}: {type(exc).__name__}"
    error = CosTransportError(message, method=request.method, url=url, attempts=attempt)
    return error.during(request.describe(), attempt, target=request.target(), region=region)


class VirtualHostTLSAdapter(HTTPAdapter):
    """Verifies a connect address's certificate against the request's virtual host.

    With a connect address the URL names the TCP destination
    (``https://10.0.0.5:443``) and the ``Host`` header the bucket
    (``b-125….cos.ap-beijing.myqcloud.com``). urllib3 would send no SNI to an
    IP address and check the certificate against the IP: any certificate
    issued for that IP would pass, and COS's own (issued for
    ``*.cos.<region>.myqcloud.com``) would fail. So the pool of each request
    is keyed by, and verifies (SNI and hostname), the name in its ``Host``
    header, as if the bucket's domain had resolved to the connect address.
    Connections are never shared between virtual hosts, each having been
    verified for its own name.
    """

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[Any, Any]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        kwargs: dict[str, Any] = dict(pool_kwargs)
        host = request.headers.get("Host")
        if isinstance(host, bytes):  # header values go out as the bytes that were signed
            host = host.decode("ascii")
        if host_params.get("scheme") == "https" and host:
            # urllib3 sends it as SNI and checks the certificate against it; it is part of the pool key.
            kwargs["server_hostname"] = tls_name(host)
        return host_params, kwargs


def finish(
    call: Call[T], response: RawResponse, request: CosRequest, attempt: int, elapsed: float, region: str = ""
) -> T:
    """Shared by both transports: log, raise the error a response carries, or parse it.

    ``region`` is where the request went (:func:`region_of`); errors name it.
    """
    error = error_from_response(response.status, response.headers, response.body, request.method)
    log.debug(
        "COS %s -> %s in %.3fs (attempt %d, x-cos-request-id=%s)",
        request.describe(),
        response.status,
        elapsed,
        attempt,
        response.request_id or "-",
    )
    if error is not None:
        raise error.during(request.describe(), attempt, target=request.target(), region=region)
    try:
        return call.parse(response)
    except ValueError as exc:  # XmlDecodeError, or a field that is not a number
        if isinstance(exc, CosError):
            raise
        raise unreadable(request, response, attempt, exc, region) from exc


def unreadable(
    request: CosRequest, response: RawResponse, attempt: int, exc: Exception, region: str = ""
) -> CosResponseError:
    """The error of a success answer whose body (or a header) could not be parsed."""
    where = " ".join(part for part in (request.operation, request.target()) if part)
    if region:
        where += f" in region {region}"
    detail = f"{exc}; {len(response.body)} bytes, starting {response.body[:40]!r}"
    error = CosResponseError(
        f"COS answered {response.status} to {where} with a body that cannot be read ({detail})"
        + (f" (request_id={response.request_id})" if response.request_id else ""),
        status=response.status,
        request_id=response.request_id,
        detail=detail,
        method=request.method,
        attempts=attempt,
    )
    return error.during(request.describe(), attempt, target=request.target(), region=region)


class SyncTransport:
    """Sends :class:`Call` objects with retries over a pooled session."""

    def __init__(
        self,
        credentials: Credentials,
        endpoint: Endpoint,
        config: TransportConfig | None = None,
        *,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.credentials = credentials
        self.endpoint = endpoint
        self.config = config or TransportConfig()
        self._now = now
        self._session = self._new_session()

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        adapter_class = VirtualHostTLSAdapter if self.endpoint.connect_address else HTTPAdapter
        adapter = adapter_class(
            pool_connections=4, pool_maxsize=max(1, self.config.pool_size), max_retries=0, pool_block=False
        )
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.verify = (env_ca_bundle() or True) if self.config.verify is True else self.config.verify
        session.headers["User-Agent"] = USER_AGENT
        # Proxies from the environment would bypass the connect-address override.
        session.trust_env = self.endpoint.connect_address is None
        return session

    def close(self) -> None:
        self._session.close()

    def execute(self, call: Call[T]) -> T:
        for attempt in self.config.retry.retrying():
            with attempt:
                return self._attempt(call, attempt.retry_state.attempt_number)
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    def _attempt(self, call: Call[T], attempt: int) -> T:
        request = call.request
        prepared = prepare(request, self.credentials, self.endpoint, now=self._now)
        timeout = (self.config.connect_timeout, request.read_timeout or self.config.read_timeout)
        started = time.monotonic()
        try:
            resp = self._send(prepared, timeout)
            body = resp.content
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            timed_out = isinstance(exc, requests.Timeout)
            region = region_of(request, self.endpoint)
            host = prepared.headers.get("Host", "")
            raise no_answer(
                request, prepared.url, attempt, exc, timed_out=timed_out, region=region, host=host
            ) from exc
        # http.client decoded every header as latin-1 (lossless): back to the raw bytes, then UTF-8.
        headers = Headers((n, decode_header_value(v.encode("latin-1"))) for n, v in resp.headers.items())
        response = RawResponse(resp.status_code, headers, body)
        elapsed = time.monotonic() - started
        return finish(call, response, request, attempt, elapsed, region_of(request, self.endpoint))

    def execute_stream(
        self,
        call: Call[T],
        write: Callable[[bytes], None],
        *,
        restart: Callable[[], None],
        chunk_size: int = STREAM_CHUNK,
    ) -> Streamed[T]:
        """Send ``call`` and hand a 2xx body to ``write`` in chunks, computing its CRC64 as it goes.

        The same retries, signing and error rules as :meth:`execute`: an
        error answer (small) is read whole and raised as usual. ``restart``
        is called before the first chunk of every attempt, so the sink can go
        back to where it started (a retry after a connection cut mid-body
        rewrites the same bytes). A body shorter than its ``Content-Length``
        is a transport error, retried. ``call.parse`` sees the headers with
        an empty body. Memory: one chunk per request.
        """
        for attempt in self.config.retry.retrying():
            with attempt:
                return self._attempt_stream(
                    call, attempt.retry_state.attempt_number, write, restart, chunk_size
                )
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    def _attempt_stream(
        self,
        call: Call[T],
        attempt: int,
        write: Callable[[bytes], None],
        restart: Callable[[], None],
        chunk_size: int,
    ) -> Streamed[T]:
        request = call.request
        prepared = prepare(request, self.credentials, self.endpoint, now=self._now)
        timeout = (self.config.connect_timeout, request.read_timeout or self.config.read_timeout)
        region = region_of(request, self.endpoint)
        started = time.monotonic()

        def unanswered(exc: Exception, timed_out: bool) -> CosTransportError:
            host = prepared.headers.get("Host", "")
            return no_answer(
                request, prepared.url, attempt, exc, timed_out=timed_out, region=region, host=host
            )

        try:
            resp = self._send(prepared, timeout, stream=True)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise unanswered(exc, isinstance(exc, requests.Timeout)) from exc
        with resp:
            headers = Headers((n, decode_header_value(v.encode("latin-1"))) for n, v in resp.headers.items())
            size = crc = 0
            try:
                if not 200 <= resp.status_code < 300:
                    body = resp.content
                else:
                    body = b""
                    restart()
                    for chunk in resp.raw.stream(chunk_size, decode_content=False):
                        write(chunk)
                        crc = crc64(chunk, crc)
                        size += len(chunk)
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError,
                OSError,
            ) as exc:
                raise unanswered(exc, isinstance(exc, requests.Timeout)) from exc
            except Exception as exc:  # urllib3's ProtocolError / ReadTimeoutError
                if type(exc).__module__.startswith("urllib3"):
                    raise unanswered(exc, "Timeout" in type(exc).__name__) from exc
                raise
        expected = headers.get("Content-Length")
        if (
            body == b""
            and 200 <= resp.status_code < 300
            and expected
            and expected.isdigit()
            and int(expected) != size
        ):
            error = CosTransportError(
                f"COS {request.describe()}: body cut short, {size} of {expected} bytes",
                method=request.method,
                url=prepared.url,
                attempts=attempt,
            )
            raise error.during(request.describe(), attempt, target=request.target(), region=region)
        response = RawResponse(resp.status_code, headers, body)
        result = finish(call, response, request, attempt, time.monotonic() - started, region)
        return Streamed(result, size, crc)

    def _send(
        self, prepared: PreparedRequest, timeout: tuple[float, float], *, stream: bool = False
    ) -> requests.Response:
        """Send ``prepared`` with its URL and header bytes exactly as :func:`prepare` made them.

        ``Session.request`` would re-quote the URL (``requote_uri`` decodes
        ``%2E`` back to ``.``), so a key such as ``a/..`` would leave as
        ``/a/..``, which a front end resolves to ``/``, addressing (and
        verifying) a different path than the one signed. So the request is
        prepared by the session as usual and then given back its URL.
        """
        req = requests.Request(
            prepared.method, prepared.url, headers=prepared.wire_headers(), data=_sync_body(prepared.body)
        )
        prep = self._session.prepare_request(req)
        prep.url = prepared.url
        settings = self._session.merge_environment_settings(prep.url, {}, None, None, None)
        settings["stream"] = stream
        return self._session.send(prep, timeout=timeout, allow_redirects=False, **settings)


class _RangeStream:
    """A :class:`FileRange` as requests streams it: iterable, with a length (so Content-Length, not chunked)."""

    def __init__(self, body: FileRange) -> None:
        self._body = body

    def __len__(self) -> int:
        return self._body.length

    def __iter__(self) -> Iterator[bytes]:
        return self._body.chunks()


def _sync_body(body: Body) -> bytes | _RangeStream | None:
    if isinstance(body, FileRange):
        return _RangeStream(body) if body.length else b""
    return body or None
