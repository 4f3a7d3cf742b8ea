"""Every socket operation of a request gets at most what is left of the request's overall deadline (the
network streams are fakes: no socket is opened)."""

from __future__ import annotations

import time
from typing import Any

import httpcore2
import pytest

from kurator.kube import deadline


class FakeStream(httpcore2.NetworkStream):
    def __init__(self) -> None:
        self.timeouts: list[float | None] = []

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self.timeouts.append(timeout)
        return b"x"

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.timeouts.append(timeout)

    def close(self) -> None:
        pass

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> Any:
        self.timeouts.append(timeout)
        return FakeStream()


def test_without_a_deadline_each_operation_keeps_its_own_timeout() -> None:
    inner = FakeStream()
    stream = deadline._Stream(inner)
    stream.read(10, timeout=10.0)
    stream.write(b"x", timeout=None)
    assert inner.timeouts == [10.0, None]


def test_each_operation_gets_at_most_what_is_left() -> None:
    inner = FakeStream()
    stream = deadline._Stream(inner)
    with deadline.started(3.0):
        stream.read(10, timeout=10.0)
        stream.write(b"x", timeout=None)
        stream.start_tls(None, "h", timeout=10.0)
    assert all(t is not None and 0 < t <= 3.0 for t in inner.timeouts), inner.timeouts
    stream.read(10, timeout=10.0)  # the deadline ended with its block
    assert inner.timeouts[-1] == 10.0


def test_nothing_is_read_or_written_once_the_deadline_has_passed() -> None:
    inner = FakeStream()
    stream = deadline._Stream(inner)
    with deadline.started(0.0):
        time.sleep(0.001)
        with pytest.raises(httpcore2.ReadTimeout):
            stream.read(10, timeout=10.0)
        with pytest.raises(httpcore2.WriteTimeout):
            stream.write(b"x", timeout=10.0)
        with pytest.raises(httpcore2.ConnectTimeout):
            stream.start_tls(None, "h", timeout=10.0)
    assert inner.timeouts == []
