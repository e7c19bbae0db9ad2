"""Delete Multiple Objects (``POST /?delete``), as strict as COS.

Decisions (``cos-data-plane.md`` §4): ``Content-MD5`` is required (absent:
400 ``InvalidRequest``; not base64 of 16 bytes: 400 ``InvalidDigest``; not the
body's: 400 ``BadDigest``). The body is ``<Delete>[<Quiet>true|false</Quiet>]
<Object><Key/>[<VersionId/>]</Object>…</Delete>``; not that shape, no key or
more than :data:`~cos_provider.client.limits.MAX_DELETE_KEYS` keys: 400
``MalformedXML``. The answer is 200 ``<DeleteResult>`` with a ``<Deleted>``
per key (unless quiet) and an ``<Error>`` (``Key``, ``Code``, ``Message``)
per key that failed. A missing key is deleted (as DELETE Object answers 204).

Per-key failures come from the fault book: each key is asked as a
``DeleteObject`` of that key, so ``FaultRule.always("DeleteObject",
"access_denied", key="k")`` makes ``k`` fail with ``AccessDenied`` inside an
otherwise successful answer (``internal_error`` and ``slow_down`` give
``InternalError`` and ``SlowDown`` entries).
"""

from __future__ import annotations

import hashlib

from lxml import etree

from cos_provider.client import limits
from cos_provider.emulator.core import Core
from cos_provider.emulator.errors import CosError
from cos_provider.emulator.faults import Fault
from cos_provider.emulator.objects import bucket_of, check_content_md5
from cos_provider.emulator.wire import Request, Response
from cos_provider.emulator.xmlout import Node, document

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
_FAULT_CODES = {
    "internal_error": ("InternalError", "We encountered an internal error. Please try again."),
    "slow_down": ("SlowDown", "Please reduce your request rate."),
}


def _malformed() -> CosError:
    return CosError(
        400,
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema.",
    )


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def parse_delete(body: bytes) -> tuple[bool, list[tuple[str, str | None]]]:
    """``(quiet, [(key, version_id)])`` of a ``<Delete>`` body; raises ``MalformedXML``."""
    try:
        root = etree.fromstring(body.lstrip(), _PARSER)
    except etree.XMLSyntaxError as exc:
        raise _malformed() from exc
    if _local(root.tag) != "Delete":
        raise _malformed()
    quiet = False
    entries: list[tuple[str, str | None]] = []
    for child in root:
        name = _local(child.tag)
        if name == "Quiet":
            text = (child.text or "").strip().lower()
            if text not in ("true", "false"):
                raise _malformed()
            quiet = text == "true"
        elif name == "Object":
            key: str | None = None
            version: str | None = None
            for field in child:
                if _local(field.tag) == "Key":
                    key = field.text or ""
                elif _local(field.tag) == "VersionId":
                    version = field.text or ""
                else:
                    raise _malformed()
            if not key:
                raise _malformed()
            entries.append((key, version))
        elif name:
            raise _malformed()
    if not entries or len(entries) > limits.MAX_DELETE_KEYS:
        raise _malformed()
    return quiet, entries


def delete_multiple(core: Core, req: Request, fault: Fault | None) -> Response:
    bucket = bucket_of(core, req)
    if req.header("content-md5") is None:
        raise CosError(400, "InvalidRequest", "Missing required header for this request: Content-MD5.")
    check_content_md5(req, hashlib.md5(req.body).digest())
    quiet, entries = parse_delete(req.body)
    children: list[Node] = []
    for key, version_id in entries:
        try:
            key_fault = core.faults.decide("DeleteObject", req.bucket, key, None)
        except CosError as exc:
            children.append(("Error", _error(key, version_id, exc.code, exc.message)))
            continue
        if key_fault is not None and key_fault.kind in _FAULT_CODES:
            code, message = _FAULT_CODES[key_fault.kind]
            children.append(("Error", _error(key, version_id, code, message)))
            continue
        marker = core.store.delete(bucket, key, version_id)
        if quiet:
            continue
        deleted: list[Node] = [("Key", key)]
        if version_id is not None:
            deleted.append(("VersionId", version_id))
        if marker is not None:
            deleted.append(("DeleteMarker", "true"))
            deleted.append(("DeleteMarkerVersionId", marker.version_id or "null"))
        children.append(("Deleted", deleted))
    return Response.xml(document("DeleteResult", children))


def _error(key: str, version_id: str | None, code: str, message: str) -> list[Node]:
    out: list[Node] = [("Key", key)]
    if version_id is not None:
        out.append(("VersionId", version_id))
    out.extend([("Code", code), ("Message", message)])
    return out
