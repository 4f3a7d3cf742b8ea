"""The global query client: durations, result shapes, and how Thanos Query's answers become errors."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

import pytest

from kurator.core.errors import InvalidInput, KuratorError
from kurator.monitoring import query


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("15m", 900), ("1h", 3600), ("7d", 604800)])
def test_durations(text: str, seconds: int) -> None:
    assert query.parse_duration(text, "--range") == seconds


@pytest.mark.parametrize("text", ["", "1", "0h", "1y", "-1h", "1h30m"])
def test_bad_durations_name_the_flag(text: str) -> None:
    with pytest.raises(InvalidInput, match="--range"):
        query.parse_duration(text, "--range")


class Thanos:
    """Stands in for Thanos Query: records each request and answers ``status`` with ``body``."""

    def __init__(self, status: int, body: object) -> None:
        self.status, self.body = status, json.dumps(body).encode()
        self.seen: list[tuple[str, dict[str, str]]] = []

    def __call__(self, url: str, params: Mapping[str, str]) -> tuple[int, bytes]:
        self.seen.append((url, dict(params)))
        return self.status, self.body


def test_vector_rows_keep_labels_and_ask_for_dedup() -> None:
    thanos = Thanos(
        200,
        {
            "status": "success",
            "data": {
                "resultType": "vector",
                "result": [
                    {"metric": {"__name__": "up", "cluster": "member1"}, "value": [1700000000.5, "1"]}
                ],
            },
        },
    )
    rows = query.instant(thanos, "http://127.0.0.1:1/", "up")
    assert [(r.cluster, r.samples) for r in rows] == [("member1", [(1700000000.5, "1")])]
    assert thanos.seen[0][0] == "http://127.0.0.1:1/api/v1/query"
    assert thanos.seen[0][1]["dedup"] == "true"


def test_matrix_rows() -> None:
    thanos = Thanos(
        200,
        {
            "status": "success",
            "data": {
                "resultType": "matrix",
                "result": [{"metric": {"cluster": "m"}, "values": [[1, "0"], [2, "1"]]}],
            },
        },
    )
    rows = query.over_range(thanos, "http://127.0.0.1:1", "up", 3600)
    assert rows[0].samples == [(1.0, "0"), (2.0, "1")]


def test_bad_query_is_input_error() -> None:
    thanos = Thanos(400, {"status": "error", "errorType": "bad_data", "error": "parse error at char 3"})
    with pytest.raises(InvalidInput, match="parse error"):
        query.instant(thanos, "http://127.0.0.1:1", "up{")


def test_server_error_is_reported() -> None:
    thanos = Thanos(503, {"status": "error", "errorType": "unavailable", "error": "no store"})
    with pytest.raises(KuratorError, match="no store"):
        query.instant(thanos, "http://127.0.0.1:1", "up")


def test_an_answer_that_is_not_json_is_named() -> None:
    def html(url: str, params: Mapping[str, str]) -> tuple[int, bytes]:
        return 200, b"<html>a proxy's login page</html>"

    with pytest.raises(
        KuratorError, match=re.escape("Thanos Query at http://127.0.0.1:1 answered 200 without a JSON body")
    ):
        query.reporting(html, "http://127.0.0.1:1")
