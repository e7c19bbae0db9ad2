"""Every COS operation the provider uses, as a pure request builder plus the
parser of its answer (:class:`~cos_provider.client.protocol.Call`).

Nothing here does I/O, so the sync client and the async client (and the
tests) share one definition of each operation, including its validation:
a bad parameter raises :class:`CosValidationError` when the call is *built*,
before anything is sent.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from cos_provider.client import limits, tagging, validation, xmlcodec
from cos_provider.client.encryption import NO_KEYS, CustomerKey, CustomerKeys, kms_context
from cos_provider.client.endpoints import Endpoint, copy_source, full_bucket_name
from cos_provider.client.errors import CosValidationError
from cos_provider.client.etag import quote_etag
from cos_provider.client.models import (
    BucketInfo,
    CompleteResult,
    CopyResult,
    InitiateResult,
    ObjectInfo,
    ObjectsPage,
    PartCopyResult,
    PartsPage,
    PartUploadResult,
    PutResult,
    UploadsPage,
)
from cos_provider.client.protocol import Body, Call, CosRequest, RawResponse
from cos_provider.client.timestamps import http_date, parse_timestamp

CONTENT_HEADERS = ("content_type", "cache_control", "content_disposition", "content_encoding", "expires")
_CONTENT_HEADER_NAMES = {
    "content_type": "Content-Type",
    "cache_control": "Cache-Control",
    "content_disposition": "Content-Disposition",
    "content_encoding": "Content-Encoding",
    "expires": "Expires",
}
GRANTS = ("grant_read", "grant_write", "grant_read_acp", "grant_write_acp", "grant_full_control")
"""``grant_write`` is in the PUT Object - Copy reference (seed); newer COS docs list only the other four."""


@dataclass(frozen=True)
class ObjectRef:
    """An object (or one version of it) in a bucket, possibly in another region."""

    bucket: str
    key: str
    """As COS stores it: one leading ``/`` is dropped on construction, as the SDK drops it
    (:func:`~cos_provider.client.validation.normalise_key`)."""
    version_id: str | None = None
    region: str | None = None

    def __post_init__(self) -> None:
        key = validation.normalise_key(self.key)
        if key is not self.key:
            object.__setattr__(self, "key", key)

    def uri(self) -> str:
        return f"cos://{self.bucket}/{self.key}"


def _etag_header(etag: str, field: str) -> str:
    """An ETag as a header: surrounding white space dropped (ETags never hold any), quoted."""
    text = validation.validate_header_value(etag.strip() if isinstance(etag, str) else etag, field)
    return quote_etag(text)


@dataclass(frozen=True)
class CopyConditions:
    """The four ``x-cos-copy-source-If-*`` preconditions."""

    if_match: str | None = None
    if_none_match: str | None = None
    if_modified_since: datetime | str | None = None
    if_unmodified_since: datetime | str | None = None

    def validate(self) -> None:
        validation.validate_conditions(
            self.if_match, self.if_none_match, self.if_modified_since, self.if_unmodified_since
        )

    def headers(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.if_match:
            out["x-cos-copy-source-If-Match"] = _etag_header(self.if_match, "copy_source_if_match")
        if self.if_none_match:
            out["x-cos-copy-source-If-None-Match"] = _etag_header(
                self.if_none_match, "copy_source_if_none_match"
            )
        if self.if_modified_since:
            out["x-cos-copy-source-If-Modified-Since"] = http_date(self.if_modified_since)
        if self.if_unmodified_since:
            out["x-cos-copy-source-If-Unmodified-Since"] = http_date(self.if_unmodified_since)
        return out

    def pinned_to(self, etag: str) -> CopyConditions:
        """These conditions plus ``If-Match: etag``, the pin of a multipart copy.

        A caller's own If-Match must agree with the pin; If-None-Match and
        If-Modified-Since were checked once against the pinned version and
        cannot be sent alongside If-Match, so they are dropped from parts.
        """
        return dataclasses.replace(self, if_match=etag, if_none_match=None, if_modified_since=None)


@dataclass(frozen=True)
class ObjectAttributes:
    """What a write sets on the new object: content headers, metadata, class, ACL, SSE, tags.

    ``metadata`` holds user metadata names without the ``x-cos-meta-`` prefix;
    ``tagging`` is a dict or a ``k=v&k2=v2`` string (see :mod:`tagging`).
    :meth:`headers` checks every field (type and COS rule) and renders it,
    so a builder refuses a bad attribute before anything is sent.
    """

    content_type: str | None = None
    cache_control: str | None = None
    content_disposition: str | None = None
    content_encoding: str | None = None
    expires: str | None = None
    metadata: Mapping[str, str] | None = None
    storage_class: str | None = None
    acl: str | None = None
    grant_read: str | None = None
    grant_read_acp: str | None = None
    grant_write_acp: str | None = None
    grant_full_control: str | None = None
    server_side_encryption: str | None = None
    tagging: str | Mapping[str, str] | None = None
    grant_write: str | None = None
    kms_key_id: str | None = None
    kms_context: str | Mapping[str, str] | None = None

    def headers(self, *, include_content: bool = True, include_tagging: bool = True) -> dict[str, str]:
        out: dict[str, str] = {}
        if include_content:
            for attr in CONTENT_HEADERS:
                value = validation.validate_string(getattr(self, attr), attr)
                if value is not None:
                    out[_CONTENT_HEADER_NAMES[attr]] = validation.validate_header_value(value, attr)
            if self.metadata is not None and not isinstance(self.metadata, Mapping):
                raise CosValidationError(
                    "metadata", f"must be a dict of name -> value, got {type(self.metadata).__name__}"
                )
            for name, value in validation.normalise_metadata(self.metadata).items():
                out[f"x-cos-meta-{name}"] = value
        storage_class = validation.validate_storage_class(self.storage_class)
        if storage_class:
            out["x-cos-storage-class"] = storage_class
        acl = validation.validate_acl(self.acl)
        if acl:
            out["x-cos-acl"] = acl
        for grant in GRANTS:
            value = validation.validate_grant(getattr(self, grant), grant)
            if value:
                out["x-cos-" + grant.replace("_", "-")] = validation.validate_header_value(value, grant)
        out.update(self.encryption_headers())
        tags = tagging.header(self.tagging)
        if tags is not None and include_tagging:
            out["x-cos-tagging"] = tags
        return out

    def encryption_headers(self) -> dict[str, str]:
        """SSE-COS / SSE-KMS headers; the KMS key id and context only make sense with ``cos/kms``."""
        out: dict[str, str] = {}
        sse = validation.validate_sse(self.server_side_encryption)
        key_id = validation.validate_string(self.kms_key_id, "kms_key_id")
        context = kms_context(self.kms_context)
        for name, given in (("kms_key_id", key_id), ("kms_context", context)):
            if given and sse != limits.SSE_KMS:
                raise CosValidationError(
                    name,
                    f"only applies with server_side_encryption={limits.SSE_KMS!r} (SSE-KMS), got {sse!r}",
                )
        if sse:
            out["x-cos-server-side-encryption"] = sse
        if key_id:
            out["x-cos-server-side-encryption-cos-kms-key-id"] = key_id
        if context:
            out["x-cos-server-side-encryption-context"] = context
        return out

    @property
    def has_tags(self) -> bool:
        return tagging.parse(self.tagging) is not None


def forbid_overwrite_header(forbid: bool) -> dict[str, str]:
    """``x-cos-forbid-overwrite: true`` (PUT copy, Initiate, Complete), spelt as the SDK sends it."""
    return {"x-cos-forbid-overwrite": "true"} if forbid else {}


def _no_sse_c_with_sse(attributes: ObjectAttributes, keys: CustomerKeys) -> None:
    if keys.dest is not None and attributes.server_side_encryption:
        raise CosValidationError(
            "sse_customer_key",
            "cannot be combined with server_side_encryption: an object has one kind of server-side encryption",
        )


def _crc(headers: Mapping[str, str]) -> int | None:
    value = headers.get("x-cos-hash-crc64ecma")
    return int(value) if value and value.isdigit() else None


def _version(headers: Mapping[str, str], name: str = "x-cos-version-id") -> str | None:
    return headers.get(name) or None


def _object_ref(ref: ObjectRef, field: str) -> ObjectRef:
    try:
        full_bucket_name(ref.bucket)
    except CosValidationError as exc:
        raise CosValidationError(f"{field}.bucket", exc.rule) from None
    validation.validate_object_key(ref.key, f"{field}.key")
    return ref


# ---------------------------------------------------------------- buckets


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


def _object_info(bucket: str, key: str, r: RawResponse) -> ObjectInfo:
    h = r.headers
    metadata = {
        name[len("x-cos-meta-") :].lower(): value
        for name, value in h.items()
        if name.lower().startswith("x-cos-meta-")
    }
    return ObjectInfo(
        bucket=bucket,
        key=key,
        size=int(h.get("Content-Length", "0")),
        etag=h.get("ETag", ""),
        last_modified=parse_timestamp(h.get("Last-Modified")),
        version_id=_version(h),
        crc64=_crc(h),
        content_type=h.get("Content-Type"),
        cache_control=h.get("Cache-Control"),
        content_disposition=h.get("Content-Disposition"),
        content_encoding=h.get("Content-Encoding"),
        expires=h.get("Expires"),
        storage_class=h.get("x-cos-storage-class") or "STANDARD",
        server_side_encryption=h.get("x-cos-server-side-encryption"),
        metadata=metadata,
        request_id=r.request_id or None,
        kms_key_id=h.get("x-cos-server-side-encryption-cos-kms-key-id"),
        sse_customer_algorithm=h.get("x-cos-server-side-encryption-customer-algorithm"),
        sse_customer_key_md5=h.get("x-cos-server-side-encryption-customer-key-MD5"),
        tag_count=int(count) if (count := h.get("x-cos-tagging-count", "")).isdigit() else 0,
    )


def head_object(ref: ObjectRef, customer_key: CustomerKey | None = None) -> Call[ObjectInfo]:
    """HEAD Object; an SSE-C object needs its key (COS refuses to describe it otherwise)."""
    _object_ref(ref, "object")
    params = {"versionId": ref.version_id} if ref.version_id else {}
    headers = customer_key.headers() if customer_key else {}
    return Call(
        CosRequest(
            "HeadObject", "HEAD", ref.bucket, ref.key, params=params, headers=headers, region=ref.region
        ),
        lambda r: _object_info(ref.bucket, ref.key, r),
    )


def get_object_tagging(ref: ObjectRef) -> Call[list[tuple[str, str]]]:
    """GET Object tagging (``GET /<key>?tagging[&versionId=]``): the object's tags, in order.

    A multipart copy needs it: Initiate starts an untagged object, so keeping
    the source's tags (tagging directive ``Copy``) means reading them first.
    """
    _object_ref(ref, "object")
    params = {"tagging": ""}
    if ref.version_id:
        params["versionId"] = ref.version_id
    return Call(
        CosRequest("GetObjectTagging", "GET", ref.bucket, ref.key, params=params, region=ref.region),
        lambda r: xmlcodec.parse_tagging(r.body),
    )


def get_object(ref: ObjectRef, first: int | None = None, last: int | None = None) -> Call[bytes]:
    _object_ref(ref, "object")
    params = {"versionId": ref.version_id} if ref.version_id else {}
    headers = {}
    if first is not None:
        headers["Range"] = f"bytes={first}-{'' if last is None else last}"
    return Call(
        CosRequest(
            "GetObject", "GET", ref.bucket, ref.key, params=params, headers=headers, region=ref.region
        ),
        lambda r: r.body,
    )


def put_object(
    ref: ObjectRef,
    body: Body,
    attributes: ObjectAttributes | None = None,
    *,
    forbid_overwrite: bool = False,
) -> Call[PutResult]:
    """PUT Object; ``body`` is bytes or a :class:`FileRange` streamed from disk."""
    _object_ref(ref, "object")
    headers = (attributes or ObjectAttributes()).headers()
    headers.update(forbid_overwrite_header(forbid_overwrite))
    return Call(
        CosRequest("PutObject", "PUT", ref.bucket, ref.key, headers=headers, body=body, region=ref.region),
        lambda r: PutResult(
            etag=r.headers.get("ETag", ""),
            crc64=_crc(r.headers),
            version_id=_version(r.headers),
            request_id=r.request_id or None,
        ),
    )


def delete_object(ref: ObjectRef) -> Call[str | None]:
    _object_ref(ref, "object")
    params = {"versionId": ref.version_id} if ref.version_id else {}
    return Call(
        CosRequest("DeleteObject", "DELETE", ref.bucket, ref.key, params=params, region=ref.region),
        lambda r: _version(r.headers),
    )


# ---------------------------------------------------------------- copy


def copy_source_header(source: ObjectRef, endpoint: Endpoint) -> str:
    host = endpoint.host(source.bucket, source.region or endpoint.region)
    return copy_source(host, source.key, source.version_id)


def copy_object(
    source: ObjectRef,
    dest: ObjectRef,
    endpoint: Endpoint,
    *,
    metadata_directive: str = "Copy",
    attributes: ObjectAttributes | None = None,
    conditions: CopyConditions | None = None,
    tagging_directive: str | None = None,
    forbid_overwrite: bool = False,
    keys: CustomerKeys = NO_KEYS,
) -> Call[CopyResult]:
    """PUT Object - Copy. With ``Copy``, content headers and metadata are not sent
    (COS says they "cannot be specified"); with ``Replaced`` they define the object.

    Tags follow ``x-cos-tagging-directive`` (see :func:`tagging.directive`):
    the request's tags are sent, with ``Replaced``, whenever there are any,
    because without the directive COS silently keeps the source's instead.
    ``forbid_overwrite`` makes the copy fail with 409 ``FileAlreadyExists``
    if the destination exists (never-versioned buckets only). ``keys``: SSE-C
    keys of the source and of the destination."""
    _object_ref(source, "source")
    _object_ref(dest, "dest")
    directive = validation.validate_directive(metadata_directive)
    conditions = conditions or CopyConditions()
    conditions.validate()
    attributes = attributes or ObjectAttributes()
    same = (
        source.bucket == dest.bucket
        and source.key == dest.key
        and (source.region or endpoint.region) == (dest.region or endpoint.region)
        and not source.version_id
    )
    if same and directive != "Replaced":
        raise CosValidationError(
            "metadata_directive", "must be 'Replaced' when source and destination are the same object"
        )
    if directive == "Copy" and any(
        getattr(attributes, a) is not None for a in (*CONTENT_HEADERS, "metadata")
    ):
        raise CosValidationError(
            "metadata_directive",
            "is 'Copy', which keeps the source's content headers and metadata; use 'Replaced' to set new ones",
        )
    tag_directive = tagging.directive(tagging_directive, attributes.has_tags)
    _no_sse_c_with_sse(attributes, keys)
    headers = {
        "x-cos-copy-source": copy_source_header(source, endpoint),
        "x-cos-metadata-directive": directive,
    }
    headers.update(conditions.headers())
    headers.update(
        attributes.headers(
            include_content=directive == "Replaced", include_tagging=tag_directive == "Replaced"
        )
    )
    if tag_directive is not None:
        headers["x-cos-tagging-directive"] = tag_directive
    headers.update(forbid_overwrite_header(forbid_overwrite))
    headers.update(keys.copy_headers())

    def parse(r: RawResponse) -> CopyResult:
        body = xmlcodec.parse_copy_object_result(r.body)
        return CopyResult(
            etag=body.etag,
            last_modified=body.last_modified,
            crc64=body.crc64 if body.crc64 is not None else _crc(r.headers),
            version_id=body.version_id or _version(r.headers),
            source_version_id=_version(r.headers, "x-cos-copy-source-version-id"),
            request_id=r.request_id or None,
        )

    return Call(
        CosRequest("CopyObject", "PUT", dest.bucket, dest.key, headers=headers, region=dest.region), parse
    )


# ---------------------------------------------------------------- multipart


def initiate_multipart_upload(
    dest: ObjectRef,
    attributes: ObjectAttributes | None = None,
    *,
    forbid_overwrite: bool = False,
    customer_key: CustomerKey | None = None,
) -> Call[InitiateResult]:
    """Initiate: the attributes (tags included) of the object Complete will make.

    ``forbid_overwrite`` is sent here as the SDK's ``create_multipart_upload``
    does, and again on Complete, where COS decides. ``customer_key``: the
    destination's SSE-C key, which every part must then repeat.
    """
    _object_ref(dest, "dest")
    attributes = attributes or ObjectAttributes()
    keys = CustomerKeys(dest=customer_key)
    _no_sse_c_with_sse(attributes, keys)
    headers = attributes.headers()
    headers.update(forbid_overwrite_header(forbid_overwrite))
    headers.update(keys.dest_headers())
    return Call(
        CosRequest(
            "InitiateMultipartUpload", "POST", dest.bucket, dest.key, params={"uploads": ""}, headers=headers
        ),
        lambda r: xmlcodec.parse_initiate_result(r.body),
    )


def upload_part_copy(
    source: ObjectRef,
    dest: ObjectRef,
    endpoint: Endpoint,
    upload_id: str,
    part_number: int,
    first: int | None = None,
    last: int | None = None,
    conditions: CopyConditions | None = None,
    keys: CustomerKeys = NO_KEYS,
) -> Call[PartCopyResult]:
    """Upload Part - Copy; an SSE-C source needs its key on every part, and so does an SSE-C upload."""
    _object_ref(source, "source")
    _object_ref(dest, "dest")
    validation.validate_part_number(part_number)
    conditions = conditions or CopyConditions()
    conditions.validate()
    if not upload_id:
        raise CosValidationError("upload_id", "must not be empty")
    headers = {"x-cos-copy-source": copy_source_header(source, endpoint)}
    if first is not None or last is not None:
        if first is None or last is None:
            raise CosValidationError("copy_source_range", "needs both first and last byte")
        headers["x-cos-copy-source-range"] = validation.validate_range(first, last)
    headers.update(conditions.headers())
    headers.update(keys.copy_headers())

    def parse(r: RawResponse) -> PartCopyResult:
        body = xmlcodec.parse_copy_part_result(r.body, part_number)
        crc = body.crc64 if body.crc64 is not None else _crc(r.headers)
        return PartCopyResult(part_number, body.etag, body.last_modified, crc, r.request_id or None)

    params = {"partNumber": str(part_number), "uploadId": upload_id}
    return Call(
        CosRequest(
            "UploadPartCopy", "PUT", dest.bucket, dest.key, params=params, headers=headers, region=dest.region
        ),
        parse,
    )


def complete_multipart_upload(
    dest: ObjectRef,
    upload_id: str,
    parts: Iterable[tuple[int, str]],
    read_timeout: float | None = None,
    *,
    forbid_overwrite: bool = False,
) -> Call[CompleteResult]:
    """Complete; with ``forbid_overwrite`` COS refuses (409 ``FileAlreadyExists``) if the key exists."""
    _object_ref(dest, "dest")
    ordered = list(parts)
    numbers = [n for n, _ in ordered]
    if not ordered:
        raise CosValidationError("parts", "must list at least one part")
    if numbers != sorted(set(numbers)):
        raise CosValidationError("parts", "part numbers must be strictly ascending")
    body = xmlcodec.build_complete_multipart_upload(ordered)

    def parse(r: RawResponse) -> CompleteResult:
        result = xmlcodec.parse_complete_result(r.body)
        return CompleteResult(
            location=result.location,
            bucket=result.bucket,
            key=result.key,
            etag=result.etag,
            crc64=_crc(r.headers),
            version_id=_version(r.headers),
            request_id=r.request_id or None,
        )

    return Call(
        CosRequest(
            "CompleteMultipartUpload",
            "POST",
            dest.bucket,
            dest.key,
            params={"uploadId": upload_id},
            headers={"Content-Type": "application/xml", **forbid_overwrite_header(forbid_overwrite)},
            body=body,
            region=dest.region,
            read_timeout=read_timeout,
        ),
        parse,
    )


def abort_multipart_upload(dest: ObjectRef, upload_id: str) -> Call[str]:
    _object_ref(dest, "dest")
    return Call(
        CosRequest(
            "AbortMultipartUpload",
            "DELETE",
            dest.bucket,
            dest.key,
            params={"uploadId": upload_id},
            region=dest.region,
        ),
        lambda r: r.request_id,
    )


def list_parts(
    dest: ObjectRef, upload_id: str, part_number_marker: int = 0, max_parts: int = 1000
) -> Call[PartsPage]:
    _object_ref(dest, "dest")
    validation.validate_page_size(max_parts, "max_parts")
    params = {"uploadId": upload_id, "encoding-type": "url", "max-parts": str(max_parts)}
    if part_number_marker:
        params["part-number-marker"] = str(part_number_marker)
    return Call(
        CosRequest("ListParts", "GET", dest.bucket, dest.key, params=params, region=dest.region),
        lambda r: xmlcodec.parse_list_parts(r.body),
    )


def upload_part(dest: ObjectRef, upload_id: str, part_number: int, body: Body) -> Call[PartUploadResult]:
    """Upload Part: ``body`` (bytes or a file range); the answer's ETag is the part's MD5."""
    _object_ref(dest, "dest")
    validation.validate_part_number(part_number)
    if not upload_id:
        raise CosValidationError("upload_id", "must not be empty")
    params = {"partNumber": str(part_number), "uploadId": upload_id}
    return Call(
        CosRequest("UploadPart", "PUT", dest.bucket, dest.key, params=params, body=body, region=dest.region),
        lambda r: PartUploadResult(
            part_number, r.headers.get("ETag", ""), _crc(r.headers), r.request_id or None
        ),
    )
