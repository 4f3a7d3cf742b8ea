"""``kurator local up | down | status``: a host cluster and N members of real control planes on one machine.

``up`` is one idempotent reconcile: it computes what the fleet should be, keeps every recorded process
that still runs, and starts only what is missing (after a crash, just the crashed process). Everything
is recorded as it happens, so an interrupted ``up`` is finished by running it again and ``down`` always
knows exactly which processes are ours.
"""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from kurator.binaries import KARMADA_CRDS, KARMADA_DEPLOY
from kurator.binaries.catalog import KARMADA_VERSION
from kurator.core.errors import InvalidInput, KuratorError
from kurator.core.progress import Reporter, Silent
from kurator.kube.apply import apply_all
from kurator.kube.client import client
from kurator.local import cluster_api, karmada, monitoring, netns, processes, state
from kurator.local import config as fleet_config
from kurator.local.config import FleetConfig
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
from kurator.local.options import UpOptions, check_matches, new_config, port_free, validate
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
