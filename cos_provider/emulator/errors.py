"""The one exception handlers raise to answer with a COS ``<Error>``.

Handlers never build error responses themselves: they raise
:class:`CosError` and the server renders it (status, XML body, request and
trace ids), so every error has the same shape the SDK requires - non-empty
Code, Message, Resource and RequestId.
"""

from __future__ import annotations


class CosError(Exception):
    def __init__(
        self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def invalid_argument(message: str) -> CosError:
    return CosError(400, "InvalidArgument", message)


def invalid_request(message: str) -> CosError:
    return CosError(400, "InvalidRequest", message)
