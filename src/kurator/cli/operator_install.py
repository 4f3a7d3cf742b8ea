"""``kurator install cluster-operator`` and ``kurator uninstall cluster-operator``: the cluster operator on
host cluster of the global --kubeconfig/--context (no Karmada needed), through the install engine's host
placement: first the Cluster API CRDs it reads, then its chart, each recorded on that host."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from kurator.cli.install_common import (
    ARTIFACTS_DIR,
    DRY_RUN,
    RESET_VALUES,
    WAIT_TIMEOUT,
    parse_sets,
    run_install,
    run_uninstall,
)
from kurator.cli.options import OUTPUT_OPTION, Output, api_access
from kurator.cli.render import console, emit, err_console
from kurator.core.errors import InvalidInput

if TYPE_CHECKING:
    from kurator.fleet.component import Component
    from kurator.kube.client import Access

FLEETS = typer.Option(
    [],
    "--fleet",
    help="NAME=KARMADA_KUBECONFIG: register a fleet CustomClusters can join (spec.fleet: NAME); repeatable. "
    "Fleets registered before stay registered.",
)


def _dry_run(
    access: Access, steps: list[tuple[Component, dict[str, Any]]], output: Output, **kw: Any
) -> None:
    """Every component's plan (one JSON or YAML list of them), nothing written."""
    from kurator.cli.plans import show_plan
    from kurator.fleet import engine

    plans = [
        engine.make_plan(engine.Request(access=access, component=comp, values=values, **kw))
        for comp, values in steps
    ]
    if output is Output.table:
        for plan in plans:
            show_plan(plan)
    else:
        emit([p.to_json() for p in plans], output)
    for plan in plans:
        plan.check()


def install_cluster_operator(
    ctx: typer.Context,
    fleets: list[str] = FLEETS,
    set_values: list[str] = typer.Option(
        [],
        "--set",
        help="Chart value key=value, e.g. replicas=1, image.repository=REPO (repeatable); kept for later "
        "runs, which may override them.",
    ),
    reset_values: bool = RESET_VALUES,
    dry_run: bool = DRY_RUN,
    output: Output = OUTPUT_OPTION,
    artifacts_dir: Path = ARTIFACTS_DIR,
    wait_timeout: float = WAIT_TIMEOUT,
) -> None:
    """Install the cluster operator on the host cluster of --kubeconfig/--context: the Cluster API CRDs it
    reads, our CRDs, its RBAC and its Deployment (leader-elected replicas), and the fleets it joins
    clusters to."""
    from kurator.components import cluster_api, cluster_operator

    given = cluster_operator.parse_fleets(fleets)
    texts = {name: cluster_operator.fleet_kubeconfig(name, path) for name, path in given.items()}
    values = parse_sets(set_values)
    host = api_access(ctx)
    api = host.client()
    chart = cluster_operator.component({**cluster_operator.registered_fleets(api), **texts})
    if "capaNamespace" not in values and (capa := cluster_operator.capa_namespace(api)):
        values["capaNamespace"] = capa  # CAPA runs here: the operator serves AWS Clusters
    steps: list[tuple[Component, dict[str, Any]]] = [(chart, values)]
    if foreign := cluster_api.foreign(api):
        err_console.print(
            f"Cluster API CRDs not installed by kurator are in the cluster ({', '.join(foreign)}): "
            "left as they are",
            highlight=False,
        )
    else:
        steps.insert(0, (cluster_api.COMPONENT, {}))
    if dry_run:
        kw = {"artifacts_dir": artifacts_dir, "wait_timeout": wait_timeout, "reset_values": reset_values}
        _dry_run(host, steps, output, **kw)
        return
    for comp, comp_values in steps:  # the Cluster API CRDs first: the operator watches them from its start
        run_install(
            host,
            comp,
            dry_run=False,
            output=output,
            values=comp_values,
            artifacts_dir=artifacts_dir,
            wait_timeout=wait_timeout,
            reset_values=reset_values,
        )
    console.print(f"fleets registered: {', '.join(chart.values['fleets']) or 'none'}", highlight=False)


def uninstall_cluster_operator(
    ctx: typer.Context,
    cluster_api_crds: bool = typer.Option(
        False,
        "--cluster-api-crds",
        help="Remove the Cluster API CRDs too (kept by default: other tools may use them).",
    ),
    dry_run: bool = DRY_RUN,
    output: Output = OUTPUT_OPTION,
    wait_timeout: float = WAIT_TIMEOUT,
) -> None:
    """Remove the cluster operator from the host cluster: refused while any CustomCluster exists (delete
    them first, so the operator resets their hosts)."""
    from kurator.components import cluster_api, cluster_operator
    from kurator.fleet import record

    host = api_access(ctx)
    api = host.client()
    if clusters := cluster_operator.custom_clusters(api):
        shown = ", ".join(clusters[:5]) + (f" and {len(clusters) - 5} more" if len(clusters) > 5 else "")
        raise InvalidInput(
            f"CustomClusters exist ({shown}): nothing was removed, since removing the operator's CRDs would "
            "delete them without resetting their hosts",
            "delete them first (`kubectl delete customclusters --all -A`, with the operator running), "
            "then uninstall",
        )
    if cluster_api_crds and (capi := cluster_api.objects(api)):
        raise InvalidInput(
            f"Cluster API objects exist ({', '.join(capi[:5])}): nothing was removed, since removing "
            "their CRDs would delete them",
            "delete them first, or uninstall without --cluster-api-crds",
        )
    run_uninstall(
        host, cluster_operator.COMPONENT.name, dry_run=dry_run, output=output, wait_timeout=wait_timeout
    )
    if cluster_api_crds:
        run_uninstall(
            host, cluster_api.COMPONENT.name, dry_run=dry_run, output=output, wait_timeout=wait_timeout
        )
    elif record.load(api, cluster_api.COMPONENT.name) is not None and not dry_run:
        console.print(
            "the Cluster API CRDs stay (other tools may use them); "
            "`kurator uninstall cluster-operator --cluster-api-crds` removes them",
            highlight=False,
        )


def register(install_app: typer.Typer, uninstall_app: typer.Typer) -> None:
    install_app.command("cluster-operator")(install_cluster_operator)
    uninstall_app.command("cluster-operator")(uninstall_cluster_operator)
