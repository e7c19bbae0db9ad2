"""GET Service, PUT/HEAD/DELETE Bucket, GET Bucket (List Objects) and versioning.

Decisions: bucket names are global (``name-appid``); a request whose Host
names another region than the bucket's is 404 ``NoSuchBucket``. PUT Bucket
through the accelerate domain is 400 ``ActionAccelerateNotSupported`` (it has
no region). ``max-keys`` above 1000 is clamped to 1000. ``NextMarker`` is sent
whenever the page is truncated (with or without a delimiter). Suspending
versioning of a never-versioned bucket is allowed (writes then get version
``null``), as on S3.
"""

from __future__ import annotations

from lxml import etree

from cos_provider.client import limits
from cos_provider.emulator.core import Core
from cos_provider.emulator.errors import CosError, invalid_argument
from cos_provider.emulator.faults import Fault
from cos_provider.emulator.multipart import int_param, url_encoder
from cos_provider.emulator.objects import bucket_of
from cos_provider.emulator.store import ObjectVersion
from cos_provider.emulator.wire import Request, Response
from cos_provider.emulator.xmlout import Node, document, iso8601, owner, quoted

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


def get_service(core: Core, req: Request, fault: Fault | None) -> Response:
    with core.store.lock:
        buckets = sorted(core.store.buckets.values(), key=lambda b: b.name)
    body = document(
        "ListAllMyBucketsResult",
        [
            ("Owner", owner(core.owner_uin)),
            (
                "Buckets",
                [
                    (
                        "Bucket",
                        [("Name", b.name), ("Location", b.region), ("CreationDate", iso8601(b.created))],
                    )
                    for b in buckets
                ],
            ),
        ],
    )
    return Response.xml(body)


def put_bucket(core: Core, req: Request, fault: Fault | None) -> Response:
    assert req.bucket is not None
    if req.region is None:
        raise CosError(
            400, "ActionAccelerateNotSupported", "Buckets cannot be created through the accelerate domain."
        )
    acl = req.header("x-cos-acl") or "private"
    if acl not in limits.BUCKET_ACLS:
        raise invalid_argument(f"x-cos-acl {acl!r} is not one of {', '.join(sorted(limits.BUCKET_ACLS))}")
    core.store.create_bucket(req.bucket, req.region, acl=acl)
    return Response(headers={"Location": f"/{req.bucket}"})


def head_bucket(core: Core, req: Request, fault: Fault | None) -> Response:
    bucket = bucket_of(core, req)
    return Response(headers={"x-cos-bucket-region": bucket.region})


def delete_bucket(core: Core, req: Request, fault: Fault | None) -> Response:
    bucket = bucket_of(core, req)
    core.store.delete_bucket(bucket.name)
    return Response(status=204)


def put_versioning(core: Core, req: Request, fault: Fault | None) -> Response:
    bucket = bucket_of(core, req)
    malformed = CosError(400, "MalformedXML", "The XML you provided was not well-formed or did not validate.")
    try:
        root = etree.fromstring(req.body.strip(), _PARSER) if req.body.strip() else None
    except etree.XMLSyntaxError as exc:
        raise malformed from exc
    if root is None or etree.QName(root).localname != "VersioningConfiguration":
        raise malformed
    status = None
    for child in root:
        if isinstance(child.tag, str) and etree.QName(child).localname == "Status":
            status = (child.text or "").strip()
    if status not in ("Enabled", "Suspended"):
        raise malformed
    with core.store.lock:
        bucket.versioning = status
    return Response()


def get_versioning(core: Core, req: Request, fault: Fault | None) -> Response:
    bucket = bucket_of(core, req)
    return Response.xml(document("VersioningConfiguration", [("Status", bucket.versioning or None)]))


