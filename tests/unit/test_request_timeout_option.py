"""``--request-timeout`` reads as kubectl's does, and refuses what would leave a request without a
deadline."""

from __future__ import annotations

import pytest

from kurator.cli.options import parse_request_timeout
from kurator.core.errors import InvalidInput


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30.0), ("2m", 120.0), ("1m30s", 90.0), ("500ms", 0.5), ("45", 45.0), ("1h", 3600.0)],
)
def test_durations_as_kubectl_reads_them(text: str, seconds: float) -> None:
    assert parse_request_timeout(text) == seconds


@pytest.mark.parametrize(
    "text", ["0", "0s", "-5", "nan", "inf", "", "5 s", "5x", "25h", "30s\n", "9" * 10000]
)
def test_no_deadline_or_a_bad_one_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="is not a duration such as") as caught:
        parse_request_timeout(text)
    assert len(caught.value.message) < 200
