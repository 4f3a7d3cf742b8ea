"""``kurator join``, ``kurator unjoin`` and ``kurator get clusters``: the fleet's members in Karmada."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from kurator.cli import params
from kurator.cli.options import OUTPUT_OPTION, Output
from kurator.cli.render import console, emit

if TYPE_CHECKING:
    from kurator.kube.client import Client

get_app = typer.Typer(help="Show fleet resources.", no_args_is_help=True)


def karmada_client(ctx: typer.Context) -> Client:
    """Karmada's API server, from the global --kubeconfig/--context (then $KUBECONFIG, ~/.kube/config), or
    the Karmada that the cluster they name records as serving it (a local fleet's host)."""
    from kurator.cli.fleet_access import karmada_access

    return karmada_access(ctx).client()


def _member_name(names: list[str]) -> str:
    """``NAME``, or Kurator's ``karmada NAME`` (`kurator join karmada member1 ...`)."""
    from kurator.core.errors import InvalidInput

    if len(names) == 2 and names[0] == "karmada":
        return names[1]
    if len(names) == 1:
        return names[0]
    raise InvalidInput(
        f"`kurator join {' '.join(names)}` names {len(names)} clusters",
        "join one at a time: `kurator join NAME --cluster-kubeconfig FILE` (Kurator's `join karmada NAME`)",
    )


def join(
    ctx: typer.Context,
    names: list[str] = typer.Argument(
        ...,
        metavar="[karmada] NAME",
        parser=params.MEMBER_NAME,
        help="Name of the member in the fleet (Kurator's `karmada NAME` too).",
    ),
    cluster_kubeconfig: Path = typer.Option(..., "--cluster-kubeconfig", help="Kubeconfig of the member."),
    cluster_context: str = typer.Option(
        None, "--cluster-context", parser=params.CONTEXT_NAME, help="Context in that kubeconfig."
    ),
    wait_timeout: float = typer.Option(
        60.0, "--wait-timeout", parser=params.WAIT, help="Seconds to wait for the member to be Ready."
    ),
) -> None:
    """Join a member cluster to the fleet (push mode): checks it answers and the name is free first."""
    from kurator.core.errors import KuratorError
    from kurator.fleet import membership

    name = _member_name(names)
    karmada = karmada_client(ctx)
    membership.join(karmada, name, cluster_kubeconfig, cluster_context, timeout=wait_timeout)
    info = membership.wait_ready(karmada, name, wait_timeout)
    if not info.ready:
        raise KuratorError(
            f"cluster {name!r} is registered but not Ready after {wait_timeout:.0f}s",
            f"check that Karmada reaches {info.endpoint}; `kurator get clusters` shows its state",
        )
    console.print(
        f"cluster [bold]{name}[/] joined ({info.version}, {info.nodes_ready}/{info.nodes_total} nodes ready)"
    )


def unjoin(
    ctx: typer.Context,
    name: str = typer.Argument(..., parser=params.MEMBER_NAME, help="Name of the member in the fleet."),
    wait_timeout: float = typer.Option(
        60.0, "--wait-timeout", parser=params.WAIT, help="Seconds to wait for Karmada's cleanup."
    ),
    force: bool = typer.Option(False, "--force", help="Forget a member that cannot be reached."),
) -> None:
    """Remove a member from the fleet, and kurator's credentials from the member."""
    from kurator.cli.render import err_console
    from kurator.fleet import membership

    result = membership.unjoin(karmada_client(ctx), name, timeout=wait_timeout, force=force)
    if result.member_error:
        err_console.print(
            f"[yellow]![/] {result.member_error}; its objects were left in place", highlight=False
        )
    how = " (forced)" if result.forced else ""
    console.print(f"cluster [bold]{name}[/] unjoined{how}")


def _age(created: dt.datetime | None) -> str:
    if created is None:
        return "-"
    seconds = int((dt.datetime.now(dt.UTC) - created).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _metrics(api: Client) -> set[str] | None:
    """Members whose metrics reach the fleet's global view; ``None`` when the fleet has no monitoring or
    its Thanos Query does not answer (then the column shows "-", the listing itself still works)."""
    from kurator.core.errors import KuratorError
    from kurator.fleet import metrics
    from kurator.monitoring import query

    url = metrics.query_url(api)
    if url is None:
        return None
    try:
        tls = metrics.client_tls(api)
        return query.reporting(metrics.sender(timeout=2.0, tls=tls), url)
    except KuratorError:
        return None


@get_app.command("clusters")
def get_clusters(ctx: typer.Context, output: Output = OUTPUT_OPTION) -> None:
    """List the fleet's member clusters: version, mode, ready, nodes, whether each answers now and how old
    Karmada's status of it is, age, and whether metrics arrive."""
    from kurator.cli.fleet_access import karmada
    from kurator.cli.options import global_options
    from kurator.fleet import heartbeat, membership

    found = karmada(ctx)
    access = found.access
    api = access.client()
    infos = membership.list_clusters(api)
    heard = heartbeat.ask(
        access, [i.name for i in infos], min(heartbeat.PROBE_TIMEOUT, global_options(ctx).request_timeout)
    )
    metrics = _metrics(api)
    if not infos and output is Output.table:
        _no_members(found.fleet)
        return
    if output is not Output.table:
        emit([_cluster_data(i, heard[i.name], metrics) for i in infos], output)
        return
    from rich.markup import escape
    from rich.table import Table

    from kurator.cli.render import err_console

    table = Table(box=None, header_style="bold")
    for col in ("NAME", "VERSION", "MODE", "READY", "NODES", "ANSWERS", "STATUS AGE", "AGE", "METRICS"):
        table.add_column(col)
    for i in infos:
        answered = heard[i.name].answered
        nodes = "-" if i.nodes_total is None or not answered else f"{i.nodes_ready}/{i.nodes_total}"
        ready = ("True" if i.ready else "False") if answered else "[yellow]Unknown[/]"
        arrive = "-" if metrics is None else ("yes" if i.name in metrics else "no")
        row = (i.version or "-", i.mode, ready, nodes, "yes" if answered else "[red]no[/]")
        table.add_row(i.name, *row, _age(i.status_updated), _age(i.created), arrive)
    console.print(table)
    for i in infos:
        if error := heard[i.name].error:
            said = f"Ready {i.ready}, {i.nodes_ready}/{i.nodes_total} nodes, {_age(i.status_updated)} old"
            err_console.print(
                f"[yellow]![/] {escape(i.name)} does not answer through Karmada ({escape(error)}): "
                f"Karmada's status of it ({said}) is stale",
                highlight=False,
            )


def _cluster_data(i: Any, heard: Any, metrics: set[str] | None) -> dict[str, Any]:
    return {
        "name": i.name,
        "version": i.version,
        "mode": i.mode,
        "ready": i.ready and heard.answered,  # what Karmada says holds only while the member answers
        "karmadaReady": i.ready,
        "answers": heard.answered,
        "stale": not heard.answered,
        "error": heard.error or None,
        "statusUpdated": i.status_updated.isoformat() if i.status_updated else None,
        "nodesReady": i.nodes_ready,
        "nodes": i.nodes_total,
        "created": i.created.isoformat() if i.created else None,
        "endpoint": i.endpoint,
        "metrics": None if metrics is None else i.name in metrics,
    }


def _no_members(fleet: str) -> None:
    """An empty fleet: say so, and how to join (a local fleet's own members by name)."""
    from kurator.cli.render import err_console

    if fleet:
        flag = "" if fleet == "kurator" else f" --name {fleet}"
        how = f"kurator join member1 --cluster-kubeconfig $(kurator local kubeconfig member1{flag} --path)"
    else:
        how = "kurator join NAME --cluster-kubeconfig MEMBER_KUBECONFIG"
    message = f"no member clusters in the fleet yet; join one with:\n  {how}"
    err_console.print(message, highlight=False, soft_wrap=True)  # the command is copied: never wrapped


def register(app: typer.Typer) -> None:
    app.command("join")(join)
    app.command("unjoin")(unjoin)
    app.add_typer(get_app, name="get")
