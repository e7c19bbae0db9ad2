"""Pieces the copy operators share: turning parameters into engine inputs
(every check runs at the start of ``execute``, before any request), the
hook, and lineage."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from cos_provider.assets.cos import asset_uri
from cos_provider.client import limits, validation
from cos_provider.client.copy.plan import DEFAULT_CONCURRENCY, validate_concurrency
from cos_provider.client.errors import CosValidationError
from cos_provider.client.operations import CopyConditions, ObjectAttributes, ObjectRef
from cos_provider.client.timestamps import http_date
from cos_provider.client.uri import SCHEME, split_cos_url

if TYPE_CHECKING:
    from cos_provider.client.client import CosClient
    from cos_provider.hooks.cos import CosHook

ATTRIBUTE_PARAMS = (
    "content_type",
    "cache_control",
    "content_disposition",
    "content_encoding",
    "expires",
    "metadata",
    "storage_class",
    "acl",
    "grant_read",
    "grant_write",
    "grant_read_acp",
    "grant_write_acp",
    "grant_full_control",
    "server_side_encryption",
    "tagging",
)
CONDITION_PARAMS = (
    "copy_source_if_match",
    "copy_source_if_none_match",
    "copy_source_if_modified_since",
    "copy_source_if_unmodified_since",
)
POOL_MARGIN = 4
"""HTTP connections beyond the copy concurrency (HEADs, Complete, aborts)."""


def make_hook(cos_conn_id: str, region: str | None, concurrency: int) -> CosHook:
    from cos_provider.hooks.cos import CosHook

    return CosHook(cos_conn_id, region=region or None, pool_size=concurrency + POOL_MARGIN)


def source_region(cos_conn_id: str, source: str | None, dest: str | None) -> str | None:
    """The source's region: given, or the connection's when the client is the destination's."""
    if source or not dest:
        return source or None
    from cos_provider.hooks.cos import CosHook

    return CosHook(cos_conn_id).region


def bucket_name(client: CosClient, value: str | None, field: str) -> str:
    """The full ``name-appid`` of a bucket parameter."""
    if not value:
        raise CosValidationError(field, "is required")
    try:
        return client.bucket(value)
    except CosValidationError as exc:
        raise CosValidationError(field, exc.rule) from None


def object_ref(
    client: CosClient,
    key_param: str,
    bucket_param: str | None,
    *,
    version_id: str | None = None,
    region: str | None = None,
    key_field: str,
    bucket_field: str,
    default_bucket: str | None = None,
) -> ObjectRef:
    """An :class:`ObjectRef` from ``key`` or ``cos://bucket/key`` plus an optional bucket."""
    url_bucket, key = split_cos_url(key_param, key_field)
    if (
        url_bucket
        and bucket_param
        and bucket_name(client, url_bucket, key_field) != bucket_name(client, bucket_param, bucket_field)
    ):
        raise CosValidationError(
            bucket_field, f"conflicts with the bucket in {key_field} ({url_bucket!r}); give the bucket once"
        )
    bucket = url_bucket or bucket_param or default_bucket
    if not bucket:
        raise CosValidationError(bucket_field, f"is required unless {key_field} is a cos://bucket/key URL")
    full = bucket_name(client, bucket, key_field if url_bucket else bucket_field)
    validation.validate_key(key, key_field)
    return ObjectRef(full, key, version_id or None, region or None)


def attributes(values: Mapping[str, Any]) -> ObjectAttributes:
    """ObjectAttributes from operator parameters, each checked under its own name."""
    attrs = ObjectAttributes(**{name: values.get(name) for name in ATTRIBUTE_PARAMS})
    if attrs.metadata is not None and not isinstance(attrs.metadata, Mapping):
        raise CosValidationError(
            "metadata", f"must be a dict of name -> value, got {type(attrs.metadata).__name__}"
        )
    for name in ("content_type", "cache_control", "content_disposition", "content_encoding", "expires"):
        value = getattr(attrs, name)
        if value is not None and (not isinstance(value, str) or "\n" in value or "\r" in value):
            raise CosValidationError(name, "must be a single-line string")
    attrs.headers()  # metadata limits, storage class, ACL, SSE
    return attrs


def conditions(values: Mapping[str, Any]) -> CopyConditions:
    """CopyConditions from the four ``copy_source_if_*`` parameters."""
    given = {name: values.get(name) or None for name in CONDITION_PARAMS}
    for name in ("copy_source_if_modified_since", "copy_source_if_unmodified_since"):
        value = given[name]
        if value is not None:
            try:
                http_date(value)
            except CosValidationError as exc:
                raise CosValidationError(name, exc.rule) from None
    cond = CopyConditions(
        if_match=given["copy_source_if_match"],
        if_none_match=given["copy_source_if_none_match"],
        if_modified_since=given["copy_source_if_modified_since"],
        if_unmodified_since=given["copy_source_if_unmodified_since"],
    )
    cond.validate()
    return cond


def size_param(value: Any, field: str, *, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise CosValidationError(field, f"must be a whole number of bytes, got {value!r}")
    if not minimum <= value <= maximum:
        raise CosValidationError(field, f"must be from {minimum} to {maximum} bytes, got {value}")
    return value


def check_common(
    *,
    multipart_threshold: Any = limits.MAX_SINGLE_COPY_SIZE,
    part_size: Any = None,
    concurrency: Any = DEFAULT_CONCURRENCY,
) -> None:
    size_param(multipart_threshold, "multipart_threshold", minimum=0, maximum=limits.MAX_SINGLE_COPY_SIZE)
    if part_size is not None:
        size_param(part_size, "part_size", minimum=limits.MIN_PART_SIZE, maximum=limits.MAX_PART_SIZE)
    validate_concurrency(concurrency)


# ---------------------------------------------------------------- lineage


def report_lineage(hook: Any, inputs: Iterable[ObjectRef], outputs: Iterable[ObjectRef]) -> None:
    """Hook-level lineage through Airflow's collector (a no-op unless a reader is registered)."""
    try:
        from airflow.sdk.lineage import get_hook_lineage_collector
    except ImportError:  # pragma: no cover - Airflow < 3
        return
    collector = get_hook_lineage_collector()
    for ref in inputs:
        collector.add_input_asset(context=hook, uri=asset_uri(ref.bucket, ref.key))
    for ref in outputs:
        collector.add_output_asset(context=hook, uri=asset_uri(ref.bucket, ref.key))


def openlineage_facets(inputs: Sequence[ObjectRef], outputs: Sequence[ObjectRef]) -> Any:
    """An ``OperatorLineage``, or ``None`` when the OpenLineage provider is not installed."""
    try:
        from airflow.providers.common.compat.openlineage.facet import Dataset
        from airflow.providers.openlineage.extractors import OperatorLineage
    except ImportError:
        return None
    return OperatorLineage(
        inputs=[Dataset(namespace=f"{SCHEME}://{r.bucket}", name=r.key) for r in inputs],
        outputs=[Dataset(namespace=f"{SCHEME}://{r.bucket}", name=r.key) for r in outputs],
    )
