"""The Karmada API server fleet commands talk to, found from the global --kubeconfig/--context even when
it names the fleet's host; when it names a member or another cluster, which context to use instead."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from kurator.cli.options import api_access

if TYPE_CHECKING:
    from kurator.fleet.locate import Found
    from kurator.kube.client import Access


def karmada(ctx: typer.Context) -> Found:
    from kurator.fleet import locate

    access = api_access(ctx)
    try:
        return locate.karmada(access)
    except locate.NotKarmada as exc:
        raise locate.NotKarmada(exc.message, which_context(access)) from None


def karmada_access(ctx: typer.Context) -> Access:
    return karmada(ctx).access


def which_context(access: Access) -> str:
    """What to use instead of a context that is not Karmada's: for a cluster of a local fleet, that fleet's
    Karmada context (or kubeconfig); for a context named like a fleet's, the ``-karmada`` one beside it;
    otherwise where Karmada's kubeconfig comes from."""
    from kurator.fleet.locate import context_of
    from kurator.kube import kubeconfig

    contexts = kubeconfig.context_names(access.data())
    if fleet := local_fleet_of(access):
        name, cluster = fleet
        if f"{name}-karmada" in contexts:
            return f"it is {cluster} of local fleet {name!r}: use --context {name}-karmada"
        flag = "" if name == "kurator" else f" --name {name}"
        return (
            f"it is {cluster} of local fleet {name!r}: use "
            f"--kubeconfig $(kurator local kubeconfig karmada{flag} --path)"
        )
    sibling = context_of(access).rsplit("-", 1)[0] + "-karmada"
    if sibling in contexts:
        return f"use --context {sibling}"
    return (
        "use the Karmada API server's context or kubeconfig (`kurator install karmada` against the host "
        "cluster prints its path)"
    )


def local_fleet_of(access: Access) -> tuple[str, str] | None:
    """(fleet, cluster) when ``access`` points at a cluster of a local fleet kept under ~/.kurator."""
    from kurator.core.errors import KuratorError
    from kurator.core.paths import kurator_home
    from kurator.local import config as fleet_config
    from kurator.local.layout import FleetLayout

    try:
        server = access.config().cluster.server.rstrip("/")
    except KuratorError:
        return None  # only a hint: an unreadable kubeconfig was reported already
    root = kurator_home() / "local"
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        try:
            cfg = fleet_config.load(FleetLayout(folder).config, "")
        except KuratorError:
            cfg = None  # a broken fleet folder is not this command's business
        for cluster in cfg.control_planes if cfg else []:
            if cfg is not None and cfg.server(cluster) == server:
                return cfg.name, cluster
    return None
