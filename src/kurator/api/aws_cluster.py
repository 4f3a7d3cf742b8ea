"""Cluster: a Kubernetes cluster on a cloud, in Kurator v0.3+'s shape (``infraType: aws``, ``region``,
``version``, ``credential.secretRef``, ``network``, ``master``, ``workers[]``), which the operator renders
into Cluster API and Cluster API Provider AWS objects it owns.

The API server refuses what cannot work before anything is made: an even number of masters (etcd needs a
majority), address ranges that do not parse or overlap, versions Cluster API v1.13 does not manage, upgrades
of more than one minor at a time, downgrades, and changes to what a running cluster cannot change (its
region, its VPC, its address ranges, its network plugin), including giving or dropping one of them.

Its parts: aws_values (accepted values, version rules), aws_network (VPC, ranges, plugin), aws_machines
(masters, workers).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field

from kurator.api.aws_machines import ODD_MASTERS, Master, Worker
from kurator.api.aws_network import NETWORK_RULES, SPEC_RULES, Network
from kurator.api.aws_values import INFRA_TYPES, POOLS_MAX, REGION_PATTERN, VERSION_RULES, one_of
from kurator.api.common import NAME_MAX, Conditions, Resource, Spec, Status
from kurator.api.rules import Cel, Rule, dns_subdomain, immutable, says


class Credential(Spec):
    """The AWS credentials the cluster is made with."""

    secret_ref: Annotated[
        str,
        Field(alias="secretRef", max_length=NAME_MAX),
        Cel(dns_subdomain("credential.secretRef", "a Secret name")),
    ]
    """The Secret, in the cluster's namespace, with the keys AccessKeyID and SecretAccessKey (and
    SessionToken for temporary credentials). The operator copies them into a Cluster API identity of this
    cluster's own; they never appear in its status, Events or logs."""


class ClusterSpec(Spec):
    """A cluster on a cloud: where, which version, which machines."""

    infra_type: Annotated[
        str,
        Field(alias="infraType", max_length=16),
        Cel(
            one_of("infraType", INFRA_TYPES), immutable("infraType", "a cluster cannot move to another cloud")
        ),
    ]
    """The cloud: aws."""
    credential: Credential | None = None
    """Credentials of the AWS account; without them, those of Cluster API Provider AWS's own identity."""
    version: Annotated[str, Field(max_length=32), Cel(*VERSION_RULES)]
    """The Kubernetes version, e.g. v1.34.2. Upgrades move one minor version at a time."""
    region: Annotated[
        str,
        Field(max_length=32),
        Cel(
            Rule(
                cel=f"self.matches('{REGION_PATTERN}')",
                message="region must be an AWS region such as us-east-1",
                check=lambda v: re.fullmatch(REGION_PATTERN, v) is not None,
                say=says("region '{self}' is not an AWS region: write one such as us-east-1"),
            ),
            immutable("region", "a running cluster's machines stay where they are"),
        ),
    ]
    network: Annotated[Network, Cel(*NETWORK_RULES)]
    master: Annotated[Master, Cel(ODD_MASTERS)]
    workers: Annotated[list[Worker], Field(max_length=POOLS_MAX)] = Field(default_factory=list)
    """Pools of worker machines, each a Cluster API MachineDeployment ``<cluster>-md-<index>``."""
    fleet: Annotated[str, Field(max_length=NAME_MAX), Cel(dns_subdomain("fleet", "a fleet name"))] | None = (
        None
    )
    """The fleet (a Karmada control plane) the cluster joins once its API server answers."""


Phase = Literal["Pending", "Provisioning", "Provisioned", "Failed", "Deleting"]


class ClusterStatus(Status):
    """What the operator last saw of the cluster and its Cluster API objects."""

    phase: Phase | None = None
    """Pending, Provisioning, Provisioned, Failed or Deleting."""
    conditions: Conditions | None = None
    api_endpoint: Annotated[str | None, Field(alias="apiEndpoint", max_length=512)] = None
    """Where the cluster's API server answers, https://host:port (its load balancer)."""
    kubeconfig_secret_ref: Annotated[str | None, Field(alias="kubeconfigSecretRef", max_length=NAME_MAX)] = (
        None
    )
    """The Secret, in this namespace, holding the cluster's admin kubeconfig (key ``value``, written by
    Cluster API)."""
    version: Annotated[str | None, Field(max_length=32)] = None
    """The version the control plane runs."""
    masters: Annotated[int | None, Field(ge=0)] = None
    """Control-plane machines running."""
    workers: Annotated[int | None, Field(ge=0)] = None
    """Worker machines running."""
    observed_generation: Annotated[int | None, Field(alias="observedGeneration", ge=0)] = None
    fleet: Annotated[str | None, Field(max_length=NAME_MAX)] = None
    """The fleet the cluster is joined to."""


class Cluster(Resource):
    """A Kubernetes cluster on a cloud, made through Cluster API."""

    api_version: Literal["cluster.kurator.dev/v1alpha1"] = Field(
        "cluster.kurator.dev/v1alpha1", alias="apiVersion"
    )
    kind: Literal["Cluster"] = "Cluster"
    spec: Annotated[ClusterSpec, Cel(*SPEC_RULES)]
    status: ClusterStatus | None = None
