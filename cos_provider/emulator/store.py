"""Buckets, object versions and multipart uploads, in memory, behind one lock.

The lock guards only dictionary and list updates, never I/O, CRC work or the
performance model's sleeps, so 64 concurrent requests do not serialise on it.
Everything reachable from a published :class:`ObjectVersion` or :class:`Part`
is immutable, so a handler may read it after releasing the lock.

Versioning follows COS: a bucket that never had versioning keeps one version
per key with no version id; ``Enabled`` appends versions (DELETE appends a
delete marker); ``Suspended`` writes replace the ``null`` version.
"""

from __future__ import annotations

import base64
import bisect
import itertools
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from cos_provider.client.endpoints import full_bucket_name
from cos_provider.client.errors import CosValidationError
from cos_provider.emulator.content import Content, Extent
from cos_provider.emulator.errors import CosError

NULL_VERSION = "null"


@dataclass(slots=True)
class ObjectAttrs:
    """What a write says about an object besides its bytes."""

    content_type: str = "application/octet-stream"
    cache_control: str | None = None
    content_disposition: str | None = None
    content_encoding: str | None = None
    content_language: str | None = None
    expires: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    storage_class: str = "STANDARD"
    acl: str | None = None
    grants: dict[str, str] = field(default_factory=dict)
    sse: str | None = None
    kms_key_id: str | None = None
    kms_context: str | None = None
    sse_c_md5: str | None = None
    """Base64 MD5 of the SSE-C key the object was written with (never the key)."""
    tags: tuple[tuple[str, str], ...] = ()

    def with_(self, **changes: object) -> ObjectAttrs:
        return replace(self, **changes)  # type: ignore[arg-type]

    def sse_headers(self) -> dict[str, str]:
        """The encryption headers COS answers writes and reads of this object with."""
        out: dict[str, str] = {}
        if self.sse:
            out["x-cos-server-side-encryption"] = self.sse
        if self.kms_key_id:
            out["x-cos-server-side-encryption-cos-kms-key-id"] = self.kms_key_id
        if self.sse_c_md5:
            out["x-cos-server-side-encryption-customer-algorithm"] = "AES256"
            out["x-cos-server-side-encryption-customer-key-MD5"] = self.sse_c_md5
        return out


@dataclass(slots=True)
class ObjectVersion:
    key: str
    version_id: str | None
    content: Content | None  # None for a delete marker
    etag: str  # unquoted
    last_modified: float
    attrs: ObjectAttrs
    parts_count: int | None = None

    @property
    def is_delete_marker(self) -> bool:
        return self.content is None

    @property
    def size(self) -> int:
        return self.content.size if self.content is not None else 0

    @property
    def crc64(self) -> int | None:
        return self.content.crc if self.content is not None else None


class Part:
    __slots__ = ("crc", "etag", "extents", "last_modified", "number", "size")

    def __init__(
        self, number: int, etag: str, extents: tuple[Extent, ...], crc: int, last_modified: float
    ) -> None:
        self.number = number
        self.etag = etag
        self.extents = extents
        self.size = sum(e.length for e in extents)
        self.crc = crc
        self.last_modified = last_modified


@dataclass(slots=True)
class Upload:
    upload_id: str
    bucket: str
    key: str
    initiated: float
    attrs: ObjectAttrs
    initiator: str
    parts: dict[int, Part] = field(default_factory=dict)
    forbid_overwrite: bool = False
    """Initiate carried ``x-cos-forbid-overwrite: true``: Complete refuses an existing key."""


@dataclass(slots=True)
class Bucket:
    name: str
    region: str
    created: float
    versioning: str = ""  # "", "Enabled" or "Suspended"
    acl: str = "private"
    versions: dict[str, list[ObjectVersion]] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)  # sorted keys having any version
    uploads: dict[str, Upload] = field(default_factory=dict)


_version_counter = itertools.count(int(time.time() * 1000) * 1000)


def new_version_id() -> str:
    raw = f"{next(_version_counter)}{secrets.randbelow(10**6):06d}".encode()
    return base64.b64encode(raw).decode().rstrip("=")


def new_upload_id() -> str:
    return f"{int(time.time() * 1000):x}{secrets.token_hex(20)}"


