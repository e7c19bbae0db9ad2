"""Archive restore: POST Object restore, the ``x-cos-restore`` header, and the "restore first" rule.

An ARCHIVE or DEEP_ARCHIVE object cannot be read or copied until a restore
has made a temporary readable copy of it (``cos-data-plane.md`` §7). This
module is sans-IO: it builds the request exactly as the official SDK does
(same body bytes, no Content-MD5, no Content-Type: checked against the SDK in
``tests/restore``), reads the HEAD header back into a state, and holds the
one check the copy and download paths run on a source's HEAD, so that an
unrestored archive is refused before anything is written, with advice.

The emulator uses the same body parser and header formatter, so the two
sides agree by construction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any

from lxml import etree

from cos_provider.client import limits
from cos_provider.client.errors import CosError, CosValidationError
from cos_provider.client.models import ObjectInfo
from cos_provider.client.operations import ObjectRef, _object_ref
from cos_provider.client.protocol import Call, CosRequest, RawResponse
from cos_provider.client.timestamps import parse_timestamp
from cos_provider.client.uri import cos_url

OPERATION = "PostObjectRestore"
NOT_ARCHIVED = "not_archived"
NOT_REQUESTED = "not_requested"
IN_PROGRESS = "in_progress"
RESTORED = "restored"
OPERATOR_HINT = (
    "restore it first: CosRestoreObjectOperator (wait_for_completion=True) or CosObjectRestoredSensor "
    "after it, CosHook.restore_objects(), or restore_first=True on the copy operators"
)


def is_archived(storage_class: str | None) -> bool:
    """COS echoes classes in mixed case (``cos-protocol.md`` §5.2)."""
    return (storage_class or "").upper() in limits.ARCHIVED_STORAGE_CLASSES


# ---------------------------------------------------------------- validation


def validate_days(value: Any, field: str = "days") -> int:
    """Whole days of the restored copy's life; a bool or a float is refused, not truncated."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())  # a rendered template
    if isinstance(value, bool) or not isinstance(value, int):
        raise CosValidationError(
            field, f"must be a whole number of days, got {type(value).__name__} {value!r}"
        )
    if not limits.MIN_RESTORE_DAYS <= value <= limits.MAX_RESTORE_DAYS:
        raise CosValidationError(
            field, f"must be from {limits.MIN_RESTORE_DAYS} to {limits.MAX_RESTORE_DAYS} days, got {value}"
        )
    return value


def validate_tier(value: Any, field: str = "tier") -> str:
    """``Expedited``, ``Standard`` or ``Bulk`` in any case, returned as COS spells it."""
    if not isinstance(value, str):
        raise CosValidationError(field, f"must be one of {', '.join(limits.RESTORE_TIERS)}, got {value!r}")
    for tier in limits.RESTORE_TIERS:
        if value.strip().lower() == tier.lower():
            return tier
    raise CosValidationError(field, f"must be one of {', '.join(limits.RESTORE_TIERS)}, got {value!r}")


def check_tier_for(storage_class: str | None, tier: str, uri: str, field: str = "tier") -> None:
    """DEEP_ARCHIVE has no Expedited tier (doc 436/12633)."""
    if (storage_class or "").upper() == "DEEP_ARCHIVE" and tier == "Expedited":
        raise CosValidationError(
            field, f"Expedited is not available for DEEP_ARCHIVE objects ({uri}); use Standard or Bulk"
        )


# ---------------------------------------------------------------- the request


def build_body(days: int, tier: str) -> bytes:
    """The SDK's exact body (``format_xml`` of ``RestoreRequest``)."""
    return (
        b'<?xml version="1.0" encoding="utf-8"?>\n<RestoreRequest>'
        + f"<Days>{days}</Days><CASJobParameters><Tier>{tier}</Tier></CASJobParameters>".encode()
        + b"</RestoreRequest>"
    )


