"""Membership of a provisioned cluster in a fleet (``spec.fleet``): when to join or leave, and what the
status says of it (``status.fleet`` and condition ``FleetJoined``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kurator.api.cluster import CustomClusterStatus
from kurator.lifecycle import status as st

FLEET_JOINED = "FleetJoined"


@dataclass(frozen=True)
class Steps:
    leave: str | None = None
    """The fleet to leave first."""
    join: str | None = None
    """The fleet to join."""


def steps(wanted: str | None, joined: str | None, deleting: bool = False) -> Steps:
    """What to do about the fleet: a deleted cluster leaves its fleet; a cluster moved to another fleet
    leaves the old one first; a cluster joins the fleet its spec names once (provisioned, see the
    operator)."""
    if deleting:
        return Steps(leave=joined)
    leave = joined if joined and joined != wanted else None
    join = wanted if wanted and wanted != joined else None
    return Steps(leave, join)


def joined(status: CustomClusterStatus, fleet: str, name: str, now: dt.datetime) -> CustomClusterStatus:
    status = status.model_copy(update={"fleet": fleet})
    return st.with_condition(status, FLEET_JOINED, True, "Joined", f"joined fleet {fleet} as {name}", now)


def join_failed(status: CustomClusterStatus, why: str, now: dt.datetime) -> CustomClusterStatus:
    return st.with_condition(status, FLEET_JOINED, False, "JoinFailed", why, now, "Warning")


def left(status: CustomClusterStatus) -> CustomClusterStatus:
    return st.without_condition(status.model_copy(update={"fleet": None}), FLEET_JOINED)
