"""The hook's download methods: an object to a local path, and small reads into memory."""

from __future__ import annotations

import json
import os
from typing import Any

from cos_provider.client.download import (
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_READ,
    DEFAULT_PART_SIZE,
    Downloader,
    DownloadResult,
    read_object,
)
from cos_provider.client.encryption import CustomerKey
from cos_provider.hooks.base import CosBaseHook
from cos_provider.hooks.lineage import report_file_lineage, report_lineage


class CosDownloadMethods(CosBaseHook):
    """Downloads (parallel ranged GETs, CRC64-verified, resumable) and size-capped small reads."""

    def download_file(
        self,
        key: str,
        local_path: str | os.PathLike[str],
        bucket: str | None = None,
        *,
        version_id: str | None = None,
        region: str | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        part_size: int = DEFAULT_PART_SIZE,
        sse_customer_key: str | CustomerKey | None = None,
    ) -> DownloadResult:
        """Download ``key`` (or ``cos://bucket/key``) to ``local_path``; see :mod:`cos_provider.client.download`.

        ``sse_customer_key``: the SSE-C key the object is encrypted with (HTTPS
        only), sent on the HEAD and every ranged GET; the connection's
        ``sse_customer_key`` extra when not given.
        """
        ref = self.object_ref(key, bucket, version_id=version_id, region=region)
        customer_key = self.customer_keys({"sse_customer_key": sse_customer_key}).dest
        with self._running(Downloader(self.client_for(region), logger=self.log)) as downloader:
            result = downloader.download(
                ref, local_path, concurrency=concurrency, part_size=part_size, customer_key=customer_key
            )
        report_lineage(self, inputs=[ref])
        report_file_lineage(self, outputs=[result.path])
        return result

    def read_bytes(
        self,
        key: str,
        bucket: str | None = None,
        *,
        version_id: str | None = None,
        max_size: int = DEFAULT_MAX_READ,
        sse_customer_key: str | CustomerKey | None = None,
    ) -> bytes:
        """The object's bytes; refused (naming ``max_size``) before any GET if it is larger.

        ``sse_customer_key`` as :meth:`download_file`.
        """
        ref = self.object_ref(key, bucket, version_id=version_id)
        customer_key = self.customer_keys({"sse_customer_key": sse_customer_key}).dest
        data = read_object(self.conn, ref, max_size=max_size, customer_key=customer_key)
        report_lineage(self, inputs=[ref])
        return data

    def read_text(
        self,
        key: str,
        bucket: str | None = None,
        *,
        version_id: str | None = None,
        max_size: int = DEFAULT_MAX_READ,
        encoding: str = "utf-8",
        sse_customer_key: str | CustomerKey | None = None,
    ) -> str:
        data = self.read_bytes(
            key, bucket, version_id=version_id, max_size=max_size, sse_customer_key=sse_customer_key
        )
        return data.decode(encoding)

    def read_json(
        self,
        key: str,
        bucket: str | None = None,
        *,
        version_id: str | None = None,
        max_size: int = DEFAULT_MAX_READ,
        sse_customer_key: str | CustomerKey | None = None,
    ) -> Any:
        return json.loads(
            self.read_bytes(
                key, bucket, version_id=version_id, max_size=max_size, sse_customer_key=sse_customer_key
            )
        )
