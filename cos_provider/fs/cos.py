"""What Airflow's provider discovery reads: ``schemes`` and ``get_fs`` (provider info ``filesystems``).

Airflow maps every scheme in :data:`schemes` to :func:`get_fs` and calls it
as ``get_fs(conn_id, storage_options)`` when a task first touches a
``cos://`` path with that connection (``ObjectStoragePath`` passes no
options: extra settings come from the connection). fsspec itself must know
``cos`` before that, when the path is constructed: the distribution's
``fsspec.specs`` entry point tells it, and importing this module does too
(:func:`register`), for an environment where the package is on the path
but not installed.

Another fsspec package claiming ``cos`` (the third-party ``cosfs``) is
replaced once this module is imported: a task that uses this provider's
connections gets this provider's filesystem.
"""

from __future__ import annotations

from typing import Any

import fsspec

from cos_provider.fs.filesystem import CosFileSystem

schemes = ["cos"]


def register() -> None:
    """Tell fsspec and universal-pathlib that ``cos://`` is :class:`CosFileSystem` / ``CosPath``."""
    fsspec.register_implementation("cos", CosFileSystem, clobber=True)
    from upath import registry

    from cos_provider.fs.path import CosPath

    registry.register_implementation("cos", CosPath, clobber=True)
    _bucket_is_the_anchor()


def _bucket_is_the_anchor() -> None:
    """Parse ``cos://bucket/key`` as universal-pathlib parses ``s3://``: the bucket is the drive.

    universal-pathlib keeps this per protocol in a table on its parser class
    (``protocol_config``, an acknowledged stopgap in its source), so ``cos``
    is added there; without it ``bucket``/``key``/``parent`` of a path are wrong.
    """
    try:
        from upath._flavour import WrappedFileSystemFlavour
    except ImportError:  # pragma: no cover - a universal-pathlib without the table
        return
    config = getattr(WrappedFileSystemFlavour, "protocol_config", None)
    if not isinstance(config, dict):  # pragma: no cover
        return
    for name in ("netloc_is_anchor", "supports_empty_parts"):
        if isinstance(config.get(name), set):
            config[name].add("cos")
    WrappedFileSystemFlavour.from_protocol.cache_clear()


def get_fs(conn_id: str | None, storage_options: dict[str, Any] | None = None) -> CosFileSystem:
    """The filesystem for ``conn_id`` (``None``: ``cos_default``); ``storage_options`` override its settings.

    Options: ``block_size`` and the hook's ``region``, ``app_id``,
    ``connect_address``, ``pool_size``, ``max_attempts``, ``read_timeout``;
    anything else is refused, naming the option.
    """
    options = dict(storage_options or {})
    return CosFileSystem(conn_id, **options)


register()

__all__ = ["CosFileSystem", "get_fs", "register", "schemes"]
