"""The check for what CAPA left of a deleted cluster (kurator.operator.aws.leftovers), against moto
in-process: an empty VPC CAPA tagged as the cluster's own is deleted; one that holds a subnet is named and
kept; VPCs of another cluster, a VPC a user named, and untagged ones are never touched."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from kurator.operator.aws.leftovers import CLUSTER_TAG, Swept, capa_vpc_tags, sweep_vpcs

REGION = "eu-west-1"
CREDENTIAL = {"AccessKeyID": "AKIAEXAMPLE", "SecretAccessKey": "example-secret"}


@pytest.fixture
def ec2() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("ec2", region_name=REGION, aws_access_key_id="k", aws_secret_access_key="s")


def _vpc(ec2: Any, tags: dict[str, str], subnet: bool = False) -> str:
    spec = (
        [{"ResourceType": "vpc", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}] if tags else []
    )
    vpc: str = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=spec)["Vpc"]["VpcId"]
    if subnet:
        ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")
    return vpc


def _exists(ec2: Any, vpc: str) -> bool:
    return any(v["VpcId"] == vpc for v in ec2.describe_vpcs()["Vpcs"])


def test_an_empty_vpc_capa_made_for_the_cluster_is_deleted_and_nothing_else(ec2: Any) -> None:
    left = _vpc(ec2, capa_vpc_tags("prod"))
    in_use = _vpc(ec2, capa_vpc_tags("prod"), subnet=True)
    others = [
        _vpc(ec2, capa_vpc_tags("prod-2")),  # another cluster's
        _vpc(ec2, {**capa_vpc_tags("prod"), "Name": "team-vpc"}),  # named otherwise: not CAPA's making
        _vpc(ec2, {CLUSTER_TAG.format("prod"): "shared"}),  # a user's VPC CAPA was given
        _vpc(ec2, {}),
    ]
    swept = sweep_vpcs("prod", REGION, CREDENTIAL)
    assert swept == Swept(deleted=(left,), kept=(f"{in_use}: it holds subnets",))
    assert not _exists(ec2, left)
    assert _exists(ec2, in_use) and all(_exists(ec2, v) for v in others)


def test_nothing_left_is_nothing_done(ec2: Any) -> None:
    assert sweep_vpcs("prod", REGION, CREDENTIAL) == Swept()
