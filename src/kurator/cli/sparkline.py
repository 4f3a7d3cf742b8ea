"""A series of numbers in one short line of block characters, for tables of metrics over time."""

from __future__ import annotations

import math
from collections.abc import Sequence

BLOCKS = "▁▂▃▄▅▆▇█"


def number(text: str) -> float:
    """Prometheus sends sample values as strings: ``"1"``, ``"0.25"``, ``"NaN"``, ``"+Inf"``."""
    try:
        return float(text)
    except ValueError:
        return math.nan


def compact(value: float) -> str:
    """A value in at most ~8 characters: ``3``, ``0.25``, ``1.23e+06``."""
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if value == int(value) and abs(value) < 1e7:
        return str(int(value))
    return f"{value:.3g}"


def sparkline(values: Sequence[float], width: int = 16) -> str:
    """``values`` (oldest first) as up to ``width`` blocks, each the mean of its share of the samples;
    the lowest finite value is the lowest block, the highest the highest; gaps (NaN) are spaces."""
    if not values:
        return ""
    buckets = [values[i * len(values) // width : (i + 1) * len(values) // width] for i in range(width)]
    means = [_mean(b) for b in buckets if b] if len(values) > width else [_mean([v]) for v in values]
    finite = [m for m in means if not math.isnan(m)]
    if not finite:
        return " " * len(means)
    low, high = min(finite), max(finite)
    span = high - low
    top = len(BLOCKS) - 1
    return "".join(
        " " if math.isnan(m) else BLOCKS[round((m - low) / span * top) if span else 0] for m in means
    )


def _mean(values: Sequence[float]) -> float:
    finite = [v for v in values if not (math.isnan(v) or math.isinf(v))]
    return sum(finite) / len(finite) if finite else math.nan
