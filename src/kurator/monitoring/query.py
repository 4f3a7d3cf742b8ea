"""Queries against the fleet's global view (Thanos Query's Prometheus-compatible HTTP API): the requests
to make and what their answers mean. Pure: the caller sends each request with ``get`` (in kurator,
:mod:`kurator.fleet.metrics` over :mod:`kurator.kube.http`, with a deadline) and names Thanos Query's URL.

Where Thanos Query serves is recorded on the Karmada API server (``kube-system/kurator-monitoring``,
key ``queryURL``), so every fleet command that has the Karmada kubeconfig can find it. A Thanos Query that
asks its clients for a certificate (the local fleet's does) has it recorded beside, in the Secret
``kube-system/kurator-monitoring-client`` (``ca.crt``, ``tls.crt``, ``tls.key``): only who may read
Secrets there can query.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kurator.core.errors import InvalidInput, KuratorError, shown

Get = Callable[[str, Mapping[str, str]], tuple[int, bytes]]
"""Send a GET of a full URL with these query parameters; returns (HTTP status, body). Failing to get any
answer is the sender's error to raise."""

RECORD_NAMESPACE = "kube-system"
RECORD_NAME = "kurator-monitoring"
RECORD_KEY = "queryURL"
CLIENT_SECRET_NAME = "kurator-monitoring-client"  # noqa: S105 (a name, not a secret)
CLIENT_SECRET_KEYS = ("ca.crt", "tls.crt", "tls.key")
CLUSTER_LABEL = "cluster"
REPLICA_LABEL = "replica"

_DURATION = re.compile(r"([0-9]{1,9})(s|m|h|d|w)")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
LONGEST = 100 * 365 * 86400


def parse_duration(text: str, flag: str) -> int:
    """Seconds in a Prometheus-style duration such as ``30s``, ``15m``, ``1h``, ``7d``."""
    match = _DURATION.fullmatch(text)
    seconds = int(match.group(1)) * _UNIT[match.group(2)] if match else 0
    if not 0 < seconds <= LONGEST:
        raise InvalidInput(f"{flag} must be a duration such as 30s, 15m, 1h or 7d, got {shown(text)}")
    return seconds


@dataclass
class Series:
    """One result series: its labels and its samples (one for an instant query)."""

    labels: dict[str, str]
    samples: list[tuple[float, str]] = field(default_factory=list)

    @property
    def cluster(self) -> str:
        return self.labels.get(CLUSTER_LABEL, "")


def _series(result_type: str, result: Any) -> list[Series]:
    if result_type == "vector":
        return [Series(dict(r["metric"]), [(float(r["value"][0]), r["value"][1])]) for r in result]
    if result_type == "matrix":
        return [Series(dict(r["metric"]), [(float(t), v) for t, v in r["values"]]) for r in result]
    if result_type == "scalar":
        return [Series({}, [(float(result[0]), result[1])])]
    raise KuratorError(f"Thanos Query returned an unexpected result type {result_type!r}")


def _get(get: Get, url: str, path: str, params: dict[str, str]) -> list[Series]:
    status, raw = get(f"{url.rstrip('/')}{path}", params)
    try:
        body = json.loads(raw)
    except ValueError:
        raise KuratorError(f"Thanos Query at {url} answered {status} without a JSON body") from None
    if not isinstance(body, dict):
        raise KuratorError(f"Thanos Query at {url} answered {status} with an unexpected body")
    if body.get("status") != "success":
        message = body.get("error") or f"HTTP {status}"
        if body.get("errorType") == "bad_data":
            raise InvalidInput(f"the query was refused: {message}")
        raise KuratorError(f"Thanos Query at {url} failed: {message}")
    data = body["data"]
    return _series(data["resultType"], data["result"])


def instant(get: Get, url: str, promql: str, dedup: bool = True) -> list[Series]:
    """``promql`` now, across the fleet; replicas of one Prometheus are merged unless ``dedup`` is off."""
    params = {"query": promql, "dedup": str(dedup).lower(), "partial_response": "true"}
    return _get(get, url, "/api/v1/query", params)


def over_range(
    get: Get, url: str, promql: str, seconds: int, step: int | None = None, dedup: bool = True
) -> list[Series]:
    """``promql`` over the last ``seconds``, at ``step`` (default: about 60 points)."""
    end = time.time()
    step = step or max(1, seconds // 60)
    params = {
        "query": promql,
        "start": f"{end - seconds:.3f}",
        "end": f"{end:.3f}",
        "step": str(step),
        "dedup": str(dedup).lower(),
        "partial_response": "true",
    }
    return _get(get, url, "/api/v1/query_range", params)


def reporting(get: Get, url: str, window: str = "2m") -> set[str]:
    """The clusters whose metrics arrived within ``window`` (any successful scrape)."""
    rows = instant(get, url, f"count by ({CLUSTER_LABEL}) (max_over_time(up[{window}]) == 1)")
    return {s.cluster for s in rows if s.cluster}
