"""The one decision of the cluster lifecycle: given the spec (CustomCluster + CustomMachine), what the status
records as installed and the Jobs that exist, what to do next.

It is idempotent and restart-safe: the same inputs give the same action and the same Job name, so an
operator that crashed after creating a Job finds it instead of starting another. A failed run is retried
with exponential backoff, each attempt a Job of its own (failed Jobs are kept: they are the retry count),
up to ``Policy.retries`` times; then the decision stops and says why, and stays stopped until the spec
changes (a new generation) or the failed Jobs are deleted. Only one Kubespray run is ever under way.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from kurator.api import kubespray
from kurator.api.cluster import CustomCluster, CustomClusterStatus
from kurator.api.machine import CustomMachine
from kurator.lifecycle import hosts as h
from kurator.lifecycle.hosts import Host
from kurator.lifecycle.observed import ObservedJobs
from kurator.lifecycle.state import Snapshot

FORCE_DELETE_ANNOTATION = "kurator.dev/force-delete"
"""Set to ``"true"``: delete the cluster without resetting its hosts (they are gone or unreachable)."""
NAME_MAX = 63  # a Job's name is also the value of its pods' job-name label


class Kind(StrEnum):
    PREFLIGHT = "preflight"
    CREATE = "create"
    SCALE_UP = "scale-up"
    SCALE_DOWN = "scale-down"
    UPGRADE = "upgrade"
    DELETE = "delete"
    WAIT = "wait"
    NONE = "none"


RUNS = (Kind.CREATE, Kind.SCALE_UP, Kind.SCALE_DOWN, Kind.UPGRADE, Kind.DELETE)
"""The actions that run Kubespray in a Job."""


@dataclass(frozen=True)
class Policy:
    """How failed runs are retried: ``retries`` more attempts after the first, the n-th retry no sooner
    than ``base_delay * 2**(n-1)`` (at most ``max_delay``) after the previous attempt failed."""

    retries: int = 3
    base_delay: timedelta = timedelta(minutes=1)
    max_delay: timedelta = timedelta(minutes=30)

    def delay(self, failures: int) -> timedelta:
        return min(self.base_delay * (1 << max(failures - 1, 0)), self.max_delay)


@dataclass(frozen=True)
class Action:
    """What to do. Runs carry the Job to create (``job``, its ``generation`` and ``attempt``); ``wait``
    names the Job it waits for or the time a retry is due; ``delete`` without ``reset`` means: release the
    finalizers now, after stopping ``stop``."""

    kind: Kind
    reason: str
    message: str = ""
    hosts: tuple[str, ...] = ()
    version: str | None = None
    job: str | None = None
    generation: str | None = None
    attempt: int = 0
    retry_at: datetime | None = None
    stop: tuple[str, ...] = ()
    reset: bool = True
    unreachable: tuple[str, ...] = ()
    """Of a scale-down's hosts, those that did not answer: removed without drain and reset."""


def job_name(cluster: str, action: str, generation: str, attempt: int) -> str:
    """``<cluster>-<action>-<generation>-<attempt>``; a long cluster name is cut and a hash of the whole
    name appended, so names stay unique and within 63 characters."""
    tail = f"{action}-{generation}-{attempt}"
    name = f"{cluster}-{tail}"
    if len(name) <= NAME_MAX:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    keep = NAME_MAX - len(tail) - len(digest) - 2
    return f"{cluster[:keep].rstrip('-.')}-{digest}-{tail}"


def generation_of(cluster: CustomCluster, machine: CustomMachine) -> str:
    """The spec generation a run is for: both objects', since either's edit can change what a run does."""
    return f"{cluster.metadata.get('generation', 0)}-{machine.metadata.get('generation', 0)}"


def _ready(status: CustomClusterStatus | None) -> bool:
    conditions = (status.conditions or []) if status else []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)


