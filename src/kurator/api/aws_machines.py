"""An AWS ``Cluster``'s machines: the masters (an odd number, for etcd) and pools of workers, their instance
type, volumes, labels and taints, and how a pool is replaced on a change."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, WithJsonSchema

from kurator.api.aws_values import (
    DELETE_POLICIES,
    INSTANCE_TYPE_PATTERN,
    MASTERS_MAX,
    STRATEGY_TYPES,
    TAINT_EFFECTS,
    VOLUME_TYPES,
    WORKERS_MAX,
    one_of,
    within,
)
from kurator.api.common import NAME_MAX, Spec
from kurator.api.rules import LABEL_VALUE, Cel, Rule, says


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
