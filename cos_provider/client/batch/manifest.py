"""The Batch Operations manifest CSV (``COSBatchOperations_CSV_V1``): one line per object.

Manifest keys are URL-encoded (``quote``, ``/`` kept), as S3 Batch requires
(*unverified* for COS, whose documentation is silent): a key holding ``,``, a
quote, a newline or non-ASCII then stays one CSV field on one line. The client
writes the lines and the emulator reads them with the same two functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote, unquote

from cos_provider.client.batch.names import _MANIFEST_SAFE


def manifest_line(bucket: str, key: str, version_id: str | None = None) -> str:
    """One ``COSBatchOperations_CSV_V1`` line (``Bucket,Key[,VersionId]``), key URL-encoded, with ``\\n``."""
    fields = [bucket, quote(key, safe=_MANIFEST_SAFE)]
    if version_id is not None:
        fields.append(quote(version_id, safe=_MANIFEST_SAFE))
    return ",".join(fields) + "\n"


def manifest_fields(with_versions: bool) -> tuple[str, ...]:
    return ("Bucket", "Key", "VersionId") if with_versions else ("Bucket", "Key")


def parse_manifest_line(line: str, fields: Sequence[str]) -> tuple[str, str, str | None]:
    """``(bucket, key, version_id)`` of a manifest line; ``ValueError`` if it does not fit ``fields``."""
    values = line.rstrip("\r\n").split(",")
    if len(values) != len(fields):
        raise ValueError(f"has {len(values)} columns, the manifest spec names {len(fields)}")
    row = dict(zip(fields, values, strict=True))
    bucket, key = row.get("Bucket", ""), unquote(row.get("Key", ""))
    if not bucket or not key:
        raise ValueError("has no bucket or no key")
    version = row.get("VersionId")
    return bucket, key, unquote(version) if version else None
