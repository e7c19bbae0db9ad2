"""The hook's upload family: local files to COS (streamed, multipart, resumable) and small writes."""

from __future__ import annotations

import json
import os
from contextlib import AbstractContextManager
from typing import IO, Any

from cos_provider.client import params, validation
from cos_provider.client.encryption import CustomerKey
from cos_provider.client.errors import CosValidationError
from cos_provider.client.upload import (
    DEFAULT_MULTIPART_THRESHOLD,
    DEFAULT_UPLOAD_CONCURRENCY,
    Uploader,
    UploadOptions,
    UploadResult,
)
from cos_provider.hooks.base import CosBaseHook
from cos_provider.hooks.lineage import report_lineage

UPLOAD_PARAMS = (*params.ATTRIBUTE_PARAMS, "overwrite")
"""What ``upload_file`` and the ``write_*`` methods take as ``**attributes``."""


def check_upload_params(values: dict[str, Any]) -> None:
    unknown = sorted(set(values) - set(UPLOAD_PARAMS))
    if unknown:
        raise CosValidationError(
            ", ".join(unknown), f"is not an upload parameter; known: {', '.join(UPLOAD_PARAMS)}"
        )


def _file_uri(source: Any) -> str | None:
    if isinstance(source, str | os.PathLike):
        return "file://" + os.path.abspath(os.fspath(source))
    name = getattr(source, "name", None)
    return "file://" + os.path.abspath(name) if isinstance(name, str) else None


class CosUploadMethods(CosBaseHook):
    """Uploads from the local filesystem and writes of bytes, text and JSON."""

    def _uploader(self, region: str | None) -> AbstractContextManager[Uploader]:
        return self._running(Uploader(self.client_for(region), logger=self.log))

    def _customer_key(self, value: str | CustomerKey | None) -> CustomerKey | None:
        """The SSE-C key to encrypt with: the parameter, else the connection's ``sse_customer_key`` extra."""
        return self.customer_keys({"sse_customer_key": value}).dest

    def upload_file(
        self,
        local_path_or_fileobj: str | os.PathLike[str] | IO[bytes],
        key: str,
        bucket: str | None = None,
        *,
        multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD,
        part_size: int | None = None,
        concurrency: int = DEFAULT_UPLOAD_CONCURRENCY,
        resume: bool = True,
        region: str | None = None,
        sse_customer_key: str | CustomerKey | None = None,
        **attributes: Any,
    ) -> UploadResult:
        """Upload a local file (a path, or a seekable binary file object from its position).

        One PUT up to ``multipart_threshold`` bytes, else a multipart upload of
        ``part_size`` parts, ``concurrency`` at a time, resumed from a killed
        try's parts that still equal the local bytes. The CRC64 COS reports
        must equal the local file's, or the object is removed and
        ``CosIntegrityError`` raised. ``attributes``: the copies' destination
        attributes (``metadata``, ``content_type``, ``storage_class``, ``acl``,
        ``tagging``, ``server_side_encryption``...) and ``overwrite``.
        ``sse_customer_key``: SSE-C (the base64 of a 32-byte key, HTTPS
        only), sent on the PUT, or on Initiate and every part; the
        connection's ``sse_customer_key`` extra when not given. The key is
        masked in logs and never returned.
        """
        check_upload_params(attributes)
        ref = self.object_ref(key, bucket, region=region)
        options = UploadOptions(
            multipart_threshold=params.size_param(
                multipart_threshold, "multipart_threshold", minimum=0, maximum=5 * 1024**3
            ),
            part_size=part_size,
            concurrency=params.whole_number(concurrency, "concurrency", minimum=1),
            resume=validation.validate_bool(resume, "resume"),
            overwrite=validation.validate_bool(attributes.pop("overwrite", True), "overwrite"),
            attributes=params.attributes(attributes),
            customer_key=self._customer_key(sse_customer_key),
        )
        with self._uploader(region) as uploader:
            result = uploader.upload(local_path_or_fileobj, ref, options)
        self._report_upload(local_path_or_fileobj, ref)
        return result

    def _report_upload(self, source: Any, ref: Any) -> None:
        report_lineage(self, outputs=[ref])
        uri = _file_uri(source)
        if uri is None:
            return
        try:
            from airflow.providers.common.compat.sdk import get_hook_lineage_collector
        except ImportError:  # pragma: no cover
            return
        get_hook_lineage_collector().add_input_asset(context=self, uri=uri)

    def write_bytes(
        self,
        data: bytes,
        key: str,
        bucket: str | None = None,
        *,
        region: str | None = None,
        sse_customer_key: str | CustomerKey | None = None,
        **attributes: Any,
    ) -> UploadResult:
        """One PUT of ``data``, its CRC64 checked against COS's; attributes and ``sse_customer_key`` as :meth:`upload_file`."""
        check_upload_params(attributes)
        ref = self.object_ref(key, bucket, region=region)
        overwrite = validation.validate_bool(attributes.pop("overwrite", True), "overwrite")
        attrs = params.attributes(attributes)
        customer_key = self._customer_key(sse_customer_key)
        with self._uploader(region) as uploader:
            result = uploader.write(data, ref, attrs, overwrite=overwrite, customer_key=customer_key)
        report_lineage(self, outputs=[ref])
        return result

    def write_text(
        self,
        text: str,
        key: str,
        bucket: str | None = None,
        *,
        encoding: str = "utf-8",
        region: str | None = None,
        **attributes: Any,
    ) -> UploadResult:
        """``text`` encoded (UTF-8 by default), ``Content-Type: text/plain; charset=…`` unless given."""
        if not isinstance(text, str):
            raise CosValidationError("text", f"must be a str, got {type(text).__name__}")
        attributes.setdefault("content_type", f"text/plain; charset={encoding}")
        return self.write_bytes(text.encode(encoding), key, bucket, region=region, **attributes)

    def write_json(
        self, value: Any, key: str, bucket: str | None = None, *, region: str | None = None, **attributes: Any
    ) -> UploadResult:
        """``value`` as UTF-8 JSON (non-ASCII kept), ``Content-Type: application/json`` unless given."""
        try:
            text = json.dumps(value, ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise CosValidationError("data", f"cannot be written as JSON: {exc}") from None
        attributes.setdefault("content_type", "application/json")
        return self.write_bytes(text.encode("utf-8"), key, bucket, region=region, **attributes)