class Store:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.buckets: dict[str, Bucket] = {}

    def reset(self) -> None:
        with self.lock:
            self.buckets.clear()

    # -- buckets -----------------------------------------------------------

    def create_bucket(
        self, name: str, region: str, *, versioning: bool = False, acl: str = "private"
    ) -> Bucket:
        try:
            full = full_bucket_name(name)
        except CosValidationError as exc:
            raise CosError(400, "InvalidBucketName", str(exc)) from exc
        if full != name:
            raise CosError(400, "InvalidBucketName", f"bucket name {name!r} must be <name>-<appid>")
        if not region or not all(c.isalnum() or c == "-" for c in region):
            raise CosError(400, "InvalidArgument", f"region {region!r} is not a COS region")
        with self.lock:
            if name in self.buckets:
                raise CosError(409, "BucketAlreadyExists", f"bucket {name} already exists")
            bucket = Bucket(name=name, region=region, created=time.time(), acl=acl)
            if versioning:
                bucket.versioning = "Enabled"
            self.buckets[name] = bucket
            return bucket

    def bucket(self, name: str) -> Bucket:
        with self.lock:
            found = self.buckets.get(name)
        if found is None:
            raise CosError(404, "NoSuchBucket", f"The specified bucket {name} does not exist.")
        return found

    def delete_bucket(self, name: str) -> None:
        with self.lock:
            bucket = self.bucket(name)
            if bucket.keys or bucket.uploads:
                raise CosError(409, "BucketNotEmpty", "The bucket you tried to delete is not empty.")
            del self.buckets[name]

    # -- objects -----------------------------------------------------------

    def current(self, bucket: Bucket, key: str) -> ObjectVersion | None:
        with self.lock:
            versions = bucket.versions.get(key)
            return versions[-1] if versions else None

    def version(self, bucket: Bucket, key: str, version_id: str | None) -> ObjectVersion | None:
        """The named version (``None`` = current); ``None`` if absent."""
        with self.lock:
            versions = bucket.versions.get(key)
            if not versions:
                return None
            if version_id is None:
                return versions[-1]
            for v in versions:
                if v.version_id == version_id or (v.version_id is None and version_id == NULL_VERSION):
                    return v
            return None

    def _next_version_id(self, bucket: Bucket) -> str | None:
        if bucket.versioning == "Enabled":
            return new_version_id()
        if bucket.versioning == "Suspended":
            return NULL_VERSION
        return None

    def allocate_version_id(self, bucket: Bucket) -> str | None:
        with self.lock:
            return self._next_version_id(bucket)

    def _install(self, bucket: Bucket, version: ObjectVersion) -> None:
        versions = bucket.versions.get(version.key)
        if versions is None:
            bucket.versions[version.key] = [version]
            bisect.insort(bucket.keys, version.key)
            return
        if bucket.versioning == "Enabled":
            versions.append(version)
        else:  # never versioned or suspended: replace the unversioned / null version
            versions[:] = [v for v in versions if v.version_id not in (None, NULL_VERSION)]
            versions.append(version)

    def put(
        self,
        bucket: Bucket,
        key: str,
        content: Content,
        etag: str,
        attrs: ObjectAttrs,
        *,
        parts_count: int | None = None,
        version_id: str | None = None,
        preallocated: bool = False,
        forbid_overwrite: bool = False,
    ) -> ObjectVersion:
        """Install a new version; ``forbid_overwrite`` refuses an existing key in the same locked step.

        COS ignores ``x-cos-forbid-overwrite`` on a bucket that has ever had
        versioning enabled (its status is then ``Enabled`` or ``Suspended``,
        never empty again), and so does this.
        """
        with self.lock:
            if forbid_overwrite and not bucket.versioning:
                current = bucket.versions.get(key)
                if current and not current[-1].is_delete_marker:
                    raise CosError(
                        409,
                        "FileAlreadyExists",
                        f"The object {key} already exists and overwriting is forbidden.",
                    )
            vid = version_id if preallocated else self._next_version_id(bucket)
            version = ObjectVersion(
                key=key,
                version_id=vid,
                content=content,
                etag=etag,
                last_modified=time.time(),
                attrs=attrs,
                parts_count=parts_count,
            )
            self._install(bucket, version)
            return version

    def delete(self, bucket: Bucket, key: str, version_id: str | None) -> ObjectVersion | None:
        """Delete a key or one version; returns the delete marker made, if any."""
        with self.lock:
            versions = bucket.versions.get(key)
            if version_id is not None:
                if versions:
                    versions[:] = [
                        v
                        for v in versions
                        if not (
                            v.version_id == version_id
                            or (v.version_id is None and version_id == NULL_VERSION)
                        )
                    ]
                    if not versions:
                        self._drop_key(bucket, key)
                return None
            if not bucket.versioning:
                if versions is not None:
                    self._drop_key(bucket, key)
                return None
            marker = ObjectVersion(
                key=key,
                version_id=self._next_version_id(bucket),
                content=None,
                etag="",
                last_modified=time.time(),
                attrs=ObjectAttrs(),
            )
            self._install(bucket, marker)
            return marker

    def set_tags(self, version: ObjectVersion, tags: tuple[tuple[str, str], ...]) -> None:
        """PUT/DELETE Object tagging: tags change in place, nothing else does (no new version)."""
        with self.lock:
            version.attrs = version.attrs.with_(tags=tags)

    def _drop_key(self, bucket: Bucket, key: str) -> None:
        bucket.versions.pop(key, None)
        i = bisect.bisect_left(bucket.keys, key)
        if i < len(bucket.keys) and bucket.keys[i] == key:
            del bucket.keys[i]

    def live_keys_after(
        self, bucket: Bucket, marker: str, prefix: str, chunk: int = 1024
    ) -> Iterator[tuple[str, ObjectVersion]]:
        """Keys > marker starting with prefix whose current version is not a delete marker.

        Lazily, ``chunk`` keys per hold of the lock: a page of 1,000 reads about
        1,000 keys, not every key after the marker (a 100,000-key listing was
        quadratic). Between chunks the position is found again from the last
        key, so a key written meanwhile is seen or not, but no key is seen twice.
        """
        after = marker
        while True:
            with self.lock:
                keys = bucket.keys
                start = bisect.bisect_right(keys, after) if after else 0
                if prefix:
                    start = max(start, bisect.bisect_left(keys, prefix))
                out = []
                ended = False
                for key in keys[start : start + chunk]:
                    if not key.startswith(prefix):
                        ended = True
                        break
                    current = bucket.versions[key][-1]
                    if not current.is_delete_marker:
                        out.append((key, current))
                    after = key
                ended = ended or start + chunk >= len(keys)
            yield from out
            if ended:
                return

    # -- multipart ---------------------------------------------------------

    def initiate(
        self, bucket: Bucket, key: str, attrs: ObjectAttrs, initiator: str, *, forbid_overwrite: bool = False
    ) -> Upload:
        with self.lock:
            upload = Upload(
                upload_id=new_upload_id(),
                bucket=bucket.name,
                key=key,
                initiated=time.time(),
                attrs=attrs,
                initiator=initiator,
                forbid_overwrite=forbid_overwrite,
            )
            bucket.uploads[upload.upload_id] = upload
            return upload

    def upload(self, bucket: Bucket, key: str, upload_id: str) -> Upload:
        with self.lock:
            found = bucket.uploads.get(upload_id)
        if found is None or found.key != key:
            raise CosError(
                404,
                "NoSuchUpload",
                "The specified upload does not exist. The upload ID may be invalid, "
                "or the upload may have been aborted or completed.",
            )
        return found

    def put_part(self, bucket: Bucket, key: str, upload_id: str, part: Part) -> None:
        with self.lock:
            upload = self.upload(bucket, key, upload_id)
            upload.parts[part.number] = part

    def finish_upload(self, bucket: Bucket, key: str, upload_id: str) -> Upload:
        """Remove and return a live upload (Complete or Abort)."""
        with self.lock:
            upload = self.upload(bucket, key, upload_id)
            del bucket.uploads[upload_id]
            return upload

    def live_uploads(self, bucket: str | None = None) -> int:
        with self.lock:
            if bucket is not None:
                found = self.buckets.get(bucket)
                return len(found.uploads) if found else 0
            return sum(len(b.uploads) for b in self.buckets.values())
