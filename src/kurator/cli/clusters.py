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
    from kurator.operator.aws.planning import AwsPlan

app = typer.Typer(
    help="Clusters the cluster operator builds: on your own machines, or on AWS.", no_args_is_help=True
)


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
    capa_namespace: str = typer.Option(
        "capa-system", "--capa-namespace", parser=params.NAMESPACE, help="The operator's --capa-namespace."
    ),
    output: Output = OUTPUT_OPTION,
) -> None:
    """Show the operator's next steps for the files' clusters (CustomClusters: which playbook, which hosts,
    which Job; AWS Clusters: which Cluster API and CAPA objects are made, changed or deleted), checked by
    the API server in a dry run. Nothing is written."""
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
    for doc in docs:
        doc.setdefault("metadata", {}).setdefault("namespace", namespace)
    api = api_access(ctx).client(timeout=30)
    onprem = [d for d in docs if d["kind"] != "Cluster"]
    plans = planning.plan(api, onprem, namespace, Policy(retries=retries)) if onprem else []
    aws = _aws_plans(api, [d for d in docs if d["kind"] == "Cluster"], capa_namespace)
    if output is Output.table:
        for p in plans:
            _show(p)
        for a in aws:
            _show_aws(a)
    else:
        from kurator.cli.render import emit

        emit([_data(p) for p in plans] + [_aws_data(a) for a in aws], output)


def _aws_plans(api: Any, docs: list[dict[str, Any]], capa_namespace: str) -> list[AwsPlan]:
    if not docs:
        return []
    from kurator.operator.aws import planning as aws_planning

    return [aws_planning.plan(api, d, capa_namespace) for d in docs]


def _aws_data(p: AwsPlan) -> dict[str, Any]:
    return {
        "kind": "Cluster",
        "namespace": p.namespace,
        "name": p.name,
        "exists": p.exists,
        "problems": p.problems,
        "changes": [
            {
                "action": c.action,
                "kind": c.kind,
                "namespace": c.namespace,
                "name": c.name,
                "fields": list(c.fields),
            }
            for c in p.changes
        ],
    }


def _show_aws(p: AwsPlan) -> None:
    from rich.markup import escape

    from kurator.cli.render import console

    what = "change" if p.exists else "create"
    console.print(
        f"[bold]plan: {what} Cluster {p.namespace}/{p.name} (aws)[/] (dry run: nothing was written)"
    )
    for problem in p.problems:
        console.print(f"  ! {escape(problem)}", highlight=False)
    signs = {"create": "+", "change": "~", "delete": "-"}
    for c in p.changes:
        where = f"{c.namespace}/{c.name}" if c.namespace else c.name
        fields = f": {', '.join(c.fields)}" if c.fields else ""
        console.print(
            f"  {signs[c.action]} {c.action} {c.kind} {escape(where)}{escape(fields)}", highlight=False
        )
    if not p.changes and not p.problems:
        console.print("  nothing to change", highlight=False)


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
