"""SSE-C on the data plane over plain HTTP is refused before any request, without quoting the key.

The round trips over HTTPS are ``tests/tls/test_dataplane_sse_c_tls.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from cos_provider.client.errors import CosValidationError
from cos_provider.hooks.cos import CosHook
from cos_provider.operators.download import CosToLocalFilesystemOperator
from cos_provider.operators.upload import CosCreateObjectOperator, LocalFilesystemToCosOperator
from tests.conftest import DST_BUCKET, connection_json
from tests.headers.conftest import KEY_A

MiB = 1024 * 1024


def entry_points(path: str, folder: str) -> dict[str, Callable[[], Any]]:
    def hook() -> CosHook:
        return CosHook()

    return {
        "upload_file single": lambda: hook().upload_file(path, "k", DST_BUCKET, sse_customer_key=KEY_A),
        "upload_file multipart": lambda: hook().upload_file(
            path, "k", DST_BUCKET, sse_customer_key=KEY_A, multipart_threshold=MiB, part_size=MiB
        ),
        "write_bytes": lambda: hook().write_bytes(b"x", "k", DST_BUCKET, sse_customer_key=KEY_A),
        "write_json": lambda: hook().write_json({}, "k", DST_BUCKET, sse_customer_key=KEY_A),
        "download_file": lambda: hook().download_file("k", f"{folder}/k", DST_BUCKET, sse_customer_key=KEY_A),
        "read_text": lambda: hook().read_text("k", DST_BUCKET, sse_customer_key=KEY_A),
        "head_object": lambda: hook().head_object("k", DST_BUCKET, sse_customer_key=KEY_A),
        "LocalFilesystemToCosOperator": lambda: LocalFilesystemToCosOperator(
            task_id="u", source=path, dest_bucket=DST_BUCKET, dest_key="k", sse_customer_key=KEY_A
        ).execute({}),
        "CosCreateObjectOperator": lambda: CosCreateObjectOperator(
            task_id="c", bucket=DST_BUCKET, key="k", data="x", sse_customer_key=KEY_A
        ).execute({}),
        "CosToLocalFilesystemOperator": lambda: CosToLocalFilesystemOperator(
            task_id="d", bucket=DST_BUCKET, key="k", local_folder=folder, sse_customer_key=KEY_A
        ).execute({}),
    }


NAMES = list(entry_points("", ""))


@pytest.mark.parametrize("entry", NAMES)
def test_sse_c_over_http_is_refused_before_any_request(
    cos: Any, cos_connection: str, tmp_path: Any, caplog: pytest.LogCaptureFixture, entry: str
) -> None:
    cos.put_object(DST_BUCKET, "k", b"x" * 100)
    path = tmp_path / "f.bin"
    path.write_bytes(b"y" * (3 * MiB))
    caplog.set_level(logging.DEBUG)
    before = cos.counters()["requests"]
    with pytest.raises(CosValidationError) as err:
        entry_points(str(path), str(tmp_path / "out"))[entry]()
    assert err.value.field == "sse_customer_key"
    assert "SSE-C needs HTTPS" in err.value.rule
    assert cos.counters()["requests"] == before
    assert KEY_A not in str(err.value) and KEY_A not in caplog.text
    assert not (tmp_path / "out" / "k").exists()


def test_the_connections_key_is_used_by_default(
    cos: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """A connection with an ``sse_customer_key`` extra encrypts uploads with it: over HTTP, refused."""
    monkeypatch.setenv("AIRFLOW_CONN_COS_DEFAULT", connection_json(cos.address, sse_customer_key=KEY_A))
    path = tmp_path / "f.bin"
    path.write_bytes(b"z")
    with pytest.raises(CosValidationError) as err:
        CosHook().upload_file(str(path), "k", DST_BUCKET)
    assert err.value.field == "sse_customer_key"
    with pytest.raises(CosValidationError) as err:
        CosHook().head_object("k", DST_BUCKET)
    assert err.value.field == "sse_customer_key"
    assert cos.counters()["requests"] == {}


def test_a_malformed_key_fails_the_operator_without_quoting_it() -> None:
    bad = "bm90IGEga2V5"  # base64 of "not a key": 9 bytes
    with pytest.raises(CosValidationError) as err:
        CosToLocalFilesystemOperator(task_id="d", key="k", local_folder="/tmp", sse_customer_key=bad)
    assert err.value.field == "sse_customer_key" and "32-byte" in err.value.rule
    assert bad not in str(err.value)
