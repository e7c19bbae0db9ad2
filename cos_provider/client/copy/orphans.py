"""Uploads a copy created without knowing it: recognising and aborting them.

The problem
-----------
Initiate is not idempotent. When its reply is lost (the connection is reset
after COS created the upload, or the reply comes later than the read
timeout) the request is retried, and COS then holds one upload per attempt
that got through. The engine learns the id of one of them only; the others
have no witness part (:mod:`resume`), so no later run recognises them as
ours, and they would stay, with every part a later retry never writes,
until a lifecycle rule or a human aborts them. This module finds and aborts
them, whether the copy then succeeds or fails.

Which attempts may have created an upload
-----------------------------------------
The engine sends Initiate one attempt at a time itself (:func:`initiate`,
with the client's own retry policy), so it knows what became of each: an
attempt that got no HTTP answer (reset, read timeout, refused connection),
was answered 5xx, or was answered 200 with something unreadable *may* have
created an upload. When no attempt did, nothing below happens: no listing,
no extra request. An attempt that failed after at least the read timeout
*timed out*: COS may still be working on it and create its upload later,
even after the copy is over.

The rule
--------
An open upload ``U`` is an orphan of this copy, and is aborted, exactly when

1. ``U`` is on the destination key itself (ListMultipartUploads with the key
   as prefix; keys compared whole, so ``a.bin2`` is never touched for ``a.bin``);
2. ``U`` is neither the upload the copy uses nor any other upload this
   engine has open (the other copies of a ``copy_many``);
3. ``U`` was not in the listing the resume check made just before the first
   Initiate was sent (when it made one): whatever existed then is someone
   else's, however close in time;
4. ``U.Initiated >= since``, with ``since = D - (r - s) - 1 s``: ``D`` is the
   ``Date`` of a COS reply (Initiate's, or the first listing's if Initiate
   never answered), ``r`` the moment it arrived and ``s`` the moment the
   first attempt was sent, both on the client's monotonic clock. So ``since``
   is COS's time of the first send, computed from COS's clock and a duration
   only: no clock skew between client and COS enters, and the second
   subtracted covers COS's whole-second ``Date`` and ``Initiated``;
5. ``U.Initiated <= until``, with ``until = D - (r - e) + 2 s`` (``e``: when
   Initiate returned), unless an attempt timed out. Every attempt that did
   not time out was over (answered, reset or refused) before the next one
   was sent, so whatever it created exists before ``e``. After a timeout
   there is no upper bound: COS may create that upload at any later time.

Why it is safe: an upload another actor initiated before this copy started
is in the pre-Initiate listing, or was initiated before ``since``; an upload
of another key is never listed; and whatever a copy of ours is using is
excluded by id. What cannot be told apart is another writer initiating an
upload of the *same key* while this copy's Initiate is in flight (or, after
a timeout, until the late upload is found): two writers of one key at the
same moment race anyway; the abort is logged with its id. When the resume
check made no listing (``resume=False``, a 10,000-part plan, listing
forbidden), an upload initiated within about a second before the first
attempt is inside the window too.

When
----
Right after Initiate (a reset's upload is already there), again when the
copy ends, succeeded or failed (:meth:`CopyEngine.copy`, and the mapped
steps' Complete and Abort, to which the window travels inside the
:class:`~cos_provider.client.copy.MultipartSession`). While fewer late
uploads were found than attempts timed out, these later looks keep listing,
waiting between listings (an Event: ``cancel()`` ends the wait), until they
are found or COS's clock passes Initiate's return by
:data:`LATE_UPLOAD_GRACE`; then a warning says what may be left. An abort
that fails is logged, and noted on the copy's error when the copy fails.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from cos_provider.client import operations as ops
from cos_provider.client.client import CosClient
from cos_provider.client.copy.cancel import OpenUploads
from cos_provider.client.copy.cleanup import abort_upload, note_unaborted
from cos_provider.client.copy.errors import UploadNotAborted
from cos_provider.client.copy.progress import LoggerLike
from cos_provider.client.encryption import CustomerKey, require_https
from cos_provider.client.errors import CosError, CosServiceError, CosTransportError
from cos_provider.client.models import Upload
from cos_provider.client.operations import ObjectAttributes, ObjectRef
from cos_provider.client.protocol import Call, RawResponse
from cos_provider.client.retry import RetryPolicy
from cos_provider.client.timestamps import parse_timestamp
from cos_provider.client.transport import SyncTransport

T = TypeVar("T")

GRANULARITY = timedelta(seconds=1)
"""COS's ``Date`` and ``Initiated`` times may be whole seconds."""
LATE_UPLOAD_GRACE = 60.0
"""Seconds (of COS's clock, after Initiate returned) to keep looking for the upload of a timed-out attempt."""
FIRST_POLL, LONGEST_POLL = 0.1, 5.0
"""Wait between two listings while looking for a late upload: doubles from the first to the longest."""


