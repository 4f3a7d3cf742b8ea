"""``kurator local``: a real multi-cluster fleet on this machine."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path

import typer

from kurator.cli import fleet_status, params
from kurator.cli.options import Output
from kurator.cli.render import ConsoleReporter, console, emit

app = typer.Typer(
    help="Run a local fleet: a host cluster and member clusters of real control planes.", no_args_is_help=True
)

DEFAULT_FLEET = os.environ.get("KURATOR_FLEET", "kurator")
NAME_OPTION = typer.Option(
    DEFAULT_FLEET, "--name", "-n", parser=params.FLEET_NAME, help="Fleet name ($KURATOR_FLEET)."
)
HOME_OPTION = typer.Option(None, "--home", help="Fleet folder (default ~/.kurator/local/<name>).")
VERSION_OPTION = typer.Option(
    None, "--kubernetes-version", parser=params.KUBERNETES_VERSION, help="Kubernetes version."
)


class Network(StrEnum):
    auto = "auto"
    netns = "netns"
    loopback = "loopback"


class Source(StrEnum):
    auto = "auto"
    download = "download"
    build = "build"


SOURCE_OPTION = typer.Option(
    Source.auto,
    "--source",
    help="How to get missing binaries: download official releases (sha256-checked), build them from the "
    "Go module proxy, or auto (download, then build).",
)


@app.command()
def fetch(
    kubernetes_version: str = VERSION_OPTION,
    source: Source = SOURCE_OPTION,
    mirror: str = typer.Option(
        None, "--mirror", envvar="KURATOR_RELEASE_MIRROR", parser=params.URL, help="Release mirror base URL."
    ),
    monitoring: bool = typer.Option(
        True,
        "--monitoring/--no-monitoring",
        help="Also Prometheus and Thanos, which the fleet monitors with.",
    ),
    cluster_api: bool = typer.Option(
        False,
        "--cluster-api",
        help="Also Cluster API's and CAPA's managers (`local up --cluster-api`), built from the Go module "
        "proxy (~5 min the first time).",
    ),
    istiod: bool = typer.Option(
        False,
        "--istiod",
        help="Also istiod's pilot-discovery (`local istiod`), built from the Go module proxy (~4 min the "
        "first time).",
    ),
) -> None:
    """Fill the binary cache for the local fleet (and helm, which renders component charts) and say which
    way each binary came."""
    from kurator.binaries import istio_binaries
    from kurator.binaries.catalog import cluster_api_binaries
    from kurator.cli.fetching import fetch_binaries

    built = (cluster_api_binaries() if cluster_api else []) + (istio_binaries() if istiod else [])
    fetch_binaries(
        kubernetes_version,
        source.value,
        mirror,
        always_show=True,
        tools=True,
        monitoring=monitoring,
        built=built,
    )


# Options of `up` (fixed ones are kept in the fleet's config once it is created).
UP_WAIT_OPTION = typer.Option(
    180.0, "--wait-timeout", parser=params.WAIT, help="Seconds to wait for each part."
)
MEMBERS_OPTION = typer.Option(
    None,
    "--members",
    parser=params.MEMBER_COUNT,
    help="Member clusters (default 2; fixed once created).",
)
NODES_OPTION = typer.Option(
    None, "--nodes", parser=params.NODE_COUNT, help="Fake nodes per cluster (default 3)."
)
NETWORK_OPTION = typer.Option(
    Network.auto, "--network", help="netns (root: fleet in its own network namespace), loopback, or auto."
)
API_PORT_OPTION = typer.Option(
    None,
    "--api-port",
    parser=params.integer(1024, 65535 - 64),
    help="Port of the host API server; members follow (6443).",
)
KARMADA_OPTION = typer.Option(
    None,
    "--karmada/--no-karmada",
    help="Run a Karmada control plane too (default: on; fixed once created).",
)
MONITORING_OPTION = typer.Option(
    None,
    "--monitoring/--no-monitoring",
    help="Run Prometheus per member and Thanos on the host, over a local S3 stand-in (default: on).",
)
PROMETHEUS_REPLICAS_OPTION = typer.Option(
    None,
    "--prometheus-replicas",
    parser=params.integer(1, 3),
    help="Prometheus per member, 2 for an HA pair (default 1).",
)
BLOCK_DURATION_OPTION = typer.Option(
    None,
    "--block-duration",
    parser=params.BLOCK_DURATION,
    help="How often blocks are cut and uploaded, e.g. 2m (default 2h).",
)
CLUSTER_API_OPTION = typer.Option(
    None,
    "--cluster-api/--no-cluster-api",
    help="Run Cluster API's and CAPA's managers against the host, with an AWS stand-in (moto); "
    "needs root (the fleet's network namespace). Can be added to a running fleet (default: off).",
)


@app.command()
def up(
    name: str = NAME_OPTION,
    members: int = MEMBERS_OPTION,
    nodes: int = NODES_OPTION,
    kubernetes_version: str = VERSION_OPTION,
    network: Network = NETWORK_OPTION,
    api_port: int = API_PORT_OPTION,
    karmada: bool = KARMADA_OPTION,
    monitoring: bool = MONITORING_OPTION,
    prometheus_replicas: int = PROMETHEUS_REPLICAS_OPTION,
    block_duration: str = BLOCK_DURATION_OPTION,
    cluster_api: bool = CLUSTER_API_OPTION,
    home: Path = HOME_OPTION,
    source: Source = SOURCE_OPTION,
    wait_timeout: float = UP_WAIT_OPTION,
) -> None:
    """Bring the local fleet up, or back up: idempotent, restarts only what is not running."""
    from kurator.binaries import SUPPORTED_KUBERNETES_VERSIONS
    from kurator.cli.fetching import fetch_binaries, fetch_cluster_api
    from kurator.local import fleet
    from kurator.local.status import status

    reporter = ConsoleReporter()
    opts = fleet.UpOptions(
        name=name,
        home=home,
        members=members,
        nodes=nodes,
        kubernetes_version=kubernetes_version,
        network=network.value,
        api_port=api_port,
        karmada=karmada,
        monitoring=monitoring,
        prometheus_replicas=prometheus_replicas,
        block_duration=block_duration,
        cluster_api=cluster_api,
        wait_timeout=wait_timeout,
    )
    try:
        result = fleet.up(
            opts,
            lambda version, with_karmada, with_monitoring: fetch_binaries(
                version,
                source.value,
                None,
                always_show=False,
                karmada=with_karmada,
                monitoring=with_monitoring,
            ),
            SUPPORTED_KUBERNETES_VERSIONS,
            reporter,
            resolve_cluster_api=fetch_cluster_api,
        )
    finally:
        reporter.close()
    changed = f"started {len(result.started)} processes" if result.started else "nothing to change"
    console.print(f"fleet [bold]{name}[/] is up ({changed}, {result.seconds:.1f}s)")
    fleet_status.show(status(name, home))
    from kurator.cli import next_steps

    console.print("\nnext (copy into your shell):", highlight=False)
    for line in next_steps.lines(result.config, result.layout, home is not None, next_steps.commands_dir()):
        # Never wrapped: these lines are copied into a shell as they are.
        style = "dim" if line.startswith("#") else None
        console.print(f"  {line}", style=style, highlight=False, markup=False, soft_wrap=True)


@app.command()
def down(
    name: str = NAME_OPTION,
    home: Path = HOME_OPTION,
    purge: bool = typer.Option(
        False, "--purge", help="Also delete the fleet's data, certificates and kubeconfigs."
    ),
) -> None:
    """Stop the processes `up` started; keep the data unless --purge."""
    from kurator.local import fleet
    from kurator.local.layout import fleet_home

    result = fleet.down(name, home, purge)
    what = "and deleted its data" if purge else "(data kept; `kurator local up` resumes it)"
    console.print(f"stopped {len(result.stopped)} processes of fleet [bold]{name}[/] {what}")
    if result.kept:
        folder = fleet_home(name, home)
        console.print(
            f"left {folder} in place: it also holds {', '.join(result.kept)}, which kurator did not make",
            highlight=False,
        )


@app.command("status")
def status_cmd(
    name: str = NAME_OPTION,
    home: Path = HOME_OPTION,
    output: fleet_status.StatusOutput = typer.Option(
        fleet_status.StatusOutput.table, "--output", "-o", help="Output format (wide: every process too)."
    ),
) -> None:
    """Show each cluster: API endpoint, version, ready nodes, and how many of its processes are up.
    Exits 1 when anything is down."""
    from kurator.local.status import status

    st = status(name, home)
    if output in (fleet_status.StatusOutput.table, fleet_status.StatusOutput.wide):
        fleet_status.show(st, wide=output is fleet_status.StatusOutput.wide)
    else:
        emit(fleet_status.data(st), Output(output.value))
    if not st.healthy:
        raise typer.Exit(1)


@app.command()
def istiod(
    name: str = NAME_OPTION,
    home: Path = HOME_OPTION,
    primary: str = typer.Option(
        None,
        "--primary",
        parser=params.MEMBER_NAME,
        help="The mesh's primary (default: the one `kurator install istio` recorded on Karmada).",
    ),
    source: Source = SOURCE_OPTION,
    restart: bool = typer.Option(False, "--restart", help="Start it again if it runs (e.g. after a new CA)."),
    wait_timeout: float = typer.Option(
        180.0,
        "--wait-timeout",
        parser=params.WAIT,
        help="Seconds to wait for Istio's objects and for istiod.",
    ),
) -> None:
    """Run istiod (pilot-discovery, built from Istio's pinned module) as a real process of the fleet
    against the mesh's primary member: it reads what `kurator install istio` put there and watches every
    remote through its remote secret. Waits for the install's objects, so it may start while the install
    runs. Stopped by `kurator local down`."""
    import time

    from kurator.binaries import ensure_binaries, istio_binaries
    from kurator.core.errors import KuratorError
    from kurator.local import config as fleet_config
    from kurator.local import istiod as local_istiod
    from kurator.local import istiod_run
    from kurator.local.layout import FleetLayout, fleet_home
    from kurator.local.state import command

    layout = FleetLayout(fleet_home(name, home))
    cfg = fleet_config.load(layout.config, command("down", name, home, "--purge"))
    if cfg is None:
        raise KuratorError(f"there is no local fleet named {name!r}", "create it with `kurator local up`")
    local_istiod.check_fleet(cfg)
    if primary is None:
        from kurator.components.istio import mesh as istio_mesh
        from kurator.kube.client import Access

        karmada = Access(layout.kubeconfig(fleet_config.KARMADA)).client()
        primary = istio_mesh.installed_primary(karmada) or ""
        if not primary:
            raise KuratorError(
                "Istio is not installed in this fleet's Karmada (yet)",
                "run `kurator install istio`, or give --primary to start istiod while it installs",
            )
    reporter = ConsoleReporter()
    try:
        binary = ensure_binaries(istio_binaries(), source.value, reporter).paths["pilot-discovery"]
        began = time.monotonic()
        reporter.step(f"istiod on {primary}")
        rec = istiod_run.up(name, home, primary, binary, wait_timeout, restart)
        reporter.done(f"istiod on {primary}", time.monotonic() - began)
    finally:
        reporter.close()
    console.print(
        f"istiod runs (pid {rec.pid}) against {primary}: debug endpoints at {local_istiod.url(cfg)}/debug/ "
        "(with a token of an istio-system ServiceAccount); remotes reach it at "
        f"{cfg.address}:{local_istiod.SECURE_XDS_PORT} (--remote-pilot-address {cfg.address})",
        highlight=False,
    )


@app.command()
def kubeconfig(
    cluster: str = typer.Argument(
        None, parser=params.CLUSTER, help="host, member1, … (default: the merged file with every cluster)."
    ),
    name: str = NAME_OPTION,
    home: Path = HOME_OPTION,
    path: bool = typer.Option(False, "--path", help="Print the file's path instead of its content."),
) -> None:
    """Print a cluster's kubeconfig (or its path)."""
    from kurator.core.errors import InvalidInput, KuratorError
    from kurator.local import config as fleet_config
    from kurator.local.layout import FleetLayout, fleet_home
    from kurator.local.state import command

    layout = FleetLayout(fleet_home(fleet_config.validate_name(name), home))
    cfg = fleet_config.load(layout.config, command("down", name, home, "--purge"))
    if cfg is None:
        raise KuratorError(f"there is no local fleet named {name!r}", "create it with `kurator local up`")
    if cluster is not None and cluster not in cfg.control_planes:
        known = ", ".join(cfg.control_planes)
        raise InvalidInput(f"fleet {name!r} has no cluster {cluster!r}", f"clusters: {known}")
    file = layout.kubeconfig(cluster) if cluster else layout.merged_kubeconfig
    if path:
        typer.echo(str(file))
    else:
        typer.echo(file.read_text(), nl=False)
