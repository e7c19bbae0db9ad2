"""Timeouts and errors, the same in every mode: the timeout at the same poke,
soft_fail on timeouts and on errors, fail-fast on bad credentials, missing
buckets and unusable connections, transient errors and silent_fail.

Driven directly in poke and deferrable mode on the fake clock;
``test_failures_in_dag`` repeats the cases in all three modes through
``dag.test()``, in real time.
"""

from __future__ import annotations

import pytest
from airflow.sdk.exceptions import AirflowFailException, AirflowSensorTimeout, AirflowSkipException

from cos_provider.emulator import FaultRule
from cos_provider.sensors.cos import CosSensorError
from tests.conftest import APP_ID, SECRET_KEY, SRC_BUCKET, connection_json
from tests.sensors.dags import sensor_failures
from tests.sensors.support import WAYS, DeferralLog, expected_record, run, sensor, served

# ---------------------------------------------------------------- timeouts and soft_fail


@pytest.mark.parametrize("way", WAYS)
def test_timeout(way, cos, cos_connection, fake_clock):
    """Times out at the first poke past ``timeout``, at the same poke in both modes.

    Pokes at 0, 0.25, ... 1.0 s are within the 1 s timeout (the deadline is
    "more than ``timeout``", as Airflow has it); the sixth, at 1.25 s, is past it.
    Each poke is one HEAD of the missing key.
    """
    op = sensor(way, bucket=SRC_BUCKET, key="never", timeout=1.0, poke_interval=0.25)
    log = DeferralLog()
    with pytest.raises(AirflowSensorTimeout, match=r"run duration of 1\.25 seconds"):
        run(way, op, log=log)
    assert served(cos, "HeadObject") == 6  # one per poke, all 404
    assert fake_clock.sleeps == [0.25] * 5
    if way == "deferrable":
        # the worker poked once and deferred; the trigger polled on and timed out
        assert len(log.deferrals) == 1
        assert log.events[-1]["status"] == "timeout"
        assert log.events[-1]["poke_count"] == 6


@pytest.mark.parametrize("way", WAYS)
def test_soft_fail_on_timeout_skips(way, cos, cos_connection, fake_clock):
    op = sensor(way, bucket=SRC_BUCKET, key="never", timeout=0.5, soft_fail=True)
    with pytest.raises(AirflowSkipException):
        run(way, op)
    assert served(cos, "HeadObject") == 4  # pokes at 0, 0.25, 0.5 and 0.75 s


@pytest.mark.timeout(120)  # hang guard: waiting out the timeout would take an hour
@pytest.mark.parametrize("way", WAYS)
def test_missing_bucket_fails_fast(way, cos, cos_connection):
    """Fails on its first poke (one HEAD Object, one HEAD Bucket), never waiting out the hour."""
    op = sensor(way, bucket=f"nosuch-{APP_ID}", key="k", timeout=3600)
    log = DeferralLog()
    with pytest.raises(AirflowFailException, match=f"nosuch-{APP_ID}.*does not exist"):
        run(way, op, log=log)
    assert cos.counters()["requests"] == {"HeadObject": {"404": 1}, "HeadBucket": {"404": 1}}
    assert log.deferrals == []


@pytest.mark.parametrize("way", WAYS)
def test_soft_fail_on_missing_bucket_skips(way, cos, cos_connection):
    op = sensor(way, bucket=f"nosuch-{APP_ID}", key="k", soft_fail=True)
    with pytest.raises(AirflowSkipException, match="does not exist"):
        run(way, op)


@pytest.mark.parametrize("way", WAYS)
def test_bucket_deleted_while_deferred_or_waiting(way, cos, cos_connection, fake_clock):
    """The error arrives from the trigger in deferrable mode: same exception.

    A bucket seen to exist is trusted for BUCKET_RECHECK_SECONDS (300 s), so
    with a 400 s poke interval the second poke checks it again.
    """
    cos.create_bucket(f"doomed-{APP_ID}", region="ap-beijing")
    fake_clock.at(400, lambda: cos.store.delete_bucket(f"doomed-{APP_ID}"))
    log = DeferralLog()
    with pytest.raises(AirflowFailException, match="does not exist"):
        run(way, sensor(way, bucket=f"doomed-{APP_ID}", key="k", poke_interval=400, timeout=3600), log=log)
    assert cos.counters()["requests"] == {"HeadObject": {"404": 2}, "HeadBucket": {"200": 1, "404": 1}}
    if way == "deferrable":
        assert log.events[-1]["status"] == "error"
        assert log.events[-1]["kind"] == "no_bucket"


