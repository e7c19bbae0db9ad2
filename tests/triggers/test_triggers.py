"""The triggers on their own, in an event loop against the emulator:
serialisation (round trip, no secret), events, the wait between polls and
the deadline (on the fake clock), reaching the connection through the hook
without blocking the loop, and sharing one HTTP pool between triggers."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest

from cos_provider.emulator import FaultRule
from cos_provider.hooks.cos import CosHook
from cos_provider.triggers.cos import CosObjectTrigger, CosObjectUpdatedTrigger, CosPrefixInactivityTrigger
from tests.conftest import APP_ID, REGION, SECRET_ID, SECRET_KEY, SRC_BUCKET, connection_json
from tests.sensors.support import (
    expected_record,
    first_event,
    fresh_import,
    roundtrip_trigger,
    run_trigger,
    served,
)

FAST: dict[str, Any] = {"poke_interval": 0.05, "timeout": 10}


def all_triggers() -> list[Any]:
    return [
        CosObjectTrigger(
            targets=[f"cos://{SRC_BUCKET}/a", "cos://src/b*"],
            use_glob=True,
            min_size=3,
            with_metadata=True,
            cos_conn_id="cos_default",
            region="ap-beijing",
            poke_interval=5,
            timeout=60,
            exponential_backoff=True,
            max_wait=30,
            started_at=1700000000.5,
            poke_count=4,
            silent_fail=True,
            verified_buckets={SRC_BUCKET: 1700000001.0},
        ),
        CosObjectUpdatedTrigger(target="cos://src/a", after="2024-01-01T00:00:00+00:00", with_metadata=True),
        CosPrefixInactivityTrigger(
            bucket="src",
            prefix="p/",
            inactivity_period=30,
            min_objects=2,
            allow_delete=False,
            state={"objects": {"p/a": "1:etag"}, "last_activity": 1700000000.0},
        ),
    ]


@pytest.mark.parametrize("trigger", all_triggers(), ids=lambda t: type(t).__name__)
def test_serialisation_round_trips_and_holds_no_secret(trigger, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_COS_DEFAULT", connection_json("http://127.0.0.1:1"))
    classpath, kwargs = trigger.serialize()
    assert classpath == f"cos_provider.triggers.cos.{type(trigger).__name__}"
    rebuilt = roundtrip_trigger(trigger)
    assert type(rebuilt) is type(trigger)
    assert rebuilt.serialize() == (classpath, kwargs)
    text = json.dumps(kwargs)  # plain JSON, no custom types
    assert SECRET_KEY not in text and SECRET_ID not in text
    assert set(kwargs) >= {"cos_conn_id", "poke_interval", "timeout", "started_at", "poke_count"}
    assert SECRET_KEY not in repr(trigger)


def test_object_trigger_fires_with_the_matched_objects(cos, cos_connection, fake_clock):
    cos.put_object(SRC_BUCKET, "in/a.csv", b"aaaa", metadata={"m": "1"})
    cos.put_object(SRC_BUCKET, "in/b.csv", b"bb")
    payload = run_trigger(
        CosObjectTrigger(
            targets=["cos://src/in/*.csv"], use_glob=True, min_size=3, with_metadata=True, **FAST
        )
    )
    assert payload["status"] == "success"
    assert payload["result"] == [expected_record(cos, SRC_BUCKET, "in/a.csv", with_metadata=True)]
    assert payload["poke_count"] == 2
    assert fake_clock.sleeps == [0.05]  # the sensor poked first: the trigger waits, then polls


def test_updated_and_inactivity_triggers_fire(cos, cos_connection, fake_clock):
    info = cos.put_object(SRC_BUCKET, "f", b"x")
    payload = run_trigger(
        CosObjectUpdatedTrigger(target=f"cos://{SRC_BUCKET}/f", after="2000-01-01T00:00:00Z", **FAST)
    )
    assert payload["result"] == expected_record(cos, SRC_BUCKET, "f")
    state = {"objects": {"f": f"1:{info['etag']}"}, "last_activity": fake_clock.now - 100}
    payload = run_trigger(
        CosPrefixInactivityTrigger(bucket="src", prefix="", inactivity_period=10, state=state, **FAST)
    )
    assert payload["status"] == "success"
    assert payload["result"]["keys"] == ["f"]


def test_timeout_event(cos, cos_connection, fake_clock):
    """The timeout fires on the first poll past the deadline: not one poll early, not one late."""
    payload = run_trigger(CosObjectTrigger(targets=["cos://src/never"], poke_interval=0.125, timeout=0.5))
    assert payload["status"] == "timeout"
    assert "exceeds the specified timeout of 0.5" in payload["message"]
    # polls at 0.125, 0.25, 0.375 and 0.5 s are within the timeout; the one at 0.625 s is past it
    assert "run duration of 0.625 seconds" in payload["message"]
    assert fake_clock.sleeps == [0.125] * 5
    assert payload["poke_count"] == 1 + 5  # the sensor's poke, then the trigger's
    assert cos.counters()["requests"]["HeadObject"] == {"404": 5}


def test_deadline_counts_from_the_sensors_first_poke(cos, cos_connection, fake_clock):
    """A trigger created 10 s after the first poke of a 10.25 s timeout has 0.25 s left."""
    started_at = fake_clock.now - 10
    payload = run_trigger(
        CosObjectTrigger(
            targets=["cos://src/never"], poke_interval=0.125, timeout=10.25, started_at=started_at
        )
    )
    assert payload["status"] == "timeout"
    assert payload["started_at"] == started_at
    # 10.125 and 10.25 s after the first poke are within the timeout, 10.375 s is past it;
    # counted from the trigger's own start it would have polled 83 times
    assert "run duration of 10.375 seconds" in payload["message"]
    assert payload["poke_count"] == 1 + 3


@pytest.mark.timeout(120)  # hang guard: waiting out the timeout would take an hour
@pytest.mark.parametrize(
    ("conn", "targets", "kind", "text", "polls", "requests"),
    [
        # the bodyless 403 to HEAD, then one listing for the detailed error
        (
            "wrong",
            ["cos://src/k"],
            "auth",
            "SecretKey does not match",
            1,
            {"HeadObject": {"403": 1}, "ListObjects": {"403": 1}},
        ),
        # the key is missing, then so is its bucket
        (
            "default",
            ["cos://nosuch/k"],
            "no_bucket",
            "does not exist",
            1,
            {"HeadObject": {"404": 1}, "HeadBucket": {"404": 1}},
        ),
        ("default", ["cos://nosuch/k*"], "no_bucket", "does not exist", 1, {"ListObjects": {"404": 1}}),
        # nothing to poll with, or nothing valid to poll
        ("missing", ["cos://src/k"], "invalid", "cos_missing", 0, {}),
        ("default", ["cos://BAD_BUCKET/k"], "invalid", "bucket", 1, {}),
    ],
)
def test_error_events_fail_fast(cos, monkeypatch, conn, targets, kind, text, polls, requests, fake_clock):
    """Errors that waiting cannot fix end the trigger at its first poll, within the hour's timeout."""
    monkeypatch.setenv("AIRFLOW_CONN_COS_DEFAULT", connection_json(cos.address))
    monkeypatch.setenv(
        "AIRFLOW_CONN_COS_WRONG", connection_json(cos.address).replace(SECRET_KEY, "nope-nope")
    )
    payload = run_trigger(
        CosObjectTrigger(
            targets=targets, use_glob=True, cos_conn_id=f"cos_{conn}", poke_interval=0.05, timeout=3600
        )
    )
    assert payload["poke_count"] == 1 + polls  # the sensor's poke, then the trigger's
    assert cos.counters()["requests"] == requests
    assert payload["status"] == "error"
    assert payload["kind"] == kind
    assert text in payload["message"]
    assert "nope-nope" not in json.dumps(payload)


