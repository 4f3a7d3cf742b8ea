"""``kurator install cluster-api [--infrastructure aws]`` and ``kurator uninstall cluster-api``: Cluster
API's managers (and CAPA's) on the host cluster of the global --kubeconfig/--context, through the install
engine's host placement, each component recorded on that host."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from kurator.cli.install_common import ARTIFACTS_DIR, DRY_RUN, WAIT_TIMEOUT, run_install, run_uninstall
from kurator.cli.options import OUTPUT_OPTION, Output, api_access
from kurator.cli.render import console, emit
from kurator.core.errors import InvalidInput

if TYPE_CHECKING:
    from kurator.fleet.component import Component
    from kurator.kube.client import Access, Client


class Infrastructure(StrEnum):
    aws = "aws"


INFRASTRUCTURE = typer.Option(
    None, "--infrastructure", help="An infrastructure provider too: aws (Cluster API Provider AWS)."
)


def _aws_credentials(path: Path | None) -> str | None:
    """CAPA's own credentials file (``[default]`` with aws_access_key_id ...), used by clusters that name
    no credentials of their own; checked for its shape, never printed."""
    if path is None:
        return None
    from kurator.core import inputs

    text = inputs.read_text(path, "--aws-credentials", 64 * 1024)
    if "aws_access_key_id" not in text or "aws_secret_access_key" not in text:
        raise InvalidInput(
            f"--aws-credentials {path} is not an AWS credentials file",
            "give one with a [default] profile holding aws_access_key_id and aws_secret_access_key",
        )
    return text


def _refuse_foreign(api: Client) -> None:
    """Cluster API installed by another tool (clusterctl) is left alone: two owners would fight."""
    from kurator.fleet.desired import COMPONENT_LABEL
    from kurator.kube import ops
    from kurator.kube.resources import CustomResourceDefinition

    crd = ops.get_or_none(api, CustomResourceDefinition, "clusters.cluster.x-k8s.io")
    labels = (crd.metadata.labels if crd and crd.metadata else None) or {}
    if (
        crd is not None
        and labels.get("cluster.x-k8s.io/provider")
        and labels.get(COMPONENT_LABEL) != "cluster-api"
    ):
        raise InvalidInput(
            "Cluster API is already installed on this cluster by another tool: nothing was changed",
            "manage it with that tool (clusterctl), or remove it first",
        )


def _steps(
    api: Client, infrastructure: Infrastructure | None, credentials: str | None
) -> list[tuple[Component, dict[str, Any]]]:
    from kurator.components import cluster_api_providers as cap

    comps = [cap.CLUSTER_API] + ([cap.INFRASTRUCTURES[infrastructure.value]] if infrastructure else [])
    steps = []
    for comp in comps:
        values: dict[str, Any] = {cap.WEBHOOKS_KEY: cap.webhook_certs(api, comp)}
        if comp is cap.CLUSTER_API_AWS:
            values[cap.CREDENTIALS_KEY] = credentials or cap.installed_credentials(api)
        steps.append((comp, values))
    return steps


def install_cluster_api(
    ctx: typer.Context,
    infrastructure: Infrastructure = INFRASTRUCTURE,
    aws_credentials: Path = typer.Option(
        None,
        "--aws-credentials",
        help="An AWS credentials file for CAPA's own identity (clusters may name their own instead).",
    ),
    dry_run: bool = DRY_RUN,
    output: Output = OUTPUT_OPTION,
    artifacts_dir: Path = ARTIFACTS_DIR,
    wait_timeout: float = WAIT_TIMEOUT,
) -> None:
    """Install Cluster API v1.13 (core, kubeadm bootstrap, kubeadm control plane) on the host cluster of
    --kubeconfig/--context, and with --infrastructure aws Cluster API Provider AWS v2.13: CRDs, RBAC, the
    managers' Deployments and their webhooks, with certificates kurator makes (no cert-manager needed)."""
    from kurator.components import cluster_api_providers as cap

    if aws_credentials is not None and infrastructure is not Infrastructure.aws:
        raise InvalidInput("--aws-credentials goes with --infrastructure aws")
    credentials = _aws_credentials(aws_credentials)
    host = api_access(ctx)
    api = host.client()
    _refuse_foreign(api)
    steps = _steps(api, infrastructure, credentials)
    if dry_run:
        _dry_run(host, steps, output, artifacts_dir=artifacts_dir, wait_timeout=wait_timeout)
        return
    from kurator.components import cluster_api

    cap.hand_over_crds(api, cluster_api.COMPONENT.name, cluster_api.CRD_NAMES)
    for comp, values in steps:  # Cluster API first: CAPA's objects refer to its kinds
        run_install(
            host,
            comp,
            dry_run=False,
            output=output,
            values=values,
            artifacts_dir=artifacts_dir,
            wait_timeout=wait_timeout,
        )


def _dry_run(
    access: Access, steps: list[tuple[Component, dict[str, Any]]], output: Output, **kw: Any
) -> None:
    from kurator.cli.plans import show_plan
    from kurator.fleet import engine

    plans = [engine.make_plan(engine.Request(access=access, component=c, values=v, **kw)) for c, v in steps]
    if output is Output.table:
        for plan in plans:
            show_plan(plan)
    else:
        emit([p.to_json() for p in plans], output)


def uninstall_cluster_api(
    ctx: typer.Context,
    dry_run: bool = DRY_RUN,
    output: Output = OUTPUT_OPTION,
    wait_timeout: float = WAIT_TIMEOUT,
) -> None:
    """Remove Cluster API (and CAPA) from the host cluster: refused while any Cluster API Cluster exists
    (removing the controllers and CRDs would strand its machines on the cloud)."""
    from kurator.components import cluster_api
    from kurator.components import cluster_api_providers as cap
    from kurator.fleet import record

    host = api_access(ctx)
    api = host.client()
    if clusters := [o for o in cluster_api.objects(api) if o.startswith("Cluster ")]:
        shown = ", ".join(c.removeprefix("Cluster ") for c in clusters[:5])
        raise InvalidInput(
            f"Cluster API Clusters exist ({shown}): nothing was removed, since without the controllers their "
            "machines and load balancers would stay on the cloud",
            "delete them first (`kubectl delete clusters.cluster.x-k8s.io --all -A`), then uninstall",
        )
    for comp in (cap.CLUSTER_API_AWS, cap.CLUSTER_API):
        if record.load(api, comp.name) is not None:
            run_uninstall(host, comp.name, dry_run=dry_run, output=output, wait_timeout=wait_timeout)
        else:
            console.print(f"{comp.name} is not installed on the host", highlight=False)


def register(install_app: typer.Typer, uninstall_app: typer.Typer) -> None:
    install_app.command("cluster-api")(install_cluster_api)
    uninstall_app.command("cluster-api")(uninstall_cluster_api)
