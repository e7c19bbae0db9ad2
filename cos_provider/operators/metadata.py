"""Replace an object's metadata in place: :meth:`CosHook.replace_metadata
<cos_provider.hooks.cos.CosHook.replace_metadata>` as a task."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cos_provider.client import limits
from cos_provider.client.copy.plan import DEFAULT_CONCURRENCY
from cos_provider.client.encryption import CustomerKey
from cos_provider.client.operations import CONTENT_HEADERS, ObjectRef
from cos_provider.client.uri import parse_cos_url
from cos_provider.links.cos import CosConsoleLinkMixin
from cos_provider.operators.base import CosBaseOperator, openlineage_facets

if TYPE_CHECKING:
    from airflow.sdk import Context

PARAMS = (
    "bucket_key",
    "bucket_name",
    "metadata",
    "remove",
    "merge",
    *CONTENT_HEADERS,
    "storage_class",
    "tagging",
    "tagging_directive",
)


class CosReplaceObjectMetadataOperator(CosConsoleLinkMixin, CosBaseOperator):
    """Update an object's metadata in place (a self-copy with ``Replaced``).

    By default (``merge=True``) the object keeps every metadata entry and
    content header the caller does not change, and ``remove`` lists metadata
    names to drop; with ``merge=False`` the object gets exactly what is passed.
    The storage class and SSE (algorithm and KMS key id) are kept unless
    given (a self-copy would otherwise reset them), and so are the tags:
    ``tagging`` retags the object (directive ``Replaced``), and
    ``tagging_directive="Replaced"`` without ``tagging`` removes them. An
    SSE-C object needs ``sse_customer_key`` (or the connection's extra): it
    is read and written back with that key. The copy is pinned with If-Match
    to the ETag read first (or to ``if_match`` if given), so a concurrent
    writer is never silently overwritten; objects over
    ``multipart_threshold`` go through the multipart engine.

    Returns the new ETag, version id, the resulting metadata and content headers.
    """

    console_link_fields = (("bucket_key",), ("bucket_name",), "region")
    template_fields: Sequence[str] = (
        "bucket_key",
        "bucket_name",
        "region",
        "metadata",
        "remove",
        "content_type",
        "cache_control",
        "content_disposition",
        "content_encoding",
        "expires",
        "storage_class",
        "tagging",
        "tagging_directive",
        "if_match",
        "cos_conn_id",
    )
    template_fields_renderers = {"metadata": "json"}
    sse_customer_key: CustomerKey | None  # set by keep_secrets, never templated

    def __init__(
        self,
        *,
        bucket_key: str,
        bucket_name: str | None = None,
        metadata: dict[str, str] | None = None,
        remove: Sequence[str] | None = None,
        merge: bool = True,
        content_type: str | None = None,
        cache_control: str | None = None,
        content_disposition: str | None = None,
        content_encoding: str | None = None,
        expires: str | None = None,
        storage_class: str | None = None,
        tagging: dict[str, str] | str | None = None,
        tagging_directive: str | None = None,
        sse_customer_key: str | None = None,
        if_match: str | None = None,
        multipart_threshold: int = limits.MAX_SINGLE_COPY_SIZE,
        part_size: int | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.keep(locals(), PARAMS)
        self.keep_secrets(locals(), ("sse_customer_key",))
        self.if_match = if_match
        self.multipart_threshold = multipart_threshold
        self.part_size = part_size
        self.concurrency = concurrency
        self._ref: ObjectRef | None = None

    def execute(self, context: Context) -> dict[str, Any]:
        self.persist_console_link(context)
        result = self.hook.replace_metadata(
            **self.values(PARAMS),
            region=self.region,
            if_match=self.if_match,
            multipart_threshold=self.multipart_threshold,
            part_size=self.part_size,
            concurrency=self.concurrency,
            sse_customer_key=self.sse_customer_key,
            logger=self.log,
        )
        self._ref = ObjectRef(*parse_cos_url(result["uri"]))
        return result

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        if self._ref is None:
            return None
        return openlineage_facets([self._ref], [self._ref])
