"""Where the host's Thanos Query reaches each member's Thanos sidecar: read from the member's
``thanos-sidecar`` Service through Karmada's cluster proxy (a load balancer's address, or a node's address
and the NodePort), unless the user named it."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

from kurator.core.errors import KuratorError
from kurator.fleet import targets
from kurator.kube import wait
from kurator.kube.client import Access, AsyncClient
from kurator.kube.errors import Disconnected, KubeError, NotFound, Unreachable
from kurator.kube.resources import Node, Service
from kurator.monitoring.names import NAMESPACE, SIDECAR_SERVICE

POLL = 1.0


def _port(svc: Service, node_port: bool, name: str = "grpc") -> int | None:
    for port in (svc.spec.ports or []) if svc.spec else []:
        if port.name == name:
            return port.nodePort if node_port else port.port
    return None


async def _node_address(client: AsyncClient) -> str | None:
    """A node's external address, else its internal one (where a NodePort answers)."""
    preferred: dict[str, str] = {}
    async for node in client.list(Node):
        for addr in (node.status.addresses or []) if node.status else []:
            preferred.setdefault(addr.type, addr.address)
    return preferred.get("ExternalIP") or preferred.get("InternalIP")


async def _service_endpoint(
    member: str, client: AsyncClient, service: str = SIDECAR_SERVICE, port_name: str = "grpc"
) -> tuple[str | None, str]:
    """(endpoint, why not): the address of ``member``'s ``service`` as another cluster reaches it."""
    try:
        svc = await client.get(Service, service, namespace=NAMESPACE)
    except NotFound:
        return None, f"has no {service} Service (install prometheus first)"
    except (Unreachable, Disconnected):
        raise  # Karmada itself does not answer: not this member's problem
    except KubeError as exc:  # an unreachable member is reported, not raised
        return None, f"cannot be read: {targets.unreachable_reason(exc)}"
    kind = svc.spec.type if svc.spec else "ClusterIP"
    if kind == "LoadBalancer":
        ingress = (svc.status.loadBalancer.ingress or []) if svc.status and svc.status.loadBalancer else []
        port = _port(svc, False, port_name)
        for entry in ingress:
            if (host := entry.ip or entry.hostname) and port:
                return f"{host}:{port}", ""
        return None, "has no load-balancer address yet"
    if kind == "NodePort":
        port, node = _port(svc, True, port_name), await _node_address(client)
        if port and node:
            return f"{node}:{port}", ""
        return None, f"has a NodePort {service} Service but no node address"
    return None, f"exposes its {service} Service only inside the cluster (type {kind})"


def discover(
    karmada: Access,
    members: list[str],
    given: Mapping[str, str],
    timeout: float,
    service: str = SIDECAR_SERVICE,
    port_name: str = "grpc",
) -> dict[str, str]:
    """Each member's sidecar endpoint (or, with ``service`` and ``port_name``, another Service's): ``given``
    ones as they are, the others read from the member's Service through Karmada (a load balancer's address
    may take a while to appear)."""
    found = dict(given)
    todo = [m for m in members if m not in found]
    why: dict[str, str] = {}

    def one_round(pool: targets.Members) -> bool:
        """True once every member is found, or one cannot be (only "not yet" is worth waiting for)."""
        for member, (endpoint, reason) in pool.run(
            lambda m, c: _service_endpoint(m, c, service, port_name), only=todo
        ).items():
            if endpoint:
                found[member] = endpoint
            else:
                why[member] = reason
        todo[:] = [m for m in todo if m not in found]
        return not todo or not all(why[m].endswith("yet") for m in todo)

    if todo:
        with targets.Members(karmada, todo) as pool, contextlib.suppress(wait.WaitTimeout):
            backoff = wait.Backoff(first=POLL, factor=1.0, most=POLL)
            wait.until(
                lambda: one_round(pool), timeout=timeout, what="the sidecars' addresses", backoff=backoff
            )
    if todo:
        said = "; ".join(f"{m} {why[m]}" for m in todo)
        if service == SIDECAR_SERVICE:
            raise KuratorError(
                f"Thanos Query cannot reach every member's sidecar: {said}",
                "install prometheus with --sidecar-service-type LoadBalancer (or NodePort), "
                "or name the address with --sidecar-endpoint MEMBER=HOST:PORT",
            )
        raise KuratorError(
            f"the primary cannot reach every member's Prometheus: {said}",
            "use --service-type LoadBalancer (or NodePort), or name the address with "
            "--federate-endpoint MEMBER=HOST:PORT",
        )
    return found
