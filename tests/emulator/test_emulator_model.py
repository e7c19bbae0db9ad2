"""The performance model, with a recorded clock: no test here waits on wall time."""

from __future__ import annotations

import pytest

from cos_provider.emulator import CosEmulator, ModelSettings, ideal_copy_time
from cos_provider.emulator.model import PerformanceModel, ideal_download_time, ideal_upload_time

from .helpers import SECRET_ID, SECRET_KEY, Raw, source_of

MiB = 1024 * 1024


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def test_copy_bandwidth_per_request() -> None:
    clock = FakeClock()
    model = PerformanceModel(ModelSettings(copy_bandwidth=100.0), clock=clock.time, sleep=clock.sleep)
    model.transfer(250)
    assert clock.sleeps == [pytest.approx(2.5)]


def test_aggregate_cap_is_a_fifo_pipe() -> None:
    clock = FakeClock()
    model = PerformanceModel(ModelSettings(copy_bandwidth=100.0, aggregate_bandwidth=200.0), clock=clock.time)
    # Four copies of 100 B start together: each alone takes 1 s, the pipe allows 2 copies per second.
    finishes = [model.copy_finish(100, clock.now) - clock.now for _ in range(4)]
    assert finishes == [pytest.approx(x) for x in (1.0, 1.0, 1.5, 2.0)]
    clock.now += 10  # an idle pipe does not bank capacity
    assert model.copy_finish(100, clock.now) - clock.now == pytest.approx(1.0)


def test_no_bandwidth_means_no_wait() -> None:
    clock = FakeClock()
    model = PerformanceModel(ModelSettings(), clock=clock.time, sleep=clock.sleep)
    model.transfer(10**12)
    model.request_latency()
    assert clock.sleeps == []


def test_received_body_is_paced_from_its_arrival() -> None:
    clock = FakeClock()
    model = PerformanceModel(ModelSettings(transfer_bandwidth=100.0), clock=clock.time, sleep=clock.sleep)
    # 250 B at 100 B/s take 2.5 s; the socket already took 1 s of them.
    model.receive(250, since=clock.now - 1.0)
    assert clock.sleeps == [pytest.approx(1.5)]
    clock.sleeps.clear()
    model.receive(250, since=clock.now - 3.0)  # the real socket was slower than the model
    assert clock.sleeps == []


def test_transfer_pipe_is_apart_from_the_copy_pipe() -> None:
    clock = FakeClock()
    s = ModelSettings(
        copy_bandwidth=100.0,
        aggregate_bandwidth=100.0,
        transfer_bandwidth=100.0,
        transfer_aggregate_bandwidth=200.0,
    )
    model = PerformanceModel(s, clock=clock.time)
    assert model.copy_finish(100, clock.now) - clock.now == pytest.approx(1.0)
    # The copy did not use the transfer pipe: two bodies fit in its first second.
    finishes = [model.body_finish(100, clock.now) - clock.now for _ in range(3)]
    assert finishes == [pytest.approx(x) for x in (1.0, 1.0, 1.5)]


def test_sent_body_is_released_steadily() -> None:
    clock = FakeClock()

    def sleep(seconds: float) -> None:
        clock.sleeps.append(seconds)
        clock.now += seconds

    model = PerformanceModel(ModelSettings(transfer_bandwidth=100.0), clock=clock.time, sleep=sleep)
    start = clock.now
    out = []
    for chunk in model.send(iter([b"x" * 100, b"y" * 100, b"z" * 50]), 250):
        out.append((chunk[:1], clock.now - start))
    # Each chunk leaves when the model has sent it: after 1 s, 2 s and 2.5 s.
    assert out == [(b"x", pytest.approx(1.0)), (b"y", pytest.approx(2.0)), (b"z", pytest.approx(2.5))]
    unlimited = PerformanceModel(ModelSettings(), clock=clock.time, sleep=sleep)
    clock.sleeps.clear()
    assert b"".join(unlimited.send(iter([b"ab", b"c"]), 3)) == b"abc"
    assert clock.sleeps == []


