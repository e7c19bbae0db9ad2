"""Replacing an object's metadata in place: a self-copy with ``Replaced``.

COS has no "update metadata" call; a PUT copy onto itself with
``x-cos-metadata-directive: Replaced`` rewrites it, and resets everything the
request does not repeat. So the change is computed against a fresh HEAD
(merge by default, ``remove`` to drop names), the storage class and SSE are
carried over, and the copy is pinned with If-Match to the ETag that HEAD
read, so a concurrent writer is never silently overwritten.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cos_provider.client import limits, validation
from cos_provider.client.copy import CopyEngine, CopyOptions
from cos_provider.client.copy.plan import DEFAULT_CONCURRENCY
from cos_provider.client.errors import CosServiceError, CosValidationError
from cos_provider.client.etag import same_etag
from cos_provider.client.models import ObjectInfo
from cos_provider.client.operations import CONTENT_HEADERS, CopyConditions, ObjectRef
from cos_provider.client.params import attributes, check_sizes


@dataclass(frozen=True)
class MetadataChange:
    """What the caller asked to change; build it with :meth:`of`, which validates."""

    metadata: Mapping[str, str]
    remove: tuple[str, ...]
    merge: bool
    content: Mapping[str, str | None]
    storage_class: str | None

    @classmethod
    def of(
        cls,
        metadata: Any = None,
        remove: Any = None,
        merge: Any = True,
        storage_class: Any = None,
        **content: Any,
    ) -> MetadataChange:
        unknown = sorted(set(content) - set(CONTENT_HEADERS))
        if unknown:
            raise CosValidationError(", ".join(unknown), "is not a content header parameter")
        if metadata is not None and not isinstance(metadata, Mapping):
            raise CosValidationError("metadata", "must be a dict of name -> value")
        new_meta = validation.normalise_metadata(metadata)
        names = remove or []
        if isinstance(names, str) or not all(isinstance(n, str) for n in names):
            raise CosValidationError("remove", "must be a list of metadata names")
        if not isinstance(merge, bool):
            raise CosValidationError("merge", f"must be True or False, got {merge!r}")
        if names and not merge:
            raise CosValidationError(
                "remove", "only applies with merge=True (merge=False replaces everything)"
            )
        removed = tuple(n.lower().removeprefix("x-cos-meta-") for n in names)
        clash = sorted(set(removed) & set(new_meta))
        if clash:
            raise CosValidationError("remove", f"also sets {', '.join(clash)} in metadata; choose one")
        given = {name: content.get(name) for name in CONTENT_HEADERS}
        attributes({"storage_class": storage_class, **given})
        return cls(new_meta, removed, merge, given, storage_class)

    def resulting_attributes(self, current: ObjectInfo) -> dict[str, Any]:
        """Content headers, metadata, storage class and SSE the object should end with."""
        if self.merge:
            meta = {k: v for k, v in current.metadata.items() if k not in set(self.remove)}
            meta.update(self.metadata)
            content = {name: getattr(current, name) for name in CONTENT_HEADERS}
        else:
            meta = dict(self.metadata)
            content = dict.fromkeys(CONTENT_HEADERS)
        for name, value in self.content.items():
            if value is not None:
                content[name] = value
        return {
            **content,
            "metadata": meta,
            "storage_class": self.storage_class or current.storage_class,
            "server_side_encryption": current.server_side_encryption,
        }


def replace_metadata(
    engine: CopyEngine,
    ref: ObjectRef,
    change: MetadataChange,
    *,
    if_match: str | None = None,
    multipart_threshold: int = limits.MAX_SINGLE_COPY_SIZE,
    part_size: int | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> dict[str, Any]:
    """Apply ``change`` to ``ref``; returns the JSON-able result (new and previous ETag, metadata...)."""
    check_sizes(multipart_threshold=multipart_threshold, part_size=part_size, concurrency=concurrency)
    client = engine.client
    current = client.head_object(ref.bucket, ref.key, region=ref.region)
    if if_match and not same_etag(if_match, current.etag):
        raise CosServiceError(
            412,
            "PreconditionFailed",
            f"{ref.uri()} has ETag {current.etag}, not if_match {if_match!r}",
            request_id=current.request_id or "",
            method="HEAD",
        )
    options = CopyOptions(
        metadata_directive="Replaced",
        attributes=attributes(change.resulting_attributes(current)),
        conditions=CopyConditions(if_match=current.etag),
        multipart_threshold=multipart_threshold,
        part_size=part_size,
        concurrency=concurrency,
    )
    engine.validate(ref, ref, options)
    outcome = engine.copy(ref, ref, options, source_info=current)
    after = client.head_object(ref.bucket, ref.key, outcome.version_id, ref.region)
    engine.log.info(
        "Replaced metadata of %s: %s (ETag %s -> %s)", ref.uri(), after.metadata, current.etag, after.etag
    )
    result: dict[str, Any] = {
        "uri": ref.uri(),
        "etag": after.etag or outcome.etag,
        "version_id": outcome.version_id,
        "previous_etag": current.etag,
        "previous_version_id": current.version_id,
        "metadata": after.metadata,
    }
    result.update({name: getattr(after, name) for name in CONTENT_HEADERS})
    result.update(
        {
            "storage_class": after.storage_class,
            "size": after.size,
            "crc64": after.crc64,
            "part_count": outcome.part_count,
        }
    )
    return result
