"""Replacing an object's metadata in place: a self-copy with ``Replaced``.

COS has no "update metadata" call; a PUT copy onto itself with
``x-cos-metadata-directive: Replaced`` rewrites it, and resets everything the
request does not repeat. So the change is computed against a fresh HEAD
(merge by default, ``remove`` to drop names), the storage class and the
server-side encryption (algorithm and KMS key id; HEAD does not return a KMS
context, so none can be carried) are repeated, and the copy is pinned with
If-Match to the ETag that HEAD read, so a concurrent writer is never
silently overwritten. Tags are kept by COS itself on a single copy (no
tagging directive is sent) and read and repeated by a multipart one, unless
the change retags. An SSE-C object is read and rewritten with its key: the
same key on both sides of the self-copy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cos_provider.client import limits, validation
from cos_provider.client.copy import CopyEngine, CopyOptions
from cos_provider.client.copy.plan import DEFAULT_CONCURRENCY
from cos_provider.client.encryption import CustomerKey, CustomerKeys, key_needed, require_https
from cos_provider.client.errors import CosServiceError, CosValidationError
from cos_provider.client.etag import same_etag
from cos_provider.client.models import ObjectInfo
from cos_provider.client.operations import CONTENT_HEADERS, CopyConditions, ObjectRef
from cos_provider.client.params import attributes, check_sizes
from cos_provider.client.tagging import directive as tag_directive


@dataclass(frozen=True)
class MetadataChange:
    """What the caller asked to change; build it with :meth:`of`, which validates."""

    metadata: Mapping[str, str]
    remove: tuple[str, ...]
    merge: bool
    content: Mapping[str, str | None]
    storage_class: str | None
    tagging: str | None = None
    """New tags (canonical header form); ``None`` keeps the object's unless ``tagging_directive``."""
    tagging_directive: str | None = None

    @classmethod
    def of(
        cls,
        metadata: Any = None,
        remove: Any = None,
        merge: Any = True,
        storage_class: Any = None,
        tagging: Any = None,
        tagging_directive: Any = None,
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
        checked = attributes({"storage_class": storage_class, "tagging": tagging, **given})
        directive = tag_directive(tagging_directive, checked.tagging is not None)
        tags = checked.tagging if isinstance(checked.tagging, str) else None  # canonical: a str or None
        return cls(new_meta, removed, merge, given, checked.storage_class, tags, directive)

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
        kms = current.server_side_encryption == limits.SSE_KMS
        return {
            **content,
            "metadata": meta,
            "storage_class": self.storage_class or current.storage_class,
            "server_side_encryption": current.server_side_encryption,
            "kms_key_id": current.kms_key_id if kms else None,
            "tagging": self.tagging,
        }


def replace_metadata(
    engine: CopyEngine,
    ref: ObjectRef,
    change: MetadataChange,
    *,
    customer_key: CustomerKey | None = None,
    if_match: str | None = None,
    multipart_threshold: int = limits.MAX_SINGLE_COPY_SIZE,
    part_size: int | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> dict[str, Any]:
    """Apply ``change`` to ``ref``; returns the JSON-able result (new and previous ETag, metadata...)."""
    check_sizes(multipart_threshold=multipart_threshold, part_size=part_size, concurrency=concurrency)
    client = engine.client
    keys = CustomerKeys(source=customer_key, dest=customer_key)
    if customer_key is not None:
        require_https(client.endpoint, "sse_customer_key")
    try:
        current = client.head_object(ref.bucket, ref.key, region=ref.region, customer_key=customer_key)
    except CosServiceError as exc:
        if customer_key is None:
            raise key_needed(exc, ref.uri(), "sse_customer_key") from exc
        raise
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
        tagging_directive=change.tagging_directive,
        keys=keys,
    )
    engine.validate(ref, ref, options)
    outcome = engine.copy(ref, ref, options, source_info=current)
    after = client.head_object(ref.bucket, ref.key, outcome.version_id, ref.region, customer_key=customer_key)
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
