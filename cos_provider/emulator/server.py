"""HTTP plumbing: parse, route, authenticate, inject faults, answer.

Built on ``http.server.ThreadingHTTPServer`` (a thread per connection,
HTTP/1.1 keep-alive, a listen backlog of 1024): stdlib only, and at the
emulator's request rates the per-request cost is dominated by Python anyway.
Responses are written as one buffer with ``TCP_NODELAY``, so keep-alive
exchanges do not stall on delayed ACKs.

Request targets may be origin-form (``PUT /key``: our client's connect-address
override, the SDK's IP/Port mode) or absolute-form (``PUT http://host/key``:
the SDK through ``Proxies``); either way the bucket comes from the ``Host``
header (falling back to the absolute-form authority).

Order of checks for a COS request: routing (a failure is held back), then the
signature, then the held routing error, then faults, then the handler. So a
request with a bad signature always gets 403, whatever else is wrong.

The path is taken from the request line as sent (``http.server`` collapses a
leading ``//``), percent-decoded and never normalised: the signature covers
exactly that. An object path beginning with ``//`` (a key that starts with
``/``) is answered 403 ``AccessDenied`` once the signature is checked, as COS
answers it with a bare 403; the SDKs strip one leading ``/`` and never send it.

Duplicate query parameters are rejected (400 ``InvalidArgument``): which one
was signed would be a guess, and no COS client sends them.

``/_emulator/...`` requests without a COS signature go to the admin API (see
:mod:`.admin`), only from loopback addresses, whatever the Host.

With an ``ssl_context`` the port speaks HTTPS only (see :mod:`.tls`): sockets
are wrapped when accepted, and the handshake runs in the connection's thread.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import secrets
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote_to_bytes

from cos_provider.client import limits
from cos_provider.client.endpoints import parse_host
from cos_provider.emulator import batch, buckets, copy, deletes, multipart, objects, restore, xmlout
from cos_provider.emulator.admin import handle_admin
from cos_provider.emulator.core import Core
from cos_provider.emulator.errors import CosError
from cos_provider.emulator.faults import GARBAGE_BODY, Fault
from cos_provider.emulator.tls import SNI_ATTRIBUTE, ConnectionStats, record_sni
from cos_provider.emulator.wire import Request, Response, http_date, raw_header_value

if TYPE_CHECKING:
    from cos_provider.emulator.emulator import CosEmulator

Handler = Callable[[Core, Request, Fault | None], Response]

UNSUPPORTED_SUBRESOURCES = frozenset(
    {
        "acl",
        "cors",
        "lifecycle",
        "policy",
        "website",
        "referer",
        "logging",
        "inventory",
        "replication",
        "select",
        "append",
        "symlink",
        "domain",
        "intelligenttiering",
        "encryption",
        "object-lock",
        "retention",
        "accelerate",
        "origin",
        "notification",
    }
)
ADMIN_PREFIX = "/_emulator/"
MAX_ADMIN_BODY = 1024 * 1024

_request_counter = itertools.count(1)
_boot = f"{os.getpid():x}{secrets.token_hex(3)}"


def new_request_id() -> str:
    raw = f"{int(time.time()):x}_{_boot}_{next(_request_counter):x}"
    return base64.b64encode(raw.encode()).decode()


def new_trace_id() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(36)).decode()


def _not_implemented(name: str) -> Handler:
    def handler(core: Core, req: Request, fault: Fault | None) -> Response:
        raise CosError(501, "NotImplemented", f"The emulator does not implement {name}.")

    return handler


def route(req: Request) -> tuple[str, Handler]:
    """Name the operation and pick its handler; sets ``req.bucket/region/key``."""
    control = batch.route(req)  # the Batch Operations control endpoint
    if control is not None:
        return control
    parsed = parse_host(req.host)
    method = req.method
    if parsed is None:
        if method == "GET" and req.path == "/":
            return "GetService", buckets.get_service
        raise CosError(
            400,
            "InvalidURI",
            f"Host {req.host!r} is not a COS bucket domain (<bucket>-<appid>.cos.<region>.myqcloud.com)",
        )
    req.bucket = parsed.bucket
    req.region = parsed.region
    req.key = req.path[1:]
    if req.key.startswith("/"):
        # COS answers a path that starts with "//" with a bare 403, whatever the
        # signature; the SDKs never send one (they drop one leading "/" of a key).
        raise CosError(403, "AccessDenied", "Access Denied.")
    unsupported = sorted(UNSUPPORTED_SUBRESOURCES.intersection(n for n, _ in req.query))
    if unsupported:
        return "Unknown", _not_implemented(f"?{unsupported[0]}")
    if req.has_param("restore"):
        if req.key and method == "POST":
            return "PostObjectRestore", restore.post_restore
        return "Unknown", _not_implemented(f"{method} ?restore")
    if req.has_param("tagging"):
        tagging_ops = {"GET": "GetObjectTagging", "PUT": "PutObjectTagging", "DELETE": "DeleteObjectTagging"}
        if req.key and method in tagging_ops:
            return tagging_ops[method], objects.object_tagging
        return "Unknown", _not_implemented("?tagging on a bucket" if not req.key else f"{method} ?tagging")
    copy_source = req.header("x-cos-copy-source") is not None
    if not req.key:
        table: dict[str, tuple[str, Handler]] = {
            "HEAD": ("HeadBucket", buckets.head_bucket),
            "DELETE": ("DeleteBucket", buckets.delete_bucket),
        }
        if method == "GET":
            if req.has_param("uploads"):
                return "ListMultipartUploads", multipart.list_uploads
            if req.has_param("versioning"):
                return "GetBucketVersioning", buckets.get_versioning
            if req.has_param("versions"):
                return "ListObjectVersions", buckets.list_versions
            return "ListObjects", buckets.list_objects
        if method == "PUT":
            if req.has_param("versioning"):
                return "PutBucketVersioning", buckets.put_versioning
            return "PutBucket", buckets.put_bucket
        if method == "POST" and req.has_param("delete"):
            return "DeleteMultipleObjects", deletes.delete_multiple
        if method in table:
            return table[method]
    else:
        multipart_id = req.has_param("uploadId")
        if method == "PUT":
            if req.has_param("partNumber") or multipart_id:
                if copy_source:
                    return "UploadPartCopy", multipart.upload_part_copy
                return "UploadPart", multipart.upload_part
            if copy_source:
                return "CopyObject", copy.copy_object
            return "PutObject", objects.put_object
        if method == "GET":
            return ("ListParts", multipart.list_parts) if multipart_id else ("GetObject", objects.get_object)
        if method == "HEAD":
            return "HeadObject", objects.head_object
        if method == "DELETE":
            if multipart_id:
                return "AbortMultipartUpload", multipart.abort
            return "DeleteObject", objects.delete_object
        if method == "POST":
            if req.has_param("uploads"):
                return "InitiateMultipartUpload", multipart.initiate
            if multipart_id:
                return "CompleteMultipartUpload", multipart.complete
    return "Unknown", _not_implemented(f"{method} on {'an object' if req.key else 'a bucket'} here")


class _Garbage(Exception):
    """The ``garbage_body`` fault: answer with :data:`GARBAGE_BODY` instead of running the handler."""


class _BadRequest(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _is_loopback(address: str) -> bool:
    return (
        address.startswith("127.")
        or address in ("::1", "::ffff:127.0.0.1")
        or address.startswith("::ffff:127.")
    )


class CosRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tencent-cos"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 300
    server: EmulatorHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._handle()

    do_PUT = do_POST = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = do_GET

    # -- reading -------------------------------------------------------------

    def _read_body(self, limit: int) -> bytes:
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            return self._read_chunked(limit)
        raw = self.headers.get("Content-Length")
        if raw is None:
            return b""
        if not raw.strip().isdigit():
            self.close_connection = True
            raise _BadRequest(400, "InvalidArgument", f"Content-Length {raw!r} is not a number")
        length = int(raw)
        if length > limit:
            self.close_connection = True
            raise _BadRequest(400, "EntityTooLarge", f"the body of {length} bytes exceeds {limit}")
        return self.rfile.read(length) if length else b""

    def _read_chunked(self, limit: int) -> bytes:
        pieces: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(65537)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError as exc:
                self.close_connection = True
                raise _BadRequest(400, "IncompleteBody", "malformed chunked body") from exc
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(pieces)
            total += size
            if total > limit:
                self.close_connection = True
                raise _BadRequest(400, "EntityTooLarge", f"the chunked body exceeds {limit} bytes")
            pieces.append(self.rfile.read(size))
            self.rfile.readline(65537)

    # -- dispatch ------------------------------------------------------------

    def _raw_target(self) -> str:
        """The request target exactly as sent.

        ``http.server`` rewrites ``self.path`` (since Python 3.11.1 / 3.10.9 a
        leading ``//`` is collapsed to ``/``, against open redirects), so a
        request for ``//x`` would be verified, and served, as ``/x``: the
        signature of a path that was not sent. The request line is the truth.
        """
        words = self.requestline.split(" ")
        return words[1] if len(words) == 3 else self.path

    def _handle(self) -> None:
        arrived = time.monotonic()
        target = self._raw_target()
        authority = ""
        if target.lower().startswith(("http://", "https://")):
            rest = target.split("://", 1)[1]
            slash = rest.find("/")
            authority, target = (rest, "/") if slash < 0 else (rest[:slash], rest[slash:])
        raw_path, _, raw_query = target.partition("?")
        host = self.headers.get("Host") or authority
        request_id = new_request_id()
        admin = raw_path.startswith(ADMIN_PREFIX) and "authorization" not in {k.lower() for k in self.headers}
        admin = admin and "q-signature" not in raw_query
        try:
            body = self._read_body(MAX_ADMIN_BODY if admin else limits.MAX_PUT_SIZE)
        except _BadRequest as exc:
            self._send_error_raw(exc.status, exc.code, exc.message, f"{host}{raw_path}", request_id)
            return
        if admin:
            self._handle_admin(raw_path, raw_query, body, request_id)
            return
        self._handle_cos(host, raw_path, raw_query, body, request_id, arrived)

    def _handle_admin(self, raw_path: str, raw_query: str, body: bytes, request_id: str) -> None:
        if not _is_loopback(self.client_address[0]):
            status, payload = 403, {"error": "the admin API answers loopback clients only"}
        else:
            status, payload = handle_admin(self.server.emulator, self.command, raw_path, raw_query, body)
        data = json.dumps(payload, sort_keys=True).encode()
        self._write(
            status,
            {"Content-Type": "application/json", "x-cos-request-id": request_id},
            data,
        )

    def _handle_cos(
        self, host: str, raw_path: str, raw_query: str, body: bytes, request_id: str, arrived: float
    ) -> None:
        core = self.server.core
        core.counters.enter()
        operation = "Unknown"
        counted = False
        req: Request | None = None
        try:
            try:
                try:
                    path = unquote_to_bytes(raw_path).decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise CosError(400, "InvalidURI", "the request path is not valid UTF-8") from exc
                query = parse_qsl(raw_query, keep_blank_values=True)
                # http.server decoded the header bytes as latin-1, losslessly: undo it.
                raw_headers = [(n, v.encode("latin-1")) for n, v in self.headers.items()]
                headers = [(n, raw_header_value(v)) for n, v in self.headers.items()]
                req = Request(
                    method=self.command,
                    host=host,
                    path=path,
                    query=query,
                    headers=headers,
                    body=body,
                    client=self.client_address[0],
                    request_id=request_id,
                    secure=isinstance(self.connection, ssl.SSLSocket),
                    arrived=arrived,
                )
                if not path.startswith("/"):
                    raise CosError(400, "InvalidURI", f"request target {raw_path!r} is not a path")
                held: CosError | None = None
                try:
                    operation, handler = route(req)
                except CosError as exc:
                    held = exc
                req.operation = operation
                core.verifier.verify(req.method, req.path, req.query, raw_headers)
                if held is not None:
                    raise held
                names = [n for n, _ in query]
                if len(set(names)) != len(names):
                    dup = sorted({n for n in names if names.count(n) > 1})
                    raise CosError(
                        400, "InvalidArgument", f"query parameter {dup[0]!r} appears more than once"
                    )
                if not core.model.admit(req.bucket):  # the bucket's request-rate limit (ratelimit.py)
                    raise CosError(503, "SlowDown", "Please reduce your request rate.")
                part = req.param("partNumber") or ""
                fault = core.faults.decide(
                    operation, req.bucket, req.key, int(part) if part.isdigit() else None
                )
                if fault is not None:
                    if fault.kind == "internal_error":
                        raise CosError(
                            500, "InternalError", "We encountered an internal error. Please try again."
                        )
                    if fault.kind == "slow_down":
                        raise CosError(503, "SlowDown", "Please reduce your request rate.")
                    if fault.kind == "slow":
                        time.sleep(fault.delay)
                    if fault.kind == "garbage_body":
                        raise _Garbage()
                resp = handler(core, req, fault)
                resp.fault = fault
                if fault is not None and fault.kind == "truncated_body" and resp.stream is None:
                    resp.body = resp.body[: len(resp.body) // 2]
            except _Garbage:
                resp = Response(status=200, headers={"Content-Type": "text/html"}, body=GARBAGE_BODY)
            except CosError as exc:
                resp = self._error_response(exc, req, host, raw_path, request_id)
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                raise
            except Exception as exc:  # a bug: answer like COS would, and say so on stderr
                traceback.print_exc(file=sys.stderr)
                resp = self._error_response(
                    CosError(500, "InternalError", f"emulator error: {exc!r}"),
                    req,
                    host,
                    raw_path,
                    request_id,
                )
            core.model.request_latency()
            # Counted before the first byte is written: a client holding its answer sees it counted.
            core.counters.record(operation, resp.status)
            core.counters.leave()
            counted = True
            self.server.connection_stats.notify()
            self._send(resp, request_id)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True
        finally:
            if not counted:
                core.counters.leave()
                core.counters.record(operation, 599)
                self.server.connection_stats.notify()

    # -- writing -------------------------------------------------------------

    def _error_response(
        self, exc: CosError, req: Request | None, host: str, raw_path: str, request_id: str
    ) -> Response:
        trace_id = new_trace_id()
        resource = req.resource if req is not None else f"{host}{raw_path}"
        body = xmlout.error(exc.code, exc.message, resource, request_id, trace_id)
        headers = {"Content-Type": "application/xml", "x-cos-trace-id": trace_id}
        headers.update(exc.headers)
        if self.command == "HEAD":
            body = b""
        return Response(status=exc.status, headers=headers, body=body)

    def _send_error_raw(self, status: int, code: str, message: str, resource: str, request_id: str) -> None:
        trace_id = new_trace_id()
        body = xmlout.error(code, message, resource, request_id, trace_id)
        self._write(
            status,
            {"Content-Type": "application/xml", "x-cos-request-id": request_id, "x-cos-trace-id": trace_id},
            b"" if self.command == "HEAD" else body,
        )

    def _head_block(self, status: int, headers: dict[str, str]) -> bytes:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Unknown"
        lines = [f"HTTP/1.1 {status} {phrase}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")

    def _base_headers(self, request_id: str) -> dict[str, str]:
        return {
            "Server": "tencent-cos",
            "Date": http_date(time.time()),
            "Connection": "close" if self.close_connection else "keep-alive",
            "x-cos-request-id": request_id,
        }

    def _write(self, status: int, headers: dict[str, str], body: bytes) -> None:
        hdrs = self._base_headers(headers.get("x-cos-request-id", new_request_id()))
        hdrs.update(headers)
        hdrs["Content-Length"] = str(len(body))
        self.wfile.write(self._head_block(status, hdrs) + body)

    def _send(self, resp: Response, request_id: str) -> None:
        headers = self._base_headers(request_id)
        headers.update(resp.headers)
        if resp.keepalive is not None:
            self._send_keepalive(resp, headers)
            return
        no_body = resp.status in (204, 304) or self.command == "HEAD"
        if resp.status in (204, 304):
            headers.pop("Content-Length", None)
        elif resp.stream is not None:
            headers["Content-Length"] = str(resp.stream_length)
        elif self.command != "HEAD" or "Content-Length" not in headers:
            headers["Content-Length"] = str(len(resp.body))
        head = self._head_block(resp.status, headers)
        if resp.fault is not None and resp.fault.kind == "reset":
            first = next(resp.stream, b"") if resp.stream is not None else resp.body
            self._reset_midway(head + (b"" if no_body else first))
            return
        if resp.stream is not None and not no_body:
            self.wfile.write(head)
            for chunk in resp.stream:
                self.wfile.write(chunk)
            return
        self.wfile.write(head if no_body else head + resp.body)

    def _reset_midway(self, raw: bytes) -> None:
        self.wfile.write(raw[: max(1, len(raw) // 2)])
        self.wfile.flush()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def _send_keepalive(self, resp: Response, headers: dict[str, str]) -> None:
        assert resp.keepalive is not None
        headers.pop("Content-Length", None)
        headers["Transfer-Encoding"] = "chunked"
        self.wfile.write(self._head_block(200, headers))
        deadline = time.monotonic() + resp.keepalive.duration
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(resp.keepalive.interval, left))
            self.wfile.write(b"1\r\n \r\n")
        try:
            body = resp.keepalive.finish()
        except CosError as exc:
            trace_id = new_trace_id()
            body = xmlout.error(
                exc.code,
                exc.message,
                f"{self.headers.get('Host')}{self.path}",
                headers["x-cos-request-id"],
                trace_id,
                declaration=False,
            )
        self.wfile.write(f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n")


class EmulatorHTTPServer(ThreadingHTTPServer):
    """Tracks open connections so that stopping the emulator really ends them:
    otherwise a client's pooled keep-alive connection would still be served."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 1024

    handshake_timeout = 30.0
    """Seconds a client gets to finish its TLS handshake."""

    def __init__(
        self,
        address: tuple[str, int],
        core: Core,
        emulator: CosEmulator,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.core = core
        self.emulator = emulator
        self.ssl_context = ssl_context
        if ssl_context is not None:
            record_sni(ssl_context)
        self.connection_stats = ConnectionStats()
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, CosRequestHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, a DNS round trip start-up does not need.
        socketserver.TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, client_address = super().get_request()
        self.connection_stats.on_accept(self.ssl_context is not None)
        if self.ssl_context is None:
            return sock, client_address
        try:
            # No I/O here: the handshake runs in the connection's thread (finish_request).
            tls_sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        except OSError as exc:
            self.connection_stats.on_handshake(None, exc)
            sock.close()
            raise
        return tls_sock, client_address

    def finish_request(self, request: Any, client_address: Any) -> None:
        if isinstance(request, ssl.SSLSocket):
            try:
                request.settimeout(self.handshake_timeout)
                request.do_handshake()
            except OSError as exc:  # the client refused our certificate, spoke plain HTTP, went away...
                self.connection_stats.on_handshake(getattr(request, SNI_ATTRIBUTE, None), exc)
                return
            self.connection_stats.on_handshake(getattr(request, SNI_ATTRIBUTE, None), None)
        super().finish_request(request, client_address)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._open_lock:
            sockets = list(self._open)
            self._open.clear()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away mid-response is normal here (timeouts, resets).
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
            return
        super().handle_error(request, client_address)


def serve_in_thread(server: EmulatorHTTPServer) -> threading.Thread:
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="cos-emulator", daemon=True
    )
    thread.start()
    return thread
