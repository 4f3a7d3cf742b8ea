"""Keeping secrets out of what the worker writes: the termination message ends up in a CustomCluster's
status and the output in ``kubectl logs``, both readable by far more people than the cluster's SSH key.

What counts as a secret: any private key block, the content of the private key files the playbook is given
(``--private-key``, ``$ANSIBLE_PRIVATE_KEY_FILE``), and the values of environment variables and extra-vars
whose names contain password, passwd, secret, token or key. Names ending in _file, _path or _dir hold where
a secret is, not the secret, and are kept (their files' private keys are still caught as key blocks).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REDACTED = "[redacted]"
REDACTED_KEY = "[private key redacted]"

_KEY_BEGIN = r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----"
_KEY_END = r"-----END [A-Z0-9 ]*PRIVATE KEY-----"
KEY_BLOCK = re.compile(_KEY_BEGIN + r".*?" + _KEY_END, re.DOTALL)
# A block cut short (a truncated message, a line of a stream): everything after its start goes.
KEY_START = re.compile(_KEY_BEGIN + r".*", re.DOTALL)
KEY_END = re.compile(r".*?" + _KEY_END, re.DOTALL)

SECRET_NAME = re.compile(r"pass(word|wd)?|secret|token|key", re.IGNORECASE)
LOCATION_NAME = re.compile(r"_(file|files|path|dir)$", re.IGNORECASE)
# Values too common to be anyone's secret; replacing them everywhere would wreck every message.
HARMLESS = {"", "true", "false", "yes", "no", "on", "off", "none", "null"}
MIN_SECRET = 4
# Lines of a key file shorter than this (blank lines, headers cut off) are not worth a literal.
MIN_KEY_LINE = 16


def secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name)) and not LOCATION_NAME.search(name)


def _values(value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        for v in value.values():
            yield from _values(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _values(v)
    elif value is not None and not isinstance(value, bool):
        yield str(value)


def secrets_in(variables: Mapping[str, Any]) -> Iterator[str]:
    """Values of secret-named keys, at any depth (an extra-vars dict may nest them)."""
    for name, value in variables.items():
        if secret_name(str(name)):
            yield from _values(value)
        elif isinstance(value, Mapping | list):
            yield from secrets_in(
                value if isinstance(value, Mapping) else {str(i): v for i, v in enumerate(value)}
            )


def _literals(value: str) -> Iterator[str]:
    """The value, its form inside a JSON string (Ansible's verbose output), and each line of a multi-line
    one."""
    candidates = [value, json.dumps(value, ensure_ascii=False)[1:-1]]
    if "\n" in value:
        candidates += [line.strip() for line in value.splitlines() if len(line.strip()) >= MIN_KEY_LINE]
    for candidate in candidates:
        if len(candidate) >= MIN_SECRET and candidate.lower() not in HARMLESS:
            yield candidate


@dataclass(frozen=True)
class Scrubber:
    """Replaces key blocks and known secret values in text. ``literals`` are matched longest first, so a
    secret that contains another is removed whole."""

    literals: tuple[str, ...] = ()

    @classmethod
    def of(cls, values: Iterable[str]) -> Scrubber:
        found = {lit for value in values for lit in _literals(value)}
        return cls(tuple(sorted(found, key=lambda s: (-len(s), s))))

    def __call__(self, text: str) -> str:
        text = KEY_START.sub(REDACTED_KEY, KEY_BLOCK.sub(REDACTED_KEY, text))
        for literal in self.literals:
            if literal in text:
                text = text.replace(literal, REDACTED)
        return text

    def lines(self) -> LineScrubber:
        return LineScrubber(self)


class LineScrubber:
    """The same, for a stream read line by line: a key block spread over lines is dropped from the line
    where it begins to the line where it ends."""

    def __init__(self, scrub: Scrubber) -> None:
        self._scrub = scrub
        self._in_key = False

    def __call__(self, line: str) -> str:
        newline = "\n" if line.endswith("\n") else ""
        if self._in_key:
            end = KEY_END.match(line)
            if end is None:
                return ""
            self._in_key = False
            line = line[end.end() :]  # the marker was written where the block began
            if not line.strip():
                return ""
        line = KEY_BLOCK.sub(REDACTED_KEY, line)
        if (start := KEY_START.search(line)) is not None:
            self._in_key = True
            return self._scrub(line[: start.start()]) + REDACTED_KEY + newline
        return self._scrub(line)


def extra_vars(argv: Sequence[str], read: bool = True) -> list[Mapping[str, Any]]:
    """The extra-vars an ``ansible-playbook`` command line carries (``-e``, ``--extra-vars``, in each of
    its forms: key=value pairs, JSON/YAML, ``@file``)."""
    raw: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg in ("-e", "--extra-vars"):
            raw.append(next(args, ""))
        elif arg.startswith("--extra-vars="):
            raw.append(arg.split("=", 1)[1])
        elif arg.startswith("-e") and not arg.startswith("--"):
            raw.append(arg[2:])
    return [parsed for text in raw if (parsed := _parse_vars(text, read)) is not None]


def _parse_vars(text: str, read: bool) -> Mapping[str, Any] | None:
    text = text.strip()
    if text.startswith("@"):
        if not read:
            return None
        try:
            text = Path(text[1:]).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        return _structured(text)
    if text.startswith(("{", "[")):
        return _structured(text)
    import shlex

    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    return {k: v for k, _, v in (w.partition("=") for w in words) if k}


def _structured(text: str) -> Mapping[str, Any] | None:
    try:
        value: Any = json.loads(text)
    except ValueError:
        try:
            import yaml  # Ansible needs PyYAML, so wherever the playbook runs it is there
        except ImportError:  # pragma: no cover
            return None
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            return None
    return value if isinstance(value, Mapping) else None


def key_files(argv: Sequence[str], environ: Mapping[str, str]) -> list[str]:
    """Private key files a command line or the environment hands to Ansible."""
    found: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg in ("--private-key", "--key-file"):
            found.append(next(args, ""))
        elif arg.startswith(("--private-key=", "--key-file=")):
            found.append(arg.split("=", 1)[1])
    if env := environ.get("ANSIBLE_PRIVATE_KEY_FILE"):
        found.append(env)
    return [f for f in found if f]


def scrubber_for(argv: Sequence[str], environ: Mapping[str, str]) -> Scrubber:
    """Everything secret this run was given: its environment, extra-vars and key files."""
    values = list(secrets_in(environ))
    for variables in extra_vars(argv):
        values += secrets_in(variables)
    for path in key_files(argv, environ):
        with contextlib.suppress(OSError):  # a missing key file is Ansible's to report
            values.append(Path(path).expanduser().read_text(encoding="utf-8", errors="replace"))
    return Scrubber.of(values)
