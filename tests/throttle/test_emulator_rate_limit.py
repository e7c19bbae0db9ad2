"""The emulator's per-bucket request-rate limit: token buckets, 503 SlowDown as COS shapes it, knobs."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from cos_provider.emulator.__main__ import _parser, build
from cos_provider.emulator.model import ModelSettings, PerformanceModel
from cos_provider.emulator.ratelimit import RateLimiter, RateLimitSettings
from tests.conftest import DST_BUCKET, REGION, SECRET_ID, SECRET_KEY, SRC_BUCKET
from tests.emulator.helpers import Raw, xml


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_burst_then_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(RateLimitSettings(rate=10, burst=3), clock=clock)
    assert [limiter.admit("b") for _ in range(4)] == [True, True, True, False]
    clock.now += 0.1  # one token back
    assert [limiter.admit("b") for _ in range(2)] == [True, False]
    clock.now += 10  # refills to the burst, no further
    assert [limiter.admit("b") for _ in range(4)] == [True, True, True, False]
    assert limiter.snapshot() == {"b": 3}


def test_buckets_are_limited_separately_and_overrides_win() -> None:
    clock = Clock()
    limiter = RateLimiter(RateLimitSettings(rate=100, burst=1, buckets={"slow": 1}), clock=clock)
    assert limiter.admit("a") and not limiter.admit("a")
    assert limiter.admit("b")  # its own bucket of tokens
    clock.now += 0.5
    assert limiter.admit("a")  # 100/s: back after 10 ms
    assert not limiter.admit("slow") or not limiter.admit("slow")  # 1/s: no second token in 0.5 s
    assert limiter.admit(None)  # GetService: no bucket, never limited


def test_default_burst_is_a_tenth_of_a_second() -> None:
    clock = Clock()
    limiter = RateLimiter(RateLimitSettings(rate=500), clock=clock)
    assert sum(limiter.admit("b") for _ in range(80)) == 50
    unlimited = RateLimiter(RateLimitSettings(), clock=clock)
    assert all(unlimited.admit("b") for _ in range(10_000))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"rate_limit": 0}, "rate_limit must be > 0"),
        ({"rate_limit": 5, "rate_limit_burst": 0.5}, "rate_limit_burst must be >= 1"),
        ({"bucket_rate_limits": {"b": -1}}, "bucket_rate_limits['b']"),
    ],
)
def test_bad_settings_are_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        ModelSettings(**fields)


def test_model_update_refills_the_buckets() -> None:
    clock = Clock()
    model = PerformanceModel(ModelSettings(rate_limit=1, rate_limit_burst=1), clock=clock)
    assert model.admit("b") and not model.admit("b")
    model.update(ModelSettings(rate_limit=1, rate_limit_burst=2))
    assert model.admit("b") and model.admit("b") and not model.admit("b")
    model.update(ModelSettings())
    assert all(model.admit("b") for _ in range(100))


def test_over_the_limit_is_503_slowdown_and_nothing_happens(cos: Any) -> None:
    # 0.001 requests/s: no token comes back during the test, so exactly the burst passes.
    cos.set_model(bucket_rate_limits={DST_BUCKET: 0.001}, rate_limit_burst=2)
    raw = Raw(cos.address, SECRET_ID, SECRET_KEY)
    assert raw.put(DST_BUCKET, "a", b"1", region=REGION).status_code == 200
    assert raw.put(DST_BUCKET, "b", b"2", region=REGION).status_code == 200
    refused = raw.put(DST_BUCKET, "c", b"3", region=REGION)
    assert refused.status_code == 503
    assert refused.headers["Content-Type"] == "application/xml"
    assert refused.headers["x-cos-request-id"] and refused.headers["x-cos-trace-id"]
    body = xml(refused)
    assert body.findtext("Code") == "SlowDown"
    assert body.findtext("Message") == "Please reduce your request rate."
    assert body.findtext("Resource") and body.findtext("RequestId") == refused.headers["x-cos-request-id"]
    assert cos.head(DST_BUCKET, "c") is None  # a refused request does no work
    assert raw.put(SRC_BUCKET, "c", b"3", region=REGION).status_code == 200  # other buckets are not limited
    head = raw.request("HEAD", DST_BUCKET, "a", region=REGION)
    assert head.status_code == 503 and head.content == b""
    counters = cos.counters()
    assert counters["slowdowns"] == {"total": 2, "by_bucket": {DST_BUCKET: 2}}
    assert counters["requests"]["PutObject"]["503"] == 1
    cos.reset()
    assert cos.counters()["slowdowns"]["total"] == 0


def test_admin_knob_sets_and_lifts_the_limit(cos: Any) -> None:
    url = f"{cos.address}/_emulator/model"
    model = requests.put(url, json={"rate_limit": 0.001, "rate_limit_burst": 1}, timeout=10).json()
    assert model["rate_limit"] == 0.001 and model["rate_limit_burst"] == 1
    raw = Raw(cos.address, SECRET_ID, SECRET_KEY)
    assert raw.put(SRC_BUCKET, "k", b"v", region=REGION).status_code == 200
    assert raw.put(SRC_BUCKET, "k", b"v", region=REGION).status_code == 503
    assert requests.get(f"{cos.address}/_emulator/health", timeout=10).status_code == 200  # admin: never
    bad = requests.put(url, json={"rate_limit": -1}, timeout=10)
    assert bad.status_code == 400 and "rate_limit" in bad.json()["error"]
    requests.put(url, json={"rate_limit": None, "rate_limit_burst": None}, timeout=10)
    assert raw.put(SRC_BUCKET, "k", b"v", region=REGION).status_code == 200
    seeded = requests.post(
        f"{cos.address}/_emulator/seed-many",
        json={"bucket": SRC_BUCKET, "prefix": "bulk/", "count": 1000, "size": 10},
        timeout=30,
    ).json()
    assert seeded["count"] == 1000 and seeded["first"] == "bulk/00000000"
    assert cos.head(SRC_BUCKET, "bulk/00000999")["size"] == 10


def test_cli_flags() -> None:
    args = _parser().parse_args(
        ["--rate-limit", "500", "--rate-limit-burst", "20", "--bucket-rate-limit", "hot-1250000000=5"]
    )
    emu = build(args)
    assert emu.model()["rate_limit"] == 500 and emu.model()["rate_limit_burst"] == 20
    assert emu.model()["bucket_rate_limits"] == {"hot-1250000000": 5.0}
    with pytest.raises(SystemExit, match="NAME-APPID=RATE"):
        build(_parser().parse_args(["--bucket-rate-limit", "hot"]))
    with pytest.raises(SystemExit, match="rate_limit must be > 0"):
        build(_parser().parse_args(["--rate-limit", "-3"]))
