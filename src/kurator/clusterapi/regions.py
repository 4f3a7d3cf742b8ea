"""Pointing Cluster API Provider AWS at an AWS stand-in: ``--service-endpoints`` for every region a cluster
may name (CAPA resolves EC2, ELB, ELBv2, the tagging API, Secrets Manager, STS, SSM and S3 through it; IAM
and Auto Scaling go through ``AWS_ENDPOINT_URL`` instead, having no resolver of CAPA's)."""

from __future__ import annotations

# AWS's commercial regions (aws-partition), as a cluster's spec.region may name them.
REGIONS = (
    "af-south-1",
    "ap-east-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
)
SERVICES = ("ec2", "elasticloadbalancing", "tagging", "secretsmanager", "sts", "ssm", "s3")


def service_endpoints(url: str, regions: tuple[str, ...] = REGIONS) -> str:
    """CAPA's flag: ``REGION:SERVICE=URL,...;REGION2:...`` (pkg/cloud/endpoints ParseFlag)."""
    per_service = ",".join(f"{s}={url}" for s in SERVICES)
    return ";".join(f"{region}:{per_service}" for region in regions)
