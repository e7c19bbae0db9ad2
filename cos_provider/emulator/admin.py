"""The admin API: JSON over HTTP under ``/_emulator/``, loopback clients only.

It mirrors the in-process methods of :class:`CosEmulator`, so a test or a
benchmark driving an emulator in another process (the CLI) can do the same
things. Requests are not signed and are answered whatever the Host.

=======  ==========================  ==================================================
Method   Path                        Body / answer
=======  ==========================  ==================================================
POST     /_emulator/buckets          ``{"name", "region", "versioning"}``
POST     /_emulator/seed             ``{"bucket", "key", "size", "seed", "content_type",
                                     "metadata"}`` -> ``{etag, crc64, size, version_id}``
POST     /_emulator/seed-many     ``{"bucket", "prefix", "count", "size", "seed", "start"}``:
                                     ``count`` objects ``<prefix><n:08d>`` at once
GET      /_emulator/counters         counters (see :meth:`CosEmulator.counters`)
GET      /_emulator/object           ``?bucket=&key=[&version_id=]`` -> HEAD-like dict
PUT      /_emulator/model            any of ``{"latency", "copy_bandwidth",
                                     "aggregate_bandwidth", "transfer_bandwidth",
                                     "transfer_aggregate_bandwidth", "rate_limit",
                                     "rate_limit_burst", "bucket_rate_limits"}``
                                     (null = unlimited)
GET      /_emulator/model            the current model
POST     /_emulator/faults           a :class:`FaultRule` as an object, or a list
GET      /_emulator/faults           the rules and how often each was used
DELETE   /_emulator/faults           remove all rules
GET/PUT  /_emulator/batch            batch job stats / ``{"rate"}`` (objects/s)
POST     /_emulator/batch/fail       ``{"code", "reason", "after_tasks", "job_id"}``
PUT      /_emulator/restore          seconds per restore tier ``{"expedited", "standard",
                                     "bulk"}``; GET reads them (see :mod:`.restore`)
POST     /_emulator/clock            ``{"advance": seconds}``: move the restore clock
POST     /_emulator/reset            drop everything
GET      /_emulator/health           ``{"ok": true}``
=======  ==========================  ==================================================

Errors are ``{"error": "..."}`` with 400 (bad input), 404 (unknown path) or
409 (bucket exists).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from cos_provider.emulator import restore
from cos_provider.emulator.batch import handle_admin as batch_admin
from cos_provider.emulator.errors import CosError
from cos_provider.emulator.faults import rules_from_json

RATE_LIMIT_FIELDS = ("rate_limit", "rate_limit_burst", "bucket_rate_limits")

if TYPE_CHECKING:
    from cos_provider.emulator.emulator import CosEmulator


def _json(body: bytes) -> Any:
    if not body.strip():
        return {}
    return json.loads(body)


def handle_admin(emu: CosEmulator, method: str, path: str, query: str, body: bytes) -> tuple[int, Any]:
    try:
        return _dispatch(emu, method, path, dict(parse_qsl(query, keep_blank_values=True)), body)
    except CosError as exc:
        return (409 if exc.status == 409 else 400), {"error": exc.message, "code": exc.code}
    except (ValueError, TypeError, KeyError) as exc:
        return 400, {"error": f"{type(exc).__name__}: {exc}"}


def _dispatch(
    emu: CosEmulator, method: str, path: str, query: dict[str, str], body: bytes
) -> tuple[int, Any]:
    name = path[len("/_emulator/") :].rstrip("/")
    if (method, name) == ("GET", "health"):
        return 200, {"ok": True}
    if (method, name) == ("POST", "buckets"):
        data = _json(body)
        emu.create_bucket(
            data["name"], region=data.get("region", "ap-guangzhou"), versioning=bool(data.get("versioning"))
        )
        return 200, {"name": data["name"]}
    if (method, name) == ("POST", "seed"):
        data = _json(body)
        info = emu.seed_synthetic(
            data["bucket"],
            data["key"],
            size=int(data["size"]),
            seed=int(data.get("seed", 1)),
            content_type=data.get("content_type", "application/octet-stream"),
            metadata=data.get("metadata"),
        )
        return 200, info
    if (method, name) == ("POST", "seed-many"):
        data = _json(body)
        return 200, emu.seed_many(
            data["bucket"],
            data.get("prefix", ""),
            int(data["count"]),
            size=int(data.get("size", 1024)),
            seed=int(data.get("seed", 1)),
            start=int(data.get("start", 0)),
        )
    if (method, name) == ("GET", "counters"):
        return 200, emu.counters()
    if (method, name) == ("GET", "object"):
        found = emu.head(query["bucket"], query["key"], version_id=query.get("version_id"))
        return (200, found) if found is not None else (404, {"error": "no such object"})
    if name == "model":
        if method == "PUT":
            data = _json(body)
            unknown = set(data) - {
                "latency",
                "copy_bandwidth",
                "aggregate_bandwidth",
                "transfer_bandwidth",
                "transfer_aggregate_bandwidth",
                *RATE_LIMIT_FIELDS,
            }
            if unknown:
                raise ValueError(f"unknown model fields: {', '.join(sorted(unknown))}")
            emu.set_model(**data)
        if method in ("PUT", "GET"):
            return 200, emu.model()
    if name == "faults":
        if method == "POST":
            added = 0
            for rule in rules_from_json(_json(body)):
                emu.add_fault(rule)
                added += 1
            return 200, {"added": added}
        if method == "DELETE":
            emu.clear_faults()
            return 200, {"cleared": True}
        if method == "GET":
            return 200, {"rules": emu.faults()}
    if name in ("batch", "batch/fail"):  # Batch Operations jobs: see batch.handle_admin
        return batch_admin(emu.core.jobs, method, name, _json(body))
    if name in ("restore", "clock"):
        return restore.admin(emu, method, name, _json(body))
    if (method, name) == ("POST", "reset"):
        emu.reset()
        return 200, {"reset": True}
    return 404, {"error": f"no admin endpoint {method} {path}"}
