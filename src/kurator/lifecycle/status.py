"""The CustomCluster's status folded from what exists: the hosts and version the last successful run left,
CAPI-style conditions for each kind of run (the latest Job of each kind: running, failed with the wrapper's
summary, or succeeded), Ready, KubeconfigReady, Deleting, and Kurator's phase.

Two steps, in this order: :func:`fold` (from the Jobs alone; what ``next_action`` reads Ready from), then
:func:`with_decision` (says in Ready why nothing happens when the decision is to stop). A condition keeps its
``lastTransitionTime`` while its status stays the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from kurator.api.cluster import CustomClusterStatus, Phase
from kurator.api.common import Condition
from kurator.lifecycle import hosts as h
from kurator.lifecycle.actions import Action, Kind
from kurator.lifecycle.group_vars import api_endpoint
from kurator.lifecycle.observed import ObservedJob, ObservedJobs
from kurator.lifecycle.state import Snapshot

Severity = Literal["Error", "Warning", "Info"]


@dataclass(frozen=True)
class _Words:
    condition: str
    running: str
    failed: str
    succeeded: str
    phase: Phase


WORDS: dict[str, _Words] = {
    Kind.CREATE: _Words("Provisioned", "Provisioning", "ProvisionFailed", "Provisioned", "Provisioning"),
    Kind.SCALE_UP: _Words("ScaledUp", "ScalingUp", "ScaleUpFailed", "ScaledUp", "ScalingUp"),
    Kind.SCALE_DOWN: _Words("ScaledDown", "ScalingDown", "ScaleDownFailed", "ScaledDown", "ScalingDown"),
    Kind.UPGRADE: _Words("Upgraded", "Upgrading", "UpgradeFailed", "Upgraded", "Upgrading"),
    Kind.DELETE: _Words("Deleting", "ResettingHosts", "ResetFailed", "HostsReset", "Deleting"),
}

RUNNING_REASONS = frozenset(w.running for w in WORDS.values())
"""The reasons of a condition whose run is under way."""

MANAGED = frozenset({w.condition for w in WORDS.values()} | {"Ready", "KubeconfigReady"})
"""The conditions :func:`fold` computes; others (e.g. the operator's preflight result) are kept."""

BLOCKING = (
    "RetryLimitReached",
    "ControlPlaneChangeUnsupported",
    "HostAddressChanged",
    "VersionUnknown",
    "VersionDowngrade",
    "ClusterAPIValuesInvalid",
    "MachineNotFound",
)
"""Decisions to do nothing that need a person: Ready says so."""


def _latest(jobs: Iterable[ObservedJob]) -> ObservedJob | None:
    return max(jobs, key=lambda j: (j.created, j.attempt), default=None)


def _failures(job: ObservedJob, observed: ObservedJobs) -> int:
    return sum(
        1 for j in observed if (j.action, j.generation, j.state) == (job.action, job.generation, "failed")
    )


def _describe(job: ObservedJob, observed: ObservedJobs) -> str:
    if job.state == "active":
        return f"Kubespray runs in Job {job.name} (attempt {job.attempt + 1})"
    if job.state == "succeeded":
        return f"Job {job.name} succeeded"
    if job.state == "stopped":
        return f"Job {job.name} was stopped: the cluster is being deleted"
    why = job.summary.describe() if job.summary else "no summary was written"
    return f"Job {job.name} failed ({_failures(job, observed)} failed attempts): {why}"


class _Conditions:
    """Conditions being built: each keeps its transition time from ``old`` while its status is unchanged."""

    def __init__(self, old: CustomClusterStatus | None, generation: int | None, now: datetime) -> None:
        self.old = {c.type: c for c in ((old.conditions or []) if old else [])}
        self.new: dict[str, Condition] = {}
        self.generation, self.now = generation, now

    def set(
        self, type_: str, status: bool, reason: str, message: str, severity: Severity | None = None
    ) -> None:
        text: Literal["True", "False"] = "True" if status else "False"
        before = self.old.get(type_)
        since = before.last_transition_time if before is not None and before.status == text else self.now
        self.new[type_] = Condition(
            type=type_,
            status=text,
            reason=reason,
            message=message,
            severity=None if status else (severity or "Info"),
            lastTransitionTime=since,
            observed_generation=self.generation,
        )

    def listed(self) -> list[Condition]:
        kept = {t: c for t, c in self.old.items() if t not in MANAGED}
        return sorted({**kept, **self.new}.values(), key=lambda c: c.type)


def fold(snap: Snapshot) -> CustomClusterStatus:
    """The status as the Jobs and the old status show it."""
    cluster, status, observed, now = snap.cluster, snap.status, snap.observed, snap.now
    generation = cluster.metadata.get("generation")
    installed, version, deleting = snap.installed, snap.version, snap.deleting
    conds = _Conditions(status, generation, now)
    for kind, words in WORDS.items():
        job = _latest(j for j in observed if j.action == kind)
        if job is None:
            continue
        if job.state == "active":
            conds.set(words.condition, kind == Kind.DELETE, words.running, _describe(job, observed))
        elif job.state == "failed":
            conds.set(words.condition, False, words.failed, _describe(job, observed), "Error")
        elif job.state == "stopped":
            conds.set(words.condition, False, "Stopped", _describe(job, observed), "Info")
        else:
            conds.set(
                words.condition, kind != Kind.DELETE or deleting, words.succeeded, _describe(job, observed)
            )
    if installed and "Provisioned" not in conds.new:  # its Job was cleaned up; the status remembers
        conds.set("Provisioned", True, "Provisioned", "Kubespray installed the cluster")
    if deleting and "Deleting" not in conds.new:
        conds.set("Deleting", True, "Deleting", "the cluster is being deleted")

    latest = _latest(observed)
    active = latest is not None and latest.state == "active"
    if deleting:
        conds.set("Ready", False, "Deleting", "the cluster is being deleted", "Info")
    elif not installed:
        conds.set("Ready", False, "NotProvisioned", "Kubespray has not installed the cluster yet", "Info")
    elif latest is not None and latest.state == "failed":
        conds.set("Ready", False, WORDS[latest.action].failed, _describe(latest, observed), "Warning")
    else:
        conds.set("Ready", True, "Provisioned", f"{len(installed)} hosts run Kubernetes {version}")
    if installed and not deleting:
        ref = status.kubeconfig_secret_ref if status else None
        if ref:
            conds.set("KubeconfigReady", True, "Fetched", f"Secret {ref} holds the admin kubeconfig")
        else:
            conds.set(
                "KubeconfigReady", False, "NotFetched", "the admin kubeconfig was not fetched yet", "Info"
            )

    phase: Phase
    if deleting:
        last_reset = _latest(j for j in observed if j.action == Kind.DELETE)
        phase = "DeletingFailed" if last_reset is not None and last_reset.state == "failed" else "Deleting"
    elif active and latest is not None:
        phase = WORDS[latest.action].phase
    elif not installed:
        failed_create = latest is not None and latest.action == Kind.CREATE and latest.state == "failed"
        phase = "ProvisionFailed" if failed_create else "Pending"
    else:
        phase = "Provisioned"

    old = status or CustomClusterStatus()
    return old.model_copy(
        update={
            "phase": phase,
            "conditions": conds.listed(),
            "provisioned_hosts": [x.record() for x in sorted(installed, key=lambda x: x.name)] or None,
            "kubernetes_version": version,
            "masters": len(h.masters(installed)),
            "nodes": len(h.nodes(installed)),
            "api_endpoint": api_endpoint(cluster, installed) if installed else None,
            "observed_generation": generation,
        }
    )


def with_decision(status: CustomClusterStatus, action: Action, now: datetime) -> CustomClusterStatus:
    """``status`` with Ready saying why nothing more happens when the decision needs a person."""
    if action.kind != Kind.NONE or action.reason not in BLOCKING:
        return status
    conds = _Conditions(status, status.observed_generation, now)
    conds.new = dict(conds.old)
    conds.set(
        "Ready",
        False,
        action.reason,
        action.message,
        "Error" if action.reason == "RetryLimitReached" else "Warning",
    )
    return status.model_copy(update={"conditions": conds.listed()})


def with_condition(
    status: CustomClusterStatus,
    type_: str,
    ok: bool,
    reason: str,
    message: str,
    now: datetime,
    severity: Severity | None = None,
) -> CustomClusterStatus:
    """``status`` with one condition set (its transition time kept while its status stays the same)."""
    conds = _Conditions(status, status.observed_generation, now)
    conds.new = dict(conds.old)
    conds.set(type_, ok, reason, message, severity)
    return status.model_copy(update={"conditions": conds.listed()})


def without_condition(status: CustomClusterStatus, type_: str) -> CustomClusterStatus:
    kept = [c for c in status.conditions or () if c.type != type_]
    return status.model_copy(update={"conditions": kept or None})


def condition(status: CustomClusterStatus | None, type_: str) -> Condition | None:
    return next((c for c in (status.conditions or ()) if c.type == type_), None) if status else None


def keep_transition_times(
    new: CustomClusterStatus, stored: CustomClusterStatus | None
) -> CustomClusterStatus:
    """``new`` with each condition's ``lastTransitionTime`` taken from ``stored`` where its status is the
    same there: a status built in several steps must not count the steps in between as transitions."""
    before = {c.type: c for c in (stored.conditions or ())} if stored else {}
    kept = []
    for c in new.conditions or ():
        old = before.get(c.type)
        if old is not None and old.status == c.status and old.last_transition_time != c.last_transition_time:
            c = c.model_copy(update={"last_transition_time": old.last_transition_time})
        kept.append(c)
    return new.model_copy(update={"conditions": kept or None}) if new.conditions else new
