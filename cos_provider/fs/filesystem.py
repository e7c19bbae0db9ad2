"""``CosFileSystem``: fsspec over the provider's hook, so ``ObjectStoragePath("cos://...")`` works.

Directories are prefixes, as s3fs has them: ``bucket/a/b`` is a directory
when some key starts with ``a/b/``; ``mkdir`` creates nothing, and a
directory disappears with its last object. Paths are ``bucket/key`` (the
protocol stripped); a bare bucket name gets the connection's APPID, as
everywhere in the provider, but names handed back keep the bucket as it was
written, so ``iterdir`` children compare equal to the paths a user builds.

Every byte moves through the hook's verified paths: reads are ranged GETs
pinned with ``If-Match`` to the ETag seen at open (:mod:`.files`), writes
are a CRC64-checked PUT or a multipart upload aborted unless the file is
closed cleanly, copies between two ``cos://`` paths are server-side through
the copy engine (``CosHook.copy_object``: multipart above 5 GB, pinned,
CRC64-checked), ``mv`` deletes its source only after that verified copy,
``put_file``/``get_file`` (what Airflow calls for ``file://`` <-> ``cos://``)
are the data plane's streamed ``upload_file``/``download_file``, and
recursive ``rm`` is Delete Multiple Objects in batches of 1,000.

COS errors become the ``OSError`` subclasses fsspec and pathlib callers
expect (404: ``FileNotFoundError``, 403: ``PermissionError``), with the COS
error as their cause.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cached_property
from typing import Any

from fsspec.spec import AbstractFileSystem

from cos_provider.client import limits
from cos_provider.client import operations as ops
from cos_provider.client.delete import delete_keys
from cos_provider.client.download import read_object
from cos_provider.client.errors import CosIntegrityError, CosServiceError, CosValidationError
from cos_provider.client.etag import unquote_etag
from cos_provider.client.models import ObjectInfo
from cos_provider.client.operations import ObjectRef
from cos_provider.client.uri import is_cos_url

HOOK_OPTIONS = ("region", "app_id", "connect_address", "pool_size", "max_attempts", "read_timeout")
"""Storage options handed to :class:`~cos_provider.hooks.cos.CosHook` (they override the connection)."""

FSSPEC_OPTIONS = frozenset(
    {"use_listings_cache", "listings_expiry_time", "max_paths", "skip_instance_cache", "asynchronous", "loop"}
)
"""Options fsspec or universal-pathlib may pass to any filesystem; accepted and unused."""


@contextmanager
def os_errors(path: str) -> Iterator[None]:
    """COS "not found" / "denied" as the ``OSError`` subclasses pathlib and fsspec callers catch."""
    try:
        yield
    except CosServiceError as exc:
        if exc.status == 404:
            raise FileNotFoundError(errno.ENOENT, f"{exc}", path) from exc
        if exc.status == 403:
            raise PermissionError(errno.EACCES, f"{exc}", path) from exc
        raise


def info_dict(name: str, info: ObjectInfo) -> dict[str, Any]:
    """An object's fsspec ``info``: fsspec's keys plus everything HEAD says that a task may check."""
    return {
        "name": name,
        "size": info.size,
        "type": "file",
        "etag": unquote_etag(info.etag),
        "ETag": info.etag,  # as COS sends it, quoted (s3fs's key)
        "crc64": info.crc64,
        "last_modified": info.last_modified,
        "LastModified": info.last_modified,
        "version_id": info.version_id,
        "storage_class": info.storage_class or "STANDARD",
        "content_type": info.content_type,
        "metadata": dict(info.metadata),
    }


def _directory(name: str) -> dict[str, Any]:
    return {"name": name, "size": 0, "type": "directory"}


class CosFileSystem(AbstractFileSystem):  # type: ignore[misc]
    """fsspec filesystem for ``cos://`` over :class:`~cos_provider.hooks.cos.CosHook`.

    :param conn_id: The Airflow connection (``None``: ``cos_default``, so the
        class works when fsspec or universal-pathlib builds it with no arguments).
    :param block_size: Read-ahead and write part size in bytes (default 8 MiB;
        writes need at least 1 MiB, COS's smallest part).
    :param region, app_id, connect_address, pool_size, max_attempts, read_timeout:
        Override the connection's settings, as the hook's parameters of the same names.
    """

    protocol = ("cos",)
    root_marker = ""
    DEFAULT_BLOCK_SIZE = 8 * limits.MiB

    def __init__(self, conn_id: str | None = None, *, block_size: int | None = None, **options: Any) -> None:
        unknown = sorted(set(options) - set(HOOK_OPTIONS) - FSSPEC_OPTIONS)
        if unknown:
            raise CosValidationError(
                ", ".join(unknown),
                f"is not an option of the cos:// filesystem; known: {', '.join(('block_size', *HOOK_OPTIONS))}",
            )
        if conn_id is not None and not isinstance(conn_id, str):
            raise CosValidationError("conn_id", f"must be a string, got {type(conn_id).__name__}")
        if block_size is not None and (
            isinstance(block_size, bool) or not isinstance(block_size, int) or block_size < 1
        ):
            raise CosValidationError("block_size", f"must be a positive integer, got {block_size!r}")
        super().__init__(conn_id=conn_id, block_size=block_size, **options)
        self.conn_id = conn_id
        self.blocksize = block_size or self.DEFAULT_BLOCK_SIZE
        self._hook_overrides = {k: options[k] for k in HOOK_OPTIONS if options.get(k) is not None}

    @cached_property
    def hook(self) -> Any:
        """The hook, built on first use: constructing a path never reads the connection."""
        from cos_provider.hooks.cos import CosHook

        return CosHook(self.conn_id, **self._hook_overrides)

    @property
    def fsid(self) -> str:
        return f"cos-{self.conn_id or 'cos_default'}"

    # ------------------------------------------------------------ paths

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]
        text = os.fspath(path) if not isinstance(path, str) else path
        if is_cos_url(text):
            text = text[len("cos://") :]
        return text.lstrip("/").rstrip("/")

    def split_path(self, path: str) -> tuple[str, str]:
        """``(bucket, key)`` of a path; ``key`` is ``""`` for a bucket."""
        bucket, _, key = self._strip_protocol(path).partition("/")
        return bucket, key

    def _ref(self, path: str, version_id: str | None = None, field: str = "path") -> ObjectRef:
        bucket, key = self.split_path(path)
        if not bucket or not key:
            raise CosValidationError(field, f"{path!r} must name an object: <bucket>/<key>")
        ref: ObjectRef = self.hook.object_ref(f"cos://{bucket}/{key}", version_id=version_id, key_field=field)
        return ref

    @staticmethod
    def _url(ref: ObjectRef) -> str:
        return ref.uri()

    # ------------------------------------------------------------ reading metadata

    def info(self, path: str, version_id: str | None = None, **kwargs: Any) -> dict[str, Any]:
        """HEAD for an object; a bucket, or a prefix some key starts with, is a directory."""
        name = self._strip_protocol(path)
        bucket, key = self.split_path(name)
        if not bucket:
            return _directory("")
        if not key:
            with os_errors(name):
                self.hook.conn.head_bucket(self.hook.bucket(bucket))
            return _directory(bucket)
        ref = self._ref(name, version_id)
        try:
            head = self.hook.conn.execute(ops.head_object(ref))
        except CosServiceError as exc:
            if exc.status != 404:
                with os_errors(name):
                    raise
        else:
            return info_dict(name, head)
        if version_id is None and self._has_children(ref.bucket, key):
            return _directory(name)
        raise FileNotFoundError(errno.ENOENT, f"No such object or prefix: cos://{name}", name)

    def _has_children(self, full_bucket: str, key: str) -> bool:
        with os_errors(f"{full_bucket}/{key}"):
            page = self.hook.conn.list_objects(full_bucket, prefix=key + "/", delimiter="/", max_keys=1)
        return bool(page.objects or page.common_prefixes)

    def checksum(self, path: str) -> int:
        """The object's CRC64 (``x-cos-hash-crc64ecma``): equal checksums, equal bytes."""
        info = self.info(path)
        if info["type"] != "file":
            raise IsADirectoryError(errno.EISDIR, "a directory has no checksum", path)
        if info.get("crc64") is None:
            return super().checksum(path)  # type: ignore[no-any-return]
        return int(info["crc64"])

    def modified(self, path: str) -> datetime:
        info = self.info(path)
        if info.get("last_modified") is None:
            raise IsADirectoryError(errno.EISDIR, "a directory has no modification time", path)
        return info["last_modified"]  # type: ignore[no-any-return]

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        """One level: objects and common prefixes for ``delimiter=/``; a file lists as itself."""
        name = self._strip_protocol(path)
        bucket, key = self.split_path(name)
        if not bucket:
            with os_errors(name):
                entries = [_directory(b.name) for b in self.hook.conn.list_buckets()]
            return entries if detail else [e["name"] for e in entries]
        full = self.hook.bucket(bucket)
        prefix = f"{key}/" if key else ""
        entries = []
        with os_errors(name):
            for page in self.hook.conn.iter_pages(full, prefix=prefix, delimiter="/"):
                for p in page.common_prefixes:
                    entries.append(_directory(f"{bucket}/{p.rstrip('/')}"))
                for o in page.objects:
                    if o.key == prefix:  # the folder marker of the directory being listed
                        continue
                    entries.append(self._listed(bucket, o))
        if not entries and key:
            found = self.info(name)  # a file lists as itself; a miss raises FileNotFoundError
            if found["type"] == "file":
                entries = [found]
        entries.sort(key=lambda e: e["name"])
        return entries if detail else [e["name"] for e in entries]

    @staticmethod
    def _listed(bucket: str, o: Any) -> dict[str, Any]:
        if o.key.endswith("/"):
            return _directory(f"{bucket}/{o.key.rstrip('/')}")
        return {
            "name": f"{bucket}/{o.key}",
            "size": o.size,
            "type": "file",
            "etag": unquote_etag(o.etag),
            "ETag": o.etag,
            "last_modified": o.last_modified,
            "LastModified": o.last_modified,
            "storage_class": o.storage_class or "STANDARD",
        }

    def find(
        self,
        path: str,
        maxdepth: int | None = None,
        withdirs: bool = False,
        detail: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Everything below ``path`` from one flat listing (no delimiter), as s3fs does."""
        if maxdepth is not None:
            return super().find(path, maxdepth=maxdepth, withdirs=withdirs, detail=detail, **kwargs)
        name = self._strip_protocol(path)
        bucket, key = self.split_path(name)
        if not bucket:
            return super().find(path, withdirs=withdirs, detail=detail, **kwargs)
        full = self.hook.bucket(bucket)
        out: dict[str, dict[str, Any]] = {}
        prefix = f"{key}/" if key else ""
        with os_errors(name):
            for o in self.hook.conn.iter_objects(full, prefix=prefix):
                if o.key == prefix:  # the folder marker of the directory searched
                    continue
                entry = self._listed(bucket, o)
                if entry["type"] == "file":
                    out[entry["name"]] = entry
                if withdirs:
                    parts = o.key[len(prefix) :].rstrip("/").split("/")
                    for depth in range(1, len(parts) + (entry["type"] == "directory")):
                        d = "/".join(parts[:depth])
                        out.setdefault(f"{name}/{d}", _directory(f"{name}/{d}"))
        if key and not out:
            try:
                found = self.info(name)
            except FileNotFoundError:
                found = None
            if found is not None and found["type"] == "file":
                out[name] = found
        if withdirs and out and name not in out:
            out[name] = _directory(name)  # objects below it: a directory, as fsspec's find lists it
        names = sorted(out)
        return {n: out[n] for n in names} if detail else names

    # ------------------------------------------------------------ reading and writing

    def open(
        self,
        path: str,
        mode: str = "rb",
        block_size: int | None = None,
        cache_options: dict[str, Any] | None = None,
        compression: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """fsspec's ``open``, except that a writer left by an exception is aborted, in every layer.

        fsspec wraps text modes in :class:`io.TextIOWrapper`, whose ``__exit__``
        closes (so completes) the file whatever happened inside ``with``, and a
        compressor, which never closes the file under it at all.
        """
        from cos_provider.fs.files import CompressedWriter, TextWriter

        if "r" in mode:
            return super().open(path, mode, block_size, cache_options, compression, **kwargs)
        if "b" not in mode:
            text = {k: kwargs.pop(k) for k in ("encoding", "errors", "newline") if k in kwargs}
            binary = self.open(
                path, mode.replace("t", "") + "b", block_size, cache_options, compression, **kwargs
            )
            return TextWriter(binary, **text)
        raw = super().open(path, mode, block_size, cache_options, None, **kwargs)
        if compression is None:
            return raw
        from fsspec.compression import compr
        from fsspec.core import get_compression

        return CompressedWriter(compr[get_compression(path, compression)](raw, mode=mode[0]), raw)

    def _open(
        self,
        path: str,
        mode: str = "rb",
        block_size: int | None = None,
        autocommit: bool = True,
        cache_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        from cos_provider.fs.files import CosFile

        return CosFile(
            self,
            self._strip_protocol(path),
            mode,
            block_size=block_size or self.blocksize,
            autocommit=autocommit,
            cache_options=cache_options,
            **kwargs,
        )

    def cat_file(self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any) -> bytes:
        """The object's bytes (a ranged GET for ``start``/``end``); a whole read is CRC64-checked."""
        ref = self._ref(path, kwargs.get("version_id"))
        with os_errors(path):
            if start is None and end is None:
                return read_object(self.hook.conn, ref, max_size=limits.MAX_OBJECT_SIZE)
            with self.open(path, "rb", version_id=kwargs.get("version_id")) as f:
                size = f.size
                first = 0 if start is None else (start if start >= 0 else max(size + start, 0))
                last = size if end is None else (end if end >= 0 else max(size + end, 0))
                f.seek(first)
                return f.read(max(min(last, size) - first, 0))  # type: ignore[no-any-return]

    def pipe_file(self, path: str, value: bytes, mode: str = "overwrite", **kwargs: Any) -> None:
        """One CRC64-checked PUT (``mode="create"``: refused if the object exists)."""
        ref = self._ref(path)
        if mode not in ("overwrite", "create"):
            raise CosValidationError("mode", f"must be 'overwrite' or 'create', got {mode!r}")
        with os_errors(path):
            self.hook.write_bytes(bytes(value), self._url(ref), overwrite=mode == "overwrite", **kwargs)

    def touch(self, path: str, truncate: bool = True, **kwargs: Any) -> None:
        """An empty object; ``truncate=False`` on an existing one renews its last-modified (a self-copy)."""
        ref = self._ref(path)
        if not truncate and self.isfile(path):
            with os_errors(path):
                self.hook.replace_metadata(self._url(ref), metadata={})
            return
        with os_errors(path):
            self.hook.write_bytes(b"", self._url(ref), **kwargs)

    def put_file(
        self, lpath: str, rpath: str, callback: Any = None, mode: str = "overwrite", **kwargs: Any
    ) -> None:
        """A local file up through the data plane: streamed from disk, multipart when large, CRC64-checked."""
        if os.path.isdir(lpath):
            return  # a directory of a recursive put: prefixes need no object
        ref = self._ref(rpath)
        size = os.path.getsize(lpath)
        if callback is not None:
            callback.set_size(size)
        with os_errors(rpath):
            self.hook.upload_file(lpath, self._url(ref), overwrite=mode == "overwrite", **kwargs)
        if callback is not None:
            callback.relative_update(size)

    def get_file(
        self, rpath: str, lpath: str, callback: Any = None, outfile: Any = None, **kwargs: Any
    ) -> None:
        """An object down through the data plane: parallel pinned ranges, CRC64-checked, atomic rename."""
        if outfile is not None:
            return super().get_file(rpath, lpath, callback=callback, outfile=outfile, **kwargs)  # type: ignore[no-any-return]
        if self.isdir(rpath):
            os.makedirs(lpath, exist_ok=True)
            return None
        ref = self._ref(rpath, kwargs.pop("version_id", None))
        with os_errors(rpath):
            result = self.hook.download_file(self._url(ref), lpath, version_id=ref.version_id, **kwargs)
        if callback is not None:
            callback.set_size(result.size)
            callback.relative_update(result.size)
        return None

    # ------------------------------------------------------------ copies and moves

    def cp_file(self, path1: str, path2: str, **kwargs: Any) -> None:
        """Server-side: ``CosHook.copy_object`` (multipart above 5 GB, pinned, CRC64-verified)."""
        source, dest = self._ref(path1, field="path1"), self._ref(path2, field="path2")
        with os_errors(path1):
            self.hook.copy_object(self._url(source), self._url(dest), **kwargs)

    def mv(
        self, path1: str, path2: str, recursive: bool = False, maxdepth: int | None = None, **kwargs: Any
    ) -> None:
        """Copy, verify, then delete each source only if it is still what was copied."""
        if recursive or self.isdir(path1):
            sources = self.find(path1, maxdepth=maxdepth)  # files only, from one listing
            if not sources:
                raise FileNotFoundError(errno.ENOENT, "nothing to move", path1)
            base, target = self._strip_protocol(path1), self._strip_protocol(path2)
            pairs = [(p, target + p[len(base) :]) for p in sources]
        else:
            pairs = [(path1, path2)]
        for src, dst in pairs:
            source, dest = self._ref(src, field="path1"), self._ref(dst, field="path2")
            with os_errors(src):
                self.hook.copy_object(self._url(source), self._url(dest), move=True, **kwargs)

    # ------------------------------------------------------------ directories and deletes

    def mkdir(self, path: str, create_parents: bool = True, **kwargs: Any) -> None:
        """Nothing to create: a prefix exists once an object is written under it."""

    def makedirs(self, path: str, exist_ok: bool = False) -> None:
        """Nothing to create (see :meth:`mkdir`)."""

    def rmdir(self, path: str) -> None:
        """Remove an empty "directory": its ``key/`` marker object, if there is one."""
        name = self._strip_protocol(path)
        bucket, key = self.split_path(name)
        if not key:
            raise CosValidationError("path", f"{path!r} is a bucket; the filesystem never deletes buckets")
        full = self.hook.bucket(bucket)
        with os_errors(name):
            page = self.hook.conn.list_objects(full, prefix=key + "/", max_keys=2)
        others = [o for o in page.objects if o.key != key + "/"]
        if others:
            raise OSError(errno.ENOTEMPTY, "Directory not empty", name)
        if page.objects:
            with os_errors(name):
                self.hook.conn.delete_object(full, key + "/")

    def _rm(self, path: str) -> None:
        ref = self._ref(path)
        with os_errors(path):
            self.hook.delete_object(self._url(ref))

    def rm_file(self, path: str) -> None:
        self._rm(path)

    def rm(self, path: Any, recursive: bool = False, maxdepth: int | None = None) -> None:
        """Delete files, or whole prefixes with ``recursive``, by Delete Multiple Objects.

        A prefix is listed and deleted as it is listed (1,000 keys a request,
        folder markers included), never held whole in memory. Every key COS
        refuses is named in the ``OSError`` raised at the end. Buckets are
        never deleted, and a whole bucket is not emptied this way.
        """
        if maxdepth is not None:
            names = [n for n in self.expand_path(path, recursive=True, maxdepth=maxdepth) if self.isfile(n)]
            for bucket, keys in self._by_bucket(names).items():
                self._delete(bucket, iter(keys))
            return
        for name in self.expand_path(path):
            bucket, key = self.split_path(name)
            if not key:
                raise CosValidationError(
                    "path", f"{name!r} is a bucket; the filesystem never deletes buckets"
                )
            kind = self.info(name)["type"]  # a miss raises FileNotFoundError
            if kind == "directory" and not recursive:
                raise IsADirectoryError(errno.EISDIR, "a directory: pass recursive=True", name)
            if kind == "file":
                self._delete(bucket, iter([key]))
            if recursive:
                full = self.hook.bucket(bucket)
                self._delete(bucket, (o.key for o in self.hook.conn.iter_objects(full, prefix=key + "/")))

    def _by_bucket(self, names: list[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for name in names:
            bucket, key = self.split_path(name)
            out.setdefault(bucket, []).append(key)
        return out

    def _delete(self, bucket: str, keys: Iterator[str]) -> None:
        full = self.hook.bucket(bucket)
        with os_errors(f"{bucket}/"):
            result = delete_keys(self.hook.conn, full, keys)
        problems = [f"{bucket}/{e.key}: {e.code} {e.message}" for e in result.errors]
        if problems:
            raise OSError(errno.EIO, f"COS refused to delete {len(problems)} key(s): " + "; ".join(problems))
        if result.deleted:
            from cos_provider.hooks.lineage import report_lineage

            report_lineage(self.hook, outputs=[ObjectRef(full, k) for k in result.deleted])

    # ------------------------------------------------------------ unsupported, clearly

    def created(self, path: str) -> datetime:
        raise NotImplementedError("COS records no creation time; use modified()")

    def sign(self, path: str, expiration: int = 100, **kwargs: Any) -> str:
        raise NotImplementedError("presigned URLs are not offered by the cos:// filesystem")


__all__ = ["CosFileSystem", "CosIntegrityError", "info_dict", "os_errors"]
