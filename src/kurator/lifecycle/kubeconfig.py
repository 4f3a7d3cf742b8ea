"""The Secret holding a provisioned cluster's admin kubeconfig, named and shaped as Cluster API names and
shapes it (``<cluster>-kubeconfig``, key ``value``, type ``cluster.x-k8s.io/secret``, label
``cluster.x-k8s.io/cluster-name``), so CAPI tooling (``clusterctl get kubeconfig``) finds it too."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

from kurator.api.cluster import CustomCluster
from kurator.lifecycle import hosts as h
from kurator.lifecycle.group_vars import API_SERVER_PORT
from kurator.lifecycle.hosts import Host
from kurator.lifecycle.observed import ObservedJobs

KEY = "value"
TYPE = "cluster.x-k8s.io/secret"
CLUSTER_NAME_LABEL = "cluster.x-k8s.io/cluster-name"
FETCHED_AFTER = "kurator.dev/fetched-after"
"""The Kubespray Job after whose success the kubeconfig was fetched (an upgrade renews its certificate)."""
RENEWING = ("create", "upgrade")


def secret_name(cluster: str) -> str:
    return f"{cluster}-kubeconfig"


def secret(
    cluster: CustomCluster, kubeconfig: str, fetched_after: str, capi_name: str | None
) -> dict[str, Any]:
    """The Secret, owned by the CustomCluster so that it goes with it."""
    name = cluster.metadata["name"]
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": TYPE,
        "metadata": {
            "name": secret_name(name),
            "namespace": cluster.metadata["namespace"],
            "labels": {"app.kubernetes.io/managed-by": "kurator", CLUSTER_NAME_LABEL: capi_name or name},
            "annotations": {FETCHED_AFTER: fetched_after},
            "ownerReferences": [
                {
                    "apiVersion": cluster.api_version,
                    "kind": cluster.kind,
                    "name": name,
                    "uid": cluster.metadata["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "data": {KEY: base64.b64encode(kubeconfig.encode()).decode()},
    }


def endpoint_parts(endpoint: str) -> tuple[str, int]:
    """``https://host:port`` as (host, port) for ``spec.controlPlaneEndpoint`` (IPv6 without brackets)."""
    rest = endpoint.split("://", 1)[-1].rstrip("/")
    host, _, port = rest.rpartition(":")
    if not host:
        return rest.strip("[]"), API_SERVER_PORT
    return host.strip("[]"), int(port)


def renewed_by(observed: ObservedJobs) -> str:
    """The latest succeeded run after which the kubeconfig changed (a create, or an upgrade: kubeadm renews
    the admin certificate); "" when there is none."""
    done = [j for j in observed if j.state == "succeeded" and j.action in RENEWING]
    return max(done, key=lambda j: (j.created, j.attempt)).name if done else ""


def fetch_due(fetched_after: str | None, latest: str) -> bool:
    """Whether to fetch the kubeconfig (again): never fetched (``fetched_after`` None: no Secret), or
    fetched before the latest run that renewed it."""
    return fetched_after is None or (bool(latest) and fetched_after != latest)


def source(installed: Iterable[Host]) -> Host | None:
    """The master to fetch it from: the first by name."""
    return min(h.masters(installed), key=lambda x: x.name, default=None)
