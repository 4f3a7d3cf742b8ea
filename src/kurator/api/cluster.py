"""CustomCluster: a Kubernetes cluster that Kubespray builds on the hosts of a CustomMachine, in Kurator's
shape (``spec.machineRef``, ``spec.cni.type``, ``spec.controlPlaneConfig``) plus what Kurator read from
Cluster API objects (version, pod and service ranges), which may still come from there when left out.

What cannot change on a running cluster is immutable; versions move up one minor at a time, never down.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field

from kurator.api import kubespray
from kurator.api.common import NAME_MAX, Conditions, Reference, Resource, Spec, Status, reference_rules
from kurator.api.machine import MASTERS_MAX, NODES_MAX
from kurator.api.names import API_VERSION
from kurator.api.rules import (
    CIDR_MAX,
    DNS1123_SUBDOMAIN,
    IP_MAX,
    Cel,
    Rule,
    TransitionRule,
    cidr,
    dns_subdomain,
    immutable,
    ip_address,
    is_cidr,
    is_ip,
    overlap,
    says,
    says_of_update,
)

VERSION_PATTERN = "^v1[.][0-9]+[.][0-9]+$"
_CHOICES = kubespray.describe_versions()
_PLUGINS = ", ".join(kubespray.NETWORK_PLUGINS)
# Transition rules on versions read minor and patch numbers; a malformed version is another rule's matter.
_BOTH_WELL_FORMED = f"!self.matches('{VERSION_PATTERN}') || !oldSelf.matches('{VERSION_PATTERN}') || "
_NEW_MINOR, _OLD_MINOR = "int(self.split('.')[1])", "int(oldSelf.split('.')[1])"


def _minor(version: str) -> int:
    return int(version.split(".")[1])


def _minor_patch(version: str) -> tuple[int, int]:
    return _minor(version), int(version.split(".")[2])


def _well_formed(*versions: str) -> bool:
    return all(re.fullmatch(VERSION_PATTERN, v) for v in versions)


def _cel_list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


VERSION_RULES = (
    Rule(
        cel=f"self in {_cel_list(kubespray.KUBERNETES_VERSIONS)}",
        message=f"kubernetesVersion must be one Kubespray {kubespray.KUBESPRAY_VERSION} installs: {_CHOICES}",
        check=lambda v: v in kubespray.KUBERNETES_VERSIONS,
        say=says(
            f"kubernetesVersion '{{self}}' is not one Kubespray {kubespray.KUBESPRAY_VERSION} installs: "
            f"choose {_CHOICES}"
        ),
    ),
    TransitionRule(
        cel=_BOTH_WELL_FORMED + f"{_NEW_MINOR} > {_OLD_MINOR} "
        f"|| ({_NEW_MINOR} == {_OLD_MINOR} && int(self.split('.')[2]) >= int(oldSelf.split('.')[2]))",
        message="kubernetesVersion cannot go down: a cluster can only be upgraded",
        check=lambda old, new: not _well_formed(old, new) or _minor_patch(new) >= _minor_patch(old),
        say=says_of_update(
            "kubernetesVersion cannot go down from {old} to {new}: a cluster can only be upgraded"
        ),
    ),
    TransitionRule(
        cel=_BOTH_WELL_FORMED + f"{_NEW_MINOR} <= {_OLD_MINOR} + 1",
        message="kubernetesVersion can move up one minor version at a time",
        check=lambda old, new: not _well_formed(old, new) or _minor(new) <= _minor(old) + 1,
        say=says_of_update(
            "kubernetesVersion cannot go from {old} to {new} in one step: upgrade one minor version at a time"
        ),
    ),
)

CNI_RULES = (
    Rule(
        cel=f"self in {_cel_list(kubespray.NETWORK_PLUGINS)}",
        message=f"cni.type must be one of {_PLUGINS}",
        check=lambda v: v in kubespray.NETWORK_PLUGINS,
        say=says(f"cni.type '{{self}}' is not supported: choose one of {_PLUGINS}"),
    ),
    immutable("cni.type", "a running cluster's network plugin cannot be swapped"),
)

CERT_SAN_RULE = Rule(
    cel=f"isIP(self) || self.matches('{DNS1123_SUBDOMAIN}')",
    message="certSANs entries must be IP addresses or DNS names",
    check=lambda v: is_ip(v) or re.fullmatch(DNS1123_SUBDOMAIN, v) is not None,
    say=says("certSANs entry '{self}' is neither an IP address nor a DNS name"),
)


class CNIConfig(Spec):
    """The cluster's network plugin."""

    type: Annotated[str, Field(max_length=63), Cel(*CNI_RULES)]
    """One of the network plugins the pinned Kubespray installs: calico, cilium, flannel, kube-ovn,
    kube-router (Kubespray's kube_network_plugin)."""


