"""``kurator local status`` for people (a table that fits 80 columns; ``-o wide`` adds every process) and
for programs (JSON, YAML)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from kurator.cli.render import console, up_down

if TYPE_CHECKING:
    from kurator.local.status import ClusterStatus, FleetStatus


class StatusOutput(StrEnum):
    table = "table"
    wide = "wide"
    json = "json"
    yaml = "yaml"


def processes_summary(c: ClusterStatus) -> str:
    """``4/4 up``, or which ones are down (``3/4 up, down: kwok``), or how many when that is too long."""
    up = sum(c.processes.values())
    down = [name.removeprefix("kube-") for name, alive in c.processes.items() if not alive]
    if not down:
        return f"{up}/{len(c.processes)} up"
    names = f"down: {', '.join(down)}"
    return f"[red]{up}/{len(c.processes)} up[/], " + (
        names if len(names) <= 20 else f"{len(down)} down (-o wide)"
    )


def data(st: FleetStatus) -> dict[str, Any]:
    return {
        "name": st.name,
        "home": str(st.home),
        "network": st.network,
        "kubeconfig": str(st.kubeconfig),
        "healthy": st.healthy,
        "etcd": "up" if st.etcd_up else "down",
        "rssBytes": st.rss_bytes,
        **(
            {"awsStandIn": {"endpoint": st.aws_standin, "adminKeyFile": str(st.aws_admin_key)}}
            if st.aws_standin
            else {}
        ),
        "clusters": [
            {
                "name": c.name,
                "endpoint": c.endpoint,
                "version": c.version,
                "nodesReady": c.nodes_ready,
                "nodes": c.nodes_total,
                "processes": {k: "up" if v else "down" for k, v in c.processes.items()},
            }
            for c in st.clusters
        ],
    }


def show(st: FleetStatus, wide: bool = False, out: Console | None = None) -> None:
    """One row per cluster with its processes counted; ``wide`` lists every process after it."""
    out = out or console
    table = Table(title=f"fleet {st.name} ({st.network})", title_justify="left", box=None)
    rows = [
        (
            c.name,
            c.endpoint,
            c.version or "-",
            "-" if c.nodes_total is None else f"{c.nodes_ready}/{c.nodes_total}",
        )
        for c in st.clusters
    ]
    for i, col in enumerate(("CLUSTER", "API ENDPOINT", "VERSION", "NODES")):
        # Never squeezed: only the processes' summary gives way (to an ellipsis) on a narrow screen.
        table.add_column(col, no_wrap=True, min_width=max(len(col), *(len(r[i]) for r in rows)))
    table.add_column("PROCESSES", no_wrap=True, overflow="ellipsis")
    for row, c in zip(rows, st.clusters, strict=True):
        table.add_row(*row, processes_summary(c))
    out.print(table)
    if wide:
        procs = Table(box=None)
        for col in ("CLUSTER", "PROCESS", "STATE"):
            procs.add_column(col, no_wrap=True)
        for c in st.clusters:
            for name, alive in c.processes.items():
                procs.add_row(c.name, name, up_down(alive))
        out.print()
        out.print(procs)
    running = sum(sum(c.processes.values()) for c in st.clusters)
    total = sum(len(c.processes) for c in st.clusters)
    counted = f"{running}/{total} processes up"
    counted = counted if running == total else f"[red]{counted}[/]"
    memory = f"memory {st.rss_bytes / 2**30:.2f} GiB"
    out.print(f"etcd {up_down(st.etcd_up)} · {counted} · {memory}", highlight=False)
    out.print(f"kubeconfig {st.kubeconfig}", highlight=False, soft_wrap=True)
    if st.aws_standin:
        out.print(f"AWS stand-in (moto) {st.aws_standin}", highlight=False, soft_wrap=True)
        out.print(f"its admin's key {st.aws_admin_key}", highlight=False, soft_wrap=True)
