"""``kurator version``."""

from __future__ import annotations

import platform
from typing import Any

import typer

from kurator import __version__
from kurator.cli.options import OUTPUT_OPTION, Output
from kurator.cli.render import console, emit


def version(
    output: Output = OUTPUT_OPTION,
    components: bool = typer.Option(
        False, "--components", help="Also each pinned binary and component artifact (as `kurator tool list`)."
    ),
) -> None:
    """Show kurator's version."""
    info: dict[str, Any] = {
        "version": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    if components:
        from kurator.cli import tools

        found = tools.tools()
        if output is Output.table:
            console.print(f"kurator {__version__} (Python {info['python']})")
            tools.show(found, tools.ToolOutput.table)
            return
        info["components"] = [t.to_json() for t in found]
    if output is Output.table:
        console.print(f"kurator {__version__} (Python {info['python']})")
    else:
        emit(info, output)


def register(app: typer.Typer) -> None:
    app.command("version")(version)
