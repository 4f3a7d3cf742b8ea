from __future__ import annotations

import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID

from kurator.local.pki import ADMIN, CLIENTS, ClusterPKI, ensure_cluster_pki


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_certificates_chain_to_the_cluster_ca_with_the_right_names(tmp_path: Path) -> None:
    pki = ensure_cluster_pki(tmp_path / "pki", ["127.0.0.1", "10.255.0.2"], "10.96.0.1")
    ca = _cert(pki.ca_crt)
    server = _cert(pki.crt("apiserver"))
    server.verify_directly_issued_by(ca)
    sans = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    ips = {str(ip) for ip in sans.get_values_for_type(x509.IPAddress)}
    assert ips == {"127.0.0.1", "10.255.0.2", "10.96.0.1"}
    assert "kubernetes.default.svc" in sans.get_values_for_type(x509.DNSName)
    for ident in CLIENTS:
        cert = _cert(pki.crt(ident.file_stem))
        cert.verify_directly_issued_by(ca)
        assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == ident.user
    orgs = [
        a.value
        for a in _cert(pki.crt(ADMIN.file_stem)).subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    ]
    assert orgs == ["system:masters"]


def test_private_keys_are_only_readable_by_the_owner(tmp_path: Path) -> None:
    pki = ensure_cluster_pki(tmp_path / "pki", ["127.0.0.1"], "10.96.0.1")
    for key in pki.root.glob("*.key"):
        assert key.stat().st_mode & 0o077 == 0, key
    assert pki.root.stat().st_mode & 0o077 == 0


def test_second_run_rewrites_nothing_but_a_new_address_reissues_the_serving_cert(tmp_path: Path) -> None:
    root = tmp_path / "pki"
    ensure_cluster_pki(root, ["127.0.0.1"], "10.96.0.1")
    before = {p.name: p.read_bytes() for p in root.iterdir()}
    ensure_cluster_pki(root, ["127.0.0.1"], "10.96.0.1")
    assert {p.name: p.read_bytes() for p in root.iterdir()} == before
    ensure_cluster_pki(root, ["127.0.0.1", "10.255.0.6"], "10.96.0.1")
    after = {p.name: p.read_bytes() for p in root.iterdir()}
    assert after["apiserver.crt"] != before["apiserver.crt"]
    assert after["ca.crt"] == before["ca.crt"]
    sans = _cert(ClusterPKI(root).crt("apiserver")).extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    )
    assert ipaddress.ip_address("10.255.0.6") in sans.value.get_values_for_type(x509.IPAddress)


def test_a_service_pki_serves_its_addresses_and_tells_its_clients_apart(tmp_path: Path) -> None:
    from cryptography.x509.oid import ExtendedKeyUsageOID

    from kurator.local.pki import ensure_service_pki

    root = tmp_path / "etcd"
    addresses, clients = ["127.0.0.1", "10.255.0.2"], ("apiserver", "kurator")
    pki = ensure_service_pki(root, "etcd-ca", addresses, clients, peer=True)
    ca = _cert(pki.ca_crt)
    for stem in ("server", "peer", "apiserver", "kurator"):
        _cert(pki.crt(stem)).verify_directly_issued_by(ca)
    server = _cert(pki.crt("server"))
    sans = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {str(ip) for ip in sans.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "10.255.0.2"}
    usages = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    # etcd dials itself (its gateway) with its serving certificate: it must be a client's too.
    assert set(usages) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    client = _cert(pki.crt("kurator"))
    assert client.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "kurator"
    assert list(client.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.CLIENT_AUTH
    ]
    assert all(k.stat().st_mode & 0o077 == 0 for k in root.glob("*.key"))
    before = {p.name: p.read_bytes() for p in root.iterdir()}
    ensure_service_pki(root, "etcd-ca", addresses, clients, peer=True)
    assert {p.name: p.read_bytes() for p in root.iterdir()} == before


def test_a_new_service_ca_reissues_everything_it_signed(tmp_path: Path) -> None:
    from kurator.local.pki import ensure_service_pki

    root = tmp_path / "mon"
    ensure_service_pki(root, "mon-ca", ["127.0.0.1"], ("kurator",))
    (root / "ca.key").unlink()
    pki = ensure_service_pki(root, "mon-ca", ["127.0.0.1"], ("kurator",))
    for stem in ("server", "kurator"):
        _cert(pki.crt(stem)).verify_directly_issued_by(_cert(pki.ca_crt))
