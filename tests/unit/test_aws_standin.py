"""The AWS stand-in's corrections of moto, each checked against the behaviour AWS documents, with the calls
Cluster API Provider AWS makes (moto in-process: no server, no network)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from kurator.local import aws_standin, hostsfile

REGION = "us-west-2"


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("netns") / "hosts"
    path.write_text(hostsfile.HEADER)
    return path


@pytest.fixture(scope="module")
def aws(hosts: Path) -> Iterator[dict[str, Any]]:
    # corrections, images, load balancers' names published; authentication stays off in-process
    aws_standin.prepare(admin_key=None, hosts=(hosts, "10.255.0.2"))
    with mock_aws():
        kw: dict[str, Any] = {"region_name": REGION, "aws_access_key_id": "k", "aws_secret_access_key": "s"}
        yield {name: boto3.client(name, **kw) for name in ("ec2", "elbv2", "elb")}


def _vpc_and_subnet(ec2: Any) -> tuple[str, str]:
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone=f"{REGION}a")
    return vpc, subnet["Subnet"]["SubnetId"]


def test_every_correction_names_what_aws_documents() -> None:
    names = [c.name for c in aws_standin.CORRECTIONS]
    assert len(set(names)) == len(names)
    for correction in aws_standin.CORRECTIONS:
        assert "API reference" in correction.aws and correction.moto


@pytest.mark.parametrize("protocol", ["4", "50"])
def test_an_ingress_rule_of_a_protocol_without_ports_is_accepted(aws: dict[str, Any], protocol: str) -> None:
    """AWS: a protocol number other than tcp/udp/icmp/icmpv6 allows all ports; no FromPort/ToPort needed.
    CAPA's default control-plane rules allow IP-in-IP (4) between the cluster's machines for Calico."""
    ec2 = aws["ec2"]
    vpc, _ = _vpc_and_subnet(ec2)
    sg = ec2.create_security_group(GroupName=f"cp{protocol}", Description="cp", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=sg, IpPermissions=[{"IpProtocol": protocol, "UserIdGroupPairs": [{"GroupId": sg}]}]
    )
    rules = ec2.describe_security_groups(GroupIds=[sg])["SecurityGroups"][0]["IpPermissions"]
    assert [(r["IpProtocol"], r.get("FromPort"), r.get("ToPort")) for r in rules] == [(protocol, None, None)]
    # ...and it can be revoked again, as CAPA does when it reconciles a changed rule set
    ec2.revoke_security_group_ingress(
        GroupId=sg, IpPermissions=[{"IpProtocol": protocol, "UserIdGroupPairs": [{"GroupId": sg}]}]
    )
    assert ec2.describe_security_groups(GroupIds=[sg])["SecurityGroups"][0]["IpPermissions"] == []


def test_tcp_rules_still_need_their_ports(aws: dict[str, Any]) -> None:
    ec2 = aws["ec2"]
    vpc, _ = _vpc_and_subnet(ec2)
    sg = ec2.create_security_group(GroupName="n", Description="n", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=sg,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 6443, "ToPort": 6443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ],
    )
    rule = ec2.describe_security_groups(GroupIds=[sg])["SecurityGroups"][0]["IpPermissions"][0]
    assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 6443, 6443)


def test_target_groups_of_a_load_balancer_without_any_are_an_empty_list(aws: dict[str, Any]) -> None:
    """AWS: DescribeTargetGroups(LoadBalancerArn) lists that load balancer's target groups, none when it has
    none; CAPA asks before it creates a network load balancer's listeners and before it deletes one."""
    _, subnet = _vpc_and_subnet(aws["ec2"])
    elbv2 = aws["elbv2"]
    lb = elbv2.create_load_balancer(Name="cp-empty", Subnets=[subnet], Type="network")["LoadBalancers"][0]
    assert elbv2.describe_target_groups(LoadBalancerArn=lb["LoadBalancerArn"])["TargetGroups"] == []


def test_unknown_load_balancers_and_target_groups_are_still_errors(aws: dict[str, Any]) -> None:
    elbv2 = aws["elbv2"]
    arn = f"arn:aws:elasticloadbalancing:{REGION}:123456789012:loadbalancer/net/gone/0123456789abcdef"
    with pytest.raises(elbv2.exceptions.LoadBalancerNotFoundException):
        elbv2.describe_target_groups(LoadBalancerArn=arn)
    with pytest.raises(elbv2.exceptions.TargetGroupNotFoundException):
        elbv2.describe_target_groups(Names=["none"])


def test_the_primary_interface_goes_with_its_instance(aws: dict[str, Any]) -> None:
    """AWS: terminating an instance deletes the primary network interface RunInstances made for it (CAPA
    tags it with the cluster's tag, so one left behind is a resource the cluster stranded)."""
    ec2 = aws["ec2"]
    _, subnet = _vpc_and_subnet(ec2)
    image = aws_standin.image_id("capa-ami-ubuntu-24.04-v1.35.4-1700000000")
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, SubnetId=subnet)["Instances"][0]
    instance_id, eni = instance["InstanceId"], instance["NetworkInterfaces"][0]["NetworkInterfaceId"]
    ec2.create_tags(Resources=[eni], Tags=[{"Key": "owner", "Value": "c1"}])  # as CAPA tags it
    tagged = [{"Name": "tag:owner", "Values": ["c1"]}]
    assert len(ec2.describe_network_interfaces(Filters=tagged)["NetworkInterfaces"]) == 1
    ec2.terminate_instances(InstanceIds=[instance_id])
    assert ec2.describe_network_interfaces(Filters=tagged)["NetworkInterfaces"] == []
    # an interface made beforehand and attached at launch stays, as on AWS
    own = ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"]["NetworkInterfaceId"]
    spec = [{"NetworkInterfaceId": own, "DeviceIndex": 0}]
    kept = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, NetworkInterfaces=spec)
    ec2.terminate_instances(InstanceIds=[kept["Instances"][0]["InstanceId"]])
    assert ec2.describe_network_interfaces(NetworkInterfaceIds=[own])["NetworkInterfaces"]


