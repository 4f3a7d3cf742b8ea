"""Manifests of the operator's kinds, good and bad, shared by the unit tests (kurator's Python checks) and
the integration tests (a real API server with the generated CRDs): both must refuse every bad one with the
same message, and accept every good one."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests import aws_cluster_cases

API_VERSION = "cluster.kurator.dev/v1alpha1"
KURATOR_EXAMPLES = Path(__file__).parent / "data" / "kurator"


def host(name: str, n: int, **extra: Any) -> dict[str, Any]:
    return {
        "hostName": name,
        "publicIP": f"203.0.113.{n}",
        "privateIP": f"10.0.0.{n}",
        "sshKey": {"name": "cluster-secret"},
        **extra,
    }


def machine(name: str = "machines", **spec: Any) -> dict[str, Any]:
    base = {"master": [host("master1", 1)], "node": [host("node1", 11), host("node2", 12)]}
    return {
        "apiVersion": API_VERSION,
        "kind": "CustomMachine",
        "metadata": {"name": name},
        "spec": base | spec,
    }


def cluster(name: str = "cluster", **spec: Any) -> dict[str, Any]:
    base = {
        "machineRef": {"name": "machines"},
        "cni": {"type": "calico"},
        "kubernetesVersion": "v1.34.2",
        "podCIDR": "10.233.64.0/18",
        "serviceCIDR": "10.233.0.0/18",
    }
    spec = {k: v for k, v in (base | spec).items() if v is not None}  # None: leave the field out
    return {"apiVersion": API_VERSION, "kind": "CustomCluster", "metadata": {"name": name}, "spec": spec}


def with_host(doc: dict[str, Any], role: str, index: int, **fields: Any) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    doc["spec"][role][index].update(fields)
    return doc


def kurator_example(version: str, name: str) -> dict[str, Any]:
    """One of Kurator's example manifests (tests/data/kurator/<version>/), exactly as Kurator ships it."""
    doc: dict[str, Any] = yaml.safe_load((KURATOR_EXAMPLES / version / f"{name}.yaml").read_text())
    return doc


def filled(doc: dict[str, Any]) -> dict[str, Any]:
    """A Kurator example with its address placeholders (``202.x.x.x``, ``192.x.x.x``, the same on every host)
    replaced by real, distinct addresses, and in our API group (v0.3+ moved theirs to Cluster API's)."""
    doc = copy.deepcopy(doc)
    doc["apiVersion"] = API_VERSION
    for n, m in enumerate([*doc["spec"].get("master", []), *doc["spec"].get("node", [])], start=1):
        m["publicIP"], m["privateIP"] = f"203.0.113.{n}", f"192.168.0.{n}"
    return doc


@dataclass(frozen=True)
class Bad:
    id: str
    doc: dict[str, Any]
    says: str  # a piece of the message the API server and kurator both give


def good() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for version in ("v0.2.0", "v0.6.0"):
        out.append((f"kurator-{version}-customcluster", filled(kurator_example(version, "cc-customcluster"))))
        out.append((f"kurator-{version}-custommachine", filled(kurator_example(version, "cc-custommachine"))))
    ipv6 = machine(master=[host("m1", 1, publicIP="2001:db8::1", privateIP="fd00::1")])
    three = machine(master=[host("m1", 1), host("m2", 2), host("m3", 3)], node=[])
    full = host("full", 1, labels={"disk": "ssd", "kurator.dev/zone": "a_1"}, region="r1", zone="z1")
    full["sshKey"] = {"apiVersion": "v1", "kind": "Secret", "name": "key", "namespace": "default"}
    vip = {"address": "192.0.2.100", "certSANs": ["api.example.com", "192.0.2.101"]}
    vip["loadBalancerDomainName"] = "api.example.com"
    return [
        *out,
        ("ipv6-hosts", ipv6),
        ("three-masters-no-nodes", three),
        ("every-machine-field", machine(master=[full], node=[])),
        ("minimal-cluster", cluster(kubernetesVersion=None, podCIDR=None, serviceCIDR=None)),
        ("every-cluster-field", cluster(controlPlaneConfig=vip, fleet="fleet-1")),
        ("ipv6-pods", cluster(podCIDR="fd00:10:233::/64", serviceCIDR="fd00:10:234::/108")),
        *aws_cluster_cases.good(),
    ]