def _run(
    kind: Kind,
    cluster: str,
    generation: str,
    observed: ObservedJobs,
    now: datetime,
    policy: Policy,
    hosts: tuple[str, ...] = (),
    version: str | None = None,
) -> Action:
    """Run ``kind`` for ``generation``: its next attempt, or wait for a retry, or stop at the limit."""
    mine = [j for j in observed if j.action == kind and j.generation == generation]
    if kind == Kind.UPGRADE:  # a spec two minors ahead is reached in two upgrades within one generation
        mine = [j for j in mine if j.target is not None and j.target.version == version]
    if any(j.state == "succeeded" for j in mine):
        return Action(Kind.NONE, "AlreadyDone", f"{kind} for generation {generation} already succeeded")
    failed = sorted((j for j in mine if j.state == "failed"), key=lambda j: (j.created, j.attempt))
    if len(failed) > policy.retries:
        last = failed[-1]
        said = f" ({last.summary.describe()})" if last.summary else ""
        return Action(
            Kind.NONE,
            "RetryLimitReached",
            f"{kind} failed {len(failed)} times, the last in Job {last.name}{said}; not retrying until the "
            "spec changes or the failed Jobs are deleted",
        )
    if failed:
        last = failed[-1]
        due = (last.finished or last.created) + policy.delay(len(failed))
        if now < due:
            return Action(
                Kind.WAIT,
                "BackingOff",
                f"{kind} failed in Job {last.name}; attempt {len(failed) + 1} of {policy.retries + 1} at "
                f"{due.isoformat()}",
                retry_at=due,
            )
    attempt = max((j.attempt for j in mine), default=-1) + 1
    step = f"{kind}-{str(version).replace('.', '-')}" if kind == Kind.UPGRADE else str(kind)
    job = job_name(cluster, step, generation, attempt)
    return Action(kind, "", hosts=hosts, version=version, job=job, generation=generation, attempt=attempt)


def _minor_patch(version: str) -> tuple[int, int]:
    _, minor, patch = version.removeprefix("v").split(".")
    return int(minor), int(patch)


def _same_hosts(a: tuple[Host, ...], b: tuple[Host, ...]) -> bool:
    x, y = h.by_name(a), h.by_name(b)
    return x.keys() == y.keys() and all(x[n].same_place(y[n]) for n in x)


def _upgrade_step(current_version: str, wanted: str) -> str:
    """The version to upgrade to next: ``wanted``, or the newest patch of the next minor when ``wanted`` is
    further (kubeadm upgrades one minor at a time; the spec may have moved twice while a run failed)."""
    minor = int(current_version.split(".")[1])
    if int(wanted.split(".")[1]) <= minor + 1:
        return wanted
    step = [v for v in kubespray.KUBERNETES_VERSIONS if int(v.split(".")[1]) == minor + 1]
    return max(step, key=lambda v: int(v.split(".")[2])) if step else wanted


def _deletion(snap: Snapshot, policy: Policy) -> Action:
    cluster, observed = snap.cluster, snap.observed
    name = cluster.metadata["name"]
    active = [j for j in observed if j.state == "active"]
    annotations = cluster.metadata.get("annotations") or {}
    if annotations.get(FORCE_DELETE_ANNOTATION) == "true":
        return Action(
            Kind.DELETE,
            "ForceDelete",
            f"{FORCE_DELETE_ANNOTATION} is set: the hosts are not reset",
            stop=tuple(sorted(j.name for j in active)),
            reset=False,
        )
    resetting = [j for j in active if j.action == Kind.DELETE]
    if resetting:
        return Action(
            Kind.WAIT, "JobRunning", f"resetting the hosts in Job {resetting[0].name}", job=resetting[0].name
        )
    if active:
        return Action(
            Kind.DELETE,
            "StoppingRuns",
            "stopping the running Kubespray Job before resetting the hosts",
            stop=tuple(sorted(j.name for j in active)),
        )
    if any(j.action == Kind.DELETE and j.state == "succeeded" for j in observed):
        return Action(Kind.DELETE, "ResetSucceeded", "the hosts were reset", reset=False)
    touched = snap.installed or (snap.wanted if any(j.action == Kind.CREATE for j in observed) else ())
    if not touched:
        return Action(Kind.DELETE, "NothingToReset", "Kubespray never ran on the hosts", reset=False)
    run = _run(
        Kind.DELETE,
        name,
        generation_of(cluster, snap.machine),
        observed,
        snap.now,
        policy,
        hosts=tuple(sorted(x.name for x in touched)),
    )
    if run.reason == "RetryLimitReached":
        return replace(
            run, message=run.message + f"; or set {FORCE_DELETE_ANNOTATION}=true to delete without reset"
        )
    return replace(run, reason="ClusterDeleted") if run.kind == Kind.DELETE else run


