"""Leader election on a ``coordination.k8s.io/v1`` Lease, as client-go's leaderelection does it: of several
operators only the one holding the Lease acts; it renews the Lease every ``retry`` seconds, and stops acting
when it could not renew for ``renew_deadline``. A candidate takes the Lease once it has seen it unrenewed
for ``duration`` by its own clock (never by comparing clocks of two machines). On a clean stop the holder
gives the Lease up, so a standby takes over at once.

Written here because no maintained Python library does this over lightkube; it is small and every write is
a replace at the read resourceVersion, so two candidates can never both win.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time

from lightkube import ApiError, AsyncClient
from lightkube.models.coordination_v1 import LeaseSpec
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.coordination_v1 import Lease

from kurator.operator.settings import LeaderElection

log = logging.getLogger(__name__)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Elector:
    def __init__(self, client: AsyncClient, settings: LeaderElection) -> None:
        self.client, self.s = client, settings
        self._seen: tuple[str | None, object] | None = None  # (holder, renewTime) last read
        self._seen_at = 0.0  # monotonic time it last changed
        self.leading = False

    async def _get(self) -> Lease | None:
        try:
            return await self.client.get(Lease, self.s.name, namespace=self.s.namespace)
        except ApiError as exc:
            if exc.status.code == 404:
                return None
            raise

    def _spec(self, old: LeaseSpec | None) -> LeaseSpec:
        now = _now()
        mine = old is not None and old.holderIdentity == self.s.identity
        transitions = (old.leaseTransitions or 0) if old else 0
        return LeaseSpec(
            holderIdentity=self.s.identity,
            leaseDurationSeconds=int(self.s.duration),
            acquireTime=old.acquireTime if mine and old else now,
            renewTime=now,
            leaseTransitions=transitions if mine or old is None else transitions + 1,
        )

    async def try_once(self) -> bool:
        """Take or renew the Lease; True when this operator holds it afterwards."""
        lease = await self._get()
        if lease is None:
            try:
                await self.client.create(
                    Lease(
                        metadata=ObjectMeta(name=self.s.name, namespace=self.s.namespace),
                        spec=self._spec(None),
                    )
                )
            except ApiError as exc:
                if exc.status.code == 409:
                    return False
                raise
            return True
        spec = lease.spec or LeaseSpec()
        record = (spec.holderIdentity, spec.renewTime)
        if record != self._seen:
            self._seen, self._seen_at = record, time.monotonic()
        held_by_other = bool(spec.holderIdentity) and spec.holderIdentity != self.s.identity
        duration = float(spec.leaseDurationSeconds or self.s.duration)
        if held_by_other and time.monotonic() - self._seen_at < duration:
            return False
        lease.spec = self._spec(spec)
        try:
            await self.client.replace(lease)
        except ApiError as exc:
            if exc.status.code == 409:  # someone else wrote it meanwhile
                return False
            raise
        return True

    def holder(self) -> str | None:
        return self._seen[0] if self._seen else None

    async def acquire(self) -> None:
        """Wait until this operator holds the Lease."""
        said = None
        while True:
            try:
                if await self.try_once():
                    self.leading = True
                    log.info("holding Lease %s/%s as %s", self.s.namespace, self.s.name, self.s.identity)
                    return
            except (ApiError, OSError) as exc:
                log.warning("cannot read Lease %s/%s: %s", self.s.namespace, self.s.name, exc)
            holder = self.holder()
            if holder and holder != said:
                log.info("standing by: Lease %s/%s is held by %s", self.s.namespace, self.s.name, holder)
                said = holder
            await asyncio.sleep(self.s.retry)

    async def hold(self) -> None:
        """Renew the Lease until renewing has failed for ``renew_deadline``; then return (leadership lost)."""
        last = time.monotonic()
        while True:
            await asyncio.sleep(self.s.retry)
            try:
                if await self.try_once():
                    last = time.monotonic()
                    continue
                log.error("Lease %s/%s was taken by %s", self.s.namespace, self.s.name, self.holder())
                break
            except (ApiError, OSError) as exc:
                log.warning("cannot renew Lease %s/%s: %s", self.s.namespace, self.s.name, exc)
            if time.monotonic() - last > self.s.renew_deadline:
                log.error(
                    "Lease %s/%s not renewed for %.0fs", self.s.namespace, self.s.name, self.s.renew_deadline
                )
                break
        self.leading = False

    async def release(self) -> None:
        """Give the Lease up (a clean stop), so that a standby need not wait for it to expire."""
        if not self.leading:
            return
        self.leading = False
        try:
            lease = await self._get()
            if lease is None or lease.spec is None or lease.spec.holderIdentity != self.s.identity:
                return
            lease.spec.holderIdentity = None
            lease.spec.leaseDurationSeconds = 1
            lease.spec.renewTime = _now()
            await self.client.replace(lease)
        except (ApiError, OSError) as exc:
            log.warning("could not give up Lease %s/%s: %s", self.s.namespace, self.s.name, exc)