@pytest.mark.timeout(120)  # hang guard: waiting out the timeout would take an hour
@pytest.mark.parametrize("way", WAYS)
def test_wrong_secret_fails_fast_with_a_clear_message(way, cos, monkeypatch):
    """Fails on its first poke: the bodyless 403 to HEAD, then one listing for the
    detailed error, and never waits out the hour."""
    monkeypatch.setenv("AIRFLOW_CONN_COS_DEFAULT", connection_json(cos.address))
    monkeypatch.setenv(
        "AIRFLOW_CONN_COS_WRONG", connection_json(cos.address).replace(SECRET_KEY, "wrong-key")
    )
    op = sensor(way, bucket=SRC_BUCKET, key="k", cos_conn_id="cos_wrong", timeout=3600)
    log = DeferralLog()
    with pytest.raises(AirflowFailException, match="SecretKey does not match") as info:
        run(way, op, log=log)
    assert cos.counters()["requests"] == {"HeadObject": {"403": 1}, "ListObjects": {"403": 1}}
    assert log.deferrals == []
    assert "wrong-key" not in str(info.value)
    # soft_fail turns it into a skip
    with pytest.raises(AirflowSkipException):
        run(way, sensor(way, bucket=SRC_BUCKET, key="k", cos_conn_id="cos_wrong", soft_fail=True))


@pytest.mark.parametrize("way", WAYS)
def test_missing_connection_fails_fast(way, cos, cos_connection):
    with pytest.raises(AirflowFailException, match="cos_nowhere"):
        run(way, sensor(way, bucket=SRC_BUCKET, key="k", cos_conn_id="cos_nowhere"))


@pytest.mark.parametrize("way", WAYS)
def test_transient_errors_fail_the_try_or_skip_with_soft_fail(way, cos, cos_connection):
    """COS answering 503 to every HEAD outlives the client's retries: a normal
    (retryable) task failure, or a skip with soft_fail - in both modes."""
    cos.put_object(SRC_BUCKET, "k", b"x")
    cos.add_fault(FaultRule(operation="HeadObject", kind="slow_down", permanent=True))
    with pytest.raises(CosSensorError, match="503") as info:
        run(way, sensor(way, bucket=SRC_BUCKET, key="k"))
    assert not isinstance(info.value, AirflowFailException)
    with pytest.raises(AirflowSkipException):
        run(way, sensor(way, bucket=SRC_BUCKET, key="k", soft_fail=True))


@pytest.mark.parametrize("way", WAYS)
def test_silent_fail_polls_through_transient_errors(way, cos, cos_connection, fake_clock):
    cos.put_object(SRC_BUCKET, "k", b"x")
    cos.add_fault(FaultRule(operation="HeadObject", kind="internal_error", times=7))  # > 2 polls x 3 attempts
    pushed = run(way, sensor(way, bucket=SRC_BUCKET, key="k", silent_fail=True))
    assert pushed == [expected_record(cos, SRC_BUCKET, "k")]
    assert fake_clock.sleeps == [0.25] * 2  # two failed pokes, then the one that succeeded


# ---------------------------------------------------------------- the same, end to end


@pytest.mark.timeout(300)  # hang guard: the fail-fast tasks' timeout is an hour
@pytest.mark.airflow_db
def test_failures_in_dag(cos, run_dag, monkeypatch):
    """Timeouts and errors, with and without soft_fail, in poke, reschedule and
    deferrable mode under ``dag.test()``: skipped or failed, never retried, and
    a wrong secret or missing bucket fails on its first poke although the
    timeout is an hour."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_COS_WRONG", connection_json(cos.address).replace(SECRET_KEY, "wrong-key")
    )
    result = run_dag("cos_sensor_failures")
    expected = {}
    for mode in sensor_failures.MODES:
        expected.update(
            {
                f"timeout_soft_{mode}": "skipped",
                f"timeout_{mode}": "failed",
                f"no_bucket_soft_{mode}": "skipped",
                f"no_bucket_{mode}": "failed",
                f"wrong_secret_{mode}": "failed",
            }
        )
    assert result.tasks == expected
    # fail-fast errors are not retried although the tasks allow retries
    assert all(result.tries[t] == 1 for t in expected if "wrong" in t or "no_bucket" in t)
    # ... nor waited: each poked once (one HEAD Bucket per missing-bucket task, one
    # detail listing per wrong-secret task) and none was rescheduled
    requests = cos.counters()["requests"]
    modes = len(sensor_failures.MODES)
    assert requests["HeadBucket"]["404"] == 2 * modes  # no_bucket and no_bucket_soft
    assert requests["HeadObject"]["403"] == requests["ListObjects"]["403"] == modes
    assert all(result.reschedules[t] == 0 for t in expected if "wrong" in t or "no_bucket" in t)
