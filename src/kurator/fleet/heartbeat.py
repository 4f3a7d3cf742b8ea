"""Whether what Karmada says of each member is current.

Karmada keeps no heartbeat of a member it pushes to: its cluster status controller rewrites a Cluster's
status only when something in it changes, and gives up on a member that stopped answering only after its
health check has timed out (32 s) and a failure threshold (30 s) has passed (Karmada v1.18,
``pkg/controllers/status``). Until then a stopped member still shows Ready with all its nodes. So the
listing asks each member itself, all at once, through Karmada's cluster proxy (Karmada's own way to it)
with a short deadline; a member that does not answer is shown as stale, beside the age of the status
Karmada last wrote for it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kurator.fleet import targets
from kurator.kube.client import Access, AsyncClient
from kurator.kube.errors import KubeError
from kurator.kube.resources import Namespace

PROBE_TIMEOUT = 3.0
"""Seconds a member has to answer: the members' own requests take milliseconds, and a listing must stay
quick when one of them hangs."""


@dataclass(frozen=True)
class Heard:
    """What asking a member now found: ``error`` is why it did not answer (empty when it did)."""

    error: str = ""

    @property
    def answered(self) -> bool:
        return not self.error


def status_updated(cluster: Mapping[str, Any]) -> dt.datetime | None:
    """When Karmada last wrote the Cluster's status: the newest of its status writes (managed fields of the
    status subresource) and of its conditions' transitions."""
    meta = cluster.get("metadata") or {}
    times = [
        str(f["time"])
        for f in meta.get("managedFields") or ()
        if f.get("subresource") == "status" and f.get("time")
    ]
    status = cluster.get("status") or {}
    times += [
        str(c["lastTransitionTime"]) for c in status.get("conditions") or () if c.get("lastTransitionTime")
    ]
    parsed = [_parse(t) for t in times]
    found = [t for t in parsed if t is not None]
    return max(found) if found else None


def _parse(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


async def _ask(member: str, client: AsyncClient) -> Heard:
    try:
        await client.get(Namespace, "kube-system")
    except KubeError as exc:
        return Heard(targets.unreachable_reason(exc))
    return Heard()


def ask(karmada: Access, members: Iterable[str], timeout: float = PROBE_TIMEOUT) -> dict[str, Heard]:
    """Each member's answer now, asked through Karmada's cluster proxy, all at once (``timeout`` each)."""
    names = sorted(members)
    if not names:
        return {}
    with targets.Members(karmada, names, timeout=timeout) as pool:
        return pool.run(_ask)
