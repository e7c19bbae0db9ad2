"""What a copy is told, what it produces, and the state that travels between steps.

These are the engine's only JSON boundary: :class:`CopyOutcome` is an
operator's XCom value and a :class:`MultipartSession` goes from the task that
initiates a mapped multipart copy to the tasks that copy its parts, so both
round-trip through plain dicts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cos_provider.client import limits, tagging, validation
from cos_provider.client import operations as ops
from cos_provider.client.copy.orphans import OrphanWindow
from cos_provider.client.copy.plan import (
    DEFAULT_CONCURRENCY,
    DEFAULT_MODEL,
    CopyPlan,
    TransferModel,
    validate_concurrency,
)
from cos_provider.client.encryption import NO_KEYS, CustomerKeys
from cos_provider.client.errors import CosValidationError
from cos_provider.client.models import _AsDict
from cos_provider.client.operations import CopyConditions, ObjectAttributes, ObjectRef
from cos_provider.client.timestamps import http_date, parse_timestamp

COMPLETE_READ_TIMEOUT = 1200.0
"""Complete can take minutes for big objects (COS keeps the connection alive)."""


@dataclass(frozen=True)
class CopyOptions:
    """How to copy. Every field is validated by :meth:`validate` before any request."""

    metadata_directive: str = "Copy"
    attributes: ObjectAttributes = field(default_factory=ObjectAttributes)
    conditions: CopyConditions = field(default_factory=CopyConditions)
    multipart_threshold: int = limits.MAX_SINGLE_COPY_SIZE
    part_size: int | None = None
    concurrency: int = DEFAULT_CONCURRENCY
    resume: bool = True
    progress_interval: float = 10.0
    model: TransferModel = DEFAULT_MODEL
    complete_timeout: float = COMPLETE_READ_TIMEOUT
    tagging_directive: str | None = None
    """``Copy``/``Replaced``; ``None``: ``Replaced`` if ``attributes`` has tags, else not sent."""
    overwrite: bool = True
    """``False``: ``x-cos-forbid-overwrite`` (an existing destination fails the copy)."""
    keys: CustomerKeys = field(default=NO_KEYS, repr=False)
    """SSE-C keys of the source and destination; never serialised."""

    def validate(self) -> None:
        directive = validation.validate_directive(self.metadata_directive)
        self.conditions.validate()
        self.attributes.headers(include_content=directive == "Replaced")
        tagging.directive(self.tagging_directive, self.attributes.has_tags)
        validation.validate_bool(self.overwrite, "overwrite")
        if directive == "Copy" and any(
            getattr(self.attributes, a) is not None for a in (*ops.CONTENT_HEADERS, "metadata")
        ):
            raise CosValidationError(
                "metadata_directive",
                "is 'Copy', which keeps the source's content headers and metadata; use 'Replaced' to set new ones",
            )
        if (
            not isinstance(self.multipart_threshold, int)
            or isinstance(self.multipart_threshold, bool)
            or not 0 <= self.multipart_threshold <= limits.MAX_SINGLE_COPY_SIZE
        ):
            raise CosValidationError(
                "multipart_threshold",
                f"must be from 0 to {limits.MAX_SINGLE_COPY_SIZE} bytes (5 GB, the PUT copy limit), "
                f"got {self.multipart_threshold!r}",
            )
        if self.part_size is not None:
            validation.validate_part_size(self.part_size)
        validate_concurrency(self.concurrency)
        if not self.progress_interval > 0:
            raise CosValidationError("progress_interval", f"must be positive, got {self.progress_interval!r}")

    @property
    def directive(self) -> str:
        return validation.validate_directive(self.metadata_directive)

    @property
    def tag_directive(self) -> str | None:
        """The ``x-cos-tagging-directive`` a PUT copy sends (see :func:`tagging.directive`)."""
        return tagging.directive(self.tagging_directive, self.attributes.has_tags)


@dataclass(frozen=True)
class CopyOutcome(_AsDict):
    """What a copy produced; ``to_dict()`` is the operators' XCom value.

    ``part_count`` is 0 for a single PUT copy.
    """

    dest_uri: str
    bucket: str
    key: str
    etag: str
    version_id: str | None
    crc64: int | None
    size: int
    last_modified: datetime | None
    source_uri: str
    source_version_id: str | None
    source_etag: str
    part_count: int
    method: str
    upload_id: str | None = None
    parts_copied: int = 0
    parts_reused: int = 0
    elapsed_seconds: float = 0.0
    request_id: str | None = None


@dataclass(frozen=True)
class MultipartSession:
    """An initiated multipart copy: everything the later steps need. JSON-able."""

    source: ObjectRef
    dest: ObjectRef
    upload_id: str
    source_etag: str
    source_size: int
    source_crc64: int | None
    source_version_id: str | None
    part_size: int
    conditions: CopyConditions
    resumed_parts: Mapping[int, str] = field(default_factory=dict)
    resumed_bytes: int = 0
    forbid_overwrite: bool = False
    """Complete sends ``x-cos-forbid-overwrite`` (the copy was asked not to overwrite)."""
    source_key_md5: str | None = None
    """MD5 of the source's SSE-C key, so a later task can check it holds the same key."""
    dest_key_md5: str | None = None
    keys: CustomerKeys = field(default=NO_KEYS, repr=False, compare=False)
    """The SSE-C keys themselves: in memory only, never in :meth:`to_dict` (XCom)."""

    initiated_at: datetime | None = None
    """No later than the upload's initiation, on COS's clock (whole seconds)."""
    initiate_headers: Mapping[str, str] | None = None
    """The headers Initiate sent: the attributes the completed object must carry."""
    orphans: OrphanWindow | None = None
    """Set when an Initiate reply was lost: what recognises the uploads it created (:mod:`orphans`)."""

    def with_keys(self, keys: CustomerKeys) -> MultipartSession:
        """This session with its SSE-C keys, checked against the MD5s it was started with.

        A mapped part-copy task gets the keys from its connection or
        parameters, never from the session XCom; a missing or different key
        would make COS refuse every part, so it is refused here first.
        """
        for name, want, got in (
            ("source_sse_customer_key", self.source_key_md5, keys.source),
            ("sse_customer_key", self.dest_key_md5, keys.dest),
        ):
            have = got.md5 if got is not None else None
            if have != want:
                if want is None:
                    rule = "is given, but the copy was started without an SSE-C key for it"
                elif have is None:
                    rule = f"is needed: the copy was started with an SSE-C key (MD5 {want})"
                else:
                    rule = f"is not the key the copy was started with (MD5 {have}, not {want})"
                raise CosValidationError(name, rule)
        return dataclasses.replace(self, keys=keys)

    @property
    def plan(self) -> CopyPlan:
        return CopyPlan(self.source_size, self.part_size)

    def to_dict(self, include_parts: bool = True) -> dict[str, Any]:
        def ref(r: ObjectRef) -> dict[str, Any]:
            return {"bucket": r.bucket, "key": r.key, "version_id": r.version_id, "region": r.region}

        c = self.conditions
        out: dict[str, Any] = {
            "source": ref(self.source),
            "dest": ref(self.dest),
            "upload_id": self.upload_id,
            "source_etag": self.source_etag,
            "source_size": self.source_size,
            "source_crc64": self.source_crc64,
            "source_version_id": self.source_version_id,
            "part_size": self.part_size,
            "part_count": self.plan.part_count,
            "conditions": {
                "if_match": c.if_match,
                "if_unmodified_since": http_date(c.if_unmodified_since) if c.if_unmodified_since else None,
            },
            "resumed_bytes": self.resumed_bytes,
            "forbid_overwrite": self.forbid_overwrite,
            "source_sse_customer_key_md5": self.source_key_md5,
            "sse_customer_key_md5": self.dest_key_md5,
            "initiated_at": self.initiated_at.isoformat() if self.initiated_at else None,
            "initiate_headers": dict(self.initiate_headers) if self.initiate_headers is not None else None,
            "orphans": self.orphans.to_dict() if self.orphans is not None else None,
        }
        if include_parts:
            out["resumed_parts"] = {str(k): v for k, v in self.resumed_parts.items()}
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MultipartSession:
        def ref(d: Mapping[str, Any]) -> ObjectRef:
            return ObjectRef(d["bucket"], d["key"], d.get("version_id"), d.get("region"))

        cond = data.get("conditions") or {}
        return cls(
            source=ref(data["source"]),
            dest=ref(data["dest"]),
            upload_id=data["upload_id"],
            source_etag=data["source_etag"],
            source_size=int(data["source_size"]),
            source_crc64=data.get("source_crc64"),
            source_version_id=data.get("source_version_id"),
            part_size=int(data["part_size"]),
            conditions=CopyConditions(
                if_match=cond.get("if_match"), if_unmodified_since=cond.get("if_unmodified_since")
            ),
            resumed_parts={int(k): v for k, v in (data.get("resumed_parts") or {}).items()},
            resumed_bytes=int(data.get("resumed_bytes") or 0),
            forbid_overwrite=bool(data.get("forbid_overwrite", False)),
            source_key_md5=data.get("source_sse_customer_key_md5"),
            dest_key_md5=data.get("sse_customer_key_md5"),
            initiated_at=parse_timestamp(data.get("initiated_at")),
            initiate_headers=(
                {str(k): str(v) for k, v in headers.items()}
                if isinstance(headers := data.get("initiate_headers"), Mapping)
                else None
            ),
            orphans=OrphanWindow.from_dict(window)
            if isinstance(window := data.get("orphans"), Mapping)
            else None,
        )


@dataclass(frozen=True)
class CopiedPart(_AsDict):
    """One part of a finished batch (``crc64`` is None for a reused part)."""

    part_number: int
    etag: str
    crc64: int | None
    size: int
