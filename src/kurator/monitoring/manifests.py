"""Values of the charts ``components/charts/prometheus`` (each member) and ``components/charts/thanos`` (the
host), made from the same builders the local fleet uses. The charts template the config text and the
argument lists verbatim (``toJson``), and mount files where ``PodPaths`` says, which the flags name: nothing
about Prometheus's or Thanos's configuration is written anywhere else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kurator.core.errors import InvalidInput
from kurator.monitoring import objstore, prometheus, thanos
from kurator.monitoring.names import CONFIG_KEY, CONFIGMAP, NAMESPACE, OBJSTORE_KEY, OBJSTORE_SECRET

__all__ = ["CONFIGMAP", "CONFIG_KEY", "NAMESPACE", "OBJSTORE_KEY", "OBJSTORE_SECRET"]


PROMETHEUS_PORT = 9090
GRPC_PORT = 10901  # every Thanos StoreAPI: sidecar, store gateway, query
HTTP_PORT = 10902  # Thanos components' HTTP (metrics, /-/ready)
QUERY_HTTP_PORT = 9090  # Query's HTTP API and UI, on Prometheus's usual port as kube-thanos does


@dataclass(frozen=True)
class PodPaths:
    """Where the charts mount things inside the containers."""

    config: str = "/etc/prometheus"  # the prometheus-config ConfigMap
    prometheus_data: str = "/prometheus"  # Prometheus's TSDB, shared with the sidecar
    objstore: str = "/etc/thanos"  # the thanos-objstore Secret
    thanos_data: str = "/var/thanos"  # store gateway and compactor caches

    @property
    def config_file(self) -> str:
        return f"{self.config}/{CONFIG_KEY}"

    @property
    def objstore_file(self) -> str:
        return f"{self.objstore}/{OBJSTORE_KEY}"


POD_PATHS = PodPaths()
SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer")


def _service_type(value: str, what: str) -> None:
    if value not in SERVICE_TYPES:
        raise InvalidInput(f"{what} Service type {value!r} is not one of {', '.join(SERVICE_TYPES)}")


def prometheus_config_text(
    cluster: str,
    scrape_jobs: Sequence[Mapping[str, Any]] | None = None,
    *,
    scrape_interval: str = "30s",
) -> str:
    """``prometheus.yml`` for member ``cluster``: the ConfigMap's text, and the value of the per-member
    OverridePolicy that replaces ``/data/prometheus.yml`` (its ``cluster`` label differs per member).
    Without ``scrape_jobs``, the in-cluster jobs (API servers and kubelets, through the pod's account)."""
    jobs = prometheus.in_cluster_jobs() if scrape_jobs is None else scrape_jobs
    return prometheus.render(prometheus.config(cluster, jobs, scrape_interval=scrape_interval))


def prometheus_values(
    cluster: str,
    store: objstore.Store | None,
    *,
    scrape_jobs: Sequence[Mapping[str, Any]] | None = None,
    scrape_interval: str = "30s",
    retention: str = "24h",
    block_duration: str = "2h",
    replicas: int = 1,
    sidecar_service_type: str = "ClusterIP",
    web_service_type: str = "",
) -> dict[str, Any]:
    """Values of the ``prometheus`` chart, rendered for ``cluster`` (on Karmada, the template's value,
    overridden per member with ``prometheus_config_text``). With a ``store``: a Thanos sidecar per pod, and
    the values hold the store's credentials: hand them only to ``helm template`` through a file of mode
    0600, never to a log. Without: Prometheus alone (Kurator v0.1's). ``web_service_type`` adds the
    ``prometheus-web`` Service that another member's Prometheus federates this one through."""
    if replicas < 1:
        raise InvalidInput(f"Prometheus replicas must be at least 1, not {replicas}")
    if web_service_type:
        _service_type(web_service_type, "Prometheus web")
    paths = POD_PATHS
    values: dict[str, Any] = {
        "replicas": replicas,
        "paths": {"config": paths.config, "data": paths.prometheus_data},
        "prometheus": {
            "config": prometheus_config_text(cluster, scrape_jobs, scrape_interval=scrape_interval),
            "args": prometheus.args(
                paths.config_file,
                paths.prometheus_data,
                f"0.0.0.0:{PROMETHEUS_PORT}",
                retention=retention,
                block_duration=block_duration,
            ),
            "replicaEnv": prometheus.REPLICA_ENV,
            "port": PROMETHEUS_PORT,
            "serviceType": web_service_type,
        },
        "objstore": "",
    }
    if store is None:
        return values
    _service_type(sidecar_service_type, "sidecar")
    values["paths"]["objstore"] = paths.objstore
    values["sidecar"] = {
        "args": thanos.sidecar_args(
            prometheus_url=f"http://127.0.0.1:{PROMETHEUS_PORT}",  # the same pod
            tsdb_path=paths.prometheus_data,
            objstore_path=paths.objstore_file,
            grpc_address=f"0.0.0.0:{GRPC_PORT}",
            http_address=f"0.0.0.0:{HTTP_PORT}",
        ),
        "grpcPort": GRPC_PORT,
        "httpPort": HTTP_PORT,
        "serviceType": sidecar_service_type,
    }
    values["objstore"] = objstore.render(store)
    return values


def store_endpoint(namespace: str = NAMESPACE) -> str:
    """The store gateway's StoreAPI as Query reaches it inside the host cluster."""
    return f"thanos-store.{namespace}.svc:{GRPC_PORT}"


def thanos_values(
    store: objstore.Store,
    sidecar_endpoints: Sequence[str] = (),
    *,
    namespace: str = NAMESPACE,
    query_replicas: int = 1,
    query_service_type: str = "ClusterIP",
    store_sync_interval: str = "15m",
    compactor_wait_interval: str = "5m",
    compactor_consistency_delay: str = "30m",
) -> dict[str, Any]:
    """Values of the ``thanos`` chart. ``sidecar_endpoints`` are the members' sidecars as the host reaches
    them (``host:port``); Query also reads the store gateway. The values hold the object store's
    credentials: hand them only to ``helm template`` through a file of mode 0600, never to a log."""
    if query_replicas < 1:
        raise InvalidInput(f"Thanos Query replicas must be at least 1, not {query_replicas}")
    _service_type(query_service_type, "Thanos Query")
    paths = POD_PATHS
    listen_grpc, listen_http = f"0.0.0.0:{GRPC_PORT}", f"0.0.0.0:{HTTP_PORT}"
    return {
        "paths": {"objstore": paths.objstore, "data": paths.thanos_data},
        "objstore": objstore.render(store),
        "query": {
            "replicas": query_replicas,
            "args": thanos.query_args(
                [store_endpoint(namespace), *sidecar_endpoints],
                grpc_address=listen_grpc,
                http_address=f"0.0.0.0:{QUERY_HTTP_PORT}",
            ),
            "httpPort": QUERY_HTTP_PORT,
            "grpcPort": GRPC_PORT,
            "serviceType": query_service_type,
        },
        "store": {
            "args": thanos.store_args(
                objstore_path=paths.objstore_file,
                data_dir=f"{paths.thanos_data}/store",
                grpc_address=listen_grpc,
                http_address=listen_http,
                sync_interval=store_sync_interval,
            ),
            "httpPort": HTTP_PORT,
            "grpcPort": GRPC_PORT,
        },
        "compactor": {
            "args": thanos.compact_args(
                objstore_path=paths.objstore_file,
                data_dir=f"{paths.thanos_data}/compact",
                http_address=listen_http,
                wait_interval=compactor_wait_interval,
                consistency_delay=compactor_consistency_delay,
            ),
            "httpPort": HTTP_PORT,
        },
    }
