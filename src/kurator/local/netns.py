"""The fleet's network namespace: fake node and pod IPs can never reach the machine's real network.

Inside the namespace there is only ``lo`` and one end of a veth pair with a /30 link to the machine, and
no default route: a dial to any fake private-range address fails locally (ENETUNREACH). The machine
reaches the API servers at the namespace's end of the link.

This drives iproute2's ``ip`` command: four idempotent commands do all that is needed, and iproute2 is
on every Linux machine, where a netlink library would be one more dependency for the same result.
"""

from __future__ import annotations

import hashlib
import ipaddress
import subprocess
from dataclasses import dataclass
from pathlib import Path

from kurator.core.errors import KuratorError

NETNS_DIR = Path("/run/netns")
# Link addresses are /30s carved from this range; they only ever exist on our own veth pair.
LINK_POOL = ipaddress.IPv4Network("10.255.0.0/16")


@dataclass(frozen=True)
class Link:
    """One fleet's namespace and the veth link between it and the machine."""

    netns: str
    host_if: str
    ns_if: str
    host_addr: str
    ns_addr: str

    @staticmethod
    def for_fleet(fleet: str, index: int, fleet_id: str | None = None) -> Link:
        """The names of fleet ``fleet`` with id ``fleet_id`` (see local/state.py): two fleets of one name
        in different folders have different ids, so their namespaces and links never meet. Fleets made
        before ids existed (``None``) keep the names they were made with. ``index`` picks the /30."""
        tag = fleet_id or hashlib.sha256(fleet.encode()).hexdigest()[:8]
        name = f"kurator-{fleet}-{fleet_id}" if fleet_id else f"kurator-{fleet}"
        subnet = list(LINK_POOL.subnets(new_prefix=30))[index]
        host, ns = list(subnet.hosts())
        # Interface names must fit IFNAMSIZ (15 characters).
        return Link(name, f"kh{tag}", f"kn{tag}", str(host), str(ns))


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise KuratorError(f"`ip {' '.join(args)}` failed: {proc.stderr.strip()}")
    return proc


def exists(name: str) -> bool:
    return (NETNS_DIR / name).exists()


def used_link_addresses() -> set[str]:
    """IPv4 addresses on this machine's interfaces, to pick a /30 nobody uses."""
    out = _ip("-o", "-4", "addr", "show").stdout
    return {line.split()[3].split("/")[0] for line in out.splitlines() if len(line.split()) > 3}


def free_index(fleet: str, fleet_id: str | None = None) -> int:
    """First /30 of the pool not in use on this machine, starting from a slot derived from the fleet."""
    used = used_link_addresses()
    start = int(hashlib.sha256(f"{fleet}/{fleet_id}".encode()).hexdigest(), 16) % 1024
    for offset in range(1024):
        index = (start + offset) % 1024
        link = Link.for_fleet(fleet, index, fleet_id)
        if link.host_addr not in used and link.ns_addr not in used:
            return index
    raise KuratorError("no free /30 link address left in 10.255.0.0/16 for a new fleet namespace")


def ensure(link: Link) -> None:
    """Create the namespace and link if missing; a no-op when they already exist."""
    has_link = _ip("link", "show", link.host_if, check=False).returncode == 0
    if not has_link and (taken := {link.host_addr, link.ns_addr} & used_link_addresses()):
        # Another fleet (or anything else) took the /30 while this one was down.
        raise KuratorError(
            f"the fleet's link address {min(taken)} is used by another interface on this machine",
            f"stop what uses it (see `ip -o addr show to {min(taken)}`), then run `kurator local up` again",
        )
    if not exists(link.netns):
        _ip("netns", "add", link.netns)
    _ip("-n", link.netns, "link", "set", "lo", "up")
    if not has_link:
        _ip("link", "add", link.host_if, "type", "veth", "peer", "name", link.ns_if, "netns", link.netns)
    if link.host_addr not in _ip("-o", "-4", "addr", "show", "dev", link.host_if).stdout:
        _ip("addr", "add", f"{link.host_addr}/30", "dev", link.host_if)
    if link.ns_addr not in _ip("-n", link.netns, "-o", "-4", "addr", "show", "dev", link.ns_if).stdout:
        _ip("-n", link.netns, "addr", "add", f"{link.ns_addr}/30", "dev", link.ns_if)
    _ip("link", "set", link.host_if, "up")
    _ip("-n", link.netns, "link", "set", link.ns_if, "up")


def delete(link: Link) -> None:
    """Remove the namespace; deleting it also deletes both ends of the veth pair."""
    if exists(link.netns):
        _ip("netns", "delete", link.netns)
    _ip("link", "delete", link.host_if, check=False)


def pids_inside(name: str) -> list[int]:
    """PIDs of processes still running in the namespace (``down`` checks it ends empty)."""
    if not exists(name):
        return []
    out = _ip("netns", "pids", name, check=False).stdout
    return [int(p) for p in out.split()]
