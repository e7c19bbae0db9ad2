"""Initiate, Upload Part, Upload Part - Copy, Complete, Abort, List Parts and
List Multipart Uploads.

Decisions:

* Initiate's headers (content headers, ``x-cos-meta-*``, storage class, ACL,
  grants, SSE, SSE-C, tagging) become the final object's, validated like a
  PUT's. ``x-cos-forbid-overwrite: true`` on Initiate (where the SDK sends
  it) or on Complete makes Complete refuse an existing key (409
  ``FileAlreadyExists``, in the same locked step that installs the object;
  ignored on a bucket that has ever had versioning). Initiate itself does
  not check: the key may appear or vanish before Complete.
* An SSE-C upload (Initiate carried a customer key) needs that key on every
  Upload Part and Upload Part - Copy (missing: 400 ``InvalidRequest``,
  another: 403 ``AccessDenied``); a customer key on a part of an upload that
  is not SSE-C is 400 ``InvalidRequest``. An SSE-C source needs its key in
  the copy-source headers of every Upload Part - Copy.
* A part (uploaded or copied) is 1 MB-5 GB except the last; above 5 GB it is
  rejected at once (400 ``EntityTooLarge``), below 1 MB at Complete (400
  ``EntityTooSmall``), since only then is it known which part is last.
* Complete requires strictly ascending part numbers (else 400
  ``InvalidPartOrder``) with no gaps (else 400 ``InvalidPart``; COS documents
  "not continuous" as InvalidPart), every part uploaded with the given ETag
  (quotes ignored; else 400 ``InvalidPart``). An empty or malformed body is 400
  ``MalformedXML``.
* The object's ETag is ``md5(concatenated binary part MD5s)-N``, its CRC64 the
  :func:`crc64_combine` fold of the part CRCs (no byte is read), its content
  the concatenation of the parts' extents.
* A copied part's ETag is the MD5 of its bytes when they are real, else a
  deterministic stand-in (see :mod:`.content`).
* ``max-parts`` / ``max-uploads`` above 1000 are clamped to 1000 (as S3);
  non-numeric or negative values are 400 ``InvalidArgument``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from urllib.parse import quote

from lxml import etree

from cos_provider.client import limits
from cos_provider.client.crc64 import crc64_combine
from cos_provider.client.encryption import DEST_PREFIX
from cos_provider.client.etag import unquote_etag
from cos_provider.emulator import validate
from cos_provider.emulator.content import Content, Extent, FlippedBlob, flip_first_bit
from cos_provider.emulator.copy import fail_mid_copy, resolve_source, source_version_headers
from cos_provider.emulator.core import Core
from cos_provider.emulator.errors import CosError, invalid_argument, invalid_request
from cos_provider.emulator.faults import Fault
from cos_provider.emulator.objects import bucket_of, check_content_md5, require_length, version_headers
from cos_provider.emulator.store import Bucket, Part, Upload
from cos_provider.emulator.wire import KeepAlive, Request, Response
from cos_provider.emulator.xmlout import Node, document, iso8601, owner, quoted

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


def url_encoder(req: Request) -> tuple[str | None, Callable[[str], str]]:
    """``encoding-type=url`` support: keys are percent-encoded with ``%20``, never ``+``."""
    encoding = req.param("encoding-type")
    if encoding is None:
        return None, _identity
    if encoding != "url":
        raise invalid_argument(f"encoding-type must be url, got {encoding!r}")
    return "url", lambda v: quote(v, safe="-_.~")


def _identity(value: str) -> str:
    return value


def int_param(req: Request, name: str, default: int, maximum: int | None = None) -> int:
    raw = req.param(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise invalid_argument(f"{name} must be a non-negative integer, got {raw!r}")
    value = int(raw)
    return min(value, maximum) if maximum is not None else value


def initiate(core: Core, req: Request, fault: Fault | None) -> Response:
    bucket = bucket_of(core, req)
    validate.check_key(req.key)
    attrs = validate.write_attrs(req)
    upload = core.store.initiate(
        bucket, req.key, attrs, core.owner_uin, forbid_overwrite=validate.forbid_overwrite(req)
    )
    body = document(
        "InitiateMultipartUploadResult",
        [("Bucket", bucket.name), ("Key", req.key), ("UploadId", upload.upload_id)],
    )
    return Response.xml(body, headers=attrs.sse_headers())


def check_part_key(req: Request, upload: Upload) -> None:
    """A part of an SSE-C upload repeats the upload's key; a part of another upload carries none."""
    given = validate.customer_key(req, DEST_PREFIX)
    if upload.attrs.sse_c_md5 is None and given is not None:
        raise invalid_request(
            "This upload was not initiated with SSE-C; its parts cannot carry a customer key."
        )
    validate.check_key_for(upload.attrs.sse_c_md5, given, "This multipart upload")


