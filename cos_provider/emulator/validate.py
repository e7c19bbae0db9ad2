"""Request-header rules shared by PUT, Copy and Initiate, with their error codes.

Every limit comes from :mod:`cos_provider.client.limits`, the project's one
limit table. Choices where Tencent's documentation gives no code:

* metadata: a name suffix outside ``[a-z0-9-]`` (after case folding), a value
  over 2 KB, or names plus values over 4 KB in total: 400 ``InvalidArgument``;
* bad ACL, grant, SSE or tagging values: 400 ``InvalidArgument``; an unknown
  storage class: 400 ``NotSupportedStorageClass``. Values are exact, as COS
  spells them (the client case-folds before sending). Grants follow the
  client's rule (:data:`~cos_provider.client.validation.GRANT_LIST`), tags
  the client's :mod:`~cos_provider.client.tagging` rules (decoded with
  percent-decoding only, so the SDK's raw UTF-8 tags are accepted too);
* SSE: ``x-cos-server-side-encryption`` must be ``AES256``, ``SM4`` or
  ``cos/kms`` (else 400 ``InvalidArgument``); a KMS key id or context
  without ``cos/kms``, or a context that is not the base64 of a JSON
  object, is 400 ``InvalidArgument``;
* SSE-C (``x-cos-server-side-encryption-customer-*`` and the
  ``x-cos-copy-source-`` form): any of these headers over plain HTTP is 400
  ``InvalidRequest`` (COS requires HTTPS; the code is our choice, the docs
  read give none); missing one of the three, an algorithm other than
  ``AES256``, a key that is not the base64 of 32 bytes, or an MD5 that does
  not match the key: 400 ``InvalidArgument``; SSE-C together with
  ``x-cos-server-side-encryption``: 400 ``InvalidArgument``. Reading (GET,
  HEAD, copy source) an SSE-C object without its key is 400
  ``InvalidRequest``, with another key 403 ``AccessDenied`` (S3's codes;
  COS's are not in the docs read). SSE-C headers on a request for an object
  that is not SSE-C are ignored;
* ``x-cos-forbid-overwrite``: ``true`` (any case) forbids, anything else
  does not;
* copy ranges: malformed (not ``bytes=first-last`` with first <= last): 400
  ``InvalidArgument``; outside the source: 416 ``InvalidRange``; an empty
  header means the whole object (the SDK sends it empty);
* copy-source conditions: each must hold (412 ``PreconditionFailed``); only
  If-Match + If-Unmodified-Since and If-None-Match + If-Modified-Since may be
  combined, anything else is 400 ``InvalidArgument``; an unparseable date is
  400 ``InvalidArgument``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re

from cos_provider.client import limits, tagging
from cos_provider.client.encryption import DEST_PREFIX, SOURCE_PREFIX
from cos_provider.client.etag import unquote_etag
from cos_provider.client.timestamps import parse_timestamp
from cos_provider.client.validation import GRANT_LIST
from cos_provider.emulator.errors import CosError, invalid_argument, invalid_request
from cos_provider.emulator.store import ObjectAttrs, ObjectVersion
from cos_provider.emulator.wire import Request

META_PREFIX = "x-cos-meta-"
_META_NAME = re.compile(r"^[a-z0-9-]+$")
_COPY_RANGE = re.compile(r"^bytes=(\d+)-(\d+)$")
_GET_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
GRANT_HEADERS = (
    "x-cos-grant-read",
    "x-cos-grant-write",
    "x-cos-grant-read-acp",
    "x-cos-grant-write-acp",
    "x-cos-grant-full-control",
)
CONTENT_HEADERS = {
    "content-type": "content_type",
    "cache-control": "cache_control",
    "content-disposition": "content_disposition",
    "content-encoding": "content_encoding",
    "content-language": "content_language",
    "expires": "expires",
}
CONDITIONS = {
    "x-cos-copy-source-if-match": "if_match",
    "x-cos-copy-source-if-none-match": "if_none_match",
    "x-cos-copy-source-if-modified-since": "if_modified_since",
    "x-cos-copy-source-if-unmodified-since": "if_unmodified_since",
}


def check_key(key: str) -> None:
    if len(key.encode("utf-8")) > limits.MAX_KEY_BYTES:
        raise CosError(400, "KeyTooLong", f"Your key is too long (over {limits.MAX_KEY_BYTES} bytes).")


def metadata(req: Request) -> dict[str, str]:
    meta: dict[str, str] = {}
    total = 0
    for name, value in req.headers:
        lower = name.lower()
        if not lower.startswith(META_PREFIX):
            continue
        suffix = lower[len(META_PREFIX) :]
        if not _META_NAME.match(suffix):
            raise invalid_argument(
                f"metadata name {name!r}: the part after x-cos-meta- may only hold a-z, 0-9 and '-'"
            )
        size = len(value.encode("utf-8"))
        if size > limits.MAX_META_VALUE_BYTES:
            raise invalid_argument(
                f"metadata {name!r} is {size} bytes; at most {limits.MAX_META_VALUE_BYTES}"
            )
        total += size + len(suffix)
        meta[suffix] = value
    if total > limits.MAX_META_TOTAL_BYTES:
        raise invalid_argument(f"metadata totals {total} bytes; at most {limits.MAX_META_TOTAL_BYTES}")
    return meta


def storage_class(req: Request) -> str | None:
    value = req.header("x-cos-storage-class")
    if value is None:
        return None
    upper = value.strip().upper()
    if upper not in limits.STORAGE_CLASSES:
        raise CosError(400, "NotSupportedStorageClass", f"storage class {value!r} is not supported")
    return upper


def acl_and_grants(req: Request) -> tuple[str | None, dict[str, str]]:
    acl = req.header("x-cos-acl")
    if acl is not None and acl not in limits.OBJECT_ACLS:
        raise invalid_argument(f"x-cos-acl {acl!r} is not one of {', '.join(sorted(limits.OBJECT_ACLS))}")
    grants = {}
    for name in GRANT_HEADERS:
        value = req.header(name)
        if value is None:
            continue
        if not GRANT_LIST.match(value):
            raise invalid_argument(
                f'{name} must be id="<uin>" or id="qcs::cam::uin/<owner>:uin/<uin>" entries separated '
                f"by commas, got {value!r}"
            )
        grants[name] = value
    return acl, grants


def sse(req: Request) -> dict[str, str | None]:
    """``sse``, ``kms_key_id``, ``kms_context`` of a write (see the module docstring)."""
    value = req.header("x-cos-server-side-encryption")
    if value is not None and value not in limits.SSE_ALGORITHMS:
        raise invalid_argument(
            f"x-cos-server-side-encryption must be one of {', '.join(sorted(limits.SSE_ALGORITHMS))}, "
            f"got {value!r}"
        )
    key_id = req.header("x-cos-server-side-encryption-cos-kms-key-id")
    context = req.header("x-cos-server-side-encryption-context")
    if (key_id is not None or context is not None) and value != limits.SSE_KMS:
        raise invalid_argument(
            "x-cos-server-side-encryption-cos-kms-key-id and -context need x-cos-server-side-encryption: cos/kms"
        )
    if context is not None:
        try:
            decoded = json.loads(base64.b64decode(context, validate=True))
        except (binascii.Error, ValueError):
            decoded = None
        if not isinstance(decoded, dict):
            raise invalid_argument("x-cos-server-side-encryption-context must be the base64 of a JSON object")
    return {"sse": value, "kms_key_id": key_id, "kms_context": context}


def _customer_headers(req: Request, prefix: str) -> dict[str, str]:
    return {
        name: value
        for name in ("algorithm", "key", "key-MD5")
        if (value := req.header(prefix + name)) is not None
    }


def require_https_for_sse_c(req: Request) -> None:
    """COS takes customer keys over HTTPS only: any SSE-C header over HTTP is refused."""
    if req.secure:
        return
    for name in req.header_names():
        if name.startswith((DEST_PREFIX, SOURCE_PREFIX)):
            raise invalid_request(f"{name} must be sent over HTTPS (SSE-C keys are refused over HTTP)")


def customer_key(req: Request, prefix: str = DEST_PREFIX) -> str | None:
    """The base64 MD5 of the SSE-C key a request carries under ``prefix``; ``None`` if it carries none."""
    require_https_for_sse_c(req)
    given = _customer_headers(req, prefix)
    if not given:
        return None
    if len(given) != 3:
        raise invalid_argument(f"SSE-C needs all three {prefix}algorithm, -key and -key-MD5 headers")
    if given["algorithm"] != limits.SSE_CUSTOMER_ALGORITHM:
        raise invalid_argument(f"{prefix}algorithm must be AES256, got {given['algorithm']!r}")
    try:
        raw = base64.b64decode(given["key"], validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != limits.SSE_CUSTOMER_KEY_BYTES:
        raise invalid_argument(f"{prefix}key must be the base64 of a 256-bit key")
    md5 = base64.b64encode(hashlib.md5(raw).digest()).decode()
    if md5 != given["key-MD5"]:
        raise invalid_argument(
            f"The calculated MD5 hash of the key did not match the {prefix}key-MD5 provided"
        )
    return md5


def check_key_for(stored_md5: str | None, given_md5: str | None, what: str) -> None:
    """Reading an SSE-C object (or writing into an SSE-C upload) needs the key it was written with."""
    if stored_md5 is None:
        return
    if given_md5 is None:
        raise invalid_request(f"{what} is encrypted with a customer key (SSE-C); the request must provide it")
    if given_md5 != stored_md5:
        raise CosError(403, "AccessDenied", f"The SSE-C key provided does not match the one {what} uses.")


def write_encryption(req: Request) -> dict[str, str | None]:
    """SSE-COS/KMS and the SSE-C key MD5 of a write; both kinds at once is refused."""
    out = sse(req)
    md5 = customer_key(req, DEST_PREFIX)
    if md5 is not None and out["sse"] is not None:
        raise invalid_argument("x-cos-server-side-encryption cannot be combined with SSE-C headers")
    out["sse_c_md5"] = md5
    return out


def forbid_overwrite(req: Request) -> bool:
    return (req.header("x-cos-forbid-overwrite") or "").strip().lower() == "true"


def tags(req: Request) -> tuple[tuple[str, str], ...]:
    """The request's ``x-cos-tagging``, decoded and checked (empty when absent)."""
    value = req.header("x-cos-tagging")
    if value is None:
        return ()
    try:
        decoded = tagging.decode_header(value)
    except ValueError as exc:
        raise invalid_argument(f"x-cos-tagging: {exc}") from exc
    found = tagging.check(decoded)
    if found:
        raise invalid_argument(f"x-cos-tagging: {found}")
    return decoded


