"""CustomMachine: the hosts a CustomCluster is built on, in Kurator's shape (``spec.master[]`` for the
control plane, ``spec.node[]`` for workers). etcd runs on the masters, so their number is odd; every host
has its own name and addresses, because they become the inventory Kubespray runs on."""

from __future__ import annotations

import re
from collections import Counter
from typing import Annotated, Literal

from pydantic import Field

from kurator.api.common import NAME_MAX, Conditions, Reference, Resource, Spec, Status, reference_rules
from kurator.api.rules import IP_MAX, LABEL_VALUE, Cel, Rule, dns_subdomain, ip_address

MASTERS_MAX = 7  # etcd beyond 7 members writes slower and gains little
NODES_MAX = 250  # the largest machine list must be checked within a second (bench/cel_validation.py)
LABELS_MAX = 64  # rules inside list items cost once per item: NODES_MAX x LABELS_MAX stays within budget


LabelValue = Annotated[str, Field(max_length=63)]
LABEL_VALUES = Rule(
    cel=f"self.all(k, self[k].matches('{LABEL_VALUE}'))",
    message="labels values must be letters, digits, '-', '_' and '.', "
    "starting and ending with a letter or digit",
    check=lambda labels: all(re.fullmatch(LABEL_VALUE, v) for v in labels.values()),
)


class Machine(Spec):
    """One host: reached over SSH at publicIP, running Kubernetes on privateIP."""

    host_name: Annotated[
        str, Field(alias="hostName", max_length=NAME_MAX), Cel(dns_subdomain("hostName", "a valid node name"))
    ]
    """The host's name: its name in the Ansible inventory and its Kubernetes node name."""
    public_ip: Annotated[str, Field(alias="publicIP", max_length=IP_MAX), Cel(*ip_address("publicIP"))]
    """The address kurator reaches the host at over SSH (Kubespray's ansible_host)."""
    private_ip: Annotated[str, Field(alias="privateIP", max_length=IP_MAX), Cel(*ip_address("privateIP"))]
    """The address Kubernetes binds to and the other hosts use (Kubespray's ip)."""
    ssh_key: Annotated[Reference, Field(alias="sshKey"), reference_rules("sshKey", "Secret", "v1")]
    """The Secret whose key ssh-privatekey logs in to the host."""
    labels: Annotated[dict[str, LabelValue], Field(max_length=LABELS_MAX), Cel(LABEL_VALUES)] | None = None
    """Labels for the host's Kubernetes node."""
    region: Annotated[str | None, Field(max_length=63)] = None
    """The region the host is in (kept from Kurator; not used yet)."""
    zone: Annotated[str | None, Field(max_length=63)] = None
    """The zone the host is in (kept from Kurator; not used yet)."""
    instance_type: Annotated[str | None, Field(alias="instanceType", max_length=NAME_MAX)] = None
    """Kurator v0.2.0 field, accepted so its manifests still apply; not used."""
    provider_id: Annotated[str | None, Field(alias="providerID", max_length=NAME_MAX)] = None
    """Kurator v0.2.0 field, accepted so its manifests still apply; not used."""
    instance_id: Annotated[str | None, Field(alias="instanceID", max_length=NAME_MAX)] = None
    """Kurator v0.2.0 field, accepted so its manifests still apply; not used."""


