"""What a handler sees of an HTTP exchange, free of ``http.server`` details.

Header values are the *raw bytes* the client sent, decoded as UTF-8
(``http.server`` decodes them as latin-1; re-encoding that to UTF-8 would
break both ``x-cos-meta-*`` values and their signatures). The path is
percent-decoded only - ``+`` stays ``+`` and ``//``, ``./`` and ``../`` are
kept - because that is exactly what the client signed. The query is
form-decoded (``+`` is a space), because ``requests`` encodes it that way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cos_provider.emulator.faults import Fault


def raw_header_value(value: str) -> str:
    """Undo ``http.server``'s latin-1 decoding; keep latin-1 if not UTF-8."""
    try:
        raw = value.encode("latin-1")
    except UnicodeEncodeError:
        return value
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return value


def wire_header_value(value: str) -> str:
    """The str ``http.server`` must write so the client receives UTF-8 bytes."""
    return value.encode("utf-8").decode("latin-1")


def http_date(ts: float) -> str:
    return formatdate(ts, usegmt=True)


@dataclass
class Request:
    method: str
    host: str
    path: str  # percent-decoded, starts with "/"
    query: list[tuple[str, str]]
    headers: list[tuple[str, str]]
    body: bytes
    client: str
    request_id: str
    bucket: str | None = None
    region: str | None = None  # from the Host; None for accelerate
    key: str = ""
    operation: str = "Unknown"
    secure: bool = False
    """Arrived over TLS (SSE-C is refused otherwise)."""
    arrived: float = 0.0
    """``time.monotonic()`` when the request line was read: where the model paces a body from."""
    _lower: dict[str, str] = field(default_factory=dict, repr=False)
    _params: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for name, value in self.headers:
            self._lower.setdefault(name.lower(), value)
        for name, value in self.query:
            self._params.setdefault(name, value)

    def header(self, name: str) -> str | None:
        return self._lower.get(name.lower())

    def header_names(self) -> list[str]:
        return list(self._lower)

    def param(self, name: str) -> str | None:
        return self._params.get(name)

    def has_param(self, name: str) -> bool:
        return name in self._params

    @property
    def resource(self) -> str:
        host = self.host.split(":")[0] if self.host else "cos"
        return f"{host}{self.path}"


@dataclass
class KeepAlive:
    """A Complete answered 200 at once, kept alive with whitespace, then finished."""

    duration: float
    interval: float
    finish: Callable[[], bytes]  # runs after the whitespace; returns the final body


@dataclass
class Response:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    stream: Iterator[bytes] | None = None
    stream_length: int = 0
    keepalive: KeepAlive | None = None
    fault: Fault | None = None

    @classmethod
    def xml(cls, body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        hdrs = {"Content-Type": "application/xml"}
        if headers:
            hdrs.update(headers)
        return cls(status=status, headers=hdrs, body=body)