def tagging_directive(req: Request) -> str:
    value = req.header("x-cos-tagging-directive") or "Copy"
    if value not in limits.TAGGING_DIRECTIVES:
        raise invalid_argument(f"x-cos-tagging-directive must be Copy or Replaced, got {value!r}")
    return value


def content_headers(req: Request) -> dict[str, str]:
    return {field: v for header, field in CONTENT_HEADERS.items() if (v := req.header(header)) is not None}


def write_attrs(req: Request) -> ObjectAttrs:
    """Everything a PUT / Initiate / Replaced copy says about the new object."""
    acl, grants = acl_and_grants(req)
    enc = write_encryption(req)
    attrs = ObjectAttrs(
        metadata=metadata(req),
        storage_class=storage_class(req) or "STANDARD",
        acl=acl,
        grants=grants,
        sse=enc["sse"],
        kms_key_id=enc["kms_key_id"],
        kms_context=enc["kms_context"],
        sse_c_md5=enc["sse_c_md5"],
        tags=tags(req),
    )
    for field, value in content_headers(req).items():
        setattr(attrs, field, value)
    return attrs


def part_number(req: Request) -> int:
    raw = req.param("partNumber") or ""
    if not raw.isdigit() or not 1 <= int(raw) <= limits.MAX_PARTS:
        raise invalid_argument(f"partNumber must be an integer from 1 to {limits.MAX_PARTS}, got {raw!r}")
    return int(raw)


