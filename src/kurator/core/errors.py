"""The one error type the CLI turns into a clear one-line message and a non-zero exit."""

from __future__ import annotations


class KuratorError(Exception):
    """An error a user can act on: ``message`` says what is wrong, ``hint`` what to do."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class InvalidInput(KuratorError):
    """Bad input from a flag, an argument or a config file; nothing was changed."""

    exit_code = 2


def shown(value: object, limit: int = 60) -> str:
    """``value`` quoted for a message, cut to ``limit`` characters: an error repeats what was typed, never
    a whole pasted file."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}…"
