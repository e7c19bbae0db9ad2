"""Plan steps every watch shares: telling a missing key from a missing bucket,
getting the detail behind a bodyless 403, and listing a prefix to the end.

Each is a sub-generator a plan runs with ``yield from``, so it costs the
same requests whichever driver answers them.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any, NoReturn

from cos_provider.client import operations as ops
from cos_provider.client.endpoints import full_bucket_name
from cos_provider.client.errors import CosServiceError
from cos_provider.client.explain import explain_service_error
from cos_provider.client.models import ListedObject
from cos_provider.client.operations import ObjectRef
from cos_provider.client.watch.drive import Batch, Step
from cos_provider.client.watch.errors import WatchError
from cos_provider.client.watch.targets import Target

BUCKET_RECHECK_SECONDS = 300.0
"""How long a bucket found to exist is trusted before a 404 makes us check it again."""


def no_bucket(bucket: str, exc: CosServiceError) -> WatchError:
    """The fail-fast error for a bucket COS says is not there."""
    return WatchError(
        "no_bucket", explain_service_error(exc, bucket=bucket), code="NoSuchBucket", http_status=404
    )


def check_bucket(bucket: str, verified: dict[str, float], now: float) -> Generator[Step, Any, None]:
    """After a 404 on HEAD Object: is it the key or the whole bucket that is missing?

    HEAD answers carry no body, so the 404 itself cannot tell. A bucket found
    to exist is remembered in ``verified`` (bucket -> when) for
    :data:`BUCKET_RECHECK_SECONDS`; the sensor hands this to its trigger and
    back, so every mode checks equally often.
    """
    checked = verified.get(bucket)
    if checked is not None and 0 <= now - checked < BUCKET_RECHECK_SECONDS:
        return
    try:
        yield ops.head_bucket(bucket)
    except CosServiceError as exc:
        if exc.is_not_found:
            raise no_bucket(bucket, exc) from exc
        yield from explain_denied(bucket, exc)
    verified[bucket] = now


def explain_denied(bucket: str, exc: CosServiceError) -> Generator[Step, Any, NoReturn]:
    """Raise ``exc``, or the detailed error behind it.

    A 403 to HEAD has no body, so a wrong SecretKey and a missing permission
    look alike. One GET with a body (a one-key listing of the bucket) tells
    them apart; its error, if any, is raised instead, for
    :func:`~cos_provider.client.watch.errors.classify` to explain.
    """
    if exc.status == 403 and not exc.message:
        try:
            yield ops.list_objects(bucket, max_keys=1)
        except CosServiceError as detail:
            if detail.message:
                raise detail from exc
    raise exc


def raise_failure(bucket: str, result: Any) -> Generator[Step, Any, None]:
    """Raise the error one call of a :class:`~.drive.Batch` ended with; a result passes.

    Any error but the caller's expected 404 ends the poke as a single call's
    would, a bodyless 403 explained first.
    """
    if isinstance(result, CosServiceError):
        yield from explain_denied(bucket, result)
    if isinstance(result, BaseException):
        raise result


def head_targets(
    targets: Sequence[Target], app_id: str | None
) -> Generator[Step, Any, list[tuple[ObjectRef, Any]]]:
    """HEAD every target in one batch: ``(ref, its ObjectInfo or the call's error)`` each, in order."""
    refs = [ObjectRef(full_bucket_name(t.bucket, app_id), t.key) for t in targets]
    results = yield Batch(tuple(ops.head_object(r) for r in refs))
    return list(zip(refs, results, strict=True))


def found(bucket: str, result: Any, verified: dict[str, float], now: float) -> Generator[Step, Any, bool]:
    """Whether one HEAD of :func:`head_targets` found its object: False for one to wait for.

    A 404 is a missing key, to wait for, unless the whole bucket is missing
    (:func:`check_bucket` fails at once); any other error raises.
    """
    if isinstance(result, CosServiceError) and result.is_not_found:
        yield from check_bucket(bucket, verified, now)
        return False
    yield from raise_failure(bucket, result)
    return True


def list_all(bucket: str, prefix: str) -> Generator[Step, Any, list[ListedObject]]:
    """Every object under ``prefix``, page after page; a 404 means the bucket is gone."""
    out: list[ListedObject] = []
    marker: str | None = ""
    while marker is not None:
        try:
            page = yield ops.list_objects(bucket, prefix=prefix, marker=marker)
        except CosServiceError as exc:
            if exc.is_not_found:
                raise no_bucket(bucket, exc) from exc
            raise
        out.extend(page.objects)
        marker = page.next_page_marker
    return out


__all__ = [
    "BUCKET_RECHECK_SECONDS",
    "check_bucket",
    "explain_denied",
    "list_all",
    "no_bucket",
    "raise_failure",
]
