"""``kurator cluster plan``: what the cluster operator would do with edited CustomCluster / CustomMachine
files, before they are applied (nothing is written)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from kurator.cli import params
from kurator.cli.options import OUTPUT_OPTION, Output, api_access

if TYPE_CHECKING:
    from kurator.lifecycle.plan import ClusterPlan

app = typer.Typer(help="Clusters the cluster operator builds on your own machines.", no_args_is_help=True)


@app.command("plan")
def plan_cmd(
    ctx: typer.Context,
    files: list[Path] = typer.Option(
        ..., "--filename", "-f", help="CustomCluster / CustomMachine manifests (repeat; '-' for stdin)."
    ),
    namespace: str = typer.Option(
        "default", "--namespace", "-n", parser=params.NAMESPACE, help="For objects that name no namespace."
    ),
    retries: int = typer.Option(
        3, "--retries", parser=params.integer(0, 20), help="The operator's --retries."
    ),
    output: Output = OUTPUT_OPTION,
) -> None:
    """Show the operator's next steps for the files' clusters (create, scale, upgrade: which playbook, which
    hosts, which Job), checked by the API server in a dry run. Nothing is written."""
    import sys

    from kurator.core import inputs

    texts = []  # read first: a file too large or not text is refused before the slower imports below
    for f in files:
        if str(f) == "-":
            texts.append(("standard input", inputs.read_stream(sys.stdin.buffer, "standard input")))
        else:
            texts.append((f"plan file {f}", inputs.read_text(f, "plan file")))
    from kurator.lifecycle.actions import Policy
    from kurator.lifecycle.plan import read_documents
    from kurator.operator import planning

    docs = read_documents(texts)
    api = api_access(ctx).client(timeout=30)
    plans = planning.plan(api, docs, namespace, Policy(retries=retries))
    if output is Output.table:
        for p in plans:
            _show(p)
    else:
        from kurator.cli.render import emit

        emit([_data(p) for p in plans], output)


def _data(p: ClusterPlan) -> dict[str, Any]:
    return {
        "namespace": p.namespace,
        "name": p.name,
        "exists": p.exists,
        "changes": list(p.changes),
        "steps": [
            {k: v for k, v in vars(s).items() if v not in (None, (), "")} | {"hosts": list(s.hosts)}
            for s in p.steps
        ],
    }


def _show(p: ClusterPlan) -> None:
    from rich.markup import escape

    from kurator.cli.render import console

    what = "change" if p.exists else "create"
    console.print(
        f"[bold]plan: {what} CustomCluster {p.namespace}/{p.name}[/] (dry run: nothing was written)"
    )
    for change in p.changes or ("no spec change",):
        console.print(f"  ~ {escape(change)}", highlight=False)
    for i, s in enumerate(p.steps, 1):
        hosts = f" for {', '.join(s.hosts)}" if s.hosts else ""
        if s.kind == "preflight":
            line = f"SSH preflight{hosts} (assumed to pass: the operator checks before any playbook)"
        elif s.playbook:
            version = f" to {s.version}" if s.kind == "upgrade" and s.version else ""
            line = f"{s.kind}{version}: Job {s.job} runs {s.playbook}{hosts}"
        else:
            line = f"{s.kind} ({s.reason}): {s.message}"
        console.print(f"  {i}. {escape(line)}", highlight=False)
