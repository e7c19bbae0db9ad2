"""``verify`` as a setting: true, false, a CA bundle path, or the environment's bundle.

A user with a private CA sets ``verify`` to its bundle's path; the path is
refused before any request when it does not exist, naming ``verify``. With
``verify`` = true, both transports read the same bundle from the environment
(``REQUESTS_CA_BUNDLE``, else ``SSL_CERT_FILE``) in every mode; requests on
its own would ignore it with a connect address, where it must not trust the
environment (proxies).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from urllib3.exceptions import InsecureRequestWarning

from cos_provider.client.aio import ssl_context
from cos_provider.client.errors import CosValidationError
from cos_provider.client.transport import TransportConfig
from cos_provider.emulator import CosEmulator
from cos_provider.emulator.tls import ConnectionStats
from cos_provider.hooks.connection import ConnectionSettings
from cos_provider.hooks.cos import CosHook
from tests.conftest import DST_BUCKET, REGION, SRC_BUCKET, connection_json
from tests.tls.conftest import Pki
from tests.tls.support import all_over_tls, run_calls


@pytest.fixture
def fresh_tls_contexts() -> Iterator[None]:
    """The async transport builds one context per ``verify`` per process; start and end clean."""
    ssl_context.cache_clear()
    yield
    ssl_context.cache_clear()


def test_verify_false_skips_the_check(cos: CosEmulator, tls: ConnectionStats) -> None:
    """``verify`` = false still speaks TLS (the server offers nothing else), unchecked."""
    cos.put_object(SRC_BUCKET, "k", b"xyz")
    with pytest.warns(InsecureRequestWarning):  # urllib3 says so on every request; so be it
        (head,) = run_calls("sync", cos.address, False, [("head_object", (SRC_BUCKET, "k"), {})])
    assert head.size == 3
    assert tls.wait_settled()
    assert tls.snapshot()["tls_handshakes"] == 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), ("true", True), ("ON", True), (False, False), ("false", False), ("0", False)],
)
def test_verify_words_are_booleans(value: object, expected: bool) -> None:
    settings = ConnectionSettings.resolve("AKID", "key", {"region": REGION, "verify": value}, {})
    assert settings.transport.verify is expected


def test_verify_path_is_a_ca_bundle(pki: Pki) -> None:
    settings = ConnectionSettings.resolve(
        "AKID", "key", {"region": REGION, "verify": f" {pki.ca.ca_file} "}, {}
    )
    assert settings.transport.verify == str(pki.ca.ca_file)


def test_a_missing_ca_bundle_is_refused_before_any_request(
    cos: CosEmulator, pki: Pki, tls: ConnectionStats, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = str(pki.directory / "no-such-ca.pem")
    monkeypatch.setenv("AIRFLOW_CONN_COS_MISSING_CA", connection_json(cos.address, verify=missing))
    with pytest.raises(CosValidationError) as info:
        CosHook("cos_missing_ca").copy_object(f"cos://{SRC_BUCKET}/a.txt", f"cos://{DST_BUCKET}/a.txt")
    assert info.value.field == "verify"
    assert missing in str(info.value) and "does not exist" in str(info.value)
    with pytest.raises(CosValidationError, match="verify"):
        TransportConfig(verify=missing)
    assert tls.snapshot()["accepted"] == 0


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"])
def test_verify_true_reads_the_environments_bundle_with_a_connect_address(
    kind: str,
    variable: str,
    cos: CosEmulator,
    pki: Pki,
    tls: ConnectionStats,
    monkeypatch: pytest.MonkeyPatch,
    fresh_tls_contexts: None,
) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.setenv(variable, str(pki.ca.ca_file))
    cos.put_object(SRC_BUCKET, "k", b"xyz")
    (head,) = run_calls(kind, cos.address, True, [("head_object", (SRC_BUCKET, "k"), {})])
    assert head.size == 3
    all_over_tls(tls)
