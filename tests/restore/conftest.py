"""Restore tests: real HTTP against the emulator; ``airflow_db`` ones run ``dag.test()``.

The emulator's restore clock is moved by the tests (``cos.advance_clock``),
never waited for; restores finish when a test says so, keyed to what the
sensor or trigger has seen (``finish_after``), so every mode plays the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.airflow_support import airflow_db  # noqa: F401  (session fixture)
from tests.copy.conftest import _restore_emulator  # noqa: F401  (autouse fixture)

HOUR = 3600.0


@pytest.fixture(autouse=True)
def _restore_times(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tier times are model settings, which outlive ``reset()``: put the defaults back."""
    yield
    if "emulator" in request.fixturenames:
        request.getfixturevalue("emulator").set_restore_times(expedited=60, standard=3 * HOUR, bulk=5 * HOUR)


@pytest.fixture
def finish_after(cos: Any) -> Callable[[int, float], list[str]]:
    """``finish_after(n, seconds)``: once HEADs have seen a running restore ``n`` times,
    let ``seconds`` pass on the restore clock (the restore is then done). Returns the log of
    statuses the emulator reported."""

    def install(n: int, seconds: float = 24 * HOUR) -> list[str]:
        seen: list[str] = []

        def observer(bucket: str, key: str, status: str) -> None:
            seen.append(status)
            if status == "in_progress" and seen.count("in_progress") == n:
                cos.advance_clock(seconds)

        cos.core.restores.observers.append(observer)
        return seen

    return install
