"""Delete many keys: batches of at most 1,000 on a bounded pool, every per-key error kept.

No Airflow here. Keys come from a list or a lazy listing; they are cut into
batches of ``batch_size`` (at most :data:`~cos_provider.client.limits.MAX_DELETE_KEYS`)
and each batch is one quiet Delete Multiple Objects request, ``concurrency``
at a time through :func:`~cos_provider.client.copy.window.run_window`.

Nothing is dropped: a key COS reports in an ``<Error>`` entry is recorded with
its code; a batch whose whole request fails (after the transport's retries)
records every key of that batch with the request's error code; the other
batches go on. ``dry_run`` only lists what would be deleted.

With versions (:func:`version_entries`), every version and delete marker of
each key is deleted by its version id, so the keys are gone for good;
``deleted`` then names each key once and ``versions_deleted`` counts the
versions.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from cos_provider.client import limits
from cos_provider.client import operations as ops
from cos_provider.client.client import CosClient
from cos_provider.client.copy.window import run_window
from cos_provider.client.errors import CosServiceError, CosValidationError
from cos_provider.client.models import DeleteError, DeleteObjectsPage, _AsDict

Batch = list[tuple[str, str | None]]


@dataclass(frozen=True)
class DeleteResult(_AsDict):
    """What a bulk delete did (or, with ``dry_run``, would do)."""

    bucket: str
    deleted: list[str] = field(default_factory=list)
    """Keys deleted (with ``dry_run``: the keys that would be)."""
    errors: list[DeleteError] = field(default_factory=list)
    dry_run: bool = False
    requests: int = 0
    """Delete Multiple Objects requests sent."""
    versions_deleted: int = 0
    """Versions (and delete markers) deleted by version id."""

    @property
    def count(self) -> int:
        return len(self.deleted)

    @property
    def ok(self) -> bool:
        return not self.errors


def validate_batch_size(value: object, field_name: str = "batch_size") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limits.MAX_DELETE_KEYS:
        raise CosValidationError(
            field_name, f"must be an integer from 1 to {limits.MAX_DELETE_KEYS}, got {value!r}"
        )
    return value


def batches(entries: Iterable[ops.DeleteEntry], size: int) -> Iterator[Batch]:
    """Validated batches of at most ``size`` entries, read lazily."""
    it = iter(entries)
    while chunk := list(islice(it, size)):
        yield ops.delete_entries(chunk)


def delete_keys(
    client: CosClient,
    bucket: str,
    entries: Iterable[ops.DeleteEntry],
    *,
    concurrency: int = 4,
    batch_size: int = limits.MAX_DELETE_KEYS,
    dry_run: bool = False,
    cancel: threading.Event | None = None,
) -> DeleteResult:
    """Delete ``entries`` (keys or ``(key, version_id)`` pairs) from ``bucket``; see the module."""
    size = validate_batch_size(batch_size)
    if dry_run:
        listed = _unique(key for batch in batches(entries, size) for key, _ in batch)
        return DeleteResult(bucket=bucket, deleted=listed, dry_run=True)
    deleted: list[str] = []
    errors: list[DeleteError] = []
    sent = 0
    by_version = 0

    def work(batch: Batch) -> DeleteObjectsPage:
        return client.delete_objects(bucket, batch, quiet=True)

    def on_result(batch: Batch, page: DeleteObjectsPage) -> None:
        nonlocal sent, by_version
        sent += 1
        failed = {(e.key, e.version_id) for e in page.errors} | {(e.key, None) for e in page.errors}
        errors.extend(page.errors)
        done = [(key, version) for key, version in batch if (key, version) not in failed]
        by_version += sum(1 for _, version in done if version is not None)
        deleted.extend(key for key, _ in done)

    def on_error(batch: Batch, exc: BaseException) -> None:
        nonlocal sent
        if isinstance(exc, CosValidationError):
            raise exc
        sent += 1
        code = exc.code if isinstance(exc, CosServiceError) else type(exc).__name__
        errors.extend(DeleteError(key=k, code=code, message=str(exc), version_id=v) for k, v in batch)

    run_window(
        work,
        batches(entries, size),
        concurrency=concurrency,
        on_result=on_result,
        on_error=on_error,
        cancel=cancel,
        thread_name="cos-delete",
    )
    return DeleteResult(
        bucket=bucket, deleted=_unique(deleted), errors=errors, requests=sent, versions_deleted=by_version
    )


def _unique(keys: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(keys))


def version_entries(
    client: CosClient,
    bucket: str,
    *,
    keys: Iterable[str] | None = None,
    prefix: str = "",
    pattern: re.Pattern[str] | None = None,
) -> Iterator[tuple[str, str | None]]:
    """``(key, version_id)`` of every version and delete marker of ``keys``, or of the keys under
    ``prefix`` that ``pattern`` matches (GET Bucket Object versions, read lazily)."""
    if keys is not None:
        for key in keys:
            for v in client.iter_versions(bucket, prefix=key):
                if v.key == key:
                    yield key, v.version_id
        return
    for v in client.iter_versions(bucket, prefix=prefix):
        if pattern is None or pattern.match(v.key):
            yield v.key, v.version_id
