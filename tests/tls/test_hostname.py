"""Which name TLS verifies when the client connects through a connect address.

The URL names the TCP destination (``https://127.0.0.1:PORT``), the ``Host``
header the bucket (``src-1250000000.cos.ap-beijing.myqcloud.com``). Left to
themselves, requests (urllib3) and httpx verify the URL's host: they send no
SNI to an IP address and check the certificate against ``127.0.0.1``, so a
certificate issued for the IP passes and COS's own (``*.cos.<region>.myqcloud.com``)
fails. Both transports now verify the virtual host, as if the bucket's
domain had resolved to the connect address. These tests pin that, for the
sync and the async client alike, with certificates that name only one side.
"""

from __future__ import annotations

import pytest

from cos_provider.client.errors import CosTransportError
from tests.conftest import ARCHIVE_BUCKET, OTHER_REGION, REGION, SRC_BUCKET
from tests.tls.conftest import Pki
from tests.tls.pki import cos_names
from tests.tls.support import emulator_presenting, run_calls, vhost

KINDS = ["sync", "async"]


@pytest.mark.parametrize("kind", KINDS)
def test_the_virtual_host_is_verified_and_sent_as_sni(kind: str, pki: Pki) -> None:
    """A certificate naming only COS's domains (not 127.0.0.1) is accepted: the name
    checked is the bucket's, and the emulator saw it asked for by SNI."""
    cert = pki.ca.issue(pki.directory / "vhost-only", "vhost-only", dns=cos_names([REGION]))
    with emulator_presenting(cert) as emu:
        emu.put_object(SRC_BUCKET, "k", b"abc")
        (head,) = run_calls(kind, emu.address, str(pki.ca.ca_file), [("head_object", (SRC_BUCKET, "k"), {})])
        assert head.size == 3
        assert emu.connection_stats.wait_settled()
        assert emu.connection_stats.snapshot()["tls_server_names"] == {vhost(SRC_BUCKET): 1}


@pytest.mark.parametrize("kind", KINDS)
def test_a_certificate_for_the_connect_address_only_is_refused(kind: str, pki: Pki) -> None:
    """The certificate that plain requests/httpx would accept here (it names 127.0.0.1
    and localhost) does not name the bucket's host, so it must fail, once, saying so."""
    cert = pki.ca.issue(pki.directory / "ip-only", "ip-only", dns=["localhost"], ips=["127.0.0.1"])
    with emulator_presenting(cert) as emu:
        (error,) = run_calls(kind, emu.address, str(pki.ca.ca_file), [("head_bucket", (SRC_BUCKET,), {})])
        assert isinstance(error, CosTransportError)
        assert f"certificate verification failed for host {vhost(SRC_BUCKET)}" in str(error)
        assert f"not valid for '{vhost(SRC_BUCKET)}'" in str(error)  # OpenSSL's hostname mismatch
        assert error.attempt == 1
        assert emu.counters()["requests"] == {}
        assert emu.connection_stats.snapshot()["accepted"] == 1


@pytest.mark.parametrize("kind", KINDS)
def test_a_connection_verified_for_one_host_is_not_reused_for_another(kind: str, pki: Pki) -> None:
    """One client, two virtual hosts on the same connect address, a certificate for only
    the first region. httpcore pools connections by TCP destination, so without a pool
    per host the second request would ride the first host's verified connection."""
    cert = pki.ca.issue(pki.directory / "one-region", "one-region", dns=cos_names([REGION]))
    with emulator_presenting(cert) as emu:
        emu.put_object(SRC_BUCKET, "k", b"abc")
        emu.put_object(ARCHIVE_BUCKET, "k", b"abcd")
        first, second = run_calls(
            kind,
            emu.address,
            str(pki.ca.ca_file),
            [
                ("head_object", (SRC_BUCKET, "k"), {}),
                ("head_object", (ARCHIVE_BUCKET, "k"), {"region": OTHER_REGION}),
            ],
        )
        assert first.size == 3
        assert isinstance(second, CosTransportError)
        assert f"certificate verification failed for host {vhost(ARCHIVE_BUCKET, OTHER_REGION)}" in str(
            second
        )
        assert emu.connection_stats.wait_settled()
        snap = emu.connection_stats.snapshot()
        assert (snap["accepted"], snap["tls_handshakes"], snap["tls_handshake_failures"]) == (2, 1, 1)
        assert snap["tls_server_names"] == {vhost(SRC_BUCKET): 1, vhost(ARCHIVE_BUCKET, OTHER_REGION): 1}
        assert emu.counters()["requests"] == {"HeadObject": {"200": 1}}
