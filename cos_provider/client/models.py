"""Small typed results. They hold parsed values (ints, datetimes), not strings,
so callers never re-parse a header, and they turn into plain dicts for XCom."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


def _jsonable(value: Any) -> Any:
    if isinstance(value, _AsDict):  # a page's objects, parts or uploads
        return value.to_dict()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


class _AsDict:
    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (datetimes as ISO 8601), fit for XCom."""
        return {f.name: _jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]


@dataclass(frozen=True)
class ObjectInfo(_AsDict):
    """What HEAD Object says about one object version."""

    bucket: str
    key: str
    size: int
    etag: str
    last_modified: datetime | None
    version_id: str | None = None
    crc64: int | None = None
    content_type: str | None = None
    cache_control: str | None = None
    content_disposition: str | None = None
    content_encoding: str | None = None
    expires: str | None = None
    storage_class: str | None = None
    server_side_encryption: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    request_id: str | None = None
    kms_key_id: str | None = None
    """``x-cos-server-side-encryption-cos-kms-key-id`` of an SSE-KMS object."""
    sse_customer_algorithm: str | None = None
    """``AES256`` for an SSE-C object (HEAD answers it only when given the right key)."""
    sse_customer_key_md5: str | None = None
    tag_count: int = 0
    """``x-cos-tagging-count``: the object's tags are read with GET Object tagging."""
    restore: str | None = None
    """``x-cos-restore`` of an archived object (see :mod:`cos_provider.client.restore`)."""


@dataclass(frozen=True)
class PutResult(_AsDict):
    etag: str
    crc64: int | None
    version_id: str | None
    request_id: str | None


@dataclass(frozen=True)
class PartUploadResult(_AsDict):
    """Upload Part: the part's ETag (MD5 of its body) and CRC64."""

    part_number: int
    etag: str
    crc64: int | None
    request_id: str | None = None


@dataclass(frozen=True)
class CopyResult(_AsDict):
    """PUT Object - Copy."""

    etag: str
    last_modified: datetime | None
    crc64: int | None
    version_id: str | None
    source_version_id: str | None
    request_id: str | None


@dataclass(frozen=True)
class PartCopyResult(_AsDict):
    """Upload Part - Copy."""

    part_number: int
    etag: str
    last_modified: datetime | None
    crc64: int | None
    request_id: str | None = None


@dataclass(frozen=True)
class InitiateResult(_AsDict):
    bucket: str
    key: str
    upload_id: str


@dataclass(frozen=True)
class CompleteResult(_AsDict):
    location: str
    bucket: str
    key: str
    etag: str
    crc64: int | None = None
    version_id: str | None = None
    request_id: str | None = None


@dataclass(frozen=True)
class Part(_AsDict):
    part_number: int
    etag: str
    size: int
    last_modified: datetime | None = None


@dataclass(frozen=True)
class PartsPage(_AsDict):
    bucket: str
    key: str
    upload_id: str
    parts: list[Part]
    is_truncated: bool
    next_part_number_marker: int | None


@dataclass(frozen=True)
class Upload(_AsDict):
    key: str
    upload_id: str
    initiated: datetime | None
    storage_class: str | None = None


@dataclass(frozen=True)
class UploadsPage(_AsDict):
    bucket: str
    uploads: list[Upload]
    common_prefixes: list[str]
    is_truncated: bool
    next_key_marker: str | None
    next_upload_id_marker: str | None


@dataclass(frozen=True)
class ListedObject(_AsDict):
    key: str
    size: int
    etag: str
    last_modified: datetime | None
    storage_class: str | None = None


@dataclass(frozen=True)
class ObjectsPage(_AsDict):
    bucket: str
    prefix: str
    objects: list[ListedObject]
    common_prefixes: list[str]
    is_truncated: bool
    next_marker: str | None

    @property
    def next_page_marker(self) -> str | None:
        """Where the next page starts; ``None`` when this page ends the listing.

        A truncated page without a marker ends it too: asking again from the
        same place would only loop.
        """
        return self.next_marker if self.is_truncated and self.next_marker else None


@dataclass(frozen=True)
class ListedVersion(_AsDict):
    """A ``Version`` or ``DeleteMarker`` entry of GET Bucket Object versions."""

    key: str
    version_id: str
    is_latest: bool
    delete_marker: bool
    size: int = 0
    etag: str = ""


@dataclass(frozen=True)
class VersionsPage(_AsDict):
    versions: list[ListedVersion]
    is_truncated: bool
    next_key_marker: str | None
    next_version_id_marker: str | None


@dataclass(frozen=True)
class DeletedObject(_AsDict):
    """A ``<Deleted>`` entry of Delete Multiple Objects."""

    key: str
    version_id: str | None = None
    delete_marker: bool = False
    delete_marker_version_id: str | None = None


@dataclass(frozen=True)
class DeleteError(_AsDict):
    """A key COS did not delete: its ``<Error>`` entry, or the error of the whole request it was in."""

    key: str
    code: str
    message: str = ""
    version_id: str | None = None


@dataclass(frozen=True)
class DeleteObjectsPage(_AsDict):
    """The answer to one Delete Multiple Objects request (quiet: ``deleted`` is empty)."""

    deleted: list[DeletedObject]
    errors: list[DeleteError]


@dataclass(frozen=True)
class BucketInfo(_AsDict):
    name: str
    region: str
    created: datetime | None = None


@dataclass(frozen=True)
class ErrorBody:
    code: str
    message: str
    resource: str
    request_id: str
    trace_id: str
