"""HTTPS for the emulator: the server's TLS context, and what its connections did.

The emulator speaks either plain HTTP or HTTPS on its port, never both: a
client that verifies certificates is tested against a server that cannot
answer it in plain text by mistake.

The TLS handshake runs in each connection's own thread (the listening thread
only accepts), so a client that stalls or fails its handshake holds up no
other client. Every accepted connection is counted, and so is every
handshake's outcome and the SNI name it asked for: tests assert that a
request really went over TLS, which name the client asked to verify, and how
many times a client tried a certificate it rejects.

Standard library only: certificates are the caller's (tests generate theirs
with ``cryptography``; ``openssl`` does as well, see the emulator README).
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SNI_ATTRIBUTE = "_cos_emulator_sni"
"""Where the SNI callback leaves the requested name on the server-side socket."""


def server_context(certfile: str | Path, keyfile: str | Path | None = None) -> ssl.SSLContext:
    """A server-side TLS context (TLS 1.2 or later) presenting ``certfile``.

    ``certfile`` holds the server certificate, optionally followed by its
    chain; ``keyfile`` its private key (``None``: the key is in ``certfile``).
    Errors in either file raise here, before the emulator listens.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(certfile), str(keyfile) if keyfile is not None else None)
    return ctx


def record_sni(ctx: ssl.SSLContext) -> None:
    """Make ``ctx`` remember, on each server-side socket, the SNI name the client sent.

    Python exposes a server's SNI only through this callback. An existing
    callback (certificate selection by name) keeps running after ours.
    Installing twice is harmless.
    """
    previous = ctx.sni_callback
    if getattr(previous, "_cos_emulator", False):
        return

    def on_sni(sock: Any, server_name: str | None, context: ssl.SSLContext) -> int | None:
        setattr(sock, SNI_ATTRIBUTE, server_name)
        # typeshed says str; a client that sends no SNI gives None.
        return previous(sock, server_name, context) if previous is not None else None  # type: ignore[arg-type]

    on_sni._cos_emulator = True  # type: ignore[attr-defined]
    ctx.sni_callback = on_sni


def handshake_error(exc: BaseException) -> str:
    """A short, stable name for why a handshake failed (``TLSV1_ALERT_UNKNOWN_CA``, ``EOF``...)."""
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return str(exc.reason)
    if isinstance(exc, (ssl.SSLEOFError, ConnectionError)) or not str(exc):
        return "EOF"
    return type(exc).__name__


class ConnectionStats:
    """Accepted connections and TLS handshakes, thread-safe; waits without polling.

    A connection is counted when accepted, before its handshake starts, so a
    client that got a certificate from the emulator always finds its
    connection counted. A handshake's outcome, and the SNI name it asked for
    (``(none)``: no SNI, as clients do for an IP address), are counted when
    it ends, which may be just after the client gave up:
    :meth:`wait_settled` waits for that.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.reset()

    def reset(self) -> None:
        with self._cond:
            self.accepted = 0
            self.handshakes = 0
            self.handshake_failures = 0
            self.failure_reasons: dict[str, int] = {}
            self.server_names: dict[str, int] = {}
            self._pending = 0
            self._cond.notify_all()

    def on_accept(self, tls: bool) -> None:
        with self._cond:
            self.accepted += 1
            if tls:
                self._pending += 1

    def on_handshake(self, server_name: str | None, error: BaseException | None) -> None:
        with self._cond:
            self._pending = max(0, self._pending - 1)
            name = server_name if server_name is not None else "(none)"
            self.server_names[name] = self.server_names.get(name, 0) + 1
            if error is None:
                self.handshakes += 1
            else:
                self.handshake_failures += 1
                reason = handshake_error(error)
                self.failure_reasons[reason] = self.failure_reasons.get(reason, 0) + 1
            self._cond.notify_all()

    def notify(self) -> None:
        """Wake :meth:`wait_for` callers; the server calls it whenever it has counted a request."""
        with self._cond:
            self._cond.notify_all()

    def wait_settled(self, timeout: float = 5.0) -> bool:
        """Wait until every accepted connection's handshake has ended; False on timeout."""
        return self.wait_for(lambda: self._pending == 0, timeout)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Wait until ``predicate()`` holds; False on timeout.

        It is evaluated again whenever a connection is accepted, a handshake
        ends or a request is counted, so it may read the request counters
        (``CosEmulator.counters()``) as well as these.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def snapshot(self) -> dict[str, Any]:
        with self._cond:
            return {
                "accepted": self.accepted,
                "tls_handshakes": self.handshakes,
                "tls_handshake_failures": self.handshake_failures,
                "tls_failure_reasons": dict(self.failure_reasons),
                "tls_server_names": dict(self.server_names),
            }


__all__ = ["ConnectionStats", "handshake_error", "record_sni", "server_context"]
