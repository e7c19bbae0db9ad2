"""The performance model, with a recorded clock: no test here waits on wall time."""

from __future__ import annotations

import pytest

from cos_provider.emulator import CosEmulator, ModelSettings, ideal_copy_time
from cos_provider.emulator.model import PerformanceModel

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
            "rate_limit": None,
            "rate_limit_burst": None,
            "bucket_rate_limits": {},
        }
        emu.set_model(copy_bandwidth=None)
        clock.sleeps.clear()
        raw.part_copy("m-1250000000", "out", upload, 1, source_of("m-1250000000", "src"), None)
        assert clock.sleeps == []