CertSAN = Annotated[str, Field(max_length=NAME_MAX), Cel(CERT_SAN_RULE)]
DNSName = Annotated[
    str, Field(max_length=NAME_MAX), Cel(dns_subdomain("loadBalancerDomainName", "a DNS name"))
]


class ControlPlaneConfig(Spec):
    """A virtual IP in front of every master's API server (kube-vip), as Kurator's controlPlaneConfig."""

    address: Annotated[str, Field(max_length=IP_MAX), Cel(*ip_address("controlPlaneConfig.address"))]
    """The virtual IP clients reach the API server at."""
    cert_sans: Annotated[list[CertSAN], Field(max_length=32)] | None = Field(None, alias="certSANs")
    """More names and addresses for the API server's certificate."""
    load_balancer_domain_name: DNSName | None = Field(None, alias="loadBalancerDomainName")
    """The DNS name clients reach the API server by (default: the address)."""


class APIEndpoint(Spec):
    """Where the cluster's API server is reached, in the shape Cluster API reads from an infrastructure
    cluster (``spec.controlPlaneEndpoint``)."""

    host: Annotated[str, Field(max_length=NAME_MAX)]
    port: Annotated[int, Field(ge=1, le=65535)]


class CustomClusterSpec(Spec):
    """The cluster Kubespray builds: on which hosts, with which network plugin, version and ranges."""

    machine_ref: Annotated[
        Reference,
        Field(alias="machineRef"),
        reference_rules("machineRef", "CustomMachine", API_VERSION),
        Cel(immutable("machineRef", "add or remove hosts by editing the CustomMachine it names")),
    ]
    """The CustomMachine listing the cluster's hosts."""
    cni: CNIConfig
    kubernetes_version: Annotated[str, Field(max_length=32), Cel(*VERSION_RULES)] | None = Field(
        None, alias="kubernetesVersion"
    )
    """The Kubernetes version, e.g. v1.35.4. Left out: taken from the Cluster API KubeadmControlPlane of
    the cluster, as Kurator does. Upgrades move one minor version at a time; downgrades are refused."""
    pod_cidr: (
        Annotated[
            str,
            Field(max_length=CIDR_MAX),
            Cel(
                *cidr("podCIDR", "10.233.64.0/18"),
                immutable("podCIDR", "the pods of a running cluster keep the addresses they were given"),
            ),
        ]
        | None
    ) = Field(None, alias="podCIDR")
    """Addresses for pods (Kubespray's kube_pods_subnet). Left out: the Cluster API Cluster's pod range,
    else Kubespray's default 10.233.64.0/18."""
    service_cidr: (
        Annotated[
            str,
            Field(max_length=CIDR_MAX),
            Cel(
                *cidr("serviceCIDR", "10.233.0.0/18"),
                immutable(
                    "serviceCIDR", "the Services of a running cluster keep the addresses they were given"
                ),
            ),
        ]
        | None
    ) = Field(None, alias="serviceCIDR")
    """Addresses for Services (Kubespray's kube_service_addresses). Left out: the Cluster API Cluster's
    service range, else Kubespray's default 10.233.0.0/18."""
    control_plane_config: (
        Annotated[
            ControlPlaneConfig,
            Cel(immutable("controlPlaneConfig", "its address is in every kubeconfig and certificate")),
        ]
        | None
    ) = Field(None, alias="controlPlaneConfig")
    fleet: Annotated[str, Field(max_length=NAME_MAX), Cel(dns_subdomain("fleet", "a fleet name"))] | None = (
        None
    )
    """The fleet (a Karmada control plane) the cluster joins once it is provisioned; remove it to leave."""
    control_plane_endpoint: APIEndpoint | None = Field(None, alias="controlPlaneEndpoint")
    """Written by the operator once the cluster is provisioned: where its API server answers (the Cluster
    API infrastructure contract; Cluster API copies it into the Cluster)."""


def _present_as_before(field: str, attr: str) -> TransitionRule:
    """An immutable optional field may not appear or disappear either (its own rule sees only changes)."""
    return TransitionRule(
        cel=f"has(self.{field}) == has(oldSelf.{field})",
        message=f"{field} cannot be added or removed once the cluster exists",
        check=lambda old, new: (getattr(old, attr) is None) == (getattr(new, attr) is None),
        field_path=f".{field}",
    )


