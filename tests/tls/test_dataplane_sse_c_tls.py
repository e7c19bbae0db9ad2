"""SSE-C on the data plane over real HTTPS: uploads, downloads and small reads/writes with a customer key.

The emulator refuses an SSE-C object's HEAD or GET without its key (400) or
with another (403), an SSE-C upload's part without the key, and a key on a
part of a plain upload: so a passing upload or download here sent the key on
every request that needs it. The HTTP refusals are in
``tests/upload/test_sse_c_refusals.py``.
"""

from __future__ import annotations

import logging
import random
from typing import Any

import pytest

from cos_provider.client import limits
from cos_provider.client.errors import CosServiceError
from cos_provider.hooks.cos import CosHook
from cos_provider.operators.download import CosToLocalFilesystemOperator
from cos_provider.operators.upload import CosCreateObjectOperator, LocalFilesystemToCosOperator
from tests.conftest import DST_BUCKET
from tests.headers.conftest import KEY_A, KEY_A_MD5, KEY_B

MiB = limits.MiB


def ok(cos: Any, operation: str) -> int:
    return sum(
        n for status, n in cos.counters()["requests"].get(operation, {}).items() if status.startswith("2")
    )


@pytest.fixture
def data(tmp_path: Any) -> tuple[Any, bytes]:
    body = random.Random(7).randbytes(3 * MiB + 123)
    path = tmp_path / "secret.bin"
    path.write_bytes(body)
    return path, body


@pytest.mark.parametrize(
    ("name", "extra", "puts", "parts"),
    [
        ("single", {}, 1, 0),
        # three data parts of 1 MiB and the rest, plus the resume witness (part 10,000): each with the key
        ("multipart", {"multipart_threshold": MiB, "part_size": MiB}, 0, 5),
    ],
)
def test_upload_and_download_with_a_customer_key(
    cos: Any,
    cos_connection: str,
    data: tuple[Any, bytes],
    tmp_path: Any,
    caplog: pytest.LogCaptureFixture,
    name: str,
    extra: dict[str, Any],
    puts: int,
    parts: int,
) -> None:
    caplog.set_level(logging.DEBUG)
    path, body = data
    hook = CosHook()
    uploaded = hook.upload_file(path, f"{name}.bin", DST_BUCKET, sse_customer_key=KEY_A, **extra)
    head = cos.head(DST_BUCKET, f"{name}.bin")
    assert head["sse_c_md5"] == KEY_A_MD5
    assert cos.get_object_bytes(DST_BUCKET, f"{name}.bin") == body
    assert (ok(cos, "PutObject"), ok(cos, "UploadPart")) == (puts, parts)
    assert uploaded.crc64 == int(head["crc64"])

    # 64 KiB ranges: 49 ranged GETs, every one carrying the key (and the HEAD before them)
    target = tmp_path / "out" / f"{name}.bin"
    downloaded = hook.download_file(
        f"cos://{DST_BUCKET}/{name}.bin", target, sse_customer_key=KEY_A, part_size=64 * 1024
    )
    assert target.read_bytes() == body
    assert (downloaded.ranges, downloaded.verified, downloaded.crc64) == (49, True, uploaded.crc64)
    assert ok(cos, "GetObject") == 49

    with pytest.raises(CosServiceError) as no_key:
        hook.download_file(f"cos://{DST_BUCKET}/{name}.bin", tmp_path / "nokey.bin")
    assert no_key.value.status == 400 and "give sse_customer_key" in str(no_key.value)
    with pytest.raises(CosServiceError) as other_key:
        hook.download_file(f"cos://{DST_BUCKET}/{name}.bin", tmp_path / "other.bin", sse_customer_key=KEY_B)
    assert other_key.value.status == 403
    assert not (tmp_path / "nokey.bin").exists() and not (tmp_path / "other.bin").exists()
    assert cos.live_uploads() == 0

    shown = repr(uploaded.to_dict()) + repr(downloaded.to_dict()) + str(no_key.value) + str(other_key.value)
    assert KEY_A not in shown + caplog.text and KEY_B not in shown + caplog.text


