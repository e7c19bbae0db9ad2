"""Sensor behaviour that must not depend on the mode: check_fn forms, soft_fail
on timeouts and on errors, fail-fast on bad credentials and missing buckets,
silent_fail, poke-before-defer, templating and parameter validation.

Modes are driven directly here (no metadata DB): ``execute()`` for poke mode,
and ``execute()`` -> trigger ``run()`` in an event loop -> ``resume_execution()``
for deferrable mode, on the fake clock wherever a test waits, so timeouts and
bucket changes land on exact pokes. ``test_failures_in_dag`` repeats the
failure cases in all three modes through ``dag.test()``, in real time.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from airflow.sdk.bases.sensor import BaseSensorOperator
from airflow.sdk.exceptions import (
    AirflowFailException,
    AirflowRescheduleException,
    AirflowSensorTimeout,
    AirflowSkipException,
    TaskDeferred,
)

from cos_provider.emulator import FaultRule
from cos_provider.sensors.base import TRIGGER_GRACE
from cos_provider.sensors.cos import (
    STATE_STORE_KEY,
    CosBaseSensor,
    CosObjectSensor,
    CosObjectUpdatedSensor,
    CosPrefixInactivitySensor,
    CosSensorError,
)
from tests.conftest import APP_ID, SECRET_KEY, SRC_BUCKET, VERSIONED_BUCKET, connection_json
from tests.sensors.dags import sensor_failures
from tests.sensors.support import DeferralLog, expected_record, run_deferrable, served

WAYS = ["poke", "deferrable"]
CONTEXT: dict[str, Any] = {"params": {"p": 1}, "ds": "2024-01-01", "ti": "the-ti"}


def run(way: str, op: Any, context: dict[str, Any] | None = None, log: DeferralLog | None = None) -> Any:
    context = dict(CONTEXT if context is None else context)
    if way == "poke":
        return op.execute(context)
    return run_deferrable(op, context, log)


def sensor(way: str, cls: type = CosObjectSensor, **kwargs: Any) -> Any:
    defaults: dict[str, Any] = {"task_id": "s", "poke_interval": 0.25, "timeout": 30}
    defaults.update(kwargs)
    return cls(deferrable=way == "deferrable", **defaults)


# ---------------------------------------------------------------- check_fn


@pytest.mark.parametrize("way", WAYS)
def test_check_fn_forms_are_called_alike(way, cos, cos_connection):
    cos.put_object(SRC_BUCKET, "in/a.csv", b"aaaa")
    calls: dict[str, Any] = {}

    def plain(objects):
        calls["plain"] = objects
        return True

    def with_context(objects, **context):
        calls["context"] = sorted(context)
        return True

    def named(objects, ti, params, missing_entry=None):
        calls["named"] = (ti, params, missing_entry)
        return True

    for fn in (plain, with_context, named, lambda objects: len(objects) == 1):
        pushed = run(way, sensor(way, bucket=SRC_BUCKET, key="in/a.csv", check_fn=fn))
        assert pushed == [expected_record(cos, SRC_BUCKET, "in/a.csv")]
    assert calls == {
        "plain": [expected_record(cos, SRC_BUCKET, "in/a.csv")],
        "context": sorted(CONTEXT),
        "named": ("the-ti", {"p": 1}, None),
    }


@pytest.mark.parametrize("way", WAYS)
def test_check_fn_false_keeps_waiting_and_defers_again(way, cos, cos_connection, fake_clock):
    """check_fn says no to one object at the pokes at 0 and 0.25 s; the second
    object arrives before the poke at 0.5 s, and check_fn says yes to both."""
    cos.put_object(SRC_BUCKET, "in/1.csv", b"1")
    fake_clock.at(0.5, lambda: cos.put_object(SRC_BUCKET, "in/2.csv", b"2"))
    seen: list[int] = []

    def two(objects):
        seen.append(len(objects))
        return len(objects) == 2

    log = DeferralLog()
    pushed = run(way, sensor(way, bucket=SRC_BUCKET, key="in/*.csv", use_glob=True, check_fn=two), log=log)
    assert [o["key"] for o in pushed] == ["in/1.csv", "in/2.csv"]
    assert seen == [1, 1, 2]  # the same calls in both modes
    assert fake_clock.elapsed == 0.5
    if way == "deferrable":
        # the first poke in the worker, then one deferral per "no" from check_fn
        assert [d.trigger.poke_count for d in log.deferrals] == [1, 2]


def test_check_fn_signature_is_validated_at_parse_time():
    with pytest.raises(TypeError, match="first positional argument"):
        CosObjectSensor(task_id="s", bucket="b", key="k", check_fn=lambda **context: True)


@pytest.mark.parametrize("way", WAYS)
def test_check_fn_error_fails_the_task_in_every_mode(way, cos, cos_connection):
    cos.put_object(SRC_BUCKET, "k", b"x")

    def broken(objects):
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        run(way, sensor(way, bucket=SRC_BUCKET, key="k", check_fn=broken))


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


# ---------------------------------------------------------------- deferral mechanics


def test_deferrable_pokes_once_before_deferring(cos, cos_connection):
    cos.put_object(SRC_BUCKET, "here", b"x")
    op = sensor("deferrable", bucket=SRC_BUCKET, key="here")
    assert op.execute(dict(CONTEXT)) == [expected_record(cos, SRC_BUCKET, "here")]


def test_deferral_carries_the_remaining_timeout_and_cadence(cos, cos_connection, fake_clock):
    op = CosObjectSensor(
        task_id="s",
        bucket=SRC_BUCKET,
        key="later",
        deferrable=True,
        poke_interval=7,
        timeout=100,
        exponential_backoff=True,
        max_wait=30,
    )
    with pytest.raises(TaskDeferred) as info:
        op.execute(dict(CONTEXT))
    trigger = info.value.trigger
    assert trigger.started_at == fake_clock.now  # the first poke, made in the worker
    assert trigger.poke_count == 1
    assert (trigger.poke_interval, trigger.timeout, trigger.exponential_backoff, trigger.max_wait) == (
        7,
        100,
        True,
        30,
    )
    # the framework's deadline is only a backstop behind the trigger's own, whose
    # last poll may come one poke interval after the deadline
    assert info.value.timeout == timedelta(seconds=100 + 7 + TRIGGER_GRACE)
    assert info.value.method_name == "execute_complete"


# ---------------------------------------------------------------- cadence (Airflow's, in the worker)


def test_sensors_leave_the_poke_cadence_to_airflow():
    """Poke and reschedule waits are BaseSensorOperator's own, from the public parameters."""
    for cls in (CosBaseSensor, CosObjectSensor, CosObjectUpdatedSensor, CosPrefixInactivitySensor):
        assert cls._get_next_poke_interval is BaseSensorOperator._get_next_poke_interval


