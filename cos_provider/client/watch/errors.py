"""What a failed poke means, decided once for every mode.

A sensor in poke mode raises, a trigger sends an error event that the
sensor turns back into an exception: both classify through here, so the
same refusal fails fast (or not) with the same message wherever it happens.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cos_provider.client.errors import CosServiceError, CosTransportError, CosValidationError

TRANSIENT = "transient"


class WatchError(Exception):
    """A poke that cannot give a verdict.

    ``kind`` is one of ``auth``, ``no_bucket``, ``invalid``, ``deleted``,
    ``service`` (waiting cannot fix these: the sensor fails fast) or
    ``transient`` (COS or the network kept failing after the client's
    retries: the poke fails like any task error). It crosses the
    trigger/sensor boundary as a JSON event (:meth:`to_event`).
    """

    def __init__(self, kind: str, message: str, *, code: str = "", http_status: int = 0) -> None:
        self.kind = kind
        self.message = message
        self.code = code
        self.http_status = http_status
        super().__init__(message)

    @property
    def fail_fast(self) -> bool:
        return self.kind != TRANSIENT

    def to_event(self) -> dict[str, Any]:
        return {
            "status": "error",
            "kind": self.kind,
            "message": self.message,
            "code": self.code,
            "http_status": self.http_status,
        }

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> WatchError:
        return cls(
            str(event.get("kind", "service")),
            str(event.get("message", "unknown error")),
            code=str(event.get("code", "")),
            http_status=int(event.get("http_status", 0) or 0),
        )


def classify(exc: BaseException, conn_id: str = "") -> WatchError:
    """Turn what a poke raised into a :class:`WatchError` with a message a human can act on."""
    if isinstance(exc, WatchError):
        return exc
    conn = f" of connection {conn_id!r}" if conn_id else ""
    if isinstance(exc, CosValidationError):
        return WatchError("invalid", f"Invalid COS sensor settings{conn}: {exc}")
    if isinstance(exc, CosTransportError):
        return WatchError(TRANSIENT, f"COS could not be reached: {exc}")
    if not isinstance(exc, CosServiceError):
        return WatchError("service", f"{type(exc).__name__}: {exc}")

    def error(kind: str, message: str) -> WatchError:
        return WatchError(kind, message, code=exc.code, http_status=exc.status)

    rid = f" (request id {exc.request_id})" if exc.request_id else ""
    text = f"{exc.code} {exc.message}"
    if exc.is_transient:
        return error(TRANSIENT, f"COS kept failing: {exc}")
    if exc.is_auth_error:
        if "InvalidAccessKeyId" in text:
            why = "the SecretId is not known to COS"
        elif "SignatureDoesNotMatch" in text:
            why = "the SecretKey does not match the SecretId"
        elif "Token" in exc.code:
            why = "the session token is missing, wrong or expired"
        elif "RequestTimeTooSkewed" in text or "expired" in text.lower():
            why = "the request time was rejected; this machine's clock is off"
        elif exc.code == "AccessDenied" and not exc.message:
            what = getattr(exc, "cos_request", "") or exc.resource or "the request"
            why = (
                f"access denied to {what}; the answer has no detail (HEAD), so either the "
                "SecretId/SecretKey are wrong or they lack permission"
            )
        else:
            why = exc.message or exc.code
        return error("auth", f"COS rejected the credentials{conn}: {why} ({exc.code}){rid}")
    if exc.code == "NoSuchBucket":
        return error("no_bucket", f"COS bucket does not exist: {exc}")
    return error("service", f"COS refused the request: {exc}")


__all__ = ["TRANSIENT", "WatchError", "classify"]
