"""The SSH preflight's results in the status: condition ``HostsReady`` on the CustomCluster (with every
failing host's reason), the generation of the CustomMachine whose hosts passed, and the CustomMachine's
own ``ready`` and counts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from kurator.api.cluster import CustomClusterStatus
from kurator.api.common import Condition
from kurator.api.machine import CustomMachine, CustomMachineStatus
from kurator.lifecycle.status import condition, with_condition

HOSTS_READY = "HostsReady"
MESSAGE_MAX = 4096


class Result(Protocol):
    @property
    def host(self) -> str: ...
    @property
    def ok(self) -> bool: ...
    @property
    def message(self) -> str: ...


def _message(results: Sequence[Result]) -> tuple[bool, str]:
    failed = [r for r in results if not r.ok]
    if not failed:
        names = ", ".join(r.host for r in results)
        return True, f"every host answered over SSH with python3 and root: {names}"
    text = "; ".join(r.message for r in failed)
    if len(text) > MESSAGE_MAX:
        text = text[: MESSAGE_MAX - 20] + f"… ({len(failed)} hosts)"
    return False, text


def fold(
    status: CustomClusterStatus | None,
    results: Sequence[Result],
    machine_generation: int,
    now: datetime,
) -> CustomClusterStatus:
    """The cluster's status after a preflight of some of its hosts."""
    ok, message = _message(results)
    old = status or CustomClusterStatus()
    update: dict[str, object] = {}
    if ok:
        update["hosts_checked_generation"] = machine_generation
    folded = old.model_copy(update=update)
    what = "HostsAnswered" if ok else "HostsUnreachable"
    return with_condition(folded, HOSTS_READY, ok, what, message, now, None if ok else "Warning")


def machine_status(machine: CustomMachine, cluster_status: CustomClusterStatus | None) -> CustomMachineStatus:
    """The CustomMachine's status: its counts, and ``ready`` from the latest preflight of its generation."""
    hosts = condition(cluster_status, HOSTS_READY)
    generation = machine.metadata.get("generation")
    checked = cluster_status.hosts_checked_generation if cluster_status else None
    ready = hosts is not None and hosts.status == "True" and checked == generation
    conditions: list[Condition] | None = [hosts] if hosts is not None else None
    return CustomMachineStatus(
        ready=ready if hosts is not None else None,
        masters=len(machine.spec.master),
        nodes=len(machine.spec.node),
        conditions=conditions,
        observed_generation=generation,
    )


RETRY = (10.0, 300.0)
"""First and longest wait (seconds) before hosts that failed the preflight are checked again."""


def retry_in(failures: int) -> float:
    """When to check again after ``failures`` failed preflights in a row: doubling from the first wait."""
    first, longest = RETRY
    return min(first * float(2 ** max(failures - 1, 0)), longest)
