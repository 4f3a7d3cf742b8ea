"""``kurator install <component>``, ``kurator uninstall <component>``, ``kurator artifacts pull`` and
``kurator get components``: fleet components through the install engine, on Karmada's API server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import typer

from kurator.cli import params
from kurator.cli.fleet_access import karmada_access
from kurator.cli.install_common import (
    ARTIFACTS_DIR,
    CLUSTERS,
    DRY_RUN,
    RESET_VALUES,
    SET_VALUES,
    WAIT_TIMEOUT,
    install_app,
    parse_sets,
    run_install,
    split_clusters,
    uninstall_app,
    uninstall_command,
)
from kurator.cli.options import OUTPUT_OPTION, Output, api_access
from kurator.cli.render import console, emit, err_console
from kurator.components import COMPONENTS, WITH_OPTIONS

artifacts_app = typer.Typer(
    help="Component artifacts (charts, manifests) and offline bundles.", no_args_is_help=True
)


def _install_command(name: str) -> Callable[..., None]:
    comp = COMPONENTS[name]

    def command(
        ctx: typer.Context,
        dry_run: bool = DRY_RUN,
        output: Output = OUTPUT_OPTION,
        clusters: str = CLUSTERS,
        set_values: list[str] = SET_VALUES,
        reset_values: bool = RESET_VALUES,
        artifacts_dir: Path = ARTIFACTS_DIR,
        wait_timeout: float = WAIT_TIMEOUT,
    ) -> None:
        run_install(
            api_access(ctx) if comp.placement == "host" else karmada_access(ctx),
            comp,
            dry_run=dry_run,
            output=output,
            clusters=split_clusters(clusters),
            values=parse_sets(set_values),
            artifacts_dir=artifacts_dir,
            wait_timeout=wait_timeout,
            reset_values=reset_values,
        )

    command.__doc__ = f"Install {name}: {comp.description}."
    return command


def install_karmada(
    ctx: typer.Context,
    dry_run: bool = DRY_RUN,
    api_address: str = typer.Option(
        None,
        "--api-address",
        parser=params.HOST,
        help="Address to reach Karmada's API at (default: a control-plane node's).",
    ),
    port: int = typer.Option(
        32443, "--port", parser=params.integer(1, 65535), help="NodePort of Karmada's API server."
    ),
    data_dir: Path = typer.Option(
        None, "--data-dir", help="Certificates, logs and kubeconfig (default ~/.kurator/karmada/<context>)."
    ),
    wait_timeout: float = WAIT_TIMEOUT,
) -> None:
    """Karmada for the host cluster of --kubeconfig/--context: finds the one that already serves it (a local
    fleet's, an earlier install) or installs the pinned release, then prints its kubeconfig."""
    from kurator.cli.render import ConsoleReporter
    from kurator.fleet import karmada_host

    opts = karmada_host.Options(api_access(ctx), data_dir, api_address, port, wait_timeout)
    if dry_run:
        for line in karmada_host.plan(opts):
            console.print(line, highlight=False)
        return
    reporter = ConsoleReporter()
    try:
        found = karmada_host.install(
            opts, lambda: karmada_host.karmadactl(reporter), karmada_host.crds_dir(), reporter
        )
    finally:
        reporter.close()
    if found.mode == "local-fleet":
        console.print(
            f"Karmada v{found.version} already runs for this cluster: it is the local fleet "
            f"{found.fleet!r}'s (real processes started by `kurator local up`), so nothing was installed."
        )
    elif found.mode == "in-cluster":
        console.print(f"Karmada v{found.version} is already installed in this cluster: nothing to do.")
    else:
        console.print(f"Karmada v{found.version} installed and serving.")
    console.print(f"Karmada kubeconfig: {found.kubeconfig}", highlight=False)


def pull(
    components: list[str] = typer.Argument(..., help="Components whose artifacts to bundle."),
    to: Path = typer.Option(..., "--to", help="Folder of the offline bundle (created if missing)."),
) -> None:
    """Fetch and verify component artifacts into a folder that `--artifacts-dir` installs from offline."""
    from kurator import components as registry
    from kurator.fleet import artifacts

    chosen = [registry.get(c).artifact for c in components]
    for artifact, path in zip(chosen, artifacts.pull(chosen, to), strict=True):
        console.print(f"{artifact.key}: {path} (sha256 {artifact.sha256[:12]}…)", highlight=False)


def get_components(ctx: typer.Context, output: Output = OUTPUT_OPTION) -> None:
    """List the components installed in the fleet (version, objects) and their health on each member:
    CRDs Established, webhooks with a ready endpoint and a CA bundle, and the component's own checks."""
    from kurator.fleet import health, locate, record

    # What is recorded where --kubeconfig/--context point (a host keeps its host-placed components), and,
    # for a host that records the Karmada serving it, what that Karmada keeps.
    here = api_access(ctx)
    try:
        found: locate.Found | None = locate.karmada(here)
    except locate.NotKarmada:
        found = None
    places = [here] if found is None or not found.via_host else [here, found.access]
    records: list[record.Record] = []
    reports: dict[str, list[health.Report]] = {}
    for access in places:
        listed = record.list_all(access.client())
        records += listed
        reports |= health.of_records(access, listed, COMPONENTS)
    if output is not Output.table:
        emit(
            [
                {
                    "name": r.component,
                    "version": r.version,
                    "status": r.state,
                    "clusters": r.targets,
                    "objects": len(r.refs),
                    "health": {
                        rep.target: {
                            "healthy": rep.healthy,
                            "error": rep.error,
                            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in rep.checks],
                        }
                        for rep in reports[r.component]
                    },
                }
                | ({"reason": r.reason} if r.reason else {})
                for r in records
            ],
            output,
        )
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(box=None, header_style="bold")
    for col in ("NAME", "VERSION", "OBJECTS", "CLUSTER", "HEALTHY", "DETAIL"):
        table.add_column(col)
    for r in records:
        # A run that did not finish says so beside the name (no column of its own: the table stays as narrow
        # as before, and DETAIL keeps its room).
        name = r.component if r.state == "installed" else f"{r.component} [red]({r.state})[/]"
        rows: list[health.Report | None] = [*reports[r.component]] or [None]
        for i, rep in enumerate(rows):
            first = (name, r.version, str(len(r.refs))) if i == 0 else ("", "", "")
            if rep is None:  # none of its targets is joined any more
                table.add_row(*first, ",".join(r.targets) or "-", "-", "not joined")
                continue
            healthy = "[green]yes[/]" if rep.healthy else "[red]no[/]"
            table.add_row(*first, rep.target, healthy, escape(rep.summary() or "ready"))
    console.print(table)
    for r in records:
        if r.state == "failed":
            err_console.print(f"[red]{r.component}[/]: {escape(r.reason)}", highlight=False)
        elif r.state == "installing":
            err_console.print(
                f"{r.component}: an install is under way, or was cut short (running it again finishes it)",
                highlight=False,
            )
    if any(r.state == "failed" for r in records):
        err_console.print(
            "hint: install again with the value fixed (--set keeps what the failed run was given; "
            "--reset-values drops it), or uninstall",
            style="dim",
            highlight=False,
        )


def register(app: typer.Typer, get_app: typer.Typer) -> None:
    """The generic components' commands, karmada's, ``artifacts pull`` and ``get components``; the groups
    (with monitoring's and the cluster operator's commands, registered by their modules) join ``app``."""
    for name, comp in COMPONENTS.items():
        if name in WITH_OPTIONS:
            continue
        install_app.command(name, help=f"Install {name}: {comp.description}.")(_install_command(name))
        reach = api_access if COMPONENTS[name].placement == "host" else karmada_access
        doc = f"Remove {name} from Karmada and every member it was installed on."
        uninstall_app.command(name)(uninstall_command(name, doc, reach))
    install_app.command("karmada")(install_karmada)
    artifacts_app.command("pull")(pull)
    get_app.command("components")(get_components)
    app.add_typer(install_app, name="install")
    app.add_typer(uninstall_app, name="uninstall")
    app.add_typer(artifacts_app, name="artifacts")
