"""The restore request, its header, the hook's restore methods, and archived sources refused up front."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cos_provider.client.errors import CosValidationError
from cos_provider.client.operations import ObjectRef
from cos_provider.client.restore import (
    ArchivedObjectError,
    build_body,
    parse_body,
    parse_restore_header,
    restore_object,
)
from cos_provider.emulator import restore as emulator_restore
from cos_provider.hooks.cos import CosHook
from tests.conftest import DST_BUCKET, REGION, SRC_BUCKET, VERSIONED_BUCKET, sdk_client
from tests.restore.conftest import HOUR

IGNORED = {"authorization", "user-agent", "host", "accept", "accept-encoding", "connection", "date"}


def requests_sent(cos: Any) -> int:
    return sum(sum(by_status.values()) for by_status in cos.counters()["requests"].values())


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every POST ?restore the emulator handles, as it arrived (then answered normally)."""
    seen: list[dict[str, Any]] = []
    original = emulator_restore.post_restore

    def recording(core: Any, req: Any, fault: Any) -> Any:
        seen.append(
            {
                "method": req.method,
                "path": req.path,
                "query": sorted(req.query),
                "headers": {n.lower(): v for n, v in req.headers if n.lower() not in IGNORED},
                "body": req.body,
            }
        )
        return original(core, req, fault)

    monkeypatch.setattr(emulator_restore, "post_restore", recording)
    return seen


def test_request_matches_the_sdk(cos: Any, client: Any, captured: list[dict[str, Any]]) -> None:
    """The SDK and our client, against the same emulator, send the same request."""
    cos.put_object(VERSIONED_BUCKET, "arch/a.bin", b"x", storage_class="ARCHIVE")
    version = cos.head(VERSIONED_BUCKET, "arch/a.bin")["version_id"]
    sdk = sdk_client(cos.address)
    sdk.restore_object(
        Bucket=VERSIONED_BUCKET,
        Key="arch/a.bin",
        RestoreRequest={"Days": 3, "CASJobParameters": {"Tier": "Expedited"}},
        VersionId=version,
    )
    cos.reset()  # the same object again, unrestored, for our request
    cos.create_bucket(VERSIONED_BUCKET, region=REGION, versioning=True)
    cos.put_object(VERSIONED_BUCKET, "arch/a.bin", b"x", storage_class="ARCHIVE")
    ours_version = cos.head(VERSIONED_BUCKET, "arch/a.bin")["version_id"]
    assert (
        client.execute(
            restore_object(ObjectRef(VERSIONED_BUCKET, "arch/a.bin", ours_version), 3, "expedited")
        )
        == 202
    )
    theirs, ours = captured
    theirs["query"] = [(n, ours_version if n == "versionId" else v) for n, v in theirs["query"]]
    assert ours == theirs
    assert ours["body"] == build_body(3, "Expedited")
    assert ours["query"] == [("restore", ""), ("versionId", ours_version)]
    assert "content-md5" not in ours["headers"] and "content-type" not in ours["headers"]


@pytest.mark.parametrize(
    ("days", "tier", "field"),
    [
        (0, "Standard", "days"),
        (366, "Standard", "days"),
        (1.5, "Standard", "days"),
        (True, "Standard", "days"),
        ("x", "Standard", "days"),
        (1, "Fast", "tier"),
        (1, None, "tier"),
    ],
)
def test_bad_days_or_tier_fail_before_any_request(
    cos: Any, cos_connection: str, days: Any, tier: Any, field: str
) -> None:
    before = requests_sent(cos)
    hook = CosHook(cos_connection)
    for call in (
        lambda: restore_object(ObjectRef(SRC_BUCKET, "a"), days, tier),
        lambda: hook.restore_object("cos://src/a", days=days, tier=tier),
        lambda: hook.restore_objects("src", prefix="a/", days=days, tier=tier),
    ):
        with pytest.raises(CosValidationError) as caught:
            call()
        assert caught.value.field == field
    assert requests_sent(cos) == before


def test_body_and_header_rules() -> None:
    assert parse_body(build_body(7, "Bulk")) == ("7", "Bulk")
    with pytest.raises(ValueError):
        parse_body(b"<Other/>")
    assert parse_restore_header(None) is None
    assert parse_restore_header('ongoing-request="true"').ongoing  # type: ignore[union-attr]
    done = parse_restore_header('ongoing-request="false", expiry-date="Tue, 19 Nov 2019 16:00:00 GMT"')
    assert done is not None and not done.ongoing and done.expiry is not None
    assert done.expiry.isoformat() == "2019-11-19T16:00:00+00:00"


