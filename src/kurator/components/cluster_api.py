"""``cluster-api-crds``: the Cluster API CRDs the cluster operator reads (``Cluster``, whose
``infrastructureRef`` may name a CustomCluster, and ``KubeadmControlPlane``, whose ``version`` such a
cluster takes), from the pinned Cluster API release. Only the CRDs: no Cluster API controller is installed.

They come from the release's Go module on the Go module proxy: the CRD bases the release's manifests are
built from, without what its kustomization adds for Cluster API's own controllers (conversion webhooks, CA
injection), which are not installed. Pinned by the sha256 of that zip and read out of it at render time;
nothing of Cluster API is kept in this repository."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kurator.fleet.component import Artifact, Component

if TYPE_CHECKING:
    from kurator.kube.client import Client

# Module-level imports stay light: this module is loaded for every `kurator` command (the registry).

VERSION = "v1.14.2"
MODULE = f"sigs.k8s.io/cluster-api@{VERSION}"
CRDS = (
    f"{MODULE}/core/config/crd/bases/cluster.x-k8s.io_clusters.yaml",
    f"{MODULE}/controlplane/kubeadm/config/crd/bases/controlplane.cluster.x-k8s.io_kubeadmcontrolplanes.yaml",
)
CRD_NAMES = ("clusters.cluster.x-k8s.io", "kubeadmcontrolplanes.controlplane.cluster.x-k8s.io")

COMPONENT = Component(
    name="cluster-api-crds",
    description=f"the Cluster API {VERSION} CRDs the cluster operator reads (Cluster, KubeadmControlPlane)",
    artifact=Artifact(
        name="cluster-api-crds",
        version=VERSION.removeprefix("v"),
        kind="manifests",
        source=f"https://proxy.golang.org/sigs.k8s.io/cluster-api/@v/{VERSION}.zip",
        # sha256 of the module zip as proxy.golang.org serves it (the same bytes as Go's module cache holds).
        sha256="0f6fdd021ab96e6f38b19210bbae9b15537fcd53bc40028553854e55df13f738",
        members=CRDS,
    ),
    namespace="",  # CRDs only
    placement="host",
)


def foreign(api: Client) -> list[str]:
    """The Cluster API CRDs already in the cluster that kurator did not install (``clusterctl init`` or
    another tool did, perhaps of another release): kurator leaves those alone rather than take them over."""
    from kurator.fleet.desired import COMPONENT_LABEL
    from kurator.kube import ops
    from kurator.kube.resources import CustomResourceDefinition

    out = []
    for name in CRD_NAMES:
        crd = ops.get_or_none(api, CustomResourceDefinition, name)
        if crd is None:
            continue
        labels = (crd.metadata.labels if crd.metadata else None) or {}
        if labels.get(COMPONENT_LABEL) != COMPONENT.name:
            out.append(name)
    return out


def objects(api: Client) -> list[str]:
    """``Kind namespace/name`` of every Cluster API ``Cluster`` and ``KubeadmControlPlane`` (deleting their
    CRDs would delete them)."""
    from kurator.kube.errors import NotFound
    from kurator.kube.kinds import namespaced

    # The stored versions in Cluster API v1.14 (v1beta1 is served too).
    kinds = (
        namespaced("cluster.x-k8s.io", "v1beta2", "Cluster", "clusters"),
        namespaced("controlplane.cluster.x-k8s.io", "v1beta2", "KubeadmControlPlane", "kubeadmcontrolplanes"),
    )
    out = []
    for kind in kinds:  # a CRD made moments ago answers 429 for a while: the client waits that out
        try:
            found = list(api.list(kind, namespace="*"))
        except NotFound:  # the CRD is not there
            continue
        out += [f"{kind.__name__} {o.metadata.namespace}/{o.metadata.name}" for o in found if o.metadata]
    return sorted(out)
