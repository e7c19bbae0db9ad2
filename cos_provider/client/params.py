"""User parameters -> validated engine inputs, each error naming the parameter.

The hook's methods and the operators take the same flat keyword parameters
(``metadata_directive``, ``metadata``, ``copy_source_if_match``, ...), so a
``@task`` calling :class:`~cos_provider.hooks.cos.CosHook` and a DAG using an
operator spell a copy the same way. This module is where those names are
turned into :class:`~cos_provider.client.copy.CopyOptions` and
:class:`~cos_provider.client.operations.ObjectRef`, so each rule is checked
once, before any request, and a wrong value is blamed on the parameter the
user wrote rather than on an internal field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from cos_provider.client import limits, tagging, validation
from cos_provider.client.client import BucketNaming
from cos_provider.client.copy import CopyOptions, MultipartSession
from cos_provider.client.copy.plan import DEFAULT_CONCURRENCY, validate_concurrency
from cos_provider.client.encryption import CustomerKey, CustomerKeys, kms_context
from cos_provider.client.errors import CosValidationError
from cos_provider.client.operations import CONTENT_HEADERS, CopyConditions, ObjectAttributes, ObjectRef
from cos_provider.client.timestamps import http_date
from cos_provider.client.uri import split_cos_url

ATTRIBUTE_PARAMS = (
    *CONTENT_HEADERS,
    "metadata",
    "storage_class",
    "acl",
    "grant_read",
    "grant_write",
    "grant_read_acp",
    "grant_write_acp",
    "grant_full_control",
    "server_side_encryption",
    "kms_key_id",
    "kms_context",
    "tagging",
)
"""The destination's attributes (:class:`ObjectAttributes` fields)."""
CONDITION_PARAMS = (
    "copy_source_if_match",
    "copy_source_if_none_match",
    "copy_source_if_modified_since",
    "copy_source_if_unmodified_since",
)
COPY_PARAMS = (
    "metadata_directive",
    "tagging_directive",
    *ATTRIBUTE_PARAMS,
    *CONDITION_PARAMS,
    "part_size",
    "resume",
    "overwrite",
)
"""What every copy takes as ``**copy_params`` (the hook) or as operator arguments."""
SECRET_PARAMS = ("sse_customer_key", "source_sse_customer_key")
"""SSE-C keys: copy parameters too, but never templated, stored in XCom or shown (see :mod:`encryption`)."""


def check_copy_params(params: Mapping[str, Any]) -> None:
    """Refuse a misspelt parameter instead of silently ignoring it."""
    known = (*COPY_PARAMS, *SECRET_PARAMS)
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise CosValidationError(", ".join(unknown), f"is not a copy parameter; known: {', '.join(known)}")


def customer_keys(
    values: Mapping[str, Any],
    *,
    default_source: CustomerKey | None = None,
    default_dest: CustomerKey | None = None,
) -> CustomerKeys:
    """The SSE-C keys of a copy: the parameters, else the connection's (``default_*``)."""
    source = CustomerKey.parse(values.get("source_sse_customer_key"), "source_sse_customer_key")
    dest = CustomerKey.parse(values.get("sse_customer_key"), "sse_customer_key")
    return CustomerKeys(source=source or default_source, dest=dest or default_dest)


def bucket_name(naming: BucketNaming, value: Any, field: str) -> str:
    """The full ``name-appid`` of a bucket parameter."""
    if not value:
        raise CosValidationError(field, "is required")
    if not isinstance(value, str):
        raise CosValidationError(field, f"must be a string, got {type(value).__name__}")
    try:
        return naming.bucket(value)
    except CosValidationError as exc:
        if exc.field == "app_id":  # the connection's fault, not this parameter's
            raise
        raise CosValidationError(field, exc.rule) from None


def object_ref(
    naming: BucketNaming,
    key_param: Any,
    bucket_param: Any,
    *,
    version_id: str | None = None,
    region: str | None = None,
    key_field: str = "key",
    bucket_field: str = "bucket",
    default_bucket: str | None = None,
) -> ObjectRef:
    """An :class:`ObjectRef` from ``key`` or ``cos://bucket/key`` plus an optional bucket."""
    url_bucket, key = split_cos_url(key_param, key_field)
    if (
        url_bucket
        and bucket_param
        and bucket_name(naming, url_bucket, key_field) != bucket_name(naming, bucket_param, bucket_field)
    ):
        raise CosValidationError(
            bucket_field, f"conflicts with the bucket in {key_field} ({url_bucket!r}); give the bucket once"
        )
    bucket = url_bucket or bucket_param or default_bucket
    if not bucket:
        raise CosValidationError(bucket_field, f"is required unless {key_field} is a cos://bucket/key URL")
    full = bucket_name(naming, bucket, key_field if url_bucket else bucket_field)
    validation.validate_key(key, key_field)
    return ObjectRef(full, key, version_id or None, region or None)


def copy_refs(
    naming: BucketNaming,
    source_bucket_key: Any,
    dest_bucket_key: Any,
    *,
    source_bucket_name: Any = None,
    dest_bucket_name: Any = None,
    source_version_id: str | None = None,
    source_region: str | None = None,
    dest_region: str | None = None,
) -> tuple[ObjectRef, ObjectRef]:
    """The source and destination of a one-object copy; the destination bucket defaults to the source's."""
    source = object_ref(
        naming,
        source_bucket_key,
        source_bucket_name,
        version_id=source_version_id,
        region=source_region,
        key_field="source_bucket_key",
        bucket_field="source_bucket_name",
    )
    dest = object_ref(
        naming,
        dest_bucket_key,
        dest_bucket_name,
        region=dest_region,
        key_field="dest_bucket_key",
        bucket_field="dest_bucket_name",
        default_bucket=source.bucket,
    )
    return source, dest


