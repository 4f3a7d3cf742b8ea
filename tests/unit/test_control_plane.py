from __future__ import annotations

from pathlib import Path

import yaml

from kurator.local.config import FleetConfig
from kurator.local.control_plane import cluster_specs, etcd_spec
from kurator.local.layout import FleetLayout
from kurator.local.stages import render

BINS = {
    n: Path(f"/bin/{n}")
    for n in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
}


def _cfg() -> FleetConfig:
    return FleetConfig(
        name="dev",
        members=1,
        nodes=2,
        kubernetes_version="1.35.4",
        network="netns",
        address="10.255.0.2",
        link_index=0,
        etcd_client_port=2379,
        etcd_peer_port=2380,
        api_ports={"host": 6443, "member1": 6444},
    )


def _flags(argv: list[str]) -> dict[str, str]:
    return dict(a[2:].split("=", 1) for a in argv[1:] if "=" in a)


def test_each_cluster_has_its_own_etcd_prefix_port_and_pki(tmp_path: Path) -> None:
    layout = FleetLayout(tmp_path)
    host = cluster_specs(_cfg(), layout, "host", BINS, "kurator-dev")
    member = cluster_specs(_cfg(), layout, "member1", BINS, "kurator-dev")
    h, m = _flags(host["kube-apiserver"].argv), _flags(member["kube-apiserver"].argv)
    assert (h["etcd-prefix"], m["etcd-prefix"]) == ("/kurator/host", "/kurator/member1")
    assert (h["secure-port"], m["secure-port"]) == ("6443", "6444")
    assert h["etcd-servers"] == m["etcd-servers"] == "https://10.255.0.2:2379"
    assert h["etcd-certfile"] == m["etcd-certfile"] and h["etcd-certfile"].endswith(
        "apiserver-etcd-client.crt"
    )
    assert h["client-ca-file"] != m["client-ca-file"]
    assert list(host) == ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"]
    assert all(s.netns == "kurator-dev" for s in host.values())
    assert _flags(member["kwok"].argv)["manage-all-nodes"] == "true"


def test_etcd_listens_where_the_api_servers_reach_it_and_only_for_clients_with_a_certificate(
    tmp_path: Path,
) -> None:
    spec = etcd_spec(_cfg(), FleetLayout(tmp_path), BINS, None)
    flags = _flags(spec.argv)
    assert flags["listen-client-urls"] == "https://10.255.0.2:2379"
    assert flags["listen-peer-urls"].startswith("https://")
    assert {"--client-cert-auth", "--peer-client-cert-auth"} <= set(spec.argv)
    assert flags["trusted-ca-file"] == flags["peer-trusted-ca-file"]
    assert spec.netns is None


def test_kwok_serves_nothing(tmp_path: Path) -> None:
    """kwok's server cannot ask for credentials: it is never started."""
    for cluster in ("host", "member1"):
        argv = cluster_specs(_cfg(), FleetLayout(tmp_path), cluster, BINS, None)["kwok"].argv
        assert not any(a.startswith(("--server-address", "--node-port")) for a in argv)


def test_stages_are_valid_yaml_with_the_kubelet_version() -> None:
    docs = list(yaml.safe_load_all(render("1.35.4")))
    assert [d["metadata"]["name"] for d in docs] == [
        "kurator-node-ready",
        "kurator-pod-running",
        "kurator-job-pod-succeeded",
        "kurator-pod-deleted",
    ]
    assert "v1.35.4" in docs[0]["spec"]["next"]["statusTemplate"]
