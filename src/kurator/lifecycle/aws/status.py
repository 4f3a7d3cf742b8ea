"""An AWS ``Cluster``'s status folded from its Cluster API and CAPA objects: conditions for its credentials,
infrastructure, control plane, workers, kubeconfig and fleet, Ready, and Kurator's phase (Pending,
Provisioning, Provisioned, Failed, Deleting), each saying what CAPA or Cluster API said when something is not
there yet (the reason and message of the first condition of theirs that is not True).

A condition keeps its ``lastTransitionTime`` while its status stays the same."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from kurator.api.aws_cluster import Cluster, ClusterStatus, Phase
from kurator.api.common import Condition
from kurator.lifecycle.aws import names as n

Obj = Mapping[str, Any]
CONTROL_PLANE_LABEL = "cluster.x-k8s.io/control-plane"  # Cluster API's, on a control plane's Machines
Severity = Literal["Error", "Warning", "Info"]
# CAPA's and Cluster API's condition reasons of a failure that needs a person (credentials, quotas, a
# request AWS refuses), as opposed to something still on its way.
FAILED_WORDS = (
    "AuthFailure",
    "UnauthorizedOperation",
    "InvalidClientTokenId",
    "AccessDenied",
    "SignatureDoesNotMatch",
    "Failed",
    "failed",
    "Unauthorized",
    "Error",
)


@dataclass(frozen=True)
class Observed:
    """What the operator read for one Cluster (None: not there)."""

    capi_cluster: Obj | None = None
    aws_cluster: Obj | None = None
    control_plane: Obj | None = None
    deployments: tuple[Obj, ...] = ()
    machines: tuple[Obj, ...] = ()
    kubeconfig: bool = False
    credential_problem: str | None = None
    """Why the credential Secret cannot be used (missing, a key missing); never its content."""
    fleet_joined: str | None = None
    fleet_problem: str | None = None
    deletion_blocker: str | None = None
    upgrading: str | None = None
    """What an upgrade under way is doing (plan.upgrading)."""
    made: bool = False
    """The objects were applied (they may not have come back through the watch yet)."""


def _status(obj: Obj | None) -> Mapping[str, Any]:
    return (obj or {}).get("status") or {}


def _conditions(obj: Obj | None) -> list[Mapping[str, Any]]:
    """v1beta2 conditions, or those Cluster API's v1beta1 contract (CAPA) writes."""
    st = _status(obj)
    return list(st.get("conditions") or ((st.get("v1beta2") or {}).get("conditions")) or [])


def _first_not_true(obj: Obj | None, skip: Iterable[str] = ("Ready", "Paused")) -> Mapping[str, Any] | None:
    """The first condition that is not True, errors before warnings (what the object waits for)."""
    pending = [c for c in _conditions(obj) if c.get("type") not in set(skip) and c.get("status") != "True"]
    rank = {"Error": 0, "Warning": 1, "Info": 2}
    pending.sort(key=lambda c: rank.get(str(c.get("severity")), 3))
    return pending[0] if pending else None


def _why(obj: Obj | None, kind: str, name: str) -> tuple[str, str, bool]:
    """(reason, message, failed) of an object that is not ready, in its own words."""
    if obj is None:
        return "Waiting", f"{kind} {name} does not exist yet", False
    c = _first_not_true(obj)
    if c is None:
        return "Waiting", f"{kind} {name} is not ready yet", False
    reason = str(c.get("reason") or c.get("type") or "Waiting")
    message = f"{kind} {name}: {c.get('type')}: {c.get('message') or reason}"
    failed = c.get("severity") == "Error" or any(
        w in f"{reason} {c.get('message') or ''}" for w in FAILED_WORDS
    )
    return reason, message, failed


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int) else 0


def _running(machines: Iterable[Obj]) -> tuple[int, int]:
    """(masters, workers) whose Machine runs: its node joined (Cluster API's phase Running). Not Ready:
    a master's Machine is Ready only once its etcd member and static pods are healthy, which KCP reports."""
    masters = workers = 0
    for m in machines:
        if _status(m).get("phase") != "Running" or (m.get("metadata") or {}).get("deletionTimestamp"):
            continue
        if CONTROL_PLANE_LABEL in ((m.get("metadata") or {}).get("labels") or {}):
            masters += 1
        else:
            workers += 1
    return masters, workers


