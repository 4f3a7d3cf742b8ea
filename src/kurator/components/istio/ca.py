"""The mesh's root of trust: Istio's plug-in CA files (``ca-cert.pem``, ``ca-key.pem``, ``root-cert.pem``,
``cert-chain.pem``), which istiod reads from the Secret ``istio-system/cacerts``.

Either the user's own (``--cacert DIR``, checked here: every file there, the key matching the CA
certificate, the chain leading to the root), or generated: a root CA and, signed by it, the CA istiod
issues with. The root's key signs that one certificate and is then dropped, so it is stored nowhere; the
intermediate's key lives only in the Secret on the primary, where istiod runs. Every workload of every
cluster gets its certificate from that istiod, so every cluster shares the one root.

Key material never appears in a message: errors name files and what is wrong with them.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from pathlib import Path

from kurator.core.errors import InvalidInput

FILES = ("ca-cert.pem", "ca-key.pem", "root-cert.pem", "cert-chain.pem")
ROOT_DAYS = 3650
CA_DAYS = 3650
TRUST_DOMAIN_SAN = "istiod.istio-system.svc"


@dataclass(frozen=True)
class CaFiles:
    """The four PEM files, by name, as the Secret ``cacerts`` holds them."""

    files: dict[str, str]

    @property
    def root(self) -> str:
        return self.files["root-cert.pem"]


def generate(primary: str) -> CaFiles:
    """A new root CA and, signed by it, istiod's CA for ``primary`` (see the module)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)  # clocks of the clusters may lag a little
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root_name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "kurator"),
            x509.NameAttribute(NameOID.COMMON_NAME, "kurator Istio root CA"),
        ]
    )

    def usage() -> x509.KeyUsage:
        return x509.KeyUsage(
            digital_signature=True,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=True,
            crl_sign=True,
            encipher_only=False,
            decipher_only=False,
        )

    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=ROOT_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "kurator"),
                    x509.NameAttribute(NameOID.COMMON_NAME, f"istiod CA of {primary}"),
                ]
            )
        )
        .issuer_name(root_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage(), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(TRUST_DOMAIN_SAN)]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False
        )
        .sign(root_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    root_pem = root.public_bytes(pem).decode()
    ca_pem = ca.public_bytes(pem).decode()
    key_pem = ca_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return CaFiles(
        {
            "ca-cert.pem": ca_pem,
            "ca-key.pem": key_pem,
            "root-cert.pem": root_pem,
            "cert-chain.pem": ca_pem + root_pem,
        }
    )


def load(folder: Path) -> CaFiles:
    """The plug-in CA files of ``folder``, checked (see the module); nothing in a message shows a key."""
    from kurator.core.inputs import read_text

    if not folder.is_dir():
        raise InvalidInput(f"--cacert {folder} is not a folder", f"it must hold {', '.join(FILES)}")
    if missing := [f for f in FILES if not (folder / f).is_file()]:
        raise InvalidInput(
            f"--cacert {folder} has no {', '.join(missing)}",
            f"Istio's plug-in CA needs {', '.join(FILES)} (istio.io: plug in CA certificates)",
        )
    files = {name: read_text(folder / name, "CA file", limit=256 * 1024) for name in FILES}
    check(files, str(folder))
    return CaFiles(files)


def check(files: dict[str, str], where: str) -> None:
    """The plug-in CA is usable: certificates and key parse, the key is the CA certificate's, the CA may
    sign, the chain starts with it and ends in the self-signed root."""
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization

    def certs(name: str) -> list[x509.Certificate]:
        try:
            found = x509.load_pem_x509_certificates(files[name].encode())
        except ValueError:
            found = []
        if not found:
            raise InvalidInput(f"{where}/{name} holds no PEM certificate")
        return found

    ca, root, chain = certs("ca-cert.pem")[0], certs("root-cert.pem")[0], certs("cert-chain.pem")
    try:
        key = serialization.load_pem_private_key(files["ca-key.pem"].encode(), password=None)
    except (ValueError, TypeError):
        raise InvalidInput(f"{where}/ca-key.pem holds no unencrypted PEM private key") from None
    pub = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    if key.public_key().public_bytes(der, pub) != ca.public_key().public_bytes(der, pub):
        raise InvalidInput(f"{where}/ca-key.pem is not the key of {where}/ca-cert.pem")
    for name, cert in (("ca-cert.pem", ca), ("root-cert.pem", root)):
        try:
            constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        except x509.ExtensionNotFound:
            constraints = None
        if constraints is None or not constraints.ca:
            raise InvalidInput(f"{where}/{name} is not a CA certificate (basicConstraints CA:TRUE)")
    if chain[0] != ca:
        raise InvalidInput(f"{where}/cert-chain.pem does not start with ca-cert.pem")
    if root.issuer != root.subject:
        raise InvalidInput(f"{where}/root-cert.pem is not a self-signed root certificate")
    links = [*chain, root] if chain[-1] != root else chain
    for child, parent in itertools.pairwise(links):
        try:
            child.verify_directly_issued_by(parent)
        except (ValueError, TypeError, InvalidSignature):
            raise InvalidInput(
                f"{where}: cert-chain.pem does not lead from ca-cert.pem to root-cert.pem "
                f"({child.subject.rfc4514_string()} is not signed by {parent.subject.rfc4514_string()})"
            ) from None
