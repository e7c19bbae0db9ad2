"""Copying many objects (copy_many) and skip-if-same (already_copied), against the emulator."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from cos_provider.client import limits
from cos_provider.client.client import CosClient
from cos_provider.client.copy import (
    CopyCancelled,
    CopyEngine,
    CopyOptions,
    ManyCopyResult,
    Pair,
    already_copied,
    copy_many,
)
from cos_provider.client.errors import CosServiceError
from cos_provider.client.etag import same_etag
from tests.conftest import DST_BUCKET, SRC_BUCKET

MiB = limits.MiB
MULTIPART = CopyOptions(multipart_threshold=0, part_size=MiB, concurrency=2)


def listed_pairs(client: CosClient, prefix: str = "p/", dest_prefix: str = "q/") -> Iterator[Pair]:
    """What the prefix operator feeds copy_many: a lazy listing mapped to destinations."""
    for obj in client.iter_objects(SRC_BUCKET, prefix=prefix):
        dest = client.ref(DST_BUCKET, dest_prefix + obj.key[len(prefix) :])
        yield client.ref(SRC_BUCKET, obj.key), dest, obj


def put_many(cos: Any, count: int, prefix: str = "p/") -> dict[str, bytes]:
    data = {f"{prefix}{i:03d}": f"object {i}".encode() * (i + 1) for i in range(count)}
    for key, body in data.items():
        cos.put_object(SRC_BUCKET, key, body)
    return data


def head_count(cos: Any) -> int:
    return sum(cos.counters()["requests"].get("HeadObject", {}).values())


class HeldParts:
    """A client whose part copies wait until the engine is cancelled (and say when one waits)."""

    def __init__(self, client: CosClient) -> None:
        self._client = client
        self.waiting = threading.Event()
        self.cancelled: threading.Event | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def upload_part_copy(self, *args: Any, **kwargs: Any) -> Any:
        assert self.cancelled is not None
        self.waiting.set()
        assert self.cancelled.wait(10), "the test never cancelled the engine"
        return self._client.upload_part_copy(*args, **kwargs)


# ---------------------------------------------------------------- copy_many


def test_copies_every_listed_object(cos: Any, client: CosClient, engine: CopyEngine) -> None:
    data = put_many(cos, 25)
    result = copy_many(engine, listed_pairs(client), CopyOptions(), concurrency=4)
    assert len(result.copied) == 25 and result.skipped == [] and result.failures == []
    assert sorted(d.key for _, d in result.copied) == sorted("q/" + k[2:] for k in data)
    for key, body in data.items():
        assert cos.get_object_bytes(DST_BUCKET, "q/" + key[2:]) == body
    # Listed objects small enough for one PUT copy need no HEAD: the listing pins them.
    assert head_count(cos) == 0
    as_json = json.loads(json.dumps(result.to_dict()))
    assert {"source": f"cos://{SRC_BUCKET}/p/000", "dest": f"cos://{DST_BUCKET}/q/000"} in as_json["copied"]


def test_the_engine_method_is_the_same(cos: Any, client: CosClient, engine: CopyEngine) -> None:
    put_many(cos, 3)
    result = engine.copy_many(listed_pairs(client), CopyOptions(), concurrency=2)
    assert isinstance(result, ManyCopyResult)
    assert len(result.copied) == 3


def test_big_objects_go_through_the_multipart_path(cos: Any, client: CosClient, engine: CopyEngine) -> None:
    infos = [cos.seed_synthetic(SRC_BUCKET, f"p/big{i}", size=3 * MiB + i + 1, seed=i) for i in range(3)]
    result = copy_many(engine, listed_pairs(client), MULTIPART, concurrency=2)
    assert len(result.copied) == 3
    for i, info in enumerate(infos):
        head = cos.head(DST_BUCKET, f"q/big{i}")
        assert (head["size"], head["crc64"], head["parts_count"]) == (info["size"], info["crc64"], 4)
    assert cos.live_uploads() == 0


def test_pairs_are_read_lazily_within_the_window(cos: Any, client: CosClient, engine: CopyEngine) -> None:
    put_many(cos, 40)
    concurrency = 3
    ahead: list[int] = []

    def pairs() -> Iterator[Pair]:
        for n, pair in enumerate(listed_pairs(client)):
            # The emulator counts a copy before answering it, so this is at least the copies done.
            done = sum(cos.counters()["requests"].get("CopyObject", {}).values())
            ahead.append(n - done)
            yield pair

    result = copy_many(engine, pairs(), CopyOptions(), concurrency=concurrency)
    assert len(result.copied) == 40
    assert max(ahead) <= 2 * concurrency  # never more than two queued per worker
    assert cos.counters()["max_in_flight"] <= concurrency


def test_replace_false_skips_matching_destinations(cos: Any, client: CosClient, engine: CopyEngine) -> None:
    put_many(cos, 4)
    cos.put_object(DST_BUCKET, "q/000", b"object 0")  # same bytes, same ETag: skipped
    cos.put_object(DST_BUCKET, "q/001", b"stale!" * 3)  # other bytes, same size: copied
    cos.put_object(DST_BUCKET, "q/002", b"short")  # other size: copied
    result = copy_many(engine, listed_pairs(client), CopyOptions(), concurrency=2, replace=False)
    assert [d.key for d in result.skipped] == ["q/000"]
    assert sorted(d.key for _, d in result.copied) == ["q/001", "q/002", "q/003"]
    assert cos.get_object_bytes(DST_BUCKET, "q/001") == b"object 1" * 2
    assert result.to_dict()["skipped"] == [f"cos://{DST_BUCKET}/q/000"]


def test_a_failure_stops_the_copy_and_cancels_the_engine(cos: Any, client: CosClient) -> None:
    put_many(cos, 5)
    engine = CopyEngine(client)
    pairs = list(listed_pairs(client))
    missing = (client.ref(SRC_BUCKET, "p/gone"), client.ref(DST_BUCKET, "q/gone"), None)
    with pytest.raises(CosServiceError) as err:
        copy_many(engine, [missing, *pairs], CopyOptions(), concurrency=1)
    assert err.value.status == 404
    assert engine.uploads.cancelled.is_set()
    with pytest.raises(CopyCancelled):  # the engine stays cancelled
        engine.copy(*pairs[0][:2])


def test_continue_on_failure_records_service_errors(
    cos: Any, client: CosClient, engine: CopyEngine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="cos_provider.copy")
    put_many(cos, 3)
    missing = (client.ref(SRC_BUCKET, "p/gone"), client.ref(DST_BUCKET, "q/gone"), None)
    pairs = [*listed_pairs(client), missing]
    result = copy_many(engine, pairs, CopyOptions(), concurrency=2, continue_on_failure=True)
    assert len(result.copied) == 3
    assert [f["key"] for f in result.failures] == ["p/gone"]
    assert "404" in result.failures[0]["error"]
    assert not engine.uploads.cancelled.is_set()
    assert "Copied 3 object(s), skipped 0 already matching, 1 failed" in caplog.text


def test_continue_on_failure_still_stops_on_a_bug(cos: Any, client: CosClient, engine: CopyEngine) -> None:
    put_many(cos, 2)

    def pairs() -> Iterator[Any]:
        yield from listed_pairs(client)
        yield "not a pair"

    with pytest.raises(ValueError):
        copy_many(engine, pairs(), CopyOptions(), concurrency=1, continue_on_failure=True)
    assert engine.uploads.cancelled.is_set()


def test_cancel_stops_the_copy_and_aborts_the_uploads(cos: Any, client: CosClient) -> None:
    for i in range(4):
        cos.seed_synthetic(SRC_BUCKET, f"p/big{i}", size=2 * MiB, seed=i)
    held = HeldParts(client)
    engine = CopyEngine(held)  # type: ignore[arg-type]
    held.cancelled = engine.uploads.cancelled
    errors: list[BaseException] = []

    def run() -> None:
        try:
            copy_many(engine, listed_pairs(client), MULTIPART, concurrency=2)
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    assert held.waiting.wait(10), "no part copy started"
    engine.cancel()
    worker.join(20)
    assert not worker.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], CopyCancelled)
    assert cos.live_uploads() == 0
    assert cos.head(DST_BUCKET, "q/big3") is None


def test_an_interrupt_cancels_the_engine_and_aborts_uploads_in_flight(cos: Any, client: CosClient) -> None:
    cos.seed_synthetic(SRC_BUCKET, "p/big", size=2 * MiB)
    held = HeldParts(client)
    engine = CopyEngine(held)  # type: ignore[arg-type]
    held.cancelled = engine.uploads.cancelled

    def pairs() -> Iterator[Pair]:
        yield from listed_pairs(client)
        assert held.waiting.wait(10), "no part copy started"
        assert cos.live_uploads() == 1
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        copy_many(engine, pairs(), MULTIPART, concurrency=2)
    assert engine.uploads.cancelled.is_set()
    assert cos.live_uploads() == 0
    assert cos.head(DST_BUCKET, "q/big") is None


# ---------------------------------------------------------------- already_copied


def test_a_missing_destination_is_not_copied(cos: Any, client: CosClient) -> None:
    cos.put_object(SRC_BUCKET, "a", b"data")
    assert not already_copied(client, client.ref(SRC_BUCKET, "a"), None, client.ref(DST_BUCKET, "a"))


def test_same_bytes_same_etag(cos: Any, client: CosClient) -> None:
    cos.put_object(SRC_BUCKET, "a", b"data")
    cos.put_object(DST_BUCKET, "a", b"data")
    assert already_copied(client, client.ref(SRC_BUCKET, "a"), None, client.ref(DST_BUCKET, "a"))


def test_same_crc64_other_etag(cos: Any, client: CosClient, engine: CopyEngine) -> None:
    """A multipart copy has another ETag than its source; the CRC64 shows the bytes are the same."""
    info = cos.seed_synthetic(SRC_BUCKET, "big", size=3 * MiB)
    engine.copy(client.ref(SRC_BUCKET, "big"), client.ref(DST_BUCKET, "big"), MULTIPART)
    dest = cos.head(DST_BUCKET, "big")
    assert not same_etag(dest["etag"], info["etag"]) and dest["crc64"] == info["crc64"]
    assert already_copied(client, client.ref(SRC_BUCKET, "big"), None, client.ref(DST_BUCKET, "big"))


def test_same_size_other_bytes(cos: Any, client: CosClient) -> None:
    cos.seed_synthetic(SRC_BUCKET, "a", size=MiB, seed=1)
    cos.seed_synthetic(DST_BUCKET, "a", size=MiB, seed=2)
    assert not already_copied(client, client.ref(SRC_BUCKET, "a"), None, client.ref(DST_BUCKET, "a"))


def test_a_listed_size_mismatch_needs_no_source_head(cos: Any, client: CosClient) -> None:
    cos.put_object(SRC_BUCKET, "a", b"new and longer")
    cos.put_object(DST_BUCKET, "a", b"old")
    (listed,) = client.iter_objects(SRC_BUCKET, prefix="a")
    assert not already_copied(client, client.ref(SRC_BUCKET, "a"), listed, client.ref(DST_BUCKET, "a"))
    assert cos.counters()["requests"]["HeadObject"] == {"200": 1}  # the destination only


# ---------------------------------------------------------------- continue_on_failure: every per-object failure


def fail_one(monkeypatch: pytest.MonkeyPatch, key: str, exc: BaseException) -> None:
    """The engine cannot interpret ``key``'s listing entry (one engine-internal function raises ``exc`` for it)."""
    from cos_provider.client.copy import engine as engine_module

    real = engine_module.listed_info

    def listed_info(bucket: str, obj: Any) -> Any:
        if obj.key == key:
            raise exc
        return real(bucket, obj)

    monkeypatch.setattr(engine_module, "listed_info", listed_info)


