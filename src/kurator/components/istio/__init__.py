"""``istio``: a multi-cluster Istio mesh, primary-remote, as Kurator installs it. istiod runs on the primary;
each remote is configured against it (its workloads' sidecars and its injection webhook talk to that
istiod), and the primary holds a remote secret per remote, with which istiod watches that cluster's services
and endpoints. One root of trust for the mesh (istio_ca). Every cluster has the mesh ID, its own name as
cluster name, and its network from the Karmada Cluster label ``topology.istio.io/network``; an east-west
gateway carries traffic between networks, and exposes istiod to the remotes. Istio's CRDs are on Karmada,
and Istio custom resources created there are propagated to the primary.

Istio's Helm charts (``base``, ``istiod``, ``gateway``) come from the ``istio.io/istio`` module on the Go
module proxy, pinned by version and sha256, and are rendered per cluster (istio_render); the engine keeps
one template per object on Karmada and what differs per cluster in override policies (fleet.variants).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kurator.binaries.catalog import ISTIO_MODULE_VERSION, ISTIO_VERSION
from kurator.components.istio import health as istio_health
from kurator.fleet.component import Artifact, Component

if TYPE_CHECKING:
    from kurator.components.istio.ca import CaFiles
    from kurator.components.istio.values import Settings

# Module-level imports stay light: this module is loaded for every `kurator` command (the registry).

VERSION = ISTIO_VERSION
MODULE_VERSION = ISTIO_MODULE_VERSION  # the pseudo-version of the commit 1.31.0 was tagged on
MODULE_ROOT = f"istio.io/istio@{MODULE_VERSION}"
NAMESPACE = "istio-system"
HUB = "docker.io/istio"
MESH_ID = "mesh1"
NETWORK_LABEL = "topology.istio.io/network"
CONTROL_PLANE_ANNOTATION = "topology.istio.io/controlPlaneClusters"
CACERTS = "cacerts"
REMOTE_SECRET_PREFIX = "istio-remote-secret-"  # noqa: S105 (a name, not a secret)
READER = "istio-reader-service-account"
READER_TOKEN = f"{READER}-istio-remote-secret-token"  # as istioctl create-remote-secret names it
EASTWEST = "istio-eastwestgateway"
RESOURCES_POLICY = "kurator-istio-resources"

COMPONENT = Component(
    name="istio",
    description=f"Istio {VERSION} multi-cluster (primary-remote): istiod, remotes, east-west gateways",
    artifact=Artifact(
        name="istio",
        version=VERSION,
        kind="manifests",
        source=f"https://proxy.golang.org/istio.io/istio/@v/{MODULE_VERSION}.zip",
        # sha256 of the module zip as proxy.golang.org serves it (the same bytes as Go's module cache holds).
        sha256="2bc363619587a8b126791013a97f4c6fefbacbf475fba98a72d79601d7403225",
    ),
    namespace=NAMESPACE,
    health=istio_health.check,
)


@dataclass(frozen=True)
class Reader:
    """How istiod on the primary reads a remote: its API server, CA and the istio-reader token there."""

    server: str
    ca_pem: str
    token: str


@dataclass(frozen=True)
class Mesh:
    """Everything that decides what each cluster gets, found before anything is rendered."""

    primary: str
    remotes: tuple[str, ...]
    networks: dict[str, str]  # cluster -> network ("" when its Cluster has no label)
    ca: CaFiles
    settings: Settings
    pilot_address: str | None = None  # where remotes reach istiod; None until known
    # Remotes whose reader account exists: their token Secret can be made (a token Secret made before its
    # account is deleted at once by the cluster's token controller).
    accounts: frozenset[str] = frozenset()
    readers: dict[str, Reader] = field(default_factory=dict)  # remote -> its reader, once its token exists
    given_address: bool = False  # --remote-pilot-address was given
    mesh_id: str = MESH_ID

    @property
    def clusters(self) -> list[str]:
        return [self.primary, *self.remotes]

    @property
    def multi_network(self) -> bool:
        return len({self.networks.get(c, "") for c in self.clusters}) > 1

    def has_gateway(self, cluster: str) -> bool:
        """Across networks every cluster off the primary's network has an east-west gateway; the primary
        has one too, unless all share a network and remotes reach istiod at a given address."""
        if cluster == self.primary:
            return self.multi_network or (bool(self.remotes) and not self.given_address)
        return self.networks.get(cluster, "") != self.networks.get(self.primary, "")

    @property
    def complete(self) -> bool:
        """Whether every remote can be rendered in full (its istiod address and its remote secret)."""
        return not self.remotes or (self.pilot_address is not None and set(self.readers) == set(self.remotes))


def component(mesh: Mesh) -> Component:
    """The component for this mesh: its objects rendered per cluster from the pinned Istio module."""
    from functools import partial

    from kurator.components.istio import render as istio_render

    return dataclasses.replace(
        COMPONENT,
        variants=partial(istio_render.render, mesh),
        health=partial(istio_health.check, mesh=mesh),
    )