def test_small_writes_and_reads_with_a_customer_key(
    cos: Any, cos_connection: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    hook = CosHook()
    hook.write_json({"城市": "深圳"}, "c.json", DST_BUCKET, sse_customer_key=KEY_A)
    hook.write_text("hello", "c.txt", DST_BUCKET, sse_customer_key=KEY_A)
    assert cos.head(DST_BUCKET, "c.json")["sse_c_md5"] == KEY_A_MD5
    assert hook.read_json("c.json", DST_BUCKET, sse_customer_key=KEY_A) == {"城市": "深圳"}
    assert hook.read_text("c.txt", DST_BUCKET, sse_customer_key=KEY_A) == "hello"
    with pytest.raises(CosServiceError) as err:
        hook.read_bytes("c.txt", DST_BUCKET)
    assert err.value.status == 400 and "sse_customer_key" in str(err.value)
    assert KEY_A not in caplog.text + str(err.value)


def test_operators_take_the_key_and_keep_it_out_of_xcom_and_templates(
    cos: Any, cos_connection: str, data: tuple[Any, bytes], tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    path, body = data
    up = LocalFilesystemToCosOperator(
        task_id="up",
        source=str(path),
        dest_bucket=DST_BUCKET,
        dest_key="op.bin",
        multipart_threshold=MiB,
        part_size=MiB,
        sse_customer_key=KEY_A,
    )
    create = CosCreateObjectOperator(
        task_id="create", bucket=DST_BUCKET, key="op.json", data={"a": 1}, sse_customer_key=KEY_A
    )
    down = CosToLocalFilesystemOperator(
        task_id="down",
        bucket=DST_BUCKET,
        key="op.bin",
        local_folder=str(tmp_path / "d"),
        sse_customer_key=KEY_A,
    )
    for op in (up, create, down):
        assert "sse_customer_key" not in op.template_fields
    xcoms = [up.execute({}), create.execute({}), down.execute({})]
    assert cos.head(DST_BUCKET, "op.bin")["sse_c_md5"] == KEY_A_MD5
    assert cos.head(DST_BUCKET, "op.json")["sse_c_md5"] == KEY_A_MD5
    assert (tmp_path / "d" / "op.bin").read_bytes() == body
    assert xcoms[2]["files"][0]["verified"] is True
    shown = repr(xcoms) + caplog.text + repr(up.__dict__) + repr(down.__dict__)
    assert KEY_A not in shown


def test_a_retried_sse_c_upload_resumes_only_under_the_same_key(
    cos: Any, cos_connection: str, data: tuple[Any, bytes]
) -> None:
    """A try whose upload stays open (here: part 3 fails and so does the abort, as after a kill) is
    resumed by a retry with the same key; the witness holds the key's MD5, so another key starts afresh."""
    from cos_provider.emulator import FaultRule

    path, body = data
    hook = CosHook()
    options = {"multipart_threshold": MiB, "part_size": MiB}
    cos.add_fault(FaultRule.always("UploadPart", "internal_error", part_number=3))
    cos.add_fault(FaultRule.always("AbortMultipartUpload", "internal_error"))
    try:
        with pytest.raises(CosServiceError):
            hook.upload_file(path, "r.bin", DST_BUCKET, sse_customer_key=KEY_A, **options)
    finally:
        cos.clear_faults()
    assert cos.live_uploads() == 1
    with cos.store.lock:
        (left,) = cos.store.bucket(DST_BUCKET).uploads.values()
        uploaded = sorted(n for n in left.parts if n < limits.MAX_PARTS)  # without the witness
    assert 3 not in uploaded and {1, 2} <= set(uploaded)
    other = hook.upload_file(path, "r.bin", DST_BUCKET, sse_customer_key=KEY_B, **options)
    assert other.resumed_parts == 0
    assert cos.live_uploads() == 1  # the key-A upload is not this upload's to use
    same = hook.upload_file(path, "r.bin", DST_BUCKET, sse_customer_key=KEY_A, **options)
    assert (same.resumed_parts, same.parts) == (len(uploaded), 4)
    assert cos.live_uploads() == 0
    assert cos.head(DST_BUCKET, "r.bin")["sse_c_md5"] == KEY_A_MD5
    assert cos.get_object_bytes(DST_BUCKET, "r.bin") == body
