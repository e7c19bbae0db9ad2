"""The bucket-level COS calls: buckets, listings (objects, versions, uploads) and Delete Multiple Objects.

Pure request builders plus parsers, like :mod:`operations` (which re-exports
them, so ``ops.list_objects`` still names every call in one place); kept
apart because they address a bucket, not one object.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable

from cos_provider.client import limits, validation, xmlcodec
from cos_provider.client.errors import CosValidationError
from cos_provider.client.models import BucketInfo, DeleteObjectsPage, ObjectsPage, UploadsPage, VersionsPage
from cos_provider.client.protocol import Call, CosRequest

DeleteEntry = str | tuple[str, str | None]
"""A key to delete, or ``(key, version_id)`` (``None``: the current version)."""


def head_bucket(bucket: str) -> Call[str]:
    return Call(CosRequest("HeadBucket", "HEAD", bucket), lambda r: r.request_id)


def list_buckets(region: str | None = None) -> Call[list[BucketInfo]]:
    """GET Service; region-scoped when ``region`` is given."""
    return Call(
        CosRequest("GetService", "GET", "", region=region),
        lambda r: xmlcodec.parse_list_buckets(r.body),
    )


def put_bucket(bucket: str, region: str | None = None, acl: str | None = None) -> Call[str]:
    headers = {"x-cos-acl": acl} if acl else {}
    return Call(
        CosRequest("PutBucket", "PUT", bucket, headers=headers, region=region), lambda r: r.request_id
    )


def list_objects(
    bucket: str,
    prefix: str = "",
    delimiter: str = "",
    marker: str = "",
    max_keys: int = 1000,
) -> Call[ObjectsPage]:
    validation.validate_page_size(max_keys, "max_keys")
    params = {"encoding-type": "url", "max-keys": str(max_keys)}
    if prefix:
        params["prefix"] = prefix
    if delimiter:
        params["delimiter"] = delimiter
    if marker:
        params["marker"] = marker
    return Call(
        CosRequest("ListObjects", "GET", bucket, params=params),
        lambda r: xmlcodec.parse_list_bucket(r.body),
    )


def list_object_versions(
    bucket: str,
    prefix: str = "",
    key_marker: str = "",
    version_id_marker: str = "",
    max_keys: int = 1000,
) -> Call[VersionsPage]:
    """GET Bucket Object versions (``GET /?versions``)."""
    validation.validate_page_size(max_keys, "max_keys")
    params = {"versions": "", "encoding-type": "url", "max-keys": str(max_keys)}
    if prefix:
        params["prefix"] = prefix
    if key_marker:
        params["key-marker"] = key_marker
        if version_id_marker:
            params["version-id-marker"] = version_id_marker
    return Call(
        CosRequest("ListObjectVersions", "GET", bucket, params=params),
        lambda r: xmlcodec.parse_list_versions(r.body),
    )


def list_multipart_uploads(
    bucket: str,
    prefix: str = "",
    key_marker: str = "",
    upload_id_marker: str = "",
    max_uploads: int = 1000,
) -> Call[UploadsPage]:
    validation.validate_page_size(max_uploads, "max_uploads")
    params = {"uploads": "", "encoding-type": "url", "max-uploads": str(max_uploads)}
    if prefix:
        params["prefix"] = prefix
    if key_marker:
        params["key-marker"] = key_marker
        if upload_id_marker:
            params["upload-id-marker"] = upload_id_marker
    return Call(
        CosRequest("ListMultipartUploads", "GET", bucket, params=params),
        lambda r: xmlcodec.parse_list_multipart_uploads(r.body),
    )


# ---------------------------------------------------------------- objects


def delete_entries(entries: Iterable[DeleteEntry], field: str = "keys") -> list[tuple[str, str | None]]:
    """Validate keys (or ``(key, version_id)`` pairs) for Delete Multiple Objects."""
    if isinstance(entries, (str, bytes)) or not isinstance(entries, Iterable):
        raise CosValidationError(field, "must be a list of keys or (key, version_id) pairs")
    out: list[tuple[str, str | None]] = []
    for entry in entries:
        key: object = None
        version_id: object = None
        if isinstance(entry, str):
            key = entry
        elif isinstance(entry, tuple) and len(entry) == 2:
            key, version_id = entry
        if not isinstance(key, str):
            raise CosValidationError(field, f"must hold keys or (key, version_id) pairs, got {entry!r}")
        if version_id is not None and (not isinstance(version_id, str) or not version_id):
            raise CosValidationError(field, f"version of {key!r} must be a non-empty string or None")
        assert version_id is None or isinstance(version_id, str)
        out.append((validation.validate_key(key, field), version_id))
    return out


def delete_objects(
    bucket: str, entries: Iterable[DeleteEntry], quiet: bool = True
) -> Call[DeleteObjectsPage]:
    """Delete Multiple Objects: 1 to 1,000 keys, ``Content-MD5`` of the body (COS requires it).

    The answer is 200 even when keys failed: read ``errors`` of the page.
    """
    listed = delete_entries(entries)
    if not listed:
        raise CosValidationError("keys", "must list at least one key")
    if len(listed) > limits.MAX_DELETE_KEYS:
        raise CosValidationError(
            "keys", f"lists {len(listed)} keys; one request deletes at most {limits.MAX_DELETE_KEYS}"
        )
    body = xmlcodec.build_delete_objects(listed, validation.validate_bool(quiet, "quiet"))
    headers = {
        "Content-Type": "application/xml",
        "Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode("ascii"),
    }
    return Call(
        CosRequest(
            "DeleteMultipleObjects", "POST", bucket, params={"delete": ""}, headers=headers, body=body
        ),
        lambda r: xmlcodec.parse_delete_result(r.body),
    )


# ---------------------------------------------------------------- copy
