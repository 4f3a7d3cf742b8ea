"""Manifests of the AWS ``Cluster`` kind, good and bad, for the unit tests (kurator's Python checks) and the
integration tests (a real API server with the generated CRD): both refuse every bad one with the same
message and accept every good one. Part of tests/api_cases.py's tables."""

from __future__ import annotations

import copy
from typing import Any

API_VERSION = "cluster.kurator.dev/v1alpha1"


def aws(name: str = "aws", **spec: Any) -> dict[str, Any]:
    """Kurator v0.6.0's quickstart Cluster (examples/cluster/quickstart.yaml's fields), with ``spec`` on top
    (``None`` leaves a field out)."""
    base: dict[str, Any] = {
        "infraType": "aws",
        "credential": {"secretRef": "quickstart"},
        "version": "v1.34.2",
        "region": "us-east-1",
        "network": {
            "vpc": {"cidrBlock": "10.10.0.0/16"},
            "podCIDRs": ["192.168.0.0/16"],
            "serviceCIDRs": ["10.96.0.0/12"],
            "cni": {"type": "calico"},
        },
        "master": {
            "replicas": 1,
            "instanceType": "t3.large",
            "nonRootVolumes": [{"size": 10, "type": "gp2"}],
            "rootVolumeSize": {"size": 10, "type": "gp3"},
        },
        "workers": [
            {
                "replicas": 1,
                "instanceType": "t3.large",
                "nonRootVolumes": [{"size": 10, "type": "gp3"}],
                "rootVolumeSize": {"size": 10, "type": "gp2"},
            }
        ],
    }
    merged = {k: v for k, v in (base | spec).items() if v is not None}
    return {"apiVersion": API_VERSION, "kind": "Cluster", "metadata": {"name": name}, "spec": merged}


def net(**fields: Any) -> dict[str, Any]:
    out = copy.deepcopy(aws()["spec"]["network"]) | fields
    return {k: v for k, v in out.items() if v is not None}


def master(**fields: Any) -> dict[str, Any]:
    return aws()["spec"]["master"] | fields


def worker(**fields: Any) -> dict[str, Any]:
    return aws()["spec"]["workers"][0] | fields


def good() -> list[tuple[str, dict[str, Any]]]:
    strategy = {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%", "deletePolicy": "Oldest"},
    }
    full_worker = worker(
        sshKeyName="ops",
        imageOS="ubuntu-24.04",
        labels={"pool": "a", "kurator.dev/tier": "web_1"},
        taints=[{"key": "dedicated", "value": "web", "effect": "NoSchedule"}],
        strategy=strategy,
    )
    return [
        ("aws-kurator-v0.6.0-quickstart", aws()),
        ("aws-minimal", aws(credential=None, network={"cni": {"type": "calico"}}, workers=None)),
        ("aws-three-masters", aws(master=master(replicas=3))),
        ("aws-existing-vpc", aws(network=net(vpc={"id": "vpc-0123456789abcdef0"}))),
        ("aws-every-worker-field", aws(workers=[full_worker, worker(replicas=0)], fleet="fleet-1")),
        (
            "aws-cilium-two-ranges",
            aws(network=net(cni={"type": "cilium"}, podCIDRs=["192.168.0.0/17", "192.168.128.0/17"])),
        ),
    ]


