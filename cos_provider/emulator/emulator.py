"""The public face: :class:`CosEmulator`, started in-process or by the CLI."""

from __future__ import annotations

import dataclasses
import hashlib
import ssl
import threading
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from cos_provider.client import limits, tagging
from cos_provider.emulator.auth import Verifier
from cos_provider.emulator.content import Content
from cos_provider.emulator.core import Core
from cos_provider.emulator.errors import CosError
from cos_provider.emulator.faults import FaultBook, FaultRule
from cos_provider.emulator.model import ModelSettings, PerformanceModel
from cos_provider.emulator.server import EmulatorHTTPServer, serve_in_thread
from cos_provider.emulator.store import ObjectAttrs, Store
from cos_provider.emulator.tls import ConnectionStats


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


class CosEmulator:
    """A strict, in-memory COS XML API server on a background thread.

    ``credentials`` maps SecretId -> SecretKey; ``temporary_credentials`` maps
    an STS SecretId -> (SecretKey, token) and such ids must send the token.
    ``single_copy_limit`` is the largest source PUT Object - Copy accepts
    (``None`` = no limit). ``ssl_context`` (see :func:`.tls.server_context`)
    makes the port speak HTTPS only, and :attr:`address` an ``https://`` URL.
    Everything else is documented in the package docstring.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        credentials: Mapping[str, str] | None = None,
        temporary_credentials: Mapping[str, tuple[str, str]] | None = None,
        latency: float = 0.0,
        copy_bandwidth: float | None = None,
        aggregate_bandwidth: float | None = None,
        transfer_bandwidth: float | None = None,
        transfer_aggregate_bandwidth: float | None = None,
        auth_error_style: str = "code",
        single_copy_limit: int | None = limits.MAX_SINGLE_COPY_SIZE,
        owner_uin: str = "100000000001",
        ssl_context: ssl.SSLContext | None = None,
        rate_limit: float | None = None,
        rate_limit_burst: float | None = None,
        bucket_rate_limits: Mapping[str, float] | None = None,
    ) -> None:
        self.host = host
        self.ssl_context = ssl_context
        self._requested_port = port
        self.store = Store()
        self.faults_book = FaultBook()
        self.core = Core(
            store=self.store,
            verifier=Verifier(credentials or {}, temporary_credentials or {}, auth_error_style),
            model=PerformanceModel(
                ModelSettings(
                    latency,
                    copy_bandwidth,
                    aggregate_bandwidth,
                    transfer_bandwidth,
                    transfer_aggregate_bandwidth,
                    rate_limit=rate_limit,
                    rate_limit_burst=rate_limit_burst,
                    bucket_rate_limits=dict(bucket_rate_limits or {}),
                )
            ),
            faults=self.faults_book,
            single_copy_limit=single_copy_limit,
            owner_uin=owner_uin,
        )
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.startup_seconds: float | None = None

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> CosEmulator:
        if self._server is not None:
            return self
        began = time.perf_counter()
        self._server = EmulatorHTTPServer(
            (self.host, self._requested_port), self.core, self, ssl_context=self.ssl_context
        )
        self._thread = serve_in_thread(self._server)
        self.startup_seconds = time.perf_counter() - began
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        self.core.jobs.shutdown()
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> CosEmulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return int(self._server.server_address[1])

    @property
    def address(self) -> str:
        host = self.host if ":" not in self.host else f"[{self.host}]"
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{host}:{self.port}"

    @property
    def batch_jobs(self) -> Any:
        """The Batch Operations jobs (:class:`.batch.JobBook`): rate, failure injection, stats."""
        return self.core.jobs

    @property
    def connection_stats(self) -> ConnectionStats:
        """Accepted connections and TLS handshakes (also under ``connections`` in :meth:`counters`)."""
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return self._server.connection_stats

    # -- direct state access (no HTTP) -------------------------------------------

    def create_bucket(self, name: str, region: str = "ap-guangzhou", versioning: bool = False) -> None:
        self.store.create_bucket(name, region, versioning=versioning)

    def set_versioning(self, bucket: str, status: str) -> None:
        if status not in ("Enabled", "Suspended"):
            raise ValueError("status must be Enabled or Suspended")
        b = self.store.bucket(bucket)
        with self.store.lock:
            b.versioning = status

    def put_object(
        self,
        bucket: str,
        key: str,
        data: bytes,
        metadata: Mapping[str, str] | None = None,
        content_type: str = "application/octet-stream",
        storage_class: str = "STANDARD",
        **attrs: Any,
    ) -> dict[str, Any]:
        """Store real bytes as if PUT (no HTTP, no auth); returns :meth:`head`."""
        b = self.store.bucket(bucket)
        content = Content.from_bytes(bytes(data))
        obj_attrs = ObjectAttrs(
            content_type=content_type,
            metadata={k.lower(): v for k, v in (metadata or {}).items()},
            storage_class=storage_class.upper(),
            **attrs,
        )
        version = self.store.put(b, key, content, hashlib.md5(data).hexdigest(), obj_attrs)
        return self._describe(version)

    def seed_synthetic(
        self,
        bucket: str,
        key: str,
        size: int,
        seed: int = 1,
        content_type: str = "application/octet-stream",
        metadata: Mapping[str, str] | None = None,
        storage_class: str = "STANDARD",
    ) -> dict[str, Any]:
        """A deterministic object of ``size`` bytes (up to 48.8 TB) that costs no memory.

        Its ETag is a stand-in, ``md5("synthetic:<seed>:<size>")``; its CRC64 is exact.
        """
        if not 0 <= size <= limits.MAX_OBJECT_SIZE:
            raise ValueError(f"size must be within 0..{limits.MAX_OBJECT_SIZE}")
        b = self.store.bucket(bucket)
        content = Content.synthetic(seed, size)
        _ = content.crc
        etag = hashlib.md5(f"synthetic:{seed}:{size}".encode()).hexdigest()
        attrs = ObjectAttrs(
            content_type=content_type,
            metadata={k.lower(): v for k, v in (metadata or {}).items()},
            storage_class=storage_class.upper(),
        )
        version = self.store.put(b, key, content, etag, attrs)
        info = self._describe(version)
        return {k: info[k] for k in ("etag", "crc64", "size", "version_id")}

    def seed_many(
        self, bucket: str, prefix: str, count: int, size: int = 1024, seed: int = 1, start: int = 0
    ) -> dict[str, Any]:
        """``count`` synthetic objects ``<prefix><n:08d>`` sharing one content: 100,000 in seconds."""
        if not 0 <= count <= 10_000_000 or start < 0:
            raise ValueError("count must be within 0..10,000,000 and start >= 0")
        if not 0 <= size <= limits.MAX_OBJECT_SIZE:
            raise ValueError(f"size must be within 0..{limits.MAX_OBJECT_SIZE}")
        b = self.store.bucket(bucket)
        content = Content.synthetic(seed, size)
        _ = content.crc
        etag = hashlib.md5(f"synthetic:{seed}:{size}".encode()).hexdigest()
        for n in range(start, start + count):
            self.store.put(b, f"{prefix}{n:08d}", content, etag, ObjectAttrs())
        return {"bucket": bucket, "count": count, "first": f"{prefix}{start:08d}", "etag": etag}

    def get_object_bytes(
        self, bucket: str, key: str, version_id: str | None = None, start: int = 0, end: int | None = None
    ) -> bytes:
        """Bytes ``[start, end)`` of an object (meant for small ranges in assertions)."""
        try:
            b = self.store.bucket(bucket)
        except CosError as exc:
            raise KeyError(f"bucket {bucket} does not exist") from exc
        version = self.store.version(b, key, version_id)
        if version is None or version.content is None:
            raise KeyError(f"{bucket}/{key} does not exist")
        return version.content.read(start, end)

    def head(self, bucket: str, key: str, version_id: str | None = None) -> dict[str, Any] | None:
        try:
            b = self.store.bucket(bucket)
        except CosError:
            return None
        version = self.store.version(b, key, version_id)
        if version is None or version.is_delete_marker:
            return None
        return self._describe(version)

    @staticmethod
    def _describe(version: Any) -> dict[str, Any]:
        a = version.attrs
        return {
            "key": version.key,
            "size": version.size,
            "etag": version.etag,
            "crc64": version.crc64,
            "version_id": version.version_id,
            "last_modified": version.last_modified,
            "metadata": dict(a.metadata),
            "content_type": a.content_type,
            "cache_control": a.cache_control,
            "content_disposition": a.content_disposition,
            "content_encoding": a.content_encoding,
            "content_language": a.content_language,
            "expires": a.expires,
            "storage_class": a.storage_class,
            "acl": a.acl,
            "grants": dict(a.grants),
            "sse": a.sse,
            "kms_key_id": a.kms_key_id,
            "kms_context": a.kms_context,
            "sse_c_md5": a.sse_c_md5,
            "tags": dict(a.tags),
            "tagging": tagging.encode(a.tags) if a.tags else None,
            "parts_count": version.parts_count,
        }

    # -- observation and control -------------------------------------------------

    def counters(self) -> dict[str, Any]:
        snap = self.core.counters.snapshot()
        snap["live_uploads"] = self.store.live_uploads()
        snap["faults_injected"] = self.faults_book.injected_counts()
        slowdowns = self.core.model.rate_limiter.snapshot()
        snap["slowdowns"] = {"total": sum(slowdowns.values()), "by_bucket": slowdowns}
        if self._server is not None:
            snap["connections"] = self._server.connection_stats.snapshot()
        return snap

    def live_uploads(self, bucket: str | None = None) -> int:
        return self.store.live_uploads(bucket)

    def model(self) -> dict[str, Any]:
        s = self.core.model.settings
        return {
            "latency": s.latency,
            "copy_bandwidth": s.copy_bandwidth,
            "aggregate_bandwidth": s.aggregate_bandwidth,
            "transfer_bandwidth": s.transfer_bandwidth,
            "transfer_aggregate_bandwidth": s.transfer_aggregate_bandwidth,
            "rate_limit": s.rate_limit,
            "rate_limit_burst": s.rate_limit_burst,
            "bucket_rate_limits": dict(s.bucket_rate_limits),
        }

    def set_model(
        self,
        latency: Any = UNSET,
        copy_bandwidth: Any = UNSET,
        aggregate_bandwidth: Any = UNSET,
        transfer_bandwidth: Any = UNSET,
        transfer_aggregate_bandwidth: Any = UNSET,
        rate_limit: Any = UNSET,
        rate_limit_burst: Any = UNSET,
        bucket_rate_limits: Any = UNSET,
    ) -> None:
        """Change the performance model; omitted arguments keep their value, None = unlimited."""
        s = self.core.model.settings

        def kept(value: Any, current: Any) -> Any:
            return current if value is UNSET else value

        self.core.model.update(
            dataclasses.replace(
                s,
                latency=s.latency if latency is UNSET else float(latency or 0.0),
                copy_bandwidth=kept(copy_bandwidth, s.copy_bandwidth),
                aggregate_bandwidth=kept(aggregate_bandwidth, s.aggregate_bandwidth),
                transfer_bandwidth=kept(transfer_bandwidth, s.transfer_bandwidth),
                transfer_aggregate_bandwidth=kept(
                    transfer_aggregate_bandwidth, s.transfer_aggregate_bandwidth
                ),
                rate_limit=kept(rate_limit, s.rate_limit),
                rate_limit_burst=kept(rate_limit_burst, s.rate_limit_burst),
                bucket_rate_limits=dict(kept(bucket_rate_limits, s.bucket_rate_limits) or {}),
            )
        )

    def restore_times(self) -> dict[str, float]:
        """Seconds a restore of an ARCHIVE object takes per tier (see :mod:`.restore`)."""
        s = self.core.model.settings
        return {"expedited": s.restore_expedited, "standard": s.restore_standard, "bulk": s.restore_bulk}

    def set_restore_times(self, **seconds: float) -> None:
        """``expedited=``, ``standard=``, ``bulk=``: seconds per tier; omitted tiers keep theirs."""
        unknown = set(seconds) - {"expedited", "standard", "bulk"}
        if unknown:
            raise ValueError(f"unknown restore tiers: {', '.join(sorted(unknown))}")
        changes: dict[str, Any] = {f"restore_{tier}": float(value) for tier, value in seconds.items()}
        self.core.model.update(dataclasses.replace(self.core.model.settings, **changes))

    def advance_clock(self, seconds: float) -> float:
        """Let ``seconds`` pass for restores (running ones finish, restored copies expire)."""
        return self.core.restores.advance(seconds)

    def add_fault(self, rule: FaultRule) -> None:
        self.faults_book.add(rule)

    def clear_faults(self) -> None:
        self.faults_book.clear()

    def faults(self) -> list[dict[str, Any]]:
        return self.faults_book.rules()

    def reset(self) -> None:
        """Drop all buckets, objects, uploads, counters and faults (the model is kept)."""
        self.core.jobs.reset()
        self.store.reset()
        self.faults_book.reset()
        self.core.counters.reset()
        self.core.restores.reset()
        self.core.model.rate_limiter.reset_counts()
        if self._server is not None:
            self._server.connection_stats.reset()
