"""Certificates and keys of a local cluster, made with ``cryptography``.

Each cluster gets its own CA (members of a real fleet never share one), an API server serving certificate,
one client certificate per component, a service-account signing key and a front-proxy CA for aggregated
API servers. ECDSA P-256 keeps generation to milliseconds, which matters because a fleet makes dozens.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = dt.timedelta(days=365)
# Renew well before expiry so a fleet left running for months keeps working after the next `up`.
RENEW_BEFORE = dt.timedelta(days=30)


@dataclass(frozen=True)
class ClientIdentity:
    """A client certificate: ``user`` is the Kubernetes user name, ``groups`` its groups."""

    file_stem: str
    user: str
    groups: tuple[str, ...] = ()


# Identities every local cluster gets. Components use their own users, as in a kubeadm cluster.
ADMIN = ClientIdentity("admin", "kurator-admin", ("system:masters",))
CONTROLLER_MANAGER = ClientIdentity("controller-manager", "system:kube-controller-manager")
SCHEDULER = ClientIdentity("scheduler", "system:kube-scheduler")
# kwok plays every kubelet of the cluster; it needs to write any node and pod status.
KWOK = ClientIdentity("kwok", "kurator-kwok", ("system:masters",))
FRONT_PROXY_CLIENT = ClientIdentity("front-proxy-client", "front-proxy-client")
CLIENTS = (ADMIN, CONTROLLER_MANAGER, SCHEDULER, KWOK)


@dataclass(frozen=True)
class ClusterPKI:
    """File locations of one cluster's PKI directory."""

    root: Path

    def crt(self, stem: str) -> Path:
        return self.root / f"{stem}.crt"

    def key(self, stem: str) -> Path:
        return self.root / f"{stem}.key"

    @property
    def ca_crt(self) -> Path:
        return self.crt("ca")

    @property
    def sa_key(self) -> Path:
        return self.key("sa")

    @property
    def sa_pub(self) -> Path:
        return self.root / "sa.pub"


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_private(path, data)