def copy_range(value: str | None, size: int) -> tuple[int, int]:
    """``[start, end)`` of ``x-cos-copy-source-range`` against a source of ``size``."""
    if value is None or not value.strip():
        return 0, size
    m = _COPY_RANGE.match(value.strip())
    if not m or int(m.group(1)) > int(m.group(2)):
        raise invalid_argument(f"x-cos-copy-source-range must be bytes=first-last, got {value!r}")
    first, last = int(m.group(1)), int(m.group(2))
    if last >= size:
        raise CosError(416, "InvalidRange", f"range {value} is not within the source object of {size} bytes")
    return first, last + 1


def get_range(value: str | None, size: int) -> tuple[int, int] | None:
    """``[start, end)`` for GET ``Range``; ``None`` to send the whole object (RFC 9110)."""
    if value is None:
        return None
    m = _GET_RANGE.match(value.strip())
    if not m or (not m.group(1) and not m.group(2)):
        return None
    if not m.group(1):
        n = int(m.group(2))
        if n == 0 or size == 0:
            raise CosError(416, "InvalidRange", "The requested range is not satisfiable")
        return max(0, size - n), size
    first = int(m.group(1))
    last = int(m.group(2)) if m.group(2) else size - 1
    if last < first:
        return None
    if first >= size:
        raise CosError(416, "InvalidRange", "The requested range is not satisfiable")
    return first, min(last, size - 1) + 1


