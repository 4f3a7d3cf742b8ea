"""What every decision about one cluster reads, taken once: the spec (CustomCluster + CustomMachine), the
stored status, the Kubespray Jobs and the time; and derived from them once, what the cluster has (the
hosts and version installed) and what it should have (the hosts wanted).

One reconcile pass builds one :class:`Snapshot` and evolves it as it acts (a preflight's result, a Job
started): what is installed is derived again only when what it depends on changed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from kurator.api.cluster import CustomCluster, CustomClusterStatus
from kurator.api.machine import CustomMachine
from kurator.lifecycle import hosts as h
from kurator.lifecycle.hosts import Host
from kurator.lifecycle.observed import ObservedJob, ObservedJobs


def current(
    status: CustomClusterStatus | None, observed: ObservedJobs
) -> tuple[tuple[Host, ...], str | None]:
    """The hosts and version the cluster has: the target of the latest succeeded Job if there is one (its
    success may not be in the status yet), else what the status records."""
    done = [j for j in observed if j.state == "succeeded" and j.target is not None]
    if done:
        latest = max(done, key=lambda j: (j.created, j.attempt))
        assert latest.target is not None
        return latest.target.hosts, latest.target.version
    return h.provisioned(status), status.kubernetes_version if status else None


def _succeeded(observed: Iterable[ObservedJob]) -> frozenset[str]:
    return frozenset(j.name for j in observed if j.state == "succeeded" and j.target is not None)


def _recorded(status: CustomClusterStatus | None) -> tuple[object, object]:
    return (status.provisioned_hosts, status.kubernetes_version) if status else (None, None)


@dataclass(frozen=True)
class Snapshot:
    cluster: CustomCluster
    machine: CustomMachine
    status: CustomClusterStatus | None
    observed: tuple[ObservedJob, ...]
    now: datetime
    installed: tuple[Host, ...]
    """The hosts the cluster has (see :func:`current`)."""
    version: str | None
    """The Kubernetes version the cluster runs (see :func:`current`)."""
    wanted: tuple[Host, ...]
    """The hosts the CustomMachine lists."""

    @classmethod
    def of(
        cls,
        cluster: CustomCluster,
        machine: CustomMachine,
        status: CustomClusterStatus | None,
        observed: Iterable[ObservedJob],
        now: datetime,
    ) -> Snapshot:
        jobs = tuple(observed)
        installed, version = current(status, jobs)
        return cls(cluster, machine, status, jobs, now, installed, version, h.desired(machine))

    @property
    def deleting(self) -> bool:
        return bool(self.cluster.metadata.get("deletionTimestamp"))

    @property
    def generation(self) -> int:
        """The CustomMachine's generation (what a passed preflight is recorded for)."""
        return int(self.machine.metadata.get("generation", 0))

    def with_status(self, status: CustomClusterStatus | None) -> Snapshot:
        """With a new status (a preflight's result, a fleet joined); what is installed is derived again
        only when the status records other hosts or another version and no Job says otherwise."""
        if _recorded(status) == _recorded(self.status) or _succeeded(self.observed):
            return dataclasses.replace(self, status=status)
        installed, version = current(status, self.observed)
        return dataclasses.replace(self, status=status, installed=installed, version=version)

    def with_jobs(self, observed: Iterable[ObservedJob]) -> Snapshot:
        """With other Jobs (one started or stopped, one read again); what is installed is derived again only
        when the succeeded ones changed."""
        jobs = tuple(observed)
        if _succeeded(jobs) == _succeeded(self.observed):
            return dataclasses.replace(self, observed=jobs)
        installed, version = current(self.status, jobs)
        return dataclasses.replace(self, observed=jobs, installed=installed, version=version)

    def with_cluster(self, cluster: CustomCluster) -> Snapshot:
        """With the spec as Cluster API completes it (nothing installed depends on it)."""
        return dataclasses.replace(self, cluster=cluster)
