"""Bundle tests: the bundle against the emulator over loopback; one real ``airflow dag-processor`` run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.copy.conftest import requests_of  # noqa: F401  (fixture)


@pytest.fixture
def bundle_storage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Airflow's bundle storage root, fresh for each test."""
    root = tmp_path / "bundle-storage"
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_STORAGE_PATH", str(root))
    return root


@pytest.fixture
def make_bundle(bundle_storage: Path, cos_connection: str) -> Any:
    from cos_provider.bundles.cos import CosDagBundle

    def make(**kwargs: Any) -> CosDagBundle:
        kwargs.setdefault("name", "cos-dags")
        kwargs.setdefault("refresh_interval", 0)
        return CosDagBundle(**kwargs)

    return make
