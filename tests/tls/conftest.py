"""The TLS tests: the same emulator, over HTTPS only, with a CA made for the session.

``emulator`` here overrides the plain-HTTP one of ``tests/conftest.py``, so
every fixture built on it (``cos``, and ``cos_connection`` below) talks HTTPS
on loopback. The connection trusts the session's CA through ``verify`` = the
CA bundle path, exactly as a user with a private CA would configure it.

The server certificate is issued as COS's own is: for the virtual hosts
``*.cos.<region>.myqcloud.com`` (and the region's service host) of both test
regions. It also names ``localhost``, ``127.0.0.1`` and ``::1`` so that
``curl``/``requests`` can reach the admin API at the plain address; the
clients under test never check those (see ``test_hostname.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cos_provider.emulator import CosEmulator
from cos_provider.emulator.tls import ConnectionStats, server_context
from tests.airflow_support import airflow_db  # noqa: F401  (session fixture)
from tests.conftest import OTHER_REGION, REGION, SECRET_ID, SECRET_KEY, connection_json
from tests.tls.pki import Authority, ServerCert, cos_names


@dataclass(frozen=True)
class Pki:
    directory: Path
    ca: Authority
    """Signed the emulator's certificate: what ``verify`` must point at."""
    unrelated_ca: Authority
    """Signed nothing the emulator presents: a wrong ``verify``."""
    server: ServerCert


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    ca = Authority.create(directory, "cos-test-ca")
    server = ca.issue(
        directory,
        "emulator",
        dns=[*cos_names([REGION, OTHER_REGION]), "localhost"],
        ips=["127.0.0.1", "::1"],
    )
    return Pki(directory, ca, Authority.create(directory, "unrelated-ca"), server)


@pytest.fixture(scope="session")
def emulator(pki: Pki) -> Iterator[CosEmulator]:
    """The session's emulator, HTTPS only (overrides ``tests/conftest.py``'s)."""
    ctx = server_context(pki.server.certfile, pki.server.keyfile)
    with CosEmulator(credentials={SECRET_ID: SECRET_KEY}, ssl_context=ctx) as emu:
        yield emu


@pytest.fixture
def cos_connection(cos: CosEmulator, pki: Pki, monkeypatch: pytest.MonkeyPatch) -> str:
    """``cos_default`` at the HTTPS emulator, trusting the session CA by path."""
    monkeypatch.setenv("AIRFLOW_CONN_COS_DEFAULT", connection_json(cos.address, verify=str(pki.ca.ca_file)))
    return "cos_default"


@pytest.fixture
def tls(cos: CosEmulator) -> ConnectionStats:
    """The emulator's connection and handshake counts, zeroed by ``cos``'s reset."""
    return cos.connection_stats