def test_poke_mode_backoff_grows_up_to_max_wait_and_keeps_the_deadline(cos, cos_connection, fake_clock):
    op = sensor(
        "poke",
        bucket=SRC_BUCKET,
        key="never",
        poke_interval=2,
        exponential_backoff=True,
        max_wait=20,
        timeout=120.5,
    )
    with pytest.raises(AirflowSensorTimeout):
        op.execute({})
    sleeps = fake_clock.sleeps
    capped = sleeps.index(20)
    assert sleeps[: capped + 1] == sorted(sleeps[: capped + 1])  # grows ...
    assert len(set(sleeps[: capped + 1])) > 2
    assert max(sleeps) == 20  # ... up to max_wait
    assert 120.5 < fake_clock.elapsed <= 120.5 + 20  # and the deadline holds
    assert served(cos, "HeadObject") == len(sleeps) + 1


class RescheduledTI:
    """What ``BaseSensorOperator.execute`` asks of the task instance in reschedule mode."""

    def get_first_reschedule_date(self, context: Any) -> None:
        return None  # this is the first poke


@pytest.mark.parametrize(("backoff", "low", "high"), [(False, 29, 31), (True, 1, 45 + 1)])
def test_reschedule_mode_lets_airflow_pick_the_next_poke(cos, cos_connection, backoff, low, high):
    op = sensor(
        "poke",
        bucket=SRC_BUCKET,
        key="never",
        mode="reschedule",
        poke_interval=30,
        exponential_backoff=backoff,
        max_wait=45,
        timeout=3600,
    )
    before = datetime.now(timezone.utc)
    with pytest.raises(AirflowRescheduleException) as info:
        op.execute({"ti": RescheduledTI()})
    assert low <= (info.value.reschedule_date - before).total_seconds() <= high