def test_hook_restores_a_prefix_idempotently(cos: Any, cos_connection: str, captured: list[Any]) -> None:
    cos.set_restore_times(standard=HOUR)
    cos.put_object(SRC_BUCKET, "cold/a.bin", b"a", storage_class="ARCHIVE")
    cos.put_object(SRC_BUCKET, "cold/b.bin", b"b", storage_class="DEEP_ARCHIVE")
    cos.put_object(SRC_BUCKET, "cold/c.txt", b"c", storage_class="STANDARD_IA")
    hook = CosHook(cos_connection)
    first = hook.restore_objects("src", prefix="cold/", days=2)
    assert [(r["key"], r["status"], r["requested"]) for r in first] == [
        ("cold/a.bin", "in_progress", True),
        ("cold/b.bin", "in_progress", True),
        ("cold/c.txt", "not_archived", False),
    ]
    again = hook.restore_objects("src", match_glob="cold/*.bin", days=2)  # running: left alone
    assert [(r["status"], r["requested"]) for r in again] == [("in_progress", False)] * 2
    assert len(captured) == 2
    cos.advance_clock(HOUR)
    state = hook.get_restore_state("cos://src/cold/a.bin")
    assert state.status == "restored" and state.readable and state.expiry is not None
    assert hook.get_restore_state("cos://src/cold/b.bin").status == "in_progress"  # 4 h for DEEP_ARCHIVE
    done = hook.restore_object("cos://src/cold/a.bin", days=5)  # restored: extended, not a failure
    assert done["status"] == "restored" and done["requested"]
    assert done["expiry_date"] > state.expiry.isoformat()
    with pytest.raises(CosValidationError, match="DEEP_ARCHIVE") as caught:
        hook.restore_objects("src", keys=["cold/a.bin", "cold/b.bin"], tier="Expedited")
    assert caught.value.field == "tier"
    assert len(captured) == 3  # the refused Expedited selection sent no POST at all


def test_copy_and_download_of_an_unrestored_archive_fail_before_any_write(
    cos: Any, cos_connection: str, tmp_path: Path
) -> None:
    cos.put_object(SRC_BUCKET, "cold/a.bin", b"a" * 10, storage_class="ARCHIVE")
    cos.seed_synthetic(SRC_BUCKET, "cold/big.bin", size=3 * 1024 * 1024, storage_class="ARCHIVE")
    hook = CosHook(cos_connection)
    calls = [
        ("copy", lambda: hook.copy_object("cos://src/cold/a.bin", "cos://dst/a.bin")),
        (
            "copy",
            lambda: hook.copy_object(
                "cos://src/cold/big.bin", "cos://dst/big.bin", multipart_threshold=1024 * 1024
            ),
        ),
        ("copy", lambda: hook.copy_prefix("src", dest_bucket="dst", prefix="cold/")),
        ("download", lambda: hook.download_file("cos://src/cold/a.bin", tmp_path / "sub" / "a.bin")),
        ("read", lambda: hook.read_bytes("cos://src/cold/a.bin")),
    ]
    for action, call in calls:
        with pytest.raises(ArchivedObjectError) as caught:
            call()
        message = str(caught.value)
        assert message.startswith(f"cannot {action} cos://{SRC_BUCKET}/cold/")
        assert "restore it first" in message and "CosRestoreObjectOperator" in message
    requests = cos.counters()["requests"]
    assert set(requests) <= {"HeadObject", "ListObjects"}, requests  # nothing but reads was sent
    assert cos.live_uploads() == 0 and cos.head(DST_BUCKET, "a.bin") is None
    assert list(tmp_path.iterdir()) == []  # not even the folder


def test_a_running_restore_is_named_in_the_refusal(cos: Any, cos_connection: str) -> None:
    cos.put_object(SRC_BUCKET, "cold/a.bin", b"a", storage_class="ARCHIVE")
    hook = CosHook(cos_connection)
    hook.restore_object("cos://src/cold/a.bin")
    with pytest.raises(ArchivedObjectError, match="a restore is running"):
        hook.copy_object("cos://src/cold/a.bin", "cos://dst/a.bin")
    cos.advance_clock(3 * HOUR)
    assert hook.copy_object("cos://src/cold/a.bin", "cos://dst/a.bin").size == 1


def test_operators_check_days_and_tier_at_parse_time_and_before_requests(
    cos: Any, cos_connection: str
) -> None:
    from cos_provider.operators.object_copy import CosCopyObjectOperator
    from cos_provider.operators.restore import CosRestoreObjectOperator

    for kwargs, field in (({"days": 0}, "days"), ({"tier": "fast"}, "tier"), ({"days": "7d"}, "days")):
        with pytest.raises(CosValidationError) as caught:
            CosRestoreObjectOperator(task_id="r", key="cos://src/a", **kwargs)
        assert caught.value.field == field
    with pytest.raises(CosValidationError) as caught:
        CosCopyObjectOperator(
            task_id="c",
            source_bucket_key="cos://src/a",
            dest_bucket_key="b",
            restore_first=True,
            restore_tier="x",
        )
    assert caught.value.field == "restore_tier"
    before = requests_sent(cos)
    templated = CosRestoreObjectOperator(task_id="r", key="cos://src/a", tier="{{ params.tier }}")
    templated.tier = "Glacier"  # as rendered
    with pytest.raises(CosValidationError, match="tier"):
        templated.execute({})
    both = CosRestoreObjectOperator(task_id="r", key="cos://src/a", prefix="p/")
    with pytest.raises(CosValidationError) as caught:
        both.execute({})
    assert caught.value.field == "key"
    assert requests_sent(cos) == before


