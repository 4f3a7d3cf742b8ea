"""What the operator does next for an AWS ``Cluster``: apply its objects (with the workers' version held back
until the control plane runs the new one), or delete in order (Cluster API's Cluster first, which takes every
machine and AWS resource with it through CAPA; the identity and the credentials' copy only once it is gone,
since CAPA needs them until then), or, with ``kurator.dev/force-delete``, stop waiting and say what may
remain on AWS."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kurator.api.aws_cluster import ClusterSpec
from kurator.api.aws_values import minor

FINALIZER = "cluster.kurator.dev/aws-cluster"
FORCE_DELETE = "kurator.dev/force-delete"
Obj = Mapping[str, Any]


def _version_key(version: str) -> tuple[int, int]:
    parts = version.lstrip("v").split(".")
    return int(parts[1]), int(parts[2]) if len(parts) > 2 else 0


def worker_version(spec: ClusterSpec, control_plane: Obj | None, deployments: Sequence[Obj]) -> str:
    """The version the workers get now: the spec's once the control plane reports running it (Kubernetes'
    skew policy: kubelets never newer than the API server); until then the one they run. A new pool, or a
    cluster not made yet, starts at the spec's."""
    running = [
        str(((d.get("spec") or {}).get("template") or {}).get("spec", {}).get("version") or "")
        for d in deployments
    ]
    running = [v for v in running if v]
    if not running or control_plane is None:
        return spec.version
    reported = str((control_plane.get("status") or {}).get("version") or "")
    if reported and _version_key(reported) >= _version_key(spec.version):
        return spec.version
    return min(running, key=_version_key)


def upgrading(spec: ClusterSpec, control_plane: Obj | None) -> str | None:
    """A message while the control plane moves to the spec's version (None when it runs it)."""
    if control_plane is None:
        return None
    reported = str((control_plane.get("status") or {}).get("version") or "")
    if not reported or _version_key(reported) >= _version_key(spec.version):
        return None
    step = "" if minor(spec.version) <= minor(reported) + 1 else " (one minor at a time)"
    return f"upgrading the control plane from {reported} to {spec.version}{step}; the workers follow"


@dataclass(frozen=True)
class Leftovers:
    """What may remain on AWS when a deletion is forced: what CAPA last reported it had made."""

    vpc: str | None = None
    load_balancers: tuple[str, ...] = ()
    instances: tuple[str, ...] = ()
    other: tuple[str, ...] = field(default_factory=tuple)

    def describe(self) -> str:
        parts = [f"VPC {self.vpc}"] if self.vpc else []
        parts += [f"load balancer {lb}" for lb in self.load_balancers]
        parts += [f"instance {i}" for i in self.instances]
        parts += list(self.other)
        return ", ".join(parts) if parts else "nothing CAPA reported"


def leftovers(aws_cluster: Obj | None, aws_machines: Sequence[Obj]) -> Leftovers:
    net = ((aws_cluster or {}).get("status") or {}).get("networkStatus") or {}
    spec_vpc = (((aws_cluster or {}).get("spec") or {}).get("network") or {}).get("vpc") or {}
    lbs = [
        str(lb.get("name") or lb.get("dnsName"))
        for lb in (net.get("apiServerElb"), net.get("secondaryAPIServerELB"))
        if lb and (lb.get("name") or lb.get("dnsName"))
    ]
    instances = [str(((m.get("spec") or {}).get("instanceID")) or "") for m in aws_machines]
    return Leftovers(
        vpc=spec_vpc.get("id"),
        load_balancers=tuple(lbs),
        instances=tuple(i for i in instances if i),
    )
