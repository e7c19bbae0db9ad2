"""At least 64 requests in flight at once, and consistent state under concurrency."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from cos_provider.emulator import CosEmulator

from .helpers import SECRET_ID, SECRET_KEY, Raw, xml


def test_64_concurrent_requests() -> None:
    with CosEmulator(credentials={SECRET_ID: SECRET_KEY}, latency=2.0) as emu:
        emu.create_bucket("c-1250000000")
        barrier = threading.Barrier(64)

        def one(_: int) -> int:
            raw = Raw(emu.address)
            barrier.wait(timeout=30)
            return raw.request("HEAD", "c-1250000000").status_code

        with ThreadPoolExecutor(64) as pool:
            codes = list(pool.map(one, range(64)))
        assert codes == [200] * 64
        counters = emu.counters()
        assert counters["max_in_flight"] >= 64
        assert counters["requests"]["HeadBucket"] == {"200": 64}


def test_concurrent_writes_are_all_kept(emu: CosEmulator, bucket: str) -> None:
    local = threading.local()

    def put(i: int) -> int:
        if not hasattr(local, "raw"):
            local.raw = Raw(emu.address)
        return int(local.raw.put(bucket, f"k{i:04d}", str(i).encode()).status_code)

    with ThreadPoolExecutor(16) as pool:
        assert set(pool.map(put, range(400))) == {200}
    raw = Raw(emu.address)
    keys: list[str] = []
    marker = ""
    while True:
        root = xml(raw.request("GET", bucket, params={"marker": marker, "max-keys": "150"}))
        keys += [c.findtext("Key") or "" for c in root.findall("Contents")]
        if root.findtext("IsTruncated") != "true":
            break
        marker = root.findtext("NextMarker") or ""
    assert keys == [f"k{i:04d}" for i in range(400)]