def bad() -> list[Bad]:
    m = machine()
    two = [host("m1", 1), host("m2", 2)]
    return [
        Bad("no-master", machine(master=[]), "spec.master must list at least one machine"),
        Bad(
            "master-left-out",
            {**m, "spec": {"node": m["spec"]["node"]}},
            "spec.master must list at least one",
        ),
        Bad(
            "even-masters",
            machine(master=two),
            "spec.master must have an odd number of machines (1, 3, 5 or 7)",
        ),
        Bad(
            "not-an-ip", with_host(m, "node", 0, publicIP="10.0.0.300"), "publicIP '10.0.0.300' is not an IP"
        ),
        Bad(
            "ip-placeholder",
            kurator_example("v0.2.0", "cc-custommachine"),
            "publicIP '202.x.x.x' is not an IP",
        ),
        Bad(
            "ip-leading-zero",
            with_host(m, "master", 0, privateIP="10.0.0.01"),
            "privateIP '10.0.0.01' is not",
        ),
        Bad(
            "ip-v4-mapped",
            with_host(m, "master", 0, publicIP="::ffff:10.1.1.1"),
            "publicIP '::ffff:10.1.1.1'",
        ),
        Bad(
            "ip-with-zone",
            with_host(m, "node", 1, privateIP="fe80::1%eth0"),
            "privateIP 'fe80::1%eth0' is not",
        ),
        Bad(
            "ip-loopback", with_host(m, "master", 0, publicIP="127.0.0.1"), "publicIP 127.0.0.1 is a loopback"
        ),
        Bad(
            "ip-unspecified",
            with_host(m, "node", 0, privateIP="::"),
            "privateIP :: is a loopback or unspecified",
        ),
        Bad(
            "host-name-case",
            with_host(m, "node", 0, hostName="Node_1"),
            "hostName 'Node_1' is not a valid node",
        ),
        Bad(
            "host-name-dash",
            with_host(m, "node", 0, hostName="node1-"),
            "hostName 'node1-' is not a valid node",
        ),
        Bad(
            "same-host-name",
            with_host(m, "node", 0, hostName="master1"),
            "needs its own hostName",
        ),
        Bad(
            "same-public-ip",
            with_host(m, "node", 1, publicIP="203.0.113.11"),
            "needs its own publicIP",
        ),
        Bad("same-private-ip", with_host(m, "node", 0, privateIP="10.0.0.1"), "needs its own privateIP"),
        Bad(
            "ssh-key-kind",
            with_host(m, "node", 0, sshKey={"kind": "ConfigMap", "name": "k"}),
            "not a ConfigMap",
        ),
        Bad(
            "ssh-key-api-version",
            with_host(m, "node", 0, sshKey={"apiVersion": "apps/v1", "name": "k"}),
            "sshKey.apiVersion must be v1",
        ),
        Bad(
            "ssh-key-name",
            with_host(m, "node", 0, sshKey={"name": "Key!"}),
            "name 'Key!' is not an object name",
        ),
        Bad(
            "ssh-key-namespace",
            with_host(m, "node", 0, sshKey={"name": "k", "namespace": "a.b"}),
            "namespace 'a.b' is not a namespace name",
        ),
        Bad(
            "label-value",
            with_host(m, "node", 0, labels={"a": "-x"}),
            "labels values must be letters, digits",
        ),
        Bad("cni-unsupported", cluster(cni={"type": "weave"}), "cni.type 'weave' is not supported"),
        Bad(
            "version-unsupported",
            cluster(kubernetesVersion="v1.32.9"),
            "kubernetesVersion 'v1.32.9' is not one",
        ),
        Bad(
            "version-without-v", cluster(kubernetesVersion="1.34.2"), "kubernetesVersion '1.34.2' is not one"
        ),
        Bad(
            "pod-cidr-invalid",
            cluster(podCIDR="10.0.0.0/33"),
            "podCIDR '10.0.0.0/33' is not an address range",
        ),
        Bad("pod-cidr-no-prefix", cluster(podCIDR="10.0.0.0"), "podCIDR '10.0.0.0' is not an address range"),
        Bad(
            "pod-cidr-host-bits",
            cluster(podCIDR="10.233.64.1/18"),
            "podCIDR 10.233.64.1/18 has bits set after its prefix length: start the range at its network",
        ),
        Bad("service-cidr-invalid", cluster(serviceCIDR="10.96.0.0/x"), "serviceCIDR '10.96.0.0/x' is not"),
        Bad("cidrs-overlap", cluster(serviceCIDR="10.233.96.0/20"), "podCIDR and serviceCIDR overlap"),
        Bad(
            "vip-invalid",
            cluster(controlPlaneConfig={"address": "vip.example.com"}),
            "controlPlaneConfig.address 'vip.example.com' is not an IP address",
        ),
        Bad(
            "cert-san-invalid",
            cluster(controlPlaneConfig={"address": "192.0.2.1", "certSANs": ["a b"]}),
            "certSANs entry 'a b' is neither an IP address nor a DNS name",
        ),
        Bad(
            "machine-ref-kind",
            cluster(machineRef={"kind": "Secret", "name": "machines"}),
            "machineRef must refer to a CustomMachine, not a Secret",
        ),
        Bad(
            "machine-ref-api-version",
            cluster(
                machineRef={"apiVersion": "infrastructure.cluster.x-k8s.io/v1alpha1", "name": "machines"}
            ),
            "machineRef.apiVersion must be cluster.kurator.dev/v1alpha1",
        ),
        Bad("fleet-name", cluster(fleet="Fleet 1"), "fleet 'Fleet 1' is not a fleet name"),
        *(Bad(*case) for case in aws_cluster_cases.bad()),
    ]


