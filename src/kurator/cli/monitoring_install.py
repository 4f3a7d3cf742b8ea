"""``kurator install prometheus`` / ``thanos`` and their uninstall: the fleet's monitoring through the
install engine. Every check (the object-store file, a real request to its bucket, unique cluster labels,
reachable sidecars) runs before the first write."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from kurator.cli import params
from kurator.cli.fleet_access import karmada_access
from kurator.cli.install_common import (
    ARTIFACTS_DIR,
    CLUSTERS,
    DRY_RUN,
    WAIT_TIMEOUT,
    run_install,
    run_uninstall,
    uninstall_command,
)
from kurator.cli.options import OUTPUT_OPTION, Output, global_options
from kurator.cli.prometheus_members import MembersInstall, install_members
from kurator.cli.render import console
from kurator.core.errors import InvalidInput

if TYPE_CHECKING:
    from kurator.kube.client import Access
    from kurator.monitoring.objstore import Store

OBJECT_STORE_OPTIONAL = typer.Option(
    None,
    "--object-store-config",
    help="Thanos object-store config: Prometheus gets a Thanos sidecar uploading to it (without: "
    "Prometheus alone, as Kurator v0.1 installed it).",
)
OBJECT_STORE = typer.Option(
    ...,
    "--object-store-config",
    help="Thanos object-store config (type: S3, config: bucket, endpoint, access_key, secret_key, ...).",
)
HOST_KUBECONFIG = typer.Option(
    None, "--host-kubeconfig", help="Kubeconfig of the host cluster (default: the global --kubeconfig)."
)
HOST_CONTEXT = typer.Option(
    None,
    "--host-context",
    parser=params.CONTEXT_NAME,
    help="Context of the host cluster, where Karmada runs (a local fleet's: <fleet>-host).",
)
CLUSTER_LABELS = typer.Option(
    [], "--cluster-label", help="MEMBER=LABEL: the member's `cluster` label (default: its name)."
)
SERVICE_TYPES = "ClusterIP, NodePort or LoadBalancer"


class ServiceType(StrEnum):
    ClusterIP = "ClusterIP"
    NodePort = "NodePort"
    LoadBalancer = "LoadBalancer"


def _duration(default: str, flag: str, help: str) -> Any:
    return typer.Option(default, flag, parser=params.DURATION, help=help)


def load_store(path: Path) -> Store:
    """The object-store file parsed and, for S3, its bucket asked for (a real request); errors never show
    a credential."""
    from kurator.cli.render import err_console
    from kurator.core import inputs
    from kurator.kube import http
    from kurator.monitoring import bucketcheck, objstore

    store = objstore.parse(inputs.read_text(path, "object-store config", inputs.MiB), str(path))
    if isinstance(store, objstore.ObjectStore):
        # trust_env: honour HTTPS_PROXY/NO_PROXY as Thanos's Go client does.
        bucketcheck.check_bucket(store, http.sender(timeout=10.0, trust_env=True))
    else:  # each of these speaks its own protocol: Thanos's client is the one that reaches it
        err_console.print(
            f"[yellow]![/] {objstore.describe(store)}: its fields were checked, its bucket is not asked for "
            "before install (only S3's is)",
            highlight=False,
        )
    return store


def host_access(ctx: typer.Context, kubeconfig_path: str | None, context: str | None) -> Access:
    from kurator.kube.client import Access

    if not kubeconfig_path and not context:
        raise InvalidInput(
            "Thanos runs on the fleet's host cluster: name it with --host-context (and --host-kubeconfig)",
            "the global --kubeconfig/--context point at Karmada's API server, which runs no pods; "
            "for a local fleet: --host-context <fleet>-host",
        )
    opts = global_options(ctx)
    return Access.resolve(kubeconfig_path or opts.kubeconfig, context, opts.request_timeout)


def install_prometheus(
    ctx: typer.Context,
    object_store_config: Path = OBJECT_STORE_OPTIONAL,
    primary: str = typer.Option(
        None, "--primary", parser=params.MEMBER_NAME, help="The member whose Prometheus federates the others."
    ),
    federate_endpoints: list[str] = typer.Option(
        [],
        "--federate-endpoint",
        help="MEMBER=HOST:PORT where the primary reaches a member's Prometheus (default: its Service).",
    ),
    service_type: ServiceType = typer.Option(
        None,
        "--service-type",
        help="Type of the prometheus-web Service the primary federates through (default with --primary: "
        "LoadBalancer).",
    ),
    replicas: int = typer.Option(
        1, "--replicas", parser=params.integer(1, 5), help="Prometheus per member (2: an HA pair)."
    ),
    cluster_labels: list[str] = CLUSTER_LABELS,
    scrape_interval: str = _duration("30s", "--scrape-interval", "How often targets are scraped."),
    retention: str = _duration("24h", "--retention", "How long each Prometheus keeps samples."),
    block_duration: str = _duration(
        "2h", "--block-duration", "Length of a TSDB block: how often the sidecar uploads one."
    ),
    sidecar_service_type: ServiceType = typer.Option(
        ServiceType.LoadBalancer, "--sidecar-service-type", help="How the host reaches the sidecars."
    ),
    clusters: str = CLUSTERS,
    dry_run: bool = DRY_RUN,
    output: Output = OUTPUT_OPTION,
    artifacts_dir: Path = ARTIFACTS_DIR,
    wait_timeout: float = WAIT_TIMEOUT,
) -> None:
    """Install Prometheus on every member (external labels cluster and replica): with a Thanos sidecar
    uploading blocks to the object store, or alone; --primary makes one member's Prometheus federate the
    others (/federate jobs labelled cluster=<member>)."""
    access = karmada_access(ctx)
    members = MembersInstall(
        replicas=replicas,
        labels=cluster_labels,
        scrape_interval=scrape_interval,
        retention=retention,
        block_duration=block_duration,
        sidecar_service_type=sidecar_service_type.value,
        clusters=clusters,
        primary=primary,
        federate_endpoints=federate_endpoints,
        service_type=service_type.value if service_type else None,
    )
    store = load_store(object_store_config) if object_store_config else None
    install_members(access, members, store, dry_run, output, artifacts_dir, wait_timeout)
    if not dry_run and store is not None:
        console.print("next: `kurator install thanos` gives the fleet one query view over these members")


# Options of `install thanos` alone.
SIDECAR_ENDPOINTS = typer.Option(
    [],
    "--sidecar-endpoint",
    help="MEMBER=HOST:PORT where the host reaches a member's sidecar (default: read from its Service).",
)
QUERY_REPLICAS = typer.Option(1, "--query-replicas", parser=params.integer(1, 5), help="Thanos Query pods.")
QUERY_SERVICE_TYPE = typer.Option(
    ServiceType.ClusterIP, "--query-service-type", help="Service type of Thanos Query."
)
STORE_SYNC_INTERVAL = _duration(
    "15m", "--store-sync-interval", "How often the Store Gateway looks for new blocks."
)
HOST_ONLY = typer.Option(
    False, "--host-only", help="Only the host's side: leave the members' Prometheus as it is."
)


def install_thanos(
    ctx: typer.Context,
    object_store_config: Path = OBJECT_STORE,
    host_kubeconfig: str = HOST_KUBECONFIG,
    host_context: str = HOST_CONTEXT,
    sidecar_endpoints: list[str] = SIDECAR_ENDPOINTS,
    query_replicas: int = QUERY_REPLICAS,
    query_service_type: ServiceType = QUERY_SERVICE_TYPE,
    store_sync_interval: str = STORE_SYNC_INTERVAL,
    host_only: bool = HOST_ONLY,
    replicas: int = typer.Option(
        None, "--replicas", parser=params.integer(1, 5), help="Prometheus per member (default 1)."
    ),
    cluster_labels: list[str] = CLUSTER_LABELS,
    block_duration: str = typer.Option(
        None, "--block-duration", parser=params.DURATION, help="Length of a TSDB block (default 2h)."
    ),
    sidecar_service_type: ServiceType = typer.Option(
        None, "--sidecar-service-type", help="How the host reaches the sidecars (default LoadBalancer)."
    ),
    clusters: str = CLUSTERS,
    dry_run: bool = DRY_RUN,
    output: Output = OUTPUT_OPTION,
    artifacts_dir: Path = ARTIFACTS_DIR,
    wait_timeout: float = WAIT_TIMEOUT,
) -> None:
    """Install the fleet's Thanos in one command, as Kurator does: first every member's Prometheus with a
    Thanos sidecar (as `kurator install prometheus --object-store-config` with the same options), then Thanos
    Query, Store Gateway and Compactor on the host cluster, wired to those sidecars and the object store.
    Everything is checked before the first write."""
    from kurator.components import sidecars, thanos
    from kurator.fleet import record, targets

    karmada = karmada_access(ctx)
    host = host_access(ctx, host_kubeconfig, host_context)
    given = thanos.parse_endpoints(sidecar_endpoints)
    store = load_store(object_store_config)
    _answers(host)
    chosen = [replicas, cluster_labels, block_duration, sidecar_service_type, clusters]
    want = MembersInstall(
        replicas=replicas or 1,
        labels=cluster_labels,
        block_duration=block_duration or "2h",
        sidecar_service_type=(sidecar_service_type or ServiceType.LoadBalancer).value,
        clusters=clusters,
    )
    steps = (dry_run, output, artifacts_dir, wait_timeout)
    if not host_only and not _members_first(karmada, want, any(chosen), store, bool(given), *steps):
        return
    installed = record.load(karmada.client(), "prometheus")
    members = installed.targets if installed else []
    if not members and not given:
        raise InvalidInput(
            "prometheus is not installed in the fleet, so there is no sidecar for Thanos Query to read",
            "run `kurator install prometheus --object-store-config FILE` first",
        )
    if unknown := sorted(set(given) - set(targets.joined_clusters(karmada.client()))):
        raise InvalidInput(f"--sidecar-endpoint names {', '.join(unknown)}, not joined to the fleet")
    endpoints = sidecars.discover(karmada, members, given, timeout=min(wait_timeout, 120.0))
    opts = thanos.Options(
        store,
        sidecars=endpoints,
        query_replicas=query_replicas,
        query_service_type=query_service_type.value,
        store_sync_interval=store_sync_interval,
    )
    comp = thanos.component(opts)
    outcome = run_install(
        host, comp, dry_run=dry_run, output=output, artifacts_dir=artifacts_dir, wait_timeout=wait_timeout
    )
    if outcome is not None and output is Output.table:
        _show_query(endpoints)


def _show_query(endpoints: dict[str, str]) -> None:
    """Where the sidecars were found, and how to query the fleet."""
    for member in sorted(endpoints):
        console.print(f"  sidecar of {member}: {endpoints[member]}", highlight=False)
    console.print(
        "query it: `kubectl -n kurator-monitoring port-forward svc/thanos-query 9090` on the host, then "
        "`kurator query --url http://127.0.0.1:9090 up`",
        highlight=False,
    )


def _members_first(
    karmada: Access,
    want: MembersInstall,
    changed: bool,
    store: Store,
    given: bool,
    dry_run: bool,
    output: Output,
    artifacts_dir: Path | None,
    wait_timeout: float,
) -> bool:
    """Every member's Prometheus with a sidecar first, unless it has one and no members' option (``changed``)
    asks for another; False when a dry run cannot plan the host's side yet (no sidecar to read the address
    of, and none ``given``)."""
    from kurator.fleet import record

    if not changed and _with_sidecars(record.load(karmada.client(), "prometheus")):
        console.print("prometheus is installed with sidecars: left as it is (a members' option changes it)")
        return True
    install_members(karmada, want, store, dry_run, output, artifacts_dir, wait_timeout)
    if dry_run and record.load(karmada.client(), "prometheus") is None and not given:
        console.print(
            "host: planned once the members' sidecars exist (their addresses are read from their "
            "Services after the install above)",
            highlight=False,
        )
        return False
    return True


def _with_sidecars(installed: Any) -> bool:
    """Whether the recorded prometheus install has Thanos sidecars (not Prometheus alone)."""
    return installed is not None and any(
        r.kind == "Service" and r.name == "thanos-sidecar" for r in installed.refs
    )


def _answers(host: Access) -> None:
    """The host cluster answers (before anything is written on the members)."""
    from kurator.core.errors import KuratorError
    from kurator.kube.errors import KubeError
    from kurator.kube.resources import Namespace

    try:
        host.client(timeout=10.0).get(Namespace, "kube-system")
    except KubeError as exc:
        raise KuratorError(
            f"the host cluster does not answer: {exc.message}", "check --host-kubeconfig and --host-context"
        ) from None


uninstall_prometheus = uninstall_command(
    "prometheus",
    "Remove Prometheus and its sidecars (and the object-store Secret) from every member.",
    karmada_access,
)


def uninstall_thanos(
    ctx: typer.Context,
    host_kubeconfig: str = HOST_KUBECONFIG,
    host_context: str = HOST_CONTEXT,
    dry_run: bool = DRY_RUN,
    output: Output = OUTPUT_OPTION,
    wait_timeout: float = WAIT_TIMEOUT,
) -> None:
    """Remove Thanos Query, Store Gateway and Compactor from the host (the bucket's data stays)."""
    host = host_access(ctx, host_kubeconfig, host_context)
    run_uninstall(host, "thanos", dry_run=dry_run, output=output, wait_timeout=wait_timeout)


def register(install_app: typer.Typer, uninstall_app: typer.Typer) -> None:
    install_app.command("prometheus")(install_prometheus)
    install_app.command("thanos")(install_thanos)
    uninstall_app.command("prometheus")(uninstall_prometheus)
    uninstall_app.command("thanos")(uninstall_thanos)
