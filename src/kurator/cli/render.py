"""Rendering for people (Rich tables, progress) and for programs (JSON, YAML)."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from rich.console import Console

from kurator.cli.options import Output

console = Console()
err_console = Console(stderr=True)


def emit(data: Any, output: Output) -> None:
    """Print ``data`` as JSON or YAML on stdout (tables are rendered by each command)."""
    if output is Output.json:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    elif output is Output.yaml:
        import yaml

        sys.stdout.write(yaml.safe_dump(data, sort_keys=False))


def up_down(flag: bool) -> str:
    return "[green]up[/]" if flag else "[red]down[/]"


class ConsoleReporter:
    """Shows each step of slow work on stderr with a spinner and how long it took."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self._status: Any = None
        self._began = 0.0
        self._message = ""

    def step(self, message: str) -> None:
        if self.quiet:
            return
        self._stop()
        self._began = time.monotonic()
        self._message = message
        self._status = err_console.status(f"{message} …")
        self._status.start()

    def done(self, message: str, seconds: float) -> None:
        self._stop()
        if not self.quiet:
            err_console.print(f"[green]✓[/] {message} [dim]({seconds:.1f}s)[/]")

    def note(self, message: str) -> None:
        if not self.quiet:
            err_console.print(f"[yellow]![/] {message}")

    def progress(self, text: str) -> None:
        if self._status is not None:
            elapsed = time.monotonic() - self._began
            self._status.update(f"{self._message} … {text} ({elapsed:.0f}s)")

    def close(self) -> None:
        self._stop()

    def _stop(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None
