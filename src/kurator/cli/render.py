"""Rendering for people (Rich tables, progress) and for programs (JSON, YAML)."""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

from rich.console import Console

from kurator.cli.options import Output


def make_console(**kwargs: Any) -> Console:
    """A console that wraps sentences by words in a terminal, and never in a pipe or a log: there a
    message stays one line, so that grep finds it whole (tables are laid out to the width either way)."""
    out = Console(**kwargs)
    out.soft_wrap = not out.is_terminal
    return out


console = make_console()
err_console = make_console(stderr=True)


def emit(data: Any, output: Output) -> None:
    """Print ``data`` as JSON or YAML on stdout (tables are rendered by each command)."""
    if output is Output.json:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    elif output is Output.yaml:
        import yaml

        sys.stdout.write(yaml.safe_dump(data, sort_keys=False))


def up_down(flag: bool) -> str:
    return "[green]up[/]" if flag else "[red]down[/]"


def duration(seconds: float) -> str:
    """``42s``, ``4m 05s``, ``1h 02m``: elapsed time as people read it."""
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s // 3600}h {s % 3600 // 60:02d}m"


class ConsoleReporter:
    """Each step of slow work on stderr. In a terminal: a spinner with what is happening and the time so
    far, redrawn every second. Elsewhere (a log, a pipe, CI): a line when a step starts and one at least
    every ``heartbeat`` seconds while it runs, so a log never goes quiet for long. Finished steps end in
    a line with their time either way."""

    def __init__(self, quiet: bool = False, out: Console | None = None, heartbeat: float = 30.0) -> None:
        self.quiet = quiet
        self._out = out or err_console
        self._heartbeat = heartbeat
        self._lock = threading.Lock()
        self._status: Any = None
        self._ticker: threading.Thread | None = None
        self._stopped = threading.Event()
        self._began = 0.0
        self._last_line = 0.0
        self._message = ""
        self._text = ""

    def step(self, message: str) -> None:
        if self.quiet:
            return
        self._stop()
        with self._lock:
            self._began = self._last_line = time.monotonic()
            self._message, self._text = message, ""
            if self._out.is_terminal:
                self._status = self._out.status(f"{message} …")
                self._status.start()
            else:
                self._out.print(f"… {message}", highlight=False, soft_wrap=True)
        self._stopped = threading.Event()
        self._ticker = threading.Thread(target=self._tick, args=(self._stopped,), daemon=True)
        self._ticker.start()

    def done(self, message: str, seconds: float) -> None:
        self._stop()
        if not self.quiet:
            # In a log, one line per finished step, however long (names of every binary it built).
            self._out.print(
                f"[green]✓[/] {message} [dim]({seconds:.1f}s)[/]", soft_wrap=not self._out.is_terminal
            )

    def note(self, message: str) -> None:
        if not self.quiet:
            self._out.print(f"[yellow]![/] {message}", soft_wrap=not self._out.is_terminal)

    def progress(self, text: str) -> None:
        with self._lock:
            self._text = text
        self._show()

    def close(self) -> None:
        self._stop()

    def _tick(self, stopped: threading.Event) -> None:
        while not stopped.wait(min(1.0, self._heartbeat)):
            self._show()

    def _show(self) -> None:
        with self._lock:
            if not self._message:
                return
            now = time.monotonic()
            line = f"{self._message} … {self._text + ', ' if self._text else ''}{duration(now - self._began)}"
            if self._status is not None:
                self._status.update(line)
            elif not self._out.is_terminal and now - self._last_line >= self._heartbeat:
                self._last_line = now
                self._out.print(f"  {line}", highlight=False, soft_wrap=True)

    def _stop(self) -> None:
        self._stopped.set()
        if self._ticker is not None and self._ticker is not threading.current_thread():
            self._ticker.join()
        self._ticker = None
        with self._lock:
            self._message = ""
            if self._status is not None:
                self._status.stop()
                self._status = None


class LiveTable:
    """A table redrawn in place in a terminal. Elsewhere only its last state is printed, when it ends,
    with a one-line summary at least every ``heartbeat`` seconds meanwhile: a pipe gets no half-drawn
    frames, and what follows starts on a line of its own."""

    def __init__(self, out: Console | None = None, heartbeat: float = 30.0) -> None:
        self._out = out or err_console
        self._heartbeat = heartbeat
        self._live: Any = None
        self._last: Any = None
        self._last_line = time.monotonic()
        if self._out.is_terminal:
            from rich.live import Live

            self._live = Live(console=self._out, refresh_per_second=4, transient=False)
            self._live.start()

    def update(self, table: Any, summary: str) -> None:
        self._last = table
        if self._live is not None:
            self._live.update(table)
        elif time.monotonic() - self._last_line >= self._heartbeat:
            self._last_line = time.monotonic()
            self._out.print(f"  … {summary}", highlight=False)

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
        elif self._last is not None:
            self._out.print(self._last)
            self._last = None
