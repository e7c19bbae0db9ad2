"""Downloads to a path and small reads, over real HTTP against the emulator."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from cos_provider.client.client import CosClient
from cos_provider.client.crc64 import crc64
from cos_provider.client.download import PARTIAL_SUFFIX, SIDECAR_SUFFIX, Downloader, read_object
from cos_provider.client.errors import CosIntegrityError, CosServiceError, CosValidationError
from cos_provider.client.operations import ObjectRef
from cos_provider.emulator import FaultRule
from tests.conftest import APP_ID, REGION, SECRET_ID, SECRET_KEY, SRC_BUCKET, VERSIONED_BUCKET
from tests.copy.conftest import settle

MiB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[2]


def gets(cos: Any) -> int:
    settle(cos)
    per_status = cos.counters()["requests"].get("GetObject", {})
    return sum(n for status, n in per_status.items() if status.startswith("2"))


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith((PARTIAL_SUFFIX, SIDECAR_SUFFIX)))


def test_synthetic_64_mib_in_parallel_crc_verified(cos: Any, client: CosClient, tmp_path: Path) -> None:
    seeded = cos.seed_synthetic(SRC_BUCKET, "big/data.bin", size=64 * MiB, seed=7)
    target = tmp_path / "out" / "data.bin"
    result = Downloader(client).download(
        ObjectRef(SRC_BUCKET, "big/data.bin"), target, concurrency=8, part_size=4 * MiB
    )
    assert result.size == 64 * MiB == target.stat().st_size
    assert result.crc64 == seeded["crc64"] and result.verified
    assert result.ranges == 16 and result.resumed_bytes == 0
    assert gets(cos) == 16
    with open(target, "rb") as f:
        assert f.read(1 * MiB) == cos.get_object_bytes(SRC_BUCKET, "big/data.bin", end=1 * MiB)
    assert leftovers(target.parent) == []
    json.dumps(result.to_dict())


def test_small_object_and_empty_object(cos: Any, client: CosClient, tmp_path: Path) -> None:
    cos.put_object(SRC_BUCKET, "small.txt", b"hello")
    cos.put_object(SRC_BUCKET, "empty", b"")
    d = Downloader(client)
    assert d.download(ObjectRef(SRC_BUCKET, "small.txt"), tmp_path / "s").crc64 == crc64(b"hello")
    assert (tmp_path / "s").read_bytes() == b"hello"
    assert d.download(ObjectRef(SRC_BUCKET, "empty"), tmp_path / "e").size == 0
    assert (tmp_path / "e").read_bytes() == b""


def test_ranged_get_pinned_with_if_match_and_whole_object_crc(cos: Any, client: CosClient) -> None:
    from cos_provider.client import operations as ops

    cos.put_object(SRC_BUCKET, "k", b"0123456789")
    chunks: list[bytes] = []
    got = client.transport.execute_stream(
        ops.get_object_stream(ObjectRef(SRC_BUCKET, "k"), 2, 4), chunks.append, restart=chunks.clear
    )
    assert b"".join(chunks) == b"234" and got.size == 3 and got.crc64 == crc64(b"234")
    assert got.result.crc64 == crc64(b"0123456789") and got.result.size == 10
    with pytest.raises(CosServiceError) as exc:
        client.transport.execute_stream(
            ops.get_object_stream(ObjectRef(SRC_BUCKET, "k"), 0, 1, if_match='"0000"'),
            chunks.append,
            restart=chunks.clear,
        )
    assert exc.value.status == 412


def test_overwrite_mid_download_fails_412_and_leaves_nothing(
    cos: Any, client: CosClient, tmp_path: Path
) -> None:
    cos.seed_synthetic(SRC_BUCKET, "moving", size=8 * MiB, seed=1)
    cos.set_model(latency=0.05)
    target = tmp_path / "moving.bin"
    overwrite_after = [0]

    class Log:
        def debug(self, *a: Any) -> None: ...
        def warning(self, *a: Any) -> None: ...
        def error(self, *a: Any, **k: Any) -> None: ...
        def info(self, *a: Any) -> None: ...

    d = Downloader(client, logger=Log())
    real = client.transport.execute_stream

    def overwrite_once(*args: Any, **kwargs: Any) -> Any:
        overwrite_after[0] += 1
        if overwrite_after[0] == 3:
            cos.seed_synthetic(SRC_BUCKET, "moving", size=8 * MiB, seed=2)
        return real(*args, **kwargs)

    client.transport.execute_stream = overwrite_once  # type: ignore[method-assign]
    try:
        with pytest.raises(CosServiceError) as exc:
            d.download(ObjectRef(SRC_BUCKET, "moving"), target, concurrency=1, part_size=1 * MiB)
    finally:
        del client.transport.execute_stream
    assert exc.value.status == 412
    assert not target.exists() and leftovers(tmp_path) == []


def test_corrupted_range_fails_integrity_and_leaves_nothing(
    cos: Any, client: CosClient, tmp_path: Path
) -> None:
    cos.seed_synthetic(SRC_BUCKET, "c", size=4 * MiB, seed=3)
    cos.add_fault(FaultRule(operation="GetObject", kind="corrupt", times=1))
    target = tmp_path / "c.bin"
    with pytest.raises(CosIntegrityError, match="x-cos-hash-crc64ecma"):
        Downloader(client).download(ObjectRef(SRC_BUCKET, "c"), target, concurrency=2, part_size=1 * MiB)
    assert not target.exists() and leftovers(tmp_path) == []


def test_reset_mid_body_is_retried(cos: Any, client: CosClient, tmp_path: Path) -> None:
    seeded = cos.seed_synthetic(SRC_BUCKET, "r", size=3 * MiB, seed=4)
    cos.add_fault(FaultRule(operation="GetObject", kind="reset", times=2))
    result = Downloader(client).download(
        ObjectRef(SRC_BUCKET, "r"), tmp_path / "r", concurrency=3, part_size=1 * MiB
    )
    assert result.crc64 == seeded["crc64"]


def test_version_download(cos: Any, client: CosClient, tmp_path: Path) -> None:
    first = cos.put_object(VERSIONED_BUCKET, "v", b"first version")
    cos.put_object(VERSIONED_BUCKET, "v", b"second")
    result = Downloader(client).download(
        ObjectRef(VERSIONED_BUCKET, "v", first["version_id"]), tmp_path / "v"
    )
    assert (tmp_path / "v").read_bytes() == b"first version"
    assert result.version_id == first["version_id"]


SCRIPT = """
import sys
from cos_provider.client.client import CosClient
from cos_provider.client.credentials import Credentials
from cos_provider.client.download import Downloader
from cos_provider.client.endpoints import Endpoint
from cos_provider.client.operations import ObjectRef
address, target = sys.argv[1:3]
client = CosClient(Credentials({sid!r}, {skey!r}), Endpoint(region={region!r}, scheme="http",
    connect_address=address), app_id={app!r})
