"""``CosPath``: universal-pathlib's class for ``cos://``, a bucket-and-key cloud path like ``S3Path``.

Without it universal-pathlib warns that ``cos`` "is not explicitly
implemented" and falls back to a generic path that does not know the first
segment is a bucket. universal-pathlib loads this module through the
``universal_pathlib.implementations`` entry point; importing it imports
:mod:`cos_provider.fs`, which registers the filesystem and the bucket rule
(:func:`cos_provider.fs.cos.register`) before the first path is parsed.
"""

from __future__ import annotations

from typing import Any

from upath.implementations.cloud import CloudPath


class CosPath(CloudPath):
    __slots__ = ()

    def __init__(self, *args: Any, protocol: str | None = None, **storage_options: Any) -> None:
        super().__init__(*args, protocol=protocol, **storage_options)
        if not self.drive and len(self.parts) > 1:
            raise ValueError("non key-like path provided (bucket missing)")
