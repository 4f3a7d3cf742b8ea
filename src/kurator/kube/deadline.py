"""An overall deadline for every request, as kubectl's ``--request-timeout`` gives one.

httpx only bounds each network operation: a server that sends one byte a second never trips a read
timeout, so a request could last forever. Here every socket read, write, connect and TLS handshake of a
request gets at most the time left until the request's deadline, and none once it has passed. The
deadline is set around one request (``started``) in a context variable, which each thread (and each
asyncio task) has its own copy of, so clients can be shared freely.
"""

from __future__ import annotations

import contextlib
import ssl
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import Any

import httpcore2
import httpx2

DEFAULT_REQUEST_TIMEOUT = 30.0  # seconds one request may take in all, unless --request-timeout says otherwise

_deadline: ContextVar[float | None] = ContextVar("kurator_request_deadline", default=None)


@contextlib.contextmanager
def started(seconds: float | None) -> Iterator[None]:
    """Requests made inside the block must be complete within ``seconds`` (None: no overall deadline)."""
    token = _deadline.set(None if seconds is None else time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def left() -> float | None:
    """Seconds left until the current request's deadline (None: no deadline; never below 0)."""
    deadline = _deadline.get()
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def _left(timeout: float | None, expired: type[Exception]) -> float | None:
    """The time an operation may take: its own ``timeout``, cut to what is left of the deadline."""
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise expired("the request's deadline has passed")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore2.NetworkStream):
    def __init__(self, inner: httpcore2.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _left(timeout, httpcore2.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _left(timeout, httpcore2.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore2.NetworkStream:
        left = _left(timeout, httpcore2.ConnectTimeout)
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, left))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore2.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore2.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.NetworkStream:
        left = _left(timeout, httpcore2.ConnectTimeout)
        return _Stream(self._inner.connect_tcp(host, port, left, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore2.NetworkStream:
        left = _left(timeout, httpcore2.ConnectTimeout)
        return _Stream(self._inner.connect_unix_socket(path, left, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class Transport(httpx2.HTTPTransport):
    """httpx's own transport over a connection pool whose sockets keep the deadline."""

    def __init__(self, ssl_context: ssl.SSLContext, connections: int = 10) -> None:
        # The parent's __init__ would build a pool without our backend: only its request handling is used.
        self._pool = httpcore2.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=connections,
            max_keepalive_connections=connections,
            keepalive_expiry=5.0,
            network_backend=_Backend(),
        )
