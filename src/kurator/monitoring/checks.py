"""Checks of what goes into a flag or a config: durations as Prometheus and Thanos write them (``90s``,
``2h``, ``1d12h``) and ``host:port`` addresses, so a typo fails at install time rather than in a
crash-looping pod."""

from __future__ import annotations

import re

from kurator.core.errors import InvalidInput

# Prometheus's model.ParseDuration: units in this order, each at most once.
_DURATION = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")
_UNIT_SECONDS = (365 * 86400, 7 * 86400, 86400, 3600, 60, 1, 0.001)


def duration(value: str, what: str, *, allow_zero: bool = False) -> float:
    """``value`` in seconds; InvalidInput naming ``what`` when it is not a duration (or is zero, unless
    ``allow_zero``)."""
    match = _DURATION.match(value) if value else None
    if match is None or not any(match.groups()):
        raise InvalidInput(
            f"{what} {value!r} is not a duration",
            "write it as Prometheus does: a number and a unit (ms, s, m, h, d, w, y), e.g. 30s, 2h or 1d12h",
        )
    total = sum(int(n) * unit for n, unit in zip(match.groups(), _UNIT_SECONDS, strict=True) if n)
    if total == 0 and not allow_zero:
        raise InvalidInput(f"{what} must be longer than zero, not {value!r}")
    return total


def address(value: str, what: str) -> str:
    """``value`` unchanged once it is ``host:port`` (``[v6]:port`` for IPv6; an empty host means every
    interface)."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536 or any(c.isspace() for c in value):
        raise InvalidInput(f"{what} {value!r} is not host:port")
    if host.startswith("[") != host.endswith("]") or ("[" not in host and ":" in host):
        raise InvalidInput(f"{what} {value!r} is not host:port (write an IPv6 host as [addr]:port)")
    return value
