"""Sensor behaviour that must not depend on the mode: check_fn forms, each
sensor's parameters and results (globs, URLs, timestamps, inactivity and
min_objects), templating and parameter validation.

Modes are driven directly here (no metadata DB): ``execute()`` for poke mode,
and ``execute()`` -> trigger ``run()`` in an event loop -> ``resume_execution()``
for deferrable mode (:func:`tests.sensors.support.run`), on the fake clock
wherever a test waits, so bucket changes land between given pokes.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException, AirflowSensorTimeout

from cos_provider.sensors.cos import (
    STATE_STORE_KEY,
    CosObjectSensor,
    CosObjectUpdatedSensor,
    CosPrefixInactivitySensor,
)
from tests.conftest import SRC_BUCKET, VERSIONED_BUCKET
from tests.sensors.support import CONTEXT, WAYS, DeferralLog, expected_record, run, sensor, served

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

    With an inactivity period shorter than the poke interval, every poke after
    the first that sees an unchanged listing would succeed if ``min_objects``
    were ignored. The
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
        inactivity_period=0.2,
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
            task_id="s", bucket=SRC_BUCKET, prefix="p/", inactivity_period=1e-9, mode="reschedule"
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
