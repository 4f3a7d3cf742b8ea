"""The Events a reconcile posts about a CustomCluster: one for each condition that reached an outcome, and
one for each step the operator took (a run started, a fleet joined or left, a kubeconfig stored, ...).
Pure: the operator posts what these return."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from kurator.api.cluster import CustomClusterStatus
from kurator.lifecycle import status as st
from kurator.lifecycle.actions import Action

ROUTINE_REASONS = frozenset({"NotProvisioned", "NotFetched", "HostsAnswered"})
"""Conditions whose arrival is no news: what every cluster goes through before its first run."""


@dataclass(frozen=True)
class Event:
    type: Literal["Normal", "Warning"]
    reason: str
    message: str


def of_conditions(old: CustomClusterStatus | None, new: CustomClusterStatus) -> list[Event]:
    """An Event for each condition that changed to an outcome: failures and warnings as Warnings. Not for
    Ready (it repeats another condition), runs under way (their start has its own Event), or routine."""
    before = {c.type: (c.status, c.reason) for c in (old.conditions if old else None) or ()}
    out = []
    for c in new.conditions or ():
        if before.get(c.type) == (c.status, c.reason) or c.type == "Ready" or not c.reason:
            continue
        if c.reason in st.RUNNING_REASONS or c.reason in ROUTINE_REASONS:
            continue
        bad = c.status == "False" and c.severity in ("Error", "Warning")
        out.append(Event("Warning" if bad else "Normal", c.reason, f"{c.type}: {c.message or c.reason}"))
    return out


def run_started(action: Action) -> Event:
    what = f"{action.kind} for hosts {', '.join(action.hosts)}" if action.hosts else str(action.kind)
    return Event(
        "Normal", "RunStarted", f"Kubespray runs {what} in Job {action.job} (attempt {action.attempt + 1})"
    )


def ungraceful_removal(dead: Iterable[str], why: Iterable[str]) -> Event:
    return Event(
        "Warning",
        "UngracefulRemoval",
        f"{', '.join(dead)} did not answer: removed without drain and reset ({'; '.join(why)})",
    )


def runs_stopped(names: Iterable[str]) -> Event:
    return Event("Normal", "RunsStopped", f"stopped Job {', '.join(names)}: the cluster is being deleted")


def deleted(action: Action) -> Event:
    if action.reason == "ForceDelete":
        return Event("Warning", "ForceDeleted", f"{action.message}; the cluster is deleted without a reset")
    return Event("Normal", "Deleted", action.message)


def owned_by(cluster: str) -> Event:
    return Event("Normal", "OwnedByCluster", f"owned by Cluster {cluster}: deleting it deletes this cluster")


def kubeconfig_stored(endpoint: str, master: str, secret: str) -> Event:
    return Event(
        "Normal",
        "KubeconfigStored",
        f"admin kubeconfig of {endpoint} fetched from {master}, stored in Secret {secret}",
    )


def joined_fleet(fleet: str, name: str) -> Event:
    return Event("Normal", "JoinedFleet", f"joined fleet {fleet} as {name}")


def left_fleet(fleet: str, said: str) -> Event:
    return Event("Normal", "LeftFleet", f"{said} ({fleet})")
