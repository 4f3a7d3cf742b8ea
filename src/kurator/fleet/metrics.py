"""The fleet's global view for fleet commands: where its Thanos Query serves (recorded on Karmada's API
server) and a sender for :mod:`kurator.monitoring.query`'s requests, each with an overall deadline."""

from __future__ import annotations

from collections.abc import Mapping

from lightkube import Client

from kurator.kube import http
from kurator.kube.deadline import DEFAULT_REQUEST_TIMEOUT
from kurator.kube.records import read_data, record_doc
from kurator.monitoring import query


def query_url(api: Client) -> str | None:
    """Where the fleet's Thanos Query serves, as recorded on the Karmada API server; None if unknown."""
    data = read_data(api, query.RECORD_NAMESPACE, query.RECORD_NAME)
    return (data or {}).get(query.RECORD_KEY) or None


def record(url: str) -> dict[str, object]:
    """The ConfigMap that tells fleet commands where Thanos Query serves."""
    return record_doc(query.RECORD_NAMESPACE, query.RECORD_NAME, {query.RECORD_KEY: url})


def sender(timeout: float | None = DEFAULT_REQUEST_TIMEOUT) -> query.Get:
    """Thanos Query's answers, whatever their status (the query module reads its error bodies); no answer
    at all, or none within ``timeout``, raises :mod:`kurator.kube.errors`'s exceptions."""

    def get(url: str, params: Mapping[str, str]) -> tuple[int, bytes]:
        answer = http.get(url, what="querying Thanos Query", params=params, timeout=timeout, check=False)
        return answer.status, answer.body

    return get
