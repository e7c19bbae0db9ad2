"""Restore tests: real HTTP against the emulator; ``airflow_db`` ones run ``dag.test()``.

The emulator's restore clock is moved by the tests, never waited for: a
restore finishes when the test says so, keyed to what HEADs have reported
(``finish_after``), so a scenario plays out the same in every sensor mode and
however long Airflow takes to start a task.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from tests.airflow_support import airflow_db, trigger_runs  # noqa: F401  (fixtures)
from tests.copy.conftest import _restore_emulator  # noqa: F401  (autouse fixture)

HOUR = 3600.0


@pytest.fixture(autouse=True)
def _restore_times(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tier times are model settings, which outlive ``reset()``: put the defaults back."""
    yield
    if "emulator" in request.fixturenames:
        request.getfixturevalue("emulator").set_restore_times(expedited=60, standard=3 * HOUR, bulk=5 * HOUR)


@pytest.fixture
def finish_after(cos: Any) -> Callable[..., dict[str, int]]:
    """``finish_after(n)``: once HEADs have reported an object's restore running ``n`` times,
    a day passes on the restore clock (so that restore, and any other, is done).
    Returns how often each key was reported running."""

    def install(n: int, seconds: float = 24 * HOUR) -> dict[str, int]:
        running: dict[str, int] = {}

        def observer(bucket: str, key: str, status: str) -> None:
            if status == "in_progress":
                running[key] = running.get(key, 0) + 1
                if running[key] == n:
                    cos.advance_clock(seconds)

        cos.core.restores.observers.append(observer)
        return running

    return install


def expected_record(cos: Any, bucket: str, key: str) -> dict[str, Any]:
    """What the sensor must push for ``bucket/key``, from the emulator's own state."""
    version = cos.store.version(cos.store.bucket(bucket), key, None)
    expiry = cos.core.restores.expiry(bucket, version)
    return {
        "bucket": bucket,
        "key": key,
        "uri": f"cos://{bucket}/{key}",
        "version_id": version.version_id,
        "storage_class": version.attrs.storage_class,
        "status": "restored" if expiry is not None else "not_archived",
        # HTTP dates have whole seconds.
        "expiry_date": datetime.fromtimestamp(int(expiry), tz=timezone.utc).isoformat() if expiry else None,
    }
