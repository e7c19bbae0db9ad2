"""The source side of a copy: the caller's conditions and the attributes the copy inherits.

A single PUT copy lets COS evaluate the caller's conditions and carry the
source's attributes over by itself. A multipart copy does neither: parts can
only carry ``If-Match`` (COS does not combine it with ``If-None-Match`` or
``If-Modified-Since``), and Initiate starts a blank object. So for a
multipart copy the engine evaluates the conditions against its own HEAD and
sends the attributes with Initiate - tags included, which COS copies by
itself on a PUT copy but a multipart copy must read from the source and
send - and those rules live here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from cos_provider.client import tagging
from cos_provider.client.copy.models import CopyOptions
from cos_provider.client.errors import CosServiceError
from cos_provider.client.etag import normalise_etag
from cos_provider.client.models import ListedObject, ObjectInfo
from cos_provider.client.operations import CopyConditions, ObjectAttributes, ObjectRef
from cos_provider.client.timestamps import whole_second


def check_conditions(info: ObjectInfo, conditions: CopyConditions, source: ObjectRef) -> None:
    """Raise the 412 ``PreconditionFailed`` COS would have answered for ``conditions``.

    Used where a condition cannot travel with every request (see the module
    docstring).
    """
    etag = normalise_etag(info.etag)
    failed: list[str] = []
    if conditions.if_match and normalise_etag(conditions.if_match) != etag:
        failed.append(f"If-Match {conditions.if_match!r} (source ETag is {info.etag})")
    if conditions.if_none_match and normalise_etag(conditions.if_none_match) == etag:
        failed.append(f"If-None-Match {conditions.if_none_match!r} (source ETag is {info.etag})")
    lm = info.last_modified
    if lm is not None:
        if conditions.if_modified_since and not lm > whole_second(conditions.if_modified_since):
            failed.append(
                f"If-Modified-Since {conditions.if_modified_since} (source modified {lm.isoformat()})"
            )
        if conditions.if_unmodified_since and lm > whole_second(conditions.if_unmodified_since):
            failed.append(
                f"If-Unmodified-Since {conditions.if_unmodified_since} (source modified {lm.isoformat()})"
            )
    if failed:
        raise CosServiceError(
            412,
            "PreconditionFailed",
            "copy source condition not met: " + "; ".join(failed),
            resource=source.uri(),
            request_id=info.request_id or "",
            method="HEAD",
        )


def initiate_attributes(
    info: ObjectInfo, options: CopyOptions, source_tags: Sequence[tuple[str, str]] | None = None
) -> ObjectAttributes:
    """What Initiate sends so the multipart result matches what PUT copy would make.

    Tags follow the tagging directive as a PUT copy's would: ``Replaced``
    gives the caller's tags (or none); otherwise the source's, which the
    caller read with GET Object tagging (``source_tags``), since an Initiate
    starts an untagged object.
    """
    attrs = options.attributes
    if options.tag_directive != "Replaced":
        attrs = dataclasses.replace(attrs, tagging=tagging.encode(source_tags) if source_tags else None)
    if options.directive == "Replaced":
        return attrs
    return dataclasses.replace(
        attrs,
        content_type=info.content_type,
        cache_control=info.cache_control,
        content_disposition=info.content_disposition,
        content_encoding=info.content_encoding,
        expires=info.expires,
        metadata=dict(info.metadata) or None,
    )


def listed_info(bucket: str, obj: ListedObject) -> ObjectInfo:
    """A listing entry as an :class:`ObjectInfo`, so a small listed object needs no HEAD.

    It has no CRC64 and no headers; a copy made from it is pinned to the
    listed ETag but cannot be checked against a CRC.
    """
    return ObjectInfo(
        bucket=bucket, key=obj.key, size=obj.size, etag=obj.etag, last_modified=obj.last_modified
    )
