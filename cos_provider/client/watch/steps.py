"""Plan steps every watch shares: telling a missing key from a missing bucket,
getting the detail behind a bodyless 403, and listing a prefix to the end.

Each is a sub-generator a plan runs with ``yield from``, so it costs the
same requests whichever driver answers them.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, NoReturn

from cos_provider.client import operations as ops
from cos_provider.client.errors import CosServiceError
from cos_provider.client.models import ListedObject
from cos_provider.client.watch.drive import Step
from cos_provider.client.watch.errors import WatchError

BUCKET_RECHECK_SECONDS = 300.0
"""How long a bucket found to exist is trusted before a 404 makes us check it again."""


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
            raise WatchError(
                "no_bucket",
                f"COS bucket {bucket!r} does not exist (or is in another region): "
                "check the bucket name, APPID and region",
                code="NoSuchBucket",
                http_status=404,
            ) from exc
        yield from explain_denied(bucket, exc)
    verified[bucket] = now


def explain_denied(bucket: str, exc: CosServiceError) -> Generator[Step, Any, NoReturn]:
    """Raise ``exc``, or the detailed error behind it.

    A 403 to HEAD has no body, so a wrong SecretKey and a missing permission
    look alike. One GET with a body (a one-key listing of the bucket) tells
    them apart; its error, if any, is raised instead.
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


def list_all(bucket: str, prefix: str) -> Generator[Step, Any, list[ListedObject]]:
    """Every object under ``prefix``, page after page."""
    out: list[ListedObject] = []
    marker: str | None = ""
    while marker is not None:
        page = yield ops.list_objects(bucket, prefix=prefix, marker=marker)
        out.extend(page.objects)
        marker = page.next_page_marker
    return out


__all__ = [
    "BUCKET_RECHECK_SECONDS",
    "check_bucket",
    "explain_denied",
    "list_all",
    "raise_failure",
]
