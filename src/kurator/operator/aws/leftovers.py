"""The VPC Cluster API Provider AWS may leave of a deleted cluster, found by CAPA's own tags and deleted.

CAPA deletes the VPC whose ID its AWSCluster holds. A VPC it made whose ID the AWSCluster did not hold when
the deletion ran is skipped: CAPA's DeleteNetwork goes on without an ID (upstream's review of its deletion
fix named this orphan, kubernetes-sigs/cluster-api-provider-aws#1453). Seen here as one VPC left, and
nothing else, after a deletion CAPA called complete. So once CAPA is done with a cluster, the operator asks
EC2 for the VPCs CAPA tagged as that cluster's own (the ``owned`` cluster tag, the ``common`` role, the
``<cluster>-vpc`` name: all three, as CAPA tags the VPC it makes) and deletes those that hold no subnet;
a VPC that still holds one is left and named (something else may be using it). A VPC a user brought is
never tagged ``owned`` by CAPA, so it is never looked at."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CLUSTER_TAG = "sigs.k8s.io/cluster-api-provider-aws/cluster/{}"
ROLE_TAG = "sigs.k8s.io/cluster-api-provider-aws/role"
# Every call is bounded: a region that does not answer must not hold a deletion (the caller bounds the whole).
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 20.0


@dataclass(frozen=True)
class Swept:
    deleted: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()  # "vpc-…: why", each


def capa_vpc_tags(cluster: str) -> dict[str, str]:
    """The tags CAPA puts on the VPC it makes for ``cluster`` (its getVPCTagParams), all looked for."""
    return {CLUSTER_TAG.format(cluster): "owned", ROLE_TAG: "common", "Name": f"{cluster}-vpc"}


def owned_vpc_filters(cluster: str) -> list[dict[str, Any]]:
    return [{"Name": f"tag:{k}", "Values": [v]} for k, v in capa_vpc_tags(cluster).items()]


def sweep_vpcs(cluster: str, region: str, credential: Mapping[str, str]) -> Swept:
    """Delete the empty VPCs CAPA made for ``cluster`` in ``region``. Blocking (botocore); the endpoint is
    AWS's for the region unless ``AWS_ENDPOINT_URL`` says otherwise (the local fleet's stand-in).
    Raises botocore's errors; their codes are safe to show, their messages may quote the request."""
    import botocore.session
    from botocore.config import Config
    from botocore.exceptions import ClientError

    # botocore makes its clients at run time: they have no static type
    ec2: Any = botocore.session.get_session().create_client(
        "ec2",
        region_name=region,
        aws_access_key_id=credential["AccessKeyID"],
        aws_secret_access_key=credential["SecretAccessKey"],
        aws_session_token=credential.get("SessionToken") or None,
        config=Config(
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
            retries={"max_attempts": 3, "mode": "standard"},
        ),
    )
    deleted: list[str] = []
    kept: list[str] = []
    for vpc in ec2.describe_vpcs(Filters=owned_vpc_filters(cluster))["Vpcs"]:
        vpc_id = vpc["VpcId"]
        if ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]:
            kept.append(f"{vpc_id}: it holds subnets")
            continue
        try:
            ec2.delete_vpc(VpcId=vpc_id)
        except ClientError as exc:
            kept.append(f"{vpc_id}: {exc.response.get('Error', {}).get('Code', 'refused')}")
        else:
            deleted.append(vpc_id)
    return Swept(tuple(deleted), tuple(kept))
