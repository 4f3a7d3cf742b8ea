"""The global query client: durations, result shapes, and how Thanos Query's answers become errors."""

from __future__ import annotations

import httpx
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


def _answer(monkeypatch: pytest.MonkeyPatch, status: int, body: object) -> list[httpx.Request]:
    seen: list[httpx.Request] = []

    def get(url: str, params: dict[str, str], **_: object) -> httpx.Response:
        req = httpx.Request("GET", url, params=params)
        seen.append(req)
        return httpx.Response(status, json=body, request=req)

    monkeypatch.setattr(query.httpx, "get", get)
    return seen


def test_vector_rows_keep_labels_and_ask_for_dedup(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _answer(
        monkeypatch,
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
    rows = query.instant("http://127.0.0.1:1/", "up")
    assert [(r.cluster, r.samples) for r in rows] == [("member1", [(1700000000.5, "1")])]
    assert seen[0].url.path == "/api/v1/query"
    assert seen[0].url.params["dedup"] == "true"


def test_matrix_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    _answer(
        monkeypatch,
        200,
        {
            "status": "success",
            "data": {
                "resultType": "matrix",
                "result": [{"metric": {"cluster": "m"}, "values": [[1, "0"], [2, "1"]]}],
            },
        },
    )
    rows = query.over_range("http://127.0.0.1:1", "up", 3600)
    assert rows[0].samples == [(1.0, "0"), (2.0, "1")]


def test_bad_query_is_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    _answer(monkeypatch, 400, {"status": "error", "errorType": "bad_data", "error": "parse error at char 3"})
    with pytest.raises(InvalidInput, match="parse error"):
        query.instant("http://127.0.0.1:1", "up{")


def test_server_error_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    _answer(monkeypatch, 503, {"status": "error", "errorType": "unavailable", "error": "no store"})
    with pytest.raises(KuratorError, match="no store"):
        query.instant("http://127.0.0.1:1", "up")
