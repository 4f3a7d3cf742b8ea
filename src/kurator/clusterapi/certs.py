"""The certificate each manager's webhook server presents in a host cluster (cert-manager's job in a
clusterctl install): a CA of kurator's making, and a serving certificate for the provider's webhook Service
signed by it. The CA's key is not kept: a new pair is made when the old one nears its end."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kurator.clusterapi.install import WebhookCert

VALIDITY = dt.timedelta(days=5 * 365)
RENEW_BEFORE = dt.timedelta(days=90)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def make(service: str, namespace: str, now: dt.datetime | None = None) -> WebhookCert:
    """A CA and a certificate for ``service.namespace.svc`` (and its short forms) signed by it."""
    start = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"{service[:61]}-ca")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    dns = [
        service,
        f"{service}.{namespace}",
        f"{service}.{namespace}.svc",
        f"{service}.{namespace}.svc.cluster.local",
    ]
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(service[:64]))  # the names clients check are in the SANs
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(d) for d in dns]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return WebhookCert(cert=_pem(cert), key=key_pem, ca=_pem(ca))


def still_good(found: WebhookCert, service: str, namespace: str, now: dt.datetime | None = None) -> bool:
    """Whether a certificate an earlier install made can stay: for this Service, signed by its CA, and not
    near its end (a re-run then writes nothing)."""
    try:
        cert = x509.load_pem_x509_certificate(found.cert.encode())
        ca = x509.load_pem_x509_certificate(found.ca.encode())
        serialization.load_pem_private_key(found.key.encode(), password=None)
        cert.verify_directly_issued_by(ca)
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, TypeError, x509.ExtensionNotFound, InvalidSignature):
        return False
    moment = now or dt.datetime.now(dt.UTC)
    return f"{service}.{namespace}.svc" in sans.get_values_for_type(x509.DNSName) and (
        cert.not_valid_after_utc - moment > RENEW_BEFORE
    )
