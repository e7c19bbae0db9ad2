"""Exceptions, and the one parser that turns a COS response into one.

Every path that can see an ``<Error>`` body (4xx/5xx, and the HTTP 200 that
PUT Object - Copy, Complete and Upload Part - Copy may answer with) goes
through :func:`raise_for_response`, so "200 is not success" is decided once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from cos_provider.client import xmlcodec

if TYPE_CHECKING:
    from typing import Self  # Python 3.11+; the package supports 3.10

# COS reports auth failures either as the Code or, on its troubleshooting
# pages, as the Message of an AccessDenied; match both.
AUTH_ERROR_MARKERS = frozenset(
    {
        "SignatureDoesNotMatch",
        "RequestTimeTooSkewed",
        "InvalidAccessKeyId",
        "Request has expired",
        "ExpiredToken",
        "InvalidToken",
    }
)
TRANSIENT_CODES = frozenset({"InternalError", "SlowDown", "ServiceUnavailable", "RequestTimeout"})


class CosError(Exception):
    """Base of every error this package raises.

    A transport records which call failed and on which attempt (see
    :meth:`during`), so retry logs and callers can name it without parsing
    the message. Errors raised before anything is sent keep the defaults.
    """

    cos_request: str = ""
    """``Operation bucket/key`` of the call that failed (no secrets); empty if none was sent."""
    attempt: int = 0
    """The attempt (from 1) that raised this; 0 if no request was sent."""

    def during(self, cos_request: str, attempt: int) -> Self:
        """Record the call and attempt this error came from; returns ``self`` so it can be raised."""
        self.cos_request = cos_request
        self.attempt = attempt
        return self


class CosValidationError(CosError, ValueError):
    """A parameter breaks a COS rule; raised before any request is sent."""

    def __init__(self, field: str, rule: str) -> None:
        self.field = field
        self.rule = rule
        super().__init__(f"{field}: {rule}")


class CosTransportError(CosError):
    """The request did not get an HTTP answer (connection refused/reset, timeout)."""

    def __init__(self, message: str, *, method: str = "", url: str = "", attempts: int = 1) -> None:
        self.method = method
        self.url = url
        self.attempts = attempts
        super().__init__(message)


class CosIntegrityError(CosError):
    """A copy completed but its result does not match its source (size or CRC64)."""


class CosServiceError(CosError):
    """COS answered with an error, whatever the HTTP status."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str = "",
        resource: str = "",
        request_id: str = "",
        trace_id: str = "",
        method: str = "",
    ) -> None:
        self.status = status
        self.code = code or "Unknown"
        self.message = message
        self.resource = resource
        self.request_id = request_id
        self.trace_id = trace_id
        self.method = method
        super().__init__(self._render())

    def _render(self) -> str:
        parts = [f"COS error {self.status} {self.code}"]
        if self.message:
            parts.append(f": {self.message}")
        details = [
            f"{name}={value}"
            for name, value in (
                ("method", self.method),
                ("resource", self.resource),
                ("request_id", self.request_id),
                ("trace_id", self.trace_id),
            )
            if value
        ]
        if details:
            parts.append(f" ({', '.join(details)})")
        return "".join(parts)

    @property
    def is_auth_error(self) -> bool:
        return (
            self.code in AUTH_ERROR_MARKERS
            or any(m in self.message for m in AUTH_ERROR_MARKERS)
            or (self.status == 403 and self.code == "AccessDenied")
        )

    @property
    def is_transient(self) -> bool:
        return self.status >= 500 or self.status == 429 or self.code in TRANSIENT_CODES

    @property
    def is_not_found(self) -> bool:
        return self.status == 404


def error_from_response(
    status: int, headers: Mapping[str, str], body: bytes, method: str = ""
) -> CosServiceError | None:
    """Return the error a response carries, or ``None`` if it is a success.

    A non-2xx status is always an error, even without an XML body (HEAD has
    none). A 2xx is an error only if its body's root element is ``<Error>``.
    """
    parsed = xmlcodec.parse_error(body) if body else None
    if parsed is None and 200 <= status < 300:
        return None
    request_id = headers.get("x-cos-request-id", "")
    trace_id = headers.get("x-cos-trace-id", "")
    if parsed is None:
        return CosServiceError(
            status,
            _status_code_name(status),
            request_id=request_id,
            trace_id=trace_id,
            method=method,
        )
    return CosServiceError(
        status,
        parsed.code,
        parsed.message,
        parsed.resource,
        parsed.request_id or request_id,
        parsed.trace_id or trace_id,
        method=method,
    )


def _status_code_name(status: int) -> str:
    return {
        400: "BadRequest",
        403: "AccessDenied",
        404: "NoSuchResource",
        405: "MethodNotAllowed",
        409: "Conflict",
        412: "PreconditionFailed",
        416: "InvalidRange",
        429: "SlowDown",
        500: "InternalError",
        503: "ServiceUnavailable",
    }.get(status, f"HTTP{status}")
