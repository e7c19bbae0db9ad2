"""POST Object restore, and the restore state HEAD, GET and copies see.

COS keeps an ARCHIVE or DEEP_ARCHIVE object unreadable until a restore
makes a temporary copy readable (``cos-data-plane.md`` §7). Modelled here:

* ``POST /<key>?restore[&versionId=]`` with ``<RestoreRequest><Days>``
  and ``<CASJobParameters><Tier>`` (the client's own parser reads it). A new
  restore answers 202; one on an object whose restored copy exists answers
  200 and extends the copy's life (from now); one while a restore runs is 409
  ``RestoreAlreadyInProgress``; an object that is not archived is 403
  ``InvalidObjectState``; malformed XML or a missing element is 400
  ``MalformedXML``; ``Days`` outside 1-365 or an unknown tier is 400
  ``InvalidArgument``, and so is ``Expedited`` for DEEP_ARCHIVE (COS
  offers no Expedited tier there; its exact code is not documented). The
  status codes follow S3's semantics: the COS pages read
  (``cos-data-plane.md`` §7) do not confirm them, so the client accepts any
  2xx and recognises the codes, not the statuses.
* A restore takes the model's time for its tier
  (:class:`~cos_provider.emulator.model.ModelSettings` ``restore_expedited``,
  ``restore_standard``, ``restore_bulk``: lower ends of COS's ARCHIVE ranges
  by default); DEEP_ARCHIVE takes :data:`DEEP_ARCHIVE_FACTOR` times as long
  (COS: Standard 12-24 h against 3-5 h).
* While it runs, HEAD/GET answer ``x-cos-restore: ongoing-request="true"``
  and ``x-cos-restore-status: tier="..."; request-date="..."``; then
  ``ongoing-request="false", expiry-date="..."``. The expiry is the first
  16:00:00 GMT (midnight in Beijing, as in COS's example) at least ``Days``
  days after the copy became readable. After it, the object is unreadable
  again and carries no restore header.
* GET Object, PUT Object - Copy and Upload Part - Copy of an archived object
  are 403 ``InvalidObjectState`` unless a restored copy exists.

Time comes from :attr:`RestoreBook.clock`, injectable, and
:meth:`RestoreBook.advance` moves it forward, so a test can let hours pass
without sleeping. State is keyed by object version (a rewrite of the key
starts afresh) and kept apart from the store. :attr:`RestoreBook.observers`
are called, outside the lock, with ``(bucket, key, status)`` whenever a
request sees an object's restore state, so a test can let a restore finish
after a sensor has seen it running, with no timing involved.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cos_provider.client import limits
from cos_provider.client.restore import format_restore_header, parse_body
from cos_provider.emulator.errors import CosError, invalid_argument
from cos_provider.emulator.wire import Request, Response, http_date

if TYPE_CHECKING:
    from cos_provider.emulator.core import Core
    from cos_provider.emulator.faults import Fault
    from cos_provider.emulator.store import ObjectVersion

DEEP_ARCHIVE_FACTOR = 4.0
DAY = 86400.0
EXPIRY_HOUR_GMT = 16  # 00:00 in Beijing
ONGOING = "in_progress"
RESTORED = "restored"
TIER_FIELDS = {"Expedited": "restore_expedited", "Standard": "restore_standard", "Bulk": "restore_bulk"}


@dataclass
class Restore:
    version: ObjectVersion
    tier: str
    days: int
    requested: float
    ready: float
    expiry: float


def expiry_after(ready: float, days: int) -> float:
    """The first 16:00:00 GMT at least ``days`` days after ``ready``."""
    earliest = ready + days * DAY
    offset = EXPIRY_HOUR_GMT * 3600.0
    return math.ceil((earliest - offset) / DAY) * DAY + offset


class RestoreBook:
    """Restores by object version, on a clock tests can move (see the module docstring)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._base = clock
        self._offset = 0.0
        self._lock = threading.Lock()
        self._restores: dict[tuple[str, str, str | None], Restore] = {}
        self.observers: list[Callable[[str, str, str], None]] = []

    def clock(self) -> float:
        return self._base() + self._offset

    def advance(self, seconds: float) -> float:
        """Move the restore clock forward; returns the new time."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds
        return self.clock()

    def reset(self) -> None:
        with self._lock:
            self._restores.clear()
        self.observers.clear()

    def _current(self, bucket: str, version: ObjectVersion, now: float) -> Restore | None:
        key = (bucket, version.key, version.version_id)
        entry = self._restores.get(key)
        if entry is None:
            return None
        if entry.version is not version or now >= entry.expiry:
            del self._restores[key]  # the key was rewritten, or the restored copy expired
            return None
        return entry

    def status(self, bucket: str, version: ObjectVersion) -> str | None:
        """``in_progress``, ``restored`` or ``None`` (never restored, or expired)."""
        now = self.clock()
        with self._lock:
            entry = self._current(bucket, version, now)
        if entry is None:
            return None
        return ONGOING if now < entry.ready else RESTORED

    def expiry(self, bucket: str, version: ObjectVersion) -> float | None:
        """When the restored copy of ``version`` stops being readable (``None``: none, or not yet)."""
        now = self.clock()
        with self._lock:
            entry = self._current(bucket, version, now)
        return entry.expiry if entry is not None and now >= entry.ready else None

    def readable(self, bucket: str, version: ObjectVersion) -> bool:
        return self.status(bucket, version) == RESTORED

    def headers(self, bucket: str, version: ObjectVersion) -> dict[str, str]:
        """The restore headers of a HEAD or GET answer (none for an object never restored)."""
        now = self.clock()
        with self._lock:
            entry = self._current(bucket, version, now)
        if entry is None:
            return {}
        ongoing = now < entry.ready
        self._notify(bucket, version.key, ONGOING if ongoing else RESTORED)
        if ongoing:
            return {
                "x-cos-restore": format_restore_header(True),
                "x-cos-restore-status": f'tier="{entry.tier.lower()}"; request-date="{http_date(entry.requested)}"',
            }
        return {"x-cos-restore": format_restore_header(False, entry.expiry)}

    def _notify(self, bucket: str, key: str, status: str) -> None:
        for observer in list(self.observers):
            observer(bucket, key, status)

    def request(self, bucket: str, version: ObjectVersion, days: int, tier: str, seconds: float) -> int:
        """Start or extend a restore; the HTTP status (202 started, 200 extended)."""
        now = self.clock()
        with self._lock:
            entry = self._current(bucket, version, now)
            if entry is not None and now < entry.ready:
                raise CosError(409, "RestoreAlreadyInProgress", "Object restore is already in progress.")
            if entry is not None:
                entry.days = days
                entry.expiry = expiry_after(now, days)
                return 200
            ready = now + seconds
            self._restores[(bucket, version.key, version.version_id)] = Restore(
                version, tier, days, now, ready, expiry_after(ready, days)
            )
            return 202


def restore_seconds(core: Core, storage_class: str, tier: str) -> float:
    seconds = float(getattr(core.model.settings, TIER_FIELDS[tier]))
    return seconds * DEEP_ARCHIVE_FACTOR if storage_class == "DEEP_ARCHIVE" else seconds


def _request_body(req: Request) -> tuple[int, str]:
    try:
        days_text, tier_text = parse_body(req.body)
    except ValueError as exc:
        raise CosError(
            400, "MalformedXML", f"The XML you provided was not well-formed or did not validate: {exc}"
        ) from exc
    if not days_text.isdigit() or not limits.MIN_RESTORE_DAYS <= int(days_text) <= limits.MAX_RESTORE_DAYS:
        raise invalid_argument(
            f"Days must be an integer from {limits.MIN_RESTORE_DAYS} to {limits.MAX_RESTORE_DAYS}, "
            f"got {days_text!r}"
        )
    if tier_text not in TIER_FIELDS:
        raise invalid_argument(f"Tier must be one of {', '.join(TIER_FIELDS)}, got {tier_text!r}")
    return int(days_text), tier_text


def post_restore(core: Core, req: Request, fault: Fault | None) -> Response:
    from cos_provider.emulator.objects import bucket_of, find_version, require_length, version_headers

    bucket = bucket_of(core, req)
    version = find_version(core, bucket, req)
    require_length(req)
    days, tier = _request_body(req)
    storage_class = version.attrs.storage_class
    if storage_class not in limits.ARCHIVED_STORAGE_CLASSES:
        raise CosError(
            403,
            "InvalidObjectState",
            f"Restore is not allowed for the object's current storage class {storage_class}.",
        )
    if storage_class == "DEEP_ARCHIVE" and tier == "Expedited":
        raise invalid_argument("The Expedited tier is not available for DEEP_ARCHIVE objects.")
    status = core.restores.request(
        bucket.name, version, days, tier, restore_seconds(core, storage_class, tier)
    )
    return Response(status=status, headers=version_headers(bucket, version))


def admin(emu: Any, method: str, name: str, data: dict[str, Any]) -> tuple[int, Any]:
    """``GET/PUT /_emulator/restore`` (tier seconds) and ``POST /_emulator/clock`` (``{"advance": s}``)."""
    book: RestoreBook = emu.core.restores
    if name == "clock" and method == "POST":
        return 200, {"now": book.advance(float(data.get("advance", 0)))}
    if name == "clock" and method == "GET":
        return 200, {"now": book.clock()}
    if name == "restore" and method == "PUT":
        emu.set_restore_times(**{k: float(v) for k, v in data.items()})
    if name == "restore" and method in ("GET", "PUT"):
        return 200, emu.restore_times()
    return 404, {"error": f"no admin endpoint {method} /_emulator/{name}"}
