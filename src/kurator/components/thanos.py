"""``thanos``: on the fleet's host cluster, Thanos Query (the global view over every member's sidecar and
the bucket), the Store Gateway (history from the bucket) and the Compactor. Applied straight to the host,
not propagated: one of each serves the whole fleet."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lightkube import ApiError, AsyncClient
from lightkube.resources.core_v1 import Node, Service

from kurator.core.errors import InvalidInput, KuratorError
from kurator.fleet import targets
from kurator.fleet.component import Artifact, Component
from kurator.fleet.membership import TRANSIENT
from kurator.kube.client import Access
from kurator.monitoring import checks, manifests, objstore

COMPONENT = Component(
    name="thanos",
    description="Thanos Query, Store Gateway and Compactor on the host: the fleet's global metrics view",
    artifact=Artifact(
        name="thanos",
        version="0.1.0",
        kind="helm-chart",
        source="package:components/charts/thanos",
        # Digest of the chart folder (kurator.fleet.artifacts.digest); tests/unit recompute it.
        sha256="d1e282c79f0c2eceab3b0cb7208fdc4104fba974c7dad118886bab7859eafaa9",
    ),
    namespace=manifests.NAMESPACE,
    placement="host",
)
SIDECAR_SERVICE = "thanos-sidecar"
POLL = 1.0


@dataclass(frozen=True)
class Options:
    store: objstore.ObjectStore
    sidecars: Mapping[str, str] = field(default_factory=dict)  # member -> host:port Query reaches it at
    query_replicas: int = 1
    query_service_type: str = "ClusterIP"
    store_sync_interval: str = "15m"


def parse_endpoints(items: list[str]) -> dict[str, str]:
    """``--sidecar-endpoint MEMBER=HOST:PORT`` pairs."""
    out: dict[str, str] = {}
    for item in items:
        member, sep, endpoint = item.partition("=")
        if not sep or not member:
            raise InvalidInput(
                f"--sidecar-endpoint {item!r} is not MEMBER=HOST:PORT",
                "e.g. --sidecar-endpoint m1=10.1.2.3:10901",
            )
        if member in out:
            raise InvalidInput(f"--sidecar-endpoint names {member} twice")
        out[member] = checks.address(endpoint, f"sidecar endpoint of {member}")
    return out


def component(opts: Options) -> Component:
    if not opts.sidecars:
        raise InvalidInput("Thanos Query needs at least one member's sidecar", "install prometheus first")
    endpoints = [opts.sidecars[m] for m in sorted(opts.sidecars)]
    if dupes := sorted({e for e in endpoints if endpoints.count(e) > 1}):
        owners = {e: [m for m in sorted(opts.sidecars) if opts.sidecars[m] == e] for e in dupes}
        said = "; ".join(f"{e} for {', '.join(ms)}" for e, ms in owners.items())
        raise InvalidInput(
            f"members share a sidecar endpoint: {said}", "each member's sidecar has its own address"
        )
    values = manifests.thanos_values(
        opts.store,
        endpoints,
        query_replicas=opts.query_replicas,
        query_service_type=opts.query_service_type,
        store_sync_interval=opts.store_sync_interval,
    )
    return dataclasses.replace(COMPONENT, values=values)


# --- where the host reaches each member's sidecar ---------------------------------------------------------


def _grpc_port(svc: Service, node_port: bool) -> int | None:
    for port in (svc.spec.ports or []) if svc.spec else []:
        if port.name == "grpc":
            return port.nodePort if node_port else port.port
    return None


async def _node_address(client: AsyncClient) -> str | None:
    """A node's external address, else its internal one (where a NodePort answers)."""
    preferred: dict[str, str] = {}
    async for node in client.list(Node):
        for addr in (node.status.addresses or []) if node.status else []:
            preferred.setdefault(addr.type, addr.address)
    return preferred.get("ExternalIP") or preferred.get("InternalIP")


async def _sidecar_endpoint(member: str, client: AsyncClient) -> tuple[str | None, str]:
    """(endpoint, why not): the address of ``member``'s sidecar Service as the host reaches it."""
    try:
        svc = await client.get(Service, SIDECAR_SERVICE, namespace=manifests.NAMESPACE)
    except ApiError as exc:
        if exc.status.code == 404:
            return None, "has no Thanos sidecar (install prometheus first)"
        return None, f"cannot be read: {targets.unreachable_reason(exc)}"
    except TRANSIENT as exc:  # an unreachable member is reported, not raised
        return None, f"cannot be read: {targets.unreachable_reason(exc)}"
    kind = svc.spec.type if svc.spec else "ClusterIP"
    if kind == "LoadBalancer":
        ingress = (svc.status.loadBalancer.ingress or []) if svc.status and svc.status.loadBalancer else []
        port = _grpc_port(svc, node_port=False)
        for entry in ingress:
            if (host := entry.ip or entry.hostname) and port:
                return f"{host}:{port}", ""
        return None, "has no load-balancer address yet"
    if kind == "NodePort":
        port, node = _grpc_port(svc, node_port=True), await _node_address(client)
        if port and node:
            return f"{node}:{port}", ""
        return None, "has a NodePort sidecar Service but no node address"
    return None, f"exposes its sidecar only inside the cluster (Service type {kind})"


def discover(karmada: Access, members: list[str], given: Mapping[str, str], timeout: float) -> dict[str, str]:
    """Each member's sidecar endpoint: ``given`` ones as they are, the others read from the member's
    ``thanos-sidecar`` Service through Karmada (a load balancer's address may take a while to appear)."""
    found = dict(given)
    todo = [m for m in members if m not in found]
    why: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    with targets.Members(karmada, todo) as pool:
        while todo:
            results = pool.run(_sidecar_endpoint, only=todo)
            for member, (endpoint, reason) in results.items():
                if endpoint:
                    found[member] = endpoint
                else:
                    why[member] = reason
            todo = [m for m in todo if m not in found]
            waiting = [m for m in todo if why[m].endswith("yet")]
            if len(waiting) < len(todo) or not waiting or time.monotonic() >= deadline:
                break
            time.sleep(POLL)
    if todo:
        said = "; ".join(f"{m} {why[m]}" for m in todo)
        raise KuratorError(
            f"Thanos Query cannot reach every member's sidecar: {said}",
            "install prometheus with --sidecar-service-type LoadBalancer (or NodePort), "
            "or name the address with --sidecar-endpoint MEMBER=HOST:PORT",
        )
    return found


def describe(values: Mapping[str, Any]) -> list[str]:
    """Query's endpoints as rendered (for the summary after an install)."""
    return [a.split("=", 1)[1] for a in values["query"]["args"] if a.startswith("--endpoint=")]