def test_capa_finds_its_published_image_by_its_default_lookup(aws: dict[str, Any]) -> None:
    """CAPA's default lookup: owner 819546954734, name capa-ami-<os>-?<version>-*, newest first."""
    images = aws["ec2"].describe_images(
        Owners=[aws_standin.IMAGE_OWNER],
        Filters=[
            {"Name": "name", "Values": ["capa-ami-ubuntu-24.04-?1.35.4-*"]},
            {"Name": "architecture", "Values": ["x86_64"]},
            {"Name": "state", "Values": ["available"]},
            {"Name": "virtualization-type", "Values": ["hvm"]},
        ],
    )["Images"]
    assert [i["Name"] for i in images] == ["capa-ami-ubuntu-24.04-v1.35.4-1700000000"]
    unknown = [{"Name": "name", "Values": ["capa-ami-ubuntu-24.04-?1.19.0-*"]}]
    none = aws["ec2"].describe_images(Owners=[aws_standin.IMAGE_OWNER], Filters=unknown)["Images"]
    assert none == []  # a version nobody published has no image, as on AWS


def test_load_balancer_names_resolve_in_the_namespace_while_they_exist(
    aws: dict[str, Any], hosts: Path
) -> None:
    """AWS: a load balancer's DNS name resolves (publicly) once it exists; here, in the fleet's hosts file."""
    _, subnet = _vpc_and_subnet(aws["ec2"])
    classic = aws["elb"].create_load_balancer(
        LoadBalancerName="cp-classic",
        Listeners=[{"Protocol": "TCP", "LoadBalancerPort": 6443, "InstancePort": 6443}],
        Subnets=[subnet],
    )["DNSName"]
    nlb = aws["elbv2"].create_load_balancer(Name="cp-nlb", Subnets=[subnet], Type="network")["LoadBalancers"][
        0
    ]
    names = hostsfile.mapped(hosts)
    assert names[classic] == names[nlb["DNSName"]] == "10.255.0.2"
    aws["elb"].delete_load_balancer(LoadBalancerName="cp-classic")
    aws["elbv2"].delete_load_balancer(LoadBalancerArn=nlb["LoadBalancerArn"])
    left = hostsfile.mapped(hosts)
    assert classic not in left and nlb["DNSName"] not in left and left["localhost"] == "127.0.0.1"


def test_the_management_api_is_refused() -> None:
    seen: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ["PATH_INFO"])
        start_response("200 OK", [])
        return [b"ok"]

    statuses: list[str] = []
    wrapped = aws_standin._refuse_management(app)
    for path in ("/moto-api/", "/moto-api/reset", "/"):
        wrapped({"PATH_INFO": path}, lambda status, _headers, s=statuses: s.append(status))
    assert statuses == ["403 Forbidden", "403 Forbidden", "200 OK"]
    assert seen == ["/"]


def test_published_images_have_image_builders_root_volume(aws: dict[str, Any]) -> None:
    """image-builder's AMIs have an 8 GiB root volume (moto gives every image 15): a machine with a root
    volume of 10 GiB, which CAPA allows only when the image's is not larger, can be made."""
    name = "capa-ami-ubuntu-24.04-v1.34.2-1700000000"
    image = aws["ec2"].describe_images(ImageIds=[aws_standin.image_id(name)])["Images"][0]
    root = next(m for m in image["BlockDeviceMappings"] if m["DeviceName"] == image["RootDeviceName"])
    assert root["Ebs"]["VolumeSize"] == aws_standin.IMAGE_ROOT_GIB == 8
    other = aws["ec2"].describe_images(Owners=["amazon"])["Images"][:1]
    assert (
        not other or other[0]["BlockDeviceMappings"][0]["Ebs"]["VolumeSize"] == 15
    )  # moto's own as they are


def test_nat_gateways_are_filtered_by_their_tags(aws: dict[str, Any]) -> None:
    """AWS: DescribeNatGateways with tag:<key> or tag-key answers the gateways carrying that tag only (how
    the tests ask what CAPA left for one cluster)."""
    ec2 = aws["ec2"]
    _, subnet = _vpc_and_subnet(ec2)
    made = {}
    for cluster in ("one", "two"):
        eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
        tag = {"Key": f"sigs.k8s.io/cluster-api-provider-aws/cluster/{cluster}", "Value": "owned"}
        spec = [{"ResourceType": "natgateway", "Tags": [tag]}]
        made[cluster] = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=eip, TagSpecifications=spec)[
            "NatGateway"
        ]["NatGatewayId"]
    by_key = [{"Name": "tag-key", "Values": ["sigs.k8s.io/cluster-api-provider-aws/cluster/one"]}]
    assert [g["NatGatewayId"] for g in ec2.describe_nat_gateways(Filters=by_key)["NatGateways"]] == [
        made["one"]
    ]
    by_tag = [{"Name": "tag:sigs.k8s.io/cluster-api-provider-aws/cluster/two", "Values": ["owned"]}]
    assert [g["NatGatewayId"] for g in ec2.describe_nat_gateways(Filters=by_tag)["NatGateways"]] == [
        made["two"]
    ]
