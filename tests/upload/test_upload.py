"""Uploads and small writes over real HTTP against the emulator."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest

from cos_provider.client.crc64 import crc64
from cos_provider.client.errors import CosIntegrityError, CosServiceError
from cos_provider.client.protocol import FileRange, prepare
from cos_provider.emulator.faults import FaultRule
from tests.conftest import APP_ID, DST_BUCKET, REGION, SECRET_ID, SECRET_KEY, connection_json

MiB = 1024 * 1024


@pytest.fixture
def hook(cos, monkeypatch):
    from cos_provider.hooks.cos import CosHook

    monkeypatch.setenv("AIRFLOW_CONN_COS_UP", connection_json(cos.address))
    return CosHook(cos_conn_id="cos_up")


def write_random(path, size, seed=1):
    import random

    rng = random.Random(seed)
    with open(path, "wb") as fh:
        left = size
        while left:
            n = min(MiB, left)
            fh.write(rng.randbytes(n))
            left -= n
    return path


def file_crc(path):
    crc = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(MiB):
            crc = crc64(chunk, crc)
    return crc


def ops(cos, name):
    return sum(cos.counters()["requests"].get(name, {}).values())


def ok_ops(cos, name):
    return cos.counters()["requests"].get(name, {}).get("200", 0)


# ------------------------------------------------------------------ the streamed body


def test_file_range_signs_its_length_and_rereads(tmp_path):
    from cos_provider.client.credentials import Credentials
    from cos_provider.client.endpoints import Endpoint
    from cos_provider.client.protocol import CosRequest

    path = tmp_path / "f"
    path.write_bytes(b"0123456789")
    body = FileRange(str(path), 2, 5)
    req = CosRequest("PutObject", "PUT", f"b-{APP_ID}", "k", body=body)
    prepared = prepare(req, Credentials(SECRET_ID, SECRET_KEY), Endpoint(region=REGION))
    assert prepared.headers["Content-Length"] == "5"
    assert body.read_all() == b"23456" and body.read_all() == b"23456"
    with open(path, "rb") as fh:
        fh.read(7)
        assert FileRange(fh, 2, 5).read_all() == b"23456"
    with pytest.raises(OSError):
        FileRange(str(path), 8, 5).read_all()


def test_a_reset_put_is_resent_from_the_file(hook, cos, tmp_path):
    path = write_random(tmp_path / "small", 300_000)
    cos.add_fault(FaultRule(operation="PutObject", kind="reset", times=1))
    result = hook.upload_file(str(path), "r/small", DST_BUCKET)
    assert result.crc64 == file_crc(path)
    assert cos.get_object_bytes(DST_BUCKET, "r/small") == path.read_bytes()
    assert ops(cos, "PutObject") == 2


# ------------------------------------------------------------------ single and multipart


def test_small_file_is_one_put_with_chinese_metadata(hook, cos, tmp_path):
    path = write_random(tmp_path / "a.bin", 123_456)
    result = hook.upload_file(
        path,
        "dir/a.bin",
        DST_BUCKET,
        metadata={"author": "张三", "team": "数据"},
        content_type="application/octet-stream",
        storage_class="STANDARD_IA",
        tagging={"env": "prod"},
    )
    assert result.parts == 1 and result.size == 123_456 and result.crc64 == file_crc(path)
    info = hook.head_object("dir/a.bin", DST_BUCKET)
    assert info.metadata["author"] == "张三" and info.metadata["team"] == "数据"
    assert info.storage_class == "STANDARD_IA"
    assert cos.get_object_bytes(DST_BUCKET, "dir/a.bin") == path.read_bytes()
    assert json.loads(json.dumps(result.to_dict()))["uri"] == f"cos://{DST_BUCKET}/dir/a.bin"


def test_forty_mib_multipart_streams_with_bounded_memory(hook, cos, tmp_path):
    path = write_random(tmp_path / "big", 40 * MiB, seed=7)
    process = psutil.Process()
    before = process.memory_info().rss
    peak = [before]

    import threading

    stop = threading.Event()

    def watch():
        while not stop.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        result = hook.upload_file(
            str(path), "big/obj", DST_BUCKET, multipart_threshold=4 * MiB, part_size=4 * MiB, concurrency=2
        )
    finally:
        stop.set()
        watcher.join()
    assert result.parts == 10 and result.resumed_parts == 0
    assert result.crc64 == file_crc(path)
    head = cos.head(DST_BUCKET, "big/obj")
    assert head is not None
    assert cos.live_uploads() == 0
    # The emulator (in this process) spills the parts to disk and holds one body per request in flight;
    # the client reads 1 MiB at a time. Holding the file would add 40 MiB; ~16 MiB is measured.
    assert peak[0] - before < 32 * MiB


def test_file_object_from_its_position(hook, cos, tmp_path):
    path = write_random(tmp_path / "fo", 3 * MiB + 5)
    with open(path, "rb") as fh:
        fh.seek(5)
        result = hook.upload_file(fh, "fo", DST_BUCKET, multipart_threshold=MiB, part_size=MiB)
    assert result.size == 3 * MiB and result.parts == 3
    assert cos.get_object_bytes(DST_BUCKET, "fo") == path.read_bytes()[5:]


def test_overwrite_false_refuses_an_existing_key(hook, cos):
    hook.write_bytes(b"one", "same", DST_BUCKET)
    with pytest.raises(CosServiceError):
        hook.write_bytes(b"two", "same", DST_BUCKET, overwrite=False)
    assert cos.get_object_bytes(DST_BUCKET, "same") == b"one"


def test_unknown_parameter_is_refused(hook, tmp_path):
    from cos_provider.client.errors import CosValidationError

    with pytest.raises(CosValidationError, match="metdata"):
        hook.write_bytes(b"x", "k", DST_BUCKET, metdata={})


# ------------------------------------------------------------------ small writes


def test_write_bytes_text_json(hook, cos):
    r = hook.write_bytes(b"\x00\x01", "w/b", DST_BUCKET)
    assert r.crc64 == crc64(b"\x00\x01")
    hook.write_text("你好", "w/t", DST_BUCKET)
    hook.write_json({"名字": [1, 2]}, "w/j", DST_BUCKET)
    assert cos.get_object_bytes(DST_BUCKET, "w/t") == "你好".encode()
    assert json.loads(cos.get_object_bytes(DST_BUCKET, "w/j")) == {"名字": [1, 2]}
    assert hook.head_object("w/j", DST_BUCKET).content_type == "application/json"


def test_corrupt_put_is_removed(hook, cos):
    cos.add_fault(FaultRule(operation="PutObject", kind="corrupt", times=1))
    with pytest.raises(CosIntegrityError):
        hook.write_bytes(b"hello", "bad", DST_BUCKET)
    assert cos.head(DST_BUCKET, "bad") is None


# ------------------------------------------------------------------ failures


def test_corrupt_part_fails_and_leaves_nothing(hook, cos, tmp_path):
    path = write_random(tmp_path / "c", 3 * MiB)
    cos.add_fault(FaultRule(operation="UploadPart", kind="corrupt", part_number=2))
    with pytest.raises(CosIntegrityError, match="part 2"):
        hook.upload_file(path, "c", DST_BUCKET, multipart_threshold=MiB, part_size=MiB)
    assert cos.head(DST_BUCKET, "c") is None
    assert cos.live_uploads() == 0


def test_failure_aborts_the_upload(hook, cos, tmp_path):
    path = write_random(tmp_path / "f", 3 * MiB)
    cos.add_fault(FaultRule.always("UploadPart", "internal_error", part_number=3))
    with pytest.raises(CosServiceError):
        hook.upload_file(path, "f", DST_BUCKET, multipart_threshold=MiB, part_size=MiB)
    assert cos.head(DST_BUCKET, "f") is None
    assert cos.live_uploads() == 0


# ------------------------------------------------------------------ resume after SIGKILL

WORKER = textwrap.dedent(
    """
    import sys
    from cos_provider.client.client import CosClient
    from cos_provider.client.credentials import Credentials
    from cos_provider.client.endpoints import Endpoint
    from cos_provider.client.operations import ObjectRef
    from cos_provider.client.upload import Uploader, UploadOptions

    address, path, bucket, key, sid, skey, app_id, region = sys.argv[1:]
    client = CosClient(Credentials(sid, skey), Endpoint(region=region, scheme="http", connect_address=address),
                       app_id=app_id)
    Uploader(client).upload(path, ObjectRef(bucket, key), UploadOptions(
        multipart_threshold=1024 * 1024, part_size=1024 * 1024, concurrency=1))
    """
)


def kill_after_parts(cos, path, key, parts):
    cos.add_fault(FaultRule(operation="UploadPart", kind="slow", delay=30, part_number=parts + 1))
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            WORKER,
            cos.address,
            str(path),
            DST_BUCKET,
            key,
            SECRET_ID,
            SECRET_KEY,
            APP_ID,
            REGION,
        ],
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        # the witness (part 10,000) and then `parts` data parts
        while ok_ops(cos, "UploadPart") < parts + 1:
            assert proc.poll() is None, "the worker ended before it was killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    cos.clear_faults()
    assert cos.live_uploads() == 1


def test_resume_after_sigkill_uploads_only_the_missing_parts(hook, cos, tmp_path):
    path = write_random(tmp_path / "r", 6 * MiB)
    kill_after_parts(cos, path, "resumed", 3)
    before = ok_ops(cos, "UploadPart")
    result = hook.upload_file(path, "resumed", DST_BUCKET, multipart_threshold=MiB, part_size=MiB)
    assert result.resumed_parts == 3 and result.parts == 6
    assert ok_ops(cos, "UploadPart") - before == 3
    assert ops(cos, "InitiateMultipartUpload") == 1
    assert result.crc64 == file_crc(path)
    assert cos.get_object_bytes(DST_BUCKET, "resumed") == path.read_bytes()
    assert cos.live_uploads() == 0


def test_a_changed_local_file_is_never_mixed_in(hook, cos, tmp_path):
    path = write_random(tmp_path / "ch", 6 * MiB)
    kill_after_parts(cos, path, "changed", 3)
    data = bytearray(path.read_bytes())
    data[MiB + 10] ^= 0xFF  # inside part 2, which the killed try uploaded
    path.write_bytes(bytes(data))
    before = ok_ops(cos, "UploadPart")
    result = hook.upload_file(path, "changed", DST_BUCKET, multipart_threshold=MiB, part_size=MiB)
    assert result.resumed_parts == 2
    assert ok_ops(cos, "UploadPart") - before == 4
    assert cos.get_object_bytes(DST_BUCKET, "changed") == bytes(data)
    assert result.crc64 == file_crc(path)


def test_resume_false_starts_afresh(hook, cos, tmp_path):
    path = write_random(tmp_path / "nf", 3 * MiB)
    result = hook.upload_file(path, "nf", DST_BUCKET, multipart_threshold=MiB, part_size=MiB, resume=False)
    assert result.parts == 3 and ok_ops(cos, "UploadPart") == 3


def test_cancel_aborts_the_upload(hook, cos, tmp_path):
    import threading

    from cos_provider.client.copy.errors import CopyCancelled

    path = write_random(tmp_path / "k", 4 * MiB)
    cos.add_fault(FaultRule(operation="UploadPart", kind="slow", delay=3, part_number=2))
    errors = []

    def run():
        try:
            hook.upload_file(path, "k", DST_BUCKET, multipart_threshold=MiB, part_size=MiB, concurrency=1)
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    deadline = time.monotonic() + 30
    while cos.live_uploads() == 0 or ok_ops(cos, "UploadPart") < 2:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    hook.cancel()
    worker.join(30)
    assert errors and isinstance(errors[0], CopyCancelled | CosServiceError)
    assert cos.live_uploads() == 0
    assert cos.head(DST_BUCKET, "k") is None


def test_the_emulator_spills_large_bodies_to_disk(hook, cos, tmp_path):
    import gc

    from cos_provider.emulator import content

    path = write_random(tmp_path / "s", 2 * MiB)
    before = set(os.listdir(content.spill_dir()))  # other emulators of the session spill here too
    hook.upload_file(path, "spilled", DST_BUCKET, multipart_threshold=MiB, part_size=MiB)
    spilled = set(os.listdir(content.spill_dir())) - before
    assert len(spilled) >= 2
    assert cos.get_object_bytes(DST_BUCKET, "spilled") == path.read_bytes()
    cos.reset()
    gc.collect()
    assert not spilled & set(os.listdir(content.spill_dir()))
