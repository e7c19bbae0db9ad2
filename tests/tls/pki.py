"""A throwaway certificate authority for the TLS tests, built with ``cryptography``.

Only tests import this (``cryptography`` comes with Airflow; ``cos_provider``
never imports it). The certificates follow the profile strict verifiers
demand (Python 3.13 turns on ``VERIFY_X509_STRICT``): a CA with critical
basic constraints and key usage, a leaf with ``serverAuth``, subject and
authority key identifiers, names only in the subjectAltName. EC P-256 keys:
generating one takes well under a millisecond, an RSA key tens of them.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def cos_names(regions: Iterable[str]) -> list[str]:
    """The names COS's own certificate covers for ``regions``: every bucket's virtual host
    (``*.cos.<region>.myqcloud.com``; a wildcard covers exactly one label, and
    ``<bucket>-<appid>`` is one) and the region's service host."""
    names: list[str] = []
    for region in regions:
        names += [f"*.cos.{region}.myqcloud.com", f"cos.{region}.myqcloud.com"]
    return names


def _validity() -> tuple[dt.datetime, dt.datetime]:
    now = dt.datetime.now(dt.timezone.utc)
    return now - dt.timedelta(hours=1), now + dt.timedelta(days=2)


@dataclass(frozen=True)
class Authority:
    """A CA: its key, its certificate, and that certificate as a bundle file (``ca_file``)."""

    name: str
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    ca_file: Path

    @classmethod
    def create(cls, directory: Path, name: str) -> Authority:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        start, end = _validity()
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        directory.mkdir(parents=True, exist_ok=True)
        ca_file = directory / f"{name}.pem"
        ca_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return cls(name, key, cert, ca_file)

    def issue(
        self, directory: Path, name: str, dns: Iterable[str] = (), ips: Iterable[str] = ()
    ) -> ServerCert:
        """A server certificate for ``dns`` names and ``ips``, signed by this CA."""
        key = ec.generate_private_key(ec.SECP256R1())
        dns, ips = list(dns), list(ips)
        alt_names: list[x509.GeneralName] = [x509.DNSName(n) for n in dns]
        alt_names += [x509.IPAddress(ipaddress.ip_address(a)) for a in ips]
        start, end = _validity()
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
            )
            .sign(self.key, hashes.SHA256())
        )
        directory.mkdir(parents=True, exist_ok=True)
        certfile, keyfile = directory / f"{name}.crt", directory / f"{name}.key"
        certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        keyfile.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return ServerCert(certfile, keyfile, tuple(dns), tuple(ips))


@dataclass(frozen=True)
class ServerCert:
    certfile: Path
    keyfile: Path
    dns: tuple[str, ...]
    ips: tuple[str, ...]
