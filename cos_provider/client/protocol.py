"""Sans-I/O core shared by the sync and async transports.

A :class:`CosRequest` describes one API call; :func:`prepare` turns it into
the URL and headers to send, signed for *now*. Transports call it again for
every attempt, so retries are always re-signed with a fresh window, and no
transport ever chooses which headers to sign.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Generic, TypeVar

from cos_provider.client import signing, validation
from cos_provider.client.credentials import Credentials
from cos_provider.client.endpoints import Endpoint, object_path, signed_path
from cos_provider.client.signing import cos_quote

T = TypeVar("T")

SIGNATURE_LIFETIME = 600
"""Seconds a signature stays valid. Requests are signed per attempt, so this
only needs to cover one request plus clock skew, not a whole copy."""
CLOCK_SKEW_ALLOWANCE = 60


READ_CHUNK = 1024 * 1024
"""Bytes read from a file at a time: what a streamed body holds in memory."""


@dataclass(frozen=True)
class FileRange:
    """``length`` bytes of a file from ``offset``: a request body that is never held in memory.

    ``source`` is a path (opened afresh for every read) or a seekable binary
    file object (sought to ``offset`` before every read), so a retried
    attempt sends the same bytes again. Sans-IO: it only describes the bytes;
    the transports read them with :meth:`chunks`.
    """

    source: str | os.PathLike[str] | IO[bytes]
    offset: int
    length: int

    def __post_init__(self) -> None:
        if self.offset < 0 or self.length < 0:
            raise ValueError(f"a file range needs offset and length >= 0, got {self.offset}, {self.length}")

    def chunks(self, chunk_size: int = READ_CHUNK) -> Iterator[bytes]:
        """The range's bytes, ``chunk_size`` at a time; raises ``OSError`` if the file is shorter."""
        if isinstance(self.source, str | os.PathLike):
            with open(self.source, "rb") as handle:
                yield from self._read(handle, chunk_size)
        else:
            yield from self._read(self.source, chunk_size)

    def _read(self, handle: IO[bytes], chunk_size: int) -> Iterator[bytes]:
        handle.seek(self.offset)
        left = self.length
        while left > 0:
            data = handle.read(min(chunk_size, left))
            if not data:
                raise OSError(
                    f"file ended {left} bytes before the end of the range {self.offset}+{self.length}"
                )
            left -= len(data)
            yield data

    def read_all(self) -> bytes:
        """The whole range in memory (small ranges only)."""
        return b"".join(self.chunks())


Body = bytes | FileRange
"""A request body: bytes, or a range of a file streamed from disk."""


def body_length(body: Body) -> int:
    return body.length if isinstance(body, FileRange) else len(body)


@dataclass(frozen=True)
class CosRequest:
    """One COS API call, independent of how it is sent."""

    operation: str
    method: str
    bucket: str
    """Full ``name-appid``; empty for service-level calls (GET Service)."""
    key: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Body = b""
    region: str | None = None
    """Overrides the endpoint's region (cross-region source HEADs)."""
    read_timeout: float | None = None
    host: str | None = None
    """A host that is not a bucket's or the service's (the Batch Operations control endpoint)."""

    def __post_init__(self) -> None:
        # The last line of defence: operations name the user's parameter
        # (``content_disposition``...) first; a request built by hand still
        # cannot carry a header value that HTTP would mangle or split.
        for name, value in self.headers.items():
            validation.validate_header_value(value, f"header {name}")

    def describe(self) -> str:
        """``Operation bucket/key`` for log lines and error text (no secrets)."""
        target = f"{self.bucket}/{self.key}" if self.key is not None else self.bucket
        return f"{self.operation} {target}".rstrip()

    def target(self) -> str:
        """``cos://bucket/key[?versionId=…]``: what the call is about, for error messages.

        ``cos://bucket/`` for a bucket call, ``""`` for GET Service.
        """
        if not self.bucket:
            return ""
        text = f"cos://{self.bucket}/{self.key or ''}"
        version = self.params.get("versionId")
        return f"{text}?versionId={version}" if version else text