class FakeTI:
    """What the restore operator reads of its task instance: its id and its own XComs."""

    task_id = "r"
    map_index = -1

    def __init__(self) -> None:
        self.xcoms: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = value

    def xcom_pull(self, task_ids: str, key: str, map_indexes: int) -> Any:
        assert (task_ids, map_indexes) == (self.task_id, self.map_index)
        return self.xcoms.get(key)


def test_waiting_fails_fast_when_the_restore_is_lost(
    cos: Any, cos_connection: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The object is rewritten while its restore runs: the trigger's error event fails the task."""
    from airflow.sdk.exceptions import AirflowFailException

    from cos_provider.operators.restore import CosRestoreObjectOperator
    from tests.sensors.support import DeferralLog, install_fake_clock, run_deferrable

    install_fake_clock(monkeypatch)
    cos.put_object(SRC_BUCKET, "cold/a.bin", b"a", storage_class="ARCHIVE")

    def rewrite(bucket: str, key: str, status: str) -> None:
        cos.core.restores.observers.clear()
        cos.put_object(SRC_BUCKET, "cold/a.bin", b"new", storage_class="ARCHIVE")

    cos.core.restores.observers.append(rewrite)
    op = CosRestoreObjectOperator(
        task_id="r", key="cos://src/cold/a.bin", wait_for_completion=True, poke_interval=1
    )
    log = DeferralLog()
    with pytest.raises(AirflowFailException, match="no restore is running or done"):
        run_deferrable(op, {"ti": FakeTI()}, log)
    assert [e["status"] for e in log.events] == ["error"]


def test_restore_first_copies_at_once_when_the_source_is_readable(cos: Any, cos_connection: str) -> None:
    from cos_provider.operators.object_copy import CosCopyObjectOperator

    cos.set_restore_times(expedited=0)
    cos.put_object(SRC_BUCKET, "cold/a.bin", b"a", storage_class="ARCHIVE")
    op = CosCopyObjectOperator(
        task_id="c",
        source_bucket_key="cos://src/cold/a.bin",
        dest_bucket_key="cos://dst/a.bin",
        restore_first=True,
        restore_tier="Expedited",
    )
    assert op.execute({})["size"] == 1  # restored by the time of its HEAD: no deferral
    plain = CosCopyObjectOperator(
        task_id="p",
        source_bucket_key="cos://src/cold/a.bin",
        dest_bucket_key="cos://dst/b.bin",
        restore_first=True,
    )
    assert plain.execute({})["size"] == 1  # already restored: restored again (extended), then copied
    assert cos.counters()["requests"]["PostObjectRestore"] == {"202": 1, "200": 1}


def test_cos_refusing_an_archive_is_explained() -> None:
    from cos_provider.client.errors import CosServiceError
    from cos_provider.client.explain import explain_service_error

    exc = CosServiceError(403, "InvalidObjectState", "The object is archived", request_id="r1")
    assert explain_service_error(exc) == (
        "The object is archived (ARCHIVE/DEEP_ARCHIVE) and not restored: restore it first "
        "(CosRestoreObjectOperator, or restore_first=True on the copy operators) (request id r1)."
    )


def test_a_restore_started_by_someone_else_in_between_is_not_a_failure(
    cos: Any, cos_connection: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the hook's HEAD and its POST another client starts the restore: COS says 409."""
    cos.put_object(SRC_BUCKET, "cold/a.bin", b"a", storage_class="ARCHIVE")
    original = emulator_restore.post_restore

    def raced(core: Any, req: Any, fault: Any) -> Any:
        version = cos.store.version(cos.store.bucket(SRC_BUCKET), "cold/a.bin", None)
        core.restores.request(SRC_BUCKET, version, 1, "Bulk", HOUR)  # the other client's restore
        return original(core, req, fault)

    monkeypatch.setattr(emulator_restore, "post_restore", raced)
    record = CosHook(cos_connection).restore_object("cos://src/cold/a.bin")
    assert (record["status"], record["requested"]) == ("in_progress", False)
    assert cos.counters()["requests"]["PostObjectRestore"] == {"409": 1}


def test_prefix_download_refuses_an_archive_before_the_first_file(
    cos: Any, cos_connection: str, tmp_path: Path
) -> None:
    from cos_provider.operators.download import CosToLocalFilesystemOperator

    cos.put_object(SRC_BUCKET, "mix/1.txt", b"plain, listed first")
    cos.put_object(SRC_BUCKET, "mix/2.bin", b"cold", storage_class="ARCHIVE")
    op = CosToLocalFilesystemOperator(
        task_id="d", bucket="src", prefix="mix/", local_folder=str(tmp_path / "out")
    )
    with pytest.raises(ArchivedObjectError, match=r"cannot download .*mix/2.bin.*CosRestoreObjectOperator"):
        op.execute({})
    assert not (tmp_path / "out").exists()
    assert "GetObject" not in cos.counters()["requests"]
    CosHook(cos_connection).restore_object("cos://src/mix/2.bin", tier="Expedited")
    cos.advance_clock(HOUR)
    done = op.execute({})
    assert done["count"] == 2 and (tmp_path / "out" / "2.bin").read_bytes() == b"cold"
