"""``kurator version``."""

from __future__ import annotations

import platform

import typer

from kurator import __version__
from kurator.cli.options import OUTPUT_OPTION, Output
from kurator.cli.render import console, emit


def version(output: Output = OUTPUT_OPTION) -> None:
    """Show kurator's version."""
    info = {"version": __version__, "python": platform.python_version(), "platform": platform.platform()}
    if output is Output.table:
        console.print(f"kurator {__version__} (Python {info['python']})")
    else:
        emit(info, output)


def register(app: typer.Typer) -> None:
    app.command("version")(version)
