"""``kurator install <component>``, ``kurator uninstall <component>``, ``kurator artifacts pull`` and
``kurator get components``: fleet components through the install engine, on Karmada's API server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from kurator.cli import params
from kurator.cli.options import OUTPUT_OPTION, Output, api_access
from kurator.cli.render import console, emit, err_console
from kurator.components import COMPONENTS, WITH_OPTIONS
from kurator.core.errors import InvalidInput, KuratorError

if TYPE_CHECKING:
    from kurator.fleet.component import Component
    from kurator.fleet.engine import MemberState, Outcome
    from kurator.kube.client import Access

install_app = typer.Typer(help="Install a component on every member of the fleet.", no_args_is_help=True)
uninstall_app = typer.Typer(
    help="Remove an installed component from Karmada and every member.", no_args_is_help=True
)
artifacts_app = typer.Typer(
    help="Component artifacts (charts, manifests) and offline bundles.", no_args_is_help=True
)

DRY_RUN = typer.Option(False, "--dry-run", help="Print the plan per target and write nothing.")
WAIT_TIMEOUT = typer.Option(
    300.0, "--wait-timeout", parser=params.WAIT, help="Seconds to wait for every member to be ready."
)


def parse_sets(items: list[str]) -> dict[str, Any]:
    """``--set a.b=value`` pairs (values parsed as YAML: numbers, booleans, lists) into nested values."""
    from kurator.core import inputs

    values: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key or any(not part for part in key.split(".")):
            raise InvalidInput(f"--set {item!r} is not key=value", "for example --set replicas=3")
        try:
            value = inputs.load_yaml(raw, f"--set {key}") if raw else ""
        except inputs.NotYaml:
            value = raw
        node = values
        *parents, last = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise InvalidInput(f"--set {item!r} conflicts with another --set of {part!r}")
        node[last] = value
    return values


def _live(what: str) -> tuple[Callable[[list[MemberState]], None], Callable[[], None]]:
    """A live table of per-cluster progress on stderr, and the function that ends it."""
    from rich.live import Live

    from kurator.cli.plans import progress_table

    live = Live(console=err_console, refresh_per_second=4, transient=False)
    live.start()

    def update(states: list[MemberState]) -> None:
        live.update(progress_table(states, what))

    return update, live.stop


def _fail_members(outcome: Outcome, component: str, verb: str) -> None:
    failed = outcome.failed
    if not failed:
        return
    for st in failed:
        err_console.print(f"[red]✗[/] {st.member}: {st.error}", highlight=False)
    done = [m.member for m in outcome.members if m.done]
    names = ", ".join(st.member for st in failed)
    raise KuratorError(
        f"{component} was not {verb} on {names}" + (f" (done on {', '.join(done)})" if done else ""),
        f"make {names} reachable and healthy (`kurator get clusters`), then run the same command again",
    )


def run_install(
    access: Access,
    comp: Component,
    *,
    dry_run: bool,
    output: Output,
    clusters: list[str] | None = None,
    values: dict[str, Any] | None = None,
    artifacts_dir: Path | None = None,
    wait_timeout: float = 300.0,
) -> Outcome | None:
    """Plan (``dry_run``: print it and stop) or install ``comp`` with live progress; ``None`` after a dry
    run. A member that did not finish ends the command with an error naming it."""
    from kurator.cli.plans import show_plan
    from kurator.cli.render import ConsoleReporter
    from kurator.fleet import engine

    req = engine.Request(
        access=access,
        component=comp,
        values=values or {},
        clusters=clusters,
        artifacts_dir=artifacts_dir,
        wait_timeout=wait_timeout,
    )
    if dry_run:
        plan = engine.make_plan(req)
        if output is Output.table:
            show_plan(plan)
        else:
            emit(plan.to_json(), output)
        return None
    reporter = ConsoleReporter()
    update, stop = None, None
    try:

        def progress(states: list[MemberState]) -> None:
            nonlocal update, stop
            if update is None:
                reporter.close()
                update, stop = _live("READY")
            update(states)

        outcome = engine.install(req, reporter, progress)
    finally:
        reporter.close()
        if stop:
            stop()
    _fail_members(outcome, comp.name, "installed")
    where = ", ".join(m.member for m in outcome.members)
    if outcome.writes == 0:
        console.print(
            f"{comp.name} {comp.version} is installed and unchanged on {where}: nothing was written"
        )
    else:
        api = "the host" if comp.placement == "host" else "Karmada"
        console.print(
            f"{comp.name} {comp.version} installed on {where} "
            f"({outcome.writes} objects written on {api}, {outcome.seconds:.1f}s)"
        )
    return outcome


def split_clusters(clusters: str | None) -> list[str] | None:
    return [c.strip() for c in clusters.split(",") if c.strip()] if clusters else None


CLUSTERS = typer.Option(
    None,
    "--clusters",
    "--cluster",
    parser=params.MEMBERS,
    help="Comma-separated members (default: all joined).",
)
ARTIFACTS_DIR = typer.Option(
    None, "--artifacts-dir", help="Offline bundle made by `kurator artifacts pull` (no network)."
)


def _install_command(name: str) -> Callable[..., None]:
    comp = COMPONENTS[name]

    def command(
        ctx: typer.Context,
        dry_run: bool = DRY_RUN,
        output: Output = OUTPUT_OPTION,
        clusters: str = CLUSTERS,
        set_values: list[str] = typer.Option([], "--set", help="Chart value key=value (repeatable)."),
        artifacts_dir: Path = ARTIFACTS_DIR,
        wait_timeout: float = WAIT_TIMEOUT,
    ) -> None:
        run_install(
            api_access(ctx),
            comp,
            dry_run=dry_run,
            output=output,
            clusters=split_clusters(clusters),
            values=parse_sets(set_values),
            artifacts_dir=artifacts_dir,
            wait_timeout=wait_timeout,
        )

    command.__doc__ = f"Install {name}: {comp.description}."
    return command


def run_uninstall(access: Access, name: str, *, dry_run: bool, output: Output, wait_timeout: float) -> None:
    """Plan (``dry_run``) or remove what the record of ``name`` on ``access`` lists."""
    from kurator.cli.plans import show_plan
    from kurator.fleet import engine

    if dry_run:
        plan = engine.uninstall_plan(access, name)
        if plan is None:
            console.print(f"{name} is not installed: nothing to remove")
        elif output is Output.table:
            show_plan(plan, "uninstall")
        else:
            emit(plan.to_json(), output)
        return
    update, stop = _live("REMOVED")
    try:
        outcome = engine.uninstall(access, name, wait_timeout, update)
    finally:
        stop()
    if outcome is None:
        console.print(f"{name} is not installed: nothing to remove")
        return
    _fail_members(outcome, name, "removed")
    where = ", ".join(m.member for m in outcome.members)
    console.print(f"{name} uninstalled from {where}")


def _uninstall_command(name: str) -> Callable[..., None]:
    def command(
        ctx: typer.Context,
        dry_run: bool = DRY_RUN,
        output: Output = OUTPUT_OPTION,
        wait_timeout: float = WAIT_TIMEOUT,
    ) -> None:
        run_uninstall(api_access(ctx), name, dry_run=dry_run, output=output, wait_timeout=wait_timeout)

    command.__doc__ = f"Remove {name} from Karmada and every member it was installed on."
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
            opts, karmada_host.karmadactl(reporter), karmada_host.crds_dir(), reporter
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
    from kurator.fleet import health, record

    access = api_access(ctx)
    records = record.list_all(access.client())
    reports = health.of_records(access, records, COMPONENTS)
    if output is not Output.table:
        emit(
            [
                {
                    "name": r.component,
                    "version": r.version,
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
        rows: list[health.Report | None] = [*reports[r.component]] or [None]
        for i, rep in enumerate(rows):
            first = (r.component, r.version, str(len(r.refs))) if i == 0 else ("", "", "")
            if rep is None:  # none of its targets is joined any more
                table.add_row(*first, ",".join(r.targets) or "-", "-", "not joined")
                continue
            healthy = "[green]yes[/]" if rep.healthy else "[red]no[/]"
            table.add_row(*first, rep.target, healthy, escape(rep.summary() or "ready"))
    console.print(table)


def register(app: typer.Typer, get_app: typer.Typer) -> None:
    from kurator.cli import cluster_api_install, component_install, monitoring_install, operator_install

    monitoring_install.register(install_app, uninstall_app)
    operator_install.register(install_app, uninstall_app)
    cluster_api_install.register(install_app, uninstall_app)
    component_install.register(install_app, uninstall_app)
    for name, comp in COMPONENTS.items():
        if name in WITH_OPTIONS:
            continue
        install_app.command(name, help=f"Install {name}: {comp.description}.")(_install_command(name))
        uninstall_app.command(name)(_uninstall_command(name))
    install_app.command("karmada")(install_karmada)
    artifacts_app.command("pull")(pull)
    get_app.command("components")(get_components)
    app.add_typer(install_app, name="install")
    app.add_typer(uninstall_app, name="uninstall")
    app.add_typer(artifacts_app, name="artifacts")