Downloader(client).download(ObjectRef({bucket!r}, "resume.bin"), target, concurrency=1, part_size=256 * 1024)
"""


def test_resume_after_sigkill_fetches_only_missing_ranges(
    cos: Any, client: CosClient, tmp_path: Path
) -> None:
    seeded = cos.seed_synthetic(SRC_BUCKET, "resume.bin", size=4 * MiB, seed=5)  # 16 ranges
    cos.set_model(latency=0.15)
    target = tmp_path / "resume.bin"
    sidecar = Path(str(target) + SIDECAR_SUFFIX)
    script = SCRIPT.format(sid=SECRET_ID, skey=SECRET_KEY, region=REGION, app=APP_ID, bucket=SRC_BUCKET)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", script, cos.address, str(target)], env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if len(json.loads(sidecar.read_text())["done"]) >= 3:
                    break
            except (OSError, ValueError, KeyError):
                pass
            assert proc.poll() is None, "the download ended before it could be killed"
            time.sleep(0.02)
        else:
            pytest.fail("the sidecar never showed 3 ranges done")
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not target.exists()
    done = len(json.loads(sidecar.read_text())["done"])
    assert 3 <= done < 16
    cos.set_model(latency=0.0)
    before = gets(cos)
    result = Downloader(client).download(
        ObjectRef(SRC_BUCKET, "resume.bin"), target, concurrency=4, part_size=256 * 1024
    )
    assert gets(cos) - before == 16 - done
    assert result.resumed_bytes == done * 256 * 1024
    assert result.crc64 == seeded["crc64"]
    assert leftovers(tmp_path) == []


def test_stale_sidecar_starts_over(cos: Any, client: CosClient, tmp_path: Path) -> None:
    seeded = cos.seed_synthetic(SRC_BUCKET, "stale", size=1 * MiB, seed=6)
    target = tmp_path / "stale"
    Path(str(target) + PARTIAL_SUFFIX).write_bytes(b"x" * MiB)
    Path(str(target) + SIDECAR_SUFFIX).write_text(
        json.dumps({"etag": '"other"', "size": MiB, "done": {"0": 1}})
    )
    result = Downloader(client).download(ObjectRef(SRC_BUCKET, "stale"), target, part_size=256 * 1024)
    assert result.resumed_bytes == 0 and result.crc64 == seeded["crc64"]


def test_read_object_size_cap(cos: Any, client: CosClient) -> None:
    cos.put_object(SRC_BUCKET, "doc.json", b'{"a": 1}')
    assert read_object(client, ObjectRef(SRC_BUCKET, "doc.json"), max_size=8) == b'{"a": 1}'
    with pytest.raises(CosValidationError, match="max_size") as exc:
        read_object(client, ObjectRef(SRC_BUCKET, "doc.json"), max_size=7)
    assert exc.value.field == "max_size"
    assert gets(cos) == 1  # refused before any GET


def test_read_object_corruption_detected(cos: Any, client: CosClient) -> None:
    cos.put_object(SRC_BUCKET, "x", b"payload")
    cos.add_fault(FaultRule(operation="GetObject", kind="corrupt", times=1))
    with pytest.raises(CosIntegrityError):
        read_object(client, ObjectRef(SRC_BUCKET, "x"))


class Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def debug(self, msg: str, *args: Any) -> None: ...
    def warning(self, msg: str, *args: Any) -> None:
        self.lines.append(msg % args)

    def error(self, msg: str, *args: Any, **kwargs: Any) -> None: ...
    def info(self, msg: str, *args: Any) -> None:
        self.lines.append(msg % args)


def test_progress_lines_have_rate_and_eta(cos: Any, client: CosClient, tmp_path: Path) -> None:
    cos.seed_synthetic(SRC_BUCKET, "p", size=2 * MiB)
    cos.set_model(latency=0.05)
    logger = Lines()
    Downloader(client, logger=logger).download(
        ObjectRef(SRC_BUCKET, "p"), tmp_path / "p", concurrency=1, part_size=256 * 1024, progress_interval=0.0
    )
    assert any("MB/s" in line and "ETA" in line for line in logger.lines), logger.lines
    assert "took" in logger.lines[-1]


def test_cancel_stops_and_keeps_a_resumable_partial_file(cos: Any, client: CosClient, tmp_path: Path) -> None:
    from cos_provider.client.copy.errors import CopyCancelled

    cos.seed_synthetic(SRC_BUCKET, "k", size=1 * MiB)
    d = Downloader(client)
    d.cancel()
    with pytest.raises(CopyCancelled):
        d.download(ObjectRef(SRC_BUCKET, "k"), tmp_path / "k", part_size=256 * 1024)
    assert not (tmp_path / "k").exists()
    assert leftovers(tmp_path) == ["k" + PARTIAL_SUFFIX, "k" + SIDECAR_SUFFIX]


def test_missing_crc_header_is_unverified_not_an_error(
    cos: Any, client: CosClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cos_provider.client import operations as ops

    cos.put_object(SRC_BUCKET, "nocrc", b"abc")
    real = ops._object_info

    def without_crc(*args: Any) -> Any:
        import dataclasses

        return dataclasses.replace(real(*args), crc64=None)

    monkeypatch.setattr(ops, "_object_info", without_crc)
    logger = Lines()
    result = Downloader(client, logger=logger).download(ObjectRef(SRC_BUCKET, "nocrc"), tmp_path / "n")
    assert not result.verified and result.crc64 == crc64(b"abc")
    assert any("cannot be verified" in line for line in logger.lines)
