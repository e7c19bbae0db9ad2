"""A 48.8 TB object (10,000 x 5 GB parts) copied part by part, in bounded memory, CRC64 verified."""

from __future__ import annotations

import gc
import threading
from concurrent.futures import ThreadPoolExecutor

import psutil

from cos_provider.client import limits
from cos_provider.client.copy.multipart import combined_crc64
from cos_provider.client.copy.plan import CopyPlan
from cos_provider.emulator import CosEmulator

from .helpers import Raw, source_of, xml

MB = 1024 * 1024


def test_copy_48_8_tb_part_by_part(emu: CosEmulator, new_bucket: object) -> None:
    src = new_bucket(region="ap-guangzhou")  # type: ignore[operator]
    dst = new_bucket(region="ap-guangzhou")  # type: ignore[operator]
    gc.collect()
    rss_before = psutil.Process().memory_info().rss

    info = emu.seed_synthetic(src, "huge.bin", size=limits.MAX_OBJECT_SIZE, seed=48)
    assert info["size"] == limits.MAX_PARTS * limits.MAX_PART_SIZE
    raw = Raw(emu.address)
    upload = raw.initiate(dst, "huge-copy.bin")
    source = source_of(src, "huge.bin")
    local = threading.local()

    def copy_part(number: int) -> tuple[int, str, int]:
        if not hasattr(local, "raw"):
            local.raw = Raw(emu.address)
        first = (number - 1) * limits.MAX_PART_SIZE
        last = first + limits.MAX_PART_SIZE - 1
        resp = local.raw.part_copy(dst, "huge-copy.bin", upload, number, source, f"bytes={first}-{last}")
        assert resp.status_code == 200, resp.content
        return number, xml(resp).findtext("ETag") or "", int(resp.headers["x-cos-hash-crc64ecma"])

    with ThreadPoolExecutor(16) as pool:
        parts = sorted(pool.map(copy_part, range(1, limits.MAX_PARTS + 1)))
    assert len(parts) == limits.MAX_PARTS
    # The check the engine makes before Complete: its fold of the part CRC64s is the source's.
    plan = CopyPlan(limits.MAX_OBJECT_SIZE, limits.MAX_PART_SIZE)
    assert combined_crc64(plan, {n: crc for n, _, crc in parts}) == info["crc64"]

    done = raw.complete(dst, "huge-copy.bin", upload, [(n, etag) for n, etag, _ in parts], timeout=300)
    assert done.status_code == 200, done.content
    assert int(done.headers["x-cos-hash-crc64ecma"]) == info["crc64"]
    head = raw.request("HEAD", dst, "huge-copy.bin")
    assert int(head.headers["Content-Length"]) == limits.MAX_OBJECT_SIZE
    assert int(head.headers["x-cos-hash-crc64ecma"]) == info["crc64"]
    assert head.headers["ETag"].endswith(f'-{limits.MAX_PARTS}"')
    # Spot-check bytes around a part boundary deep inside the object.
    edge = 7777 * limits.MAX_PART_SIZE
    assert emu.get_object_bytes(dst, "huge-copy.bin", start=edge - 8, end=edge + 8) == emu.get_object_bytes(
        src, "huge.bin", start=edge - 8, end=edge + 8
    )
    assert emu.live_uploads(dst) == 0

    gc.collect()
    growth = psutil.Process().memory_info().rss - rss_before
    print(f"\nRSS growth during the 48.8 TB copy: {growth / MB:.1f} MB")
    assert growth < 200 * MB
