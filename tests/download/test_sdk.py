"""The official SDK (test-only oracle): its ``download_file`` works against the emulator unmodified."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cos_provider.client.crc64 import crc64
from tests.conftest import SRC_BUCKET, sdk_client

MiB = 1024 * 1024


def test_sdk_download_file_ranged_with_crc(cos: Any, tmp_path: Path) -> None:
    seeded = cos.seed_synthetic(SRC_BUCKET, "sdk/big.bin", size=3 * MiB + 17)
    sdk = sdk_client(cos.address)
    target = tmp_path / "big.bin"
    sdk.download_file(
        Bucket=SRC_BUCKET,
        Key="sdk/big.bin",
        DestFilePath=str(target),
        PartSize=1,
        MAXThread=3,
        EnableCRC=True,
        DumpRecordDir=str(tmp_path / "records"),
    )
    assert target.stat().st_size == seeded["size"]
    assert crc64(target.read_bytes()) == seeded["crc64"]
    assert cos.counters()["requests"]["GetObject"]["206"] == 4
