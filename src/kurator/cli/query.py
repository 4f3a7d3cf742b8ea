"""``kurator query``: PromQL over the whole fleet through Thanos Query, one row per series."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console

from kurator.cli import params
from kurator.cli.fleet_access import karmada_access
from kurator.cli.options import OUTPUT_OPTION, Output, api_access
from kurator.cli.render import console, emit


def query(
    ctx: typer.Context,
    promql: str = typer.Argument(
        ..., metavar="PROMQL", help="The PromQL expression, e.g. 'up' or 'sum by (cluster) (up)'."
    ),
    range_: str = typer.Option(
        None, "--range", parser=params.RANGE, help="Query over the last duration (30s, 15m, 1h, 7d)."
    ),
    step: str = typer.Option(
        None, "--step", parser=params.RANGE, help="Resolution of a --range query (default: range / 60)."
    ),
    url: str = typer.Option(
        None,
        "--url",
        parser=params.URL,
        help="Thanos Query's address (default: as recorded on the fleet's Karmada).",
    ),
    no_dedup: bool = typer.Option(False, "--no-dedup", help="Show each Prometheus replica's series."),
    output: Output = OUTPUT_OPTION,
) -> None:
    """Query the fleet's metrics (every member, history included) through its global view."""
    from kurator.core.errors import InvalidInput, KuratorError
    from kurator.fleet import metrics
    from kurator.monitoring import query as q

    seconds = q.parse_duration(range_, "--range") if range_ else None
    step_s = q.parse_duration(step, "--step") if step else None
    if step_s and not seconds:
        raise InvalidInput("--step needs --range")
    if not promql.strip():
        raise InvalidInput("the query is empty")
    access = karmada_access(ctx) if url is None else api_access(ctx)
    if url is None:
        url = metrics.query_url(access.client())
        if url is None:
            raise KuratorError(
                "no Thanos Query is recorded for this fleet",
                "install it (`kurator install thanos`), run a local fleet with monitoring, or pass --url",
            )
    # The client certificate a recorded Thanos Query asks for (also for an https --url, e.g. its address).
    tls = metrics.client_tls(access.client()) if url.startswith("https://") else None
    dedup = not no_dedup
    get = metrics.sender(access.timeout, tls)
    rows = (
        q.over_range(get, url, promql, seconds, step_s, dedup=dedup)
        if seconds
        else q.instant(get, url, promql, dedup=dedup)
    )
    if output is not Output.table:
        data: list[dict[str, Any]] = [
            {"labels": s.labels, "samples": [[t, v] for t, v in s.samples]} for s in rows
        ]
        emit(data, output)
        return
    _table(rows, ranged=bool(seconds))


def _table(rows: list[Any], ranged: bool, out: Console | None = None) -> None:
    """One row per series: its labels, then its value (instant) or, over a range, a sparkline of its
    values with their lowest, highest and last."""
    from rich.table import Table

    from kurator.cli.sparkline import compact, number, sparkline
    from kurator.monitoring.query import CLUSTER_LABEL

    out = out or console
    if not rows:
        out.print("no series")
        return
    names = sorted({k for s in rows for k in s.labels if k not in (CLUSTER_LABEL, "__name__")})
    table = Table(box=None, header_style="bold")
    for col in ("CLUSTER", "METRIC", *(n.upper() for n in names)):
        table.add_column(col)
    if ranged:
        table.add_column("OVER TIME", no_wrap=True)
        for col in ("MIN", "MAX", "LAST"):
            table.add_column(col, justify="right", no_wrap=True)
    else:
        table.add_column("VALUE", justify="right", no_wrap=True)
    for s in sorted(rows, key=lambda s: (s.cluster, sorted(s.labels.items()))):
        cells = [s.cluster or "-", s.labels.get("__name__", "-"), *(s.labels.get(n, "") for n in names)]
        values = [number(v) for _, v in s.samples]
        if ranged:
            finite = [v for v in values if v == v] or [float("nan")]
            last = compact(values[-1]) if values else "-"
            cells += [sparkline(values), compact(min(finite)), compact(max(finite)), last]
        else:
            cells.append(s.samples[0][1] if s.samples else "-")
        table.add_row(*cells)
    out.print(table)


def register(app: typer.Typer) -> None:
    app.command("query")(query)
