"""What the operator knows of the API's objects, kept from kopf's watch events (an informer's cache): the
CustomClusters and CustomMachines as they were last seen, each cluster's Kubespray Jobs reduced to what
decisions need, and the Cluster API objects that may supply a cluster's version and ranges.

Each ``on_*`` method takes one watch event and returns the clusters it concerns, for the work queue. Bodies
are kept without ``managedFields`` (often half of an object, and never read); Jobs only as
:class:`~kurator.lifecycle.observed.ObservedJob`, so a thousand clusters cost a few MiB.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Mapping
from typing import Any

from kurator.lifecycle import capi
from kurator.lifecycle.observed import CLUSTER_LABEL, ObservedJob, Summary, observe
from kurator.operator.provider import Key

log = logging.getLogger(__name__)


def key_of(body: Mapping[str, Any]) -> Key:
    meta = body.get("metadata") or {}
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")


def _slim(body: Mapping[str, Any]) -> dict[str, Any]:
    meta = {k: v for k, v in (body.get("metadata") or {}).items() if k != "managedFields"}
    return {**body, "metadata": meta}


def _machine_ref(body: Mapping[str, Any]) -> str:
    return str(((body.get("spec") or {}).get("machineRef") or {}).get("name") or "")


def _gone(event: Mapping[str, Any]) -> bool:
    return event.get("type") == "DELETED"


_VOLATILE = ("resourceVersion", "managedFields")


def _meaning(body: Mapping[str, Any] | None) -> Any:
    """What a reconcile acts on: the object without its status and bookkeeping. The operator writes the
    status itself, so an event that changed only that (its own write coming back) queues nothing."""
    if body is None:
        return None
    meta = {k: v for k, v in (body.get("metadata") or {}).items() if k not in _VOLATILE}
    return {**{k: v for k, v in body.items() if k not in ("status", "metadata")}, "metadata": meta}


@dataclasses.dataclass
class View:
    clusters: dict[Key, dict[str, Any]] = dataclasses.field(default_factory=dict)
    machines: dict[Key, dict[str, Any]] = dataclasses.field(default_factory=dict)
    jobs: dict[Key, dict[str, ObservedJob]] = dataclasses.field(default_factory=dict)
    """By the cluster's key, then the Job's name."""
    summaries: dict[str, Summary | None] = dataclasses.field(default_factory=dict)
    """What the Pod of a failed Job said, by the Job's uid (read once from the Pod)."""
    capi_clusters: dict[Key, capi.CapiCluster] = dataclasses.field(default_factory=dict)
    kcp_versions: dict[Key, str | None] = dataclasses.field(default_factory=dict)
    _job_uids: dict[tuple[str, str], str] = dataclasses.field(default_factory=dict)
    _job_seen: dict[tuple[str, str], float] = dataclasses.field(default_factory=dict)
    """When the watch last said anything of each Job (monotonic)."""
    _job_owners: dict[tuple[str, str], str] = dataclasses.field(default_factory=dict)
    """The uid of the CustomCluster owning each Job: a cluster deleted and made again under the same name
    must not see the Jobs of the one before (they wait for the garbage collector)."""
    _machine_users: dict[Key, set[Key]] = dataclasses.field(default_factory=dict)
    """The clusters naming each machine (a machine's event concerns them; a scan of every cluster for
    each machine made a burst quadratic)."""

    # -- events ------------------------------------------------------------------------------------

    def on_cluster(self, event: Mapping[str, Any]) -> list[Key]:
        body = event["object"]
        key = key_of(body)
        if _gone(event):
            self.forget_cluster(key)
            return [key]
        before = self.clusters.get(key)
        if before is not None:
            self._unlink(key, before)
        self.clusters[key] = _slim(body)
        self._machine_users.setdefault((key[0], _machine_ref(body)), set()).add(key)
        return [] if _meaning(before) == _meaning(body) else [key]

    def forget_cluster(self, key: Key) -> None:
        body = self.clusters.pop(key, None)
        if body is not None:
            self._unlink(key, body)

    def _unlink(self, key: Key, body: Mapping[str, Any]) -> None:
        machine = (key[0], _machine_ref(body))
        users = self._machine_users.get(machine)
        if users is not None:
            users.discard(key)
            if not users:
                del self._machine_users[machine]

    def on_machine(self, event: Mapping[str, Any]) -> list[Key]:
        body = event["object"]
        key = key_of(body)
        if _gone(event):
            self.machines.pop(key, None)
            return self.clusters_of_machine(key)
        before = self.machines.get(key)
        self.machines[key] = _slim(body)
        return [] if _meaning(before) == _meaning(body) else self.clusters_of_machine(key)

    def on_job(self, event: Mapping[str, Any]) -> list[Key]:
        body = event["object"]
        meta = body.get("metadata") or {}
        namespace, name = key_of(body)
        owner = (meta.get("labels") or {}).get(CLUSTER_LABEL)
        if not owner:
            return []
        cluster = (namespace, str(owner))
        jobs = self.jobs.setdefault(cluster, {})
        if _gone(event):
            jobs.pop(name, None)
            self._job_owners.pop((namespace, name), None)
            self._job_seen.pop((namespace, name), None)
            uid = self._job_uids.pop((namespace, name), None)
            if uid:
                self.summaries.pop(uid, None)
            if not jobs:
                del self.jobs[cluster]
            return [cluster]
        before = jobs.get(name)
        self._job_seen[(namespace, name)] = time.monotonic()
        try:
            jobs[name] = observe(body)
        except (KeyError, ValueError) as exc:  # not one of ours after all (a label copied by hand)
            log.warning(
                "Job %s/%s carries %s but is not a Kubespray run: %s", namespace, name, CLUSTER_LABEL, exc
            )
            jobs.pop(name, None)
            return []
        if meta.get("uid"):
            self._job_uids[(namespace, name)] = str(meta["uid"])
        owners = [o.get("uid") for o in meta.get("ownerReferences") or () if o.get("kind") == "CustomCluster"]
        self._job_owners[(namespace, name)] = str(owners[0]) if owners else ""
        # The Job controller updates a Job's counts many times over; only a change of state matters (and
        # the creation time the operator guessed when it made the Job does not).
        after = jobs[name]
        same = before is not None and dataclasses.replace(before, created=after.created) == after
        return [] if same else [cluster]

    def on_capi_cluster(self, event: Mapping[str, Any]) -> list[Key]:
        body = event["object"]
        key = key_of(body)
        before = self.capi_clusters.pop(key, None)
        if not _gone(event):
            self.capi_clusters[key] = capi.read_cluster(body)
        touched = {c.infrastructure for c in (before, self.capi_clusters.get(key)) if c and c.infrastructure}
        return [(key[0], name) for name in sorted(touched)]

    def on_kcp(self, event: Mapping[str, Any]) -> list[Key]:
        body = event["object"]
        key = key_of(body)
        if _gone(event):
            self.kcp_versions.pop(key, None)
        else:
            self.kcp_versions[key] = capi.kcp_version(body)
        return [
            (c.namespace, c.infrastructure)
            for c in self.capi_clusters.values()
            if c.namespace == key[0] and c.control_plane == key[1] and c.infrastructure
        ]

    # -- the operator's own writes, known before their events come back ---------------------------
    # A reconcile that ran again before the watch delivered what the last one wrote would otherwise
    # decide from the state before it (and start the same Job again, to find it exists).

    def wrote_cluster(
        self, key: Key, *, status: dict[str, Any] | None = None, metadata: Mapping[str, Any] | None = None
    ) -> None:
        """The status, or metadata fields (finalizers, ownerReferences), the operator has just written."""
        body = self.clusters.get(key)
        if body is None:
            return
        if status is not None:
            body["status"] = status
        if metadata:
            body["metadata"] = {**body.get("metadata", {}), **metadata}

    def wrote_machine_status(self, key: Key, status: dict[str, Any]) -> None:
        if key in self.machines:
            self.machines[key]["status"] = status

    def started(self, cluster: Key, job: ObservedJob, owner: str) -> None:
        """A Job the operator has just created (the watch's version replaces this one when it comes)."""
        self.jobs.setdefault(cluster, {}).setdefault(job.name, job)
        self._job_owners.setdefault((cluster[0], job.name), owner)
        self._job_seen.setdefault((cluster[0], job.name), time.monotonic())

    # -- reads -------------------------------------------------------------------------------------

    def phases(self) -> list[str]:
        """Each cluster's phase, as last written ("Unknown" before the first status)."""
        return [str((b.get("status") or {}).get("phase") or "Unknown") for b in self.clusters.values()]

    def clusters_of_machine(self, machine: Key) -> list[Key]:
        return sorted(self._machine_users.get(machine, ()))

    def _mine(self, cluster: Key, owner: str) -> list[ObservedJob]:
        return [
            j
            for j in self.jobs.get(cluster, {}).values()
            if self._job_owners.get((cluster[0], j.name)) in (owner, "")
        ]

    def observed(self, cluster: Key, owner: str) -> list[ObservedJob]:
        """The Jobs of the cluster whose uid is ``owner``, with what the failed ones' Pods said where it
        is known."""
        namespace = cluster[0]
        out = []
        for job in self._mine(cluster, owner):
            uid = self._job_uids.get((namespace, job.name))
            summary = self.summaries.get(uid) if uid else None
            out.append(dataclasses.replace(job, summary=summary) if summary else job)
        return out

    def unread_failures(self, cluster: Key, owner: str) -> list[tuple[str, str]]:
        """(Job name, uid) of the failed Jobs whose Pod has not been read yet."""
        namespace = cluster[0]
        out = []
        for job in self._mine(cluster, owner):
            uid = self._job_uids.get((namespace, job.name))
            if job.state == "failed" and uid and uid not in self.summaries:
                out.append((job.name, uid))
        return out

    def quiet_runs(self, cluster: Key, owner: str, longer_than: float) -> list[str]:
        """Running Jobs the watch has said nothing of for ``longer_than`` seconds: read again directly, so
        that a lost watch event never leaves a cluster waiting on a run that has ended."""
        now = time.monotonic()
        return [
            j.name
            for j in self._mine(cluster, owner)
            if j.state == "active" and now - self._job_seen.get((cluster[0], j.name), now) > longer_than
        ]

    def capi_for(self, cluster: Key) -> tuple[capi.CapiCluster | None, str | None]:
        """The Cluster API Cluster naming ``cluster`` as its infrastructure, and its control plane's
        version."""
        return capi.supplier(self.capi_clusters.values(), self.kcp_versions, *cluster)
