"""``kurator install volcano`` (and its uninstall): fleet components whose install takes options of its
own, through the install engine."""

from __future__ import annotations

from pathlib import Path

import typer

from kurator.cli.install import (
    ARTIFACTS_DIR,
    CLUSTERS,
    DRY_RUN,
    WAIT_TIMEOUT,
    run_install,
    run_uninstall,
    split_clusters,
)
from kurator.cli.options import OUTPUT_OPTION, Output, api_access
from kurator.cli.render import err_console
from kurator.components.volcano import Admission


def install_volcano(
    ctx: typer.Context,
    clusters: str = CLUSTERS,
    admission: Admission = typer.Option(
        Admission.auto,
        "--admission",
        help="Register Volcano's admission webhooks: on, off, or auto (off where every node is a fake kwok "
        "node, on elsewhere).",
    ),
    dry_run: bool = DRY_RUN,
    output: Output = OUTPUT_OPTION,
    artifacts_dir: Path = ARTIFACTS_DIR,
    wait_timeout: float = WAIT_TIMEOUT,
) -> None:
    """Install Volcano (batch scheduling: scheduler, controllers, admission webhooks) on the chosen members
    (all joined ones when none are named), from the pinned release's installer manifest."""
    from kurator.components import volcano
    from kurator.fleet import targets

    access = api_access(ctx)
    members = targets.choose(access.client(), split_clusters(clusters))
    fake = volcano.fake_members(access, members) if admission is not Admission.off else []
    register, note = volcano.decide(admission, members, fake)
    if note:
        err_console.print(f"[yellow]![/] {note}", highlight=False)
    run_install(
        access,
        volcano.component(register),
        dry_run=dry_run,
        output=output,
        clusters=members,
        artifacts_dir=artifacts_dir,
        wait_timeout=wait_timeout,
    )


def uninstall_volcano(
    ctx: typer.Context,
    dry_run: bool = DRY_RUN,
    output: Output = OUTPUT_OPTION,
    wait_timeout: float = WAIT_TIMEOUT,
) -> None:
    """Remove Volcano from Karmada and every member it was installed on (its CRDs, and so its objects)."""
    run_uninstall(api_access(ctx), "volcano", dry_run=dry_run, output=output, wait_timeout=wait_timeout)


def register(install_app: typer.Typer, uninstall_app: typer.Typer) -> None:
    install_app.command("volcano")(install_volcano)
    uninstall_app.command("volcano")(uninstall_volcano)
