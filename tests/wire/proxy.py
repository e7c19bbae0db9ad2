"""A recording TCP proxy on 127.0.0.1, for tests that must see the bytes a client sends.

Python HTTP servers (the emulator's ``http.server`` included) decode header
values as latin-1 and may rewrite the request target before any handler
sees it, so the only trustworthy witness of what a client put on the wire is
a socket in between. :class:`RecordingProxy` sits between any client (ours
with ``connect_address``, the official SDK with ``Proxies``) and the
emulator, forwards every byte unchanged in both directions, and records each
request's head (request line and header lines, exactly as sent) and body.

A request is recorded *before* its last byte is forwarded upstream, so once a
client call has returned, its requests are already in :attr:`RecordingProxy.requests`:
tests never wait or sleep for them.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass
from types import TracebackType

from cos_provider.client.signing import ParsedAuthorization, parse_authorization


@dataclass(frozen=True)
class Recorded:
    """One request as it crossed the wire."""

    head: bytes
    """Request line and header lines, ``\\r\\n``-separated, without the blank line."""
    body: bytes

    @property
    def request_line(self) -> bytes:
        return self.head.split(b"\r\n", 1)[0]

    @property
    def method(self) -> str:
        return self.request_line.split(b" ", 1)[0].decode("ascii")

    @property
    def target(self) -> bytes:
        """The request target as sent: origin-form or absolute-form (through a proxy)."""
        return self.request_line.split(b" ")[1]

    @property
    def path(self) -> bytes:
        """The raw path of the target (no query), whichever form the client used."""
        target = self.target
        if b"://" in target:
            rest = target.split(b"://", 1)[1]
            slash = rest.find(b"/")
            target = b"/" if slash < 0 else rest[slash:]
        return target.split(b"?", 1)[0]

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        """``(name, value)`` raw bytes, in order; the value without surrounding whitespace."""
        out = []
        for line in self.head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            out.append((name, value.strip(b" \t")))
        return out

    def header(self, name: str) -> bytes | None:
        """The raw value of header ``name`` (case-insensitive); it must appear at most once."""
        found = [v for n, v in self.headers if n.decode("latin-1").lower() == name.lower()]
        assert len(found) <= 1, f"{name} sent {len(found)} times"
        return found[0] if found else None

    @property
    def authorization(self) -> ParsedAuthorization:
        value = self.header("Authorization")
        assert value is not None, "request was not signed"
        return parse_authorization(value.decode("ascii"))


def _split_requests(buffer: bytearray) -> list[Recorded]:
    """Take every complete request off the front of ``buffer``."""
    done: list[Recorded] = []
    while True:
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            return done
        head = bytes(buffer[:end])
        start = end + 4
        lower = {
            n.strip().lower(): v.strip() for n, _, v in (ln.partition(b":") for ln in head.split(b"\r\n")[1:])
        }
        if b"chunked" in lower.get(b"transfer-encoding", b"").lower():
            body, used = _dechunk(bytes(buffer[start:]))
            if used < 0:
                return done
            consumed = start + used
        else:
            length = int(lower.get(b"content-length", b"0") or b"0")
            if len(buffer) - start < length:
                return done
            body = bytes(buffer[start : start + length])
            consumed = start + length
        del buffer[:consumed]
        done.append(Recorded(head, body))


def _dechunk(data: bytes) -> tuple[bytes, int]:
    """``(body, bytes used)`` of a complete chunked body, or ``(b"", -1)`` if incomplete."""
    pos, pieces = 0, []
    while True:
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            return b"", -1
        size = int(data[pos:eol].split(b";")[0], 16)
        pos = eol + 2
        if size == 0:
            trailer_end = data.find(b"\r\n", pos)
            while trailer_end >= 0 and trailer_end != pos:
                pos = trailer_end + 2
                trailer_end = data.find(b"\r\n", pos)
            return (b"".join(pieces), trailer_end + 2) if trailer_end >= 0 else (b"", -1)
        if len(data) < pos + size + 2:
            return b"", -1
        pieces.append(data[pos : pos + size])
        pos += size + 2


class RecordingProxy:
    """Forwards ``127.0.0.1:<port>`` to ``upstream`` byte for byte, recording requests.

    Use as a context manager; :attr:`address` is what a client connects to.
    """

    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        self._upstream = (upstream_host, upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._recorded: list[Recorded] = []
        self._sockets: set[socket.socket] = set()
        self._closed = False
        self._thread = threading.Thread(target=self._accept, name="recording-proxy", daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._recorded)

    def clear(self) -> None:
        with self._lock:
            self._recorded.clear()

    def only(self, method: str | None = None) -> Recorded:
        """The single recorded request (of ``method``, if given)."""
        found = [r for r in self.requests if method is None or r.method == method]
        assert len(found) == 1, [r.request_line for r in self.requests]
        return found[0]

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
        self._thread.join(timeout=5)

    def __enter__(self) -> RecordingProxy:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self._upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.update((client, upstream))
            threading.Thread(target=self._requests, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    def _requests(self, client: socket.socket, upstream: socket.socket) -> None:
        buffer = bytearray()
        try:
            while chunk := client.recv(65536):
                buffer += chunk
                recorded = _split_requests(buffer)
                if recorded:
                    with self._lock:
                        self._recorded.extend(recorded)
                upstream.sendall(chunk)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                upstream.shutdown(socket.SHUT_WR)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (sink, source):
                with contextlib.suppress(OSError):
                    sock.close()
            with self._lock:
                self._sockets.difference_update((source, sink))
