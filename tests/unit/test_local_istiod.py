"""istiod in the local fleet: run as the chart configures it, with the fleet's addresses and files."""

from __future__ import annotations

from pathlib import Path

import pytest

from kurator.core.errors import KuratorError
from kurator.local import istiod
from kurator.local.config import FleetConfig

CONTAINER = {
    "name": "discovery",
    "args": [
        "discovery",
        "--monitoringAddr=:15014",
        "--log_output_level=default:info",
        "--domain",
        "cluster.local",
    ],
    "env": [
        {"name": "REVISION", "value": "default"},
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "SERVICE_ACCOUNT", "valueFrom": {"fieldRef": {"fieldPath": "spec.serviceAccountName"}}},
        {"name": "KUBECONFIG", "value": "/var/run/secrets/remote/config"},
        {"name": "GOMAXPROCS", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
        {"name": "CLUSTER_ID", "value": "member1"},
    ],
}


def _cfg(network: str = "netns", karmada: bool = True) -> FleetConfig:
    return FleetConfig(
        name="t",
        members=2,
        nodes=1,
        kubernetes_version="1.35.4",
        network=network,  # type: ignore[arg-type]
        address="10.255.0.2",
        etcd_client_port=2379,
        etcd_peer_port=2380,
        api_ports={"host": 6443, "member1": 6444, "member2": 6445},
        karmada=karmada,
    )


def test_the_charts_arguments_with_the_fleets_addresses() -> None:
    args = istiod._args(CONTAINER, _cfg(), Path("/f/istiod.kubeconfig"))
    assert args[:4] == ["discovery", "--log_output_level=default:info", "--domain", "cluster.local"]
    flags = dict(a.removeprefix("--").split("=", 1) for a in args[4:])
    assert flags == {
        "httpAddr": "10.255.0.2:8080",
        "secureGRPCAddr": "10.255.0.2:15012",
        "grpcAddr": "127.0.0.1:15010",
        "monitoringAddr": "127.0.0.1:15014",
        "httpsAddr": "127.0.0.1:15017",
        "kubeconfig": "/f/istiod.kubeconfig",
    }


def test_the_charts_environment_as_a_kubelet_would_give_it() -> None:
    env = istiod._env(CONTAINER, "member1", Path("/f/istiod.kubeconfig"))
    assert env == {
        "REVISION": "default",
        "POD_NAME": "istiod-local-member1",
        "POD_NAMESPACE": "istio-system",
        "SERVICE_ACCOUNT": "istiod",
        "KUBECONFIG": "/f/istiod.kubeconfig",
        "CLUSTER_ID": "member1",
    }


def test_istiod_needs_the_fleets_own_network_namespace_and_karmada() -> None:
    with pytest.raises(KuratorError, match="network namespace"):
        istiod.check_fleet(_cfg(network="loopback"))
    with pytest.raises(KuratorError, match="without Karmada"):
        istiod.check_fleet(_cfg(karmada=False))
    istiod.check_fleet(_cfg())