@pytest.mark.parametrize(
    ("exc", "shown"),
    [
        (ValueError("invalid literal for int() with base 10: 'x'"), "ValueError: invalid literal"),
        (KeyError("ETag"), "KeyError: 'ETag'"),
    ],
    ids=["ValueError", "KeyError"],
)
def test_continue_on_failure_records_errors_that_are_not_cos_errors(
    cos: Any,
    client: CosClient,
    engine: CopyEngine,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    exc: Exception,
    shown: str,
) -> None:
    data = put_many(cos, 4)
    fail_one(monkeypatch, "p/001", exc)
    result = copy_many(engine, listed_pairs(client), CopyOptions(), concurrency=2, continue_on_failure=True)
    assert sorted(s.key for s, _ in result.copied) == sorted(k for k in data if k != "p/001")
    assert [f["key"] for f in result.failures] == ["p/001"]
    assert result.failures[0]["error"].startswith(shown)
    assert not engine.uploads.cancelled.is_set()
    assert cos.head(DST_BUCKET, "q/001") is None
    logged = [r for r in caplog.records if r.levelno == logging.ERROR and "p/001" in r.getMessage()]
    assert logged and logged[0].exc_info is not None  # the traceback of an unexpected error is kept


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), SystemExit(1), CopyCancelled("stop")])
def test_continue_on_failure_still_stops_on_an_interrupt(
    cos: Any, client: CosClient, engine: CopyEngine, monkeypatch: pytest.MonkeyPatch, exc: BaseException
) -> None:
    put_many(cos, 4)
    fail_one(monkeypatch, "p/001", exc)
    with pytest.raises(type(exc)):
        copy_many(engine, listed_pairs(client), CopyOptions(), concurrency=1, continue_on_failure=True)
    assert engine.uploads.cancelled.is_set()


def test_the_prefix_operator_records_errors_that_are_not_cos_errors(
    cos: Any, cos_connection: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cos_provider.operators.prefix_copy import CosCopyPrefixOperator

    class TaskInstance:
        def __init__(self) -> None:
            self.xcoms: dict[str, Any] = {}

        def xcom_push(self, key: str, value: Any) -> None:
            self.xcoms[key] = value

    put_many(cos, 3)
    fail_one(monkeypatch, "p/002", ValueError("cannot read this entry"))
    ti = TaskInstance()
    uris = CosCopyPrefixOperator(
        task_id="p", source_bucket=SRC_BUCKET, dest_bucket=DST_BUCKET, prefix="p/", continue_on_failure=True
    ).execute({"ti": ti})  # type: ignore[arg-type]
    assert sorted(uris) == [f"cos://{DST_BUCKET}/p/000", f"cos://{DST_BUCKET}/p/001"]
    assert ti.xcoms["failures"] == [{"key": "p/002", "error": "ValueError: cannot read this entry"}]