def test_transient_errors_end_the_trigger_unless_silent_fail(cos, cos_connection, fake_clock):
    cos.put_object(SRC_BUCKET, "k", b"x")
    cos.add_fault(FaultRule(operation="HeadObject", kind="slow_down", permanent=True))
    payload = run_trigger(CosObjectTrigger(targets=["cos://src/k"], **FAST))
    assert (payload["status"], payload["kind"]) == ("error", "transient")

    cos.clear_faults()
    cos.add_fault(FaultRule(operation="HeadObject", kind="slow_down", times=7))
    payload = run_trigger(CosObjectTrigger(targets=["cos://src/k"], silent_fail=True, **FAST))
    assert payload["status"] == "success"


def test_backoff_doubles_up_to_max_wait(cos, cos_connection, fake_clock):
    """With exponential_backoff the wait doubles after every poll, from the
    sensor's own first poke (poke_count=1), until max_wait caps it."""
    fake_clock.at(2 + 4 + 8 + 16 + 32 + 50, lambda: cos.put_object(SRC_BUCKET, "late", b"x"))
    payload = run_trigger(
        CosObjectTrigger(
            targets=["cos://src/late"], poke_interval=2, timeout=1000, exponential_backoff=True, max_wait=50
        )
    )
    assert payload["status"] == "success" and payload["poke_count"] == 7
    assert fake_clock.sleeps == [2, 4, 8, 16, 32, 50]


def test_backoff_ends_at_the_deadline(cos, cos_connection, fake_clock):
    """A backoff longer than the time left is cut at the deadline; the timeout
    then comes one poke interval later, as in poke mode, not a whole backoff later."""
    payload = run_trigger(
        CosObjectTrigger(targets=["cos://src/never"], poke_interval=1, timeout=20, exponential_backoff=True)
    )
    assert payload["status"] == "timeout"
    assert fake_clock.sleeps == [1, 2, 4, 8, 5, 1]
    assert "run duration of 21.0 seconds" in payload["message"]


