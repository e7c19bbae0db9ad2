"""``CosClient``: the synchronous COS API used by hooks, scripts and the copy engine.

Each method builds a :class:`~cos_provider.client.protocol.Call` from
:mod:`operations` (validation happens there, before any I/O) and hands it to
the transport. Buckets may be given as ``name-appid`` or, with ``app_id`` set
on the client, as the bare name.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from types import TracebackType
from typing import TypeVar

from cos_provider.client import operations as ops
from cos_provider.client.credentials import Credentials
from cos_provider.client.encryption import NO_KEYS, CustomerKey, CustomerKeys, require_https
from cos_provider.client.endpoints import Endpoint, full_bucket_name, validate_app_id
from cos_provider.client.models import (
    BucketInfo,
    CompleteResult,
    CopyResult,
    DeleteObjectsPage,
    InitiateResult,
    ListedObject,
    ListedVersion,
    ObjectInfo,
    ObjectsPage,
    Part,
    PartCopyResult,
    PartsPage,
    PutResult,
    Upload,
    UploadsPage,
    VersionsPage,
)
from cos_provider.client.operations import CopyConditions, ObjectAttributes, ObjectRef
from cos_provider.client.protocol import Call
from cos_provider.client.transport import SyncTransport, TransportConfig

T = TypeVar("T")


class BucketNaming:
    """How bare bucket names become ``name-appid``: one rule for the sync and async clients.

    See :func:`~cos_provider.client.endpoints.full_bucket_name`: the APPID is
    appended to bare names only, so buckets of other accounts keep theirs.
    """

    app_id: str | None

    def bucket(self, bucket: str) -> str:
        """The full ``name-appid`` form of ``bucket``."""
        return full_bucket_name(bucket, self.app_id)

    def ref(
        self, bucket: str, key: str, version_id: str | None = None, region: str | None = None
    ) -> ObjectRef:
        return ObjectRef(self.bucket(bucket), key, version_id, region)


class CosClient(BucketNaming):
    """Thread-safe: one instance can serve a whole copy's worker pool."""

    def __init__(
        self,
        credentials: Credentials,
        endpoint: Endpoint,
        config: TransportConfig | None = None,
        *,
        app_id: str | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.app_id = validate_app_id(app_id)
        self.transport = SyncTransport(credentials, endpoint, config)

    def __repr__(self) -> str:
        return f"CosClient(endpoint={self.endpoint!r}, secret_id={self.transport.credentials.secret_id!r})"

    def __enter__(self) -> CosClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self.transport.close()

    def execute(self, call: Call[T]) -> T:
        return self.transport.execute(call)

    # -- buckets

    def list_buckets(self, region: str | None = None) -> list[BucketInfo]:
        return self.execute(ops.list_buckets(region))

    def head_bucket(self, bucket: str) -> str:
        """Raises if the bucket is missing or not ours; returns the request id."""
        return self.execute(ops.head_bucket(self.bucket(bucket)))

    def create_bucket(self, bucket: str, region: str | None = None, acl: str | None = None) -> str:
        return self.execute(ops.put_bucket(self.bucket(bucket), region, acl))

    def list_objects(
        self, bucket: str, prefix: str = "", delimiter: str = "", marker: str = "", max_keys: int = 1000
    ) -> ObjectsPage:
        return self.execute(ops.list_objects(self.bucket(bucket), prefix, delimiter, marker, max_keys))

    def iter_objects(self, bucket: str, prefix: str = "", page_size: int = 1000) -> Iterator[ListedObject]:
        marker: str | None = ""
        while marker is not None:
            page = self.list_objects(bucket, prefix=prefix, marker=marker, max_keys=page_size)
            yield from page.objects
            marker = page.next_page_marker

    def iter_pages(
        self, bucket: str, prefix: str = "", delimiter: str = "", page_size: int = 1000
    ) -> Iterator[ObjectsPage]:
        """Every page of a listing (with ``delimiter``, pages carry common prefixes too)."""
        marker: str | None = ""
        while marker is not None:
            page = self.list_objects(
                bucket, prefix=prefix, delimiter=delimiter, marker=marker, max_keys=page_size
            )
            yield page
            marker = page.next_page_marker

    def list_object_versions(
        self,
        bucket: str,
        prefix: str = "",
        key_marker: str = "",
        version_id_marker: str = "",
        max_keys: int = 1000,
    ) -> VersionsPage:
        return self.execute(
            ops.list_object_versions(self.bucket(bucket), prefix, key_marker, version_id_marker, max_keys)
        )

    def iter_versions(self, bucket: str, prefix: str = "", page_size: int = 1000) -> Iterator[ListedVersion]:
        """Every version and delete marker under ``prefix``, page by page."""
        key_marker, version_marker = "", ""
        while True:
            page = self.list_object_versions(bucket, prefix, key_marker, version_marker, page_size)
            yield from page.versions
            if not page.is_truncated or not page.next_key_marker:
                return
            key_marker, version_marker = page.next_key_marker, page.next_version_id_marker or ""

    def list_multipart_uploads(
        self,
        bucket: str,
        prefix: str = "",
        key_marker: str = "",
        upload_id_marker: str = "",
        max_uploads: int = 1000,
    ) -> UploadsPage:
        return self.execute(
            ops.list_multipart_uploads(self.bucket(bucket), prefix, key_marker, upload_id_marker, max_uploads)
        )

    def iter_multipart_uploads(
        self, bucket: str, prefix: str = "", page_size: int = 1000
    ) -> Iterator[Upload]:
        key_marker = upload_id_marker = ""
        while True:
            page = self.list_multipart_uploads(bucket, prefix, key_marker, upload_id_marker, page_size)
            yield from page.uploads
            if not page.is_truncated or not page.next_key_marker:
                return
            key_marker, upload_id_marker = page.next_key_marker, page.next_upload_id_marker or ""

    # -- objects

    def head_object(
        self,
        bucket: str,
        key: str,
        version_id: str | None = None,
        region: str | None = None,
        *,
        customer_key: CustomerKey | None = None,
    ) -> ObjectInfo:
        """HEAD; ``customer_key`` for an SSE-C object (sent over HTTPS only)."""
        if customer_key is not None:
            require_https(self.endpoint, "sse_customer_key")
        return self.execute(ops.head_object(self.ref(bucket, key, version_id, region), customer_key))

    def get_object_tagging(self, ref: ObjectRef) -> list[tuple[str, str]]:
        """The tags of ``ref`` (one version, if it names one), in order."""
        return self.execute(ops.get_object_tagging(ref))

    def get_object(
        self,
        bucket: str,
        key: str,
        version_id: str | None = None,
        first: int | None = None,
        last: int | None = None,
    ) -> bytes:
        return self.execute(ops.get_object(self.ref(bucket, key, version_id), first, last))

    def put_object(
        self,
        bucket: str,
        key: str,
        body: bytes,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        attributes: ObjectAttributes | None = None,
    ) -> PutResult:
        attrs = attributes or ObjectAttributes(content_type=content_type, metadata=metadata)
        return self.execute(ops.put_object(self.ref(bucket, key), body, attrs))

    def delete_object(self, bucket: str, key: str, version_id: str | None = None) -> str | None:
        return self.execute(ops.delete_object(self.ref(bucket, key, version_id)))

    # -- copy

    def delete_objects(
        self, bucket: str, entries: Iterable[ops.DeleteEntry], quiet: bool = True
    ) -> DeleteObjectsPage:
        """One Delete Multiple Objects request (at most 1,000 keys); see :mod:`.delete` for more."""
        return self.execute(ops.delete_objects(self.bucket(bucket), entries, quiet))

    def copy_object(
        self,
        source: ObjectRef,
        dest: ObjectRef,
        *,
        metadata_directive: str = "Copy",
        attributes: ObjectAttributes | None = None,
        conditions: CopyConditions | None = None,
        tagging_directive: str | None = None,
        forbid_overwrite: bool = False,
        keys: CustomerKeys = NO_KEYS,
    ) -> CopyResult:
        """PUT Object - Copy; a 200 whose body is ``<Error>`` raises."""
        if keys:
            require_https(self.endpoint, keys.field())
        return self.execute(
            ops.copy_object(
                source,
                dest,
                self.endpoint,
                metadata_directive=metadata_directive,
                attributes=attributes,
                conditions=conditions,
                tagging_directive=tagging_directive,
                forbid_overwrite=forbid_overwrite,
                keys=keys,
            )
        )

    def initiate_multipart_upload(
        self,
        dest: ObjectRef,
        attributes: ObjectAttributes | None = None,
        *,
        forbid_overwrite: bool = False,
        customer_key: CustomerKey | None = None,
    ) -> InitiateResult:
        if customer_key is not None:
            require_https(self.endpoint, "sse_customer_key")
        return self.execute(
            ops.initiate_multipart_upload(
                dest, attributes, forbid_overwrite=forbid_overwrite, customer_key=customer_key
            )
        )

    def upload_part_copy(
        self,
        source: ObjectRef,
        dest: ObjectRef,
        upload_id: str,
        part_number: int,
        first: int | None = None,
        last: int | None = None,
        conditions: CopyConditions | None = None,
        keys: CustomerKeys = NO_KEYS,
    ) -> PartCopyResult:
        if keys:
            require_https(self.endpoint, keys.field())
        return self.execute(
            ops.upload_part_copy(
                source, dest, self.endpoint, upload_id, part_number, first, last, conditions, keys
            )
        )

    def complete_multipart_upload(
        self,
        dest: ObjectRef,
        upload_id: str,
        parts: Iterable[tuple[int, str]],
        read_timeout: float | None = None,
        *,
        forbid_overwrite: bool = False,
    ) -> CompleteResult:
        return self.execute(
            ops.complete_multipart_upload(
                dest, upload_id, parts, read_timeout, forbid_overwrite=forbid_overwrite
            )
        )

    def abort_multipart_upload(self, dest: ObjectRef, upload_id: str) -> str:
        return self.execute(ops.abort_multipart_upload(dest, upload_id))

    def list_parts(
        self, dest: ObjectRef, upload_id: str, part_number_marker: int = 0, max_parts: int = 1000
    ) -> PartsPage:
        return self.execute(ops.list_parts(dest, upload_id, part_number_marker, max_parts))

    def iter_parts(self, dest: ObjectRef, upload_id: str) -> Iterator[Part]:
        marker = 0
        while True:
            page = self.list_parts(dest, upload_id, marker)
            yield from page.parts
            if not page.is_truncated or not page.next_part_number_marker:
                return
            marker = page.next_part_number_marker


__all__ = [
    "CopyConditions",
    "CosClient",
    "Credentials",
    "Endpoint",
    "ObjectAttributes",
    "ObjectRef",
    "TransportConfig",
]
