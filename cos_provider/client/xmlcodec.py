"""The XML bodies of the copy family, on lxml.

Parsing is namespace-agnostic (COS answers without one, but the SDK accepts
several) and tolerates the whitespace COS sends before the root element to
keep a long Complete or Copy alive. The parser never resolves entities nor
touches the network: bodies are untrusted input.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import unquote

from lxml import etree

# A module reference: errors -> xmlcodec -> timestamps -> errors is a cycle, and
# module references let it load whichever of the three is imported first.
from cos_provider.client import timestamps
from cos_provider.client.etag import quote_etag
from cos_provider.client.models import (
    BucketInfo,
    CompleteResult,
    CopyResult,
    DeletedObject,
    DeleteError,
    DeleteObjectsPage,
    ErrorBody,
    InitiateResult,
    ListedObject,
    ListedVersion,
    ObjectsPage,
    Part,
    PartCopyResult,
    PartsPage,
    Upload,
    UploadsPage,
    VersionsPage,
)

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=True)


class XmlDecodeError(ValueError):
    """A body that should be XML of a known shape is not."""


def _root(body: bytes) -> etree._Element:
    text = body.lstrip()
    if not text:
        raise XmlDecodeError("empty XML body")
    try:
        return etree.fromstring(text, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise XmlDecodeError(f"malformed XML: {exc}") from exc


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _children(el: etree._Element, name: str) -> Iterable[etree._Element]:
    return (c for c in el if _local(c.tag) == name)


def _text(el: etree._Element, name: str, default: str = "") -> str:
    for child in _children(el, name):
        return (child.text or "").strip()
    return default


def _opt(el: etree._Element, name: str) -> str | None:
    for child in _children(el, name):
        return (child.text or "").strip()
    return None


def _int(value: str | None) -> int | None:
    return int(value) if value not in (None, "") else None


def _bool(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def _expect(root: etree._Element, name: str) -> None:
    if _local(root.tag) != name:
        raise XmlDecodeError(f"expected <{name}>, got <{_local(root.tag)}>")


def parse_error(body: bytes) -> ErrorBody | None:
    """The ``<Error>`` a body holds, or ``None`` if it holds something else."""
    try:
        root = _root(body)
    except XmlDecodeError:
        return None
    if _local(root.tag) != "Error":
        return None
    return ErrorBody(
        code=_text(root, "Code"),
        message=_text(root, "Message"),
        resource=_text(root, "Resource"),
        request_id=_text(root, "RequestId"),
        trace_id=_text(root, "TraceId"),
    )


def parse_copy_object_result(body: bytes) -> CopyResult:
    root = _root(body)
    _expect(root, "CopyObjectResult")
    return CopyResult(
        etag=_text(root, "ETag"),
        last_modified=timestamps.parse_timestamp(_opt(root, "LastModified")),
        crc64=_int(_opt(root, "CRC64")),
        version_id=_opt(root, "VersionId"),
        source_version_id=None,
        request_id=None,
    )


def parse_copy_part_result(body: bytes, part_number: int) -> PartCopyResult:
    root = _root(body)
    _expect(root, "CopyPartResult")
    return PartCopyResult(
        part_number=part_number,
        etag=_text(root, "ETag"),
        last_modified=timestamps.parse_timestamp(_opt(root, "LastModified")),
        crc64=_int(_opt(root, "CRC64")),
    )


def parse_initiate_result(body: bytes) -> InitiateResult:
    root = _root(body)
    _expect(root, "InitiateMultipartUploadResult")
    upload_id = _text(root, "UploadId")
    if not upload_id:
        raise XmlDecodeError("InitiateMultipartUploadResult has no UploadId")
    return InitiateResult(bucket=_text(root, "Bucket"), key=_text(root, "Key"), upload_id=upload_id)


def parse_complete_result(body: bytes) -> CompleteResult:
    root = _root(body)
    _expect(root, "CompleteMultipartUploadResult")
    return CompleteResult(
        location=_text(root, "Location"),
        bucket=_text(root, "Bucket"),
        key=_text(root, "Key"),
        etag=_text(root, "ETag"),
    )


def _decoder(root: etree._Element) -> type[str] | None:
    encoding = _opt(root, "EncodingType") or _opt(root, "Encoding-Type")
    return None if (encoding or "").lower() != "url" else str


def _maybe_unquote(value: str | None, url_encoded: bool) -> str | None:
    if value is None:
        return None
    return unquote(value) if url_encoded else value


def parse_list_parts(body: bytes) -> PartsPage:
    root = _root(body)
    _expect(root, "ListPartsResult")
    enc = _decoder(root) is not None
    parts = [
        Part(
            part_number=int(_text(p, "PartNumber")),
            etag=_text(p, "ETag"),
            size=int(_text(p, "Size", "0")),
            last_modified=timestamps.parse_timestamp(_opt(p, "LastModified")),
        )
        for p in _children(root, "Part")
    ]
    truncated = _bool(_opt(root, "IsTruncated"))
    return PartsPage(
        bucket=_text(root, "Bucket"),
        key=_maybe_unquote(_text(root, "Key"), enc) or "",
        upload_id=_text(root, "UploadId"),
        parts=parts,
        is_truncated=truncated,
        next_part_number_marker=_int(_opt(root, "NextPartNumberMarker")) if truncated else None,
    )


def parse_list_multipart_uploads(body: bytes) -> UploadsPage:
    root = _root(body)
    _expect(root, "ListMultipartUploadsResult")
    enc = _decoder(root) is not None
    uploads = [
        Upload(
            key=_maybe_unquote(_text(u, "Key"), enc) or "",
            upload_id=_text(u, "UploadId"),
            initiated=timestamps.parse_timestamp(_opt(u, "Initiated")),
            storage_class=_opt(u, "StorageClass"),
        )
        for u in _children(root, "Upload")
    ]
    prefixes = [_maybe_unquote(_text(cp, "Prefix"), enc) or "" for cp in _children(root, "CommonPrefixes")]
    truncated = _bool(_opt(root, "IsTruncated"))
    return UploadsPage(
        bucket=_text(root, "Bucket"),
        uploads=uploads,
        common_prefixes=prefixes,
        is_truncated=truncated,
        next_key_marker=_maybe_unquote(_opt(root, "NextKeyMarker"), enc) if truncated else None,
        next_upload_id_marker=_opt(root, "NextUploadIdMarker") if truncated else None,
    )


def parse_list_bucket(body: bytes) -> ObjectsPage:
    root = _root(body)
    _expect(root, "ListBucketResult")
    enc = _decoder(root) is not None
    objects = [
        ListedObject(
            key=_maybe_unquote(_text(c, "Key"), enc) or "",
            size=int(_text(c, "Size", "0")),
            etag=_text(c, "ETag"),
            last_modified=timestamps.parse_timestamp(_opt(c, "LastModified")),
            storage_class=_opt(c, "StorageClass"),
        )
        for c in _children(root, "Contents")
    ]
    prefixes = [_maybe_unquote(_text(cp, "Prefix"), enc) or "" for cp in _children(root, "CommonPrefixes")]
    truncated = _bool(_opt(root, "IsTruncated"))
    next_marker = _maybe_unquote(_opt(root, "NextMarker"), enc)
    if truncated and not next_marker:
        # COS omits NextMarker when no delimiter is given; the last key is the marker.
        next_marker = objects[-1].key if objects else (prefixes[-1] if prefixes else None)
    return ObjectsPage(
        bucket=_text(root, "Name"),
        prefix=_maybe_unquote(_text(root, "Prefix"), enc) or "",
        objects=objects,
        common_prefixes=prefixes,
        is_truncated=truncated,
        next_marker=next_marker if truncated else None,
    )


def parse_list_buckets(body: bytes) -> list[BucketInfo]:
    root = _root(body)
    _expect(root, "ListAllMyBucketsResult")
    buckets: list[BucketInfo] = []
    for container in _children(root, "Buckets"):
        buckets.extend(
            BucketInfo(
                name=_text(b, "Name"),
                region=_text(b, "Location"),
                created=timestamps.parse_timestamp(_opt(b, "CreationDate")),
            )
            for b in _children(container, "Bucket")
        )
    return buckets


def build_complete_multipart_upload(parts: Iterable[tuple[int, str]]) -> bytes:
    """Body of Complete: ``(part_number, etag)`` pairs, ascending."""
    root = etree.Element("CompleteMultipartUpload")
    for number, etag in parts:
        part = etree.SubElement(root, "Part")
        etree.SubElement(part, "PartNumber").text = str(number)
        etree.SubElement(part, "ETag").text = quote_etag(etag)
    return bytes(etree.tostring(root))


def parse_tagging(body: bytes) -> list[tuple[str, str]]:
    """GET Object tagging: ``Tagging/TagSet/Tag/{Key,Value}`` as ``(key, value)`` pairs, in order."""
    root = _root(body)
    _expect(root, "Tagging")

    def raw(tag: etree._Element, name: str) -> str:  # not stripped: a tag may end in a space
        return next((c.text or "" for c in _children(tag, name)), "")

    return [
        (raw(tag, "Key"), raw(tag, "Value"))
        for tag_set in _children(root, "TagSet")
        for tag in _children(tag_set, "Tag")
    ]


def build_tagging(tags: Iterable[tuple[str, str]]) -> bytes:
    """The ``<Tagging>`` body of PUT Object tagging (and of the emulator's GET answer)."""
    root = etree.Element("Tagging")
    tag_set = etree.SubElement(root, "TagSet")
    for key, value in tags:
        tag = etree.SubElement(tag_set, "Tag")
        etree.SubElement(tag, "Key").text = key
        etree.SubElement(tag, "Value").text = value
    return bytes(etree.tostring(root, encoding="UTF-8", xml_declaration=True))


def build_delete_objects(entries: Iterable[tuple[str, str | None]], quiet: bool) -> bytes:
    """The ``<Delete>`` body of Delete Multiple Objects: keys as UTF-8 text, XML-escaped."""
    root = etree.Element("Delete")
    etree.SubElement(root, "Quiet").text = "true" if quiet else "false"
    for key, version_id in entries:
        obj = etree.SubElement(root, "Object")
        etree.SubElement(obj, "Key").text = key
        if version_id is not None:
            etree.SubElement(obj, "VersionId").text = version_id
    return bytes(etree.tostring(root, encoding="UTF-8", xml_declaration=True))


def parse_delete_result(body: bytes) -> DeleteObjectsPage:
    root = _root(body)
    _expect(root, "DeleteResult")

    def raw(el: etree._Element, name: str) -> str | None:  # keys are not stripped
        return next((c.text or "" for c in _children(el, name)), None)

    deleted = [
        DeletedObject(
            key=raw(d, "Key") or "",
            version_id=_opt(d, "VersionId"),
            delete_marker=_bool(_opt(d, "DeleteMarker")),
            delete_marker_version_id=_opt(d, "DeleteMarkerVersionId"),
        )
        for d in _children(root, "Deleted")
    ]
    errors = [
        DeleteError(
            key=raw(e, "Key") or "",
            code=_text(e, "Code") or "Unknown",
            message=_text(e, "Message"),
            version_id=_opt(e, "VersionId"),
        )
        for e in _children(root, "Error")
    ]
    return DeleteObjectsPage(deleted=deleted, errors=errors)


def parse_list_versions(body: bytes) -> VersionsPage:
    """GET Bucket Object versions: entries in document order (newest first per key)."""
    root = _root(body)
    _expect(root, "ListVersionsResult")
    enc = _decoder(root) is not None
    versions = [
        ListedVersion(
            key=_maybe_unquote(_text(c, "Key"), enc) or "",
            version_id=_text(c, "VersionId") or "null",
            is_latest=_bool(_opt(c, "IsLatest")),
            delete_marker=_local(c.tag) == "DeleteMarker",
            size=int(_text(c, "Size", "0")),
            etag=_text(c, "ETag"),
        )
        for c in root
        if _local(c.tag) in ("Version", "DeleteMarker")
    ]
    truncated = _bool(_opt(root, "IsTruncated"))
    return VersionsPage(
        versions=versions,
        is_truncated=truncated,
        next_key_marker=_maybe_unquote(_opt(root, "NextKeyMarker"), enc) if truncated else None,
        next_version_id_marker=_opt(root, "NextVersionIdMarker") if truncated else None,
    )
