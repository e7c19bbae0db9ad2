"""The ``cos://`` filesystem: fsspec and universal-pathlib classes, and Airflow's ``get_fs``.

Importing this package registers ``cos`` with fsspec and universal-pathlib
(:mod:`.cos`), as the package's entry points do for an installed
distribution, so ``ObjectStoragePath("cos://bucket/key", conn_id=...)``
works in a task either way.
"""

from __future__ import annotations

from cos_provider.fs.cos import CosFileSystem, get_fs, register, schemes

__all__ = ["CosFileSystem", "get_fs", "register", "schemes"]
