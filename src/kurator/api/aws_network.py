"""An AWS ``Cluster``'s network: its VPC (made by CAPA or an existing one), the pods' and Services' address
ranges, its network plugin; which of them a running cluster keeps, and that the ranges do not overlap."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import Field

from kurator.api.aws_values import (
    CNI_TYPES,
    DEFAULT_POD_CIDR,
    DEFAULT_SERVICE_CIDR,
    DEFAULT_VPC_CIDR,
    RANGES_MAX,
    VPC_ID_PATTERN,
)
from kurator.api.common import Spec
from kurator.api.rules import CIDR_MAX, Cel, Rule, TransitionRule, cidr, immutable, is_cidr, overlap, says

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
