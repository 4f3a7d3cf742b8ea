"""Options every command shares, kept on the Typer context."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

import typer

from kurator.core.errors import InvalidInput, shown

if TYPE_CHECKING:
    from kurator.kube.client import Access

REQUEST_TIMEOUT = "30s"  # kurator.kube.deadline.DEFAULT_REQUEST_TIMEOUT (not imported: httpx is slow to load)
REQUEST_TIMEOUT_MAX = 24 * 3600.0
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_request_timeout(text: str) -> float:
    """kubectl's ``--request-timeout``: seconds as a plain number, or a duration such as ``30s``, ``2m``,
    ``1m30s``, ``500ms``; it must be positive and at most a day (every request keeps a deadline)."""
    value = text
    seconds: float | None = None
    if re.fullmatch(r"\d+(?:\.\d+)?", value):
        seconds = float(value)
    elif value and re.fullmatch(f"(?:{_DURATION_PART.pattern})+", value):
        seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(value))
    if seconds is None or not math.isfinite(seconds) or not 0 < seconds <= REQUEST_TIMEOUT_MAX:
        raise InvalidInput(f"{shown(text)} is not a duration such as 30s, 2m or 1m30s (above 0, at most 24h)")
    return seconds


class Output(StrEnum):
    table = "table"
    json = "json"
    yaml = "yaml"


@dataclass
class GlobalOptions:
    kubeconfig: str | None = None  # --kubeconfig only; $KUBECONFIG is read where the files are resolved
    context: str | None = None
    verbose: bool = False
    output: Output | None = None
    """``-o`` before the sub-command (see kurator.cli.placement)."""
    request_timeout: float = 30.0
    """--request-timeout in seconds: the overall deadline of every request."""


def global_options(ctx: typer.Context) -> GlobalOptions:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, GlobalOptions) else GlobalOptions()


def api_access(ctx: typer.Context) -> Access:
    """The API server of the global --kubeconfig/--context (then $KUBECONFIG, ~/.kube/config), each request
    bounded by --request-timeout."""
    from kurator.kube.client import Access

    opts = global_options(ctx)
    return Access.resolve(opts.kubeconfig, opts.context, opts.request_timeout)


OUTPUT_OPTION = typer.Option(Output.table, "--output", "-o", help="Output format.")
