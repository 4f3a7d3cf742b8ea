"""What the cluster operator would do with an edited CustomCluster or CustomMachine, before it is applied:
the same decision the operator makes (:func:`kurator.lifecycle.actions.decide`), taken on the objects as
the API server would store them, the status the cluster has and the Jobs it has run. Pure: the reads and
the server-side dry run are :mod:`kurator.operator.planning`'s.

The operator checks hosts over SSH before a run; the plan assumes that check passes and says so (the check
itself needs the hosts, which ``kurator cluster plan`` does not log in to).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from kurator.api.cluster import CustomCluster, CustomClusterStatus
from kurator.api.machine import CustomMachine
from kurator.api.names import GROUP
from kurator.core import inputs
from kurator.core.errors import InvalidInput
from kurator.lifecycle import capi, preflight
from kurator.lifecycle.actions import Action, Kind, Policy, decide
from kurator.lifecycle.jobs import PLAYBOOKS
from kurator.lifecycle.observed import ObservedJob, observe
from kurator.lifecycle.state import Snapshot

KINDS = (
    "CustomCluster",
    "CustomMachine",
    "Cluster",
)  # Cluster: the AWS kind (its plan is the aws provider's)
STEPS = 4  # preflight, then the run it is for: a decision never takes more


@dataclass(frozen=True)
class Step:
    kind: str
    reason: str
    message: str
    hosts: tuple[str, ...] = ()
    version: str | None = None
    job: str | None = None
    playbook: str | None = None


@dataclass(frozen=True)
class ClusterPlan:
    namespace: str
    name: str
    exists: bool
    """Whether the CustomCluster is in the API already (else the plan is its creation)."""
    changes: tuple[str, ...]
    """The spec fields the files change, ``CustomMachine/m1 spec.node`` and the like."""
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class _Passed:
    host: str
    ok: bool = True
    message: str = ""


def _step(action: Action) -> Step:
    playbook = PLAYBOOKS.get(action.kind) if action.job else None
    return Step(
        str(action.kind),
        action.reason,
        action.message,
        action.hosts,
        action.version,
        action.job,
        playbook,
    )


def steps(
    cluster: CustomCluster,
    machine: CustomMachine,
    status: CustomClusterStatus | None,
    observed: Sequence[ObservedJob],
    now: dt.datetime,
    policy: Policy,
) -> tuple[Step, ...]:
    """The operator's next decisions for these objects, a passing SSH preflight assumed."""
    snap = Snapshot.of(cluster, machine, status, observed, now)
    out: list[Step] = []
    for _ in range(STEPS):
        action = decide(snap, policy)
        out.append(_step(action))
        if action.kind != Kind.PREFLIGHT:
            break
        passed = [_Passed(h) for h in action.hosts]
        snap = snap.with_status(preflight.fold(snap.status, passed, snap.generation, now))
    return tuple(out)


def read_documents(texts: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    """The CustomClusters, CustomMachines and AWS Clusters of ``(source, YAML text)`` pairs; anything else is
    refused (Cluster API's own ``Cluster`` too: only kurator's group is planned)."""
    out: list[dict[str, Any]] = []
    for source, text in texts:
        for doc in (d for d in inputs.load_yaml_all(text, source) if d):
            kind = doc.get("kind") if isinstance(doc, dict) else None
            # Cluster API has a Cluster kind too: only kurator's is planned
            theirs = kind == "Cluster" and not str(doc.get("apiVersion", "")).startswith(f"{GROUP}/")
            if kind not in KINDS or theirs:
                raise InvalidInput(
                    f"{source} holds a {kind or 'document without a kind'}: only CustomCluster, "
                    f"CustomMachine and Cluster objects of {GROUP} can be planned"
                )
            out.append(doc)
    if not any(d["kind"] in ("CustomCluster", "Cluster") for d in out):
        raise InvalidInput("the files hold no CustomCluster and no Cluster: nothing to plan")
    return out


def spec_changes(
    kind: str, name: str, before: Mapping[str, Any] | None, after: Mapping[str, Any]
) -> list[str]:
    """The spec fields ``after`` changes, ``CustomMachine/m1 spec.node`` and the like."""
    if before is None:
        return [f"{kind}/{name} created"]
    old, new = before.get("spec") or {}, after.get("spec") or {}
    return [f"{kind}/{name} spec.{k}" for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]


def jobs_of(docs: Iterable[Mapping[str, Any]], uid: str) -> list[ObservedJob]:
    """The Kubespray Jobs among ``docs`` of the CustomCluster whose uid is ``uid``."""
    out = []
    for doc in docs:
        owners = [
            o.get("uid")
            for o in doc["metadata"].get("ownerReferences") or ()
            if o.get("kind") == "CustomCluster"
        ]
        if owners and owners[0] != uid:  # an earlier cluster of the same name, waiting for the collector
            continue
        try:
            out.append(observe(doc))
        except (KeyError, ValueError):  # labelled by hand, not one of the operator's runs
            continue
    return out


@dataclass(frozen=True)
class Found:
    """What the API has and would store for one CustomCluster of the files."""

    namespace: str
    name: str
    before: dict[str, Any] | None
    """The CustomCluster in the API, None when the files create it."""
    after: dict[str, Any]
    """The CustomCluster as the API server would store the file's (server-side dry run)."""
    machine_before: dict[str, Any] | None
    machine_after: dict[str, Any]
    machine_edited: bool
    given: capi.Inherited
    """What Cluster API supplies to it."""
    observed: Sequence[ObservedJob]


def cluster_plan(found: Found, policy: Policy, now: dt.datetime) -> ClusterPlan:
    """The plan of one CustomCluster from what was read and dry-run for it."""
    changes = spec_changes("CustomCluster", found.name, found.before, found.after)
    ref = str(((found.after.get("spec") or {}).get("machineRef") or {}).get("name") or "")
    if found.machine_edited:
        changes += spec_changes("CustomMachine", ref, found.machine_before, found.machine_after)
    try:
        status = (found.before or {}).get("status")
        cluster = CustomCluster.model_validate({**found.after, "status": status})
        machine = CustomMachine.model_validate(found.machine_after)
    except ValidationError as exc:
        raise InvalidInput(f"CustomCluster {found.namespace}/{found.name} cannot be read: {exc}") from None
    cluster, problems = capi.effective(cluster, found.given)
    if problems:
        planned: tuple[Step, ...] = (Step("none", "ClusterAPIValuesInvalid", "; ".join(problems)),)
    else:
        planned = steps(cluster, machine, cluster.status, found.observed, now, policy)
    return ClusterPlan(found.namespace, found.name, found.before is not None, tuple(changes), planned)