# Each list is a map keyed by hostName: the API server itself refuses a name twice in one list (in linear
# time), and server-side apply merges hosts by name.
BY_HOST_NAME = {"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["hostName"]}


class CustomMachineSpec(Spec):
    """The hosts of one cluster."""

    master: Annotated[list[Machine], Field(max_length=MASTERS_MAX, json_schema_extra=BY_HOST_NAME)] = Field(
        default_factory=list
    )
    """Control-plane hosts; etcd runs on them too, so there are 1, 3, 5 or 7."""
    node: Annotated[list[Machine], Field(max_length=NODES_MAX, json_schema_extra=BY_HOST_NAME)] = Field(
        default_factory=list
    )
    """Worker hosts."""


def _repeated(values: list[str]) -> str | None:
    """The first value that appears more than once."""
    counts = Counter(values)
    return next((v for v in values if counts[v] > 1), None)


def _shared(masters: list[str], nodes: list[str]) -> str | None:
    """The first master's value that a node has too."""
    return next((v for v in masters if v in set(nodes)), None)


def _unique(field: str, attr: str, why: str) -> tuple[Rule, Rule, Rule]:
    """No two machines share ``field``: among masters, among nodes, between the two.

    Each list's values are taken once (``[list.map(...)].all(l, ...)`` binds them, as CEL here has no
    ``bind``), then every value is looked up with the list library's native ``indexOf``/``lastIndexOf``
    and ``in``: the interpreted steps grow with the list, not with its square (rules that compared every
    pair of machines took the API server 7 s for the largest list). The messages cannot name the value:
    the API server cannot bound the length of a string picked from a list, and refuses such a message as
    too costly."""
    message = f"every machine in spec.master and spec.node needs its own {field}: {why}"

    def values(spec: CustomMachineSpec, role: str) -> list[str]:
        return [getattr(m, attr) for m in getattr(spec, role)]

    def within(role: str) -> Rule:
        return Rule(
            cel=f"!has(self.{role}) || [self.{role}.map(m, m.{field})]"
            ".all(l, l.all(v, l.indexOf(v) == l.lastIndexOf(v)))",
            message=message,
            check=lambda spec: _repeated(values(spec, role)) is None,
            field_path=f".{role}",
        )

    between = Rule(
        cel=f"!has(self.master) || !has(self.node) || [self.node.map(m, m.{field})]"
        f".all(l, self.master.all(a, !(a.{field} in l)))",
        message=message,
        check=lambda spec: _shared(values(spec, "master"), values(spec, "node")) is None,
    )
    return within("master"), within("node"), between


_ODD = "etcd runs on the masters and works only while a majority of them is up"

SPEC_RULES = (
    Rule(
        cel="has(self.master) && size(self.master) > 0",
        message="spec.master must list at least one machine: the control plane and etcd run on the masters",
        check=lambda spec: len(spec.master) > 0,
        field_path=".master",
    ),
    Rule(
        cel="!has(self.master) || size(self.master) % 2 == 1 || size(self.master) == 0",
        message=f"spec.master must have an odd number of machines (1, 3, 5 or 7): {_ODD}",
        check=lambda spec: len(spec.master) % 2 == 1 or not spec.master,
        field_path=".master",
    ),
    *_unique("hostName", "host_name", "it is the host's node name"),
    *_unique("publicIP", "public_ip", "kurator reaches each host at its own publicIP"),
    *_unique("privateIP", "private_ip", "Kubernetes tells hosts apart by their privateIP"),
)


class CustomMachineStatus(Status):
    """What the operator last saw of the hosts."""

    ready: bool | None = None
    """Whether every host answered the operator's checks."""
    masters: Annotated[int | None, Field(ge=0)] = None
    """How many hosts spec.master lists (written by the operator: a printer column cannot count)."""
    nodes: Annotated[int | None, Field(ge=0)] = None
    """How many hosts spec.node lists (written by the operator: a printer column cannot count)."""
    conditions: Conditions | None = None
    observed_generation: Annotated[int | None, Field(alias="observedGeneration", ge=0)] = None
    """The metadata.generation this status was computed from."""


class CustomMachine(Resource):
    """The hosts (masters and workers) a CustomCluster is built on."""

    api_version: Literal["cluster.kurator.dev/v1alpha1"] = Field(
        "cluster.kurator.dev/v1alpha1", alias="apiVersion"
    )
    kind: Literal["CustomMachine"] = "CustomMachine"
    spec: Annotated[CustomMachineSpec, Cel(*SPEC_RULES)]
    status: CustomMachineStatus | None = None
