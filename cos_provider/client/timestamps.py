"""The one timestamp rule, for the wire and for user input.

COS writes ISO 8601 in XML bodies and RFC 1123 in headers; users pass
datetimes, ISO strings or HTTP dates. Naive values mean UTC everywhere, so a
sensor's ``timestamp`` and a copy's ``copy_source_if_modified_since`` read
the same string the same way.
"""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime

# A module reference, not a name: errors -> xmlcodec -> timestamps -> errors is a cycle.
from cos_provider.client import errors


def parse_timestamp(value: str | None) -> datetime | None:
    """A wire timestamp: ISO 8601 (with or without ``Z``/millis) or RFC 1123; ``None`` if unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def to_datetime(value: object, field: str = "timestamp") -> datetime:
    """A user's timestamp (datetime, ISO 8601 or HTTP date) as an aware datetime; errors name ``field``."""
    if isinstance(value, str):
        parsed = parse_timestamp(value)
        if parsed is None:
            raise errors.CosValidationError(field, f"{value!r} is neither ISO 8601 nor an HTTP date")
        return parsed
    if not isinstance(value, datetime):
        raise errors.CosValidationError(
            field, f"must be a datetime or an ISO 8601 string, got {type(value).__name__} {value!r}"
        )
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def http_date(value: object, field: str = "timestamp") -> str:
    """The RFC 1123 form COS expects in conditional headers."""
    return format_datetime(to_datetime(value, field).astimezone(timezone.utc), usegmt=True)


def whole_second(value: object, field: str = "timestamp") -> datetime:
    """A condition timestamp as COS compares it: an HTTP date has whole seconds."""
    parsed = parse_timestamp(http_date(value, field))
    assert parsed is not None
    return parsed
