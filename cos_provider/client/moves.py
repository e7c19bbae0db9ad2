"""The delete half of a move.

A move is copy, verify, then delete; between the copy and the delete another
writer may have replaced the source. Deleting it then would lose data nobody
copied, so the source is deleted only while its ETag is still the one the
copy was pinned to (or, for a version, that exact version).
"""

from __future__ import annotations

from typing import Any

from cos_provider.client.client import CosClient
from cos_provider.client.copy import CopyOutcome
from cos_provider.client.encryption import CustomerKey
from cos_provider.client.errors import CosError
from cos_provider.client.etag import same_etag
from cos_provider.client.operations import ObjectRef


def delete_moved_source(
    client: CosClient,
    source: ObjectRef,
    outcome: CopyOutcome,
    log: Any,
    customer_key: CustomerKey | None = None,
) -> None:
    """Delete ``source`` if it is still what was copied; ``customer_key`` HEADs an SSE-C source."""
    if source.version_id:
        client.delete_object(source.bucket, source.key, source.version_id)
        log.info("Moved: deleted source version %s of %s", source.version_id, source.uri())
        return
    current = client.head_object(source.bucket, source.key, region=source.region, customer_key=customer_key)
    if not same_etag(current.etag, outcome.source_etag):
        raise CosError(
            f"{source.uri()} changed after it was copied (ETag {outcome.source_etag} -> {current.etag}); "
            "the copy is done but the source was NOT deleted"
        )
    client.delete_object(source.bucket, source.key)
    log.info("Moved: deleted source %s", source.uri())
