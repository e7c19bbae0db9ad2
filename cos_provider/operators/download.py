"""``CosToLocalFilesystemOperator``: one key, a prefix or a glob into a local folder."""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from typing import Any

from cos_provider.client.download import DEFAULT_CONCURRENCY, DEFAULT_PART_SIZE, local_path_for
from cos_provider.client.encryption import CustomerKey
from cos_provider.client.errors import CosValidationError
from cos_provider.client.restore import is_archived
from cos_provider.client.selection import Selection
from cos_provider.links.cos import CosConsoleLinkMixin
from cos_provider.operators.base import POOL_MARGIN, CosBaseOperator


class CosToLocalFilesystemOperator(CosConsoleLinkMixin, CosBaseOperator):
    """Download one object (``key``), or every object under ``prefix`` / matching ``match_glob``, into ``local_folder``.

    A key maps to its path relative to the prefix (or the glob's literal
    prefix; a single ``key`` to its base name, or to ``filename``). Each file
    is CRC64-verified before it is put in place. XCom:
    ``{"count", "files": [{"uri", "path", "size", "crc64", ...}]}``.

    ``sse_customer_key``: the SSE-C key of the objects (HTTPS only), sent on
    every HEAD and ranged GET. Not templated; masked in logs; defaults to the
    connection's ``sse_customer_key`` extra.
    """

    sse_customer_key: CustomerKey | None  # set by keep_secrets, never templated
    console_link_fields = (("key", "match_glob", "prefix"), ("bucket",), "region")
    template_fields: Sequence[str] = (
        "bucket",
        "key",
        "prefix",
        "match_glob",
        "local_folder",
        "filename",
        "version_id",
        "cos_conn_id",
        "region",
    )

    def __init__(
        self,
        *,
        local_folder: str,
        bucket: str | None = None,
        key: str | None = None,
        prefix: str | None = None,
        match_glob: str | None = None,
        filename: str | None = None,
        version_id: str | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        part_size: int = DEFAULT_PART_SIZE,
        sse_customer_key: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.local_folder = local_folder
        self.bucket = bucket
        self.key = key
        self.prefix = prefix
        self.match_glob = match_glob
        self.filename = filename
        self.version_id = version_id
        self.concurrency = concurrency
        self.part_size = part_size
        self.keep_secrets(locals(), ("sse_customer_key",))

    @property
    def pool_size(self) -> int | None:
        return self.concurrency + POOL_MARGIN

    def _targets(self) -> list[tuple[str, str]]:
        """``(key, local path)`` pairs, all validated before the first download."""
        given = [n for n in ("key", "prefix", "match_glob") if getattr(self, n) not in (None, "")]
        if len(given) != 1 and not (not given and self.prefix == ""):
            raise CosValidationError(
                "key/prefix/match_glob", f"give exactly one, got {', '.join(given) or 'none'}"
            )
        if self.key:
            ref = self.hook.object_ref(self.key, self.bucket)
            name = self.filename or posixpath.basename(ref.key)
            return [(self.key, local_path_for(self.local_folder, name))]
        if self.version_id or self.filename:
            raise CosValidationError("version_id/filename", "apply to a single key only")
        if not self.bucket:
            raise CosValidationError("bucket", "is required with prefix or match_glob")
        selection = Selection.of(prefix=self.prefix, match_glob=self.match_glob)
        pairs = []
        archived = []
        for obj in self.hook.iter_objects(self.bucket, selection.prefix, match_glob=self.match_glob):
            if obj.key.endswith("/") and obj.size == 0:
                continue  # a folder marker
            if is_archived(obj.storage_class):
                archived.append(f"cos://{self.hook.bucket(self.bucket)}/{obj.key}")
            pairs.append(
                (
                    f"cos://{self.hook.bucket(self.bucket)}/{obj.key}",
                    local_path_for(self.local_folder, obj.key[len(selection.strip) :]),
                )
            )
        # An unrestored archive fails the task before the first file is written.
        self.hook.require_restored(archived, "download")
        return pairs

    def execute(self, context: Any) -> dict[str, Any]:
        self.persist_console_link(context)
        targets = self._targets()
        files = []
        for key, path in targets:
            result = self.hook.download_file(
                key,
                path,
                None if key.startswith("cos://") else self.bucket,
                version_id=self.version_id,
                concurrency=self.concurrency,
                part_size=self.part_size,
                sse_customer_key=self.sse_customer_key,
            )
            files.append(result.to_dict())
        self.log.info("Downloaded %d object(s) into %s", len(files), self.local_folder)
        return {"count": len(files), "files": files}

    def on_kill(self) -> None:
        if "hook" in self.__dict__:
            self.log.warning("Task killed: cancelling the download")
            self.hook.cancel()
