"""``thanos``: on the fleet's host cluster, Thanos Query (the global view over every member's sidecar and
the bucket), the Store Gateway (history from the bucket) and the Compactor. Applied straight to the host,
not propagated: one of each serves the whole fleet."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kurator.core.errors import InvalidInput
from kurator.fleet.component import Artifact, Component
from kurator.monitoring.names import NAMESPACE

if TYPE_CHECKING:
    from kurator.monitoring.objstore import Store

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
    namespace=NAMESPACE,
    placement="host",
)


@dataclass(frozen=True)
class Options:
    store: Store
    sidecars: Mapping[str, str] = field(default_factory=dict)  # member -> host:port Query reaches it at
    query_replicas: int = 1
    query_service_type: str = "ClusterIP"
    store_sync_interval: str = "15m"


def parse_endpoints(items: list[str], flag: str = "--sidecar-endpoint") -> dict[str, str]:
    """``MEMBER=HOST:PORT`` pairs (of ``--sidecar-endpoint``, or another ``flag`` of the same form)."""
    from kurator.monitoring import checks

    out: dict[str, str] = {}
    for item in items:
        member, sep, endpoint = item.partition("=")
        if not sep or not member:
            raise InvalidInput(f"{flag} {item!r} is not MEMBER=HOST:PORT", f"e.g. {flag} m1=10.1.2.3:10901")
        if member in out:
            raise InvalidInput(f"{flag} names {member} twice")
        out[member] = checks.address(endpoint, f"{flag} of {member}")
    return out


def component(opts: Options) -> Component:
    from kurator.monitoring import manifests

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


def describe(values: Mapping[str, Any]) -> list[str]:
    """Query's endpoints as rendered (for the summary after an install)."""
    return [a.split("=", 1)[1] for a in values["query"]["args"] if a.startswith("--endpoint=")]
