"""Cluster: a Kubernetes cluster on a cloud, in Kurator v0.3+'s shape (``infraType: aws``, ``region``,
``version``, ``credential.secretRef``, ``network``, ``master``, ``workers[]``), which the operator renders
into Cluster API and Cluster API Provider AWS objects it owns.

The API server refuses what cannot work before anything is made: an even number of masters (etcd needs a
majority), address ranges that do not parse or overlap, versions Cluster API v1.13 does not manage, upgrades
of more than one minor at a time, downgrades, and changes to what a running cluster cannot change (its
region, its VPC, its address ranges, its network plugin), including giving or dropping one of them.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, WithJsonSchema

from kurator.api.common import NAME_MAX, Conditions, Resource, Spec, Status
from kurator.api.rules import (
    CIDR_MAX,
    LABEL_VALUE,
    Cel,
    Rule,
    TransitionRule,
    cidr,
    dns_subdomain,
    immutable,
    is_cidr,
    overlap,
    says,
    says_of_update,
)

INFRA_TYPES = ("aws",)
# The workload cluster versions Cluster API v1.13 manages (its support matrix), and so the ones accepted.
KUBERNETES_MINORS = tuple(range(30, 36))
VERSION_PATTERN = "^v1[.][0-9]+[.][0-9]+$"
REGION_PATTERN = "^[a-z]{2}(-[a-z]+)+-[0-9]+$"
INSTANCE_TYPE_PATTERN = "^[a-z][a-z0-9-]*[.][a-z0-9]+$"
MASTERS_MAX = 7
WORKERS_MAX = 500
POOLS_MAX = 8
RANGES_MAX = 4
# CAPA's root and extra volume types (AWS EBS volume types).
VOLUME_TYPES = ("standard", "gp2", "gp3", "io1", "io2", "st1", "sc1")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
DELETE_POLICIES = ("Random", "Newest", "Oldest")
STRATEGY_TYPES = ("RollingUpdate", "OnDelete")
VPC_ID_PATTERN = "^vpc-[0-9a-f]{8,17}$"
# What the operator opens between the machines for each network plugin (CAPA's cniIngressRules).
CNI_TYPES = ("calico", "cilium", "flannel")
DEFAULT_VPC_CIDR = "10.0.0.0/16"
DEFAULT_POD_CIDR = "192.168.0.0/16"
DEFAULT_SERVICE_CIDR = "10.96.0.0/12"

_MINORS = ", ".join(f"v1.{m}" for m in KUBERNETES_MINORS)
_WELL_FORMED = f"!self.matches('{VERSION_PATTERN}') || !oldSelf.matches('{VERSION_PATTERN}') || "
_NEW_MINOR, _OLD_MINOR = "int(self.split('.')[1])", "int(oldSelf.split('.')[1])"


def minor(version: str) -> int:
    return int(version.split(".")[1])


def _minor_patch(version: str) -> tuple[int, int]:
    return minor(version), int(version.split(".")[2])


def _well_formed(*versions: str) -> bool:
    return all(re.fullmatch(VERSION_PATTERN, v) for v in versions)


def one_of(field: str, choices: tuple[str, ...]) -> Rule:
    """``field`` is one of ``choices`` (a CEL rule rather than an enum: the API server then says what
    kurator's own check says)."""
    listed = ", ".join(choices)
    return Rule(
        cel=f"self in [{', '.join(repr(c) for c in choices)}]",
        message=f"{field} must be one of {listed}",
        check=lambda v: v in choices,
        say=says(f"{field} '{{self}}' is not one of {listed}"),
    )


def within(field: str, low: int, high: int, unit: str) -> Rule:
    # No value in the message: the API server refuses a converted number in one (its cost is unbounded).
    return Rule(
        cel=f"self >= {low} && self <= {high}",
        message=f"{field} must be {low} to {high} {unit}",
        check=lambda v: low <= v <= high,
    )


VERSION_RULES = (
    Rule(
        cel=f"self.matches('{VERSION_PATTERN}')",
        message="version must be a Kubernetes version such as v1.34.2",
        check=lambda v: re.fullmatch(VERSION_PATTERN, v) is not None,
        say=says("version '{self}' is not a Kubernetes version: write one such as v1.34.2"),
    ),
    Rule(
        cel=f"!self.matches('{VERSION_PATTERN}') || ({_NEW_MINOR} >= {KUBERNETES_MINORS[0]} "
        f"&& {_NEW_MINOR} <= {KUBERNETES_MINORS[-1]})",
        message=f"version must be one Cluster API v1.13 manages: {_MINORS}",
        check=lambda v: not _well_formed(v) or minor(v) in KUBERNETES_MINORS,
        say=says(f"version '{{self}}' is not one Cluster API v1.13 manages: choose {_MINORS}"),
    ),
    TransitionRule(
        cel=_WELL_FORMED + f"{_NEW_MINOR} > {_OLD_MINOR} "
        f"|| ({_NEW_MINOR} == {_OLD_MINOR} && int(self.split('.')[2]) >= int(oldSelf.split('.')[2]))",
        message="version cannot go down: a cluster can only be upgraded",
        check=lambda old, new: not _well_formed(old, new) or _minor_patch(new) >= _minor_patch(old),
        say=says_of_update("version cannot go down from {old} to {new}: a cluster can only be upgraded"),
    ),
    TransitionRule(
        cel=_WELL_FORMED + f"{_NEW_MINOR} <= {_OLD_MINOR} + 1",
        message="version can move up one minor version at a time",
        check=lambda old, new: not _well_formed(old, new) or minor(new) <= minor(old) + 1,
        say=says_of_update(
            "version cannot go from {old} to {new} in one step: upgrade one minor version at a time"
        ),
    ),
)


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


_KEEP = "the machines, pods and Services of a running cluster keep their addresses"
PodCIDR = Annotated[str, Field(max_length=CIDR_MAX), Cel(*cidr("network.podCIDRs", DEFAULT_POD_CIDR))]
ServiceCIDR = Annotated[
    str, Field(max_length=CIDR_MAX), Cel(*cidr("network.serviceCIDRs", DEFAULT_SERVICE_CIDR))
]


class VPC(Spec):
    """The VPC the cluster's machines run in: one CAPA makes (the default) or an existing one."""

    id: Annotated[
        str | None,
        Field(max_length=32),
        Cel(
            Rule(
                cel=f"self.matches('{VPC_ID_PATTERN}')",
                message="network.vpc.id must be a VPC id such as vpc-0123456789abcdef0",
                check=lambda v: re.fullmatch(VPC_ID_PATTERN, v) is not None,
                say=says("network.vpc.id '{self}' is not a VPC id: write one such as vpc-0123456789abcdef0"),
            ),
            immutable("network.vpc.id", "a running cluster's machines stay in their VPC"),
        ),
    ] = None
    """An existing VPC to use instead of making one (CAPA then makes only what is missing in it)."""
    name: Annotated[str | None, Field(max_length=255)] = None
    """The Name tag of the VPC CAPA makes (default: the cluster's name)."""
    cidr_block: (
        Annotated[
            str,
            Field(max_length=CIDR_MAX),
            Cel(
                *cidr("network.vpc.cidrBlock", DEFAULT_VPC_CIDR),
                immutable("network.vpc.cidrBlock", "a VPC keeps its range"),
            ),
        ]
        | None
    ) = Field(None, alias="cidrBlock")
    """The address range of the VPC CAPA makes (default 10.0.0.0/16)."""


class CNI(Spec):
    """The cluster's network plugin: which traffic the machines' security groups let through for it."""

    type: Annotated[
        str,
        Field(max_length=63),
        Cel(
            Rule(
                cel=f"self in {list(CNI_TYPES)!r}".replace('"', "'"),
                message=f"network.cni.type must be one of {', '.join(CNI_TYPES)}",
                check=lambda v: v in CNI_TYPES,
                say=says(
                    f"network.cni.type '{{self}}' is not supported: choose one of {', '.join(CNI_TYPES)}"
                ),
            ),
            immutable("network.cni.type", "a running cluster's network plugin cannot be swapped"),
        ),
    ]


class Network(Spec):
    """The cluster's addresses and network plugin."""

    vpc: VPC = Field(default_factory=lambda: VPC.model_validate({}))
    pod_cidrs: (
        Annotated[
            list[PodCIDR],
            Field(min_length=1, max_length=RANGES_MAX),
            Cel(immutable("network.podCIDRs", _KEEP)),
        ]
        | None
    ) = Field(None, alias="podCIDRs")
    """Address ranges of the pods (default 192.168.0.0/16)."""
    service_cidrs: (
        Annotated[
            list[ServiceCIDR],
            Field(min_length=1, max_length=RANGES_MAX),
            Cel(immutable("network.serviceCIDRs", _KEEP)),
        ]
        | None
    ) = Field(None, alias="serviceCIDRs")
    """Address ranges of the Services (default 10.96.0.0/12)."""
    cni: CNI


def _present_as_before(field: str, attr: str) -> TransitionRule:
    """An immutable optional field may not appear or disappear either (its own rule sees only changes)."""
    return TransitionRule(
        cel=f"has(self.{field}) == has(oldSelf.{field})",
        message=f"network.{field} cannot be added or removed once the cluster exists",
        check=lambda old, new: (getattr(old, attr) is None) == (getattr(new, attr) is None),
        field_path=f".{field}",
    )


def _vpc_field_as_before(field: str, attr: str) -> TransitionRule:
    """The same for a field of the optional ``vpc``: giving an existing VPC's id to a running cluster, or
    dropping the range of the one CAPA made (back to the default), would move its machines."""
    present = f"(has({{s}}.vpc) && has({{s}}.vpc.{field}))"
    return TransitionRule(
        cel=f"{present.format(s='self')} == {present.format(s='oldSelf')}",
        message=f"network.vpc.{field} cannot be added or removed once the cluster exists",
        check=lambda old, new: (getattr(old.vpc, attr) is None) == (getattr(new.vpc, attr) is None),
        field_path=".vpc",
    )


NETWORK_RULES = (
    _present_as_before("podCIDRs", "pod_cidrs"),
    _present_as_before("serviceCIDRs", "service_cidrs"),
    _vpc_field_as_before("id", "id"),
    _vpc_field_as_before("cidrBlock", "cidr_block"),
)


class Volume(Spec):
    """An EBS volume of a machine."""

    type: Annotated[str, Field(max_length=16), Cel(one_of("volume type", VOLUME_TYPES))] | None = None
    """The EBS volume type (default: CAPA's, gp2)."""
    size: Annotated[int, Cel(within("volume size", 8, 16384, "GiB"))]
    """Size in GiB; at least 8, as the machine images need."""


class Taint(Spec):
    """A taint of the machines' nodes."""

    key: Annotated[str, Field(max_length=NAME_MAX)]
    value: Annotated[str | None, Field(max_length=63, pattern=LABEL_VALUE)] = None
    effect: Annotated[str, Field(max_length=16), Cel(one_of("taint effect", TAINT_EFFECTS))]


LabelValue = Annotated[str, Field(max_length=63, pattern=LABEL_VALUE)]


class Machines(Spec):
    """A set of identical machines."""

    replicas: Annotated[int, Field(ge=0, le=WORKERS_MAX)]
    instance_type: Annotated[
        str,
        Field(alias="instanceType", max_length=64),
        Cel(
            Rule(
                cel=f"self.matches('{INSTANCE_TYPE_PATTERN}')",
                message="instanceType must be an EC2 instance type such as t3.large",
                check=lambda v: re.fullmatch(INSTANCE_TYPE_PATTERN, v) is not None,
                say=says("instanceType '{self}' is not an EC2 instance type: write one such as t3.large"),
            )
        ),
    ]
    """The EC2 instance type, e.g. t3.large."""
    ssh_key_name: Annotated[str | None, Field(alias="sshKeyName", max_length=255)] = None
    """The EC2 key pair that logs in to the machines (none by default)."""
    image_os: Annotated[str | None, Field(alias="imageOS", max_length=63)] = None
    """The operating system of the machine image CAPA looks up (CAPA's default: ubuntu-24.04)."""
    root_volume: Volume | None = Field(None, alias="rootVolumeSize")
    """The root volume (Kurator's field name)."""
    non_root_volumes: Annotated[list[Volume] | None, Field(alias="nonRootVolumes", max_length=8)] = None
    """More volumes."""
    labels: Annotated[dict[str, LabelValue] | None, Field(max_length=64)] = None
    """Labels of the machines' nodes."""
    taints: Annotated[list[Taint] | None, Field(max_length=32)] = None
    """Taints of the machines' nodes."""


ODD_MASTERS = Rule(
    cel=f"self.replicas % 2 == 1 && self.replicas <= {MASTERS_MAX}",
    message="master.replicas must be odd (1, 3, 5 or 7): etcd on the masters needs a majority",
    check=lambda m: m.replicas % 2 == 1 and m.replicas <= MASTERS_MAX,
)


class Master(Machines):
    """The control-plane machines (etcd runs on them)."""


PERCENT = "^[0-9]{1,3}%$"
IntOrPercent = Annotated[
    int | str,
    # bounded, so the API server can bound the rule's cost: a percentage has at most 3 digits
    WithJsonSchema({"x-kubernetes-int-or-string": True, "maxLength": 4}),
    Cel(
        Rule(
            cel=f"type(self) == int ? self >= 0 : self.matches('{PERCENT}')",
            message="maxUnavailable and maxSurge are a number of machines or a percentage such as 25%",
            check=lambda v: v >= 0 if isinstance(v, int) else re.fullmatch(PERCENT, v) is not None,
        )
    ),
]


class RollingUpdate(Spec):
    """How many machines a rolling update may take down or add at once."""

    max_unavailable: IntOrPercent | None = Field(None, alias="maxUnavailable")
    max_surge: IntOrPercent | None = Field(None, alias="maxSurge")
    delete_policy: (
        Annotated[str, Field(max_length=16), Cel(one_of("rollingUpdate.deletePolicy", DELETE_POLICIES))]
        | None
    ) = Field(None, alias="deletePolicy")
    """Which machines go first when scaling down (default Newest)."""


class Strategy(Spec):
    """How the workers are replaced on a change (Cluster API's MachineDeployment strategy)."""

    type: Annotated[str, Field(max_length=16), Cel(one_of("strategy.type", STRATEGY_TYPES))] | None = None
    rolling_update: RollingUpdate | None = Field(None, alias="rollingUpdate")


class Worker(Machines):
    """A pool of worker machines."""

    strategy: Strategy | None = None


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


def _all_ranges(spec: Any) -> list[tuple[str, str]]:
    net = spec.network
    out = [(f"network.podCIDRs {c}", c) for c in net.pod_cidrs or [DEFAULT_POD_CIDR]]
    out += [(f"network.serviceCIDRs {c}", c) for c in net.service_cidrs or [DEFAULT_SERVICE_CIDR]]
    if net.vpc.cidr_block or not net.vpc.id:
        out.append(
            (
                f"network.vpc.cidrBlock {net.vpc.cidr_block or DEFAULT_VPC_CIDR}",
                net.vpc.cidr_block or DEFAULT_VPC_CIDR,
            )
        )
    return out


def _no_overlap(spec: Any) -> bool:
    ranges = [c for _, c in _all_ranges(spec) if is_cidr(c)]
    return not any(overlap(a, b) for i, a in enumerate(ranges) for b in ranges[i + 1 :])


def _both(a: str, b: str) -> str:
    """CEL: ranges ``a`` and ``b`` (expressions) do not overlap (each holds the other's first address)."""
    return (
        f"!isCIDR({a}) || !isCIDR({b}) || !(cidr({a}).containsIP(cidr({b}).masked().ip()) "
        f"|| cidr({b}).containsIP(cidr({a}).masked().ip()))"
    )


_PODS = f"(has(self.network.podCIDRs) ? self.network.podCIDRs : ['{DEFAULT_POD_CIDR}'])"
_SERVICES = f"(has(self.network.serviceCIDRs) ? self.network.serviceCIDRs : ['{DEFAULT_SERVICE_CIDR}'])"
_VPC = (
    f"(!has(self.network.vpc) ? ['{DEFAULT_VPC_CIDR}'] "
    ": has(self.network.vpc.cidrBlock) ? [self.network.vpc.cidrBlock] "
    f": has(self.network.vpc.id) ? [] : ['{DEFAULT_VPC_CIDR}'])"
)

SPEC_RULES = (
    Rule(
        cel=f"{_PODS}.all(p, {_SERVICES}.all(s, {_both('p', 's')}))"
        f" && {_PODS}.all(p, {_VPC}.all(v, {_both('p', 'v')}))"
        f" && {_SERVICES}.all(s, {_VPC}.all(v, {_both('s', 'v')}))",
        message="network.podCIDRs, network.serviceCIDRs and network.vpc.cidrBlock overlap: machines, pods "
        "and Services need address ranges of their own",
        check=_no_overlap,
        field_path=".network",
    ),
)

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
