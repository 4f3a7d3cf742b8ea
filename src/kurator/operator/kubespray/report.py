"""The end of a pass: the cluster's status, its CustomMachine's, Cluster API's endpoint and the pass's
Events, whichever changed, written at once (none depends on another). What to write is
:mod:`kurator.lifecycle.report`'s and :mod:`kurator.lifecycle.events`' to say.

While other clusters wait for a pass that may start something, a status is held back (the work queue's
second lane takes the cluster again once new work has been quiet): in a burst, every cluster's Job comes
before any status is written. What was held is newer than what is stored, so the next pass starts from
it, and its Events are posted with the next pass's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from typing import Any

from kurator.api.cluster import CustomClusterStatus
from kurator.api.resources import CUSTOM_CLUSTER, CUSTOM_MACHINE
from kurator.kube.asyncapi import AsyncAPI
from kurator.kube.errors import NotFound
from kurator.lifecycle import report
from kurator.lifecycle.actions import Action
from kurator.lifecycle.events import Event, of_conditions
from kurator.operator.kubespray.passes import Gone, Pass
from kurator.operator.kubespray.view import View
from kurator.operator.provider import Key
from kurator.operator.settings import Settings
from kurator.operator.workqueue import WorkQueue


class Reporter:
    def __init__(self, api: AsyncAPI, view: View, queue: WorkQueue[Key], settings: Settings) -> None:
        self.api, self.view, self.queue, self.settings = api, view, queue, settings
        self._held_events: dict[Key, list[Event]] = {}
        self._held_status: dict[Key, CustomClusterStatus] = {}

    def held_status(self, key: Key) -> CustomClusterStatus | None:
        return self._held_status.get(key)

    def forget(self, key: Key) -> None:
        self._held_events.pop(key, None)
        self._held_status.pop(key, None)

    async def write(self, p: Pass, action: Action) -> None:
        """Write what the pass changed (see the module's docstring)."""
        if self.queue.busy() and not p.deleting:
            self._held_events.setdefault(p.key, []).extend(p.events)
            p.events.clear()
            self._held_status[p.key] = p.status
            self.queue.defer(p.key)
            return
        p.events[:0] = self._held_events.pop(p.key, [])
        self._held_status.pop(p.key, None)
        new, due = report.reported(p.snap, action, self.settings.delete_timeout)
        if due is not None:
            p.again_in(due)
        old = p.cluster.status
        writes: list[Awaitable[None]] = []
        patch = report.status_patch(old, new)
        if patch is not None:
            p.events.extend(of_conditions(old, new))
            writes.append(self.patch_status(p, patch))
            self.view.wrote_cluster(p.key, status=report.dump(new))
            p.status = new
        if p.machine_body is not None:
            want = report.machine_status(p.snap.machine, p.machine_body.get("status"), new)
            if want is not None:
                machine = (p.namespace, str(p.snap.machine.metadata["name"]))
                writes.append(self.api.merge_patch(CUSTOM_MACHINE, *machine, {"status": want}, status=True))
                self.view.wrote_machine_status(machine, want)
        endpoint = report.control_plane_endpoint(p.cluster, new)
        if endpoint is not None:
            writes.append(self.api.merge_patch(CUSTOM_CLUSTER, *p.key, {"spec": endpoint}))
        writes.extend(self.event_posts(p))
        await asyncio.gather(*writes)

    async def patch_status(self, p: Pass, patch: Mapping[str, Any]) -> None:
        try:
            await self.api.merge_patch(CUSTOM_CLUSTER, *p.key, {"status": dict(patch)}, status=True)
        except NotFound:
            raise Gone(p.key) from None

    def event_posts(self, p: Pass) -> list[Awaitable[None]]:
        now = p.snap.now
        posts: list[Awaitable[None]] = [
            self.api.event(p.body, e.type, e.reason, e.message, now) for e in p.events
        ]
        p.events.clear()
        return posts

    async def post_events(self, p: Pass) -> None:
        await asyncio.gather(*self.event_posts(p))
