"""Options every command shares, kept on the Typer context."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from kurator.kube.client import Access


class Output(StrEnum):
    table = "table"
    json = "json"
    yaml = "yaml"


@dataclass
class GlobalOptions:
    kubeconfig: str | None = None
    context: str | None = None
    verbose: bool = False
    output: Output | None = None
    """``-o`` before the sub-command (see kurator.cli.placement)."""


def global_options(ctx: typer.Context) -> GlobalOptions:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, GlobalOptions) else GlobalOptions()


def api_access(ctx: typer.Context) -> Access:
    """The API server of the global --kubeconfig/--context (then $KUBECONFIG, ~/.kube/config)."""
    from kurator.kube import kubeconfig
    from kurator.kube.client import Access

    opts = global_options(ctx)
    return Access(kubeconfig.default_path(opts.kubeconfig), opts.context)


OUTPUT_OPTION = typer.Option(Output.table, "--output", "-o", help="Output format.")