def _upload_id(req: Request) -> str:
    return req.param("uploadId") or ""


def upload_part(core: Core, req: Request, fault: Fault | None) -> Response:
    bucket = bucket_of(core, req)
    number = validate.part_number(req)
    upload = core.store.upload(bucket, req.key, _upload_id(req))
    check_part_key(req, upload)
    require_length(req)
    body = flip_first_bit(req.body) if fault is not None and fault.kind == "corrupt" else req.body
    if len(body) > limits.MAX_PART_SIZE:
        raise CosError(400, "EntityTooLarge", f"a part may hold at most {limits.MAX_PART_SIZE} bytes")
    md5 = hashlib.md5(body)
    check_content_md5(req, md5.digest())
    content = Content.from_bytes(body, md5.hexdigest())
    part = Part(number, md5.hexdigest(), content.extents, content.crc, time.time())
    # Paced after the hashing and the spill, which real COS does while the body streams in.
    core.model.receive(len(req.body), req.arrived)
    core.store.put_part(bucket, req.key, upload.upload_id, part)
    headers = {"ETag": quoted(part.etag), "x-cos-hash-crc64ecma": str(part.crc)}
    headers.update(upload.attrs.sse_headers())
    return Response(headers=headers)


def upload_part_copy(core: Core, req: Request, fault: Fault | None) -> Response:
    bucket = bucket_of(core, req)
    number = validate.part_number(req)
    upload = core.store.upload(bucket, req.key, _upload_id(req))
    check_part_key(req, upload)
    source = resolve_source(core, req)
    src = source.version
    assert src.content is not None
    start, end = validate.copy_range(req.header("x-cos-copy-source-range"), src.size)
    length = end - start
    if length > limits.MAX_PART_SIZE:
        raise CosError(
            400,
            "EntityTooLarge",
            f"a part may hold at most {limits.MAX_PART_SIZE} bytes; the range has {length}",
        )
    core.model.transfer(length)
    fail_mid_copy(fault)
    extents = src.content.slice(start, end)
    if fault is not None and fault.kind == "corrupt" and extents:
        first = extents[0]
        extents[0] = Extent(FlippedBlob(first), 0, first.length)
    part_content = Content(extents)
    part = Part(
        number, part_content.range_etag(0, length), part_content.extents, part_content.crc, time.time()
    )
    core.store.put_part(bucket, req.key, upload.upload_id, part)
    core.counters.copied(length)
    body = document(
        "CopyPartResult",
        [
            ("ETag", quoted(part.etag)),
            ("LastModified", iso8601(part.last_modified)),
            ("CRC64", str(part.crc)),
        ],
    )
    headers = {"x-cos-hash-crc64ecma": str(part.crc)}
    headers.update(source_version_headers(source))
    headers.update(upload.attrs.sse_headers())
    return Response.xml(body, headers=headers)


def _parse_complete(body: bytes) -> list[tuple[int, str]]:
    malformed = CosError(400, "MalformedXML", "The XML you provided was not well-formed or did not validate.")
    if not body.strip():
        raise malformed
    try:
        root = etree.fromstring(body.strip(), _PARSER)
    except etree.XMLSyntaxError as exc:
        raise malformed from exc
    if etree.QName(root).localname != "CompleteMultipartUpload":
        raise malformed
    parts: list[tuple[int, str]] = []
    for el in root:
        if not isinstance(el.tag, str) or etree.QName(el).localname != "Part":
            continue
        fields = {etree.QName(c).localname: (c.text or "").strip() for c in el if isinstance(c.tag, str)}
        number, etag = fields.get("PartNumber", ""), fields.get("ETag")
        if not number.isdigit() or etag is None:
            raise malformed
        parts.append((int(number), unquote_etag(etag)))
    if not parts:
        raise malformed
    return parts


class _Plan:
    __slots__ = ("content", "etag", "parts")

    def __init__(self, content: Content, etag: str, parts: int) -> None:
        self.content = content
        self.etag = etag
        self.parts = parts


