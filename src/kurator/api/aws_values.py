"""The values an AWS ``Cluster`` accepts (regions, versions, instance types, volume and taint kinds) and the
rules of its version: one Cluster API v1.13 manages, upgraded one minor at a time, never down."""

from __future__ import annotations

import re

from kurator.api.rules import Rule, TransitionRule, says, says_of_update

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
