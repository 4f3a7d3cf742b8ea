"""What one reconcile pass reports: the status folded from the Jobs, with the decision's reason in Ready,
with the preflight's verdict in Ready while nothing is installed yet, and past a deletion's deadline with
what blocks it; then which of the three writes that follow are needed (the cluster's status, its
CustomMachine's, Cluster API's ``spec.controlPlaneEndpoint``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from kurator.api.cluster import CustomCluster, CustomClusterStatus, Initialization
from kurator.api.machine import CustomMachine
from kurator.lifecycle import kubeconfig as kc
from kurator.lifecycle import preflight
from kurator.lifecycle import status as st
from kurator.lifecycle.actions import FORCE_DELETE_ANNOTATION, Action, Kind
from kurator.lifecycle.state import Snapshot


def _since(stamp: object) -> dt.datetime:
    return dt.datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))


def hosts_unreachable(status: CustomClusterStatus, snap: Snapshot, action: Action) -> CustomClusterStatus:
    """While nothing is installed, a failed preflight is why the cluster is not Ready (the hosts named)."""
    hosts = st.condition(status, preflight.HOSTS_READY)
    if snap.installed or action.kind != Kind.PREFLIGHT or hosts is None or hosts.status != "False":
        return status
    return st.with_condition(
        status, "Ready", False, "HostsUnreachable", hosts.message or "", snap.now, "Warning"
    )


def deletion_deadline(
    status: CustomClusterStatus, snap: Snapshot, timeout: dt.timedelta
) -> tuple[CustomClusterStatus, float | None]:
    """A deletion past ``timeout``: ``Deleting`` says what blocks it and how to force it. Before that: the
    status as it is and the seconds until the deadline (when to look again)."""
    since = snap.cluster.metadata.get("deletionTimestamp")
    if not since:
        return status, None
    started = _since(since)
    overdue = snap.now - started - timeout
    if overdue.total_seconds() < 0:
        return status, max(-overdue.total_seconds(), 1.0)
    blocking = [j.name for j in snap.observed if j.state == "active"]
    what = f"Job {', '.join(blocking)} is still running" if blocking else "the hosts are not reset yet"
    deleting = st.condition(status, "Deleting")
    if deleting is not None and deleting.status == "False" and deleting.message:
        what = deleting.message
    minutes = int((snap.now - started).total_seconds() // 60)
    message = (
        f"deleting for {minutes} minutes: {what}; set the annotation {FORCE_DELETE_ANNOTATION}=true "
        "to delete the cluster without resetting its hosts"
    )
    status = st.with_condition(
        status, "Deleting", False, "DeletionDeadlineExceeded", message, snap.now, "Error"
    )
    return status, None


def reported(
    snap: Snapshot, action: Action, delete_timeout: dt.timedelta
) -> tuple[CustomClusterStatus, float | None]:
    """The status one pass leaves, and in how many seconds to look again for the deletion's deadline."""
    new = st.fold(snap)
    new = st.with_decision(new, action, snap.now)
    new = hosts_unreachable(new, snap, action)
    due = None
    if snap.deleting:
        new, due = deletion_deadline(new, snap, delete_timeout)
    provisioned = bool(snap.installed) and not snap.deleting
    new = st.keep_transition_times(new, snap.cluster.status)
    new = new.model_copy(
        update={"ready": provisioned, "initialization": Initialization(provisioned=provisioned)}
    )
    return new, due


def dump(model: Any) -> dict[str, Any]:
    out: dict[str, Any] = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    return out


def status_patch(old: CustomClusterStatus | None, new: CustomClusterStatus) -> dict[str, Any] | None:
    """The merge patch from ``old`` to ``new`` (fields gone set to null), None when they are the same."""
    new_doc, old_doc = dump(new), dump(old or CustomClusterStatus())
    if new_doc == old_doc:
        return None
    return {k: new_doc.get(k) for k in set(new_doc) | set(old_doc)}


def machine_status(
    machine: CustomMachine, stored: Mapping[str, Any] | None, cluster_status: CustomClusterStatus
) -> dict[str, Any] | None:
    """The CustomMachine's status to write, None when the stored one says the same."""
    had = stored or {}
    want = dump(preflight.machine_status(machine, cluster_status))
    if want == {k: had.get(k) for k in want} and not set(had) - set(want):
        return None
    return want


def control_plane_endpoint(cluster: CustomCluster, status: CustomClusterStatus) -> dict[str, Any] | None:
    """The spec patch that gives Cluster API the cluster's endpoint, None when it is there (or none is
    known, or the cluster is going)."""
    if not status.api_endpoint or cluster.metadata.get("deletionTimestamp"):
        return None
    host, port = kc.endpoint_parts(status.api_endpoint)
    cpe = cluster.spec.control_plane_endpoint
    if cpe is not None and (cpe.host, cpe.port) == (host, port):
        return None
    return {"controlPlaneEndpoint": {"host": host, "port": port}}


def ssh_keys_missing(
    status: CustomClusterStatus, secrets: list[str], now: dt.datetime
) -> CustomClusterStatus:
    """A reset that cannot start: ``Deleting`` names the Secrets whose key is gone and the way out."""
    message = (
        f"the hosts cannot be reset: Secret {', '.join(secrets)} with their SSH key is gone; restore it, "
        f"or set the annotation {FORCE_DELETE_ANNOTATION}=true to delete the cluster without resetting "
        "its hosts"
    )
    return st.with_condition(status, "Deleting", False, "SSHKeyMissing", message, now, "Error")
