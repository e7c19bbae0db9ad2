"""Writing to COS from the worker: local files (``LocalFilesystemToCosOperator``) and data (``CosCreateObjectOperator``).

Thin shells over :class:`~cos_provider.hooks.upload.CosUploadMethods`: the
hook streams, verifies CRC64s, resumes and aborts; these pick the files,
name the keys and shape the XCom.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from typing import Any

from cos_provider.client.encryption import CustomerKey
from cos_provider.client.errors import CosValidationError
from cos_provider.client.upload import DEFAULT_MULTIPART_THRESHOLD, DEFAULT_UPLOAD_CONCURRENCY
from cos_provider.hooks.upload import UPLOAD_PARAMS
from cos_provider.links.cos import CosConsoleLinkMixin
from cos_provider.operators.base import CosBaseOperator

ATTRIBUTE_TEMPLATE_FIELDS = (
    "metadata",
    "content_type",
    "cache_control",
    "content_disposition",
    "content_encoding",
    "expires",
    "storage_class",
    "acl",
    "tagging",
    "server_side_encryption",
    "kms_key_id",
    "kms_context",
)


def local_files(source: str) -> list[tuple[str, str]]:
    """``(path, relative name)`` of one file, every file under a folder, or every file a glob matches."""
    if glob.has_magic(source):
        root = os.path.dirname(source.split("*")[0].split("?")[0].split("[")[0]) or "."
        paths = sorted(p for p in glob.glob(source, recursive=True) if os.path.isfile(p))
        return [(p, os.path.relpath(p, root).replace(os.sep, "/")) for p in paths]
    if os.path.isdir(source):
        out = []
        for folder, _dirs, names in os.walk(source):
            for name in names:
                path = os.path.join(folder, name)
                out.append((path, os.path.relpath(path, source).replace(os.sep, "/")))
        return sorted(out)
    if os.path.isfile(source):
        return [(source, os.path.basename(source))]
    raise CosValidationError("source", f"{source!r} is not a file, a folder or a glob of files")


class LocalFilesystemToCosOperator(CosConsoleLinkMixin, CosBaseOperator):
    """Upload one local file, a folder, or a glob of files to COS.

    With one file and ``dest_key`` set, the object is ``dest_key``; otherwise
    each file's key is ``dest_prefix`` + its path relative to the folder (or
    to the glob's fixed part). XCom: ``{"count", "bytes", "objects": [UploadResult dicts]}``.

    :param source: A local path, folder or glob (``/data/**/*.csv``).
    :param dest_bucket: The bucket (a bare name gets the connection's APPID).
    :param dest_key: The key of a single file (or a ``cos://bucket/key`` URL).
    :param dest_prefix: The key prefix for folders and globs.
    :param sse_customer_key: SSE-C: the base64 of a 32-byte key (HTTPS only), sent on the PUT or on
        Initiate and every part. Not templated; masked in logs; defaults to the connection's extra.
    """

    sse_customer_key: CustomerKey | None  # set by keep_secrets, never templated
    console_link_fields = (("dest_key", "dest_prefix"), ("dest_bucket",), "region")
    template_fields: Sequence[str] = (
        "source",
        "dest_bucket",
        "dest_key",
        "dest_prefix",
        *ATTRIBUTE_TEMPLATE_FIELDS,
        "cos_conn_id",
        "region",
    )

    def __init__(
        self,
        *,
        source: str,
        dest_bucket: str | None = None,
        dest_key: str | None = None,
        dest_prefix: str = "",
        multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD,
        part_size: int | None = None,
        concurrency: int = DEFAULT_UPLOAD_CONCURRENCY,
        resume: bool = True,
        overwrite: bool = True,
        metadata: dict[str, str] | None = None,
        content_type: str | None = None,
        cache_control: str | None = None,
        content_disposition: str | None = None,
        content_encoding: str | None = None,
        expires: str | None = None,
        storage_class: str | None = None,
        acl: str | None = None,
        tagging: Any = None,
        server_side_encryption: str | None = None,
        kms_key_id: str | None = None,
        kms_context: Any = None,
        sse_customer_key: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.dest_bucket = dest_bucket
        self.dest_key = dest_key
        self.dest_prefix = dest_prefix
        self.multipart_threshold = multipart_threshold
        self.part_size = part_size
        self.concurrency = concurrency
        self.resume = resume
        self.overwrite = overwrite
        self.keep(locals(), ATTRIBUTE_TEMPLATE_FIELDS)
        self.keep_secrets(locals(), ("sse_customer_key",))

    def execute(self, context: Any) -> dict[str, Any]:
        self.persist_console_link(context)
        files = local_files(self.source)
        if self.dest_key and len(files) != 1:
            raise CosValidationError(
                "dest_key", f"names one object but {self.source!r} has {len(files)} files"
            )
        attributes = self.values(ATTRIBUTE_TEMPLATE_FIELDS)
        attributes["overwrite"] = self.overwrite
        assert set(attributes) <= set(UPLOAD_PARAMS)
        results = []
        for path, relative in files:
            key = self.dest_key or f"{self.dest_prefix}{relative}"
            result = self.hook.upload_file(
                path,
                key,
                self.dest_bucket,
                multipart_threshold=self.multipart_threshold,
                part_size=self.part_size,
                concurrency=self.concurrency,
                resume=self.resume,
                sse_customer_key=self.sse_customer_key,
                **attributes,
            )
            self.log.info("Uploaded %s to %s (%d bytes)", path, result.uri, result.size)
            results.append(result.to_dict())
        return {"count": len(results), "bytes": sum(r["size"] for r in results), "objects": results}


class CosCreateObjectOperator(CosConsoleLinkMixin, CosBaseOperator):
    """Write ``data`` (str, bytes, or a dict/list written as JSON) to one object; XCom: the UploadResult dict.

    ``sse_customer_key``: as :class:`LocalFilesystemToCosOperator`'s.
    """

    sse_customer_key: CustomerKey | None  # set by keep_secrets, never templated
    template_fields: Sequence[str] = (
        "data",
        "key",
        "bucket",
        *ATTRIBUTE_TEMPLATE_FIELDS,
        "cos_conn_id",
        "region",
    )

    def __init__(
        self,
        *,
        key: str,
        data: Any,
        bucket: str | None = None,
        encoding: str = "utf-8",
        overwrite: bool = True,
        metadata: dict[str, str] | None = None,
        content_type: str | None = None,
        cache_control: str | None = None,
        content_disposition: str | None = None,
        content_encoding: str | None = None,
        expires: str | None = None,
        storage_class: str | None = None,
        acl: str | None = None,
        tagging: Any = None,
        server_side_encryption: str | None = None,
        kms_key_id: str | None = None,
        kms_context: Any = None,
        sse_customer_key: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.key = key
        self.data = data
        self.bucket = bucket
        self.encoding = encoding
        self.overwrite = overwrite
        self.keep(locals(), ATTRIBUTE_TEMPLATE_FIELDS)
        self.keep_secrets(locals(), ("sse_customer_key",))

    def execute(self, context: Any) -> dict[str, Any]:
        self.persist_console_link(context)
        attributes = self.values(ATTRIBUTE_TEMPLATE_FIELDS)
        attributes["overwrite"] = self.overwrite
        attributes["sse_customer_key"] = self.sse_customer_key
        data = self.data
        if isinstance(data, bytes | bytearray):
            result = self.hook.write_bytes(bytes(data), self.key, self.bucket, **attributes)
        elif isinstance(data, str):
            result = self.hook.write_text(data, self.key, self.bucket, encoding=self.encoding, **attributes)
        elif isinstance(data, dict | list):
            result = self.hook.write_json(data, self.key, self.bucket, **attributes)
        else:
            raise CosValidationError("data", f"must be str, bytes, dict or list, got {type(data).__name__}")
        self.log.info("Wrote %s (%d bytes)", result.uri, result.size)
        return result.to_dict()