def test_ideal_transfer_times() -> None:
    s = ModelSettings(
        latency=0.1, copy_bandwidth=1.0, transfer_bandwidth=1000.0, transfer_aggregate_bandwidth=2000.0
    )
    # 4 parts of 1000 B on 2 workers: two waves of 1.1 s, plus Initiate and Complete (the copy bandwidth is not used).
    assert ideal_upload_time([1000] * 4, 2, s) == pytest.approx(2.2 + 0.2)
    # On 4 workers the aggregate pipe binds: 4000 B at 2000 B/s after one latency.
    assert ideal_upload_time([1000] * 4, 4, s) == pytest.approx(0.1 + 2.0 + 0.2)
    # A download has one HEAD before its ranges.
    assert ideal_download_time([1000] * 4, 2, s) == pytest.approx(2.2 + 0.1)
    assert ideal_upload_time([500], 1, s, extra_requests=0) == pytest.approx(0.6)
    with pytest.raises(ValueError):
        ideal_download_time([1], 0, s)
    with pytest.raises(ValueError):
        ModelSettings(transfer_bandwidth=0)


def test_ideal_copy_time() -> None:
    s = ModelSettings(latency=0.1, copy_bandwidth=1000.0)
    # 4 parts of 1000 B on 2 workers: two waves of 1.1 s, plus Initiate and Complete.
    assert ideal_copy_time([1000] * 4, 2, s) == pytest.approx(2.2 + 0.2)
    capped = ModelSettings(latency=0.1, copy_bandwidth=1000.0, aggregate_bandwidth=1000.0)
    assert ideal_copy_time([1000] * 4, 4, capped) == pytest.approx(0.1 + 4.0 + 0.2)
    assert ideal_copy_time([], 4, s) == pytest.approx(0.2)
    with pytest.raises(ValueError):
        ideal_copy_time([1], 0, s)
    with pytest.raises(ValueError):
        ModelSettings(copy_bandwidth=0)


def test_emulator_applies_latency_and_copy_time() -> None:
    with CosEmulator(credentials={SECRET_ID: SECRET_KEY}, latency=0.25, copy_bandwidth=2 * MiB) as emu:
        clock = FakeClock()
        emu.core.model._sleep = clock.sleep
        emu.create_bucket("m-1250000000")
        emu.seed_synthetic("m-1250000000", "src", size=8 * MiB)
        raw = Raw(emu.address)
        upload = raw.initiate("m-1250000000", "out")
        clock.sleeps.clear()
        resp = raw.part_copy(
            "m-1250000000", "out", upload, 1, source_of("m-1250000000", "src"), f"bytes=0-{3 * MiB - 1}"
        )
        assert resp.status_code == 200
        assert clock.sleeps == [pytest.approx(1.5), pytest.approx(0.25)]
        clock.sleeps.clear()
        raw.request("HEAD", "m-1250000000", "src")
        assert clock.sleeps == [pytest.approx(0.25)]
        emu.set_model(latency=0.0)
        assert emu.model() == {
            "latency": 0.0,
            "copy_bandwidth": 2 * MiB,
            "aggregate_bandwidth": None,
            "transfer_bandwidth": None,
            "transfer_aggregate_bandwidth": None,
            "rate_limit": None,
            "rate_limit_burst": None,
            "bucket_rate_limits": {},
        }
        emu.set_model(copy_bandwidth=None)
        clock.sleeps.clear()
        raw.part_copy("m-1250000000", "out", upload, 1, source_of("m-1250000000", "src"), None)
        assert clock.sleeps == []


def test_emulator_paces_put_part_and_get_bodies() -> None:
    with CosEmulator(credentials={SECRET_ID: SECRET_KEY}, transfer_bandwidth=4 * MiB) as emu:
        clock = FakeClock()
        emu.core.model._sleep = clock.sleep
        emu.create_bucket("t-1250000000")
        raw = Raw(emu.address)
        assert raw.put("t-1250000000", "obj", b"a" * (2 * MiB)).status_code == 200
        # Half a second at 4 MiB/s, less the moments the loopback socket took.
        assert len(clock.sleeps) == 1 and 0.3 < clock.sleeps[0] <= 0.5
        upload = raw.initiate("t-1250000000", "mp")
        clock.sleeps.clear()
        resp = raw.request(
            "PUT", "t-1250000000", "mp", params={"partNumber": "1", "uploadId": upload}, body=b"b" * MiB
        )
        assert resp.status_code == 200
        assert len(clock.sleeps) == 1 and 0.1 < clock.sleeps[0] <= 0.25
        clock.sleeps.clear()
        got = raw.request("GET", "t-1250000000", "obj")
        assert got.content == b"a" * (2 * MiB)
        # The GET body is released chunk by chunk as the model sends it, the last at 0.5 s.
        assert len(clock.sleeps) >= 2 and max(clock.sleeps) == pytest.approx(0.5, abs=0.1)
        emu.set_model(transfer_bandwidth=None)
        clock.sleeps.clear()
        raw.request("GET", "t-1250000000", "obj")
        assert clock.sleeps == []
