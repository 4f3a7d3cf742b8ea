"""Helpers of the Cluster API tests: clients of the AWS stand-in (moto) with the fleet's admin key, what is
left there of a cluster, and Cluster API's kinds."""

from __future__ import annotations

import json
from typing import Any

import boto3
from lightkube import Client
from lightkube.generic_resource import create_global_resource, create_namespaced_resource

from kurator.local import cluster_api
from kurator.local.fleet import UpResult

CAPI = "cluster.x-k8s.io"
INFRA = "infrastructure.cluster.x-k8s.io"
CapiCluster = create_namespaced_resource(CAPI, "v1beta2", "Cluster", "clusters")
Machine = create_namespaced_resource(CAPI, "v1beta2", "Machine", "machines")
MachineDeployment = create_namespaced_resource(CAPI, "v1beta2", "MachineDeployment", "machinedeployments")
KCP = create_namespaced_resource(
    "controlplane.cluster.x-k8s.io", "v1beta2", "KubeadmControlPlane", "kubeadmcontrolplanes"
)
AWSCluster = create_namespaced_resource(INFRA, "v1beta2", "AWSCluster", "awsclusters")
AWSMachineTemplate = create_namespaced_resource(INFRA, "v1beta2", "AWSMachineTemplate", "awsmachinetemplates")
StaticIdentity = create_global_resource(
    INFRA, "v1beta2", "AWSClusterStaticIdentity", "awsclusterstaticidentities"
)
OWNED = "sigs.k8s.io/cluster-api-provider-aws/cluster/{}"  # CAPA's tag on what it made for a cluster


def admin_key(fleet: UpResult) -> dict[str, str]:
    key: dict[str, str] = json.loads(cluster_api.admin_key_file(fleet.layout).read_text())
    return key


def aws(fleet: UpResult, service: str, region: str = "us-east-1", key: dict[str, str] | None = None) -> Any:
    """A boto3 client of the fleet's AWS stand-in (the admin's key unless given)."""
    k = key or admin_key(fleet)
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=cluster_api.standin_url(fleet.config),
        aws_access_key_id=k["AccessKeyID"],
        aws_secret_access_key=k["SecretAccessKey"],
    )


def instances(
    fleet: UpResult, cluster: str, region: str = "us-east-1", states: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """EC2 instances CAPA tagged as the cluster's (in the given states; all but terminated by default)."""
    ec2 = aws(fleet, "ec2", region)
    found = [
        i
        for r in ec2.describe_instances(Filters=[{"Name": "tag-key", "Values": [OWNED.format(cluster)]}])[
            "Reservations"
        ]
        for i in r["Instances"]
    ]
    keep = states or ("pending", "running", "stopping", "stopped", "shutting-down")
    return [i for i in found if i["State"]["Name"] in keep]


def left_on_aws(fleet: UpResult, cluster: str, region: str = "us-east-1") -> list[str]:
    """Everything the AWS stand-in still holds for ``cluster``: what the tagging API lists under CAPA's tag,
    and the EC2 resources tagged with it (VPCs, subnets, gateways, addresses, security groups, route tables,
    instances not terminated); classic load balancers by their tags too."""
    tag = OWNED.format(cluster)
    out = []
    ec2 = aws(fleet, "ec2", region)
    # Deleted NAT gateways stay listed, in state "deleted", for about an hour on AWS too: gone, not left.
    deleted = {
        g["NatGatewayId"] for g in ec2.describe_nat_gateways()["NatGateways"] if g["State"] == "deleted"
    }
    tagging = aws(fleet, "resourcegroupstaggingapi", region)
    for page in tagging.get_paginator("get_resources").paginate(TagFilters=[{"Key": tag}]):
        for arn in (m["ResourceARN"] for m in page["ResourceTagMappingList"]):
            # terminated instances are listed as instances below (AWS too lists them for a while)
            if ":instance/" not in arn and arn.rsplit("/", 1)[-1] not in deleted:
                out.append(arn)
    filters = [{"Name": "tag-key", "Values": [tag]}]
    for call, key, ident in (
        ("describe_vpcs", "Vpcs", "VpcId"),
        ("describe_subnets", "Subnets", "SubnetId"),
        ("describe_internet_gateways", "InternetGateways", "InternetGatewayId"),
        ("describe_nat_gateways", "NatGateways", "NatGatewayId"),
        ("describe_addresses", "Addresses", "AllocationId"),
        ("describe_security_groups", "SecurityGroups", "GroupId"),
        ("describe_route_tables", "RouteTables", "RouteTableId"),
    ):
        for item in getattr(ec2, call)(Filters=filters)[key]:
            if item.get("State") not in ("deleted",):
                out.append(f"{key} {item[ident]}")
    out += [f"instance {i['InstanceId']}" for i in instances(fleet, cluster, region)]
    elb = aws(fleet, "elb", region)
    names = [lb["LoadBalancerName"] for lb in elb.describe_load_balancers()["LoadBalancerDescriptions"]]
    if names:
        for desc in elb.describe_tags(LoadBalancerNames=names)["TagDescriptions"]:
            if any(t["Key"] == tag for t in desc["Tags"]):
                out.append(f"load balancer {desc['LoadBalancerName']}")
    return sorted(out)


def status(api: Client, kind: Any, name: str, namespace: str = "default") -> dict[str, Any]:
    obj = api.get(kind, name, namespace=namespace)
    st: dict[str, Any] = obj.get("status") or {}
    return st