SPEC_RULES = (
    Rule(
        cel="!has(self.podCIDR) || !has(self.serviceCIDR) "
        "|| !isCIDR(self.podCIDR) || !isCIDR(self.serviceCIDR) "
        "|| !(cidr(self.podCIDR).containsIP(cidr(self.serviceCIDR).masked().ip()) "
        "|| cidr(self.serviceCIDR).containsIP(cidr(self.podCIDR).masked().ip()))",
        message="podCIDR and serviceCIDR overlap: pods and Services need address ranges of their own",
        check=lambda spec: (
            not (spec.pod_cidr and spec.service_cidr)
            or not (is_cidr(spec.pod_cidr) and is_cidr(spec.service_cidr))
            or not overlap(spec.pod_cidr, spec.service_cidr)
        ),
    ),
    _present_as_before("podCIDR", "pod_cidr"),
    _present_as_before("serviceCIDR", "service_cidr"),
    _present_as_before("controlPlaneConfig", "control_plane_config"),
    TransitionRule(
        cel="has(self.kubernetesVersion) || !has(oldSelf.kubernetesVersion)",
        message="kubernetesVersion cannot be removed once set",
        check=lambda old, new: new.kubernetes_version is not None or old.kubernetes_version is None,
        field_path=".kubernetesVersion",
    ),
)

Phase = Literal[
    "Pending",
    "Provisioning",
    "Provisioned",
    "ProvisionFailed",
    "ScalingUp",
    "ScalingDown",
    "Upgrading",
    "Deleting",
    "DeletingFailed",
    "Unknown",
]


Role = Literal["master", "node"]


class ProvisionedHost(Status):
    """A host Kubespray last installed successfully: kept with its addresses and key, because removing it
    later needs them after it has left the CustomMachine."""

    host_name: Annotated[str, Field(alias="hostName", max_length=NAME_MAX)]
    role: Role
    public_ip: Annotated[str, Field(alias="publicIP", max_length=IP_MAX)]
    private_ip: Annotated[str, Field(alias="privateIP", max_length=IP_MAX)]
    ssh_key_secret: Annotated[str, Field(alias="sshKeySecret", max_length=NAME_MAX)]
    """The name of the Secret holding the host's SSH key (never the key)."""


class Initialization(Status):
    """The Cluster API (v1beta2) infrastructure contract's view of provisioning."""

    provisioned: bool | None = None
    """True once the cluster's hosts run Kubernetes."""


class CustomClusterStatus(Status):
    """What the operator last saw of the cluster."""

    phase: Phase | None = None
    """Where the cluster is in its life (Kurator's phases)."""
    conditions: Conditions | None = None
    api_endpoint: Annotated[str | None, Field(alias="apiEndpoint", max_length=512)] = None
    """Where the cluster's API server answers, https://host:port."""
    kubeconfig_secret_ref: Annotated[str | None, Field(alias="kubeconfigSecretRef", max_length=NAME_MAX)] = (
        None
    )
    """The name of the Secret, in this namespace, holding the cluster's admin kubeconfig (a name, as in
    Kurator)."""
    kubernetes_version: Annotated[str | None, Field(alias="kubernetesVersion", max_length=32)] = None
    """The version the cluster runs."""
    masters: Annotated[int | None, Field(ge=0)] = None
    """How many masters the cluster has."""
    nodes: Annotated[int | None, Field(ge=0)] = None
    """How many worker nodes the cluster has."""
    observed_generation: Annotated[int | None, Field(alias="observedGeneration", ge=0)] = None
    """The metadata.generation this status was computed from."""
    provisioned_hosts: Annotated[
        list[ProvisionedHost] | None, Field(alias="provisionedHosts", max_length=MASTERS_MAX + NODES_MAX)
    ] = None
    """The hosts the last successful Kubespray run left in the cluster: what scale-up and scale-down are
    computed against."""
    hosts_checked_generation: Annotated[int | None, Field(alias="hostsCheckedGeneration", ge=0)] = None
    """The CustomMachine generation whose hosts last passed the SSH preflight."""
    ready: bool | None = None
    """True once the cluster is provisioned (the Cluster API v1beta1 infrastructure contract)."""
    initialization: Initialization | None = None
    fleet: Annotated[str | None, Field(max_length=NAME_MAX)] = None
    """The fleet the cluster is joined to (it keeps that fleet's name until it has left)."""


class CustomCluster(Resource):
    """A Kubernetes cluster that Kubespray builds on the hosts of a CustomMachine."""

    api_version: Literal["cluster.kurator.dev/v1alpha1"] = Field(
        "cluster.kurator.dev/v1alpha1", alias="apiVersion"
    )
    kind: Literal["CustomCluster"] = "CustomCluster"
    spec: Annotated[CustomClusterSpec, Cel(*SPEC_RULES)]
    status: CustomClusterStatus | None = None
