"""The admin JSON API over HTTP, and the in-process controls it mirrors."""

from __future__ import annotations

import pytest
import requests

from cos_provider.emulator import CosEmulator
from cos_provider.emulator.server import _is_loopback

from .helpers import Raw, error_code


def admin(emu: CosEmulator, method: str, path: str, **kw: object) -> requests.Response:
    return requests.request(method, f"{emu.address}/_emulator/{path}", timeout=10, **kw)  # type: ignore[arg-type]


def test_admin_round_trip(emu: CosEmulator, raw: Raw) -> None:
    name = "admin-made-1250000000"
    assert admin(emu, "POST", "buckets", json={"name": name, "region": "ap-beijing"}).status_code == 200
    assert admin(emu, "POST", "buckets", json={"name": name, "region": "ap-beijing"}).status_code == 409
    seeded = admin(
        emu, "POST", "seed", json={"bucket": name, "key": "s", "size": 5 * 1024**4, "seed": 2}
    ).json()
    assert seeded["size"] == 5 * 1024**4 and isinstance(seeded["crc64"], int)
    head = raw.request("HEAD", name, "s", region="ap-beijing")
    assert int(head.headers["x-cos-hash-crc64ecma"]) == seeded["crc64"]
    obj = admin(emu, "GET", "object", params={"bucket": name, "key": "s"}).json()
    assert obj["etag"] == seeded["etag"]
    assert admin(emu, "GET", "object", params={"bucket": name, "key": "nope"}).status_code == 404
    counters = admin(emu, "GET", "counters").json()
    assert counters["requests"]["HeadObject"]["200"] >= 1
    assert {"live_uploads", "bytes_copied", "faults_injected"} <= set(counters)


def test_admin_model_and_faults(emu: CosEmulator, raw: Raw, bucket: str) -> None:
    model = admin(emu, "PUT", "model", json={"latency": 0.0, "copy_bandwidth": 1e9}).json()
    assert model == {
        "latency": 0.0,
        "copy_bandwidth": 1e9,
        "aggregate_bandwidth": None,
        "transfer_bandwidth": None,
        "transfer_aggregate_bandwidth": None,
        "rate_limit": None,
        "rate_limit_burst": None,
        "bucket_rate_limits": {},
    }
    assert admin(emu, "PUT", "model", json={"transfer_bandwidth": 2e8}).json()["transfer_bandwidth"] == 2e8
    emu.set_model(transfer_bandwidth=None)
    assert emu.model()["copy_bandwidth"] == 1e9
    assert admin(emu, "PUT", "model", json={"speed": 1}).status_code == 400
    rules = [
        {"operation": "HeadBucket", "kind": "internal_error", "times": 1},
        {"operation": "HeadBucket", "sequence": ["ok", "slow_down"]},
    ]
    assert admin(emu, "POST", "faults", json=rules).json() == {"added": 2}
    assert len(admin(emu, "GET", "faults").json()["rules"]) == 2
    # The first rule decides the first request; the second rule's turns start after it.
    assert [raw.request("HEAD", bucket).status_code for _ in range(4)] == [500, 200, 503, 200]
    assert admin(emu, "POST", "faults", json={"operation": "GetObject", "kind": "bogus"}).status_code == 400
    assert admin(emu, "DELETE", "faults").status_code == 200
    assert emu.faults() == []


def test_admin_answers_whatever_the_host(emu: CosEmulator) -> None:
    resp = admin(
        emu, "GET", "health", headers={"Host": "somebucket-1250000000.cos.ap-guangzhou.myqcloud.com"}
    )
    assert resp.json() == {"ok": True}
    assert admin(emu, "GET", "nothing-here").status_code == 404
    assert (
        admin(emu, "POST", "seed", json={"bucket": "missing-1250000000", "key": "k", "size": 1}).status_code
        == 400
    )


def test_signed_requests_to_emulator_prefix_are_object_requests(
    emu: CosEmulator, raw: Raw, bucket: str
) -> None:
    assert raw.put(bucket, "_emulator/seed", b"an object").status_code == 200
    assert raw.request("GET", bucket, "_emulator/seed").content == b"an object"
    resp = raw.request("GET", bucket, "_emulator/counters")
    assert (resp.status_code, error_code(resp)) == (404, "NoSuchKey")


def test_loopback_only() -> None:
    assert _is_loopback("127.0.0.1") and _is_loopback("127.8.0.3") and _is_loopback("::1")
    assert not _is_loopback("10.0.0.5") and not _is_loopback("192.168.1.1")


def test_reset_drops_everything() -> None:
    with CosEmulator(credentials={"AKIDX": "k"}) as emu:
        emu.create_bucket("r-1250000000")
        emu.put_object("r-1250000000", "k", b"v")
        admin(emu, "GET", "health")
        assert admin(emu, "POST", "reset").json() == {"reset": True}
        assert emu.head("r-1250000000", "k") is None
        assert emu.counters()["requests"] == {}
        with pytest.raises(KeyError):
            emu.get_object_bytes("r-1250000000", "k")


def test_stop_closes_keepalive_connections_and_restart_works() -> None:
    emu = CosEmulator(credentials={"AKIDX": "k"}).start()
    session = requests.Session()
    assert session.get(f"{emu.address}/_emulator/health", timeout=5).json() == {"ok": True}
    address = emu.address
    emu.stop()
    with pytest.raises(requests.exceptions.ConnectionError):
        session.get(f"{address}/_emulator/health", timeout=5)
    emu.start()
    try:
        assert requests.get(f"{emu.address}/_emulator/health", timeout=5).json() == {"ok": True}
    finally:
        emu.stop()


def test_ipv6_loopback() -> None:
    import socket

    if not socket.has_ipv6:
        pytest.fail("this machine has no IPv6 loopback")
    with CosEmulator(host="::1", credentials={"AKIDX": "k"}) as emu:
        assert emu.address.startswith("http://[::1]:")
        assert requests.get(f"{emu.address}/_emulator/health", timeout=5).json() == {"ok": True}
