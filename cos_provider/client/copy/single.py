"""A copy in one PUT Object - Copy request (sources up to the multipart threshold).

The copy is pinned with ``If-Match`` to the ETag the engine read (HEAD or
listing) whenever the caller's conditions allow it, so it copies the version
that was looked at or fails with 412. When the engine knows the source's
CRC64 (from a HEAD, not a listing) and the copy was pinned, the result's
CRC64 must equal it; otherwise the copy is deleted and
:class:`CosIntegrityError` raised. An unpinned copy (the caller asked for
``If-None-Match`` or ``If-Modified-Since``, which COS does not combine with
``If-Match``) may legitimately copy a newer version, so it is not compared.

Tags, no-clobber and SSE-C ride on the same request (:class:`CopyOptions`):
the tagging directive is sent whenever tags are given; with
``overwrite=False`` an existing destination is :class:`DestinationExistsError`,
except on a retry whose first attempt got no answer, when the destination
holding exactly the source (size and CRC64, or ETag) means that attempt
made it; the SSE-C keys are sent for the source and the destination, and the
destination is HEADed with its key.
"""

from __future__ import annotations

import dataclasses
import time

from cos_provider.client.client import CosClient
from cos_provider.client.copy.cleanup import discard, version_param
from cos_provider.client.copy.models import CopyOptions, CopyOutcome
from cos_provider.client.copy.overwrite import DestinationExistsError, is_conflict
from cos_provider.client.copy.progress import LoggerLike
from cos_provider.client.errors import CosIntegrityError, CosServiceError
from cos_provider.client.etag import same_etag
from cos_provider.client.models import CopyResult, ObjectInfo
from cos_provider.client.operations import ObjectRef


def copy_single(
    client: CosClient,
    source: ObjectRef,
    dest: ObjectRef,
    options: CopyOptions,
    info: ObjectInfo,
    *,
    have_crc: bool,
    started: float,
    log: LoggerLike,
) -> CopyOutcome:
    """Copy ``source`` (described by ``info``) to ``dest``; ``have_crc``: ``info`` came from HEAD."""
    conditions = options.conditions
    pinned = False
    if info.etag and not (conditions.if_match or conditions.if_none_match or conditions.if_modified_since):
        conditions = dataclasses.replace(conditions, if_match=info.etag)
        pinned = True
    elif conditions.if_match and same_etag(conditions.if_match, info.etag):
        pinned = True
    try:
        result = client.copy_object(
            source,
            dest,
            metadata_directive=options.directive,
            attributes=options.attributes,
            conditions=conditions,
            tagging_directive=options.tag_directive,
            forbid_overwrite=not options.overwrite,
            keys=options.keys,
        )
    except CosServiceError as exc:
        if not is_conflict(exc):
            raise
        result = _ours_after_lost_reply(client, dest, options, info, exc)
    crc = result.crc64
    if pinned and have_crc and info.crc64 is not None:
        head = None
        if crc is None:
            head = client.head_object(
                dest.bucket, dest.key, version_param(result.version_id), customer_key=options.keys.dest
            )
            crc = head.crc64
        if crc != info.crc64:
            if head is None and options.keys.dest is not None:  # discard cannot HEAD it without the key
                head = client.head_object(dest.bucket, dest.key, customer_key=options.keys.dest)
            discard(client, dest, result.version_id, result.etag, head, logger=log)
            raise CosIntegrityError(
                f"copy of {source.uri()} to {dest.uri()}: destination CRC64 {crc} != source CRC64 "
                f"{info.crc64} (request_id={result.request_id}); the corrupt copy was deleted"
            )
    log.debug("Copied %s to %s with one PUT copy (%d bytes)", source.uri(), dest.uri(), info.size)
    return CopyOutcome(
        dest_uri=dest.uri(),
        bucket=dest.bucket,
        key=dest.key,
        etag=result.etag,
        version_id=result.version_id,
        crc64=crc,
        size=info.size,
        last_modified=result.last_modified,
        source_uri=source.uri(),
        source_version_id=result.source_version_id or info.version_id or source.version_id,
        source_etag=info.etag,
        part_count=0,
        method="single",
        elapsed_seconds=round(time.monotonic() - started, 3),
        request_id=result.request_id,
    )


def _ours_after_lost_reply(
    client: CosClient, dest: ObjectRef, options: CopyOptions, info: ObjectInfo, exc: CosServiceError
) -> CopyResult:
    """A 409 ``FileAlreadyExists`` that our own first attempt may have caused.

    The transport retries a copy whose answer was lost; if the lost attempt
    did copy, the retry finds the destination and COS refuses it. Only then
    (``attempt > 1``) is the destination examined: holding the source's size
    and CRC64 (or its ETag, when no CRC is known) it is the copy just made.
    Anything else is a real conflict.
    """
    if getattr(exc, "attempt", 1) > 1:
        head = client.head_object(dest.bucket, dest.key, customer_key=options.keys.dest)
        same_bytes = head.size == info.size and (
            (info.crc64 is not None and head.crc64 == info.crc64)
            or (info.crc64 is None and same_etag(head.etag, info.etag))
        )
        if same_bytes:
            return CopyResult(
                etag=head.etag,
                last_modified=head.last_modified,
                crc64=head.crc64,
                version_id=head.version_id,
                source_version_id=None,
                request_id=head.request_id,
            )
    raise DestinationExistsError(exc, dest, "PUT Object - Copy") from exc
