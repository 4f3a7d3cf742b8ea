"""Checks of what goes into a flag or a config: durations as Prometheus and Thanos write them (``90s``,
``2h``, ``1d12h``) and ``host:port`` addresses, so a typo fails at install time rather than in a
crash-looping pod."""

from __future__ import annotations

import re

from kurator.core.errors import InvalidInput, shown

# Prometheus's model.ParseDuration: units in this order, each at most once.
# Each number has at most 9 digits: longer ones are no real duration (and Python refuses to convert
# numbers of thousands of digits).
_DURATION = re.compile(
    "".join(rf"(?:([0-9]{{1,9}}){unit})?" for unit in ("y", "w", "d", "h", "m", "s", "ms"))
)
_UNIT_SECONDS = (365 * 86400, 7 * 86400, 86400, 3600, 60, 1, 0.001)
LONGEST = 100 * 365 * 86400  # beyond any retention or timeout; and within what a timedelta can hold


def duration(value: str, what: str, *, allow_zero: bool = False) -> float:
    """``value`` in seconds; InvalidInput naming ``what`` when it is not a duration (or is zero, unless
    ``allow_zero``)."""
    match = _DURATION.fullmatch(value) if value else None
    if match is None or not any(match.groups()):
        raise InvalidInput(
            f"{what} {shown(value)} is not a duration",
            "write it as Prometheus does: a number and a unit (ms, s, m, h, d, w, y), e.g. 30s, 2h or 1d12h",
        )
    total = sum(int(n) * unit for n, unit in zip(match.groups(), _UNIT_SECONDS, strict=True) if n)
    if total == 0 and not allow_zero:
        raise InvalidInput(f"{what} must be longer than zero, not {shown(value)}")
    if total > LONGEST:
        raise InvalidInput(f"{what} {shown(value)} is longer than 100 years")
    return total


def address(value: str, what: str) -> str:
    """``value`` unchanged once it is ``host:port`` (``[v6]:port`` for IPv6; an empty host means every
    interface)."""
    host, sep, port = value.rpartition(":")
    bad_port = not re.fullmatch(r"[0-9]{1,5}", port) or not 0 < int(port) < 65536
    if not sep or bad_port or any(c.isspace() or not c.isprintable() for c in value):
        raise InvalidInput(f"{what} {shown(value)} is not host:port")
    if host.startswith("[") != host.endswith("]") or ("[" not in host and ":" in host):
        raise InvalidInput(f"{what} {shown(value)} is not host:port (write an IPv6 host as [addr]:port)")
    return value
