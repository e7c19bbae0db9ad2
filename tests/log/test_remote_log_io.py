"""``CosRemoteLogIO`` against the emulator over loopback: upload, append, read back, failures as warnings."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path
from typing import Any

import pytest

from cos_provider.client.errors import CosValidationError
from cos_provider.log.cos_task_handler import CONTENT_TYPE, CosRemoteLogIO, CosTaskHandler
from tests.conftest import APP_ID, DST_BUCKET, REGION, SECRET_ID, SECRET_KEY, connection_json

REL = "dag_id=d/run_id=manual__1/task_id=t/attempt=1.log"
KEY = f"airflow/logs/{REL}"
LOGGER = "cos_provider.log.cos_task_handler"


@pytest.fixture
def base(tmp_path: Path) -> Path:
    folder = tmp_path / "logs"
    folder.mkdir()
    return folder


def io_for(base: Path, **kw: Any) -> CosRemoteLogIO:
    return CosRemoteLogIO(
        remote_base=f"cos://{DST_BUCKET}/airflow/logs", base_log_folder=base, conn_id="cos_default", **kw
    )


def write_local(base: Path, text: str, rel: str = REL) -> Path:
    path = base / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_upload_puts_the_try_log_and_removes_the_local_copy(
    cos: Any, cos_connection: str, base: Path
) -> None:
    local = write_local(base, '{"event": "hello from try 1"}\n')
    io_for(base, delete_local_copy=True).upload(REL)

    assert cos.get_object_bytes(DST_BUCKET, KEY) == b'{"event": "hello from try 1"}\n'
    assert cos.head(DST_BUCKET, KEY)["content_type"] == CONTENT_TYPE
    assert not local.exists()


def test_local_copy_is_kept_unless_asked(cos: Any, cos_connection: str, base: Path) -> None:
    local = write_local(base, "kept\n")
    io_for(base).upload(str(local))  # the absolute form the handler also accepts
    assert cos.get_object_bytes(DST_BUCKET, KEY) == b"kept\n"
    assert local.read_text() == "kept\n"


def test_a_second_upload_of_the_same_try_appends(cos: Any, cos_connection: str, base: Path) -> None:
    """A deferred task or a rescheduled sensor uploads the same try's file again, with what came since."""
    io = io_for(base, delete_local_copy=True)
    write_local(base, "first part\n")
    io.upload(REL)
    write_local(base, "second part\n")
    io.upload(REL)
    assert cos.get_object_bytes(DST_BUCKET, KEY) == b"first part\nsecond part\n"

    cos.put_object(DST_BUCKET, KEY, b"no newline at the end")
    write_local(base, "third\n")
    io.upload(REL)
    assert cos.get_object_bytes(DST_BUCKET, KEY) == b"no newline at the end\nthird\n"


def test_each_try_has_its_own_object(cos: Any, cos_connection: str, base: Path) -> None:
    io = io_for(base)
    second = REL.replace("attempt=1", "attempt=2")
    write_local(base, "try one\n")
    write_local(base, "try two\n", second)
    io.upload(REL)
    io.upload(second)
    assert io.read(REL) == ([f"cos://{DST_BUCKET}/airflow/logs/{REL}"], ["try one\n"])
    assert io.read(second) == ([f"cos://{DST_BUCKET}/airflow/logs/{second}"], ["try two\n"])


def test_read_and_stream_show_the_triggers_part_of_a_deferred_try(
    cos: Any, cos_connection: str, base: Path
) -> None:
    """The triggerer uploads what it logged for a deferred try beside the try's own object;
    the UI must show both (and not attempt=10's log for attempt=1)."""
    cos.put_object(DST_BUCKET, KEY, b"task: deferring\ntask: resumed\n")
    cos.put_object(DST_BUCKET, f"{KEY}.trigger.7.log", b"trigger: fired\n")
    cos.put_object(DST_BUCKET, KEY.replace("attempt=1", "attempt=10"), b"another try\n")
    uris = [f"cos://{DST_BUCKET}/{KEY}", f"cos://{DST_BUCKET}/{KEY}.trigger.7.log"]
    assert io_for(base).read(REL) == (uris, ["task: deferring\ntask: resumed\n", "trigger: fired\n"])
    sources, streams = io_for(base).stream(REL)
    assert sources == uris
    assert [list(lines) for lines in streams] == [["task: deferring", "task: resumed"], ["trigger: fired"]]