def _plan(upload: Upload, listed: list[tuple[int, str]]) -> _Plan:
    chosen: list[Part] = []
    previous = 0
    for number, etag in listed:
        if number <= previous:
            raise CosError(400, "InvalidPartOrder", "The list of parts was not in ascending order.")
        if previous and number != previous + 1:
            raise CosError(400, "InvalidPart", f"Part numbers are not continuous: {previous} then {number}.")
        part = upload.parts.get(number)
        if part is None:
            raise CosError(400, "InvalidPart", f"Part {number} has not been uploaded.")
        if part.etag != etag:
            raise CosError(400, "InvalidPart", f"The ETag of part {number} does not match.")
        chosen.append(part)
        previous = number
    for part in chosen[:-1]:
        if part.size < limits.MIN_PART_SIZE:
            raise CosError(
                400,
                "EntityTooSmall",
                f"Part {part.number} is {part.size} bytes; every part but the last must be at least "
                f"{limits.MIN_PART_SIZE}.",
            )
    crc = 0
    extents: list[Extent] = []
    md5s = bytearray()
    for part in chosen:
        crc = crc64_combine(crc, part.crc, part.size)
        extents.extend(part.extents)
        md5s += bytes.fromhex(part.etag)
    etag = f"{hashlib.md5(md5s).hexdigest()}-{len(chosen)}"
    return _Plan(Content(extents, crc=crc), etag, len(chosen))


def _complete_body(bucket: Bucket, key: str, etag: str, *, declaration: bool) -> bytes:
    location = f"{bucket.name}.cos.{bucket.region}.myqcloud.com/{key}"
    return document(
        "CompleteMultipartUploadResult",
        [("Location", location), ("Bucket", bucket.name), ("Key", key), ("ETag", quoted(etag))],
        declaration=declaration,
    )


def complete(core: Core, req: Request, fault: Fault | None) -> Response:
    bucket = bucket_of(core, req)
    upload = core.store.upload(bucket, req.key, _upload_id(req))
    listed = _parse_complete(req.body)
    forbid = upload.forbid_overwrite or validate.forbid_overwrite(req)
    keepalive = fault is not None and fault.kind == "keepalive_whitespace"
    if not keepalive:
        plan = _plan(upload, listed)
        fail_mid_copy(fault)
        with core.store.lock:  # upload check, no-clobber check and install: one step
            core.store.upload(bucket, req.key, upload.upload_id)  # not aborted meanwhile
            version = core.store.put(
                bucket,
                req.key,
                plan.content,
                plan.etag,
                upload.attrs,
                parts_count=plan.parts,
                forbid_overwrite=forbid,
            )
            core.store.finish_upload(bucket, req.key, upload.upload_id)
        headers = {"x-cos-hash-crc64ecma": str(plan.content.crc)}
        headers.update(version_headers(bucket, version))
        return Response.xml(_complete_body(bucket, req.key, plan.etag, declaration=True), headers=headers)

    assert fault is not None
    headers = {"Content-Type": "application/xml"}
    plan_or_error: _Plan | CosError
    try:
        plan_or_error = _plan(upload, listed)
    except CosError as exc:
        plan_or_error = exc
    if fault.code:
        plan_or_error = CosError(200, fault.code, "We encountered an internal error while merging the parts.")
    version_id: str | None = None
    if isinstance(plan_or_error, _Plan):
        headers["x-cos-hash-crc64ecma"] = str(plan_or_error.content.crc)
        version_id = core.store.allocate_version_id(bucket)
        if version_id is not None:
            headers["x-cos-version-id"] = version_id

    def finish() -> bytes:
        if isinstance(plan_or_error, CosError):
            raise plan_or_error
        with core.store.lock:
            core.store.upload(bucket, req.key, upload.upload_id)
            core.store.put(
                bucket,
                req.key,
                plan_or_error.content,
                plan_or_error.etag,
                upload.attrs,
                parts_count=plan_or_error.parts,
                version_id=version_id,
                preallocated=True,
                forbid_overwrite=forbid,
            )
            core.store.finish_upload(bucket, req.key, upload.upload_id)
        return _complete_body(bucket, req.key, plan_or_error.etag, declaration=False)

    return Response(
        headers=headers, keepalive=KeepAlive(duration=fault.delay, interval=fault.interval, finish=finish)
    )


