"""Copying many objects (a prefix, a glob, a list of keys) with one engine.

The objects go through the same bounded window as the parts of one object
(:mod:`window`): ``concurrency`` copies at a time, the pairs read lazily,
so a listing of a million keys is copied as it is listed, in bounded
memory. Each object is an ordinary :meth:`CopyEngine.copy`; a big one copies
its own parts on its own window. An error, a cancel or an interrupt cancels
the engine (aborting every open upload) and stops the window. With
``continue_on_failure`` *every* error raised while copying one object is
recorded in ``failures`` instead and the rest go on: a :class:`CosError`,
but also a ``ValueError`` or ``KeyError`` from a reply or a listing entry the
engine could not handle, since one odd object must not cost the other
million their copy. Only :class:`CopyCancelled`, ``KeyboardInterrupt`` and
``SystemExit`` (and anything else that is not an ``Exception``) still stop
the run, as does an item of ``pairs`` that is not a (source, destination,
listing entry) triple: that is the caller's bug, not one object's failure.

With ``replace=False`` a destination that already holds its source's bytes
is skipped: :func:`already_copied` decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cos_provider.client.client import CosClient
from cos_provider.client.copy.compact import RefPairs
from cos_provider.client.copy.errors import CopyCancelled
from cos_provider.client.copy.models import CopyOptions
from cos_provider.client.copy.window import run_window
from cos_provider.client.encryption import NO_KEYS, CustomerKeys
from cos_provider.client.errors import CosError, CosServiceError
from cos_provider.client.etag import same_etag
from cos_provider.client.models import ListedObject
from cos_provider.client.operations import ObjectRef

if TYPE_CHECKING:
    from cos_provider.client.copy.engine import CopyEngine

Pair = tuple[ObjectRef, ObjectRef, ListedObject | None]
"""(source, destination, the source's listing entry if it came from a listing)."""


@dataclass
class ManyCopyResult:
    """What :func:`copy_many` did; ``to_dict()`` is JSON-able (URIs, not refs)."""

    copied: RefPairs = field(default_factory=RefPairs)
    """(source, destination) of every object copied, kept compact (:mod:`compact`): ~20 bytes an object."""
    skipped: list[ObjectRef] = field(default_factory=list)
    """Destinations that already held their source (``replace=False``)."""
    failures: list[dict[str, str]] = field(default_factory=list)
    """``{"key": source key, "error": message}`` per failed object (``continue_on_failure``)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "copied": [{"source": s.uri(), "dest": d.uri()} for s, d in self.copied],
            "skipped": [d.uri() for d in self.skipped],
            "failures": [dict(f) for f in self.failures],
        }


def already_copied(
    client: CosClient,
    src: ObjectRef,
    listed: ListedObject | None,
    dest: ObjectRef,
    keys: CustomerKeys = NO_KEYS,
) -> bool:
    """Does ``dest`` already hold ``src``'s bytes? Same size, and the same ETag or the same CRC64.

    Either alone is not enough: a multipart ETag is not a digest of the
    bytes, so two copies of one object made with other part sizes differ in
    ETag, and only the CRC64 COS keeps for the object shows they are equal. The destination is HEADed first, and a size mismatch with the
    listing entry answers before the source is HEADed.
    """
    try:
        have = client.head_object(dest.bucket, dest.key, customer_key=keys.dest)
    except CosServiceError as exc:
        if exc.is_not_found:
            return False
        raise
    if listed is not None and have.size != listed.size:
        return False
    src_info = client.head_object(src.bucket, src.key, src.version_id, src.region, customer_key=keys.source)
    if have.size != src_info.size:
        return False
    if same_etag(have.etag, src_info.etag):
        return True
    return have.crc64 is not None and have.crc64 == src_info.crc64


def _source_key(pair: object) -> str | None:
    """The source key of a well-formed pair, else ``None``."""
    if isinstance(pair, tuple) and len(pair) == 3 and isinstance(pair[0], ObjectRef):
        return pair[0].key
    return None


def copy_many(
    engine: CopyEngine,
    pairs: Iterable[Pair],
    options: CopyOptions,
    *,
    concurrency: int,
    replace: bool = True,
    continue_on_failure: bool = False,
) -> ManyCopyResult:
    """Copy every (source, destination, listing entry) of ``pairs`` (see the module docstring)."""
    result = ManyCopyResult()

    def copy_one(pair: Pair) -> bool:
        src, dest, listed = pair
        if not replace and already_copied(engine.client, src, listed, dest, options.keys):
            return False
        engine.copy(src, dest, options, listed=listed)
        return True

    def done(pair: Pair, copied: bool) -> None:
        src, dest, _ = pair
        if copied:
            result.copied.append((src, dest))
        else:
            result.skipped.append(dest)

    def failed(pair: Pair, exc: BaseException) -> None:
        stops = isinstance(exc, CopyCancelled) or not isinstance(exc, Exception)
        key = _source_key(pair)
        if not continue_on_failure or stops or key is None:
            raise exc
        if isinstance(exc, CosError):
            engine.log.error("Failed to copy %s: %s", key, exc)
            message = str(exc)
        else:  # not a COS answer: keep the traceback, it is what a fix needs
            engine.log.error("Failed to copy %s: %s: %s", key, type(exc).__name__, exc, exc_info=exc)
            message = f"{type(exc).__name__}: {exc}"
        result.failures.append({"key": key, "error": message})

    run_window(
        copy_one,
        pairs,
        concurrency=concurrency,
        on_result=done,
        on_error=failed,
        on_stop=lambda exc: engine.cancel(),
        cancel=engine.uploads.cancelled,
        thread_name="cos-prefix",
    )
    engine.log.info(
        "Copied %d object(s), skipped %d already matching, %d failed",
        len(result.copied),
        len(result.skipped),
        len(result.failures),
    )
    return result