def test_read_of_a_missing_log_is_empty(cos: Any, cos_connection: str, base: Path) -> None:
    assert io_for(base).read(REL) == ([], None)


@pytest.mark.parametrize("remote_base", ["cos://dst", "COS://dst/"])
def test_bare_bucket_name_gets_the_connection_appid(
    remote_base: str, cos: Any, cos_connection: str, base: Path
) -> None:
    io = CosRemoteLogIO(remote_base=remote_base, base_log_folder=base)  # no prefix, bare name
    write_local(base, "appid appended\n")
    io.upload(REL)
    assert cos.get_object_bytes(f"dst-{APP_ID}", REL) == b"appid appended\n"
    assert io.read(REL)[1] == ["appid appended\n"]


def test_the_supervisors_uri_form_connection_works(
    cos: Any, base: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before uploading, the supervisor exports the connection as ``AIRFLOW_CONN_<ID>`` in URI form."""
    from airflow.sdk.definitions.connection import Connection

    extra = {"region": REGION, "app_id": APP_ID, "connect_address": cos.address, "max_attempts": 3}
    uri = Connection(
        conn_id="cos_logs",
        conn_type="tencent_cos",
        login=SECRET_ID,
        password=SECRET_KEY,
        extra=json.dumps(extra),
    ).get_uri()
    monkeypatch.setenv("AIRFLOW_CONN_COS_LOGS", uri)
    write_local(base, "via uri\n")
    CosRemoteLogIO(
        remote_base=f"cos://{DST_BUCKET}/airflow/logs", base_log_folder=base, conn_id="cos_logs"
    ).upload(REL)
    assert cos.get_object_bytes(DST_BUCKET, KEY) == b"via uri\n"


def test_unreachable_cos_is_a_warning_and_keeps_the_local_log(
    base: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_COS_DEFAULT", connection_json(f"http://127.0.0.1:{closed_port()}", max_attempts=1)
    )
    local = write_local(base, "must survive\n")
    io = io_for(base, delete_local_copy=True)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        io.upload(REL)  # does not raise
        sources, logs = io.read(REL)

    assert local.read_text() == "must survive\n"
    assert logs is None and "Could not read the log" in sources[0]
    warnings = [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]
    assert "was not uploaded to COS" in warnings[0].getMessage()
    assert REL in warnings[0].getMessage()
    assert "Could not read task log" in warnings[1].getMessage()
    for text in (caplog.text, *sources):
        assert SECRET_KEY not in text
        assert "Authorization" not in text and "q-signature" not in text


def test_refused_credentials_are_a_warning_without_secrets(
    cos: Any, base: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = json.loads(connection_json(cos.address, max_attempts=1))
    wrong["password"] = "wrong-secret-key-never-logged-42"
    monkeypatch.setenv("AIRFLOW_CONN_COS_DEFAULT", json.dumps(wrong))
    local = write_local(base, "kept on refusal\n")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        io_for(base, delete_local_copy=True).upload(REL)
    assert local.exists()
    assert cos.head(DST_BUCKET, KEY) is None
    assert "was not uploaded to COS" in caplog.text and "403" in caplog.text
    assert "wrong-secret-key-never-logged-42" not in caplog.text and SECRET_KEY not in caplog.text


def test_a_path_outside_the_log_folder_is_a_warning(
    cos: Any, cos_connection: str, base: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stray = tmp_path / "elsewhere.log"
    stray.write_text("x")
    before = cos.counters()["requests"]
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        io_for(base).upload(stray)
    assert "is not under base_log_folder" in caplog.text
    assert cos.counters()["requests"] == before  # refused before any request


def test_a_missing_local_file_uploads_nothing(cos: Any, cos_connection: str, base: Path) -> None:
    io_for(base).upload(REL)
    assert cos.head(DST_BUCKET, KEY) is None


@pytest.mark.parametrize(
    ("remote_base", "rule"),
    [
        ("s3://bucket/logs", "must be cos://<bucket>[/<prefix>]"),
        ("cos://", "must be cos://<bucket>[/<prefix>]"),
        ("cos:///logs", "must be cos://<bucket>[/<prefix>]"),
        ("logs/airflow", "must be cos://<bucket>[/<prefix>]"),
    ],
)
def test_bad_folder_is_refused_naming_the_option(remote_base: str, rule: str, base: Path) -> None:
    with pytest.raises(CosValidationError, match="remote_base_log_folder") as info:
        CosRemoteLogIO(remote_base=remote_base, base_log_folder=base)
    assert rule in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"conn_id": ""}, "remote_log_conn_id"),
        ({"conn_id": 7}, "remote_log_conn_id"),
        ({"delete_local_copy": "sometimes"}, "delete_local_logs"),
        ({"base_log_folder": 3}, "base_log_folder"),
        ({"remote_base": None}, "remote_base_log_folder"),
    ],
)
def test_wrong_values_and_types_are_refused_naming_the_option(
    base: Path, kwargs: dict[str, Any], field: str
) -> None:
    values = {"remote_base": "cos://b-1250000000/x", "base_log_folder": base, **kwargs}
    with pytest.raises(CosValidationError, match=field):
        CosRemoteLogIO(**values)


def test_from_config_reads_the_logging_section(base: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__LOGGING__REMOTE_BASE_LOG_FOLDER", f"cos://{DST_BUCKET}/airflow")
    monkeypatch.setenv("AIRFLOW__LOGGING__BASE_LOG_FOLDER", str(base))
    monkeypatch.setenv("AIRFLOW__LOGGING__DELETE_LOCAL_LOGS", "True")
    monkeypatch.setenv("AIRFLOW__LOGGING__REMOTE_LOG_CONN_ID", "cos_logs")
    monkeypatch.setenv("AIRFLOW__LOGGING__REMOTE_LOGGING", "False")  # not needed by from_config
    io = CosRemoteLogIO.from_config()
    assert (io.remote_base, io.base_log_folder, io.delete_local_copy, io.conn_id) == (
        f"cos://{DST_BUCKET}/airflow",
        base,
        True,
        "cos_logs",
    )
    assert io.processors == ()
    monkeypatch.setenv("AIRFLOW__LOGGING__REMOTE_LOG_CONN_ID", "")
    assert CosRemoteLogIO.from_config().conn_id == "cos_default"


def test_task_handler_reads_through_the_io(cos: Any, cos_connection: str, base: Path) -> None:
    handler = CosTaskHandler(str(base), f"cos://{DST_BUCKET}/airflow/logs", delete_local_copy=True)
    assert handler.io.delete_local_copy is True and handler.io.conn_id == "cos_default"
    write_local(base, "through the handler\n")
    handler.io.upload(REL)

    class TI:  # what _render_filename needs is tested by Airflow; here only the delegation
        pass

    handler._render_filename = lambda ti, try_number: REL  # type: ignore[method-assign]
    assert handler._read_remote_logs(TI(), 1) == (
        [f"cos://{DST_BUCKET}/airflow/logs/{REL}"],
        ["through the handler\n"],
    )


def test_a_log_created_during_the_first_upload_is_appended_to_not_clobbered(
    cos: Any, cos_connection: str, base: Path
) -> None:
    """Another upload creates the object between this one's HEAD (404) and its PUT."""
    import threading
    import time

    from cos_provider.emulator.faults import FaultRule

    cos.add_fault(FaultRule("PutObject", kind="slow", delay=1.5, times=1, key=KEY))
    write_local(base, "mine\n")
    uploader = threading.Thread(target=io_for(base).upload, args=(REL,))
    uploader.start()
    deadline = time.monotonic() + 10
    while True:  # the HEAD has answered 404 and the PUT is being held
        counters = cos.counters()
        if counters["requests"].get("HeadObject", {}).get("404") and counters["in_flight"]:
            break
        assert time.monotonic() < deadline, counters
        time.sleep(0.01)
    cos.put_object(DST_BUCKET, KEY, b"theirs\n")
    uploader.join(timeout=30)

    assert cos.get_object_bytes(DST_BUCKET, KEY) == b"theirs\nmine\n"
    assert cos.counters()["requests"]["PutObject"] == {"409": 1, "200": 1}


TEXT = '{"event": "première ligne"}\n{"event": "zweite Zeile: äöü"}\n\n{"event": "last, no newline"}'


@pytest.fixture
def small_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ranges of 7 bytes: lines and multi-byte characters straddle range boundaries."""
    import cos_provider.log.cos_task_handler as module

    monkeypatch.setattr(module, "STREAM_RANGE", 7)


def test_stream_yields_the_lines_across_ranges(
    cos: Any, cos_connection: str, base: Path, small_ranges: None
) -> None:
    cos.put_object(DST_BUCKET, KEY, TEXT.encode())
    sources, streams = io_for(base).stream(REL)
    assert sources == [f"cos://{DST_BUCKET}/{KEY}"]
    assert list(streams[0]) == TEXT.split("\n")
    gets = cos.counters()["requests"]["GetObject"]
    assert gets == {"206": -(-len(TEXT.encode()) // 7)}  # one ranged GET per 7 bytes


def test_stream_of_a_missing_or_empty_log(cos: Any, cos_connection: str, base: Path) -> None:
    assert io_for(base).stream(REL) == ([], [])
    cos.put_object(DST_BUCKET, KEY, b"")
    sources, streams = io_for(base).stream(REL)
    assert sources == [f"cos://{DST_BUCKET}/{KEY}"] and list(streams[0]) == []


def test_stream_ends_with_a_line_when_the_log_changes_under_it(
    cos: Any, cos_connection: str, base: Path, small_ranges: None, caplog: pytest.LogCaptureFixture
) -> None:
    cos.put_object(DST_BUCKET, KEY, TEXT.encode())
    _, streams = io_for(base).stream(REL)
    lines = iter(streams[0])
    assert next(lines) == TEXT.split("\n")[0]
    cos.put_object(DST_BUCKET, KEY, b"a new version\n")  # an append by a later upload
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        rest = list(lines)
    assert "the rest of this log could not be read from COS" in rest[-1]
    assert "412" in rest[-1] and "a new version" not in "".join(rest)  # never spliced
    assert "stopped at byte" in caplog.text


def test_stream_detects_corrupted_bytes(
    cos: Any, cos_connection: str, base: Path, small_ranges: None
) -> None:
    from cos_provider.emulator.faults import FaultRule

    cos.put_object(DST_BUCKET, KEY, TEXT.encode())
    cos.add_fault(FaultRule("GetObject", kind="corrupt", times=1, key=KEY))
    _, streams = io_for(base).stream(REL)
    lines = list(streams[0])
    assert "CRC64 of the bytes read differs" in lines[-1]


def test_stream_from_an_unreachable_cos_is_a_source_line(
    base: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_COS_DEFAULT", connection_json(f"http://127.0.0.1:{closed_port()}", max_attempts=1)
    )
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        sources, streams = io_for(base).stream(REL)
    assert streams == [] and "Could not read the log" in sources[0]
    assert SECRET_KEY not in caplog.text + sources[0]