def abort(core: Core, req: Request, fault: Fault | None) -> Response:
    bucket = bucket_of(core, req)
    core.store.finish_upload(bucket, req.key, _upload_id(req))
    return Response(status=204)


def list_parts(core: Core, req: Request, fault: Fault | None) -> Response:
    bucket = bucket_of(core, req)
    upload = core.store.upload(bucket, req.key, _upload_id(req))
    encoding, enc = url_encoder(req)
    max_parts = int_param(req, "max-parts", limits.MAX_LIST_PAGE, limits.MAX_LIST_PAGE)
    marker = int_param(req, "part-number-marker", 0)
    with core.store.lock:
        parts = sorted((p for n, p in upload.parts.items() if n > marker), key=lambda p: p.number)
    page = parts[:max_parts]
    truncated = len(parts) > len(page)
    children: list[Node] = [
        ("Bucket", bucket.name),
        ("Encoding-Type", encoding),
        ("Key", enc(req.key)),
        ("UploadId", upload.upload_id),
        ("Initiator", owner(upload.initiator)),
        ("Owner", owner(upload.initiator)),
        ("PartNumberMarker", str(marker)),
    ]
    for p in page:
        children.append(
            (
                "Part",
                [
                    ("PartNumber", str(p.number)),
                    ("LastModified", iso8601(p.last_modified)),
                    ("ETag", quoted(p.etag)),
                    ("Size", str(p.size)),
                ],
            )
        )
    children += [
        ("NextPartNumberMarker", str(page[-1].number if page else marker)),
        ("StorageClass", upload.attrs.storage_class),
        ("MaxParts", str(max_parts)),
        ("IsTruncated", "true" if truncated else "false"),
    ]
    return Response.xml(document("ListPartsResult", children))


def list_uploads(core: Core, req: Request, fault: Fault | None) -> Response:
    bucket = bucket_of(core, req)
    encoding, enc = url_encoder(req)
    prefix = req.param("prefix") or ""
    delimiter = req.param("delimiter") or ""
    key_marker = req.param("key-marker") or ""
    id_marker = (req.param("upload-id-marker") or "") if key_marker else ""
    max_uploads = int_param(req, "max-uploads", limits.MAX_LIST_PAGE, limits.MAX_LIST_PAGE)
    with core.store.lock:
        uploads = sorted(bucket.uploads.values(), key=lambda u: (u.key, u.upload_id))
    entries: list[tuple[str, Upload | None]] = []  # (key or common prefix, upload)
    seen_prefixes: set[str] = set()
    truncated = False
    last: tuple[str, str] = ("", "")
    for u in uploads:
        if not u.key.startswith(prefix):
            continue
        if key_marker and (u.key < key_marker or (u.key == key_marker and u.upload_id <= id_marker)):
            continue
        if delimiter:
            rest = u.key[len(prefix) :]
            cut = rest.find(delimiter)
            if cut >= 0:
                common = prefix + rest[: cut + len(delimiter)]
                if common in seen_prefixes:
                    continue
                if common <= key_marker:
                    continue
                if len(entries) >= max_uploads:
                    truncated = True
                    break
                seen_prefixes.add(common)
                entries.append((common, None))
                last = (common, "")
                continue
        if len(entries) >= max_uploads:
            truncated = True
            break
        entries.append((u.key, u))
        last = (u.key, u.upload_id)
    children: list[Node] = [
        ("Bucket", bucket.name),
        ("Encoding-Type", encoding),
        ("KeyMarker", enc(key_marker)),
        ("UploadIdMarker", id_marker),
        ("NextKeyMarker", enc(last[0]) if truncated else None),
        ("NextUploadIdMarker", last[1] if truncated else None),
        ("MaxUploads", str(max_uploads)),
        ("IsTruncated", "true" if truncated else "false"),
        ("Prefix", enc(prefix)),
        ("Delimiter", delimiter or None),
    ]
    for name, entry in entries:
        if entry is None:
            children.append(("CommonPrefixes", [("Prefix", enc(name))]))
            continue
        u = entry
        children.append(
            (
                "Upload",
                [
                    ("Key", enc(u.key)),
                    ("UploadId", u.upload_id),
                    ("StorageClass", u.attrs.storage_class),
                    ("Initiator", owner(u.initiator)),
                    ("Owner", owner(u.initiator)),
                    ("Initiated", iso8601(u.initiated)),
                ],
            )
        )
    return Response.xml(document("ListMultipartUploadsResult", children))
