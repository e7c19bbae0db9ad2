"""Undoing a copy that failed: aborting its upload, deleting a result that failed verification.

Both run on paths that are already failing, so they never raise: the error
the caller sees is the one that made the copy fail, and a cleanup that could
not be done is logged with what is needed to finish it by hand (the upload
id, the bucket and the key), and noted on that error (``__notes__``, shown
with its traceback). Only an explicit abort (:func:`abort_upload`, the
mapped teardown) raises :class:`UploadNotAborted` when the abort fails.
"""

from __future__ import annotations

import logging

from cos_provider.client.client import CosClient
from cos_provider.client.copy.errors import UploadNotAborted
from cos_provider.client.copy.progress import LoggerLike
from cos_provider.client.errors import CosError, CosServiceError
from cos_provider.client.etag import same_etag
from cos_provider.client.models import ObjectInfo
from cos_provider.client.operations import ObjectRef

log = logging.getLogger("cos_provider.copy")


def abort_upload(client: CosClient, dest: ObjectRef, upload_id: str) -> bool:
    """Abort ``upload_id``; ``True`` if it was open, ``False`` if COS no longer has it.

    Raises :class:`UploadNotAborted` (naming the upload, bucket and key) when
    COS keeps refusing, or never answers, after every retry.
    """
    try:
        client.abort_multipart_upload(dest, upload_id)
    except CosServiceError as exc:
        if exc.code == "NoSuchUpload" or exc.status == 404:
            return False
        raise UploadNotAborted(upload_id, dest.bucket, dest.key, exc) from exc
    except CosError as exc:
        raise UploadNotAborted(upload_id, dest.bucket, dest.key, exc) from exc
    return True


def abort_quietly(
    client: CosClient,
    dest: ObjectRef,
    upload_id: str,
    *,
    logger: LoggerLike = log,
    failure: BaseException | None = None,
) -> bool:
    """Abort ``upload_id``; ``True`` if it was open. Never raises.

    An abort that fails is logged; with ``failure`` (the error the copy is
    about to raise) it is also noted on that error (:func:`note_unaborted`),
    so the task's error says which upload is left to clean up.
    """
    try:
        return abort_upload(client, dest, upload_id)
    except UploadNotAborted as exc:
        logger.error("%s", exc)
        if failure is not None:
            note_unaborted(failure, exc)
        return False


def note_unaborted(failure: BaseException, unaborted: UploadNotAborted) -> None:
    """Add the upload ``failure`` leaves behind to its notes (once per upload), shown with its traceback."""
    notes: list[str] = getattr(failure, "__notes__", [])
    if any(unaborted.upload_id in note for note in notes):
        return
    text = f"Left behind: {unaborted}"
    if hasattr(failure, "add_note"):  # Python 3.11+
        failure.add_note(text)
    else:  # pragma: no cover - Python 3.10 keeps the note where 3.11 would
        failure.__notes__ = [*notes, text]


def discard(
    client: CosClient,
    dest: ObjectRef,
    version_id: str | None,
    etag: str,
    head: ObjectInfo | None = None,
    *,
    logger: LoggerLike = log,
) -> None:
    """Delete a result that failed verification, if it is still ours.

    Without a version id, the key is deleted only while it still has the
    ETag the copy produced, so a writer that replaced it meanwhile keeps its object.
    """
    try:
        version = version_param(version_id)
        if version is not None:
            client.delete_object(dest.bucket, dest.key, version)
            return
        current = head or client.head_object(dest.bucket, dest.key)
        if same_etag(current.etag, etag):
            client.delete_object(dest.bucket, dest.key)
        else:
            logger.error("Not deleting %s: it changed since the copy (ETag %s)", dest.uri(), current.etag)
    except CosError as exc:
        logger.error("Could not delete the corrupt copy at %s: %s", dest.uri(), exc)


def version_param(version_id: str | None) -> str | None:
    """A version id worth sending: COS reports ``"null"`` for unversioned writes."""
    return version_id if version_id and version_id != "null" else None
