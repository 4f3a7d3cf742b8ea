"""What every ``kurator install`` / ``uninstall`` command shares (the generic components' in
:mod:`kurator.cli.install`, monitoring's, the cluster operator's): the command groups, the common options,
and running the install engine with live progress. Each of those modules imports this one; none imports
another."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import typer

from kurator.cli import params
from kurator.cli.options import OUTPUT_OPTION, Output
from kurator.cli.render import console, emit, err_console
from kurator.core.errors import InvalidInput, KuratorError

if TYPE_CHECKING:
    from pathlib import Path

    from kurator.fleet.component import Component
    from kurator.fleet.readiness import MemberState, Outcome
    from kurator.kube.client import Access

install_app = typer.Typer(help="Install a component on every member of the fleet.", no_args_is_help=True)
uninstall_app = typer.Typer(
    help="Remove an installed component from Karmada and every member.", no_args_is_help=True
)


DRY_RUN = typer.Option(False, "--dry-run", help="Print the plan per target and write nothing.")
WAIT_TIMEOUT = typer.Option(
    300.0, "--wait-timeout", parser=params.WAIT, help="Seconds to wait for every member to be ready."
)


CLUSTERS = typer.Option(
    None,
    "--clusters",
    "--cluster",  # Kurator's spelling
    parser=params.MEMBERS,
    help="Comma-separated members (default: all joined).",
)
ARTIFACTS_DIR = typer.Option(
    None, "--artifacts-dir", help="Offline bundle made by `kurator artifacts pull` (no network)."
)


SET_VALUES = typer.Option(
    [],
    "--set",
    help="Chart value key=value (repeatable); kept for later runs, which may override them.",
)
RESET_VALUES = typer.Option(
    False, "--reset-values", help="Forget the --set values of earlier runs (chart defaults, then this run's)."
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


def split_clusters(clusters: str | None) -> list[str] | None:
    return [c.strip() for c in clusters.split(",") if c.strip()] if clusters else None


def _live(what: str) -> tuple[Callable[[list[MemberState]], None], Callable[[], None]]:
    """A live table of per-cluster progress on stderr, and the function that ends it."""
    from kurator.cli.plans import progress_table
    from kurator.cli.render import LiveTable

    live = LiveTable()

    def update(states: list[MemberState]) -> None:
        done = sum(1 for st in states if st.done)
        live.update(progress_table(states, what), f"{done}/{len(states)} clusters done")

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
    reset_values: bool = False,
    wait_healthy: bool = True,
) -> Outcome | None:
    """Plan (``dry_run``: print it and stop) or install ``comp`` with live progress; ``None`` after a dry
    run. A member that did not finish ends the command with an error naming it. ``wait_healthy=False``
    waits for the objects only, not for the component's health checks."""
    from kurator.cli.plans import kept_note, show_plan
    from kurator.cli.render import ConsoleReporter
    from kurator.fleet import engine

    req = engine.Request(
        access=access,
        component=comp,
        values=values or {},
        clusters=clusters,
        artifacts_dir=artifacts_dir,
        wait_timeout=wait_timeout,
        reset_values=reset_values,
        wait_healthy=wait_healthy,
    )
    if dry_run:
        plan = engine.make_plan(req)
        if output is Output.table:
            show_plan(plan)
        else:
            emit(plan.to_json(), output)
        plan.check()  # after showing it: the refusals are in the plan, the exit code says there are some
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
    if note := kept_note(outcome.plan):
        err_console.print(note, highlight=False)
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


def run_uninstall(access: Access, name: str, *, dry_run: bool, output: Output, wait_timeout: float) -> None:
    """Plan (``dry_run``) or remove what the record of ``name`` on ``access`` lists."""
    from kurator.cli.plans import show_plan
    from kurator.fleet import removal

    if dry_run:
        plan = removal.uninstall_plan(access, name)
        if plan is None:
            console.print(f"{name} is not installed: nothing to remove")
        elif output is Output.table:
            show_plan(plan, "uninstall")
        else:
            emit(plan.to_json(), output)
        return
    update, stop = _live("REMOVED")
    try:
        outcome = removal.uninstall(access, name, wait_timeout, update)
    finally:
        stop()
    if outcome is None:
        console.print(f"{name} is not installed: nothing to remove")
        return
    _fail_members(outcome, name, "removed")
    where = ", ".join(m.member for m in outcome.members)
    console.print(f"{name} uninstalled from {where}")


def uninstall_command(name: str, doc: str, reach: Callable[[typer.Context], Access]) -> Callable[..., None]:
    """The ``uninstall NAME`` command of a component without options of its own: its plan (``--dry-run``)
    or its removal from the API server ``reach`` gives (Karmada's, or the host's)."""

    def command(
        ctx: typer.Context,
        dry_run: bool = DRY_RUN,
        output: Output = OUTPUT_OPTION,
        wait_timeout: float = WAIT_TIMEOUT,
    ) -> None:
        run_uninstall(reach(ctx), name, dry_run=dry_run, output=output, wait_timeout=wait_timeout)

    command.__doc__ = doc
    return command