def _write_private(path: Path, data: bytes) -> None:
    """Write a secret with mode 0600 from the first byte (no window where others can read it)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    tmp.replace(path)


def _write_public(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError(f"{path} is not an EC private key")
    return key


def _name(common_name: str, orgs: tuple[str, ...] = ()) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey
) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
    )


def _key_usage(ca: bool) -> x509.KeyUsage:
    """Signing only (ECDSA keys never encipher); a CA also signs certificates and CRLs."""
    return x509.KeyUsage(
        digital_signature=True,
        key_cert_sign=ca,
        crl_sign=ca,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        encipher_only=False,
        decipher_only=False,
    )


def _make_ca(pki: ClusterPKI, stem: str, common_name: str) -> None:
    key = _new_key()
    name = _name(common_name)
    cert = (
        _builder(name, name, key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_key(pki.key(stem), key)
    _write_public(pki.crt(stem), cert.public_bytes(serialization.Encoding.PEM))


def _issue(
    pki: ClusterPKI,
    ca_stem: str,
    stem: str,
    subject: x509.Name,
    usages: list[x509.ObjectIdentifier],
    sans: list[x509.GeneralName] | None = None,
) -> None:
    ca_key = _load_key(pki.key(ca_stem))
    ca_cert = x509.load_pem_x509_certificate(pki.crt(ca_stem).read_bytes())
    key = _new_key()
    builder = (
        _builder(subject, ca_cert.subject, key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    _write_key(pki.key(stem), key)
    _write_public(pki.crt(stem), cert.public_bytes(serialization.Encoding.PEM))


def serving_sans(addresses: list[str], dns_names: list[str]) -> list[x509.GeneralName]:
    """Subject alternative names for a serving certificate."""
    names: list[x509.GeneralName] = [x509.DNSName(d) for d in dns_names]
    names += [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
    return names


APISERVER_DNS = [
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
]


def _needs_renewal(
    path: Path,
    want_sans: list[x509.GeneralName] | None = None,
    want_usages: list[x509.ObjectIdentifier] | None = None,
) -> bool:
    if not path.exists():
        return True
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    if cert.not_valid_after_utc - dt.datetime.now(dt.UTC) < RENEW_BEFORE:
        return True
    if want_usages is not None:
        try:
            have_usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:
            return True
        if set(have_usages) != set(want_usages):
            return True
    if want_sans is not None:
        try:
            have = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except x509.ExtensionNotFound:
            return True
        return set(have) != set(want_sans)
    return False


def ensure_cluster_pki(
    root: Path, addresses: list[str], service_ip: str, dns_names: tuple[str, ...] = ()
) -> ClusterPKI:
    """Create (or complete, or renew) the PKI of one cluster under ``root``; idempotent.

    ``addresses`` are the IPs clients use to reach the API server, ``dns_names`` names it answers to besides
    its own. Existing material is kept unless it is about to expire or the serving names changed, so a second
    ``up`` rewrites nothing (a running API server reloads a rewritten serving certificate by itself).
    """
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o700)
    pki = ClusterPKI(root)
    for ca_stem, cn in (("ca", "kurator-ca"), ("front-proxy-ca", "kurator-front-proxy-ca")):
        if _needs_renewal(pki.crt(ca_stem)) or not pki.key(ca_stem).exists():
            _make_ca(pki, ca_stem, cn)
    sans = serving_sans([*addresses, service_ip], [*APISERVER_DNS, *dns_names])
    if _needs_renewal(pki.crt("apiserver"), sans):
        _issue(pki, "ca", "apiserver", _name("kube-apiserver"), [ExtendedKeyUsageOID.SERVER_AUTH], sans)
    for ident in CLIENTS:
        if _needs_renewal(pki.crt(ident.file_stem)):
            _issue(
                pki, "ca", ident.file_stem, _name(ident.user, ident.groups), [ExtendedKeyUsageOID.CLIENT_AUTH]
            )
    if _needs_renewal(pki.crt(FRONT_PROXY_CLIENT.file_stem)):
        _issue(
            pki,
            "front-proxy-ca",
            FRONT_PROXY_CLIENT.file_stem,
            _name(FRONT_PROXY_CLIENT.user),
            [ExtendedKeyUsageOID.CLIENT_AUTH],
        )
    if not pki.sa_key.exists():
        sa = _new_key()
        _write_key(pki.sa_key, sa)
        _write_public(
            pki.sa_pub,
            sa.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
        )
    return pki


def issue_serving_cert(
    pki: ClusterPKI, stem: str, common_name: str, addresses: list[str], dns: list[str]
) -> None:
    """Issue a serving certificate from the cluster CA (for webhooks and aggregated API servers)."""
    sans = serving_sans(addresses, dns)
    if _needs_renewal(pki.crt(stem), sans):
        _issue(pki, "ca", stem, _name(common_name), [ExtendedKeyUsageOID.SERVER_AUTH], sans)


# --- the fleet's own services (etcd, monitoring): a CA each, serving and client certificates -----------

SERVICE_DNS = ["localhost"]


def ensure_service_pki(
    root: Path, ca_name: str, addresses: list[str], clients: tuple[str, ...], peer: bool = False
) -> ClusterPKI:
    """A CA for one service of the fleet under ``root`` and what its servers and clients present: a
    serving certificate ``server`` for ``addresses`` (with ``peer``, as etcd needs: ``server`` and
    ``peer`` certificates that serve and are clients at once), and a client certificate per name in
    ``clients`` (told apart by common name). Idempotent like ensure_cluster_pki."""
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o700)
    pki = ClusterPKI(root)
    new_ca = _needs_renewal(pki.ca_crt) or not pki.key("ca").exists()
    if new_ca:  # a new CA: everything it signed is issued again
        _make_ca(pki, "ca", ca_name)
    sans = serving_sans(addresses, SERVICE_DNS)
    both = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    # etcd's gateway dials etcd itself with the serving certificate, so etcd's must be a client's too.
    usages = {"server": both, "peer": both} if peer else {"server": [ExtendedKeyUsageOID.SERVER_AUTH]}
    for stem, eku in usages.items():
        if new_ca or _needs_renewal(pki.crt(stem), sans, eku):
            _issue(pki, "ca", stem, _name(f"{ca_name}-{stem}"), eku, sans)
    for client in clients:
        if new_ca or _needs_renewal(pki.crt(client)):
            _issue(pki, "ca", client, _name(client), [ExtendedKeyUsageOID.CLIENT_AUTH])
    return pki
