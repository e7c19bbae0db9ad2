"""The hook's download methods and ``CosToLocalFilesystemOperator``, against the emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cos_provider.client.crc64 import crc64
from cos_provider.client.errors import CosValidationError
from cos_provider.hooks.cos import CosHook
from cos_provider.operators.download import CosToLocalFilesystemOperator, local_path_for
from tests.airflow_support import run_dag, task_states, xcom
from tests.conftest import SRC_BUCKET

MiB = 1024 * 1024


def test_hook_download_file_and_small_reads(cos: Any, cos_connection: str, tmp_path: Path) -> None:
    seeded = cos.seed_synthetic(SRC_BUCKET, "d/big.bin", size=3 * MiB + 5)
    cos.put_object(SRC_BUCKET, "d/doc.json", b'{"n": [1, 2]}')
    hook = CosHook(cos_connection)
    result = hook.download_file("cos://src/d/big.bin", tmp_path / "big.bin", part_size=MiB, concurrency=3)
    assert result.size == seeded["size"] and result.crc64 == seeded["crc64"]
    assert result.uri == f"cos://{SRC_BUCKET}/d/big.bin" and result.path == str(tmp_path / "big.bin")
    assert hook.read_bytes("d/doc.json", "src") == b'{"n": [1, 2]}'
    assert hook.read_text("cos://src/d/doc.json") == '{"n": [1, 2]}'
    assert hook.read_json("cos://src/d/doc.json") == {"n": [1, 2]}
    with pytest.raises(CosValidationError, match="max_size"):
        hook.read_bytes("cos://src/d/big.bin", max_size=MiB)


def test_hook_download_lineage(
    cos: Any, cos_connection: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.sdk import lineage

    collector = lineage.HookLineageCollector()
    monkeypatch.setattr(lineage, "get_hook_lineage_collector", lambda: collector)
    cos.put_object(SRC_BUCKET, "lin.txt", b"x")
    CosHook(cos_connection).download_file("cos://src/lin.txt", tmp_path / "lin.txt")
    assets = collector.collected_assets
    assert [a.asset.uri for a in assets.inputs] == [f"cos://{SRC_BUCKET}/lin.txt"]
    assert [a.asset.uri for a in assets.outputs] == [(tmp_path / "lin.txt").as_uri()]


@pytest.mark.parametrize("key", ["../evil", "a/../../evil", "/abs", "a//b", "dir/", "."])
def test_keys_that_escape_the_folder_are_refused(tmp_path: Path, key: str) -> None:
    with pytest.raises(CosValidationError):
        local_path_for(str(tmp_path), key)


def test_operator_refuses_escaping_key_before_downloading(
    cos: Any, cos_connection: str, tmp_path: Path
) -> None:
    cos.put_object(SRC_BUCKET, "p/ok.txt", b"ok")
    cos.put_object(SRC_BUCKET, "p/../escape.txt", b"bad")
    op = CosToLocalFilesystemOperator(task_id="t", bucket="src", prefix="p/", local_folder=str(tmp_path))
    with pytest.raises(CosValidationError, match=r"outside|does not map"):
        op.execute({})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.airflow_db
@pytest.mark.usefixtures("airflow_db")
def test_download_dag(cos: Any, cos_connection: str, tmp_path: Path) -> None:
    cos.put_object(SRC_BUCKET, "reports/cos_download.csv", b"a,b\n1,2\n")
    big = cos.seed_synthetic(SRC_BUCKET, "data/x/1.bin", size=MiB)
    cos.put_object(SRC_BUCKET, "data/2.bin", b"two")
    cos.put_object(SRC_BUCKET, "data/skip.txt", b"no")
    run = run_dag("cos_download", run_conf={"folder": str(tmp_path)})
    assert task_states(run) == {"one_key": "success", "by_glob": "success"}, task_states(run)
    one = xcom(run, "one_key")
    assert one["count"] == 1 and one["files"][0]["path"] == str(tmp_path / "one" / "cos_download.csv")
    assert (tmp_path / "one" / "cos_download.csv").read_bytes() == b"a,b\n1,2\n"
    glob = xcom(run, "by_glob")
    files = {f["path"]: f for f in glob["files"]}
    assert glob["count"] == 2
    assert files[str(tmp_path / "glob" / "x" / "1.bin")]["crc64"] == big["crc64"]
    assert files[str(tmp_path / "glob" / "2.bin")]["crc64"] == crc64(b"two")
    assert not (tmp_path / "glob" / "skip.txt").exists()


def test_on_kill_cancels_running_downloads(cos: Any, cos_connection: str, tmp_path: Path) -> None:
    from cos_provider.client.download import Downloader

    op = CosToLocalFilesystemOperator(task_id="t", key="cos://src/x", local_folder=str(tmp_path))
    with op.hook._running(Downloader(op.hook.conn)) as running:
        op.on_kill()
    assert running.cancelled.is_set()
