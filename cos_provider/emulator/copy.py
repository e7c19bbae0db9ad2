"""PUT Object - Copy, and the copy-source rules Upload Part - Copy shares.

Decisions where the documentation is silent or vague:

* the source is ``x-cos-copy-source`` parsed by the client's own
  :func:`parse_copy_source`; one that does not name a COS bucket host and a
  key is 400 ``InvalidCopySource``; a source bucket that does not exist, or
  exists in another region than the source host names, is 404
  ``NoSuchBucket``; a missing key (or a current delete marker) is 404
  ``NoSuchKey``; an unknown ``versionId`` is 404 ``NoSuchVersion``; a
  ``versionId`` naming a delete marker is 400 ``InvalidRequest``;
* ``x-cos-metadata-directive`` must be exactly ``Copy`` or ``Replaced`` (400
  ``InvalidArgument``). With ``Copy`` the request's content headers and
  ``x-cos-meta-*`` are ignored, not rejected: the SDK sends some of them;
* copying an object onto itself (same bucket, key and current version)
  without ``Replaced`` is 400 ``InvalidRequest``;
* storage class, ACL, grants and SSE (SSE-COS, SSE-KMS and SSE-C) come from
  the request only - never from the source - whatever the directive
  (destination defaults: ``STANDARD``, bucket ACL, no SSE); an SSE-C source
  needs its key in ``x-cos-copy-source-server-side-encryption-customer-*``
  (see :mod:`.validate`); an ``MAZ_*`` source may only be copied into its own
  class (400 ``InvalidArgument``); an ``ARCHIVE``/``DEEP_ARCHIVE`` source is
  403 ``InvalidObjectState`` unless restored (:mod:`.restore`);
* tags follow ``x-cos-tagging-directive`` (``Copy``, the default, or
  ``Replaced``; anything else is 400 ``InvalidArgument``), independently of
  the metadata directive: ``Copy`` gives the source's tags and ignores the
  request's ``x-cos-tagging``; ``Replaced`` gives the request's (none if it
  has none);
* ``x-cos-forbid-overwrite: true`` refuses an existing destination (409
  ``FileAlreadyExists``) unless the bucket has ever had versioning;
* a source above the single-copy limit (5 GB, configurable) is 400
  ``EntityTooLarge``: use Upload Part - Copy. The SDK's managed ``copy()``
  takes its same-region shortcut regardless of size and hits this;
* the result keeps the source ETag when the source is a single-PUT object
  (same bytes, same MD5), else it gets :meth:`Content.range_etag`.
"""

from __future__ import annotations

from dataclasses import dataclass

from cos_provider.client import limits
from cos_provider.client.encryption import SOURCE_PREFIX
from cos_provider.client.endpoints import parse_copy_source
from cos_provider.emulator import validate
from cos_provider.emulator.core import Core
from cos_provider.emulator.errors import CosError, invalid_argument, invalid_request
from cos_provider.emulator.faults import Fault
from cos_provider.emulator.objects import ARCHIVED, bucket_of, version_headers
from cos_provider.emulator.store import Bucket, ObjectVersion
from cos_provider.emulator.wire import Request, Response
from cos_provider.emulator.xmlout import document, iso8601, quoted


@dataclass
class Source:
    bucket: Bucket
    version: ObjectVersion
    version_given: bool


