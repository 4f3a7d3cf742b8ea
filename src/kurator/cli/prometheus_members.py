"""Prometheus on the members, as ``kurator install prometheus`` and ``kurator install thanos`` (its members'
half) install it: with Thanos sidecars, or alone with one member's Prometheus federating the others.

Federation needs each other member's Prometheus address, known only once its ``prometheus-web`` Service
exists (a load balancer's address, or a node and the NodePort): so unless every address is given, Prometheus
is installed everywhere first, the addresses are read through Karmada, and the primary's configuration is
installed again with its ``/federate`` jobs (only its ConfigMap and pods change)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from kurator.cli.install_common import run_install, split_clusters
from kurator.cli.options import Output
from kurator.cli.render import console, err_console

if TYPE_CHECKING:
    from kurator.fleet.component import Component
    from kurator.fleet.readiness import Outcome
    from kurator.kube.client import Access
    from kurator.monitoring.objstore import Store


@dataclass
class MembersInstall:
    """What the command line says about the members' Prometheus."""

    replicas: int = 1
    labels: list[str] = field(default_factory=list)  # MEMBER=LABEL
    scrape_interval: str = "30s"
    retention: str = "24h"
    block_duration: str = "2h"
    sidecar_service_type: str = "LoadBalancer"
    clusters: str | None = None
    primary: str | None = None
    federate_endpoints: list[str] = field(default_factory=list)  # MEMBER=HOST:PORT
    service_type: str | None = None  # of prometheus-web


def _endpoints(items: list[str]) -> dict[str, str]:
    from kurator.components import thanos

    # The same MEMBER=HOST:PORT rules as --sidecar-endpoint; only the flag's name differs in messages.
    return thanos.parse_endpoints(items, flag="--federate-endpoint")


def install_members(
    access: Access,
    want: MembersInstall,
    store: Store | None,
    dry_run: bool,
    output: Output,
    artifacts_dir: Path | None,
    wait_timeout: float,
) -> Outcome | None:
    """Check everything, then install (or with ``dry_run`` plan) Prometheus on the target members."""
    from kurator.components import prometheus, sidecars
    from kurator.core.errors import InvalidInput
    from kurator.fleet import targets

    members = targets.choose(access.client(), split_clusters(want.clusters))
    given = _endpoints(want.federate_endpoints)
    if want.primary is None and (given or want.service_type):
        raise InvalidInput("--federate-endpoint and --service-type are for federation: name its --primary")
    if unknown := sorted(set(given) - set(members)):
        raise InvalidInput(f"--federate-endpoint names {', '.join(unknown)}, not a target of this install")
    service = str(want.service_type or ("LoadBalancer" if want.primary else ""))
    others = [m for m in members if m != want.primary] if want.primary else []
    opts = prometheus.Options(
        store,
        replicas=want.replicas,
        labels=prometheus.parse_labels(want.labels),
        scrape_interval=want.scrape_interval,
        retention=want.retention,
        block_duration=want.block_duration,
        sidecar_service_type=want.sidecar_service_type,
        primary=want.primary,
        federated={m: given[m] for m in others if m in given},
        web_service_type=service,
    )
    comp = prometheus.component(opts, members)  # every check, before the first write
    missing = [m for m in others if m not in given]
    if dry_run and missing:
        err_console.print(
            f"[yellow]![/] the primary's /federate jobs for {', '.join(missing)} are added once their "
            "prometheus-web Services have addresses (after this install); this plan is without them",
            highlight=False,
        )

    def install(component: Component) -> Outcome | None:
        return run_install(
            access,
            component,
            dry_run=dry_run,
            output=output,
            clusters=members,
            artifacts_dir=artifacts_dir,
            wait_timeout=wait_timeout,
        )

    outcome = install(comp)
    if dry_run or not missing:
        return outcome
    found = sidecars.discover(access, missing, {}, min(wait_timeout, 120.0), "prometheus-web", "web")
    outcome = install(prometheus.component(replace(opts, federated={**opts.federated, **found}), members))
    if output is Output.table:
        for member in sorted(found):
            console.print(f"  {want.primary} federates {member} at {found[member]}", highlight=False)
    return outcome
