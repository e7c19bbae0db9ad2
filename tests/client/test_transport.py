"""The retrying transport over real HTTP against the emulator's fault injection."""

from __future__ import annotations

import logging
import re
import time

import pytest
import tenacity

from cos_provider.client.client import CosClient
from cos_provider.client.credentials import Credentials
from cos_provider.client.endpoints import Endpoint
from cos_provider.client.errors import CosServiceError, CosTransportError
from cos_provider.client.retry import RetryPolicy
from cos_provider.client.transport import TransportConfig
from cos_provider.emulator import CosEmulator, FaultRule
from tests.conftest import APP_ID, DST_BUCKET, REGION, SECRET_ID, SECRET_KEY, SRC_BUCKET
from tests.wire.proxy import RecordingProxy

FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.02)


def requests_for(emu, operation: str) -> dict[str, int]:
    return dict(emu.counters()["requests"].get(operation, {}))


def injected(emu, operation: str) -> dict[str, int]:
    """Faults the emulator injected into ``operation``, by kind."""
    return dict(emu.counters()["faults_injected"].get(operation, {}))


def settled(emu) -> dict:
    """The counters once every request the client gave up on has been answered too."""
    deadline = time.monotonic() + 10
    while emu.counters()["in_flight"]:
        assert time.monotonic() < deadline, "requests still in flight"
        time.sleep(0.005)
    return emu.counters()


def make_client(address: str, credentials: Credentials | None = None, **config) -> CosClient:
    config.setdefault("retry", FAST)
    return CosClient(
        credentials or Credentials(SECRET_ID, SECRET_KEY),
        Endpoint(region=REGION, scheme="http", connect_address=address),
        TransportConfig(**config),
        app_id=APP_ID,
    )


@pytest.fixture
def fast_client(cos):
    with make_client(cos.address) as c:
        yield c


@pytest.mark.parametrize("kind", ["internal_error", "slow_down", "reset"])
def test_transient_failures_are_retried(cos, fast_client, kind):
    cos.put_object(SRC_BUCKET, "k", b"hello")
    cos.add_fault(FaultRule(operation="HeadObject", kind=kind, times=2))
    info = fast_client.head_object("src", "k")
    assert info.size == 5
    assert injected(cos, "HeadObject") == {kind: 2}
    assert sum(requests_for(cos, "HeadObject").values()) == 3  # the fault twice, then the answer


def test_gives_up_after_max_attempts(cos, fast_client):
    cos.put_object(SRC_BUCKET, "k", b"hello")
    cos.add_fault(FaultRule(operation="HeadObject", kind="internal_error", rate=1.0))
    with pytest.raises(CosServiceError) as info:
        fast_client.head_object("src", "k")
    assert info.value.status == 500
    assert injected(cos, "HeadObject") == {"internal_error": 4}
    assert requests_for(cos, "HeadObject") == {"500": 4}


def test_client_errors_are_not_retried(cos, fast_client):
    with pytest.raises(CosServiceError) as info:
        fast_client.head_object("src", "missing")
    assert info.value.status == 404
    assert requests_for(cos, "HeadObject") == {"404": 1}


def test_auth_failure_is_not_retried_and_names_the_code(cos):
    with (
        make_client(cos.address, Credentials(SECRET_ID, "not-the-key")) as bad,
        pytest.raises(CosServiceError) as info,
    ):
        bad.head_object("src", "k")
    assert info.value.status == 403
    assert info.value.is_auth_error
    assert "not-the-key" not in str(info.value)
    assert requests_for(cos, "HeadObject") == {"403": 1}


def test_error_inside_200_is_raised_and_transient_ones_retried(cos, fast_client):
    cos.put_object(SRC_BUCKET, "a", b"data")
    cos.add_fault(FaultRule(operation="CopyObject", kind="error_200", times=1))
    result = fast_client.copy_object(fast_client.ref("src", "a"), fast_client.ref("dst", "b"))
    assert result.etag
    assert injected(cos, "CopyObject") == {"error_200": 1}
    assert requests_for(cos, "CopyObject") == {"200": 2}  # the 200 <Error>, then the copy
    assert cos.get_object_bytes(DST_BUCKET, "b") == b"data"


