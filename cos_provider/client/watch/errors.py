"""What a failed poke means, decided once for every mode.

A sensor in poke mode raises, a trigger sends an error event that the
sensor turns back into an exception: both classify through here, so the
same refusal fails fast (or not) with the same message wherever it happens.
The advice in the messages comes from :mod:`cos_provider.client.explain`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cos_provider.client.errors import CosServiceError, CosTransportError, CosValidationError
from cos_provider.client.explain import explain_service_error

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

    if exc.is_transient:
        return error(TRANSIENT, f"COS kept failing: {exc}")
    if exc.is_auth_error:
        return error("auth", f"COS rejected the credentials{conn} ({exc.code}). {explain_service_error(exc)}")
    if exc.code == "NoSuchBucket":
        return error("no_bucket", explain_service_error(exc))
    return error("service", f"COS refused the request: {exc}")


def unusable_connection(exc: BaseException, conn_id: str) -> WatchError:
    """Why a poke could not even start: the connection or the parameters cannot be used.

    Sensors and triggers both resolve the connection and build the watch
    before asking COS anything. What fails there is not COS's answer (a
    connection that does not exist, an extra that is not JSON, a bucket name
    COS would refuse), and waiting cannot fix it, so it is ``invalid``.
    """
    error = classify(exc, conn_id)
    if error.kind == "service":
        return WatchError("invalid", f"Connection {conn_id!r} cannot be used: {exc}")
    return error


__all__ = ["TRANSIENT", "WatchError", "classify", "unusable_connection"]