@dataclass
class Fold:
    now: datetime
    generation: int | None
    conditions: list[Condition] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def set(self, type_: str, ok: bool, reason: str, message: str = "", failed: bool = False) -> None:
        severity: Severity | None = None if ok else ("Error" if failed else "Info")
        if failed:
            self.failed.append(message or reason)
        self.conditions.append(
            Condition(
                type=type_,
                status="True" if ok else "False",
                reason=reason,
                message=message or None,
                severity=severity,
                lastTransitionTime=self.now,
                observed_generation=self.generation,
            )
        )


def fold(cluster: Cluster, seen: Observed, now: datetime) -> ClusterStatus:
    """The status ``seen`` says ``cluster`` has (before transition times are kept, see keep_times)."""
    meta = cluster.metadata
    name = str(meta.get("name"))
    f = Fold(now, meta.get("generation"))
    spec = cluster.spec
    if spec.credential is not None:
        _credential(f, seen)
    infra_ok = _infrastructure(f, seen, name)
    cp_ok = _control_plane(f, cluster, seen)
    workers_ok = _workers(f, cluster, seen)
    for machine in seen.machines:
        if _status(machine).get("phase") == "Failed":
            _, message, _ = _why(machine, "Machine", str(machine["metadata"]["name"]))
            f.failed.append(message)
    _kubeconfig(f, seen, name)
    if spec.fleet:
        _fleet(f, spec.fleet, seen)
    _ready(f)
    deleting = bool(meta.get("deletionTimestamp"))
    if deleting:
        _deleting(f, seen)
    endpoint = ((seen.capi_cluster or {}).get("spec") or {}).get("controlPlaneEndpoint") or {}
    running_masters, running_workers = _running(seen.machines)
    return ClusterStatus(
        phase=_phase(f, seen, deleting, infra_ok and cp_ok and workers_ok),
        conditions=f.conditions,
        api_endpoint=f"https://{endpoint['host']}:{endpoint['port']}" if endpoint.get("host") else None,
        kubeconfig_secret_ref=n.kubeconfig_secret(name) if seen.kubeconfig else None,
        version=_status(seen.control_plane).get("version"),
        masters=running_masters,
        workers=running_workers,
        observed_generation=meta.get("generation"),
        fleet=seen.fleet_joined,
    )


def _credential(f: Fold, seen: Observed) -> None:
    problem = seen.credential_problem
    f.set(
        "CredentialReady",
        problem is None,
        "CredentialInvalid" if problem else "Found",
        problem or "",
        bool(problem),
    )


def _infrastructure(f: Fold, seen: Observed, name: str) -> bool:
    """InfrastructureReady: CAPA's AWSCluster is ready (its VPC, load balancer and security groups exist)."""
    ok = bool(_status(seen.aws_cluster).get("ready"))
    if ok:
        f.set("InfrastructureReady", True, "Provisioned")
    else:
        f.set("InfrastructureReady", False, *_why(seen.aws_cluster, "AWSCluster", name))
    return ok


def _control_plane(f: Fold, cluster: Cluster, seen: Observed) -> bool:
    """ControlPlaneReady: enough masters ready, the control plane initialized, no upgrade under way."""
    name, want = str(cluster.metadata.get("name")), cluster.spec.master.replicas
    cp = _status(seen.control_plane)
    ready = _int(cp.get("readyReplicas"))
    ok = ready >= want and bool((cp.get("initialization") or {}).get("controlPlaneInitialized"))
    counted = f"{ready} of {want} masters ready"
    if seen.upgrading:
        # Ready masters run the old version: the control plane is not what the spec asks for yet.
        f.set("ControlPlaneReady", False, "Upgrading", f"{counted}; {seen.upgrading}")
        return False
    if ok:
        f.set("ControlPlaneReady", True, "Running", counted)
        return True
    reason, message, failed = _why(seen.control_plane, "KubeadmControlPlane", n.control_plane(name))
    f.set("ControlPlaneReady", False, reason, f"{counted}; {message}", failed)
    return False


def _workers(f: Fold, cluster: Cluster, seen: Observed) -> bool:
    """WorkersReady: every pool's MachineDeployment has its replicas, all ready."""
    want = sum(w.replicas for w in cluster.spec.workers)
    ready = sum(_int(_status(d).get("readyReplicas")) for d in seen.deployments)
    running = sum(_int(_status(d).get("replicas")) for d in seen.deployments)
    counted = f"{ready} of {want} workers ready"
    if ready == want and running == want:
        f.set("WorkersReady", True, "Running", counted)
        return True
    waiting = [
        d
        for d in seen.deployments
        if _int(_status(d).get("readyReplicas")) != _int((d.get("spec") or {}).get("replicas"))
    ]
    reason, message, failed = (
        _why(waiting[0], "MachineDeployment", str(waiting[0]["metadata"]["name"]))
        if waiting
        else ("Waiting", "", False)
    )
    f.set("WorkersReady", False, reason or "Waiting", counted + (f"; {message}" if message else ""), failed)
    return False


