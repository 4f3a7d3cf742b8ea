"""What a CustomCluster takes from Cluster API when a ``Cluster`` names it as its ``infrastructureRef``
(Kurator's layout): the Kubernetes version from the ``KubeadmControlPlane`` the Cluster names, the pod and
Service ranges from ``Cluster.spec.clusterNetwork``. What the CustomCluster's own spec says wins.

Both shapes of Cluster API's objects are read: v1beta1 (``controlPlaneRef`` with ``apiVersion``) and
v1beta2 (with ``apiGroup``), since which one the API server returns depends on the CRDs installed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from kurator.api.cluster import CustomCluster, CustomClusterSpec
from kurator.api.names import API_VERSION
from kurator.api.resources import ApiKind

CAPI_GROUP = "cluster.x-k8s.io"
CONTROL_PLANE_GROUP = "controlplane.cluster.x-k8s.io"
KCP_KIND = "KubeadmControlPlane"
CLUSTER_VERSIONS = (
    ApiKind(CAPI_GROUP, "v1beta2", "Cluster", "clusters"),
    ApiKind(CAPI_GROUP, "v1beta1", "Cluster", "clusters"),
)
KCP_VERSIONS = (
    ApiKind(CONTROL_PLANE_GROUP, "v1beta2", KCP_KIND, "kubeadmcontrolplanes"),
    ApiKind(CONTROL_PLANE_GROUP, "v1beta1", KCP_KIND, "kubeadmcontrolplanes"),
)
SERVED: tuple[ApiKind, ...] = CLUSTER_VERSIONS + KCP_VERSIONS
"""The Cluster API kinds read, newest version first; a kind whose CRD is absent (or does not serve that
version) is skipped."""


@dataclass(frozen=True)
class CapiCluster:
    """The parts of a Cluster API ``Cluster`` the operator reads."""

    namespace: str
    name: str
    infrastructure: str | None
    """The CustomCluster it names as its infrastructure, if it names one."""
    control_plane: str | None
    """The KubeadmControlPlane it names as its control plane, if it names one."""
    pod_cidr: str | None
    service_cidr: str | None
    uid: str | None = None
    api_version: str = f"{CAPI_GROUP}/v1beta2"
    managed: bool = False
    """Cluster API's own controller reconciles it (it has written the Cluster's status)."""

    def owner_reference(self) -> dict[str, str] | None:
        """The reference that makes this Cluster the owner of its CustomCluster, as Cluster API's own
        controller sets it: deleting the Cluster deletes the CustomCluster, and its hosts are reset. None
        where that controller runs: it sets the reference itself."""
        if not self.uid or self.managed:
            return None
        return {"apiVersion": self.api_version, "kind": "Cluster", "name": self.name, "uid": self.uid}


@dataclass(frozen=True)
class Inherited:
    """What Cluster API supplies to a CustomCluster, and from where (for messages)."""

    version: str | None = None
    pod_cidr: str | None = None
    service_cidr: str | None = None
    source: str = ""


def _group(ref: Mapping[str, Any]) -> str:
    if ref.get("apiGroup"):
        return str(ref["apiGroup"])
    return str(ref.get("apiVersion") or "").split("/")[0]


def _first_block(network: Mapping[str, Any], key: str) -> str | None:
    blocks = ((network.get(key) or {}).get("cidrBlocks")) or []
    return str(blocks[0]) if blocks else None


def read_cluster(doc: Mapping[str, Any]) -> CapiCluster:
    """A ``Cluster`` as the operator needs it."""
    meta, spec = doc.get("metadata") or {}, doc.get("spec") or {}
    infra = spec.get("infrastructureRef") or {}
    control = spec.get("controlPlaneRef") or {}
    network = spec.get("clusterNetwork") or {}
    names_us = infra.get("kind") == "CustomCluster" and _group(infra) == API_VERSION.split("/")[0]
    names_kcp = control.get("kind") == KCP_KIND and _group(control) == CONTROL_PLANE_GROUP
    return CapiCluster(
        namespace=str(meta.get("namespace") or ""),
        name=str(meta.get("name") or ""),
        infrastructure=str(infra["name"]) if names_us and infra.get("name") else None,
        control_plane=str(control["name"]) if names_kcp and control.get("name") else None,
        pod_cidr=_first_block(network, "pods"),
        service_cidr=_first_block(network, "services"),
        uid=str(meta["uid"]) if meta.get("uid") else None,
        api_version=str(doc.get("apiVersion") or f"{CAPI_GROUP}/v1beta2"),
        managed=bool((doc.get("status") or {}).get("observedGeneration")),
    )


def kcp_version(doc: Mapping[str, Any]) -> str | None:
    """``KubeadmControlPlane.spec.version`` (``v1.35.4``; a missing ``v`` is added, as kubeadm accepts)."""
    version = (doc.get("spec") or {}).get("version")
    if not version:
        return None
    text = str(version)
    return text if text.startswith("v") else f"v{text}"


def supplier(
    clusters: Iterable[CapiCluster],
    kcp_versions: Mapping[tuple[str, str], str | None],
    namespace: str,
    name: str,
) -> tuple[CapiCluster | None, str | None]:
    """The Cluster naming CustomCluster ``namespace/name`` as its infrastructure, and the version of the
    KubeadmControlPlane it names (``kcp_versions`` by (namespace, name))."""
    for c in clusters:
        if c.namespace == namespace and c.infrastructure == name:
            return c, kcp_versions.get((c.namespace, c.control_plane)) if c.control_plane else None
    return None, None


def inherited(capi: CapiCluster | None, version: str | None) -> Inherited:
    """What the Cluster (and its KubeadmControlPlane's ``version``) supply."""
    if capi is None:
        return Inherited()
    source = f"Cluster {capi.name}" + (f" and KubeadmControlPlane {capi.control_plane}" if version else "")
    return Inherited(version, capi.pod_cidr, capi.service_cidr, source)


def effective(cluster: CustomCluster, given: Inherited) -> tuple[CustomCluster, list[str]]:
    """``cluster`` with what its spec leaves out filled in from Cluster API, checked by the same rules as
    the spec itself (the API server never saw these values); on a problem, ``cluster`` as it is and what
    is wrong, each naming where the value came from."""
    spec = cluster.spec
    update: dict[str, Any] = {}
    if spec.kubernetes_version is None and given.version:
        update["kubernetesVersion"] = given.version
    if spec.pod_cidr is None and given.pod_cidr:
        update["podCIDR"] = given.pod_cidr
    if spec.service_cidr is None and given.service_cidr:
        update["serviceCIDR"] = given.service_cidr
    if not update:
        return cluster, []
    doc = spec.model_dump(mode="json", by_alias=True, exclude_none=True) | update
    try:
        filled = CustomClusterSpec.model_validate(doc)
    except ValidationError as exc:
        found = [f"{'.'.join(str(p) for p in e['loc']) or 'spec'}: {e['msg']}" for e in exc.errors()]
        return cluster, [f"{given.source} supplies values the cluster cannot use: {'; '.join(found)}"]
    return cluster.model_copy(update={"spec": filled}), []