@dataclass(frozen=True)
class Update:
    id: str
    before: dict[str, Any]
    after: dict[str, Any]
    says: str | None  # None: the update is accepted


def updates() -> list[Update]:
    c = cluster
    vip = {"address": "192.0.2.100"}
    return [
        Update("patch-upgrade", c(kubernetesVersion="v1.34.2"), c(kubernetesVersion="v1.34.7"), None),
        Update("minor-upgrade", c(kubernetesVersion="v1.34.7"), c(kubernetesVersion="v1.35.0"), None),
        Update(
            "two-minors-at-once",
            c(kubernetesVersion="v1.33.11"),
            c(kubernetesVersion="v1.35.4"),
            "kubernetesVersion cannot go from v1.33.11 to v1.35.4 in one step: "
            "upgrade one minor version at a time",
        ),
        Update(
            "minor-downgrade",
            c(kubernetesVersion="v1.35.0"),
            c(kubernetesVersion="v1.34.7"),
            "kubernetesVersion cannot go down from v1.35.0 to v1.34.7",
        ),
        Update(
            "patch-downgrade",
            c(kubernetesVersion="v1.34.5"),
            c(kubernetesVersion="v1.34.4"),
            "kubernetesVersion cannot go down from v1.34.5 to v1.34.4",
        ),
        Update("version-set-later", c(kubernetesVersion=None), c(kubernetesVersion="v1.34.0"), None),
        Update(
            "version-removed", c(), c(kubernetesVersion=None), "kubernetesVersion cannot be removed once set"
        ),
        Update("fleet-joined", c(), c(fleet="fleet-1"), None),
        Update(
            "machine-ref-changed",
            c(),
            c(machineRef={"name": "other"}),
            "machineRef cannot be changed once set",
        ),
        Update("cni-changed", c(), c(cni={"type": "cilium"}), "cni.type cannot be changed once set"),
        Update("pod-cidr-changed", c(), c(podCIDR="10.244.0.0/16"), "podCIDR cannot be changed once set"),
        Update("pod-cidr-removed", c(), c(podCIDR=None), "podCIDR cannot be added or removed"),
        Update(
            "service-cidr-changed", c(), c(serviceCIDR="10.96.0.0/12"), "serviceCIDR cannot be changed once"
        ),
        Update("service-cidr-added", c(serviceCIDR=None), c(), "serviceCIDR cannot be added or removed"),
        Update(
            "vip-changed",
            c(controlPlaneConfig=vip),
            c(controlPlaneConfig={"address": "192.0.2.101"}),
            "controlPlaneConfig cannot be changed once set",
        ),
        Update("vip-added", c(), c(controlPlaneConfig=vip), "controlPlaneConfig cannot be added or removed"),
        Update("machines-scaled", machine(), machine(master=[host(f"m{i}", i) for i in (1, 2, 3)]), None),
        *(Update(*case) for case in aws_cluster_cases.updates()),
    ]