def _kubeconfig(f: Fold, seen: Observed, name: str) -> None:
    f.set(
        "KubeconfigReady",
        seen.kubeconfig,
        "Found" if seen.kubeconfig else "Waiting",
        ""
        if seen.kubeconfig
        else f"Secret {n.kubeconfig_secret(name)} is written by Cluster API once the control plane is up",
    )


def _fleet(f: Fold, fleet: str, seen: Observed) -> None:
    joined = seen.fleet_joined == fleet
    f.set(
        "FleetJoined",
        joined,
        "Joined" if joined else "Waiting",
        seen.fleet_problem or ("" if joined else f"joins fleet {fleet} once its API server answers"),
    )


def _ready(f: Fold) -> None:
    """Ready: every condition so far is True; else the first one's message says what is waited for."""
    ready = all(c.status == "True" for c in f.conditions)
    f.set(
        "Ready",
        ready,
        "Ready" if ready else "Waiting",
        "" if ready else next((c.message or c.reason or "" for c in f.conditions if c.status != "True"), ""),
    )


def _deleting(f: Fold, seen: Observed) -> None:
    f.set(
        "Deleting",
        True,
        "Blocked" if seen.deletion_blocker else "Deleting",
        seen.deletion_blocker
        or "deleting every Cluster API object, and with them the cluster's AWS resources",
    )


def _phase(f: Fold, seen: Observed, deleting: bool, provisioned: bool) -> Phase:
    if deleting:
        return "Deleting"
    if f.failed:
        return "Failed"
    if seen.capi_cluster is None and not seen.made:
        return "Pending"
    return "Provisioned" if provisioned else "Provisioning"


def keep_times(old: ClusterStatus | None, new: ClusterStatus) -> ClusterStatus:
    """A condition whose status did not change keeps the time it last changed."""
    before = {c.type: c for c in (old.conditions if old and old.conditions else [])}
    kept = [
        c.model_copy(update={"last_transition_time": before[c.type].last_transition_time})
        if c.type in before and before[c.type].status == c.status
        else c
        for c in new.conditions or []
    ]
    return new.model_copy(update={"conditions": kept})


# How AWS says it refused the caller: error codes, and the HTTP status where the body was not understood
# (the SDK's "UnknownError" for a 403); ranked: the clearest first.
REFUSED = (
    ("AuthFailure", "InvalidClientTokenId", "UnauthorizedOperation", "AccessDenied", "SignatureDoesNotMatch"),
    ("StatusCode: 401", "StatusCode: 403"),
)
REFUSED_HINT = " (AWS refused the request: the credentials are revoked, wrong or without permission)"


def _refused(obj: Obj) -> tuple[int, Mapping[str, Any]] | None:
    """The condition of ``obj`` that says AWS refused the caller, with its rank, if one does."""
    for rank, words in enumerate(REFUSED):
        for c in _conditions(obj):
            if c.get("status") != "True" and any(w in str(c.get("message") or "") for w in words):
                return rank, c
    return None


def blocker(aws_cluster: Obj | None, aws_machines: Iterable[Obj]) -> str | None:
    """What keeps CAPA from deleting, in CAPA's words: refused credentials first wherever CAPA reports them
    (each of its conditions fails on its own call, and the first by order may be one whose error AWS's
    answer left unnamed), else the first failed condition of the AWSCluster or an AWSMachine (a region that
    answers errors); None while it makes progress."""
    objs = [(o, k) for o, k in [(aws_cluster, "AWSCluster"), *((m, "AWSMachine") for m in aws_machines)] if o]
    refused = [(r[0], i, r[1], o, k) for i, (o, k) in enumerate(objs) if (r := _refused(o)) is not None]
    if refused:
        rank, _, c, obj, kind = min(refused, key=lambda x: (x[0], x[1]))
        message = f"{kind} {obj['metadata']['name']}: {c.get('type')}: {c.get('message')}"
        return f"CAPA cannot delete: {message}" + (REFUSED_HINT if rank else "")
    for obj, kind in objs:
        _, message, failed = _why(obj, kind, str(obj["metadata"]["name"]))
        if failed:
            return f"CAPA cannot delete: {message}"
    return None
