"""``kurator local up | down | status``: a host cluster and N members of real control planes on one machine.

``up`` is one idempotent reconcile: it computes what the fleet should be, keeps every recorded process
that still runs, and starts only what is missing (after a crash, just the crashed process). Everything
is recorded as it happens, so an interrupted ``up`` is finished by running it again and ``down`` always
knows exactly which processes are ours.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import math
import os
import re
import secrets
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kurator.binaries import KARMADA_CRDS, KARMADA_DEPLOY
from kurator.binaries.catalog import KARMADA_VERSION
from kurator.core.errors import InvalidInput, KuratorError
from kurator.core.progress import Reporter, Silent
from kurator.kube.apply import apply_all
from kurator.kube.client import client
from kurator.local import cluster_api, karmada, monitoring, netns, processes, state
from kurator.local import config as fleet_config
from kurator.local.config import FleetConfig, NetworkMode
from kurator.local.control_plane import (
    APISERVER,
    CLUSTER_COMPONENTS,
    CONTROLLER_MANAGER_BIN,
    ETCD,
    SERVICE_IP,
    Binaries,
    cluster_specs,
    ensure_etcd_pki,
    etcd_spec,
    process_name,
)
from kurator.local.health import wait_apiserver, wait_etcd
from kurator.local.kubeconfigs import context_name, write_kubeconfigs
from kurator.local.layout import FleetLayout, fleet_home
from kurator.local.nodes import ensure_nodes, wait_cluster_usable
from kurator.local.pki import ensure_cluster_pki
from kurator.local.processes import ProcessRecord, ProcessSpec
from kurator.local.stages import write_stages
from kurator.local.state import fleet_lock, load_records, save_records
from kurator.local.teardown import DownResult, down, link_of

__all__ = [
    "DownResult",
    "UpOptions",
    "UpResult",
    "down",
    "fleet_lock",
    "link_of",
    "load_records",
    "save_records",
    "up",
]

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


@dataclass
class UpResult:
    config: FleetConfig
    layout: FleetLayout
    started: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    seconds: float = 0.0


# (kubernetes version, with Karmada, with monitoring) -> binary paths
BinaryResolver = Callable[[str, bool, bool], Binaries]
# Cluster API's and CAPA's managers and release data (kurator.binaries.fetch.resolve_cluster_api)
ClusterApiResolver = Callable[[], Binaries]


# --- configuration ----------------------------------------------------------------------------------


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


# --- bring-up ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def _writing(layout: FleetLayout) -> Iterator[None]:
    """A file of the fleet that cannot be written is an error that names it, not a traceback."""
    try:
        yield
    except OSError as exc:
        raise KuratorError(
            f"cannot write the fleet's files: {exc.strerror or exc} ({exc.filename or layout.root})",
            f"make {layout.root} writable and run `kurator local up` again",
        ) from None


def prepare_files(cfg: FleetConfig, layout: FleetLayout) -> None:
    """PKI, kubeconfigs and kwok stages; each is rewritten only when its content would change."""
    with _writing(layout):
        addresses = sorted({cfg.address, fleet_config.LOOPBACK})
        ensure_etcd_pki(cfg, layout)
        for cluster in cfg.control_planes:
            names = cluster_api.played_names(cfg, cluster)
            ensure_cluster_pki(layout.pki(cluster), addresses, SERVICE_IP, names)
        if cfg.karmada:
            karmada.prepare_certs(cfg, layout)
        write_kubeconfigs(cfg, layout)
        write_stages(layout.kwok_stages, cfg.kubernetes_version)
        layout.logs.mkdir(parents=True, exist_ok=True)
        layout.etcd_data.mkdir(parents=True, exist_ok=True)
        layout.etcd_data.chmod(0o700)


class _Starter:
    """Starts missing processes and records each one the moment it exists; a process whose record cannot
    be written is stopped again, so the record never misses a running process."""

    def __init__(self, layout: FleetLayout, records: dict[str, ProcessRecord], fleet_id: str) -> None:
        self.layout = layout
        self.records = records
        self.fleet_id = fleet_id
        self.started: list[str] = []
        self.kept: list[str] = []

    def ensure(self, spec: ProcessSpec) -> bool:
        """Start ``spec`` unless our recorded process for it still runs; True when it was started."""
        rec = self.records.get(spec.name)
        if rec is not None and processes.is_alive(rec):
            self.kept.append(spec.name)
            return False
        marks = {processes.FLEET_ENV: self.fleet_id, processes.PROCESS_ENV: spec.name}
        new = processes.spawn(dataclasses.replace(spec, env={**spec.env, **marks}))
        try:
            save_records(self.layout, {**self.records, spec.name: new})
        except KuratorError:
            processes.stop(new)
            raise
        self.records[spec.name] = new
        self.started.append(spec.name)
        return True


def _stop_unrecorded(records: dict[str, ProcessRecord], fleet_id: str) -> None:
    """Stop the fleet's processes that its record does not hold (a start whose record was never written,
    e.g. when kurator was killed in between): they would hold their ports against the ones ``up`` starts."""
    recorded = {(r.pid, r.start_time) for r in records.values()}
    for rec in processes.marked(fleet_id):
        if (rec.pid, rec.start_time) not in recorded:
            processes.stop(rec)


def _check_ports_free(cfg: FleetConfig, to_start: list[str]) -> None:
    """In loopback mode another program may have taken a port since the fleet was made."""
    if cfg.network != "loopback":
        return
    ports = {ETCD: [cfg.etcd_client_port, cfg.etcd_peer_port]}
    for cluster in cfg.control_planes:
        ports[process_name(cluster, APISERVER)] = [cfg.api_ports[cluster]]
    if cfg.karmada:
        for component, port_names in karmada.COMPONENT_PORTS.items():
            ports[process_name(fleet_config.KARMADA, component)] = [cfg.karmada_ports[p] for p in port_names]
    if cfg.monitoring is not None:
        ports.update(monitoring.process_ports(cfg))
    for name in to_start:
        for port in ports.get(name, []):
            if not port_free(cfg.address, port):
                raise KuratorError(
                    f"port {port} on {cfg.address}, needed by {name}, is taken by another program",
                    "stop that program, or `kurator local down --purge` and `up --api-port` elsewhere",
                )


def _resolve_cluster_api() -> Binaries:
    from kurator.binaries.fetch import resolve_cluster_api

    return resolve_cluster_api()


def _settle(
    opts: UpOptions, layout: FleetLayout, supported_versions: tuple[str, ...]
) -> tuple[FleetConfig, bool, str]:
    """The fleet's settings (recorded, or new ones), whether they are new, and the fleet's id. Nothing is
    written: a folder kurator did not make, bad input and taken ports are refused before anything is."""
    marker = state.read_marker(layout)
    if marker is None and (foreign := state.foreign_entries(layout)):
        raise InvalidInput(
            f"{layout.root} is not empty and is not a kurator fleet's folder (it holds {foreign[0]!r}, …)",
            "choose an empty or new folder with --home",
        )
    recover = state.command("down", opts.name, opts.home, "--purge")
    existing = fleet_config.load(layout.config, recover)
    fleet_id = marker.id if marker is not None else secrets.token_hex(4)
    if existing is not None:
        check_matches(existing, opts)
        return existing, False, fleet_id
    return new_config(opts, supported_versions, fleet_id), True, fleet_id


def up(
    opts: UpOptions,
    resolve_binaries: BinaryResolver,
    supported_versions: tuple[str, ...],
    reporter: Reporter | None = None,
    resolve_cluster_api: ClusterApiResolver = _resolve_cluster_api,
) -> UpResult:
    """Bring the fleet to its desired state; see the module docstring."""
    report = reporter or Silent()
    began = time.monotonic()
    validate(opts, supported_versions)
    layout = FleetLayout(fleet_home(opts.name, opts.home))
    cfg, is_new, fleet_id = _settle(opts, layout, supported_versions)
    recorded = None if is_new else cfg
    if opts.cluster_api and cfg.cluster_api is None:  # added to a fleet that runs without it
        cluster_api.check_network(cfg.network)
        cfg = cfg.model_copy(update={"cluster_api": cluster_api.new_config()})
    bins = resolve_binaries(cfg.kubernetes_version, cfg.karmada, cfg.monitoring is not None)
    if cfg.cluster_api is not None:
        bins = {**bins, **resolve_cluster_api()}
    with fleet_lock(layout):
        marker = state.ensure_marker(layout, opts.name, fleet_id)
        recover = state.command("down", opts.name, opts.home, "--purge")
        if is_new and (fleet_config.load(layout.config, recover) is not None or marker.id != fleet_id):
            raise KuratorError(
                f"another kurator command made the fleet in {layout.root} meanwhile",
                "run `kurator local up` again",
            )
        if cfg != recorded:
            fleet_config.save(layout.config, cfg)
        if cfg.network == "loopback":
            report.note(
                "running on loopback (not root): fake node and pod IPs are not fenced off in a network "
                "namespace, so `kubectl logs/exec` and anything that dials them would leave this machine"
            )
        t = time.monotonic()
        report.step("certificates and kubeconfigs")
        prepare_files(cfg, layout)
        report.done("certificates and kubeconfigs", time.monotonic() - t)
        link = link_of(cfg)
        if link is not None:
            netns.ensure(link)
            cluster_api.prepare_etc(link.netns)
        ns = link.netns if link else None
        records = load_records(layout, opts.name, opts.home)
        _stop_unrecorded(records, marker.id)
        starter = _Starter(layout, records, marker.id)
        specs = {c: cluster_specs(cfg, layout, c, bins, ns) for c in cfg.clusters}
        if cfg.karmada:
            specs[fleet_config.KARMADA] = karmada.specs(cfg, layout, bins, ns)
        etcd = etcd_spec(cfg, layout, bins, ns)
        mon_specs = monitoring.specs(cfg, layout, bins, ns) if cfg.monitoring else {}
        dead = [
            s.name
            for s in [etcd, *(sp for c in specs.values() for sp in c.values()), *mon_specs.values()]
            if not (s.name in records and processes.is_alive(records[s.name]))
        ]
        _check_ports_free(cfg, dead)
        _start(cfg, layout, bins, specs, etcd, mon_specs, starter, report, opts.wait_timeout)

        if cfg.cluster_api is not None and ns is not None:
            t = time.monotonic()
            report.step("Cluster API and the AWS stand-in")
            _cluster_api_up(cfg, layout, bins, ns, starter, opts.wait_timeout)
            report.done("Cluster API and the AWS stand-in", time.monotonic() - t)

    return UpResult(cfg, layout, starter.started, starter.kept, time.monotonic() - began)


def _start(
    cfg: FleetConfig,
    layout: FleetLayout,
    bins: Binaries,
    specs: dict[str, dict[str, ProcessSpec]],
    etcd: ProcessSpec,
    mon_specs: dict[str, ProcessSpec],
    starter: _Starter,
    report: Reporter,
    wait_timeout: float,
) -> None:
    """Start what is missing, in order, waiting for each part to serve."""
    t = time.monotonic()
    report.step("etcd")
    starter.ensure(etcd)
    wait_etcd(cfg, layout, timeout=wait_timeout)
    report.done("etcd", time.monotonic() - t)

    # API servers first, all at once: they are the slow part and independent of each other.
    t = time.monotonic()
    report.step(f"{len(cfg.control_planes)} API servers")
    for cluster in cfg.control_planes:
        starter.ensure(specs[cluster][APISERVER])
    for cluster in cfg.control_planes:
        wait_apiserver(cfg, layout, cluster, timeout=wait_timeout)
    report.done(f"{len(cfg.control_planes)} API servers", time.monotonic() - t)

    t = time.monotonic()
    report.step("controller managers, schedulers, kwok")
    for cluster in cfg.clusters:
        for component in CLUSTER_COMPONENTS[1:]:
            starter.ensure(specs[cluster][component])
    report.done("controller managers, schedulers, kwok", time.monotonic() - t)

    if cfg.karmada:
        t = time.monotonic()
        report.step("Karmada")
        _karmada_up(cfg, layout, specs[fleet_config.KARMADA], bins, starter, wait_timeout)
        report.done("Karmada", time.monotonic() - t)

    t = time.monotonic()
    report.step(f"{cfg.nodes} fake nodes per cluster")
    for cluster in cfg.clusters:
        ensure_nodes(cfg, layout, cluster)
    for cluster in cfg.clusters:
        wait_cluster_usable(cfg, layout, cluster, timeout=wait_timeout)
    report.done(f"{cfg.nodes} fake nodes per cluster", time.monotonic() - t)

    if cfg.monitoring:
        t = time.monotonic()
        report.step("Prometheus and Thanos")
        _monitoring_up(cfg, layout, mon_specs, starter, wait_timeout)
        report.done("Prometheus and Thanos", time.monotonic() - t)


def _karmada_up(
    cfg: FleetConfig,
    layout: FleetLayout,
    kspecs: dict[str, ProcessSpec],
    bins: Binaries,
    starter: _Starter,
    timeout: float,
) -> None:
    """Karmada after its API server serves: webhook first (CRD conversion and policy defaulting go
    through it), then CRDs, webhook configurations and the aggregated API, then the controllers."""
    for component in (CONTROLLER_MANAGER_BIN, karmada.WEBHOOK, karmada.AGGREGATED):
        starter.ensure(kspecs[component])
    karmada.wait_webhook(cfg, layout, timeout)
    karmada.apply_crds(cfg, layout, bins[KARMADA_CRDS])
    karmada.apply_bootstrap(cfg, layout, bins[KARMADA_DEPLOY])
    karmada.wait_cluster_api(cfg, layout, timeout)
    for component in (karmada.CONTROLLER, karmada.SCHEDULER):
        starter.ensure(kspecs[component])
    karmada.wait_controllers(cfg, layout, timeout)
    karmada.mark_host(cfg, layout, fleet_config.HOST_CLUSTER, KARMADA_VERSION)


def _monitoring_up(
    cfg: FleetConfig, layout: FleetLayout, mspecs: dict[str, ProcessSpec], starter: _Starter, timeout: float
) -> None:
    """The bucket first (sidecars and the Store Gateway need it), then everything else at once."""
    with _writing(layout):
        monitoring.write_files(cfg, layout)
    s3 = process_name(fleet_config.HOST_CLUSTER, monitoring.S3)
    starter.ensure(mspecs[s3])
    monitoring.wait_s3(cfg, layout, timeout)
    monitoring.ensure_bucket(cfg, layout)
    for name, spec in mspecs.items():
        if name != s3:
            starter.ensure(spec)
    monitoring.wait_ready(cfg, layout, timeout)
    if cfg.karmada:  # fleet commands (`kurator query`, `get clusters`) find Thanos Query through Karmada
        kc = client(layout.kubeconfig(fleet_config.KARMADA), context_name(cfg, fleet_config.KARMADA))
        apply_all(kc, monitoring.query_records(cfg, layout))


def _cluster_api_up(
    cfg: FleetConfig, layout: FleetLayout, bins: Binaries, ns: str, starter: _Starter, timeout: float
) -> None:
    """The stand-in and the CRDs first (the managers fail at start without their CRDs), then the managers,
    then their webhook configurations, once every webhook serves (the API server calls them on each write
    of their kinds)."""
    cluster_api.prepare_files(cfg, layout)
    cspecs = cluster_api.specs(cfg, layout, bins, ns)
    standin = process_name(fleet_config.HOST_CLUSTER, cluster_api.STANDIN)
    starter.ensure(cspecs[standin])
    cluster_api.apply_crds(cfg, layout, bins, timeout)
    for name, spec in cspecs.items():
        if name != standin:
            starter.ensure(spec)
    cluster_api.wait_standin(cfg, layout, timeout)
    cluster_api.wait_managers(cfg, layout, timeout)
    cluster_api.apply_webhooks(cfg, layout, bins)
