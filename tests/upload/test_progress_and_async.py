"""Upload progress lines (on a fake clock) and the async transport's streamed file-range bodies."""

from __future__ import annotations

import asyncio
import itertools
import re
import threading
from typing import Any

from cos_provider.client import operations as ops
from cos_provider.client.aio import AsyncCosClient
from cos_provider.client.client import CosClient
from cos_provider.client.crc64 import crc64
from cos_provider.client.credentials import Credentials
from cos_provider.client.endpoints import Endpoint
from cos_provider.client.protocol import FileRange
from cos_provider.client.retry import RetryPolicy
from cos_provider.client.transport import TransportConfig
from cos_provider.client.upload import Uploader, UploadOptions
from cos_provider.emulator import FaultRule
from tests.conftest import APP_ID, DST_BUCKET, REGION, SECRET_ID, SECRET_KEY
from tests.upload.test_upload import file_crc, write_random

MiB = 1024 * 1024
FAST = TransportConfig(retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05))


def endpoint(cos: Any) -> Endpoint:
    return Endpoint(region=REGION, scheme="http", connect_address=cos.address)


class FakeClock:
    """Seconds that pass only when a part is answered: 3 s of "transfer" per Upload Part."""

    SECONDS_PER_PART = 3.0

    def __init__(self, cos: Any) -> None:
        self.cos = cos

    def __call__(self) -> float:
        answered = self.cos.counters()["requests"].get("UploadPart", {}).get("200", 0)
        return self.SECONDS_PER_PART * answered


class Lines:
    """A logger that notes the fake time each progress line was written at."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.lines: list[tuple[float, str]] = []
        self.lock = threading.Lock()

    def info(self, msg: str, *args: Any) -> None:
        with self.lock:
            self.lines.append((self.clock(), msg % args))

    def debug(self, msg: str, *args: Any) -> None: ...
    def warning(self, msg: str, *args: Any) -> None: ...
    def error(self, msg: str, *args: Any, **kwargs: Any) -> None: ...


def test_progress_lines_every_ten_seconds_with_rate_and_eta(cos: Any, tmp_path: Any) -> None:
    """12 parts at 3 fake seconds each: a line with MB/s and ETA about every 10 s, then one with the total time."""
    path = write_random(tmp_path / "p.bin", 12 * MiB)
    clock = FakeClock(cos)
    logger = Lines(clock)
    with CosClient(Credentials(SECRET_ID, SECRET_KEY), endpoint(cos), FAST, app_id=APP_ID) as client:
        result = Uploader(client, logger=logger, clock=clock).upload(
            str(path),
            client.ref(DST_BUCKET, "p.bin"),
            UploadOptions(multipart_threshold=MiB, part_size=MiB, concurrency=1),
        )
    assert result.parts == 12 and result.crc64 == file_crc(path)
    progress = [(t, line) for t, line in logger.lines if " parts, " in line]
    *running, (_, final) = progress
    start = FakeClock.SECONDS_PER_PART  # the resume witness was answered before the reporter started
    assert len(running) >= 2, progress
    times = [t for t, _ in running]
    assert times[0] >= start + 10
    assert all(later - earlier >= 10 for earlier, later in itertools.pairwise(times)), times
    assert times[-1] <= start + 12 * FakeClock.SECONDS_PER_PART
    for _, line in running:
        assert re.search(r"/12 parts, .* \(\d+%\), \d+\.\d MB/s, ETA \S+", line), line
        assert f"cos://{DST_BUCKET}/p.bin" in line
    assert "12/12 parts" in final and "(100%)" in final and "took" in final and "ETA" not in final


def run(cos: Any, scenario: Any) -> Any:
    async def main() -> Any:
        async with AsyncCosClient(
            Credentials(SECRET_ID, SECRET_KEY), endpoint(cos), FAST, app_id=APP_ID
        ) as client:
            return await scenario(client)

    return asyncio.run(main())


def test_async_put_streams_a_file_range(cos: Any, tmp_path: Any) -> None:
    """A FileRange body goes out chunk by chunk from its offset: exactly its bytes, verified by CRC64."""
    path = write_random(tmp_path / "a.bin", 3 * MiB + 5)
    want = path.read_bytes()[MiB + 3 : MiB + 3 + 2 * MiB]

    async def scenario(client: AsyncCosClient) -> Any:
        body = FileRange(str(path), MiB + 3, 2 * MiB)
        return await client.execute(ops.put_object(client.ref(DST_BUCKET, "a.bin"), body))

    put = run(cos, scenario)
    assert cos.get_object_bytes(DST_BUCKET, "a.bin") == want
    assert put.crc64 == crc64(want)


def test_async_retry_sends_the_file_range_again_from_its_start(cos: Any, tmp_path: Any) -> None:
    """The first attempt is answered 500 after its body was read; the retry must stream the whole range anew."""
    path = write_random(tmp_path / "b.bin", 2 * MiB)
    cos.add_fault(FaultRule(operation="PutObject", kind="internal_error", times=1))
    try:

        async def scenario(client: AsyncCosClient) -> Any:
            body = FileRange(str(path), 0, 2 * MiB)
            return await client.execute(ops.put_object(client.ref(DST_BUCKET, "b.bin"), body))

        put = run(cos, scenario)
    finally:
        cos.clear_faults()
    assert cos.counters()["requests"]["PutObject"] == {"500": 1, "200": 1}
    assert cos.get_object_bytes(DST_BUCKET, "b.bin") == path.read_bytes()
    assert put.crc64 == file_crc(path)