def resolve_source(core: Core, req: Request) -> Source:
    raw = req.header("x-cos-copy-source") or ""
    try:
        parsed = parse_copy_source(raw)
    except ValueError as exc:
        raise CosError(400, "InvalidCopySource", f"x-cos-copy-source {raw!r}: {exc}") from exc
    if parsed.bucket is None or not parsed.key:
        raise CosError(
            400,
            "InvalidCopySource",
            f"x-cos-copy-source {raw!r} must be <bucket-appid>.cos.<region>.myqcloud.com/<key>",
        )
    bucket = core.store.bucket(parsed.bucket)
    if parsed.region is not None and parsed.region != bucket.region:
        raise CosError(
            404,
            "NoSuchBucket",
            f"The source bucket {parsed.bucket} does not exist in region {parsed.region}.",
        )
    version = core.store.version(bucket, parsed.key, parsed.version_id)
    if version is None:
        if parsed.version_id is not None:
            raise CosError(404, "NoSuchVersion", "The specified source version does not exist.")
        raise CosError(404, "NoSuchKey", "The specified source key does not exist.")
    if version.is_delete_marker:
        if parsed.version_id is not None:
            raise invalid_request(
                "The source of a copy request may not refer to a delete marker by version id."
            )
        raise CosError(
            404, "NoSuchKey", "The specified source key does not exist (its current version is deleted)."
        )
    if version.attrs.storage_class in ARCHIVED and not core.restores.readable(bucket.name, version):
        raise CosError(403, "InvalidObjectState", "The source object is archived; restore it before copying.")
    source_key = validate.customer_key(req, SOURCE_PREFIX)
    validate.check_key_for(version.attrs.sse_c_md5, source_key, "The copy source")
    validate.copy_conditions(req, version)
    return Source(bucket=bucket, version=version, version_given=parsed.version_id is not None)


def source_version_headers(source: Source) -> dict[str, str]:
    if source.version_given or source.version.version_id is not None:
        return {"x-cos-copy-source-version-id": source.version.version_id or "null"}
    return {}


def fail_mid_copy(fault: Fault | None) -> None:
    """The ``error_200`` fault: the copy started, then failed; COS answers 200."""
    if fault is not None and fault.kind == "error_200":
        raise CosError(
            200, fault.code or "InternalError", "We encountered an internal error. Please try again."
        )


def copy_object(core: Core, req: Request, fault: Fault | None) -> Response:
    bucket = bucket_of(core, req)
    validate.check_key(req.key)
    directive = req.header("x-cos-metadata-directive") or "Copy"
    if directive not in limits.METADATA_DIRECTIVES:
        raise invalid_argument(f"x-cos-metadata-directive must be Copy or Replaced, got {directive!r}")
    tag_directive = validate.tagging_directive(req)
    source = resolve_source(core, req)
    src = source.version
    current = core.store.current(source.bucket, src.key)
    same = source.bucket.name == bucket.name and src.key == req.key and current is src
    if same and directive != "Replaced":
        raise invalid_request(
            "This copy request is illegal because it copies an object onto itself without "
            "x-cos-metadata-directive: Replaced."
        )
    limit = core.single_copy_limit
    if limit is not None and src.size > limit:
        raise CosError(
            400,
            "EntityTooLarge",
            f"PUT Object - Copy supports sources up to {limit} bytes; this one has {src.size}. "
            "Use Upload Part - Copy.",
        )
    acl, grants = validate.acl_and_grants(req)
    storage_class = validate.storage_class(req) or "STANDARD"
    if src.attrs.storage_class.startswith("MAZ_") and storage_class != src.attrs.storage_class:
        raise invalid_argument(
            f"a {src.attrs.storage_class} object can only be copied into {src.attrs.storage_class}"
        )
    enc = validate.write_encryption(req)
    attrs = validate.write_attrs(req) if directive == "Replaced" else src.attrs
    tags = validate.tags(req) if tag_directive == "Replaced" else src.attrs.tags
    attrs = attrs.with_(storage_class=storage_class, acl=acl, grants=grants, tags=tags, **enc)

    core.model.transfer(src.size)
    fail_mid_copy(fault)
    assert src.content is not None
    etag = src.etag if src.parts_count is None else src.content.range_etag(0, src.size)
    version = core.store.put(
        bucket, req.key, src.content, etag, attrs, forbid_overwrite=validate.forbid_overwrite(req)
    )
    core.counters.copied(src.size)
    crc = src.content.crc
    body = document(
        "CopyObjectResult",
        [
            ("ETag", quoted(etag)),
            ("CRC64", str(crc)),
            ("LastModified", iso8601(version.last_modified)),
            ("VersionId", version.version_id if bucket.versioning else None),
        ],
    )
    headers = {"x-cos-hash-crc64ecma": str(crc)}
    headers.update(version_headers(bucket, version))
    headers.update(source_version_headers(source))
    headers.update(attrs.sse_headers())
    return Response.xml(body, headers=headers)
