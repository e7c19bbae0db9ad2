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

from cos_provider.client import tagging, validation, xmlcodec
from cos_provider.client.attributes import (
    CONTENT_HEADERS,
    GRANTS,
    CopyConditions,
    ObjectAttributes,
    ObjectRef,
    _no_sse_c_with_sse,
    forbid_overwrite_header,
)
from cos_provider.client.bucket_operations import (
    DeleteEntry,
    delete_entries,
    delete_objects,
    head_bucket,
    list_buckets,
    list_multipart_uploads,
    list_object_versions,
    list_objects,
    put_bucket,
)
from cos_provider.client.encryption import NO_KEYS, CustomerKey, CustomerKeys
from cos_provider.client.endpoints import Endpoint, copy_source, full_bucket_name
from cos_provider.client.errors import CosValidationError
from cos_provider.client.models import (
    CompleteResult,
    CopyResult,
    InitiateResult,
    ObjectInfo,
    PartCopyResult,
    PartsPage,
    PartUploadResult,
    PutResult,
)
from cos_provider.client.protocol import Body, Call, CosRequest, RawResponse
from cos_provider.client.timestamps import parse_timestamp

__all__ = [
    "CONTENT_HEADERS",
    "GRANTS",
    "CopyConditions",
    "DeleteEntry",
    "ObjectAttributes",
    "ObjectRef",
    "delete_entries",
    "delete_objects",
    "forbid_overwrite_header",
    "head_bucket",
    "list_buckets",
    "list_multipart_uploads",
    "list_object_versions",
    "list_objects",
    "put_bucket",
]


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
        restore=h.get("x-cos-restore"),
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


def get_object_stream(
    ref: ObjectRef,
    first: int | None = None,
    last: int | None = None,
    *,
    if_match: str | None = None,
    customer_key: CustomerKey | None = None,
) -> Call[ObjectInfo]:
    """GET Object for a streamed body (``Range: bytes=first-last``, pinned with ``If-Match``).

    The parser reads the headers only; ``x-cos-hash-crc64ecma`` is the whole
    object's CRC64 even on a ranged GET (206), so ``size`` is the object's
    size from ``Content-Range`` when there is one.
    """
    _object_ref(ref, "object")
    params = {"versionId": ref.version_id} if ref.version_id else {}
    headers = {}
    if first is not None:
        headers["Range"] = f"bytes={first}-{'' if last is None else last}"
    if if_match:
        headers["If-Match"] = if_match
    if customer_key is not None:  # an SSE-C object: every GET repeats its key
        headers.update(customer_key.headers())

    def parse(r: RawResponse) -> ObjectInfo:
        info = _object_info(ref.bucket, ref.key, r)
        total = r.headers.get("Content-Range", "").rpartition("/")[2]
        return dataclasses.replace(info, size=int(total)) if total.isdigit() else info

    return Call(
        CosRequest(
            "GetObject", "GET", ref.bucket, ref.key, params=params, headers=headers, region=ref.region
        ),
        parse,
    )


def put_object(
    ref: ObjectRef,
    body: Body,
    attributes: ObjectAttributes | None = None,
    *,
    forbid_overwrite: bool = False,
    customer_key: CustomerKey | None = None,
) -> Call[PutResult]:
    """PUT Object; ``body`` is bytes or a :class:`FileRange` streamed from disk; ``customer_key``: SSE-C."""
    _object_ref(ref, "object")
    attributes = attributes or ObjectAttributes()
    keys = CustomerKeys(dest=customer_key)
    _no_sse_c_with_sse(attributes, keys)
    headers = attributes.headers()
    headers.update(forbid_overwrite_header(forbid_overwrite))
    headers.update(keys.dest_headers())
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
            "InitiateMultipartUpload",
            "POST",
            dest.bucket,
            dest.key,
            params={"uploads": ""},
            headers=headers,
            region=dest.region,
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


def upload_part(
    dest: ObjectRef,
    upload_id: str,
    part_number: int,
    body: Body,
    *,
    customer_key: CustomerKey | None = None,
) -> Call[PartUploadResult]:
    """Upload Part: ``body`` (bytes or a file range); the answer's ETag is the part's MD5.

    ``customer_key``: the upload's SSE-C key, which COS wants on every part.
    """
    _object_ref(dest, "dest")
    validation.validate_part_number(part_number)
    if not upload_id:
        raise CosValidationError("upload_id", "must not be empty")
    params = {"partNumber": str(part_number), "uploadId": upload_id}
    headers = customer_key.headers() if customer_key is not None else {}
    return Call(
        CosRequest(
            "UploadPart",
            "PUT",
            dest.bucket,
            dest.key,
            params=params,
            headers=headers,
            body=body,
            region=dest.region,
        ),
        lambda r: PartUploadResult(
            part_number, r.headers.get("ETag", ""), _crc(r.headers), r.request_id or None
        ),
    )
