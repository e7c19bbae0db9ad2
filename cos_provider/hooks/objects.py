"""The hook's single-object methods: HEAD, listings, delete."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from cos_provider.client.encryption import CustomerKey
from cos_provider.client.models import ListedObject, ObjectInfo
from cos_provider.client.selection import Selection
from cos_provider.hooks.lineage import report_lineage

if TYPE_CHECKING:
    pass
from cos_provider.hooks.base import CosBaseHook, mask_customer_key


class CosObjectMethods(CosBaseHook):
    """Objects one at a time, and listings streamed page by page."""

    # ------------------------------------------------------------ objects

    def head_object(
        self,
        key: str,
        bucket: str | None = None,
        *,
        version_id: str | None = None,
        region: str | None = None,
        sse_customer_key: str | None = None,
    ) -> ObjectInfo:
        """HEAD; an SSE-C object needs its ``sse_customer_key`` (over HTTPS)."""
        ref = self.object_ref(key, bucket, version_id=version_id, region=region)
        customer_key = CustomerKey.parse(sse_customer_key, "sse_customer_key")
        if customer_key is not None:
            mask_customer_key(customer_key)
        return self.conn.head_object(
            ref.bucket, ref.key, ref.version_id, ref.region, customer_key=customer_key
        )

    def iter_objects(
        self,
        bucket: str,
        prefix: str = "",
        *,
        match_glob: str | None = None,
        region: str | None = None,
    ) -> Iterator[ListedObject]:
        """Objects under ``prefix`` (or matching ``match_glob``), page by page, never all in memory."""
        selection = Selection.of(match_glob=match_glob) if match_glob else Selection.of(prefix=prefix)
        full = self.bucket(bucket)
        yield from selection.filter(self.client_for(region).iter_objects(full, prefix=selection.prefix))

    def list_objects(
        self,
        bucket: str,
        prefix: str = "",
        *,
        match_glob: str | None = None,
        region: str | None = None,
    ) -> list[ListedObject]:
        return list(self.iter_objects(bucket, prefix, match_glob=match_glob, region=region))

    def delete_object(self, key: str, bucket: str | None = None, *, version_id: str | None = None) -> None:
        ref = self.object_ref(key, bucket, version_id=version_id)
        self.conn.delete_object(ref.bucket, ref.key, ref.version_id)
        report_lineage(self, outputs=[ref])
