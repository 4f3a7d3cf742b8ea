"""The helper integration tests use to Ctrl-C the CLI works when the suite itself was started with SIGINT
ignored (as a shell starts a background job): the CLI is interrupted, says so and exits 130."""

from __future__ import annotations

import signal
import socket
from collections.abc import Iterator

import pytest

from tests.integration.helpers import interruptible


@pytest.fixture
def sigint_ignored() -> Iterator[None]:
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)  # what a background job's processes inherit
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


def test_the_cli_is_interrupted_even_when_started_with_sigint_ignored(sigint_ignored: None) -> None:
    with socket.socket() as server:  # a Thanos Query that accepts and never answers
        server.bind(("127.0.0.1", 0))
        server.listen()
        url = f"http://127.0.0.1:{server.getsockname()[1]}"
        with interruptible("query", "up", "--url", url) as proc:
            server.settimeout(30)
            conn, _ = server.accept()  # the CLI is now waiting for an answer
            with conn:
                proc.send_signal(signal.SIGINT)
                _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "run the same command again" in err