@dataclass
class OrphanWindow:
    """What recognises the orphans of one copy's Initiate; JSON-able (see the module docstring)."""

    upload_id: str
    """The upload the copy uses; empty when Initiate never answered."""
    known: list[str]
    """Uploads listed before the first Initiate attempt was sent."""
    uncertain: int
    """Initiate attempts that may have created an upload."""
    timed_out: int
    """Of those, the ones that timed out (their upload may come later)."""
    since: datetime | None = None
    until: datetime | None = None
    look_until: datetime | None = None
    """COS time after which a late upload is no longer waited for."""
    remaining: int = 0
    """Timed-out attempts whose upload has not been seen yet."""
    seen: list[str] = field(default_factory=list)
    counted: bool = False
    """Whether a listing has counted what it found against the attempts (the first one does)."""
    done: bool = False
    first_sent: float | None = field(default=None, compare=False, repr=False)
    returned: float | None = field(default=None, compare=False, repr=False)
    """Monotonic times of this process (the first send; Initiate's return); not serialised."""

    # -- anchoring the window on COS's clock

    def anchor(self, date: datetime | None, received: float) -> bool:
        """Fix ``since``/``until`` from a COS ``Date`` received at monotonic ``received``; ``False`` if unusable."""
        if self.since is not None:
            return True
        if date is None or self.first_sent is None:
            return False
        self.since = date - timedelta(seconds=received - self.first_sent) - GRANULARITY
        returned = date - timedelta(
            seconds=received - (self.returned if self.returned is not None else received)
        )
        self.until = returned + 2 * GRANULARITY if self.timed_out == 0 else None
        self.look_until = returned + timedelta(seconds=LATE_UPLOAD_GRACE)
        self.remaining = self.timed_out
        return True

    def is_orphan(self, upload: Upload, uploads: OpenUploads) -> bool:
        """Rules 2-5 of the module docstring (the listing applies rule 1)."""
        if upload.upload_id in (self.upload_id, *self.known, *self.seen) or uploads.is_open(upload.upload_id):
            return False
        if upload.initiated is None or self.since is None or upload.initiated < self.since:
            return False
        return self.until is None or upload.initiated <= self.until

    # -- looking

    def sweep(
        self, client: CosClient, dest: ObjectRef, uploads: OpenUploads, *, log: LoggerLike, wait: bool
    ) -> list[UploadNotAborted]:
        """Abort the orphans listed now; with ``wait``, keep looking for late ones. Never raises a :class:`CosError`.

        Returns the orphans whose abort failed (already logged).
        """
        failed: list[UploadNotAborted] = []
        delay = FIRST_POLL
        while not self.done:
            try:
                listed, date, received = list_uploads(client, dest)
            except CosError as exc:
                self._cannot_list(dest, exc, log, final=isinstance(exc, CosServiceError) and exc.status < 500)
                return failed
            if not self.anchor(date, received):
                log.warning(
                    "Cannot tell which open uploads of %s an Initiate whose reply was lost created "
                    "(no COS Date to anchor on); up to %d may be left: check ListMultipartUploads",
                    dest.uri(),
                    self.uncertain,
                )
                self.done = True
                return failed
            found = [u for u in listed if self.is_orphan(u, uploads)]
            for upload in found:
                self.seen.append(upload.upload_id)
                try:
                    aborted = abort_upload(client, dest, upload.upload_id)
                except UploadNotAborted as exc:
                    log.error("%s", exc)
                    failed.append(exc)
                    continue
                if aborted:
                    log.warning(
                        "Aborted upload %s of %s (initiated %s): an Initiate of this copy whose reply was "
                        "lost created it, and the transport's retry created the one the copy uses",
                        upload.upload_id,
                        dest.uri(),
                        upload.initiated.isoformat() if upload.initiated else "?",
                    )
            if not self.counted:
                # The attempts that did not time out are over; count what was found against them first.
                self.remaining = self.timed_out - max(0, len(found) - (self.uncertain - self.timed_out))
                self.counted = True
            else:
                self.remaining -= len(found)
            if self.remaining <= 0:
                self.done = True
                break
            if not wait or date is None:
                break
            if self.look_until is not None and date >= self.look_until:
                log.warning(
                    "Gave up looking for %d upload(s) of %s that timed-out Initiate attempts may still "
                    "create (initiated after %s): check ListMultipartUploads later, or let a lifecycle "
                    "rule for incomplete uploads remove them",
                    self.remaining,
                    dest.uri(),
                    self.since.isoformat() if self.since else "?",
                )
                self.done = True
                break
            if uploads.cancelled.wait(delay):
                break
            delay = min(delay * 2, LONGEST_POLL)
        return failed

    def _cannot_list(self, dest: ObjectRef, exc: CosError, log: LoggerLike, *, final: bool) -> None:
        log.warning(
            "Cannot list the open uploads of %s to abort those an Initiate whose reply was lost created "
            "(%s); up to %d may be left%s",
            dest.uri(),
            exc,
            self.uncertain,
            ": check ListMultipartUploads, or let a lifecycle rule remove them"
            if final
            else "; will look again",
        )
        if final:
            self.done = True

    # -- JSON

    def to_dict(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value is not None else None

        return {
            "upload_id": self.upload_id,
            "known": list(self.known),
            "uncertain": self.uncertain,
            "timed_out": self.timed_out,
            "since": iso(self.since),
            "until": iso(self.until),
            "look_until": iso(self.look_until),
            "remaining": self.remaining,
            "seen": list(self.seen),
            "counted": self.counted,
            "done": self.done,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OrphanWindow:
        return cls(
            upload_id=str(data.get("upload_id") or ""),
            known=[str(u) for u in data.get("known") or ()],
            uncertain=int(data.get("uncertain") or 0),
            timed_out=int(data.get("timed_out") or 0),
            since=parse_timestamp(data.get("since")),
            until=parse_timestamp(data.get("until")),
            look_until=parse_timestamp(data.get("look_until")),
            remaining=int(data.get("remaining") or 0),
            seen=[str(u) for u in data.get("seen") or ()],
            counted=bool(data.get("counted")),
            done=bool(data.get("done")),
        )


def sweep_after_failure(
    window: OrphanWindow | None,
    client: CosClient,
    dest: ObjectRef,
    uploads: OpenUploads,
    failure: BaseException,
    *,
    log: LoggerLike,
) -> None:
    """Look for orphans on a failing path: wait for late ones unless interrupted; note failed aborts on ``failure``."""
    if window is None or window.done:
        return
    interrupted = not isinstance(failure, Exception) or uploads.cancelled.is_set()
    for unaborted in window.sweep(client, dest, uploads, log=log, wait=not interrupted):
        note_unaborted(failure, unaborted)


def list_uploads(client: CosClient, dest: ObjectRef) -> tuple[list[Upload], datetime | None, float]:
    """Open uploads of exactly ``dest``, COS's ``Date`` of the first page and when it arrived (monotonic)."""
    out: list[Upload] = []
    date: datetime | None = None
    received = 0.0
    key_marker = upload_id_marker = ""
    while True:
        call = ops.list_multipart_uploads(dest.bucket, dest.key, key_marker, upload_id_marker)
        page, page_date = client.execute(_dated(call))
        if not out and date is None:
            date, received = page_date, time.monotonic()
        out.extend(u for u in page.uploads if u.key == dest.key)
        if not page.is_truncated or not page.next_key_marker:
            return out, date, received
        key_marker, upload_id_marker = page.next_key_marker, page.next_upload_id_marker or ""


@dataclass(frozen=True)
class Initiated:
    """An upload Initiate created for the copy, and what recognises its orphans (``None``: no attempt was lost)."""

    upload_id: str
    date: datetime | None
    """COS's ``Date`` of the reply that carried the upload id."""
    window: OrphanWindow | None


def initiate(
    client: CosClient,
    uploads: OpenUploads,
    dest: ObjectRef,
    attributes: ObjectAttributes,
    known: Sequence[str],
    *,
    log: LoggerLike,
    forbid_overwrite: bool = False,
    customer_key: CustomerKey | None = None,
) -> Initiated:
    """Initiate, one attempt at a time, then abort the orphans of attempts whose reply was lost.

    The client's retry policy decides what is retried and how long to wait,
    as for any call; only the attempts are sent through a one-attempt
    transport of the same settings, so each one's fate is known (see the
    module docstring).
    """
    if customer_key is not None:
        require_https(client.endpoint, "sse_customer_key")
    call = ops.initiate_multipart_upload(
        dest, attributes, forbid_overwrite=forbid_overwrite, customer_key=customer_key
    )
    config = client.transport.config
    single = SyncTransport(
        client.transport.credentials,
        client.transport.endpoint,
        dataclasses.replace(config, retry=RetryPolicy(max_attempts=1)),
    )
    uncertain = timed_out = 0
    first_sent = time.monotonic()

    def attempt(number: int) -> tuple[str, datetime | None]:
        nonlocal uncertain, timed_out
        began = time.monotonic()
        try:
            result, date = single.execute(_dated(call))
        except Exception as exc:
            if isinstance(exc, CosError):
                exc.during(exc.cos_request, number)
            if _may_have_created(exc):
                uncertain += 1
                if isinstance(exc, CosTransportError) and time.monotonic() - began >= config.read_timeout:
                    timed_out += 1
            raise
        return result.upload_id, date

    def window(upload_id: str) -> OrphanWindow:
        log.warning(
            "Initiate of %s needed %d retr%s after attempts whose reply was lost or failed (%d timed out); "
            "looking for the uploads they may have created",
            dest.uri(),
            uncertain,
            "y" if uncertain == 1 else "ies",
            timed_out,
        )
        return OrphanWindow(upload_id, list(known), uncertain, timed_out, first_sent=first_sent)

    try:
        upload_id, date = _retrying(config.retry, attempt)
    except Exception as exc:
        if uncertain:
            found = window("")
            sweep_after_failure(found, client, dest, uploads, exc, log=log)
        raise
    finally:
        single.close()
    if not uncertain:
        return Initiated(upload_id, date, None)
    found = window(upload_id)
    found.returned = time.monotonic()
    found.anchor(date, found.returned)
    found.sweep(client, dest, uploads, log=log, wait=False)
    return Initiated(upload_id, date, found)


def _retrying(
    policy: RetryPolicy, attempt: Callable[[int], tuple[str, datetime | None]]
) -> tuple[str, datetime | None]:
    for state in policy.retrying():
        with state:
            return attempt(state.retry_state.attempt_number)
    raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover


def _may_have_created(exc: BaseException) -> bool:
    """Could COS have created an upload for an attempt that raised ``exc``? Only a 4xx refusal says no."""
    if isinstance(exc, CosServiceError):
        return not (400 <= exc.status < 500) or exc.is_transient
    return True


def _dated(call: Call[T]) -> Call[tuple[T, datetime | None]]:
    """``call``, answering (its result, COS's ``Date`` of the reply)."""

    def parse(r: RawResponse) -> tuple[T, datetime | None]:
        return call.parse(r), parse_timestamp(r.headers.get("Date"))

    return Call(call.request, parse)


__all__ = ["Initiated", "OrphanWindow", "initiate", "list_uploads", "sweep_after_failure"]
