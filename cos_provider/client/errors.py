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


def auth_hint(code: str, message: str) -> str | None:
    """What to fix when COS refuses the credentials, or ``None`` if ``code``/``message`` are not that.

    The words are those of the connection's Test button, so a failed task
    and a failed test tell the user the same thing. COS reports auth
    failures either as the ``<Code>`` or as the ``<Message>`` of an
    ``AccessDenied``, so both are searched. A HEAD (or any bodiless) answer
    carries no reason at all: then the possible causes are listed.
    """
    text = f"{code} {message}"
    if "InvalidAccessKeyId" in text:
        return "The SecretId is not known to COS: check the connection's SecretId."
    if "SignatureDoesNotMatch" in text:
        return "The SecretKey does not match the SecretId: check the connection's SecretKey."
    if "Token" in code:
        return "The session token is missing, wrong or expired: refresh the temporary credentials."
    if "RequestTimeTooSkewed" in text or "Request has expired" in text:
        return "COS rejected the request time: this machine's clock is off; sync it (NTP)."
    if code == "AccessDenied" and not message:
        return (
            "COS gave no reason (the answer has no body): either the SecretId/SecretKey are wrong "
            "or they lack permission for this object; the connection's Test button tells which."
        )
    if code == "AccessDenied":
        return "Access denied: the credentials lack permission for this request."
    return None


class CosError(Exception):
    """Base of every error this package raises.

    A transport records which call failed, on which object, in which region
    and on which attempt (see :meth:`during`), so retry logs and callers can
    name it without parsing the message. Errors raised before anything is
    sent keep the defaults.
    """

    cos_request: str = ""
    """``Operation bucket/key`` of the call that failed (no secrets); empty if none was sent."""
    attempt: int = 0
    """The attempt (from 1) that raised this; 0 if no request was sent."""
    target: str = ""
    """``cos://bucket/key[?versionId=…]`` the call was about (``cos://bucket/`` for bucket calls)."""
    region: str = ""
    """The region the call was sent to, if known."""

    def during(self, cos_request: str, attempt: int, *, target: str = "", region: str = "") -> Self:
        """Record the call and attempt this error came from; returns ``self`` so it can be raised."""
        self.cos_request = cos_request
        self.attempt = attempt
        self.target = target
        self.region = region
        self._context_changed()
        return self

    def _context_changed(self) -> None:
        """Hook for errors whose message names the call (:class:`CosServiceError`)."""

    @property
    def where(self) -> str:
        """``Operation cos://bucket/key?versionId=… in region …``, or ``""`` before any request."""
        operation = self.cos_request.partition(" ")[0]
        text = " ".join(part for part in (operation, self.target) if part)
        if text and self.region:
            text += f" in region {self.region}"
        return text


class CosValidationError(CosError, ValueError):
    """A parameter breaks a COS rule; raised before any request is sent."""

    def __init__(self, field: str, rule: str) -> None:
        self.field = field
        self.rule = rule
        super().__init__(f"{field}: {rule}")


class CosTransportError(CosError):
    """The request did not get a usable HTTP answer (connection refused/reset, timeout,
    or an answer that cannot be read: :class:`CosResponseError`). Always worth a retry."""

    def __init__(self, message: str, *, method: str = "", url: str = "", attempts: int = 1) -> None:
        self.method = method
        self.url = url
        self.attempts = attempts
        super().__init__(message)


class CosResponseError(CosTransportError):
    """COS answered 2xx, but with a body that cannot be read: truncated, not XML, or not the
    document the operation returns.

    To the client that is as good as a connection reset half-way through the
    answer (a proxy or a dropped connection cut it, or something that is not
    COS answered), so it is a :class:`CosTransportError`: both transports
    retry it, and whoever handles an unanswered call handles this one. Once
    the retries run out, the message names the operation, the object, the
    region and the request id of the last answer.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        request_id: str = "",
        detail: str = "",
        method: str = "",
        url: str = "",
        attempts: int = 1,
    ) -> None:
        self.status = status
        self.request_id = request_id
        self.detail = detail
        super().__init__(message, method=method, url=url, attempts=attempts)


class CosIntegrityError(CosError):
    """A copy completed but its result does not match its source (size or CRC64)."""


class CosServiceError(CosError):
    """COS answered with an error, whatever the HTTP status.

    The message names the object from the request, not from the answer: a
    HEAD, GET or DELETE error has no body, so COS's own ``<Resource>`` is
    often missing, and it never shows the version or region. For auth
    failures it ends with :func:`auth_hint`'s advice. An error that restates
    another one (it sets ``cause`` before calling this constructor, as the
    copy engine's part errors do) keeps the request context of its cause.
    """

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
        cause = getattr(self, "cause", None)
        if isinstance(cause, CosError):
            self.cos_request, self.attempt = cause.cos_request, cause.attempt
            self.target, self.region = cause.target, cause.region
        super().__init__(self._render())

    def _context_changed(self) -> None:
        self.args = (self._render(),)

    def _render(self) -> str:
        parts = [f"COS error {self.status} {self.code}"]
        where = self.where
        if where:
            parts.append(f" on {where}")
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
        hint = auth_hint(self.code, self.message) if self.is_auth_error else None
        if hint:
            parts.append(f". {hint}")
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


class RestatedServiceError(CosServiceError):
    """A service error said again with what the caller knows (the part, the destination).

    The COS fields (status, code, request id...) stay the cause's, so code
    that branches on them, and the retry policy, see the same error.
    """

    def __init__(self, cause: CosServiceError) -> None:
        self.cause = cause
        super().__init__(
            cause.status,
            cause.code,
            cause.message,
            cause.resource,
            cause.request_id,
            cause.trace_id,
            cause.method,
        )


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
