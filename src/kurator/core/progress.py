"""How slow work reports progress without knowing how it is shown (the CLI renders it with Rich)."""

from __future__ import annotations

from typing import Protocol


class Reporter(Protocol):
    def step(self, message: str) -> None:
        """A step of slow work starts."""

    def done(self, message: str, seconds: float) -> None:
        """A step finished after ``seconds``."""

    def note(self, message: str) -> None:
        """Something the user should know that is not a step (e.g. what a mode limits)."""

    def progress(self, text: str) -> None:
        """How far the current step has come, e.g. "12.0 of 98.5 MiB" or "812 packages compiled"."""


class Silent:
    """A reporter that shows nothing (library use, tests)."""

    def step(self, message: str) -> None:
        pass

    def done(self, message: str, seconds: float) -> None:
        pass

    def note(self, message: str) -> None:
        pass

    def progress(self, text: str) -> None:
        pass