def attributes(values: Mapping[str, Any]) -> ObjectAttributes:
    """ObjectAttributes from parameters, each checked under its own name (type and COS rule).

    Values COS spells one way are stored in that spelling (storage class,
    ACL, SSE algorithm case-folded; tags and the KMS context in their
    canonical wire form), so what the engine compares and hashes - the
    resume witness - does not depend on how a DAG wrote them.
    """
    attrs = ObjectAttributes(**{name: values.get(name) for name in ATTRIBUTE_PARAMS})
    if attrs.metadata is not None and not isinstance(attrs.metadata, Mapping):
        raise CosValidationError(
            "metadata", f"must be a dict of name -> value, got {type(attrs.metadata).__name__}"
        )
    attrs.headers()  # every rule, before anything is normalised
    return dataclasses.replace(
        attrs,
        storage_class=validation.validate_storage_class(attrs.storage_class),
        acl=validation.validate_acl(attrs.acl),
        server_side_encryption=validation.validate_sse(attrs.server_side_encryption),
        tagging=tagging.header(attrs.tagging),
        kms_context=kms_context(attrs.kms_context),
    )


def conditions(values: Mapping[str, Any]) -> CopyConditions:
    """CopyConditions from the four ``copy_source_if_*`` parameters."""
    given = {name: values.get(name) or None for name in CONDITION_PARAMS}
    for name in ("copy_source_if_modified_since", "copy_source_if_unmodified_since"):
        if given[name] is not None:
            http_date(given[name], name)
    cond = CopyConditions(
        if_match=given["copy_source_if_match"],
        if_none_match=given["copy_source_if_none_match"],
        if_modified_since=given["copy_source_if_modified_since"],
        if_unmodified_since=given["copy_source_if_unmodified_since"],
    )
    cond.validate()
    return cond


def whole_number(value: Any, field: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise CosValidationError(field, f"must be a whole number, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise CosValidationError(field, f"must be at least {minimum}, got {value}")
    return value


def positive_seconds(value: Any, field: str) -> float:
    """A duration in seconds (a number or a ``timedelta``), greater than zero."""
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CosValidationError(
            field, f"must be a number of seconds or a timedelta, got {type(value).__name__} {value!r}"
        )
    if not value > 0:
        raise CosValidationError(field, f"must be greater than 0 seconds, got {value}")
    return float(value)


def size_param(value: Any, field: str, *, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise CosValidationError(field, f"must be a whole number of bytes, got {value!r}")
    if not minimum <= value <= maximum:
        raise CosValidationError(field, f"must be from {minimum} to {maximum} bytes, got {value}")
    return value


def check_sizes(
    *,
    multipart_threshold: Any = limits.MAX_SINGLE_COPY_SIZE,
    part_size: Any = None,
    concurrency: Any = DEFAULT_CONCURRENCY,
    concurrency_field: str = "concurrency",
) -> None:
    size_param(multipart_threshold, "multipart_threshold", minimum=0, maximum=limits.MAX_SINGLE_COPY_SIZE)
    if part_size is not None:
        size_param(part_size, "part_size", minimum=limits.MIN_PART_SIZE, maximum=limits.MAX_PART_SIZE)
    validate_concurrency(concurrency, concurrency_field)


def copy_options(
    params: Mapping[str, Any],
    *,
    multipart_threshold: Any = limits.MAX_SINGLE_COPY_SIZE,
    concurrency: Any = DEFAULT_CONCURRENCY,
    concurrency_field: str = "concurrency",
    with_conditions: bool = True,
    keys: CustomerKeys | None = None,
) -> CopyOptions:
    """The :class:`CopyOptions` of ``params`` (names from :data:`COPY_PARAMS`).

    ``keys``: the SSE-C keys when the caller resolved them (parameters over
    the connection's); by default they come from ``params`` alone.
    """
    check_copy_params(params)
    part_size = params.get("part_size")
    check_sizes(
        multipart_threshold=multipart_threshold,
        part_size=part_size,
        concurrency=concurrency,
        concurrency_field=concurrency_field,
    )
    directive = validation.validate_directive(params.get("metadata_directive") or "Copy")
    attrs = attributes(params)
    tag_directive = tagging.directive(params.get("tagging_directive"), attrs.tagging is not None)
    options = CopyOptions(
        metadata_directive=directive,
        attributes=attrs,
        conditions=conditions(params) if with_conditions else CopyConditions(),
        multipart_threshold=multipart_threshold,
        part_size=part_size,
        concurrency=concurrency,
        resume=validation.validate_bool(params.get("resume", True), "resume"),
        tagging_directive=tag_directive,
        overwrite=validation.validate_bool(params.get("overwrite", True), "overwrite"),
        keys=keys if keys is not None else customer_keys(params),
    )
    options.validate()
    return options


def as_session(value: Any, field: str = "session") -> MultipartSession:
    """A :class:`MultipartSession`, or its ``to_dict()`` form as it comes back from XCom."""
    if isinstance(value, MultipartSession):
        return value
    if not isinstance(value, Mapping):
        raise CosValidationError(
            field, f"must be the initiate task's 'session' XCom, got {type(value).__name__}"
        )
    try:
        return MultipartSession.from_dict(value)
    except (KeyError, TypeError, ValueError) as exc:
        raise CosValidationError(field, f"is not a multipart copy session: {exc}") from None
