"""Showing install plans and per-member progress to people."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table

from kurator.cli.render import console

if TYPE_CHECKING:
    from kurator.fleet.plan import Plan
    from kurator.fleet.readiness import MemberState

MARK = {"create": "[green]+ create[/]", "change": "[yellow]~ change[/]", "delete": "[red]- delete[/]"}


def show_plan(plan: Plan, verb: str = "install") -> None:
    console.print(f"[bold]plan: {verb} {plan.component} {plan.version}[/] (dry run: nothing was written)")
    if note := kept_note(plan):
        console.print(note, highlight=False)
    for target in plan.targets:
        if target.error:
            console.print(f"\n[bold]{target.target}[/]: [red]{escape(target.error)}[/]")
            continue
        counts = ", ".join(f"{target.count(a)} to {a}" for a in ("create", "change", "delete"))
        console.print(f"\n[bold]{target.target}[/]: {counts}, {target.count('unchanged')} unchanged")
        for change in target.pending():
            console.print(f"  {MARK[change.action]} {escape(str(change.ref))}", highlight=False)
            if change.refused:
                console.print(f"      [red]refused: {escape(change.refused)}[/]", highlight=False)
            if change.note:
                console.print(f"      [dim]{escape(change.note)}[/]", highlight=False)
            for line in change.diff.splitlines():
                style = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
                console.print(f"      {escape(line)}", style=style, highlight=False)


def kept_note(plan: Plan) -> str:
    """Which --set values an earlier run set and this one keeps (their names only: values may be secret)."""
    if not plan.kept:
        return ""
    return f"values kept from an earlier run: {', '.join(plan.kept)} (--reset-values drops them)"


def progress_table(states: list[MemberState], what: str = "READY") -> Table:
    table = Table(box=None, header_style="bold")
    for col in ("CLUSTER", what, "STATUS"):
        table.add_column(col)
    for st in states:
        if st.error:
            status = f"[red]{escape(st.error)}[/]"
        elif st.done:
            status = "[green]done[/]"
        else:
            more = f" (+{len(st.waiting) - 2} more)" if len(st.waiting) > 2 else ""
            status = escape("waiting for " + ", ".join(st.waiting[:2]) + more)
        table.add_row(st.member, f"{st.ready}/{st.total}", status)
    return table
