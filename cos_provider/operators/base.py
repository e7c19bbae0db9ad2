"""What every COS operator shares: the connection, the region, one cached hook.

As amazon's ``AwsBaseOperator`` does, the base holds ``cos_conn_id`` and
``region`` and builds the :class:`~cos_provider.hooks.cos.CosHook` once, on
first use inside ``execute`` (never at DAG parse time). Subclasses stay thin:
validate, call a hook method, shape the XCom. ``on_kill`` cancels whatever
the hook is running, which aborts open multipart uploads.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

from airflow.providers.common.compat.sdk import BaseOperator

from cos_provider.client.encryption import CustomerKey
from cos_provider.client.errors import CosValidationError
from cos_provider.client.operations import ObjectRef
from cos_provider.client.params import COPY_PARAMS, SECRET_PARAMS
from cos_provider.client.uri import SCHEME
from cos_provider.hooks.cos import CosHook, mask_customer_key

POOL_MARGIN = 4
"""HTTP connections beyond the copy concurrency (HEADs, Complete, aborts)."""

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
    "tagging_directive",
    "server_side_encryption",
    "kms_key_id",
    "kms_context",
    "copy_source_if_match",
    "copy_source_if_none_match",
    "copy_source_if_modified_since",
    "copy_source_if_unmodified_since",
    "cos_conn_id",
    "region",
)
OBJECT_TEMPLATE_FIELDS = (*OBJECT_PARAMS, *COPY_TEMPLATE_FIELDS)
"""SSE-C keys (:data:`~cos_provider.client.params.SECRET_PARAMS`) are never template fields:
Airflow stores rendered template fields in its database and shows them in the UI."""


class CosBaseOperator(BaseOperator):
    """Base of the COS operators.

    :param cos_conn_id: The Tencent COS connection.
    :param region: Overrides the connection's region.
    """

    ui_color = "#d6eaf8"

    def __init__(self, *, cos_conn_id: str = "cos_default", region: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cos_conn_id = cos_conn_id
        self.region = region

    @property
    def pool_size(self) -> int | None:
        """HTTP connections the hook keeps: the operator's ``concurrency`` plus a few for HEADs and Complete."""
        concurrency = getattr(self, "concurrency", None)
        return concurrency + POOL_MARGIN if isinstance(concurrency, int) else None

    @cached_property
    def hook(self) -> CosHook:
        return CosHook(self.cos_conn_id, region=self.region or None, pool_size=self.pool_size)

    def keep(self, arguments: dict[str, Any], names: Sequence[str]) -> None:
        """Store each of ``names`` from ``arguments`` (``locals()`` of ``__init__``) as an attribute.

        Airflow reads an operator's parameters from its ``__init__``
        signature, so each operator spells them out there; storing them goes
        by the shared name tuples, so adding a copy parameter means adding it
        to a signature and to one tuple.
        """
        for name in names:
            setattr(self, name, arguments[name])

    def values(self, names: Sequence[str]) -> dict[str, Any]:
        return {name: getattr(self, name) for name in names}

    def copy_params(self) -> dict[str, Any]:
        """The copy parameters for the hook; SSE-C keys only from operators that take them."""
        secrets = {name: getattr(self, name) for name in SECRET_PARAMS if hasattr(self, name)}
        return {**self.values(COPY_PARAMS), **secrets}

    def _hook_apply_defaults(self, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
        """Turn SSE-C key parameters into :class:`CustomerKey` before Airflow keeps a copy of them.

        Airflow calls this before ``__init__`` and then stores the keyword
        arguments on the operator (``_BaseOperator__init_kwargs``); parsing
        here means the raw key is never held by the operator, only an
        object whose ``repr`` shows the key's MD5. The key is registered
        with the secrets masker, so from here on every log line Airflow
        writes shows ``***`` instead. A malformed key fails the DAG import,
        without quoting the value.
        """
        for name in SECRET_PARAMS:
            if kwargs.get(name) is None:
                continue
            try:
                key = CustomerKey.parse(kwargs[name], name)
            except CosValidationError as exc:
                raise CosValidationError(
                    name,
                    f"{exc.rule} (SSE-C keys are not templated: pass the key itself, or set the "
                    f"connection's {name} extra)",
                ) from None
            if key is not None:
                mask_customer_key(key)
            kwargs[name] = key
        return args, kwargs

    def keep_secrets(self, arguments: dict[str, Any], names: Sequence[str] = SECRET_PARAMS) -> None:
        """Store the SSE-C key parameters (already :class:`CustomerKey`, see :meth:`_hook_apply_defaults`)."""
        for name in names:
            setattr(self, name, arguments[name])

    def on_kill(self) -> None:
        if "hook" in self.__dict__:
            self.log.warning("Task killed: cancelling the copy and aborting its upload")
            self.hook.cancel()


def openlineage_facets(inputs: Sequence[ObjectRef], outputs: Sequence[ObjectRef]) -> Any:
    """An ``OperatorLineage``, or ``None`` when the OpenLineage provider is not installed."""
    if not inputs and not outputs:
        return None
    try:
        from airflow.providers.common.compat.openlineage.facet import Dataset
        from airflow.providers.openlineage.extractors import OperatorLineage
    except ImportError:
        return None
    return OperatorLineage(
        inputs=[Dataset(namespace=f"{SCHEME}://{r.bucket}", name=r.key) for r in inputs],
        outputs=[Dataset(namespace=f"{SCHEME}://{r.bucket}", name=r.key) for r in outputs],
    )


def refs_of(outcome: Any) -> tuple[ObjectRef, ObjectRef]:
    """The source and destination a :class:`~cos_provider.client.copy.CopyOutcome` names."""
    from cos_provider.client.uri import parse_cos_url

    bucket, key = parse_cos_url(outcome.source_uri, "source_uri")
    return ObjectRef(bucket, key, outcome.source_version_id), ObjectRef(outcome.bucket, outcome.key)
