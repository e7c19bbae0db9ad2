"""A copy in one PUT Object - Copy request (sources up to the multipart threshold).

The copy is pinned with ``If-Match`` to the ETag the engine read (HEAD or
listing) whenever the caller's conditions allow it, so it copies the version
that was looked at or fails with 412. When the engine knows the source's
CRC64 (from a HEAD, not a listing) and the copy was pinned, the result's
CRC64 must equal it; otherwise the copy is deleted and
:class:`CosIntegrityError` raised. An unpinned copy (the caller asked for
``If-None-Match`` or ``If-Modified-Since``, which COS does not combine with
``If-Match``) may legitimately copy a newer version, so it is not compared.
"""

from __future__ import annotations

import dataclasses
import time

from cos_provider.client.client import CosClient
from cos_provider.client.copy.cleanup import discard, version_param
from cos_provider.client.copy.models import CopyOptions, CopyOutcome
from cos_provider.client.copy.progress import LoggerLike
from cos_provider.client.errors import CosIntegrityError
from cos_provider.client.etag import same_etag
from cos_provider.client.models import ObjectInfo
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
    result = client.copy_object(
        source,
        dest,
        metadata_directive=options.directive,
        attributes=options.attributes,
        conditions=conditions,
    )
    crc = result.crc64
    if pinned and have_crc and info.crc64 is not None:
        if crc is None:
            crc = client.head_object(dest.bucket, dest.key, version_param(result.version_id)).crc64
        if crc != info.crc64:
            discard(client, dest, result.version_id, result.etag, logger=log)
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
