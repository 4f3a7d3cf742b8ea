"""``kurator install volcano`` and ``kurator install pixie vizier`` (and their uninstall): fleet components
whose install takes options of its own, through the install engine."""

from __future__ import annotations

from pathlib import Path

import typer

from kurator.cli import params
from kurator.cli.fleet_access import karmada_access
from kurator.cli.install_common import (
    ARTIFACTS_DIR,
    CLUSTERS,
    DRY_RUN,
    WAIT_TIMEOUT,
    run_install,
    split_clusters,
    uninstall_command,
)
from kurator.cli.options import OUTPUT_OPTION, Output
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

    access = karmada_access(ctx)
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


uninstall_volcano = uninstall_command(
    "volcano",
    "Remove Volcano from Karmada and every member it was installed on (its CRDs, and so its objects).",
    karmada_access,
)


pixie_install = typer.Typer(help="Pixie (eBPF application monitoring).", no_args_is_help=True)
pixie_uninstall = typer.Typer(help="Pixie (eBPF application monitoring).", no_args_is_help=True)


@pixie_install.command("vizier")
def install_pixie_vizier(
    ctx: typer.Context,
    deploy_key: str = typer.Option(
        None,
        "--deploy-key",
        envvar="PX_DEPLOY_KEY",
        show_default=False,
        help="Pixie Cloud deploy key (also $PX_DEPLOY_KEY; --deploy-key-file keeps it out of `ps`).",
    ),
    deploy_key_file: Path = typer.Option(None, "--deploy-key-file", help="File holding the deploy key."),
    cloud_addr: str = typer.Option(
        "withpixie.ai:443",
        "--cloud-addr",
        parser=params.ADDRESS,
        help="Pixie Cloud's address (host:port), for a self-hosted cloud.",
    ),
    px_namespace: str = typer.Option(
        "px", "--px-namespace", parser=params.NAMESPACE, help="Vizier's namespace."
    ),
    chart: Path = typer.Option(
        None,
        "--chart",
        help="Pixie's operator chart from this folder or archive instead of the pinned release (not pinned: "
        "its sha256 is shown).",
    ),
    clusters: str = CLUSTERS,
    dry_run: bool = DRY_RUN,
    output: Output = OUTPUT_OPTION,
    artifacts_dir: Path = ARTIFACTS_DIR,
    wait_timeout: float = WAIT_TIMEOUT,
) -> None:
    """Install Pixie's Vizier on the chosen members (all joined ones when none are named) through Pixie's
    operator chart, each Vizier named after its member. The deploy key is kept only in a Secret."""
    from kurator.components import pixie
    from kurator.core.errors import InvalidInput
    from kurator.fleet import targets

    if deploy_key and deploy_key_file:
        raise InvalidInput("give the deploy key once: --deploy-key (or PX_DEPLOY_KEY) or --deploy-key-file")
    if deploy_key_file is not None:
        key = pixie.check_key(pixie.read_key_file(deploy_key_file), str(deploy_key_file))
    else:
        key = pixie.check_key(deploy_key, "--deploy-key or PX_DEPLOY_KEY")
    comp = pixie.component(key, pixie.check_cloud(cloud_addr), px_namespace, chart)
    if chart is not None:
        err_console.print(
            f"[yellow]![/] Pixie's operator chart from {chart} (sha256 {comp.artifact.sha256}), not the "
            f"pinned release {pixie.VERSION}",
            highlight=False,
        )
    access = karmada_access(ctx)
    members = targets.choose(access.client(), split_clusters(clusters))
    run_install(
        access,
        comp,
        dry_run=dry_run,
        output=output,
        clusters=members,
        artifacts_dir=artifacts_dir,
        wait_timeout=wait_timeout,
    )


uninstall_pixie_vizier = pixie_uninstall.command("vizier")(
    uninstall_command(
        "pixie",
        "Remove Pixie (Vizier, its operator, OLM and the deploy-key Secret) from Karmada and every member.",
        karmada_access,
    )
)


def register(install_app: typer.Typer, uninstall_app: typer.Typer) -> None:
    install_app.command("volcano")(install_volcano)
    uninstall_app.command("volcano")(uninstall_volcano)
    install_app.add_typer(pixie_install, name="pixie")
    uninstall_app.add_typer(pixie_uninstall, name="pixie")