def bad() -> list[tuple[str, dict[str, Any], str]]:
    return [
        ("aws-even-masters", aws(master=master(replicas=2)), "master.replicas must be odd (1, 3, 5 or 7)"),
        ("aws-no-masters", aws(master=master(replicas=0)), "master.replicas must be odd"),
        ("aws-nine-masters", aws(master=master(replicas=9)), "master.replicas must be odd"),
        ("aws-infra-type", aws(infraType="gcp"), "infraType 'gcp' is not one of aws"),
        ("aws-version-form", aws(version="1.34.2"), "version '1.34.2' is not a Kubernetes version"),
        (
            "aws-version-unmanaged",
            aws(version="v1.29.4"),
            "version 'v1.29.4' is not one Cluster API v1.13 manages: choose v1.30",
        ),
        ("aws-region", aws(region="Mars-1"), "region 'Mars-1' is not an AWS region"),
        (
            "aws-pod-cidr-invalid",
            aws(network=net(podCIDRs=["192.168.0.0/33"])),
            "network.podCIDRs '192.168.0.0/33' is not an address range",
        ),
        (
            "aws-service-cidr-host-bits",
            aws(network=net(serviceCIDRs=["10.96.0.1/12"])),
            "network.serviceCIDRs 10.96.0.1/12 has bits set after its prefix length",
        ),
        (
            "aws-vpc-cidr-invalid",
            aws(network=net(vpc={"cidrBlock": "10.10.0.0"})),
            "network.vpc.cidrBlock '10.10.0.0' is not an address range",
        ),
        (
            "aws-pods-overlap-services",
            aws(network=net(serviceCIDRs=["192.168.10.0/24"])),
            "network.podCIDRs, network.serviceCIDRs and network.vpc.cidrBlock overlap",
        ),
        (
            "aws-pods-overlap-default-vpc",
            aws(network=net(vpc=None, podCIDRs=["10.0.128.0/17"])),
            "network.podCIDRs, network.serviceCIDRs and network.vpc.cidrBlock overlap",
        ),
        (
            "aws-services-overlap-vpc",
            aws(network=net(vpc={"cidrBlock": "10.96.0.0/16"})),
            "overlap: machines, pods and Services need address ranges of their own",
        ),
        (
            "aws-pod-cidr-host-bits",
            aws(network=net(podCIDRs=["192.168.0.1/16"])),
            "network.podCIDRs 192.168.0.1/16 has bits set after its prefix length",
        ),
        (
            "aws-service-cidr-invalid",
            aws(network=net(serviceCIDRs=["10.96.0.0/40"])),
            "network.serviceCIDRs '10.96.0.0/40' is not an address range",
        ),
        (
            "aws-vpc-cidr-host-bits",
            aws(network=net(vpc={"cidrBlock": "10.10.0.1/16"})),
            "network.vpc.cidrBlock 10.10.0.1/16 has bits set after its prefix length",
        ),
        ("aws-vpc-id", aws(network=net(vpc={"id": "my-vpc"})), "network.vpc.id 'my-vpc' is not a VPC id"),
        ("aws-cni", aws(network=net(cni={"type": "weave"})), "network.cni.type 'weave' is not supported"),
        (
            "aws-instance-type",
            aws(workers=[worker(instanceType="large")]),
            "instanceType 'large' is not an EC2 instance type",
        ),
        (
            "aws-small-volume",
            aws(master=master(rootVolumeSize={"size": 4})),
            "volume size must be 8 to 16384 GiB",
        ),
        (
            "aws-volume-type",
            aws(master=master(rootVolumeSize={"size": 10, "type": "ssd"})),
            "volume type 'ssd' is not one of standard, gp2",
        ),
        (
            "aws-surge",
            aws(workers=[worker(strategy={"rollingUpdate": {"maxSurge": "lots"}})]),
            "maxUnavailable and maxSurge are a number of machines or a percentage such as 25%",
        ),
        (
            "aws-unavailable-negative",
            aws(workers=[worker(strategy={"rollingUpdate": {"maxUnavailable": -1}})]),
            "maxUnavailable and maxSurge are a number of machines or a percentage such as 25%",
        ),
        (
            "aws-taint-effect",
            aws(workers=[worker(taints=[{"key": "a", "effect": "Never"}])]),
            "taint effect 'Never' is not one of NoSchedule, PreferNoSchedule, NoExecute",
        ),
        (
            "aws-credential-name",
            aws(credential={"secretRef": "My Secret"}),
            "credential.secretRef 'My Secret'",
        ),
        ("aws-fleet", aws(fleet="Fleet 1"), "fleet 'Fleet 1' is not a fleet name"),
        (
            "aws-strategy-type",
            aws(workers=[worker(strategy={"type": "Recreate"})]),
            "strategy.type 'Recreate' is not one of RollingUpdate, OnDelete",
        ),
        (
            "aws-delete-policy",
            aws(workers=[worker(strategy={"rollingUpdate": {"deletePolicy": "Cheapest"}})]),
            "rollingUpdate.deletePolicy 'Cheapest' is not one of Random, Newest, Oldest",
        ),
    ]


def updates() -> list[tuple[str, dict[str, Any], dict[str, Any], str | None]]:
    c = aws
    return [
        ("aws-scale-workers", c(), c(workers=[worker(replicas=5)]), None),
        ("aws-scale-masters", c(), c(master=master(replicas=3)), None),
        ("aws-patch-upgrade", c(version="v1.34.2"), c(version="v1.34.7"), None),
        ("aws-minor-upgrade", c(version="v1.34.7"), c(version="v1.35.0"), None),
        (
            "aws-two-minors",
            c(version="v1.33.4"),
            c(version="v1.35.0"),
            "version cannot go from v1.33.4 to v1.35.0 in one step: upgrade one minor version at a time",
        ),
        ("aws-downgrade", c(version="v1.35.0"), c(version="v1.34.7"), "version cannot go down from v1.35.0"),
        ("aws-region-changed", c(), c(region="us-west-2"), "region cannot be changed once set"),
        (
            "aws-pods-changed",
            c(),
            c(network=net(podCIDRs=["192.169.0.0/16"])),
            "network.podCIDRs cannot be changed once set",
        ),
        (
            "aws-pods-removed",
            c(),
            c(network=net(podCIDRs=None)),
            "network.podCIDRs cannot be added or removed",
        ),
        (
            "aws-vpc-changed",
            c(),
            c(network=net(vpc={"cidrBlock": "10.20.0.0/16"})),
            "network.vpc.cidrBlock cannot be changed once set",
        ),
        (
            "aws-vpc-id-changed",
            c(network=net(vpc={"id": "vpc-0123456789abcdef0"})),
            c(network=net(vpc={"id": "vpc-0123456789abcdef1"})),
            "network.vpc.id cannot be changed once set",
        ),
        (
            "aws-vpc-id-given",
            c(),
            c(network=net(vpc={"id": "vpc-0123456789abcdef0"})),
            "network.vpc.id cannot be added or removed",
        ),
        (
            "aws-vpc-dropped",
            c(),
            c(network=net(vpc=None)),
            "network.vpc.cidrBlock cannot be added or removed",
        ),
        ("aws-vpc-renamed", c(), c(network=net(vpc={"cidrBlock": "10.10.0.0/16", "name": "web"})), None),
        (
            "aws-services-changed",
            c(),
            c(network=net(serviceCIDRs=["10.112.0.0/12"])),
            "network.serviceCIDRs cannot be changed once set",
        ),
        (
            "aws-services-removed",
            c(),
            c(network=net(serviceCIDRs=None)),
            "network.serviceCIDRs cannot be added or removed",
        ),
        (
            "aws-cni-changed",
            c(),
            c(network=net(cni={"type": "cilium"})),
            "network.cni.type cannot be changed",
        ),
        ("aws-fleet-joined", c(), c(fleet="fleet-1"), None),
        ("aws-credential-rotated", c(), c(credential={"secretRef": "rotated"}), None),
    ]
