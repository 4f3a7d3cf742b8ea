"""What ``kurator local status`` shows: per cluster its endpoint, version, ready nodes and processes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kurator.core.errors import KuratorError
from kurator.kube.errors import KubeError
from kurator.kube.resources import Node
from kurator.local import cluster_api, karmada, monitoring, processes
from kurator.local import config as fleet_config
from kurator.local.config import FleetConfig
from kurator.local.control_plane import CLUSTER_COMPONENTS, ETCD, process_name
from kurator.local.fleet import load_records
from kurator.local.health import apiserver_get, etcd_healthy
from kurator.local.layout import FleetLayout, fleet_home
from kurator.local.nodes import admin_client, ready_nodes
from kurator.local.state import command


@dataclass
class ClusterStatus:
    name: str
    endpoint: str
    version: str | None = None
    nodes_ready: int | None = None
    nodes_total: int | None = None
    processes: dict[str, bool] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return all(self.processes.values()) and self.version is not None


@dataclass
class FleetStatus:
    name: str
    home: Path
    network: str
    kubeconfig: Path
    etcd_up: bool
    clusters: list[ClusterStatus]
    rss_bytes: int
    aws_standin: str | None = None
    """Where the AWS stand-in answers (fleets with Cluster API), and the file of its admin's key."""
    aws_admin_key: Path | None = None

    @property
    def healthy(self) -> bool:
        return self.etcd_up and all(c.healthy for c in self.clusters)


def _cluster_status(
    cfg: FleetConfig, layout: FleetLayout, cluster: str, alive: dict[str, bool]
) -> ClusterStatus:
    components: tuple[str, ...] = (
        karmada.COMPONENTS if cluster == fleet_config.KARMADA else CLUSTER_COMPONENTS
    )
    if cfg.monitoring is not None and cluster == fleet_config.HOST_CLUSTER:
        components += monitoring.HOST_COMPONENTS
    elif cfg.monitoring is not None and cluster in cfg.clusters:
        components += monitoring.member_components(cfg.monitoring.replicas)
    if cfg.cluster_api is not None and cluster == fleet_config.HOST_CLUSTER:
        components += cluster_api.COMPONENTS
    # Processes started for this cluster later, on demand (istiod for a mesh's primary): shown while recorded.
    components += tuple(
        n.split("/", 1)[1]
        for n in alive
        if n.startswith(f"{cluster}/") and n.split("/", 1)[1] not in components
    )
    st = ClusterStatus(
        name=cluster,
        endpoint=cfg.server(cluster),
        processes={c: alive.get(process_name(cluster, c), False) for c in components},
    )
    try:
        answer = apiserver_get(cfg, layout, cluster, "/version", timeout=1.0)
        if answer.ok:
            st.version = str(answer.json().get("gitVersion"))
        if cluster == fleet_config.KARMADA:
            return st  # Karmada's API server has no nodes of its own
        nodes = list(admin_client(cfg, layout, cluster).list(Node))
        st.nodes_total = len(nodes)
        st.nodes_ready = ready_nodes(nodes)
    except (KubeError, OSError, ValueError):  # ValueError: an answer that is not JSON
        pass  # shown as unknown: the table says the API server is down
    return st


def status(name: str, home: Path | None = None) -> FleetStatus:
    fleet_config.validate_name(name)
    layout = FleetLayout(fleet_home(name, home))
    cfg = fleet_config.load(layout.config, command("down", name, home, "--purge"))
    if cfg is None:
        raise KuratorError(f"there is no local fleet named {name!r}", "create it with `kurator local up`")
    records = load_records(layout, name, home)
    alive = {n: processes.is_alive(r) for n, r in records.items()}
    try:
        etcd_up = alive.get(ETCD, False) and etcd_healthy(cfg, layout, timeout=1.0)
    except (KubeError, OSError, ValueError):
        etcd_up = False
    return FleetStatus(
        name=cfg.name,
        home=layout.root,
        network=cfg.network,
        kubeconfig=layout.merged_kubeconfig,
        etcd_up=etcd_up,
        clusters=[_cluster_status(cfg, layout, c, alive) for c in cfg.control_planes],
        rss_bytes=sum(processes.rss_bytes(r) for r in records.values()),
        aws_standin=cluster_api.standin_url(cfg) if cfg.cluster_api else None,
        aws_admin_key=cluster_api.admin_key_file(layout) if cfg.cluster_api else None,
    )