def next_action(
    cluster: CustomCluster,
    machine: CustomMachine,
    status: CustomClusterStatus | None,
    observed: ObservedJobs,
    now: datetime,
    policy: Policy = Policy(),
) -> Action:
    """What to do next for ``cluster``; ``observed`` are the cluster's Kubespray Jobs (see
    :func:`kurator.lifecycle.observed.observe`), ``now`` the time backoff is measured against."""
    return decide(Snapshot.of(cluster, machine, status, observed, now), policy)


def decide(snap: Snapshot, policy: Policy = Policy()) -> Action:
    """What to do next, from one snapshot of the cluster (see :func:`next_action`)."""
    cluster, machine, status, observed, now = snap.cluster, snap.machine, snap.status, snap.observed, snap.now
    if cluster.metadata.get("deletionTimestamp"):
        return _deletion(snap, policy)
    active = sorted((j for j in observed if j.state == "active"), key=lambda j: (j.created, j.name))
    if active:
        return Action(
            Kind.WAIT, "JobRunning", f"{active[0].action} runs in Job {active[0].name}", job=active[0].name
        )
    version = cluster.spec.kubernetes_version
    if version is None:
        return Action(
            Kind.NONE, "VersionUnknown", "spec.kubernetesVersion is not set and nothing supplied one"
        )
    name, generation = cluster.metadata["name"], generation_of(cluster, machine)
    checked = status is not None and status.hosts_checked_generation == machine.metadata.get("generation", 0)
    wanted, installed, installed_version = snap.wanted, snap.installed, snap.version

    def run(kind: Kind, reason: str, hosts: tuple[str, ...] = (), version: str | None = None) -> Action:
        action = _run(kind, name, generation, observed, now, policy, hosts, version)
        return replace(action, reason=reason) if action.kind == kind else action

    if not installed:
        if not checked:
            return Action(
                Kind.PREFLIGHT,
                "HostsUnchecked",
                "checking every host over SSH before installing",
                hosts=tuple(sorted(x.name for x in wanted)),
            )
        return run(
            Kind.CREATE, "NotProvisioned", hosts=tuple(sorted(x.name for x in wanted)), version=version
        )

    if not _same_hosts(h.masters(wanted), h.masters(installed)):
        return Action(
            Kind.NONE,
            "ControlPlaneChangeUnsupported",
            "the masters differ from those installed: changing the control plane is not supported",
        )
    have, want = h.by_name(h.nodes(installed)), h.by_name(h.nodes(wanted))
    moved = sorted(n for n in have.keys() & want.keys() if not have[n].same_place(want[n]))
    if moved:
        return Action(
            Kind.NONE,
            "HostAddressChanged",
            f"nodes {', '.join(moved)} changed address or role: remove them, then add them again",
        )
    added, removed = sorted(want.keys() - have.keys()), sorted(have.keys() - want.keys())
    if added:  # before removing, as Kurator does, so replacing a node never leaves the cluster short
        if not checked:
            return Action(
                Kind.PREFLIGHT, "HostsUnchecked", "checking the new hosts over SSH", hosts=tuple(added)
            )
        return run(Kind.SCALE_UP, "NodesAdded", hosts=tuple(added))
    if removed:
        return run(Kind.SCALE_DOWN, "NodesRemoved", hosts=tuple(removed))
    if installed_version and _minor_patch(version) < _minor_patch(installed_version):
        return Action(
            Kind.NONE,
            "VersionDowngrade",
            f"the cluster runs {installed_version}; {version} would be a downgrade, "
            "which Kubespray cannot make",
        )
    if installed_version != version:
        retrying = any(j.action == Kind.UPGRADE and j.generation == generation for j in observed)
        if not _ready(status) and not retrying:
            return Action(Kind.NONE, "WaitingForReady", f"upgrading to {version} once the cluster is Ready")
        step = _upgrade_step(installed_version, version) if installed_version else version
        return run(Kind.UPGRADE, "VersionChanged", version=step)
    return Action(Kind.NONE, "UpToDate", "the cluster matches its spec")