def test_default_deferrable_follows_airflow_config(monkeypatch):
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "true")
    assert CosObjectSensor(task_id="s", bucket="b", key="k").deferrable is True
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "false")
    assert CosObjectSensor(task_id="s", bucket="b", key="k").deferrable is False
    assert CosObjectSensor(task_id="s", bucket="b", key="k", deferrable=True).deferrable is True


def test_execute_complete_rejects_garbage():
    op = CosObjectSensor(task_id="s", bucket="b", key="k")
    with pytest.raises(Exception, match="no event"):
        op.execute_complete({}, None)
    with pytest.raises(Exception, match="Unexpected event"):
        op.execute_complete({}, {"status": "weird"})


# ---------------------------------------------------------------- per sensor


@pytest.mark.parametrize("way", WAYS)
def test_object_sensor_several_keys_and_urls(way, cos, cos_connection):
    cos.put_object(SRC_BUCKET, "a", b"1")
    cos.put_object(VERSIONED_BUCKET, "b/c", b"22")
    op = sensor(way, bucket="src", key=["a", f"cos://{VERSIONED_BUCKET}/b/c"])
    assert run(way, op) == [
        expected_record(cos, SRC_BUCKET, "a"),
        expected_record(cos, VERSIONED_BUCKET, "b/c"),
    ]


def test_object_sensor_glob_lists_only_the_literal_prefix(cos, cos_connection, fake_clock):
    for key in ("logs/2024/01/x.gz", "logs/2024/02/y.gz", "logs/2024/02/y.txt", "logz/2024/03/z.gz"):
        cos.put_object(SRC_BUCKET, key, b"123")
    op = sensor("poke", bucket=SRC_BUCKET, key="logs/2024/0[2-9]/*.gz", use_glob=True)
    assert [o["key"] for o in op.execute({})] == ["logs/2024/02/y.gz"]
    # without use_glob, the same string is a literal key
    literal = sensor("poke", bucket=SRC_BUCKET, key="logs/2024/0[2-9]/*.gz", timeout=0.25)
    with pytest.raises(AirflowSensorTimeout):
        literal.execute({})
    assert cos.counters()["requests"]["HeadObject"] == {"200": 1, "404": 3}  # the glob's match, then 3 pokes


@pytest.mark.parametrize("way", WAYS)
def test_upper_case_url_scheme_names_bucket_and_key(way, cos, cos_connection, fake_clock):
    """``COS://bucket/key`` is the URL, not a literal key ``COS://...`` in ``bucket``."""
    fake_clock.at(0.25, lambda: cos.put_object(VERSIONED_BUCKET, "in/k.csv", b"data"))
    op = sensor(way, bucket=SRC_BUCKET, key=f"COS://{VERSIONED_BUCKET}/in/k.csv")
    assert run(way, op) == [expected_record(cos, VERSIONED_BUCKET, "in/k.csv")]
    assert cos.counters()["requests"]["HeadObject"] == {"404": 1, "200": 1}


@pytest.mark.parametrize("way", WAYS)
def test_updated_sensor_with_timestamp_and_ts_func(way, cos, cos_connection, fake_clock):
    info = cos.put_object(SRC_BUCKET, "f", b"v1")
    before = datetime.fromtimestamp(int(info["last_modified"]) - 5, tz=timezone.utc)
    op = sensor(way, CosObjectUpdatedSensor, bucket=SRC_BUCKET, key="f", timestamp=before.isoformat())
    assert run(way, op) == expected_record(cos, SRC_BUCKET, "f")
    op = sensor(way, CosObjectUpdatedSensor, bucket=SRC_BUCKET, key="f", ts_func=lambda ctx: before)
    assert run(way, op) == expected_record(cos, SRC_BUCKET, "f")
    later = sensor(
        way,
        CosObjectUpdatedSensor,
        bucket=SRC_BUCKET,
        key="f",
        timestamp=datetime.now(timezone.utc) + timedelta(hours=1),
        timeout=0.5,
    )
    with pytest.raises(AirflowSensorTimeout):
        run(way, later)


