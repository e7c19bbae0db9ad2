"""The hook's single-object methods: HEAD, listings, delete."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cos_provider.client import validation
from cos_provider.client.copy.plan import validate_concurrency
from cos_provider.client.delete import DeleteResult, delete_keys, version_entries
from cos_provider.client.errors import CosValidationError
from cos_provider.client.models import ListedObject, ObjectInfo
from cos_provider.client.operations import ObjectRef
from cos_provider.client.selection import Selection
from cos_provider.hooks.base import CosBaseHook
from cos_provider.hooks.lineage import report_lineage

DEFAULT_DELETE_CONCURRENCY = 4


def validate_delimiter(value: object, field: str = "delimiter") -> str:
    """COS's delimiter is one character (``cos-data-plane.md`` §5); ``None``/``""``: none."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or len(value) != 1:
        raise CosValidationError(field, f"must be a single character, got {value!r}")
    return value


def _prefix(value: object, field: str = "prefix") -> str:
    if not isinstance(value, str):
        raise CosValidationError(field, f"must be a string, got {type(value).__name__}")
    return value


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
        """HEAD; an SSE-C object needs its ``sse_customer_key`` (over HTTPS), else the
        connection's ``sse_customer_key`` extra, as downloads and copies read it."""
        ref = self.object_ref(key, bucket, version_id=version_id, region=region)
        customer_key = self.customer_keys({"sse_customer_key": sse_customer_key}).dest
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

    def delete_objects(
        self,
        bucket: str,
        *,
        keys: Any = None,
        prefix: str | None = None,
        match_glob: str | None = None,
        dry_run: bool = False,
        versions: bool = False,
        region: str | None = None,
        concurrency: int = DEFAULT_DELETE_CONCURRENCY,
    ) -> DeleteResult:
        """Delete the objects named by exactly one of ``keys``, ``prefix`` or ``match_glob``.

        Batches of at most 1,000 keys, ``concurrency`` requests at a time; every
        key COS refuses is in ``errors`` with its code (nothing raises for them:
        read :attr:`DeleteResult.ok`). ``dry_run`` lists the keys and deletes
        nothing. ``versions=True`` deletes every version and delete marker of
        each selected key (listed with GET Bucket Object versions), so nothing
        of them is left. An empty ``prefix`` (the whole bucket) is refused.
        Every parameter is checked before any request.
        """
        if prefix == "":
            raise CosValidationError("prefix", "must not be empty: that would delete the whole bucket")
        selection = Selection.of(prefix=prefix, match_glob=match_glob, keys=keys)
        full = self.bucket(bucket)
        dry = validation.validate_bool(dry_run, "dry_run")
        every_version = validation.validate_bool(versions, "versions")
        validate_concurrency(concurrency)
        client = self.client_for(region)
        if every_version:
            if selection.mode == "keys":
                entries: Any = version_entries(client, full, keys=selection.keys)
            else:
                entries = version_entries(client, full, prefix=selection.prefix, pattern=selection.pattern)
        elif selection.mode == "keys":
            entries = list(selection.keys)
        else:
            entries = (o.key for o in selection.filter(client.iter_objects(full, prefix=selection.prefix)))
        result = delete_keys(client, full, entries, concurrency=concurrency, dry_run=dry)
        if not dry:
            report_lineage(self, outputs=[ObjectRef(full, key, region=region) for key in result.deleted])
        return result

    def list_keys(
        self,
        bucket: str,
        prefix: str = "",
        *,
        match_glob: str | None = None,
        delimiter: str | None = None,
        region: str | None = None,
    ) -> list[str]:
        """Keys under ``prefix`` (or matching ``match_glob``); with ``delimiter``, only those
        directly under ``prefix`` (not in a "folder" below it)."""
        text = _prefix(prefix)
        cut = validate_delimiter(delimiter)
        if match_glob is not None and text:
            raise CosValidationError("prefix/match_glob", "give at most one of them")
        selection = Selection.of(match_glob=match_glob) if match_glob else Selection.of(prefix=text)
        full = self.bucket(bucket)
        client = self.client_for(region)
        pages = client.iter_pages(full, prefix=selection.prefix, delimiter=cut)
        return [o.key for page in pages for o in selection.filter(page.objects)]

    def list_prefixes(
        self, bucket: str, prefix: str = "", delimiter: str = "/", *, region: str | None = None
    ) -> list[str]:
        """The "folders" directly under ``prefix``: COS's common prefixes for ``delimiter``."""
        text = _prefix(prefix)
        cut = validate_delimiter(delimiter)
        if not cut:
            raise CosValidationError("delimiter", "must be a single character, got an empty one")
        full = self.bucket(bucket)
        pages = self.client_for(region).iter_pages(full, prefix=text, delimiter=cut)
        return [p for page in pages for p in page.common_prefixes]
