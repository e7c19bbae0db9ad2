"""The three watches: objects present, an object updated, a prefix gone quiet.

Each is a frozen dataclass built from the trigger's JSON parameters, so the
sensor (which builds it through the trigger class) and the trigger poll
exactly the same thing. Their records use the shared ETag and URL rules
(:mod:`cos_provider.client.etag`, :mod:`cos_provider.client.uri`), so what
a sensor pushes pins a later copy without reformatting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cos_provider.client import operations as ops
from cos_provider.client.endpoints import full_bucket_name
from cos_provider.client.errors import CosServiceError
from cos_provider.client.etag import unquote_etag
from cos_provider.client.globbing import glob_regex, literal_prefix
from cos_provider.client.models import ObjectInfo
from cos_provider.client.operations import ObjectRef
from cos_provider.client.uri import cos_url
from cos_provider.client.watch.drive import Batch, Outcome, Plan
from cos_provider.client.watch.errors import WatchError
from cos_provider.client.watch.steps import (
    check_bucket,
    explain_denied,
    found,
    head_targets,
    list_all,
    raise_failure,
)
from cos_provider.client.watch.targets import Target


def object_record(info: ObjectInfo, with_metadata: bool = False) -> dict[str, Any]:
    """What a sensor pushes about one object (JSON-serialisable).

    ``etag`` is unquoted (``CosCopyObjectOperator(copy_source_if_match=...)``
    accepts it as is); ``crc64`` is the decimal string COS sends, since the
    64-bit value does not survive JSON consumers that use doubles.
    """
    record: dict[str, Any] = {
        "bucket": info.bucket,
        "key": info.key,
        "uri": cos_url(info.bucket, info.key),
        "size": info.size,
        "etag": unquote_etag(info.etag),
        "version_id": info.version_id,
        "last_modified": info.last_modified.isoformat() if info.last_modified else None,
        "crc64": str(info.crc64) if info.crc64 is not None else None,
        "storage_class": info.storage_class,
    }
    if with_metadata:
        record["content_type"] = info.content_type
        record["metadata"] = dict(info.metadata)
    return record


@dataclass(frozen=True)
class ObjectWatch:
    """Done when every target matches at least one object of at least ``min_size`` bytes."""

    targets: tuple[Target, ...]
    min_size: int | None = None
    with_metadata: bool = False

    def _big_enough(self, size: int) -> bool:
        return self.min_size is None or size >= self.min_size

    def plan(
        self,
        app_id: str | None,
        verified: dict[str, float],
        state: Mapping[str, Any] | None = None,
        now: float = 0.0,
    ) -> Plan:
        # Exact keys first (one HEAD each, together): if one is missing the
        # poke is over without listing anything. Globs are listed from their
        # literal prefix, and each match is HEADed for its version and CRC64.
        per_target: list[list[dict[str, Any]]] = [[] for _ in self.targets]
        exact = [i for i, t in enumerate(self.targets) if not t.glob]
        if exact:
            heads = yield from head_targets([self.targets[i] for i in exact], app_id)
            waiting: list[str] = []
            for i, (ref, result) in zip(exact, heads, strict=True):
                uri = self.targets[i].uri
                if not (yield from found(ref.bucket, result, verified, now)):
                    waiting.append(f"{uri} (not found)")
                    continue
                if not self._big_enough(result.size):
                    waiting.append(f"{uri} ({result.size} bytes < min_size {self.min_size})")
                    continue
                per_target[i].append(object_record(result, self.with_metadata))
            if waiting:
                return Outcome(False, reason="waiting for " + ", ".join(waiting))
        for i, target in enumerate(self.targets):
            if not target.glob:
                continue
            bucket = full_bucket_name(target.bucket, app_id)
            listed = yield from list_all(bucket, literal_prefix(target.key))
            rx = glob_regex(target.key)
            keys = [o.key for o in listed if rx.fullmatch(o.key) and self._big_enough(o.size)]
            if keys:
                results = yield Batch(tuple(ops.head_object(ObjectRef(bucket, k)) for k in keys))
                for result in results:
                    if isinstance(result, CosServiceError) and result.is_not_found:
                        continue  # deleted since it was listed
                    yield from raise_failure(bucket, result)
                    if self._big_enough(result.size):
                        per_target[i].append(object_record(result, self.with_metadata))
            if not per_target[i]:
                return Outcome(
                    False, reason=f"waiting for {target.uri} (no match among {len(listed)} listed)"
                )
        matched: dict[tuple[str, str], dict[str, Any]] = {}
        for records in per_target:
            for record in records:
                matched.setdefault((record["bucket"], record["key"]), record)
        return Outcome(True, xcom=list(matched.values()))


@dataclass(frozen=True)
class UpdatedWatch:
    """Done when the object exists and was last modified strictly after ``after``.

    COS reports Last-Modified to the second.
    """

    target: Target
    after: datetime
    with_metadata: bool = False

    def plan(
        self,
        app_id: str | None,
        verified: dict[str, float],
        state: Mapping[str, Any] | None = None,
        now: float = 0.0,
    ) -> Plan:
        ref = ObjectRef(full_bucket_name(self.target.bucket, app_id), self.target.key)
        try:
            info = yield ops.head_object(ref)
        except CosServiceError as exc:
            if not exc.is_not_found:
                yield from explain_denied(ref.bucket, exc)
            yield from check_bucket(ref.bucket, verified, now)
            return Outcome(False, reason=f"{self.target.uri} does not exist yet")
        modified = info.last_modified
        if modified is None or modified <= self.after:
            return Outcome(
                False,
                reason=f"{self.target.uri} last modified {modified.isoformat() if modified else 'unknown'}, "
                f"not after {self.after.isoformat()}",
            )
        return Outcome(True, xcom=object_record(info, self.with_metadata))


@dataclass(frozen=True)
class InactivityWatch:
    """Done when the listing under ``prefix`` has not changed for ``inactivity_period``
    seconds and holds at least ``min_objects`` objects.

    A change is any key added, removed, resized or rewritten (ETag). The state
    carried between pokes is the last listing (key -> ``size:etag``) and the
    time (the caller's ``now``) of the last change.
    """

    bucket: str
    prefix: str
    inactivity_period: float
    min_objects: int = 1
    allow_delete: bool = True

    def plan(
        self,
        app_id: str | None,
        verified: dict[str, float],
        state: Mapping[str, Any] | None = None,
        now: float = 0.0,
    ) -> Plan:
        bucket = full_bucket_name(self.bucket, app_id)
        where = cos_url(bucket, self.prefix)
        listed = yield from list_all(bucket, self.prefix)
        current = {o.key: f"{o.size}:{unquote_etag(o.etag)}" for o in listed}
        previous = (state or {}).get("objects")
        if previous is None:
            return Outcome(
                False,
                state={"objects": current, "last_activity": now},
                reason=f"{len(current)} object(s) under {where}; inactivity timer started",
            )
        if current != previous:
            deleted = sorted(set(previous) - set(current))
            if deleted and not self.allow_delete:
                raise WatchError(
                    "deleted",
                    f"{len(deleted)} object(s) under {where} were deleted while waiting "
                    f"(e.g. {', '.join(deleted[:3])}) and allow_delete is False",
                )
            added = len(set(current) - set(previous))
            changed = sum(1 for k, v in current.items() if k in previous and previous[k] != v)
            return Outcome(
                False,
                state={"objects": current, "last_activity": now},
                reason=f"activity under {where}: {added} added, {len(deleted)} deleted, {changed} changed; "
                "inactivity timer reset",
            )
        idle = now - float((state or {})["last_activity"])
        if idle < self.inactivity_period:
            return Outcome(
                False,
                state=dict(state or {}),
                reason=f"{len(current)} object(s) under {where} unchanged for {idle:.0f}s "
                f"of {self.inactivity_period:.0f}s",
            )
        if len(current) < self.min_objects:
            return Outcome(
                False,
                state=dict(state or {}),
                reason=f"{where} inactive for {idle:.0f}s but holds {len(current)} object(s), "
                f"fewer than min_objects={self.min_objects}",
            )
        return Outcome(
            True,
            xcom={
                "bucket": bucket,
                "prefix": self.prefix,
                "count": len(current),
                "total_size": sum(o.size for o in listed),
                "keys": sorted(current),
            },
            state=dict(state or {}),
        )


__all__ = ["InactivityWatch", "ObjectWatch", "UpdatedWatch", "object_record"]
