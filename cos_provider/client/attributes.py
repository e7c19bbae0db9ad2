"""What a request says about an object: which one, under which conditions, with which attributes.

Copies, metadata replacement and (later) uploads all write objects with the
same attributes and read sources under the same conditions; these value
types turn them into COS headers in one place, validating each field under
the name the user gave it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from cos_provider.client import limits, tagging, validation
from cos_provider.client.encryption import CustomerKeys, kms_context
from cos_provider.client.errors import CosValidationError
from cos_provider.client.etag import quote_etag
from cos_provider.client.timestamps import http_date

CONTENT_HEADERS = ("content_type", "cache_control", "content_disposition", "content_encoding", "expires")
_CONTENT_HEADER_NAMES = {
    "content_type": "Content-Type",
    "cache_control": "Cache-Control",
    "content_disposition": "Content-Disposition",
    "content_encoding": "Content-Encoding",
    "expires": "Expires",
}
GRANTS = ("grant_read", "grant_write", "grant_read_acp", "grant_write_acp", "grant_full_control")
"""``grant_write`` is in the PUT Object - Copy reference (seed); newer COS docs list only the other four."""


@dataclass(frozen=True)
class ObjectRef:
    """An object (or one version of it) in a bucket, possibly in another region."""

    bucket: str
    key: str
    """As COS stores it: one leading ``/`` is dropped on construction, as the SDK drops it
    (:func:`~cos_provider.client.validation.normalise_key`)."""
    version_id: str | None = None
    region: str | None = None

    def __post_init__(self) -> None:
        key = validation.normalise_key(self.key)
        if key is not self.key:
            object.__setattr__(self, "key", key)

    def uri(self) -> str:
        return f"cos://{self.bucket}/{self.key}"


def _etag_header(etag: str, field: str) -> str:
    """An ETag as a header: surrounding white space dropped (ETags never hold any), quoted."""
    text = validation.validate_header_value(etag.strip() if isinstance(etag, str) else etag, field)
    return quote_etag(text)


@dataclass(frozen=True)
class CopyConditions:
    """The four ``x-cos-copy-source-If-*`` preconditions."""

    if_match: str | None = None
    if_none_match: str | None = None
    if_modified_since: datetime | str | None = None
    if_unmodified_since: datetime | str | None = None

    def validate(self) -> None:
        validation.validate_conditions(
            self.if_match, self.if_none_match, self.if_modified_since, self.if_unmodified_since
        )

    def headers(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.if_match:
            out["x-cos-copy-source-If-Match"] = _etag_header(self.if_match, "copy_source_if_match")
        if self.if_none_match:
            out["x-cos-copy-source-If-None-Match"] = _etag_header(
                self.if_none_match, "copy_source_if_none_match"
            )
        if self.if_modified_since:
            out["x-cos-copy-source-If-Modified-Since"] = http_date(self.if_modified_since)
        if self.if_unmodified_since:
            out["x-cos-copy-source-If-Unmodified-Since"] = http_date(self.if_unmodified_since)
        return out

    def pinned_to(self, etag: str) -> CopyConditions:
        """These conditions plus ``If-Match: etag``, the pin of a multipart copy.

        A caller's own If-Match must agree with the pin; If-None-Match and
        If-Modified-Since were checked once against the pinned version and
        cannot be sent alongside If-Match, so they are dropped from parts.
        """
        return dataclasses.replace(self, if_match=etag, if_none_match=None, if_modified_since=None)


@dataclass(frozen=True)
class ObjectAttributes:
    """What a write sets on the new object: content headers, metadata, class, ACL, SSE, tags.

    ``metadata`` holds user metadata names without the ``x-cos-meta-`` prefix;
    ``tagging`` is a dict or a ``k=v&k2=v2`` string (see :mod:`tagging`).
    :meth:`headers` checks every field (type and COS rule) and renders it,
    so a builder refuses a bad attribute before anything is sent.
    """

    content_type: str | None = None
    cache_control: str | None = None
    content_disposition: str | None = None
    content_encoding: str | None = None
    expires: str | None = None
    metadata: Mapping[str, str] | None = None
    storage_class: str | None = None
    acl: str | None = None
    grant_read: str | None = None
    grant_read_acp: str | None = None
    grant_write_acp: str | None = None
    grant_full_control: str | None = None
    server_side_encryption: str | None = None
    tagging: str | Mapping[str, str] | None = None
    grant_write: str | None = None
    kms_key_id: str | None = None
    kms_context: str | Mapping[str, str] | None = None

    def headers(self, *, include_content: bool = True, include_tagging: bool = True) -> dict[str, str]:
        out: dict[str, str] = {}
        if include_content:
            for attr in CONTENT_HEADERS:
                value = validation.validate_string(getattr(self, attr), attr)
                if value is not None:
                    out[_CONTENT_HEADER_NAMES[attr]] = validation.validate_header_value(value, attr)
            if self.metadata is not None and not isinstance(self.metadata, Mapping):
                raise CosValidationError(
                    "metadata", f"must be a dict of name -> value, got {type(self.metadata).__name__}"
                )
            for name, value in validation.normalise_metadata(self.metadata).items():
                out[f"x-cos-meta-{name}"] = value
        storage_class = validation.validate_storage_class(self.storage_class)
        if storage_class:
            out["x-cos-storage-class"] = storage_class
        acl = validation.validate_acl(self.acl)
        if acl:
            out["x-cos-acl"] = acl
        for grant in GRANTS:
            value = validation.validate_grant(getattr(self, grant), grant)
            if value:
                out["x-cos-" + grant.replace("_", "-")] = validation.validate_header_value(value, grant)
        out.update(self.encryption_headers())
        tags = tagging.header(self.tagging)
        if tags is not None and include_tagging:
            out["x-cos-tagging"] = tags
        return out

    def encryption_headers(self) -> dict[str, str]:
        """SSE-COS / SSE-KMS headers; the KMS key id and context only make sense with ``cos/kms``."""
        out: dict[str, str] = {}
        sse = validation.validate_sse(self.server_side_encryption)
        key_id = validation.validate_string(self.kms_key_id, "kms_key_id")
        context = kms_context(self.kms_context)
        for name, given in (("kms_key_id", key_id), ("kms_context", context)):
            if given and sse != limits.SSE_KMS:
                raise CosValidationError(
                    name,
                    f"only applies with server_side_encryption={limits.SSE_KMS!r} (SSE-KMS), got {sse!r}",
                )
        if sse:
            out["x-cos-server-side-encryption"] = sse
        if key_id:
            out["x-cos-server-side-encryption-cos-kms-key-id"] = key_id
        if context:
            out["x-cos-server-side-encryption-context"] = context
        return out

    @property
    def has_tags(self) -> bool:
        return tagging.parse(self.tagging) is not None


def forbid_overwrite_header(forbid: bool) -> dict[str, str]:
    """``x-cos-forbid-overwrite: true`` (PUT copy, Initiate, Complete), spelt as the SDK sends it."""
    return {"x-cos-forbid-overwrite": "true"} if forbid else {}


def _no_sse_c_with_sse(attributes: ObjectAttributes, keys: CustomerKeys) -> None:
    if keys.dest is not None and attributes.server_side_encryption:
        raise CosValidationError(
            "sse_customer_key",
            "cannot be combined with server_side_encryption: an object has one kind of server-side encryption",
        )
