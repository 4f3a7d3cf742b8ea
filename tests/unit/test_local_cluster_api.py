"""Cluster API in the local fleet: every manager's own ports, the upstream arguments kept, CAPA pointed at
the AWS stand-in, the namespace's private hosts file."""

from __future__ import annotations

from pathlib import Path

import pytest

from kurator.core.errors import InvalidInput
from kurator.local import cluster_api, hostsfile
from kurator.local.config import FleetConfig
from kurator.local.layout import FleetLayout
from kurator.local.processes import ProcessSpec, _exec_argv
from tests.unit import capi_config


def _cfg() -> FleetConfig:
    return FleetConfig(
        name="dev",
        members=1,
        nodes=1,
        kubernetes_version="1.35.4",
        network="netns",
        address="10.255.0.2",
        etcd_client_port=2379,
        etcd_peer_port=2380,
        api_ports={"host": 6443, "member1": 6444},
        cluster_api=cluster_api.new_config(),
    )


@pytest.fixture
def bins(tmp_path: Path) -> dict[str, Path]:
    """Binaries and release folders laid out as the cache keeps them (the provider folders are copies)."""
    capi = tmp_path / "capi-config"
    for folder in ("config", "bootstrap/kubeadm/config", "controlplane/kubeadm/config"):
        capi_config.capi_like(capi / folder)
    aws = capi_config.capa_like(tmp_path / "capa-config" / "config").parent
    out: dict[str, Path] = {"cluster-api-config": capi, "cluster-api-aws-config": aws}
    for name in (
        "capi-manager",
        "capi-kubeadm-bootstrap-manager",
        "capi-kubeadm-control-plane-manager",
        "capa-manager",
    ):
        out[name] = tmp_path / "bin" / name
    return out


def test_each_manager_has_ports_of_its_own() -> None:
    ports = cluster_api.new_config().ports
    assert len(set(ports.values())) == len(ports)
    assert {k.split("/")[0] for k in ports} == {*(p.name for p in cluster_api.ALL), cluster_api.STANDIN}


def test_managers_run_with_the_released_arguments_and_their_own_ports(
    tmp_path: Path, bins: dict[str, Path]
) -> None:
    cfg, layout = _cfg(), FleetLayout(tmp_path / "fleet")
    specs = cluster_api.specs(cfg, layout, bins, "kurator-dev")
    capa = specs["host/capa"]
    ports = cfg.cluster_api.ports if cfg.cluster_api else {}
    assert capa.argv[0] == str(bins["capa-manager"])
    assert "--feature-gates=EKS=false,MachinePool=false" in capa.argv  # as released, EKS off
    assert "--leader-elect" not in capa.argv and "--leader-elect=false" in capa.argv
    assert f"--webhook-port={ports['capa/webhook']}" in capa.argv
    assert f"--health-addr=10.255.0.2:{ports['capa/health']}" in capa.argv
    assert f"--diagnostics-address=127.0.0.1:{ports['capa/diagnostics']}" in capa.argv
    endpoints = next(a for a in capa.argv if a.startswith("--service-endpoints="))
    assert f"us-east-1:ec2=http://10.255.0.2:{ports['aws-standin']}," in endpoints
    assert capa.env["AWS_ENDPOINT_URL"] == f"http://10.255.0.2:{ports['aws-standin']}"
    assert capa.env["AWS_EC2_METADATA_DISABLED"] == "true"
    assert "AWS_SECRET_ACCESS_KEY" not in capa.env  # the key is in a 0600 file, not in the environment
    core = specs["host/capi"]
    assert f"--webhook-port={ports['capi/webhook']}" in core.argv
    # the managers resolve names from the namespace's own hosts file; the stand-in needs no names
    assert all(specs[f"host/{p.name}"].private_etc for p in cluster_api.ALL)
    assert not specs["host/aws-standin"].private_etc


def test_a_process_with_private_etc_runs_through_ip_netns_exec() -> None:
    spec = ProcessSpec(
        "host/capi", ["/bin/capi", "--x"], Path("/tmp/log"), netns="kurator-dev", private_etc=True
    )
    assert _exec_argv(spec) == ["ip", "netns", "exec", "kurator-dev", "/bin/capi", "--x"]
    plain = ProcessSpec("host/etcd", ["/bin/etcd"], Path("/tmp/log"), netns="kurator-dev")
    assert _exec_argv(plain)[:2] == ["nsenter", "--net=/run/netns/kurator-dev"]


def test_cluster_api_needs_the_namespace() -> None:
    with pytest.raises(InvalidInput, match="needs the fleet's network namespace"):
        cluster_api.check_network("loopback")


def test_names_are_mapped_in_place(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"  # the fleet's is cluster_api.hosts_file(netns), under /etc/netns
    hosts.write_text(hostsfile.HEADER)
    inode = hosts.stat().st_ino
    hostsfile.map_names(hosts, {"a.us-east-1.elb.amazonaws.com": "10.255.0.2", "b.example": "10.255.0.2"})
    hostsfile.map_names(hosts, {"a.us-east-1.elb.amazonaws.com": "10.255.0.6"})
    lines = hosts.read_text().splitlines()
    assert "10.255.0.6 a.us-east-1.elb.amazonaws.com" in lines and "10.255.0.2 b.example" in lines
    assert "127.0.0.1 localhost" in lines and len(lines) == 4
    hostsfile.unmap_names(hosts, ["b.example"])
    assert "b.example" not in hosts.read_text()
    # rewritten in place: the file bind-mounted into the managers' mount namespaces is this inode
    assert hosts.stat().st_ino == inode
