"""A certificate that does not verify fails at once, clearly, and is not retried.

A wrong CA is a setting, not a transient fault: the server's certificate and
the client's trusted CAs are the same on the next attempt. So the transports
raise a :class:`CosTransportError` that says certificate verification failed
for which host, and the retry policy (which retries connection errors) lets
it through after one attempt. The emulator counts the TCP connections it
accepted, which is the number of attempts whatever the client believes.
"""

from __future__ import annotations

import pytest

from cos_provider.client.errors import CosTransportError
from cos_provider.emulator import CosEmulator
from cos_provider.emulator.tls import ConnectionStats
from cos_provider.hooks.cos import CosHook
from tests.conftest import DST_BUCKET, SRC_BUCKET, connection_json
from tests.tls.conftest import Pki
from tests.tls.support import run_calls, vhost


def assert_refused_once(stats: ConnectionStats, emu: CosEmulator) -> None:
    """One connection, its handshake failed, and no HTTP request ever reached the server."""
    assert stats.wait_settled()
    snap = stats.snapshot()
    assert (snap["accepted"], snap["tls_handshakes"], snap["tls_handshake_failures"]) == (1, 0, 1), snap
    assert emu.counters()["requests"] == {}


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_wrong_ca_fails_once_with_the_reason_and_the_host(
    kind: str, cos: CosEmulator, pki: Pki, tls: ConnectionStats
) -> None:
    (error,) = run_calls(
        kind, cos.address, str(pki.unrelated_ca.ca_file), [("head_bucket", (SRC_BUCKET,), {})], max_attempts=5
    )
    assert isinstance(error, CosTransportError)
    message = str(error)
    assert f"TLS certificate verification failed for host {vhost(SRC_BUCKET)}" in message
    assert "unable to get local issuer certificate" in message  # OpenSSL's reason: unknown issuer
    assert "'verify'" in message  # the setting to fix
    assert (error.attempt, error.cos_request) == (1, f"HeadBucket {SRC_BUCKET}")
    assert_refused_once(tls, cos)


def test_the_default_ca_bundle_refuses_the_private_ca(cos: CosEmulator, tls: ConnectionStats) -> None:
    """``verify`` = true (certifi) does not know the test CA: that is what ``verify`` = a path is for."""
    (error,) = run_calls("sync", cos.address, True, [("head_bucket", (SRC_BUCKET,), {})])
    assert isinstance(error, CosTransportError)
    assert "certificate verification failed" in str(error)
    assert_refused_once(tls, cos)


def test_the_hook_reports_a_wrong_ca_from_the_connection_once(
    cos: CosEmulator, pki: Pki, tls: ConnectionStats, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the connection (``max_attempts`` 3) and a whole copy: still one connection."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_COS_WRONG_CA", connection_json(cos.address, verify=str(pki.unrelated_ca.ca_file))
    )
    cos.put_object(SRC_BUCKET, "a.txt", b"a")
    with pytest.raises(CosTransportError, match="certificate verification failed for host"):
        CosHook("cos_wrong_ca").copy_object(f"cos://{SRC_BUCKET}/a.txt", f"cos://{DST_BUCKET}/a.txt")
    assert_refused_once(tls, cos)
    assert cos.head(DST_BUCKET, "a.txt") is None
