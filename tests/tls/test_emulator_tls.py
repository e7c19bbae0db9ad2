"""The emulator's HTTPS option itself: the CLI, the child-process helper, HTTPS only."""

from __future__ import annotations

import sys

import pytest
import requests

from cos_provider.client.errors import CosTransportError
from cos_provider.emulator import CosEmulator, start_emulator_process
from cos_provider.emulator.__main__ import main
from cos_provider.emulator.tls import ConnectionStats
from tests.conftest import REGION, SECRET_ID, SECRET_KEY, SRC_BUCKET
from tests.tls.conftest import Pki
from tests.tls.support import run_calls, vhost


def test_the_cli_serves_https_with_the_given_certificate(pki: Pki) -> None:
    """``--tls-cert/--tls-key`` through ``start_emulator_process``: the ready line says
    https, the admin API answers over verified HTTPS at the plain address, and a signed
    client request reaches a bucket created on the command line."""
    args = ["--secret-id", SECRET_ID, "--secret-key", SECRET_KEY, "--bucket", f"{SRC_BUCKET}:{REGION}"]
    with start_emulator_process(
        args, python=sys.executable, tls_cert=pki.server.certfile, tls_key=pki.server.keyfile
    ) as proc:
        assert proc.address.startswith("https://127.0.0.1:")
        (page,) = run_calls("sync", proc.address, str(pki.ca.ca_file), [("list_objects", (SRC_BUCKET,), {})])
        assert page.objects == []
        counters = requests.get(f"{proc.address}/_emulator/counters", verify=str(pki.ca.ca_file), timeout=10)
        assert counters.status_code == 200
        connections = counters.json()["connections"]
        assert connections["tls_server_names"][vhost(SRC_BUCKET)] == 1
        assert connections["tls_handshake_failures"] == 0
        assert counters.json()["requests"] == {"ListObjects": {"200": 1}}


def test_cli_refuses_a_key_without_a_certificate_and_unreadable_files(pki: Pki) -> None:
    with pytest.raises(SystemExit, match="--tls-key needs --tls-cert"):
        main(["--port", "0", "--tls-key", str(pki.server.keyfile)])
    with pytest.raises(SystemExit, match="cannot load them"):
        main(["--port", "0", "--tls-cert", str(pki.ca.ca_file)])  # a certificate without its key


def test_the_port_speaks_https_only(cos: CosEmulator, tls: ConnectionStats) -> None:
    """Plain HTTP to the HTTPS port gets no answer (and is counted as a failed handshake):
    a test meant to run over TLS cannot pass over plain HTTP by mistake."""
    plain = cos.address.replace("https://", "http://")
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{plain}/_emulator/counters", timeout=10)
    (error,) = run_calls("sync", plain, True, [("head_bucket", (SRC_BUCKET,), {})], max_attempts=1)
    assert isinstance(error, CosTransportError)
    assert tls.wait_settled()
    snap = tls.snapshot()
    assert snap["tls_handshakes"] == 0
    assert snap["tls_failure_reasons"] == {"HTTP_REQUEST": 2}
    assert cos.counters()["requests"] == {}
