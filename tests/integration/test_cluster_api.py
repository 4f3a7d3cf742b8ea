"""Cluster API v1.13.4 and CAPA v2.13.0 in the local fleet (`kurator local up --cluster-api`): the four
managers as real processes against the host, their CRDs completed as their kustomizations would be, their
webhooks served with the fleet's certificates, and Kurator v0.2.0's AWS quickstart applied exactly as its
users wrote it (Cluster API v1beta1 objects), reaching infrastructure-ready in the AWS stand-in.

Stand-ins, named: moto's server (with kurator.local.aws_standin's corrections) stands in for AWS; the booted
machines are played by tests/integration/aws_machines.py (moto starts no operating system)."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.exceptions import ClientError
from lightkube import ApiError
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition

from kurator.kube.apply import apply_all
from kurator.kube.errors import KubeError
from kurator.local import cluster_api, hostsfile, processes
from kurator.local.fleet import UpResult, link_of, load_records

from .aws_machines import MachinePlayer, playing
from .capi_helpers import AWSCluster, CapiCluster, Machine, aws, instances, left_on_aws
from .helpers import cluster_client, wait_for

pytestmark = pytest.mark.integration

QUICKSTART = Path(__file__).parents[1] / "data" / "kurator" / "v0.2.0" / "capi-quickstart.yaml"
NAME = "capi-quickstart"


def _quickstart() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(QUICKSTART.read_text()) if d]


def test_managers_run_as_processes_of_the_fleet(cluster_api_fleet: UpResult) -> None:
    fleet = cluster_api_fleet
    records = load_records(fleet.layout)
    for name in ("host/capi", "host/capi-kubeadm-bootstrap", "host/capi-kubeadm-control-plane", "host/capa"):
        assert processes.is_alive(records[name]), name
    assert processes.is_alive(records["host/aws-standin"])
    # every manager serves its webhooks on its own port, with the host's CA, and is ready
    ports = fleet.config.cluster_api.ports if fleet.config.cluster_api else {}
    assert len({ports[f"{p.name}/webhook"] for p in cluster_api.ALL}) == 4


def test_crds_are_completed_as_the_releases_kustomizations_would(cluster_api_fleet: UpResult) -> None:
    api = cluster_client(cluster_api_fleet, "host")
    kcp = api.get(CustomResourceDefinition, "kubeadmcontrolplanes.controlplane.cluster.x-k8s.io")
    labels = kcp.metadata.labels if kcp.metadata else {}
    assert labels["cluster.x-k8s.io/v1beta1"] == "v1beta1" and labels["cluster.x-k8s.io/v1beta2"] == "v1beta2"
    awsc = api.get(CustomResourceDefinition, "awsclusters.infrastructure.cluster.x-k8s.io")
    assert (
        (awsc.metadata.labels or {})["cluster.x-k8s.io/v1beta1"] == "v1beta1_v1beta2"
        if awsc.metadata
        else False
    )
    conversion = kcp.spec.conversion
    assert conversion is not None and conversion.strategy == "Webhook"
    config = conversion.webhook.clientConfig if conversion.webhook else None
    assert (
        config is not None
        and config.url
        and config.url.startswith(f"https://{cluster_api_fleet.config.address}:")
    )


def test_v1beta1_objects_are_converted_by_cluster_api_itself(cluster_api_fleet: UpResult) -> None:
    """Kurator's users wrote v1beta1; stored as v1beta2, the references keep their group (which an unconverted
    object would lose)."""
    api = cluster_client(cluster_api_fleet, "host")
    doc = copy.deepcopy(_quickstart()[0])  # the v1beta1 Cluster
    doc["metadata"] = {"name": "conversion-check", "namespace": "default"}
    doc["spec"]["paused"] = True  # nothing to reconcile: only its storage matters here
    apply_all(api, [doc])
    try:
        stored = api.get(CapiCluster, "conversion-check", namespace="default")
        assert stored["spec"]["infrastructureRef"] == {
            "apiGroup": "infrastructure.cluster.x-k8s.io",
            "kind": "AWSCluster",
            "name": "capi-quickstart",
        }
        assert stored["spec"]["controlPlaneRef"]["apiGroup"] == "controlplane.cluster.x-k8s.io"
    finally:
        api.delete(CapiCluster, "conversion-check", namespace="default")


def test_the_aws_stand_in_refuses_unknown_credentials(cluster_api_fleet: UpResult) -> None:
    stranger = {"AccessKeyID": "AKIAUNKNOWN000000000", "SecretAccessKey": "whatever"}
    with pytest.raises(ClientError, match="AuthFailure"):
        aws(cluster_api_fleet, "ec2", key=stranger).describe_vpcs()


@pytest.fixture(scope="module")
def quickstart(cluster_api_fleet: UpResult) -> Iterator[MachinePlayer]:
    """Kurator v0.2.0's quickstart as its users applied it, with what its guide asks for beforehand: the key
    pair it names ("default") in the account; the machines played."""
    fleet = cluster_api_fleet
    ec2 = aws(fleet, "ec2")
    if not ec2.describe_key_pairs(Filters=[{"Name": "key-name", "Values": ["default"]}])["KeyPairs"]:
        ec2.create_key_pair(KeyName="default")
    api = cluster_client(fleet, "host")
    with playing(fleet) as player:
        player.prepare("default", NAME)
        apply_all(api, _quickstart())
        try:
            yield player
        finally:
            with contextlib.suppress(ApiError, KubeError):
                api.delete(CapiCluster, NAME, namespace="default")
            wait_for(lambda: _gone(fleet), 600, "the quickstart cluster deleted")


def _gone(fleet: UpResult) -> bool:
    api = cluster_client(fleet, "host")
    try:
        api.get(CapiCluster, NAME, namespace="default")
    except (ApiError, KubeError):
        return True
    return False


def test_quickstart_reaches_infrastructure_ready_in_the_stand_in(
    cluster_api_fleet: UpResult, quickstart: MachinePlayer
) -> None:
    fleet = cluster_api_fleet
    api = cluster_client(fleet, "host")
    if _gone(fleet):  # the other test deleted it (tests in any order): infrastructure needs no machine played
        apply_all(api, _quickstart())

    def ready() -> dict[str, Any] | None:
        st = api.get(AWSCluster, NAME, namespace="default").get("status") or {}
        return st if st.get("ready") else None

    st = wait_for(ready, 600, "AWSCluster capi-quickstart ready")
    network = st["networkStatus"]
    ec2 = aws(fleet, "ec2")
    vpc = api.get(AWSCluster, NAME, namespace="default")["spec"]["network"]["vpc"]["id"]
    tagged = {"Name": f"tag:sigs.k8s.io/cluster-api-provider-aws/cluster/{NAME}", "Values": ["owned"]}
    assert ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"]
    assert len(ec2.describe_subnets(Filters=[tagged])["Subnets"]) >= 2  # a public and a private per zone
    assert ec2.describe_internet_gateways(Filters=[tagged])["InternetGateways"]
    assert ec2.describe_nat_gateways(Filter=[tagged])["NatGateways"]
    assert len(network["securityGroups"]) >= 4  # bastion, load balancer, control plane, node
    lb = network["apiServerElb"]["dnsName"]
    assert lb.endswith(".elb.amazonaws.com")
    # its name resolves inside the fleet's namespace, as a load balancer's does on AWS
    link = link_of(fleet.config)
    assert link is not None
    assert hostsfile.mapped(cluster_api.hosts_file(link.netns))[lb] == fleet.config.address
    # the control plane's first machine was made, with CAPA's tags
    found = wait_for(lambda: instances(fleet, NAME), 300, "the first control-plane instance")
    tags = {t["Key"]: t["Value"] for t in found[0]["Tags"]}
    assert tags[f"sigs.k8s.io/cluster-api-provider-aws/cluster/{NAME}"] == "owned"
    assert tags["sigs.k8s.io/cluster-api-provider-aws/role"] == "control-plane"


def test_played_machines_run_and_deleting_leaves_nothing_on_aws(
    cluster_api_fleet: UpResult, quickstart: MachinePlayer
) -> None:
    fleet = cluster_api_fleet
    api = cluster_client(fleet, "host")

    def running() -> list[str]:
        machines = list(
            api.list(Machine, namespace="default", labels={"cluster.x-k8s.io/cluster-name": NAME})
        )
        phases = [(m.get("status") or {}).get("phase") for m in machines]
        return phases if machines and all(p == "Running" for p in phases) else []

    # the quickstart's 3 masters come one at a time (KubeadmControlPlane waits for etcd health between them,
    # which no played machine has), so only the first one and the 3 workers run
    wait_for(lambda: len(running()) >= 4 or None, 900, "the first master and the workers running")
    api.delete(CapiCluster, NAME, namespace="default")
    wait_for(lambda: _gone(fleet), 600, "the quickstart cluster deleted")
    assert left_on_aws(fleet, NAME) == []
    assert not quickstart.errors
