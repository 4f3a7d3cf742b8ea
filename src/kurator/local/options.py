"""What ``kurator local up`` is asked for and what a new fleet's settings are: the options as given, their
checks, the settings (addresses, ports, what runs) of a fleet that does not exist yet, and the check that an
existing fleet is asked for the shape it has. Nothing here starts a process; :mod:`kurator.local.fleet`
brings the fleet up from these settings."""

from __future__ import annotations

import errno
import math
import os
import re
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

from kurator.core.errors import InvalidInput
from kurator.local import cluster_api, karmada, monitoring, netns
from kurator.local import config as fleet_config
from kurator.local.config import FleetConfig, NetworkMode

DEFAULT_API_PORT = 6443
NETNS_ETCD_PORTS = (2379, 2380)


@dataclass(frozen=True)
class UpOptions:
    """What the user asked for; ``None`` means "as recorded, or the default for a new fleet"."""

    name: str = fleet_config.DEFAULT_FLEET
    home: Path | None = None
    members: int | None = None
    nodes: int | None = None
    kubernetes_version: str | None = None
    network: str = "auto"  # auto | netns | loopback
    api_port: int | None = None
    karmada: bool | None = None  # default: on
    monitoring: bool | None = None  # default: on
    prometheus_replicas: int | None = None  # default: 1 per member
    block_duration: str | None = None  # default: 2h, Prometheus's and Thanos's usual
    cluster_api: bool | None = None  # default: off; can be added to a fleet later, not removed
    wait_timeout: float = 180.0


