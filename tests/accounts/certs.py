"""Throw-away certificates for tests, made with ``cryptography``."""

from __future__ import annotations

import base64
import datetime
import ipaddress
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key, as PEM text."""

    cert_pem: str
    key_pem: str

    @property
    def cert_b64(self) -> str:
        """The certificate as kubeconfig ``*-data`` (base64 of PEM)."""
        return base64.b64encode(self.cert_pem.encode()).decode()

    @property
    def key_b64(self) -> str:
        """The key as kubeconfig ``client-key-data`` (base64 of PEM)."""
        return base64.b64encode(self.key_pem.encode()).decode()


@dataclass(frozen=True)
class CertificateAuthority:
    """A self-signed CA that can issue server and client certificates."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def pem(self) -> str:
        """The CA certificate as PEM text."""
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def b64(self) -> str:
        """The CA certificate as kubeconfig ``certificate-authority-data``."""
        return base64.b64encode(self.pem.encode()).decode()

    @property
    def der_b64(self) -> str:
        """The CA certificate as base64 of DER."""
        return base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode()

    def issue_server(self, hosts: list[str]) -> Issued:
        """Issue a server certificate for host names and IP addresses."""
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        return self._issue(
            hosts[0], ExtendedKeyUsageOID.SERVER_AUTH, x509.SubjectAlternativeName(names)
        )

    def issue_client(self, common_name: str) -> Issued:
        """Issue a client certificate, as kube-apiserver expects for a user."""
        return self._issue(common_name, ExtendedKeyUsageOID.CLIENT_AUTH, None)

    def _issue(
        self,
        common_name: str,
        usage: x509.ObjectIdentifier,
        san: x509.SubjectAlternativeName | None,
    ) -> Issued:
        key = new_key()
        builder = _builder(common_name, key, issuer=self.cert.subject).add_extension(
            x509.ExtendedKeyUsage([usage]), critical=False
        )
        if san is not None:
            builder = builder.add_extension(san, critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        return Issued(cert_pem=cert_pem(cert), key_pem=key_pem(key))


def new_key() -> ec.EllipticCurvePrivateKey:
    """A fresh P-256 key (fast to generate, unlike RSA)."""
    return ec.generate_private_key(ec.SECP256R1())


def make_ca(common_name: str = "regcred test CA") -> CertificateAuthority:
    """Create a self-signed CA."""
    key = new_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (
        _builder(common_name, key, issuer=name)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return CertificateAuthority(cert=cert, key=key)


def cert_pem(cert: x509.Certificate) -> str:
    """A certificate as PEM text."""
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    """A private key as unencrypted PKCS#8 PEM text."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _builder(
    common_name: str, key: ec.EllipticCurvePrivateKey, *, issuer: x509.Name
) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
    )
