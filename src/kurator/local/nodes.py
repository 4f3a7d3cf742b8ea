"""Fake nodes (played by kwok) and the checks that a local cluster is ready for workloads."""

from __future__ import annotations

from kurator.kube import ops
from kurator.kube.client import Client, client
from kurator.kube.errors import KubeError
from kurator.kube.resources import Node, ObjectMeta, ServiceAccount
from kurator.local.config import FleetConfig
from kurator.local.health import poll
from kurator.local.kubeconfigs import context_name
from kurator.local.layout import FleetLayout


def node_names(cfg: FleetConfig, cluster: str) -> list[str]:
    return [f"{cluster}-node-{i}" for i in range(1, cfg.nodes + 1)]


def admin_client(cfg: FleetConfig, layout: FleetLayout, cluster: str) -> Client:
    return client(layout.kubeconfig(cluster), context_name(cfg, cluster))


def ensure_nodes(cfg: FleetConfig, layout: FleetLayout, cluster: str) -> int:
    """Create the cluster's fake nodes that are missing; returns how many were created."""
    api = admin_client(cfg, layout, cluster)
    existing = {n.metadata.name for n in api.list(Node) if n.metadata}
    created = 0
    for name in node_names(cfg, cluster):
        if name in existing:
            continue
        labels = {
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "type": "kwok",
            "kurator.dev/cluster": cluster,
        }
        node = Node(metadata=ObjectMeta(name=name, labels=labels, annotations={"kwok.x-k8s.io/node": "fake"}))
        created += ops.create_if_absent(api, node)
    return created


def ready_nodes(nodes: list[Node]) -> int:
    count = 0
    for node in nodes:
        conditions = (node.status.conditions if node.status else None) or []
        if any(c.type == "Ready" and c.status == "True" for c in conditions):
            count += 1
    return count


def wait_cluster_usable(cfg: FleetConfig, layout: FleetLayout, cluster: str, timeout: float) -> None:
    """Ready when every fake node is Ready and the controller manager made the `default` ServiceAccount
    (without it no Pod can be created in `default`)."""
    api = admin_client(cfg, layout, cluster)

    def usable() -> bool:
        if ready_nodes(list(api.list(Node))) < cfg.nodes:
            return False
        return ops.get_or_none(api, ServiceAccount, "default", namespace="default") is not None

    poll(
        usable,
        timeout,
        f"cluster {cluster} (nodes Ready, default ServiceAccount)",
        layout.log(f"{cluster}/kwok"),
        retry_on=(KubeError,),
    )