def test_permanent_error_inside_200_fails(cos, fast_client):
    cos.put_object(SRC_BUCKET, "a", b"data")
    cos.add_fault(FaultRule(operation="CopyObject", kind="error_200", rate=1.0))
    with pytest.raises(CosServiceError) as info:
        fast_client.copy_object(fast_client.ref("src", "a"), fast_client.ref("dst", "b"))
    assert info.value.status == 200
    assert info.value.code == "InternalError"
    assert info.value.request_id


def test_read_timeout_is_retried(cos):
    cos.put_object(SRC_BUCKET, "k", b"x")
    cos.add_fault(FaultRule(operation="HeadObject", kind="slow", delay=0.5, times=1))
    with make_client(
        cos.address, read_timeout=0.2, retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.01)
    ) as c:
        assert c.head_object("src", "k").size == 1
    assert injected(cos, "HeadObject") == {"slow": 1}
    assert settled(cos)["requests"]["HeadObject"] == {"200": 2}  # the held one is answered late


def test_read_timeout_is_retried_then_reported(cos):
    cos.put_object(SRC_BUCKET, "k", b"x")
    cos.add_fault(FaultRule(operation="HeadObject", kind="slow", delay=0.5, rate=1.0))
    with (
        make_client(
            cos.address, read_timeout=0.2, retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.01)
        ) as c,
        pytest.raises(CosTransportError, match="timed out"),
    ):
        c.head_object("src", "k")
    assert injected(cos, "HeadObject") == {"slow": 2}  # every attempt was held past the timeout
    assert settled(cos)["requests"]["HeadObject"] == {"200": 2}


def test_every_attempt_is_signed_afresh(cos):
    cos.put_object(SRC_BUCKET, "k", b"x")
    cos.add_fault(FaultRule(operation="HeadObject", kind="internal_error", times=2))
    with RecordingProxy(cos.port) as proxy, make_client(proxy.address) as c:
        ticks = iter(range(1_000))
        # A clock that moves one second per signature, still inside the server's window.
        c.transport._now = lambda: time.time() + next(ticks)
        c.head_object("src", "k")
    times = [r.authorization.sign_time for r in proxy.requests]
    assert len(times) == 3
    assert len(set(times)) == 3


def test_backoff_is_full_jitter_within_bounds():
    policy = RetryPolicy(max_attempts=6, base_delay=0.5, max_delay=3.0)
    wait = policy.retrying().wait
    for attempt in range(1, 6):
        state = tenacity.RetryCallState(retry_object=policy.retrying(), fn=None, args=(), kwargs={})
        state.attempt_number = attempt
        samples = [wait(state) for _ in range(300)]
        ceiling = min(3.0, 0.5 * 2 ** (attempt - 1))
        assert all(0 <= s <= ceiling for s in samples)
        assert max(samples) > ceiling * 0.8  # the whole window is used, not a fixed delay
        assert min(samples) < ceiling * 0.2


def test_log_lines_carry_request_id(cos, fast_client, caplog):
    caplog.set_level(logging.DEBUG, logger="cos_provider")
    cos.put_object(SRC_BUCKET, "k", b"x")
    cos.add_fault(FaultRule(operation="HeadObject", kind="slow_down", times=1))
    fast_client.head_object("src", "k")
    request_lines = [r.getMessage() for r in caplog.records if r.name.startswith("cos_provider")]
    assert len(request_lines) >= 3  # first try, the retry warning, the second try
    for line in request_lines:
        assert re.search(r"request.id[=: ]+\S{6,}", line), line
    assert SECRET_KEY not in caplog.text


def test_temporary_credentials_send_signed_token():
    creds = Credentials("AKIDtemporary00000000000000000000", "tmp-secret", token="session-token-123")
    with CosEmulator(temporary_credentials={creds.secret_id: (creds.secret_key, creds.token)}) as emu:
        emu.create_bucket(SRC_BUCKET, region=REGION)
        emu.put_object(SRC_BUCKET, "k", b"x")
        with make_client(emu.address, creds) as c:
            assert c.head_object("src", "k").size == 1
        wrong = Credentials(creds.secret_id, creds.secret_key, token="stale-token")
        with make_client(emu.address, wrong) as c, pytest.raises(CosServiceError) as info:
            c.head_object("src", "k")
        assert info.value.status == 403
        assert "stale-token" not in str(info.value)
        no_token = Credentials(creds.secret_id, creds.secret_key)
        with make_client(emu.address, no_token) as c, pytest.raises(CosServiceError):
            c.head_object("src", "k")
