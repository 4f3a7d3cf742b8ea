"""Builders for the lifecycle's unit tests: a CustomCluster, its CustomMachine, a status recording what was
installed, and Jobs as the operator would observe them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from kurator.api.cluster import CustomCluster, CustomClusterStatus
from kurator.api.common import Condition
from kurator.api.machine import CustomMachine
from kurator.lifecycle import jobs
from kurator.lifecycle.actions import Action
from kurator.lifecycle.hosts import Host, desired
from kurator.lifecycle.observed import ObservedJob, State, Summary, Target
from kurator.lifecycle.state import Snapshot
from kurator.lifecycle.status import fold as status_fold

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
VERSION = "v1.34.3"


def machine_doc(masters: int = 1, nodes: tuple[int, ...] = (1, 2), generation: int = 1) -> dict[str, Any]:
    def host(name: str, n: int) -> dict[str, Any]:
        return {
            "hostName": name,
            "publicIP": f"192.0.2.{n}",
            "privateIP": f"10.0.0.{n}",
            "sshKey": {"name": "cluster-secret"},
        }

    return {
        "apiVersion": "cluster.kurator.dev/v1alpha1",
        "kind": "CustomMachine",
        "metadata": {"name": "cc-machine", "namespace": "default", "generation": generation},
        "spec": {
            "master": [host(f"master{i}", 10 + i) for i in range(1, masters + 1)],
            "node": [host(f"node{i}", 20 + i) for i in nodes],
        },
    }


def machine(masters: int = 1, nodes: tuple[int, ...] = (1, 2), generation: int = 1) -> CustomMachine:
    return CustomMachine.model_validate(machine_doc(masters, nodes, generation))


def cluster(
    version: str | None = VERSION,
    generation: int = 1,
    deleting: bool = False,
    force: bool = False,
    **spec: Any,
) -> CustomCluster:
    meta: dict[str, Any] = {"name": "cc", "namespace": "default", "uid": "u-1", "generation": generation}
    if deleting:
        meta["deletionTimestamp"] = "2026-11-25T12:00:00Z"
    if force:
        meta["annotations"] = {"kurator.dev/force-delete": "true"}
    body: dict[str, Any] = {"machineRef": {"name": "cc-machine"}, "cni": {"type": "calico"}, **spec}
    if version:
        body["kubernetesVersion"] = version
    return CustomCluster.model_validate(
        {
            "apiVersion": "cluster.kurator.dev/v1alpha1",
            "kind": "CustomCluster",
            "metadata": meta,
            "spec": body,
        }
    )


def status(
    hosts: tuple[Host, ...] = (), version: str | None = VERSION, ready: bool = True, checked: int | None = 1
) -> CustomClusterStatus:
    conditions = [Condition(type="Ready", status="True" if ready else "False", lastTransitionTime=T0)]
    return CustomClusterStatus(
        provisioned_hosts=[h.record() for h in hosts] or None,
        kubernetes_version=version if hosts else None,
        hosts_checked_generation=checked,
        conditions=conditions,
    )


def installed(
    m: CustomMachine | None = None, version: str = VERSION, ready: bool = True
) -> CustomClusterStatus:
    return status(desired(m or machine()), version, ready)


def job(
    action: str,
    state: State,
    generation: str = "1-1",
    attempt: int = 0,
    created: datetime = T0,
    finished: datetime | None = None,
    summary: Summary | None = None,
    target: Target | None = None,
) -> ObservedJob:
    if state != "active" and finished is None:
        finished = created + timedelta(minutes=10)
    return ObservedJob(
        name=f"cc-{action}-{generation}-{attempt}",
        action=action,
        generation=generation,
        attempt=attempt,
        state=state,
        created=created,
        finished=finished,
        summary=summary,
        target=target,
    )


def fold(
    c: CustomCluster,
    m: CustomMachine,
    st: CustomClusterStatus | None,
    observed: Sequence[ObservedJob],
    now: datetime,
) -> CustomClusterStatus:
    """:func:`kurator.lifecycle.status.fold` of these objects."""
    return status_fold(Snapshot.of(c, m, st, observed, now))


def manifests(
    action: Action,
    c: CustomCluster,
    m: CustomMachine,
    st: CustomClusterStatus | None,
    observed: Sequence[ObservedJob],
    user: str = "root",
) -> list[dict[str, Any]]:
    """:func:`kurator.lifecycle.jobs.manifests` for these objects."""
    return jobs.manifests(action, Snapshot.of(c, m, st, observed, T0), user)
