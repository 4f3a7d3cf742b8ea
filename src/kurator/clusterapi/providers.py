"""The four managers: where each one's configuration lives in its release, its image, and the settings of
its upstream Deployment that kurator changes (and why)."""

from __future__ import annotations

from dataclasses import dataclass

from kurator.binaries.catalog import CAPA_CONFIG, CAPA_VERSION, CLUSTER_API_CONFIG, CLUSTER_API_VERSION


@dataclass(frozen=True)
class Provider:
    """One manager of Cluster API (clusterctl's provider name and type)."""

    name: str  # as kurator names its process and objects: capi, capi-kubeadm-bootstrap, ...
    provider: str  # clusterctl's name (the cluster.x-k8s.io/provider label): cluster-api, infrastructure-aws
    binary: str
    version: str
    asset: str  # the binary cache's data folder of the release (kurator.binaries.catalog)
    folder: str  # the provider's config folder inside it
    image: str
    prefix: str  # the name prefix and namespace its overlay gives its objects (checked when rendered)
    namespace: str
    # ${VARIABLE:=default} of the upstream manager arguments that kurator sets otherwise
    variables: tuple[tuple[str, str], ...] = ()

    @property
    def tag(self) -> str:
        return f"v{self.version}"


CORE = Provider(
    name="capi",
    provider="cluster-api",
    binary="capi-manager",
    version=CLUSTER_API_VERSION,
    asset=CLUSTER_API_CONFIG,
    folder="config",
    image=f"registry.k8s.io/cluster-api/cluster-api-controller:v{CLUSTER_API_VERSION}",
    prefix="capi-",
    namespace="capi-system",
)
BOOTSTRAP = Provider(
    name="capi-kubeadm-bootstrap",
    provider="bootstrap-kubeadm",
    binary="capi-kubeadm-bootstrap-manager",
    version=CLUSTER_API_VERSION,
    asset=CLUSTER_API_CONFIG,
    folder="bootstrap/kubeadm/config",
    image=f"registry.k8s.io/cluster-api/kubeadm-bootstrap-controller:v{CLUSTER_API_VERSION}",
    prefix="capi-kubeadm-bootstrap-",
    namespace="capi-kubeadm-bootstrap-system",
)
CONTROL_PLANE = Provider(
    name="capi-kubeadm-control-plane",
    provider="control-plane-kubeadm",
    binary="capi-kubeadm-control-plane-manager",
    version=CLUSTER_API_VERSION,
    asset=CLUSTER_API_CONFIG,
    folder="controlplane/kubeadm/config",
    image=f"registry.k8s.io/cluster-api/kubeadm-control-plane-controller:v{CLUSTER_API_VERSION}",
    prefix="capi-kubeadm-control-plane-",
    namespace="capi-kubeadm-control-plane-system",
)
AWS = Provider(
    name="capa",
    provider="infrastructure-aws",
    binary="capa-manager",
    version=CAPA_VERSION,
    asset=CAPA_CONFIG,
    folder="config",
    image=f"registry.k8s.io/cluster-api-aws/cluster-api-aws-controller:v{CAPA_VERSION}",
    prefix="capa-",
    namespace="capa-system",
    # EKS (on by default upstream) manages EKS control planes, which kurator does not offer.
    variables=(("CAPA_EKS", "false"),),
)
CLUSTER_API = (CORE, BOOTSTRAP, CONTROL_PLANE)
ALL = (*CLUSTER_API, AWS)


def by_name(name: str) -> Provider:
    return {p.name: p for p in ALL}[name]