def parse_body(body: bytes) -> tuple[str, str]:
    """``(days, tier)`` text of a ``RestoreRequest``, unvalidated; ``ValueError`` if it is not one."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"not XML: {exc}") from None
    if etree.QName(root).localname != "RestoreRequest":
        raise ValueError("the root element is not RestoreRequest")
    days = root.findtext("Days")
    tier = root.findtext("CASJobParameters/Tier")
    if days is None or tier is None:
        raise ValueError("RestoreRequest needs Days and CASJobParameters/Tier")
    return days.strip(), tier.strip()


def restore_object(ref: ObjectRef, days: Any, tier: Any) -> Call[int]:
    """POST Object restore (``POST /<key>?restore[&versionId=]``); the result is the HTTP status.

    COS's success codes are not documented (S3 answers 202 when a restore
    starts and 200 when a restored copy exists and its expiry was extended):
    any 2xx is success, and the status says which.
    """
    _object_ref(ref, "object")
    body = build_body(validate_days(days), validate_tier(tier))
    params = {"restore": ""}
    if ref.version_id:
        params["versionId"] = ref.version_id
    return Call(
        CosRequest(OPERATION, "POST", ref.bucket, ref.key, params=params, body=body, region=ref.region),
        _status,
    )


def _status(r: RawResponse) -> int:
    return r.status


# ---------------------------------------------------------------- the header

_ONGOING = re.compile(r'ongoing-request\s*=\s*"?(true|false)"?', re.IGNORECASE)
_EXPIRY = re.compile(r'expiry-date\s*=\s*"([^"]*)"', re.IGNORECASE)


@dataclass(frozen=True)
class RestoreHeader:
    """``x-cos-restore`` read: a restore is running, or a copy is readable until ``expiry``."""

    ongoing: bool
    expiry: datetime | None = None


def parse_restore_header(value: str | None) -> RestoreHeader | None:
    """``None`` when no restore was requested (or the restored copy has expired)."""
    if not value:
        return None
    ongoing = _ONGOING.search(value)
    if ongoing is None:
        return None
    expiry = _EXPIRY.search(value)
    return RestoreHeader(
        ongoing=ongoing.group(1).lower() == "true",
        expiry=parse_timestamp(expiry.group(1)) if expiry else None,
    )


def format_restore_header(ongoing: bool, expiry: float | None = None) -> str:
    """What HEAD answers (doc 436/7745): RFC 1123 in GMT for the expiry."""
    if ongoing or expiry is None:
        return 'ongoing-request="true"'
    when = datetime.fromtimestamp(expiry, tz=timezone.utc)
    return f'ongoing-request="false", expiry-date="{format_datetime(when, usegmt=True)}"'


@dataclass(frozen=True)
class RestoreState:
    """Where an object stands, from one HEAD; :meth:`to_dict` is what the operators push."""

    bucket: str
    key: str
    version_id: str | None
    storage_class: str
    status: str
    """``not_archived``, ``not_requested``, ``in_progress`` or ``restored``."""
    expiry: datetime | None = None

    @property
    def uri(self) -> str:
        return cos_url(self.bucket, self.key)

    @property
    def readable(self) -> bool:
        return self.status in (NOT_ARCHIVED, RESTORED)

    def to_dict(self, **extra: Any) -> dict[str, Any]:
        return {
            "bucket": self.bucket,
            "key": self.key,
            "uri": self.uri,
            "version_id": self.version_id,
            "storage_class": self.storage_class,
            "status": self.status,
            "expiry_date": self.expiry.isoformat() if self.expiry else None,
            **extra,
        }


def restore_state(info: ObjectInfo) -> RestoreState:
    storage_class = (info.storage_class or "STANDARD").upper()
    header = parse_restore_header(info.restore)
    if not is_archived(storage_class):
        status = NOT_ARCHIVED
    elif header is None:
        status = NOT_REQUESTED
    elif header.ongoing:
        status = IN_PROGRESS
    else:
        status = RESTORED
    expiry = header.expiry if header is not None and status == RESTORED else None
    return RestoreState(info.bucket, info.key, info.version_id, storage_class, status, expiry)


class ArchivedObjectError(CosError):
    """An archived object that is not restored was about to be read or copied.

    Raised from the source's HEAD, before any request that writes, so no
    partial file or upload is left behind.
    """

    def __init__(self, state: RestoreState, action: str) -> None:
        self.state = state
        running = " (a restore is running; wait for it)" if state.status == IN_PROGRESS else ""
        super().__init__(
            f"cannot {action} {state.uri}: it is {state.storage_class} and not restored{running}; "
            + OPERATOR_HINT
        )


def require_readable(info: ObjectInfo, action: str) -> None:
    """Refuse an archived, unrestored ``info`` for ``action`` (``copy``, ``download``, ``read``)."""
    state = restore_state(info)
    if not state.readable:
        raise ArchivedObjectError(state, action)


__all__ = [
    "IN_PROGRESS",
    "NOT_ARCHIVED",
    "NOT_REQUESTED",
    "OPERATION",
    "RESTORED",
    "ArchivedObjectError",
    "RestoreHeader",
    "RestoreState",
    "build_body",
    "check_tier_for",
    "format_restore_header",
    "is_archived",
    "parse_body",
    "parse_restore_header",
    "require_readable",
    "restore_object",
    "restore_state",
    "validate_days",
    "validate_tier",
]
