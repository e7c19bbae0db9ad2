"""PUT, GET, HEAD and DELETE Object.

Decisions: GET of a current delete marker is 404 ``NoSuchKey`` and of a named
delete marker 405 ``MethodNotAllowed`` (both with ``x-cos-delete-marker``);
an unknown ``versionId`` is 404 ``NoSuchVersion``. GET of an ``ARCHIVE`` or
``DEEP_ARCHIVE`` object is 403 ``InvalidObjectState`` unless a restored copy
exists (see :mod:`.restore`); HEAD works and carries the restore headers. ``x-cos-storage-class`` is sent only when not
``STANDARD``, as COS does (the SDK reads its absence as standard). A
multi-range ``Range`` is ignored (the whole object is sent), as RFC 9110
allows.

Encryption and tags: an SSE-C object is read (GET, HEAD) only with its key
(see :mod:`.validate`); answers carry the object's encryption headers and,
when it has tags, ``x-cos-tagging-count``. PUT Object honours
``x-cos-forbid-overwrite`` (409 ``FileAlreadyExists``, never on a bucket
that has had versioning). GET/PUT/DELETE Object tagging (``?tagging``, with
an optional ``versionId``) read and replace one version's tags in place;
they need no SSE-C key. PUT takes ``<Tagging><TagSet><Tag>`` (malformed: 400
``MalformedXML``; rules broken: 400 ``InvalidArgument``), DELETE answers 204.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterator

from cos_provider.client import limits, tagging, xmlcodec
from cos_provider.emulator import validate
from cos_provider.emulator.content import Content, flip_first_bit
from cos_provider.emulator.core import Core
from cos_provider.emulator.errors import CosError, invalid_argument
from cos_provider.emulator.faults import Fault
from cos_provider.emulator.store import Bucket, ObjectVersion
from cos_provider.emulator.wire import Request, Response, http_date
from cos_provider.emulator.xmlout import quoted

ARCHIVED = frozenset({"ARCHIVE", "DEEP_ARCHIVE"})


def bucket_of(core: Core, req: Request) -> Bucket:
    assert req.bucket is not None
    bucket = core.store.bucket(req.bucket)
    if req.region is not None and bucket.region != req.region:
        raise CosError(
            404, "NoSuchBucket", f"The specified bucket {req.bucket} does not exist in region {req.region}."
        )
    return bucket


def version_headers(bucket: Bucket, version: ObjectVersion) -> dict[str, str]:
    if not bucket.versioning and version.version_id is None:
        return {}
    return {"x-cos-version-id": version.version_id or "null"}


def object_headers(bucket: Bucket, version: ObjectVersion) -> dict[str, str]:
    a = version.attrs
    headers = {
        "Content-Type": a.content_type,
        "ETag": quoted(version.etag),
        "Last-Modified": http_date(version.last_modified),
        "Accept-Ranges": "bytes",
    }
    crc = version.crc64
    if crc is not None:
        headers["x-cos-hash-crc64ecma"] = str(crc)
    for name, value in (
        ("Cache-Control", a.cache_control),
        ("Content-Disposition", a.content_disposition),
        ("Content-Encoding", a.content_encoding),
        ("Content-Language", a.content_language),
        ("Expires", a.expires),
    ):
        if value is not None:
            headers[name] = value
    headers.update(a.sse_headers())
    if a.tags:
        headers["x-cos-tagging-count"] = str(len(a.tags))
    if a.storage_class != "STANDARD":
        headers["x-cos-storage-class"] = a.storage_class
    for name, value in a.metadata.items():
        headers[f"x-cos-meta-{name}"] = value
    headers.update(version_headers(bucket, version))
    return headers


def find_version(core: Core, bucket: Bucket, req: Request) -> ObjectVersion:
    version_id = req.param("versionId")
    version = core.store.version(bucket, req.key, version_id)
    if version is None:
        if version_id is not None:
            raise CosError(404, "NoSuchVersion", "The specified version does not exist.")
        raise CosError(404, "NoSuchKey", "The specified key does not exist.")
    if version.is_delete_marker:
        marker = {"x-cos-delete-marker": "true", "x-cos-version-id": version.version_id or "null"}
        if version_id is not None:
            raise CosError(
                405, "MethodNotAllowed", "The specified version is a delete marker.", headers=marker
            )
        raise CosError(404, "NoSuchKey", "The specified key does not exist.", headers=marker)
    return version


def _read(core: Core, req: Request, *, with_body: bool) -> Response:
    bucket = bucket_of(core, req)
    version = find_version(core, bucket, req)
    validate.check_key_for(version.attrs.sse_c_md5, validate.customer_key(req), "The object")
    archived = version.attrs.storage_class in ARCHIVED
    if with_body and archived and not core.restores.readable(bucket.name, version):
        raise CosError(403, "InvalidObjectState", "The object is archived; restore it before reading.")
    headers = object_headers(bucket, version)
    if archived:
        headers.update(core.restores.headers(bucket.name, version))
    status = validate.read_conditions(req, version)
    if status == 304:
        return Response(
            status=304, headers={k: v for k, v in headers.items() if k in ("ETag", "Last-Modified")}
        )
    assert version.content is not None
    size = version.size
    rng = validate.get_range(req.header("range"), size)
    start, end = rng if rng else (0, size)
    headers["Content-Length"] = str(end - start)
    resp = Response(status=206 if rng else 200, headers=headers)
    if rng:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    if with_body:
        resp.stream = core.model.send(version.content.iter_bytes(start, end), end - start)
        resp.stream_length = end - start
    return resp


def get_object(core: Core, req: Request, fault: Fault | None) -> Response:
    resp = _read(core, req, with_body=True)
    if fault is not None and fault.kind == "corrupt" and resp.stream is not None:
        resp.stream = _flip_first_bit(resp.stream)
    return resp


def _flip_first_bit(stream: Iterator[bytes]) -> Iterator[bytes]:
    """The ``corrupt`` fault of GetObject: the same bytes but the first bit."""
    flipped = False
    for chunk in stream:
        if not flipped and chunk:
            chunk = bytes([chunk[0] ^ 0x01]) + bytes(chunk[1:])
            flipped = True
        yield chunk


def head_object(core: Core, req: Request, fault: Fault | None) -> Response:
    return _read(core, req, with_body=False)


def require_length(req: Request) -> None:
    """A body-carrying request must say how long it is (or be chunked)."""
    chunked = "chunked" in (req.header("transfer-encoding") or "").lower()
    if req.header("content-length") is None and not chunked:
        raise CosError(411, "MissingContentLength", "You must provide the Content-Length HTTP header.")


def put_object(core: Core, req: Request, fault: Fault | None) -> Response:
    bucket = bucket_of(core, req)
    validate.check_key(req.key)
    require_length(req)
    body = flip_first_bit(req.body) if fault is not None and fault.kind == "corrupt" else req.body
    if len(body) > limits.MAX_PUT_SIZE:
        raise CosError(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.")
    attrs = validate.write_attrs(req)
    md5 = hashlib.md5(body)
    check_content_md5(req, md5.digest())
    content = Content.from_bytes(body, md5.hexdigest())
    # Paced after the hashing and the spill, which real COS does while the body streams in.
    core.model.receive(len(req.body), req.arrived)
    version = core.store.put(
        bucket, req.key, content, md5.hexdigest(), attrs, forbid_overwrite=validate.forbid_overwrite(req)
    )
    headers = {"ETag": quoted(version.etag), "x-cos-hash-crc64ecma": str(content.crc)}
    headers.update(version_headers(bucket, version))
    headers.update(attrs.sse_headers())
    return Response(headers=headers)


def check_content_md5(req: Request, digest: bytes) -> None:
    sent = req.header("content-md5")
    if sent is None:
        return
    try:
        expected = base64.b64decode(sent.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CosError(400, "InvalidDigest", "The Content-MD5 you specified is not valid.") from exc
    if len(expected) != 16:
        raise CosError(400, "InvalidDigest", "The Content-MD5 you specified is not valid.")
    if expected != digest:
        raise CosError(400, "BadDigest", "The Content-MD5 you specified did not match what we received.")


def delete_object(core: Core, req: Request, fault: Fault | None) -> Response:
    bucket = bucket_of(core, req)
    version_id = req.param("versionId")
    marker = core.store.delete(bucket, req.key, version_id)
    headers: dict[str, str] = {}
    if marker is not None:
        headers = {"x-cos-delete-marker": "true", "x-cos-version-id": marker.version_id or "null"}
    elif version_id is not None:
        headers = {"x-cos-version-id": version_id}
    return Response(status=204, headers=headers)


def object_tagging(core: Core, req: Request, fault: Fault | None) -> Response:
    """GET, PUT and DELETE ``/<key>?tagging``: the tags of one version, changed in place."""
    bucket = bucket_of(core, req)
    version = find_version(core, bucket, req)
    headers = {"x-cos-version-id": version.version_id} if version.version_id else {}
    if req.method == "GET":
        return Response.xml(xmlcodec.build_tagging(version.attrs.tags), headers=headers)
    if req.method == "DELETE":
        core.store.set_tags(version, ())
        return Response(status=204, headers=headers)
    try:
        tags = tuple(xmlcodec.parse_tagging(req.body))
    except ValueError as exc:
        raise CosError(
            400, "MalformedXML", "The XML you provided was not well-formed or did not validate."
        ) from exc
    found = tagging.check(tags)
    if found:
        raise invalid_argument(found)
    core.store.set_tags(version, tags)
    return Response(headers=headers)
