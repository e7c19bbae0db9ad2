"""Undoing a copy that failed: aborting its upload, deleting a result that failed verification.

Both run on paths that are already failing, so they never raise: the error
the caller sees is the one that made the copy fail, and a cleanup that could
not be done is logged with what is needed to finish it by hand (the upload
id, the object).
"""

from __future__ import annotations

import logging

from cos_provider.client.client import CosClient
from cos_provider.client.copy.progress import LoggerLike
from cos_provider.client.errors import CosError, CosServiceError
from cos_provider.client.etag import same_etag
from cos_provider.client.models import ObjectInfo
from cos_provider.client.operations import ObjectRef

log = logging.getLogger("cos_provider.copy")


def abort_quietly(client: CosClient, dest: ObjectRef, upload_id: str, *, logger: LoggerLike = log) -> bool:
    """Abort ``upload_id``; ``True`` if it was open."""
    try:
        client.abort_multipart_upload(dest, upload_id)
    except CosServiceError as exc:
        if exc.code == "NoSuchUpload" or exc.status == 404:
            return False
        logger.error("Could not abort upload %s of %s: %s", upload_id, dest.uri(), exc)
        return False
    except CosError as exc:
        logger.error("Could not abort upload %s of %s: %s", upload_id, dest.uri(), exc)
        return False
    return True


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
