"""What one reconcile of one CustomCluster works with and on: the body as the view holds it, the snapshot
the decisions read (evolved as the pass acts), and what the pass leaves for later (when to look again,
the Events to post)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from typing import Any

from kurator.api.cluster import CustomCluster, CustomClusterStatus
from kurator.api.machine import CustomMachine, CustomMachineSpec
from kurator.lifecycle import capi
from kurator.lifecycle.events import Event
from kurator.lifecycle.observed import ObservedJob, observe
from kurator.lifecycle.state import Snapshot
from kurator.operator.provider import Key


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def placeholder_machine() -> CustomMachine:
    """Stands in for a CustomMachine that is gone: no hosts wanted (what was installed is in the status)."""
    return CustomMachine.model_construct(
        spec=CustomMachineSpec.model_construct(master=[], node=[]), metadata={"generation": 0}
    )


def as_created(job: dict[str, Any], now: dt.datetime) -> ObservedJob:
    """A Job just created, as its watch event will show it (so that event is no news)."""
    return observe({**job, "metadata": {**job["metadata"], "creationTimestamp": now.isoformat()}})


class Gone(Exception):
    """The CustomCluster is no longer in the API, whatever the view says."""


@dataclasses.dataclass
class Pass:
    key: Key
    body: dict[str, Any]
    snap: Snapshot
    machine_body: dict[str, Any] | None
    """None when the CustomMachine is missing (or unreadable)."""
    capi_cluster: capi.CapiCluster | None
    requeue: float | None = None
    events: list[Event] = dataclasses.field(default_factory=list)
    holding: asyncio.Task[None] | None = None
    """The finalizer's write, under way while the hosts are checked and the run is started."""

    @property
    def namespace(self) -> str:
        return self.key[0]

    @property
    def cluster(self) -> CustomCluster:
        return self.snap.cluster

    @property
    def status(self) -> CustomClusterStatus:
        return self.snap.status or CustomClusterStatus()

    @status.setter
    def status(self, status: CustomClusterStatus) -> None:
        self.snap = self.snap.with_status(status)

    @property
    def uid(self) -> str:
        return str(self.cluster.metadata.get("uid", ""))

    @property
    def deleting(self) -> bool:
        return self.snap.deleting

    @property
    def age(self) -> float | None:
        """Seconds since the cluster was created."""
        created = self.cluster.metadata.get("creationTimestamp")
        if not created:
            return None
        return (
            self.snap.now - dt.datetime.fromisoformat(str(created).replace("Z", "+00:00"))
        ).total_seconds()

    def again_in(self, seconds: float) -> None:
        self.requeue = seconds if self.requeue is None else min(self.requeue, seconds)

    def event(self, event: Event) -> None:
        self.events.append(event)
