"""Credentials, kept out of every ``repr``, log line and exception."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Credentials:
    """A SecretId/SecretKey pair, plus the session token of temporary (STS) keys.

    ``repr`` shows only the SecretId: these objects end up in tracebacks and
    debug logs, and the secret parts must not.
    """

    secret_id: str
    secret_key: str = field(repr=False)
    token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.secret_id:
            raise ValueError("secret_id must not be empty")
        if not self.secret_key:
            raise ValueError("secret_key must not be empty")
