"""Options every command shares, kept on the Typer context."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import typer


@dataclass
class GlobalOptions:
    kubeconfig: str | None = None
    context: str | None = None
    verbose: bool = False


class Output(StrEnum):
    table = "table"
    json = "json"
    yaml = "yaml"


def global_options(ctx: typer.Context) -> GlobalOptions:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, GlobalOptions) else GlobalOptions()


OUTPUT_OPTION = typer.Option(Output.table, "--output", "-o", help="Output format.")
