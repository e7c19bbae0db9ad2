"""cos:// filesystem tests: real HTTP against the emulator; ``airflow_db`` ones run ``dag.test()``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import cos_provider.fs  # noqa: F401  (registers cos:// as an installed distribution's entry points do)
from tests.airflow_support import airflow_db  # noqa: F401  (session fixture)
from tests.copy.conftest import _restore_emulator, requests_of  # noqa: F401  (fixtures)


@pytest.fixture(autouse=True)
def _fresh_filesystems() -> Iterator[None]:
    """Airflow caches one store (and fsspec one filesystem) per connection per process: start clean."""
    from airflow.sdk.io.store import _STORE_CACHE

    from cos_provider.fs.filesystem import CosFileSystem

    _STORE_CACHE.clear()
    CosFileSystem.clear_instance_cache()
    yield
    _STORE_CACHE.clear()
    CosFileSystem.clear_instance_cache()


@pytest.fixture
def path(cos_connection: str) -> Any:
    """``path("src/a.txt")``: an ObjectStoragePath on the emulator through ``cos_default``."""
    from airflow.sdk import ObjectStoragePath

    def make(rest: str) -> Any:
        return ObjectStoragePath(f"cos://{rest}", conn_id=cos_connection)

    return make


def ops(cos: Any) -> dict[str, int]:
    """Requests so far by operation (all statuses)."""
    return {op: sum(per.values()) for op, per in cos.counters()["requests"].items()}