def test_updated_sensor_needs_a_point_in_time(cos, cos_connection):
    with pytest.raises(ValueError, match="either timestamp or ts_func"):
        CosObjectUpdatedSensor(task_id="s", key="k", bucket="b", timestamp="x", ts_func=lambda c: None)
    op = CosObjectUpdatedSensor(task_id="s", bucket=SRC_BUCKET, key="k", timeout=1)
    with pytest.raises(AirflowFailException, match="no timestamp"):
        op.execute({})


@pytest.mark.parametrize("way", WAYS)
def test_inactivity_sensor_refuses_deletions_when_told(way, cos, client, cos_connection, fake_clock):
    cos.put_object(SRC_BUCKET, "p/a", b"1")
    cos.put_object(SRC_BUCKET, "p/b", b"1")
    op = sensor(
        way,
        CosPrefixInactivitySensor,
        bucket=SRC_BUCKET,
        prefix="p/",
        inactivity_period=5,
        allow_delete=False,
    )
    fake_clock.at(0.25, lambda: client.delete_object(SRC_BUCKET, "p/b"))
    with pytest.raises(AirflowFailException, match="deleted while waiting"):
        run(way, op)
    assert served(cos, "ListObjects") == 2  # the deletion failed the very next poke


@pytest.mark.parametrize("way", WAYS)
def test_inactivity_sensor_waits_for_min_objects(way, cos, cos_connection, fake_clock):
    """Quiet but short of ``min_objects`` is not done; the second object makes it done.

    With no inactivity period, every poke after the first that sees an
    unchanged listing would succeed if ``min_objects`` were ignored. The
    second object arrives before the poke at 1 s (a change: the timer
    restarts), and the poke at 1.25 s, the first quiet one with two objects,
    succeeds.
    """
    cos.put_object(SRC_BUCKET, "p/a", b"1")
    fake_clock.at(1.0, lambda: cos.put_object(SRC_BUCKET, "p/b", b"22"))
    op = sensor(
        way,
        CosPrefixInactivitySensor,
        bucket=SRC_BUCKET,
        prefix="p/",
        inactivity_period=0,
        min_objects=2,
    )
    pushed = run(way, op)
    assert pushed == {
        "bucket": SRC_BUCKET,
        "prefix": "p/",
        "count": 2,
        "total_size": 3,
        "keys": ["p/a", "p/b"],
    }
    # pokes at 0, 0.25, 0.5 and 0.75 s saw one quiet object and did not succeed
    assert served(cos, "ListObjects") == 6
    assert fake_clock.elapsed == 1.25


class FakeStore:
    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.data[key] = value

    def delete(self, key: str) -> None:
        self.data.pop(key, None)


class FakeTI:
    def __init__(self, try_number: int) -> None:
        self.try_number = try_number


def test_inactivity_state_survives_reschedules_but_not_retries(cos, cos_connection):
    cos.put_object(SRC_BUCKET, "p/a", b"1")
    store = FakeStore()

    def poke_once(try_number: int) -> Any:
        op = CosPrefixInactivitySensor(
            task_id="s", bucket=SRC_BUCKET, prefix="p/", inactivity_period=0, mode="reschedule"
        )
        return op.poke({"task_state_store": store, "ti": FakeTI(try_number)})

    assert not poke_once(1)  # first listing: timer starts, state saved for try 1
    assert store.data[STATE_STORE_KEY]["try"] == 1
    assert not poke_once(2)  # a retry starts afresh
    assert poke_once(2)  # same try, next reschedule: unchanged -> done
    assert STATE_STORE_KEY not in store.data  # cleaned up on success


def test_template_fields():
    assert CosObjectSensor.template_fields == ("bucket", "key")
    assert CosObjectUpdatedSensor.template_fields == ("bucket", "key", "timestamp")
    assert CosPrefixInactivitySensor.template_fields == ("bucket", "prefix")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"key": "k", "min_size": -1}, "min_size"),
        ({"key": "k", "check_fn": 3}, "callable"),
    ],
)
def test_parameter_validation(kwargs, error):
    with pytest.raises((ValueError, TypeError), match=error):
        CosObjectSensor(task_id="s", bucket="b", **kwargs)


def test_invalid_target_fails_fast(cos, cos_connection):
    with pytest.raises(AirflowFailException, match="bucket"):
        CosObjectSensor(task_id="s", key="no-bucket-given").execute({})


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
