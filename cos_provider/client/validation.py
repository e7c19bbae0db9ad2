"""Checks that run before a request is sent.

Each check raises :class:`CosValidationError` naming the parameter and the
rule it breaks, so a DAG author learns what to fix without reading a COS
error code (or paying for a request that was bound to fail). The limits
themselves come from :mod:`limits`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from cos_provider.client import limits
from cos_provider.client.errors import CosValidationError

_META_NAME = re.compile(r"^[a-z0-9-]+$")
_FORBIDDEN_KEY_CHARS = {chr(c) for c in range(0x00, 0x20)} | {"\x7f"}
_FORBIDDEN_HEADER_CHARS = _FORBIDDEN_KEY_CHARS - {"\t"}


def validate_header_value(value: object, field: str) -> str:
    """A value that can go into a request header exactly as it is signed.

    Values are sent as their raw UTF-8 bytes, as the official SDK sends them
    (so ``北京`` is fine), and signed over those bytes. What cannot survive
    the trip is refused here, before any request, naming ``field``:

    * CR, LF and other control characters (tab excepted): a line break would
      end the header (or inject another), and HTTP forbids the others;
    * leading or trailing spaces and tabs: every HTTP server strips them, so
      COS would verify a different value than the one that was signed;
    * text that is not encodable as UTF-8 (lone surrogates).
    """
    if not isinstance(value, str):
        raise CosValidationError(field, f"must be a string, got {type(value).__name__}")
    bad = sorted(_FORBIDDEN_HEADER_CHARS.intersection(value))
    if bad:
        kind = "line breaks" if {"\r", "\n"}.intersection(bad) else "control characters"
        raise CosValidationError(
            field,
            f"must not contain {kind} ({', '.join(repr(c) for c in bad)}): it is sent as an HTTP header",
        )
    if value != value.strip(" \t"):
        raise CosValidationError(
            field, "must not start or end with spaces or tabs: HTTP drops them, which breaks the signature"
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise CosValidationError(field, "is not valid Unicode text (it holds a lone surrogate)") from None
    return value


def normalise_key(key: str) -> str:
    """The key COS stores for ``key``: one leading ``/`` dropped, as the official SDK drops it.

    The SDK strips exactly one leading slash from every object key it sends
    (the URL path, the signed path and ``x-cos-copy-source`` alike), so
    ``/logs/a.csv`` and ``logs/a.csv`` name the same object, and an SDK user
    can never have created a key that begins with ``/``. Sent as it is,
    ``PUT //logs/a.csv`` gets a bare 403 from COS. So
    :class:`~cos_provider.client.operations.ObjectRef` applies this rule to
    every key, and :func:`validate_object_key` refuses what is left if it
    still begins with ``/`` (the user wrote two). Anything that is not a
    string is returned unchanged, for the validators to refuse.
    """
    if isinstance(key, str) and key.startswith("/"):
        return key[1:]
    return key


def validate_key(key: str, field: str = "key") -> str:
    """Check a key as a user wrote it; returns it normalised (:func:`normalise_key`)."""
    if not isinstance(key, str) or key == "":
        raise CosValidationError(field, "must be a non-empty string")
    return validate_object_key(normalise_key(key), field)


def validate_object_key(key: str, field: str = "key") -> str:
    """Check a key that is already normalised (an :class:`ObjectRef`'s) against COS's rules.

    Dot segments (``a/./b``, ``..``) and doubled slashes are legal key
    characters and are kept: the transports send them escaped so that no
    front end can resolve them into another key (see
    :func:`~cos_provider.client.endpoints.object_path`).
    """
    if not isinstance(key, str):
        raise CosValidationError(field, "must be a non-empty string")
    if key == "":
        raise CosValidationError(field, "must name an object (it is empty, or only '/')")
    if key.startswith("/"):
        raise CosValidationError(
            field,
            f"starts with '/' even after dropping the one leading '/' that the COS SDKs drop "
            f"(left: {key!r}); COS refuses such a path (403), so write the key without leading slashes",
        )
    size = len(key.encode("utf-8"))
    if size > limits.MAX_KEY_BYTES:
        raise CosValidationError(
            field, f"is {size} bytes of UTF-8; COS allows at most {limits.MAX_KEY_BYTES}"
        )
    bad = sorted(_FORBIDDEN_KEY_CHARS.intersection(key))
    if bad:
        raise CosValidationError(field, f"contains control character(s) {', '.join(repr(c) for c in bad)}")
    return key


def normalise_metadata(metadata: Mapping[str, str] | None, field: str = "metadata") -> dict[str, str]:
    """Lower-case names (COS folds them), strip an ``x-cos-meta-`` prefix, check limits."""
    if not metadata:
        return {}
    out: dict[str, str] = {}
    for raw_name, value in metadata.items():
        name = str(raw_name).lower()
        if name.startswith("x-cos-meta-"):
            name = name[len("x-cos-meta-") :]
        if not _META_NAME.match(name):
            raise CosValidationError(
                f"{field}[{raw_name!r}]",
                "metadata names may use only letters, digits and '-' (COS does not support '_')",
            )
        validate_header_value(value, f"{field}[{raw_name!r}]")
        if len(value.encode()) > limits.MAX_META_VALUE_BYTES:
            raise CosValidationError(
                f"{field}[{raw_name!r}]", f"value exceeds {limits.MAX_META_VALUE_BYTES} bytes"
            )
        if name in out:
            raise CosValidationError(f"{field}[{raw_name!r}]", "duplicates another name once lower-cased")
        out[name] = value
    total = sum(len(f"x-cos-meta-{k}".encode()) + len(v.encode()) for k, v in out.items())
    if total > limits.MAX_META_TOTAL_BYTES:
        raise CosValidationError(
            field, f"totals {total} bytes of x-cos-meta-* headers; COS allows {limits.MAX_META_TOTAL_BYTES}"
        )
    return out


def validate_string(value: object, field: str) -> str | None:
    """``None``, or a single-line string: every attribute that becomes a header value."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise CosValidationError(field, f"must be a string, got {type(value).__name__}")
    if "\r" in value or "\n" in value:
        raise CosValidationError(field, "must be a single-line string (no CR or LF)")
    return value


def _folded(value: object, field: str, allowed: frozenset[str], what: str) -> str | None:
    """``value`` in its canonical spelling from ``allowed``, matched case-insensitively."""
    text = validate_string(value, field)
    if text is None:
        return None
    canonical = {a.lower(): a for a in allowed}.get(text.strip().lower())
    if canonical is None:
        raise CosValidationError(
            field, f"{text!r} is not one of {', '.join(sorted(allowed))} ({what}; case does not matter)"
        )
    return canonical


def validate_storage_class(value: object, field: str = "storage_class") -> str | None:
    return _folded(value, field, limits.STORAGE_CLASSES, "a storage class")


def validate_acl(value: object, field: str = "acl") -> str | None:
    return _folded(value, field, limits.OBJECT_ACLS, "an object ACL")


_GRANTEE = r'id="(?:\d+|qcs::cam::uin/\d+:uin/\d+|qcs::cam::anyone:anyone)"'
GRANT_LIST = re.compile(rf"^\s*{_GRANTEE}(?:\s*,\s*{_GRANTEE})*\s*$")
"""A valid ``x-cos-grant-*`` value; the emulator refuses what this refuses."""


def validate_grant(value: object, field: str) -> str | None:
    """``x-cos-grant-*``: a comma-separated list of ``id="<uin>"`` or ``id="qcs::cam::uin/<owner>:uin/<uin>"``.

    The forms of doc 436/7749 / 436/10881 (and ``qcs::cam::anyone:anyone``,
    everyone, from the ACL overview 436/30752); anything else COS refuses.
    """
    text = validate_string(value, field)
    if not text:
        return None
    if not GRANT_LIST.match(text):
        raise CosValidationError(
            field,
            f'{text!r} is not a COS grant list: give id="<uin>" or '
            'id="qcs::cam::uin/<owner uin>:uin/<uin>" entries separated by commas, '
            'e.g. id="100000000001",id="qcs::cam::uin/100000000001:uin/100000000011"',
        )
    return text


def validate_directive(value: object, field: str = "metadata_directive") -> str:
    if not isinstance(value, str):
        raise CosValidationError(field, f"must be 'Copy' or 'Replaced', got {type(value).__name__}")
    canonical = {d.lower(): d for d in limits.METADATA_DIRECTIVES}.get(value.lower())
    if canonical is None:
        raise CosValidationError(field, f"must be 'Copy' or 'Replaced', got {value!r}")
    return canonical


def validate_sse(value: object, field: str = "server_side_encryption") -> str | None:
    """``AES256``, ``SM4`` (SSE-COS) or ``cos/kms`` (SSE-KMS), case-folded, sent in COS's spelling."""
    return _folded(value, field, limits.SSE_ALGORITHMS, "a server-side encryption algorithm")


def validate_bool(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise CosValidationError(field, f"must be True or False, got {value!r}")
    return value


def validate_conditions(
    if_match: str | None,
    if_none_match: str | None,
    if_modified_since: datetime | str | None,
    if_unmodified_since: datetime | str | None,
    field_prefix: str = "copy_source_",
) -> None:
    given = frozenset(
        name
        for name, value in (
            ("if_match", if_match),
            ("if_none_match", if_none_match),
            ("if_modified_since", if_modified_since),
            ("if_unmodified_since", if_unmodified_since),
        )
        if value not in (None, "")
    )
    if len(given) <= 1:
        return
    if len(given) == 2 and given in limits.ALLOWED_CONDITION_PAIRS:
        return
    names = " + ".join(f"{field_prefix}{n}" for n in sorted(given))
    raise CosValidationError(
        names,
        "COS allows only If-Match with If-Unmodified-Since, or If-None-Match with If-Modified-Since",
    )


def validate_part_number(number: int, field: str = "part_number") -> int:
    if not isinstance(number, int) or not 1 <= number <= limits.MAX_PARTS:
        raise CosValidationError(field, f"must be an integer from 1 to {limits.MAX_PARTS}, got {number!r}")
    return number


def validate_part_size(size: int, field: str = "part_size") -> int:
    if not isinstance(size, int) or not limits.MIN_PART_SIZE <= size <= limits.MAX_PART_SIZE:
        raise CosValidationError(
            field,
            f"must be from {limits.MIN_PART_SIZE} (1 MB) to {limits.MAX_PART_SIZE} (5 GB) bytes, got {size!r}",
        )
    return size


def validate_page_size(value: int, field: str) -> int:
    """``max-keys``, ``max-uploads``, ``max-parts``: COS caps every listing page alike."""
    if not 1 <= value <= limits.MAX_LIST_PAGE:
        raise CosValidationError(field, f"must be from 1 to {limits.MAX_LIST_PAGE}, got {value}")
    return value


def validate_range(first: int, last: int, field: str = "copy_source_range") -> str:
    """Return ``bytes=first-last`` for an inclusive range of at most one part."""
    if not (isinstance(first, int) and isinstance(last, int)) or first < 0 or last < first:
        raise CosValidationError(field, f"must satisfy 0 <= first <= last, got {first!r}-{last!r}")
    if last - first + 1 > limits.MAX_PART_SIZE:
        raise CosValidationError(field, f"spans more than {limits.MAX_PART_SIZE} bytes (5 GB)")
    return f"bytes={first}-{last}"