class Headers(Mapping[str, str]):
    """Response headers, looked up case-insensitively as HTTP requires.

    The parsers read headers through this type, not through the HTTP
    library's own, so this module and :mod:`operations` stay independent of
    ``requests`` and ``httpx``; each transport copies its response's headers
    in. Names keep the case they arrived in; of repeated names the last wins.
    """

    __slots__ = ("_by_lower",)

    def __init__(self, headers: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        self._by_lower: dict[str, tuple[str, str]] = {name.lower(): (name, value) for name, value in pairs}

    def __getitem__(self, name: str) -> str:
        return self._by_lower[name.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._by_lower.values())

    def __len__(self) -> int:
        return len(self._by_lower)

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"


def decode_header_value(raw: bytes) -> str:
    """A response header value from its raw bytes: UTF-8 if it is UTF-8, else latin-1.

    COS returns ``x-cos-meta-*`` and content headers as the raw UTF-8 bytes
    they were written with (the official SDK writes them so). Each HTTP
    library hands them over differently: ``http.client`` (under ``requests``)
    decodes every header as latin-1, which is lossless, so the transport
    re-encodes to latin-1 and comes here; httpx exposes the raw bytes.
    Anything that is not valid UTF-8 stays readable as latin-1.
    """
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


@dataclass(frozen=True)
class RawResponse:
    """What a transport got back, before any parsing: filled by the transports."""

    status: int
    headers: Headers
    body: bytes

    @property
    def request_id(self) -> str:
        return self.headers.get("x-cos-request-id", "")


@dataclass(frozen=True)
class Call(Generic[T]):
    """A request and the function that reads its successful response."""

    request: CosRequest
    parse: Callable[[RawResponse], T]


@dataclass(frozen=True)
class PreparedRequest:
    method: str
    url: str
    """Fully percent-encoded; transports must send it byte for byte (see :func:`object_path`)."""
    headers: dict[str, str]
    """The values as signed."""
    body: Body

    def wire_headers(self) -> dict[str, bytes]:
        """The headers as bytes to put on the wire: every value as its UTF-8 bytes.

        This is what the official SDK sends (it converts every value with
        ``to_bytes``) and what the signature covers (values are
        percent-encoded over UTF-8). Handing ``str`` values to the HTTP
        libraries would not do: ``http.client`` encodes them as latin-1
        (``é`` becomes one byte that was not signed) or raises, httpx
        accepts only ASCII.
        """
        return {name: value.encode("utf-8") for name, value in self.headers.items()}


def _query_string(params: Mapping[str, str]) -> str:
    parts = [cos_quote(k) if v == "" else f"{cos_quote(k)}={cos_quote(v)}" for k, v in params.items()]
    return "&".join(parts)


def prepare(
    request: CosRequest,
    credentials: Credentials,
    endpoint: Endpoint,
    *,
    now: Callable[[], float] = time.time,
) -> PreparedRequest:
    """Build the URL and signed headers for one attempt of ``request``."""
    host = request.host or (
        endpoint.host(request.bucket, request.region)
        if request.bucket
        else endpoint.service_host(request.region)
    )
    path = object_path(request.key) if request.key is not None else "/"
    query = _query_string(request.params)
    url = endpoint.base_url(host) + path + (f"?{query}" if query else "")

    headers: dict[str, str] = {"Host": host}
    headers.update(request.headers)
    if credentials.token:
        headers["x-cos-security-token"] = validation.validate_header_value(credentials.token, "session_token")
    length = body_length(request.body)
    if request.method in ("PUT", "POST", "DELETE") or length:
        # requests/httpx add it anyway for these methods; sign what is sent.
        headers["Content-Length"] = str(length)

    to_sign = {name: value for name, value in headers.items() if signing.should_sign_header(name)}
    start = int(now()) - CLOCK_SKEW_ALLOWANCE
    headers["Authorization"] = signing.authorization(
        credentials.secret_id,
        credentials.secret_key,
        request.method,
        signed_path(request.key) if request.key is not None else "/",
        request.params,
        to_sign,
        start,
        start + CLOCK_SKEW_ALLOWANCE + SIGNATURE_LIFETIME,
    )
    return PreparedRequest(request.method, url, headers, request.body)
