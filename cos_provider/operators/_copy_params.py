"""The copy parameters the copy operators share, each named once.

Airflow reads an operator's parameters from its ``__init__`` signature
(``default_args``, the ``partial``/``expand`` argument checks), so each
operator still spells them out there. Everything after the signature -
storing them, templating them, turning them into engine inputs - goes by the
names here, so adding a copy parameter means adding it to a signature and to
one tuple.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from cos_provider.client import validation
from cos_provider.client.copy import CopyEngine, CopyOptions
from cos_provider.client.errors import CosValidationError
from cos_provider.client.operations import CopyConditions, ObjectRef
from cos_provider.operators import _base

if TYPE_CHECKING:
    from cos_provider.client.client import CosClient

COPY_PARAMS = ("metadata_directive", *_base.ATTRIBUTE_PARAMS, *_base.CONDITION_PARAMS, "part_size", "resume")
"""Taken as given by every operator that copies objects (``multipart_threshold``
and ``concurrency`` are not: the mapped multipart copy sets them itself)."""
OBJECT_PARAMS = (
    "source_bucket_key",
    "dest_bucket_key",
    "source_bucket_name",
    "dest_bucket_name",
    "source_version_id",
    "source_region",
    "dest_region",
)
"""The source and destination of a one-object copy."""
COPY_TEMPLATE_FIELDS = (
    "metadata_directive",
    "metadata",
    "content_type",
    "cache_control",
    "content_disposition",
    "content_encoding",
    "expires",
    "storage_class",
    "acl",
    "tagging",
    "copy_source_if_match",
    "copy_source_if_none_match",
    "copy_source_if_modified_since",
    "copy_source_if_unmodified_since",
    "cos_conn_id",
)
OBJECT_TEMPLATE_FIELDS = (*OBJECT_PARAMS, *COPY_TEMPLATE_FIELDS)


def keep_arguments(operator: Any, arguments: Mapping[str, Any], names: Iterable[str]) -> None:
    """Set each of ``names`` on ``operator`` from ``arguments`` (``locals()`` of its ``__init__``)."""
    for name in names:
        setattr(operator, name, arguments[name])


class CopyParams:
    """The copy headers of ``put-object-copy``, as operator parameters."""

    metadata_directive: str
    metadata: dict[str, str] | None
    multipart_threshold: int
    part_size: int | None
    concurrency: int
    resume: bool

    def _options(
        self, conditions: CopyConditions | None = None, concurrency: int | None = None
    ) -> CopyOptions:
        _base.check_common(
            multipart_threshold=self.multipart_threshold,
            part_size=self.part_size,
            concurrency=self.concurrency,
        )
        directive = validation.validate_directive(self.metadata_directive)
        options = CopyOptions(
            metadata_directive=directive,
            attributes=_base.attributes(vars(self)),
            conditions=conditions or CopyConditions(),
            multipart_threshold=self.multipart_threshold,
            part_size=self.part_size,
            concurrency=concurrency or self.concurrency,
            resume=bool(self.resume),
        )
        options.validate()
        return options


class ObjectCopyParams(CopyParams):
    """A source object and a destination object."""

    source_bucket_key: str
    dest_bucket_key: str
    source_bucket_name: str | None
    dest_bucket_name: str | None
    source_version_id: str | None
    source_region: str | None
    dest_region: str | None
    move: bool

    def prepare(
        self, client: CosClient, source_region: str | None = None
    ) -> tuple[ObjectRef, ObjectRef, CopyOptions]:
        """Every parameter check; raises :class:`CosValidationError` naming the field."""
        options = self._options(_base.conditions(vars(self)))
        source = _base.object_ref(
            client,
            self.source_bucket_key,
            self.source_bucket_name,
            version_id=self.source_version_id,
            region=source_region or self.source_region,
            key_field="source_bucket_key",
            bucket_field="source_bucket_name",
        )
        dest = _base.object_ref(
            client,
            self.dest_bucket_key,
            self.dest_bucket_name,
            region=self.dest_region,
            key_field="dest_bucket_key",
            bucket_field="dest_bucket_name",
            default_bucket=source.bucket,
        )
        CopyEngine(client).validate(source, dest, options)
        if self.move and (source.bucket, source.key) == (dest.bucket, dest.key):
            raise CosValidationError("move", "cannot move an object onto itself")
        return source, dest, options