def port_free(address: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((address, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def _free_port(address: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


def choose_network(requested: str) -> NetworkMode:
    if requested not in ("auto", "netns", "loopback"):
        raise InvalidInput(f"--network must be auto, netns or loopback, got {requested!r}")
    can_netns = os.geteuid() == 0 and shutil.which("ip") is not None and shutil.which("nsenter") is not None
    if requested == "netns" and not can_netns:
        raise InvalidInput("--network netns needs root and the `ip` and `nsenter` commands")
    if requested == "auto":
        return "netns" if can_netns else "loopback"
    return "netns" if requested == "netns" else "loopback"


def new_config(opts: UpOptions, supported_versions: tuple[str, ...], fleet_id: str) -> FleetConfig:
    """Settings of a fleet that does not exist yet; checks every port before anything is written."""
    members = opts.members or fleet_config.DEFAULT_MEMBERS
    version = opts.kubernetes_version or supported_versions[0]
    network = choose_network(opts.network)
    with_karmada = True if opts.karmada is None else opts.karmada
    clusters = [fleet_config.HOST_CLUSTER, *fleet_config.member_names(members)]
    if with_karmada:
        clusters.append(fleet_config.KARMADA)
    base = opts.api_port or DEFAULT_API_PORT
    api_ports = {c: base + i for i, c in enumerate(clusters)}
    karmada_ports: dict[str, int] = {}
    if network == "netns":
        index = netns.free_index(opts.name, fleet_id)
        link = netns.Link.for_fleet(opts.name, index, fleet_id)
        address, (etcd_client, etcd_peer) = link.ns_addr, NETNS_ETCD_PORTS
        if with_karmada:
            karmada_ports = dict(karmada.NETNS_PORTS)
    else:
        index, address = None, fleet_config.LOOPBACK
        taken = [p for p in api_ports.values() if not port_free(address, p)]
        if taken:
            raise InvalidInput(
                f"port {taken[0]} on {address} is already taken "
                f"(the fleet needs ports {base}-{base + len(clusters) - 1})",
                "free it or choose another first port with --api-port",
            )
        etcd_client, etcd_peer = _free_port(address), _free_port(address)
        if with_karmada:
            karmada_ports = {name: _free_port(address) for name in karmada.PORT_NAMES}
    with_monitoring = True if opts.monitoring is None else opts.monitoring
    mon = None
    if with_monitoring:
        replicas = opts.prometheus_replicas or 1
        names = monitoring.port_names(fleet_config.member_names(members), replicas)
        ports = (
            monitoring.netns_ports(names) if network == "netns" else {n: _free_port(address) for n in names}
        )
        mon = fleet_config.MonitoringConfig(
            replicas=replicas, ports=ports, block_duration=opts.block_duration or "2h"
        )
        if opts.block_duration:  # short blocks: keep two of them, and let the Compactor see them at once
            mon = mon.model_copy(
                update={"retention": _double(opts.block_duration), "consistency_delay": "0s"}
            )
    if opts.cluster_api:
        cluster_api.check_network(network)
    return FleetConfig(
        name=opts.name,
        members=members,
        nodes=opts.nodes or fleet_config.DEFAULT_NODES,
        kubernetes_version=version,
        network=network,
        address=address,
        link_index=index,
        fleet_id=fleet_id,
        etcd_client_port=etcd_client,
        etcd_peer_port=etcd_peer,
        api_ports=api_ports,
        karmada=with_karmada,
        karmada_ports=karmada_ports,
        monitoring=mon,
        cluster_api=cluster_api.new_config() if opts.cluster_api else None,
    )


def _double(duration: str) -> str:
    """Twice a duration such as ``2m``: enough retention for a finished block beside the open one."""
    return f"{int(duration[:-1]) * 2}{duration[-1]}"


def check_matches(existing: FleetConfig, opts: UpOptions) -> None:
    """A fleet keeps its shape; asking for another one is an error that changes nothing."""
    asked = {
        "--members": (opts.members, existing.members),
        "--nodes": (opts.nodes, existing.nodes),
        "--kubernetes-version": (opts.kubernetes_version, existing.kubernetes_version),
        "--api-port": (opts.api_port, existing.api_ports[fleet_config.HOST_CLUSTER]),
    }
    for flag, (want, have) in asked.items():
        if want is not None and want != have:
            raise InvalidInput(
                f"fleet {existing.name!r} already exists with {flag} {have}, not {want}",
                f"run `kurator local down --purge --name {existing.name}` first to make a different fleet",
            )
    if opts.karmada is not None and opts.karmada != existing.karmada:
        made = "with" if existing.karmada else "without"
        raise InvalidInput(
            f"fleet {existing.name!r} was made {made} Karmada",
            f"run `kurator local down --purge --name {existing.name}` first to make it again",
        )
    if opts.monitoring is not None and opts.monitoring != (existing.monitoring is not None):
        made = "with" if existing.monitoring else "without"
        raise InvalidInput(
            f"fleet {existing.name!r} was made {made} monitoring",
            f"run `kurator local down --purge --name {existing.name}` first to make it again",
        )
    mon = existing.monitoring
    for flag, want, have in (
        ("--prometheus-replicas", opts.prometheus_replicas, mon.replicas if mon else None),
        ("--block-duration", opts.block_duration, mon.block_duration if mon else None),
    ):
        if want is not None and want != have:
            raise InvalidInput(
                f"fleet {existing.name!r} already exists with {flag} {have}, not {want}",
                f"run `kurator local down --purge --name {existing.name}` first to make a different fleet",
            )
    if opts.cluster_api is False and existing.cluster_api is not None:
        raise InvalidInput(
            f"fleet {existing.name!r} runs Cluster API, which stays once added",
            f"run `kurator local down --purge --name {existing.name}` first to make it again without",
        )
    if opts.network != "auto" and opts.network != existing.network:
        raise InvalidInput(f"fleet {existing.name!r} already runs with --network {existing.network}")


def validate(opts: UpOptions, supported_versions: tuple[str, ...]) -> None:
    fleet_config.validate_name(opts.name)
    fleet_config.validate_counts(opts.members, opts.nodes)
    if opts.api_port is not None:
        fleet_config.validate_port(opts.api_port, "--api-port")
    if opts.kubernetes_version is not None and opts.kubernetes_version not in supported_versions:
        raise InvalidInput(
            f"Kubernetes version {opts.kubernetes_version!r} is not supported",
            f"supported: {', '.join(supported_versions)}",
        )
    if not 0 < opts.wait_timeout < math.inf:  # nan compares false both ways
        raise InvalidInput(f"--wait-timeout must be a positive number of seconds, got {opts.wait_timeout}")
    if opts.prometheus_replicas is not None and not 1 <= opts.prometheus_replicas <= 3:
        raise InvalidInput(f"--prometheus-replicas must be 1, 2 or 3, got {opts.prometheus_replicas}")
    if opts.block_duration is not None and not re.fullmatch(r"[1-9][0-9]*[mh]", opts.block_duration):
        raise InvalidInput(
            f"--block-duration must be minutes or hours such as 2m or 2h, got {opts.block_duration!r}"
        )
    if (opts.prometheus_replicas or opts.block_duration) and opts.monitoring is False:
        raise InvalidInput(
            "--prometheus-replicas and --block-duration need monitoring (drop --no-monitoring)"
        )
