"""Throttling tests: real HTTP against a rate-limited emulator; ``airflow_db`` ones run ``dag.test()``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.airflow_support import airflow_db  # noqa: F401  (session fixture)


@pytest.fixture(autouse=True)
def _unlimited_afterwards(request: pytest.FixtureRequest) -> Iterator[None]:
    """The rate limit, like the rest of the model, outlives ``reset()``: lift it after each test."""
    yield
    if "emulator" in request.fixturenames:
        emu: Any = request.getfixturevalue("emulator")
        emu.clear_faults()
        emu.set_model(
            latency=0.0,
            copy_bandwidth=None,
            aggregate_bandwidth=None,
            rate_limit=None,
            rate_limit_burst=None,
            bucket_rate_limits={},
        )
