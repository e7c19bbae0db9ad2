"""A prefix copy inside real Airflow (``dag.test()``) against a rate-limited bucket."""

from __future__ import annotations

from typing import Any

import pytest

from cos_provider.emulator.faults import FaultRule
from tests.airflow_support import run_dag, task_states, xcom
from tests.conftest import DST_BUCKET, SRC_BUCKET

pytestmark = [pytest.mark.airflow_db, pytest.mark.usefixtures("airflow_db")]
COUNT = 80


def test_throttled_prefix_copy_finishes_without_exhausting_retries(cos: Any, cos_connection: str) -> None:
    """16 copies at once against 40 requests/s (a burst of 4), and one object throttled 6 times
    in a row: with the connection's max_attempts=3 that object alone would fail if SlowDown
    spent attempts."""
    for n in range(COUNT):
        cos.put_object(SRC_BUCKET, f"many/{n:03d}", f"object {n}".encode())
    cos.set_model(bucket_rate_limits={DST_BUCKET: 40.0}, rate_limit_burst=4)
    cos.add_fault(FaultRule("CopyObject", "slow_down", times=6, key="copied/007"))
    run = run_dag("cos_throttled_prefix_copy")
    assert task_states(run) == {"copy_prefix": "success"}
    uris = xcom(run, "copy_prefix")
    assert sorted(uris) == [f"cos://{DST_BUCKET}/copied/{n:03d}" for n in range(COUNT)]
    for n in (0, COUNT // 2, COUNT - 1):
        assert cos.get_object_bytes(DST_BUCKET, f"copied/{n:03d}") == f"object {n}".encode()
    counters = cos.counters()
    slowdowns = counters["slowdowns"]["by_bucket"].get(DST_BUCKET, 0)  # the rate limit's 503s
    assert slowdowns > 0
    assert counters["faults_injected"] == {"CopyObject": {"slow_down": 6}}
    assert counters["requests"]["CopyObject"] == {"200": COUNT, "503": slowdowns + 6}
