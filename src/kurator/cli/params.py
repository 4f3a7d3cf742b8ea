"""Strict parsers for command-line values, checked while the command line is parsed (before anything is read,
started or sent): numbers are finite and in range, names match their whole pattern (a trailing newline is
no name), durations are Prometheus's. Each refusal names the option and cuts a long value short.

Typer calls a parser with the typed text, and with the default when none was typed; a parser raises
``typer.BadParameter``, which click reports as ``Invalid value for '--option': ...`` with exit code 2.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import typer

from kurator.core.errors import InvalidInput, shown

DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
CONTEXT = re.compile(r"[^\x00-\x20\x7f]{1,512}")
"""A kubeconfig context: any printable text without spaces (kubectl's names hold ``@``, ``:``, ``/``)."""
USER = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
VERSION = re.compile(r"v?[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}")
BLOCK = re.compile(r"[1-9][0-9]{0,5}[mh]")
DAY = 86400.0


def _typed(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def seconds(longest: float = DAY) -> Callable[[Any], float]:
    """A number of seconds, more than zero and at most ``longest`` (``nan``, ``inf`` and ``-5`` are not)."""

    def parse(value: Any) -> float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        else:
            text = _typed(value)
            if not re.fullmatch(r"[0-9]{1,9}(\.[0-9]{1,9})?", text):
                raise typer.BadParameter(f"{shown(text)} is not a number of seconds (e.g. 300 or 2.5)")
            number = float(text)
        if not math.isfinite(number) or not 0 < number <= longest:
            raise typer.BadParameter(f"{shown(value)} is not between 0 and {longest:.0f} seconds")
        return number

    parse.__name__ = "seconds"
    return parse


def integer(lowest: int, highest: int) -> Callable[[Any], int]:
    """A whole number from ``lowest`` to ``highest``, digits only (no ``+``, spaces or ``1e3``)."""

    def parse(value: Any) -> int:
        text = _typed(value)
        if not re.fullmatch(r"-?[0-9]{1,9}", text):
            raise typer.BadParameter(f"{shown(text)} is not a whole number")
        number = int(text)
        if not lowest <= number <= highest:
            raise typer.BadParameter(f"{number} is not between {lowest} and {highest}")
        return number

    parse.__name__ = "integer"
    return parse


def _fleet_limit(name: str) -> Callable[[Any], int]:
    """As :func:`integer`, up to a limit of the local fleet (looked up when used: its module is slow to
    import, and every command line would pay for it)."""

    def parse(value: Any) -> int:
        from kurator.local import config

        return integer(1, int(getattr(config, name)))(value)

    parse.__name__ = "integer"
    return parse


def _checked(check: Callable[[str], object], name: str) -> Callable[[Any], str]:
    """A parser from a check of the lower layers that raises InvalidInput."""

    def parse(value: Any) -> str:
        text = _typed(value)
        try:
            check(text)
        except InvalidInput as exc:
            raise typer.BadParameter(f"{exc.message}" + (f" ({exc.hint})" if exc.hint else "")) from None
        return text

    parse.__name__ = name
    return parse


def _pattern(pattern: re.Pattern[str], what: str, hint: str, metavar: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = _typed(value)
        if not pattern.fullmatch(text):
            raise typer.BadParameter(f"{shown(text)} is not a valid {what} ({hint})")
        return text

    parse.__name__ = metavar
    return parse


def _fleet_name(text: str) -> None:
    from kurator.local.config import validate_name

    validate_name(text)


def _member_name(text: str) -> None:
    from kurator.fleet.membership import validate_name

    validate_name(text)


def _members(text: str) -> None:
    parts = text.split(",")
    for part in parts:
        _member_name(part)
    if twice := sorted({p for p in parts if parts.count(p) > 1}):
        raise InvalidInput(f"{shown(', '.join(twice))} named more than once")


def _duration(text: str) -> None:
    from kurator.monitoring.checks import duration

    duration(text, "the value")


def _range(text: str) -> None:
    from kurator.monitoring.query import parse_duration

    parse_duration(text, "it")


def _address(text: str) -> None:
    from kurator.monitoring.checks import address

    address(text, "the address")


def _listen(text: str) -> None:
    if text:  # '' serves nothing
        _address(text)


def _url(text: str) -> None:
    from kurator.core.inputs import url_problem

    if problem := url_problem(text):
        raise InvalidInput(problem)


def _host(text: str) -> None:
    import ipaddress

    try:
        ipaddress.ip_address(text)
        return
    except ValueError:
        pass
    labels = text.split(".")
    if len(text) > 253 or not all(DNS1123_LABEL.fullmatch(label) for label in labels):
        raise InvalidInput(f"{shown(text)} is not an IP address or a host name")


FLEET_NAME = _checked(_fleet_name, "name")
MEMBER_NAME = _checked(_member_name, "name")
MEMBERS = _checked(_members, "names")
NAMESPACE = _pattern(
    DNS1123_LABEL, "namespace", "lower-case letters, digits and '-', at most 63", "namespace"
)
CLUSTER = _pattern(DNS1123_LABEL, "cluster name", "host, member1, ..., karmada", "cluster")
CONTEXT_NAME = _pattern(CONTEXT, "context name", "a name from the kubeconfig, without spaces", "context")
USER_NAME = _pattern(USER, "user name", "a Linux user name such as root or ubuntu", "user")
KUBERNETES_VERSION = _pattern(VERSION, "Kubernetes version", "e.g. v1.35.4", "version")
BLOCK_DURATION = _pattern(BLOCK, "block duration", "minutes or hours, e.g. 2m or 2h", "duration")
DURATION = _checked(_duration, "duration")
RANGE = _checked(_range, "duration")
ADDRESS = _checked(_address, "host:port")
LISTEN = _checked(_listen, "host:port")
URL = _checked(_url, "url")
HOST = _checked(_host, "host")
WAIT = seconds()
MEMBER_COUNT = _fleet_limit("MAX_MEMBERS")
NODE_COUNT = _fleet_limit("MAX_NODES")


def _request_timeout(value: Any) -> float:
    """kubectl's ``--request-timeout`` (30s, 2m, 1m30s, 500ms, or seconds), more than zero."""
    from kurator.cli.options import parse_request_timeout

    try:
        return value if isinstance(value, float) else parse_request_timeout(_typed(value))
    except InvalidInput as exc:
        raise typer.BadParameter(exc.message) from None


_request_timeout.__name__ = "timeout"
REQUEST_TIMEOUT = _request_timeout