def test_the_trigger_reaches_the_connection_through_its_hook(cos, cos_connection, monkeypatch, fake_clock):
    """Settings come from ``CosHook.aget_settings`` (with the trigger's region
    override), once per run; the trigger never reads the connection itself."""
    hooks: list[CosHook] = []
    original = CosHook.aget_settings

    async def recording(self: CosHook) -> Any:
        hooks.append(self)
        return await original(self)

    monkeypatch.setattr(CosHook, "aget_settings", recording)
    cos.put_object(SRC_BUCKET, "k", b"x")
    trigger = CosObjectTrigger(targets=["cos://src/k"], region=REGION, **FAST)
    assert run_trigger(trigger)["status"] == "success"
    assert hooks == [trigger.hook]
    assert (trigger.hook.cos_conn_id, trigger.hook.settings.endpoint.region) == ("cos_default", REGION)


def test_triggers_do_not_import_the_sensors():
    """Dependencies point down: sensors build on triggers, never the reverse."""
    loaded = fresh_import("cos_provider.triggers.cos")
    assert "cos_provider.client.watch" in loaded and "cos_provider.hooks.cos" in loaded
    assert [m for m in loaded if m.startswith("cos_provider.sensors")] == []


def test_connection_is_resolved_without_blocking_the_loop(cos, cos_connection, monkeypatch, fake_clock):
    def blocking(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the sync get_connection was called in the event loop")

    monkeypatch.setattr(CosHook, "get_connection", classmethod(blocking))
    cos.put_object(SRC_BUCKET, "k", b"x")
    assert run_trigger(CosObjectTrigger(targets=["cos://src/k"], **FAST))["status"] == "success"


def test_many_triggers_share_one_pool_and_no_threads(cos, cos_connection, monkeypatch):
    """Real time on purpose: the threads are counted while 50 triggers really wait and poll."""
    from cos_provider.client import aio

    created: list[Any] = []
    original_init = aio.AsyncCosClient.__init__

    def counting_init(self: Any, *args: Any, **kwargs: Any) -> None:
        created.append(self)
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(aio.AsyncCosClient, "__init__", counting_init)
    for i in range(0, 50, 2):
        cos.put_object(SRC_BUCKET, f"many/{i}", b"x")

    def our_threads() -> set[str]:
        # the in-process emulator serves each connection on its own thread: not ours
        return {t.name for t in threading.enumerate() if "process_request" not in t.name}

    async def main() -> tuple[list[Any], int]:
        threads_before = our_threads()
        ts = [
            CosObjectTrigger(targets=[f"cos://src/many/{i}"], poke_interval=0.05, timeout=0.6)
            for i in range(50)
        ]
        tasks = [asyncio.create_task(first_event(t)) for t in ts]
        await asyncio.sleep(0.3)
        peak_threads = len(our_threads() - threads_before)
        events = await asyncio.gather(*tasks)
        assert aio.shared_client_count() == 0
        return events, peak_threads

    events, extra_threads = asyncio.run(main())
    statuses = [e.payload["status"] for e in events]
    assert statuses == ["success" if i % 2 == 0 else "timeout" for i in range(50)]
    assert len(created) == 1
    assert created[0].transport.closed
    assert extra_threads <= 8  # the loop's resolver executor and asgiref's, not one per trigger


def test_cleanup_on_cancel_closes_the_shared_client(cos, cos_connection):
    from cos_provider.client import aio

    async def main() -> None:
        gen = CosObjectTrigger(targets=["cos://src/never"], poke_interval=0.05, timeout=60).run()
        task = asyncio.create_task(anext(gen))
        while served(cos, "HeadObject") == 0:  # the trigger is in its poll loop
            await asyncio.sleep(0.01)
        assert aio.shared_client_count() == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await gen.aclose()
        assert aio.shared_client_count() == 0

    asyncio.run(main())


def test_app_id_completes_bare_bucket_names(cos, cos_connection, fake_clock):
    cos.put_object(f"src-{APP_ID}", "k", b"x")
    payload = run_trigger(CosObjectTrigger(targets=["cos://src/k"], **FAST))
    assert payload["result"][0]["bucket"] == f"src-{APP_ID}"


def test_a_fired_trigger_holds_no_connection(cos, cos_connection, fake_clock):
    """The triggerer may leave a fired trigger suspended for a while: the
    shared client must already be released when the event is yielded."""
    from cos_provider.client import aio

    cos.put_object(SRC_BUCKET, "k", b"x")

    async def main() -> None:
        gen = CosObjectTrigger(targets=["cos://src/k"], **FAST).run()
        event = await anext(gen)
        assert event.payload["status"] == "success"
        assert aio.shared_client_count() == 0
        await gen.aclose()

    asyncio.run(main())