def _timestamp(name: str, value: str) -> float:
    parsed = parse_timestamp(value)
    if parsed is None:
        raise invalid_argument(f"{name} is not a date: {value!r}")
    return parsed.timestamp()


def _etag_matches(header: str, etag: str) -> bool:
    wanted = [unquote_etag(x) for x in header.split(",")]
    return "*" in wanted or etag in wanted


def copy_conditions(req: Request, source: ObjectVersion) -> None:
    present = {field: v for header, field in CONDITIONS.items() if (v := req.header(header)) is not None}
    if len(present) > 1 and frozenset(present) not in limits.ALLOWED_CONDITION_PAIRS:
        raise invalid_argument(
            "conflicting copy-source conditions: only If-Match with If-Unmodified-Since, or "
            f"If-None-Match with If-Modified-Since may be combined (got {', '.join(sorted(present))})"
        )
    modified = int(source.last_modified)
    failed = None
    if "if_match" in present and not _etag_matches(present["if_match"], source.etag):
        failed = "x-cos-copy-source-If-Match"
    if "if_none_match" in present and _etag_matches(present["if_none_match"], source.etag):
        failed = "x-cos-copy-source-If-None-Match"
    if "if_modified_since" in present:
        since = _timestamp("x-cos-copy-source-If-Modified-Since", present["if_modified_since"])
        if modified <= since:
            failed = "x-cos-copy-source-If-Modified-Since"
    if "if_unmodified_since" in present:
        since = _timestamp("x-cos-copy-source-If-Unmodified-Since", present["if_unmodified_since"])
        if modified > since:
            failed = "x-cos-copy-source-If-Unmodified-Since"
    if failed:
        raise CosError(
            412, "PreconditionFailed", f"At least one of the preconditions did not hold ({failed})."
        )


def read_conditions(req: Request, version: ObjectVersion) -> int | None:
    """GET/HEAD ``If-*``: raise 412, or return 304 when the client's copy is current."""
    modified = int(version.last_modified)
    if_match = req.header("if-match")
    if if_match is not None and not _etag_matches(if_match, version.etag):
        raise CosError(412, "PreconditionFailed", "If-Match did not hold")
    unmodified = req.header("if-unmodified-since")
    if (
        unmodified is not None
        and if_match is None
        and modified > _timestamp("If-Unmodified-Since", unmodified)
    ):
        raise CosError(412, "PreconditionFailed", "If-Unmodified-Since did not hold")
    if_none = req.header("if-none-match")
    if if_none is not None and _etag_matches(if_none, version.etag):
        return 304
    since = req.header("if-modified-since")
    if since is not None and if_none is None and modified <= _timestamp("If-Modified-Since", since):
        return 304
    return None
