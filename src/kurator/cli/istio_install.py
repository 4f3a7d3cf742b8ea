"""``kurator install istio`` and ``kurator uninstall istio``: a multi-cluster Istio mesh (primary-remote)
through the install engine, with Kurator's flags: ``--primary``, ``--remote``, ``-f``, ``--set``,
``--cacert``. Every check (the clusters, their networks, the IstioOperator input, the CA files) runs before
the first write.

A first install runs in passes: the remotes' configuration needs the address where they reach istiod (the
primary's east-west gateway, or ``--remote-pilot-address``); a remote's reader token Secret can only be made
once its reader account is there (a cluster's token controller deletes a token Secret of a missing account),
and its remote secret only once that token is filled in. Each pass applies what can be rendered so far. A
re-run finds everything at once and is one pass (writing nothing when nothing changed).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from kurator.cli import params
from kurator.cli.install_common import ARTIFACTS_DIR, DRY_RUN, WAIT_TIMEOUT, run_install, run_uninstall
from kurator.cli.options import OUTPUT_OPTION, Output, api_access
from kurator.cli.render import console, err_console
from kurator.core.errors import InvalidInput

if TYPE_CHECKING:
    from kurator.components.istio import Mesh

PRIMARY = typer.Option(
    ..., "--primary", parser=params.MEMBER_NAME, help="The cluster where istiod runs (a joined member)."
)
REMOTES = typer.Option(
    [],
    "--remote",
    parser=params.MEMBERS,
    help="Remote clusters, configured against the primary's istiod: a,b or repeated.",
)
FILES = typer.Option([], "-f", "--filename", help="IstioOperator file (repeatable; overlaid left to right).")
SETS = typer.Option(
    [],
    "--set",
    "-s",
    help="IstioOperator path=value, e.g. meshConfig.accessLogFile=/dev/stdout (repeatable).",
)
CACERT = typer.Option(
    None,
    "--cacert",
    help="Folder of the mesh's CA: ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem "
    "(default: a root made and kept by kurator).",
)
PILOT_ADDRESS = typer.Option(
    None,
    "--remote-pilot-address",
    parser=params.HOST,
    help="Where remotes reach istiod (default: the primary east-west gateway's load-balancer address).",
)


def _remotes(given: list[str]) -> list[str]:
    return [r for item in given for r in item.split(",") if r]


def _later(mesh: Mesh) -> str:
    """What a first install adds in its later passes (empty when nothing waits)."""
    parts = []
    if mesh.remotes and mesh.pilot_address is None:
        parts.append("each remote's istiod Service, once the primary's east-west gateway has its address")
    if missing := [r for r in mesh.remotes if r not in mesh.readers]:
        parts.append(
            f"the reader token Secret of {', '.join(missing)} once its account is there, then its remote "
            f"secret on {mesh.primary} once the token is filled in"
        )
    return "; ".join(parts)


def install_istio(
    ctx: typer.Context,
    primary: str = PRIMARY,
    remotes: list[str] = REMOTES,
    files: list[Path] = FILES,
    sets: list[str] = SETS,
    cacert: Path = CACERT,
    remote_pilot_address: str = PILOT_ADDRESS,
    dry_run: bool = DRY_RUN,
    output: Output = OUTPUT_OPTION,
    artifacts_dir: Path = ARTIFACTS_DIR,
    wait_timeout: float = WAIT_TIMEOUT,
) -> None:
    """Install Istio across clusters (primary-remote): istiod on --primary, each --remote configured
    against it with its remote secret on the primary, one root of trust, networks from the Karmada Cluster
    label topology.istio.io/network, east-west gateways across networks; Istio's CRDs on Karmada, Istio
    resources created there propagated to the primary."""
    from kurator.components import istio
    from kurator.components.istio import mesh as istio_mesh

    karmada = api_access(ctx)
    mesh, found = istio_mesh.discover(
        karmada, primary, _remotes(remotes), files, sets, cacert, remote_pilot_address
    )

    def apply(mesh: Mesh, dry: bool = False) -> None:
        run_install(
            karmada,
            istio.component(mesh),
            dry_run=dry,
            output=output,
            clusters=mesh.clusters,
            artifacts_dir=artifacts_dir,
            wait_timeout=wait_timeout,
            # Healthy (istiod serving every cluster) is waited for once the mesh is complete: before, the
            # remotes have no remote secret, so istiod cannot reach them (nor patch their webhooks).
            wait_healthy=mesh.complete,
        )

    if dry_run:
        apply(mesh, dry=True)
        if (later := _later(mesh)) and output is Output.table:
            console.print(f"later passes add: {later}", highlight=False)
        return
    apply(mesh)

    def waiting(what: str) -> None:
        err_console.print(f"waiting for the {what}", highlight=False)

    while not mesh.complete:  # at most three passes on a first install (see the module)
        mesh = istio_mesh.advance(karmada, mesh, found, wait_timeout, waiting)
        apply(mesh)
    if output is Output.table:
        names = ", ".join(mesh.remotes) or "none"
        where = f" (they reach istiod at {mesh.pilot_address})" if mesh.remotes else ""
        console.print(
            f"mesh {mesh.mesh_id}: istiod on {mesh.primary}, remotes {names}{where}", highlight=False
        )


def uninstall_istio(
    ctx: typer.Context,
    dry_run: bool = DRY_RUN,
    output: Output = OUTPUT_OPTION,
    wait_timeout: float = WAIT_TIMEOUT,
) -> None:
    """Remove Istio from Karmada and every cluster of the mesh: refused while Istio resources that kurator
    did not make exist on Karmada (removing the CRDs would delete them)."""
    from kurator.components import istio
    from kurator.components.istio import mesh as istio_mesh

    karmada = api_access(ctx)
    if others := istio_mesh.user_resources(karmada.client()):
        shown = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
        raise InvalidInput(
            f"Istio resources that kurator did not make are on Karmada ({shown}): nothing was removed, "
            "since removing Istio's CRDs would delete them",
            "delete them first (they are your mesh's configuration), then uninstall",
        )
    run_uninstall(karmada, istio.COMPONENT.name, dry_run=dry_run, output=output, wait_timeout=wait_timeout)


def register(install_app: typer.Typer, uninstall_app: typer.Typer) -> None:
    install_app.command("istio")(install_istio)
    uninstall_app.command("istio")(uninstall_istio)
