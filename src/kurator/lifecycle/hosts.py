"""The hosts of a cluster in one shape, whether they come from the CustomMachine (what is wanted) or from
the status (what the last successful run installed), and the differences between the two."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from kurator.api.cluster import CustomClusterStatus, ProvisionedHost, Role
from kurator.api.machine import CustomMachine, Machine


@dataclass(frozen=True)
class Host:
    """One host as Kubespray needs it: its inventory name, role, addresses and the Secret of its key."""

    name: str
    role: Role
    public_ip: str
    private_ip: str
    ssh_key_secret: str
    labels: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)

    def record(self) -> ProvisionedHost:
        """The host as the status keeps it (no labels: they are the CustomMachine's to say)."""
        return ProvisionedHost(
            host_name=self.name,
            role=self.role,
            public_ip=self.public_ip,
            private_ip=self.private_ip,
            ssh_key_secret=self.ssh_key_secret,
        )

    def same_place(self, other: Host) -> bool:
        """Whether ``other`` is this host at the same addresses in the same role."""
        return (self.role, self.public_ip, self.private_ip) == (other.role, other.public_ip, other.private_ip)


def _from_machine(m: Machine, role: Role) -> Host:
    return Host(m.host_name, role, m.public_ip, m.private_ip, m.ssh_key.name, dict(m.labels or {}))


def desired(machine: CustomMachine) -> tuple[Host, ...]:
    """The hosts the CustomMachine lists, masters first, each list in its given order."""
    return tuple(_from_machine(m, "master") for m in machine.spec.master) + tuple(
        _from_machine(m, "node") for m in machine.spec.node
    )


def from_records(records: Iterable[ProvisionedHost]) -> tuple[Host, ...]:
    return tuple(Host(r.host_name, r.role, r.public_ip, r.private_ip, r.ssh_key_secret) for r in records)


def provisioned(status: CustomClusterStatus | None) -> tuple[Host, ...]:
    """The hosts the status records as installed."""
    return from_records(status.provisioned_hosts or ()) if status else ()


def by_name(hosts: Iterable[Host]) -> dict[str, Host]:
    return {h.name: h for h in hosts}


def masters(hosts: Iterable[Host]) -> tuple[Host, ...]:
    return tuple(h for h in hosts if h.role == "master")


def nodes(hosts: Iterable[Host]) -> tuple[Host, ...]:
    return tuple(h for h in hosts if h.role == "node")


def primary_key_secret(hosts: Iterable[Host]) -> str:
    """The Secret whose key is Ansible's default (``--private-key``): the first master's by name (Kurator
    used the first master's too); hosts with another Secret get theirs in the inventory."""
    ordered = sorted(hosts, key=lambda h: (h.role != "master", h.name))
    if not ordered:
        raise ValueError("a cluster without hosts has no SSH key")
    return ordered[0].ssh_key_secret
