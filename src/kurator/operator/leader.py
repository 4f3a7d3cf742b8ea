"""Leader election on a ``coordination.k8s.io/v1`` Lease, as client-go's leaderelection does it: of several
operators only the one holding the Lease acts; it renews the Lease every ``retry`` seconds, and stops acting
when it could not renew for ``renew_deadline``. A candidate takes the Lease once it has seen it unrenewed
for ``duration`` by its own clock (never by comparing clocks of two machines). On a clean stop the holder
gives the Lease up, so a standby takes over at once.

An operator never assumes it won: a write of the Lease counts only once the Lease read back afterwards is
the one written (same resourceVersion, this operator its holder), and leadership lasts ``renew_deadline``
from the moment before that write was sent. Whatever goes wrong while asking (no API server yet, a
refused connection, a timeout, an error status) is a failed attempt, never a win. :meth:`Elector.check`
is what every write of the operator asks first.

Written here because no maintained Python library does this over lightkube; it is small and every write is
a create or a replace at the read resourceVersion, so two candidates can never both win.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any

from kurator.api.resources import LEASE
from kurator.core.errors import KuratorError
from kurator.kube.asyncapi import AsyncAPI
from kurator.kube.errors import Conflict
from kurator.operator.settings import LeaderElection

log = logging.getLogger(__name__)


class NotLeading(KuratorError):
    """This operator does not hold a Lease it has read back: it must not act."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _micro(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Elector:
    def __init__(
        self,
        api: AsyncAPI,
        settings: LeaderElection,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], dt.datetime] = _now,
    ) -> None:
        self.api, self.s, self.clock, self.now = api, settings, clock, now
        self._seen: tuple[Any, Any] | None = None  # (holder, renewTime) last read
        self._seen_at = 0.0  # when it last changed (clock)
        self._confirmed_at: float | None = None
        """When the write that the last read-back confirmed was sent (clock)."""

    @property
    def leading(self) -> bool:
        """Whether this operator holds the Lease: a write of it confirmed by a read-back less than
        ``renew_deadline`` ago."""
        at = self._confirmed_at
        return at is not None and self.clock() - at < self.s.renew_deadline

    def check(self) -> None:
        """Raise :class:`NotLeading` unless this operator holds the Lease (asked before every write)."""
        if not self.leading:
            raise NotLeading(f"not holding Lease {self.s.namespace}/{self.s.name}: not acting")

    def _spec(self, old: dict[str, Any] | None) -> dict[str, Any]:
        now = _micro(self.now())
        mine = old is not None and old.get("holderIdentity") == self.s.identity
        transitions = int((old or {}).get("leaseTransitions") or 0)
        return {
            "holderIdentity": self.s.identity,
            "leaseDurationSeconds": int(self.s.duration),
            "acquireTime": (old or {}).get("acquireTime") if mine else now,
            "renewTime": now,
            "leaseTransitions": transitions if mine or old is None else transitions + 1,
        }

    async def try_once(self) -> bool:
        """Take or renew the Lease; True only when the Lease read back afterwards is the one written."""
        sent = self.clock()
        lease = await self.api.get(LEASE, self.s.namespace, self.s.name)
        if lease is None:
            doc = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": self.s.name, "namespace": self.s.namespace},
                "spec": self._spec(None),
            }
            written = await self.api.created(doc)
            if written is None:  # another candidate created it first
                return False
        else:
            spec = lease.get("spec") or {}
            record = (spec.get("holderIdentity"), spec.get("renewTime"))
            if record != self._seen:
                self._seen, self._seen_at = record, self.clock()
            held_by_other = bool(record[0]) and record[0] != self.s.identity
            duration = float(spec.get("leaseDurationSeconds") or self.s.duration)
            if held_by_other and self.clock() - self._seen_at < duration:
                return False
            try:
                written = await self.api.replace({**lease, "spec": self._spec(spec)})
            except Conflict:  # someone else wrote it meanwhile
                return False
        return self._confirm(written, await self.api.get(LEASE, self.s.namespace, self.s.name), sent)

    def _confirm(self, written: dict[str, Any], back: dict[str, Any] | None, sent: float) -> bool:
        version = (written.get("metadata") or {}).get("resourceVersion")
        ok = (
            back is not None
            and (back.get("metadata") or {}).get("resourceVersion") == version
            and (back.get("spec") or {}).get("holderIdentity") == self.s.identity
        )
        if ok:
            self._confirmed_at = sent
            self._seen = (self.s.identity, (back or {}).get("spec", {}).get("renewTime"))
        return ok

    def holder(self) -> str | None:
        return str(self._seen[0]) if self._seen and self._seen[0] else None

    async def acquire(self) -> None:
        """Wait until this operator holds the Lease; until then, every failure is one more wait."""
        said = None
        while True:
            try:
                if await self.try_once():
                    log.info("holding Lease %s/%s as %s", self.s.namespace, self.s.name, self.s.identity)
                    return
            except Exception as exc:
                log.warning("cannot take Lease %s/%s: %s", self.s.namespace, self.s.name, exc)
            holder = self.holder()
            if holder and holder != said:
                log.info("standing by: Lease %s/%s is held by %s", self.s.namespace, self.s.name, holder)
                said = holder
            await asyncio.sleep(self.s.retry)

    async def hold(self) -> None:
        """Renew the Lease until it is taken or could not be renewed for ``renew_deadline``; then return
        (leadership lost: :attr:`leading` is False from then on)."""
        while True:
            await asyncio.sleep(self.s.retry)
            try:
                if not await self.try_once():
                    log.error("Lease %s/%s was taken by %s", self.s.namespace, self.s.name, self.holder())
                    break
            except Exception as exc:
                log.warning("cannot renew Lease %s/%s: %s", self.s.namespace, self.s.name, exc)
            if not self.leading:
                log.error(
                    "Lease %s/%s not renewed for %.0fs", self.s.namespace, self.s.name, self.s.renew_deadline
                )
                break
        self._confirmed_at = None

    async def release(self) -> None:
        """Give the Lease up (a clean stop), so that a standby need not wait for it to expire."""
        if self._confirmed_at is None:
            return
        self._confirmed_at = None
        try:
            lease = await self.api.get(LEASE, self.s.namespace, self.s.name)
            spec = (lease or {}).get("spec") or {}
            if lease is None or spec.get("holderIdentity") != self.s.identity:
                return
            spec = {
                **spec,
                "holderIdentity": None,
                "leaseDurationSeconds": 1,
                "renewTime": _micro(self.now()),
            }
            await self.api.replace({**lease, "spec": spec})
        except Exception as exc:
            log.warning("could not give up Lease %s/%s: %s", self.s.namespace, self.s.name, exc)