def list_objects(core: Core, req: Request, fault: Fault | None) -> Response:
    bucket = bucket_of(core, req)
    encoding, enc = url_encoder(req)
    prefix = req.param("prefix") or ""
    delimiter = req.param("delimiter") or ""
    marker = req.param("marker") or ""
    max_keys = int_param(req, "max-keys", limits.MAX_LIST_PAGE, limits.MAX_LIST_PAGE)
    contents: list[tuple[str, ObjectVersion]] = []
    prefixes: list[str] = []
    truncated = False
    last = ""
    for key, version in core.store.live_keys_after(bucket, marker, prefix):
        common = None
        if delimiter:
            cut = key.find(delimiter, len(prefix))
            if cut >= 0:
                common = key[: cut + len(delimiter)]
                if (prefixes and prefixes[-1] == common) or common <= marker:
                    continue
        if len(contents) + len(prefixes) >= max_keys:
            truncated = True
            break
        if common is not None:
            prefixes.append(common)
            last = common
        else:
            contents.append((key, version))
            last = key
    children: list[Node] = [
        ("Name", bucket.name),
        ("EncodingType", encoding),
        ("Prefix", enc(prefix)),
        ("Marker", enc(marker)),
        ("MaxKeys", str(max_keys)),
        ("Delimiter", enc(delimiter) if delimiter else None),
        ("IsTruncated", "true" if truncated else "false"),
        ("NextMarker", enc(last) if truncated else None),
    ]
    for key, version in contents:
        children.append(
            (
                "Contents",
                [
                    ("Key", enc(key)),
                    ("LastModified", iso8601(version.last_modified)),
                    ("ETag", quoted(version.etag)),
                    ("Size", str(version.size)),
                    ("Owner", owner(core.owner_uin)),
                    ("StorageClass", version.attrs.storage_class),
                ],
            )
        )
    for common in prefixes:
        children.append(("CommonPrefixes", [("Prefix", enc(common))]))
    return Response.xml(document("ListBucketResult", children))


def list_versions(core: Core, req: Request, fault: Fault | None) -> Response:
    """GET Bucket Object versions: ``Version`` and ``DeleteMarker`` entries, newest first per key.

    ``key-marker`` / ``version-id-marker`` resume after that entry; ``max-keys``
    (at most 1000) counts entries. A version written before versioning is ``null``.
    """
    bucket = bucket_of(core, req)
    encoding, enc = url_encoder(req)
    prefix = req.param("prefix") or ""
    key_marker = req.param("key-marker") or ""
    version_marker = req.param("version-id-marker") or ""
    max_keys = int_param(req, "max-keys", limits.MAX_LIST_PAGE, limits.MAX_LIST_PAGE)
    entries: list[Node] = []
    truncated = False
    last: tuple[str, str] = ("", "")
    with core.store.lock:
        keys = [k for k in bucket.keys if k.startswith(prefix) and k >= key_marker]
        for key in keys:
            newest_first = list(reversed(bucket.versions.get(key, [])))
            if key == key_marker:
                if not version_marker:
                    continue
                ids = [v.version_id or "null" for v in newest_first]
                if version_marker not in ids:
                    continue
                newest_first = newest_first[ids.index(version_marker) + 1 :]
            for version in newest_first:
                if len(entries) >= max_keys:
                    truncated = True
                    break
                vid = version.version_id or "null"
                latest = version is bucket.versions[key][-1]
                common: list[Node] = [
                    ("Key", enc(key)),
                    ("VersionId", vid),
                    ("IsLatest", "true" if latest else "false"),
                    ("LastModified", iso8601(version.last_modified)),
                    ("Owner", owner(core.owner_uin)),
                ]
                if version.is_delete_marker:
                    entries.append(("DeleteMarker", common))
                else:
                    common[4:4] = [("ETag", quoted(version.etag)), ("Size", str(version.size))]
                    common.append(("StorageClass", version.attrs.storage_class))
                    entries.append(("Version", common))
                last = (key, vid)
            if truncated:
                break
    children: list[Node] = [
        ("Name", bucket.name),
        ("EncodingType", encoding),
        ("Prefix", enc(prefix)),
        ("KeyMarker", enc(key_marker)),
        ("VersionIdMarker", version_marker),
        ("MaxKeys", str(max_keys)),
        ("IsTruncated", "true" if truncated else "false"),
        ("NextKeyMarker", enc(last[0]) if truncated else None),
        ("NextVersionIdMarker", last[1] if truncated else None),
        *entries,
    ]
    return Response.xml(document("ListVersionsResult", children))
