"""``CosDagBundle``: DAG files kept in a COS prefix, synced into the dag-processor's local folder.

The shape of amazon's ``S3DagBundle``: the files live in :attr:`path` (the
bundle's own folder under Airflow's bundle storage), :meth:`refresh` lists the
prefix and makes the folder match it, and remote deletions are deleted
locally. What differs is how change is seen: S3's bundle compares sizes and
modification times, which a same-size rewrite within a second slips past.
Here the listing's ETags decide. A manifest beside the files records the ETag
each local file was downloaded at; a key is fetched again only when its ETag
changed or its file is missing or of another size, so an unchanged bundle
costs one listing and no object GET. :meth:`get_current_version` is a hash of
the ``(key, ETag)`` pairs, the same for the same content whichever process
computes it.

Versions are not checked out (``supports_versioning = False``, like S3's):
COS keeps no snapshot of a prefix to go back to. All I/O is the hook's
listing and verified download (CRC64-checked, written to a partial file and
renamed, so the dag-processor never parses half a file).

Airflow 3.3 loads bundles from ``[dag_processor] dag_bundle_config_list``
only (the provider info's ``bundles`` entry is informational); see the
README's "DAG bundle" section for the line.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import Any

from airflow.dag_processing.bundles.base import BaseDagBundle

try:  # Airflow 3.3 wraps the version; 3.0-3.2 take the plain string.
    from airflow.dag_processing.bundles.base import BundleVersion
except ImportError:  # pragma: no cover - exercised by scripts/dev.py compat
    BundleVersion = None  # type: ignore[assignment,misc]

from cos_provider.client.download import local_path_for
from cos_provider.client.errors import CosValidationError
from cos_provider.client.etag import normalise_etag
from cos_provider.client.uri import is_cos_url, split_cos_url
from cos_provider.hooks.cos import CosHook

MANIFEST = ".cos-bundle-manifest.json"
"""Beside the DAG files: ``{"version", "files": {relative path: {"etag", "size"}}}``."""
PYCACHE = "__pycache__"


def bundle_version(entries: Iterable[tuple[str, str]]) -> str:
    """The version of a listing: SHA-256 over its sorted ``(key, ETag)`` pairs (ETags normalised)."""
    digest = hashlib.sha256()
    for key, etag in sorted((k, normalise_etag(e)) for k, e in entries):
        digest.update(key.encode("utf-8") + b"\0" + etag.encode("ascii", "replace") + b"\n")
    return digest.hexdigest()


class CosDagBundle(BaseDagBundle):
    """DAG files from a COS prefix.

    :param bucket_name: The bucket (``name-appid``, or ``name`` with the connection's APPID).
        May be left out when ``prefix`` is a ``cos://bucket/prefix`` URL.
    :param prefix: The folder of DAG files (``dags/``; a missing trailing ``/`` is added), or a
        ``cos://bucket/prefix`` URL. Empty: the whole bucket.
    :param cos_conn_id: The Tencent COS connection.
    :param region: Overrides the connection's region.

    ``name``, ``refresh_interval`` and ``view_url_template`` are :class:`BaseDagBundle`'s.
    """

    supports_versioning = False

    def __init__(
        self,
        *,
        bucket_name: str | None = None,
        prefix: str = "",
        cos_conn_id: str = CosHook.default_conn_name,
        region: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if self.version:
            raise CosValidationError(
                "version", "CosDagBundle has no versions to check out (supports_versioning is False)"
            )
        if not isinstance(prefix, str):
            raise CosValidationError("prefix", f"must be a string, got {type(prefix).__name__}")
        if is_cos_url(prefix):
            # A sentinel last segment lets the one cos:// parser take "cos://bucket" and "cos://bucket/" too.
            url_bucket, key = split_cos_url(prefix.rstrip("/") + "/_", "prefix")
            prefix = key[:-1]
            if bucket_name and url_bucket != bucket_name:
                raise CosValidationError("bucket_name", f"{bucket_name!r} differs from the bucket of prefix")
            bucket_name = url_bucket
        if not bucket_name or not isinstance(bucket_name, str):
            raise CosValidationError("bucket_name", "is required (or give prefix as cos://bucket/prefix)")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        self.bucket_name = bucket_name
        self.prefix = prefix
        self.cos_conn_id = cos_conn_id
        self.region = region
        self._version: str | None = None

    @cached_property
    def hook(self) -> CosHook:
        return CosHook(self.cos_conn_id, region=self.region)

    @property
    def path(self) -> Path:
        return Path(self.base_dir)

    def initialize(self) -> None:
        with self.lock():
            self._sync()
        super().initialize()

    def refresh(self) -> None:
        with self.lock():
            self._sync()

    def get_current_version(self) -> Any:
        """The version as the running Airflow wants it: ``BundleVersion`` on 3.3, else a str."""
        version = self._version or self._manifest().get("version")
        if not version:
            return None
        return BundleVersion(version=version) if BundleVersion is not None else version

    def __repr__(self) -> str:
        return f"CosDagBundle(name={self.name!r}, bucket_name={self.bucket_name!r}, prefix={self.prefix!r})"

    # ------------------------------------------------------------ sync

    def _manifest(self) -> dict[str, Any]:
        try:
            data = json.loads((self.path / MANIFEST).read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _sync(self) -> None:
        """Make :attr:`path` hold exactly the prefix's files, fetching only changed ones."""
        self.path.mkdir(parents=True, exist_ok=True)
        listing = {}
        for obj in self.hook.iter_objects(self.bucket_name, self.prefix):
            relative = obj.key[len(self.prefix) :]
            if obj.key.endswith("/") and obj.size == 0:
                continue  # a folder marker
            listing[relative] = obj
        version = bundle_version((o.key, o.etag) for o in listing.values())
        old = self._manifest().get("files", {})
        files: dict[str, dict[str, Any]] = {}
        fetched = 0
        for relative, obj in sorted(listing.items()):
            try:
                target = Path(local_path_for(str(self.path), relative))
            except CosValidationError as exc:  # one odd key must not stop every other update
                self.hook.log.warning("Bundle %s: skipping %s: %s", self.name, obj.key, exc)
                continue
            seen = old.get(relative) or {}
            if (
                normalise_etag(seen.get("etag")) == normalise_etag(obj.etag)
                and target.is_file()
                and target.stat().st_size == obj.size
            ):
                files[relative] = seen
                continue
            result = self.hook.download_file(obj.key, target, self.bucket_name, region=self.region)
            files[relative] = {"etag": normalise_etag(result.etag), "size": result.size}
            fetched += 1
        removed = self._remove_stale(set(files))
        (self.path / f"{MANIFEST}.tmp").write_text(json.dumps({"version": version, "files": files}), "utf-8")
        os.replace(self.path / f"{MANIFEST}.tmp", self.path / MANIFEST)
        self._version = version
        self.hook.log.info(
            "Bundle %s: %d file(s) in cos://%s/%s, %d downloaded, %d removed, version %s",
            self.name,
            len(files),
            self.bucket_name,
            self.prefix,
            fetched,
            removed,
            version[:12],
        )

    def _remove_stale(self, keep: set[str]) -> int:
        """Delete local files the prefix no longer has (and folders left empty)."""
        removed = 0
        for root, dirs, names in os.walk(self.path, topdown=False):
            if PYCACHE in Path(root).relative_to(self.path).parts:
                continue  # written by the dag-processor itself
            for name in names:
                full = Path(root, name)
                relative = full.relative_to(self.path).as_posix()
                if relative in keep or relative in (MANIFEST, f"{MANIFEST}.tmp"):
                    continue
                full.unlink()
                removed += 1
            for name in dirs:
                folder = Path(root, name)
                if name != PYCACHE and not any(folder.iterdir()):
                    folder.rmdir()
        return removed


__all__ = ["MANIFEST", "CosDagBundle", "bundle_version"]
