"""Typed Kubernetes clients (lightkube), sync and async, built from kubeconfig files or from a kubeconfig
held in memory. They are lightkube's clients with one difference at the boundary: every failure comes out
as an exception of :mod:`kurator.kube.errors` naming what was being done and where, and every request has
an overall deadline (:mod:`kurator.kube.deadline`)."""

from __future__ import annotations

import asyncio
import copy
import json
import ssl
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import lightkube
from lightkube import ApiError
from lightkube.config.client_adapter import ConnectionParams, verify_cluster
from lightkube.config.kubeconfig import KubeConfig, SingleConfig
from lightkube.core.exceptions import ConfigError
from lightkube.core.generic_client import BasicRequest, GenericAsyncClient, GenericSyncClient
from lightkube.types import OnErrorHandler, on_error_raise

from kurator.core import inputs
from kurator.core.errors import InvalidInput, KuratorError, shown
from kurator.kube import deadline, errors, kubeconfig
from kurator.kube.deadline import DEFAULT_REQUEST_TIMEOUT

FIELD_MANAGER = "kurator"


# --- the boundary --------------------------------------------------------------------------------------


def _what(request: httpx2.Request) -> tuple[str, str]:
    url = str(request.url)
    return errors.describe(request.method, url, request.headers.get("content-type", "")), errors.endpoint_of(
        url
    )


def check(response: httpx2.Response) -> None:
    """Raise the exception of :mod:`kurator.kube.errors` for an error status; nothing for a success."""
    if 200 <= response.status_code < 300:
        return
    what, endpoint = _what(response.request)
    try:
        body = response.read()
    except httpx2.HTTPError:  # a streamed answer whose body cannot be read any more
        body = b""
    raise errors.for_status(
        response.status_code,
        body,
        response.headers.get("content-type", ""),
        what=what,
        endpoint=endpoint,
    )


def _no_answer(exc: Exception, request: httpx2.Request | None, limit: float | None) -> errors.NoAnswer:
    if request is None and isinstance(exc, httpx2.RequestError):
        try:
            request = exc.request
        except RuntimeError:  # httpx raises this when the error carries no request
            request = None
    what, endpoint = _what(request) if request is not None else ("a request", "the server")
    return errors.for_transport(exc, what=what, endpoint=endpoint, deadline=limit)


def _converted(exc: Exception, request: httpx2.Request | None, limit: float | None) -> errors.KubeError:
    """A watch's failure as one of ours (lightkube raises its ApiError for an ERROR event)."""
    if isinstance(exc, ApiError) and exc.response is None:
        status = exc.status
        body = {"reason": status.reason or "", "message": status.message or ""}
        what, endpoint = _what(request) if request is not None else ("watching", "the server")
        return errors.for_status(
            int(status.code or 500), json.dumps(body).encode(), "json", what=what, endpoint=endpoint
        )
    if isinstance(exc, httpx2.HTTPStatusError):
        try:
            check(exc.response)
        except errors.KubeError as converted:
            return converted
    return _no_answer(exc, request, limit)


# As client-go does, a 429 that says when to come back (Retry-After) is asked again within the request's
# deadline: the API server answers so while a new CRD's storage initialises ("storage is (re)initializing",
# for seconds after an install, longer on a busy machine) or when it sheds load. A 429 was not processed,
# so any verb may be sent again. This is the one place 429s are waited out: callers see one only when the
# deadline (or the count, for a request without one) is spent.
MAX_RETRIES = 30
MAX_RETRY_WAIT = 10.0


def retry_after(response: httpx2.Response) -> float | None:
    """How long to wait before asking again, for a 429 with a Retry-After in seconds; else None."""
    if response.status_code != 429:
        return None
    raw = response.headers.get("retry-after", "").strip()
    return min(float(raw), MAX_RETRY_WAIT) if raw.isdigit() else None


def _server(config: SingleConfig | None) -> str:
    return config.cluster.server if config is not None else "the API server"


class _SyncBoundary(GenericSyncClient):
    request_timeout: float | None = DEFAULT_REQUEST_TIMEOUT

    def build_adapter_request(self, br: BasicRequest) -> httpx2.Request:
        try:
            return super().build_adapter_request(br)
        except httpx2.InvalidURL as exc:
            what = errors.describe(br.method, "/" + br.url)
            raise errors.for_invalid_url(exc, what=what, endpoint=_server(self.config)) from exc

    def send(self, req: httpx2.Request, stream: bool = False) -> httpx2.Response:
        try:
            if stream:  # a watch or a followed log: long by design, bounded by its own parameters
                response: httpx2.Response = super().send(req, stream=True)
                return response
            with deadline.started(self.request_timeout):
                for _ in range(MAX_RETRIES):
                    response = super().send(req)
                    wait = retry_after(response)
                    left = deadline.left()
                    if wait is None or (left is not None and left <= wait):
                        return response
                    response.close()
                    time.sleep(wait)
                response = super().send(req)
                return response
        except httpx2.TransportError as exc:
            raise _no_answer(exc, req, self.request_timeout) from exc

    @staticmethod
    def raise_for_status(resp: httpx2.Response) -> None:
        check(resp)

    def watch(self, br: BasicRequest, on_error: OnErrorHandler = on_error_raise) -> Iterator[Any]:
        try:
            yield from super().watch(br, on_error)
        except (ApiError, httpx2.HTTPError) as exc:
            raise _converted(exc, None, None) from exc


class _AsyncBoundary(GenericAsyncClient):
    request_timeout: float | None = DEFAULT_REQUEST_TIMEOUT

    def build_adapter_request(self, br: BasicRequest) -> httpx2.Request:
        try:
            return super().build_adapter_request(br)
        except httpx2.InvalidURL as exc:
            what = errors.describe(br.method, "/" + br.url)
            raise errors.for_invalid_url(exc, what=what, endpoint=_server(self.config)) from exc

    async def send(self, req: httpx2.Request, stream: bool = False) -> httpx2.Response:
        try:
            if stream:
                response: httpx2.Response = await super().send(req, stream=True)  # type: ignore[no-untyped-call]
                return response
            loop = asyncio.get_running_loop()
            async with asyncio.timeout(self.request_timeout) as limit:
                for _ in range(MAX_RETRIES):
                    response = await super().send(req)  # type: ignore[no-untyped-call]
                    wait = retry_after(response)
                    until = limit.when()
                    if wait is None or (until is not None and until - loop.time() <= wait):
                        return response
                    await response.aclose()
                    await asyncio.sleep(wait)
                response = await super().send(req)  # type: ignore[no-untyped-call]
                return response
        except (httpx2.TransportError, TimeoutError) as exc:
            raise _no_answer(exc, req, self.request_timeout) from exc

    @staticmethod
    def raise_for_status(resp: httpx2.Response) -> None:
        check(resp)

    async def watch(self, br: BasicRequest, on_error: OnErrorHandler = on_error_raise) -> AsyncIterator[Any]:
        try:
            async for event in super().watch(br, on_error):
                yield event
        except (ApiError, httpx2.HTTPError) as exc:
            raise _converted(exc, None, None) from exc


def _params(config: SingleConfig, timeout: float | None, transport: Any) -> ConnectionParams:
    # Each network step (connect, read, write) is bounded too: by the deadline itself, as a whole request is.
    return ConnectionParams(timeout=httpx2.Timeout(timeout), trust_env=False, transport=transport)


def _check_server(config: SingleConfig) -> None:
    """A kubeconfig's server that no request could be sent to is named with its file before any request."""
    if problem := inputs.url_problem(config.cluster.server):
        where = f"kubeconfig {config.fname}" if config.fname else "the kubeconfig"
        raise InvalidInput(
            f"{where} names server {shown(config.cluster.server)}, which cannot be used: {problem}",
            f"fix the server of cluster {shown(config.context.cluster)} there",
        )


def _ssl(config: SingleConfig) -> Any:
    """The TLS context for the config's server and user; a file it names that cannot be used is an error
    naming that file."""
    assert config.user is not None
    try:
        return verify_cluster(config.cluster, config.user, config.abs_file, trust_env=False)
    except (ConfigError, OSError, ssl.SSLError) as exc:
        where = f"kubeconfig {config.fname}" if config.fname else "the kubeconfig"
        raise InvalidInput(
            f"{where} cannot be used for {config.cluster.server}: {exc}",
            "check the certificate and key files or data it names",
        ) from None


class Client(lightkube.Client):
    """lightkube's Client whose failures are :mod:`kurator.kube.errors` exceptions and whose every request
    ends within ``timeout`` seconds (None: no overall deadline)."""

    def __init__(
        self,
        config: SingleConfig,
        timeout: float | None = DEFAULT_REQUEST_TIMEOUT,
        dry_run: bool = False,
        transport: httpx2.BaseTransport | None = None,
    ) -> None:
        _check_server(config)
        self._timeout = httpx2.Timeout(timeout)
        transport = transport or deadline.Transport(_ssl(config))
        self._client = _SyncBoundary(
            _params(config, timeout, transport), config, field_manager=FIELD_MANAGER, dry_run=dry_run
        )
        self._client.request_timeout = timeout


class AsyncClient(lightkube.AsyncClient):
    """As :class:`Client`, asynchronous; ``connections`` bounds (and keeps open) its pool's connections."""

    def __init__(
        self,
        config: SingleConfig,
        timeout: float | None = DEFAULT_REQUEST_TIMEOUT,
        connections: int | None = None,
        dry_run: bool = False,
        transport: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        _check_server(config)
        self._timeout = httpx2.Timeout(timeout)
        if transport is None and connections is not None:
            transport = httpx2.AsyncHTTPTransport(
                verify=_ssl(config),
                limits=httpx2.Limits(max_connections=connections, max_keepalive_connections=connections),
            )
        self._client = _AsyncBoundary(
            _params(config, timeout, transport), config, field_manager=FIELD_MANAGER, dry_run=dry_run
        )
        self._client.request_timeout = timeout


# --- building clients ----------------------------------------------------------------------------------


def _with_suffix(data: dict[str, Any], chosen: str, server_suffix: str) -> dict[str, Any]:
    data = copy.deepcopy(data)
    ctx = next(c["context"] for c in data["contexts"] if c["name"] == chosen)
    for entry in data.get("clusters", []):
        if entry["name"] == ctx.get("cluster"):
            entry["cluster"]["server"] = entry["cluster"]["server"].rstrip("/") + server_suffix
    return data


def config_of(
    data: dict[str, Any],
    context: str | None = None,
    server_suffix: str = "",
    source: str = "the kubeconfig given",
    file: Path | None = None,
) -> SingleConfig:
    """The chosen context of a kubeconfig held in memory (``source`` names it in errors; relative file
    paths in it are taken relative to ``file``, the file it was read from, if any)."""
    kubeconfig.check_shape(data, source)
    chosen = kubeconfig.check_context(data, context, source)
    if server_suffix:
        data = _with_suffix(data, chosen, server_suffix)
    config = KubeConfig.from_dict(data, fname=file).get(context_name=chosen)
    if config is None or config.user is None:
        raise KuratorError(f"context {chosen!r} of {source} cannot be used")
    return config


def config(path: Path, context: str | None = None, server_suffix: str = "") -> SingleConfig:
    """The chosen context of the kubeconfig at ``path``; fails clearly on a bad file or context."""
    return config_of(kubeconfig.load(path), context, server_suffix, str(path), path)


def client(
    path: Path,
    context: str | None = None,
    timeout: float | None = DEFAULT_REQUEST_TIMEOUT,
    server_suffix: str = "",
) -> Client:
    """A client for ``context`` in the kubeconfig at ``path``; fails clearly on a bad file or context.
    ``server_suffix`` is appended to the server URL (e.g. an API proxy path)."""
    return Client(config(path, context, server_suffix), timeout)


def async_client(
    path: Path,
    context: str | None = None,
    timeout: float | None = DEFAULT_REQUEST_TIMEOUT,
    server_suffix: str = "",
) -> AsyncClient:
    """As ``client``, for many clusters at once in one thread."""
    return AsyncClient(config(path, context, server_suffix), timeout)


def from_kubeconfig(
    data: dict[str, Any] | str | bytes,
    context: str | None = None,
    timeout: float | None = DEFAULT_REQUEST_TIMEOUT,
    source: str = "the kubeconfig given",
) -> Client:
    """A client from a kubeconfig held in memory (a dict, or its YAML text): nothing is written to disk."""
    doc = data if isinstance(data, dict) else kubeconfig.parse(data, source)
    return Client(config_of(doc, context, source=source), timeout)


def async_from_kubeconfig(
    data: dict[str, Any] | str | bytes,
    context: str | None = None,
    timeout: float | None = DEFAULT_REQUEST_TIMEOUT,
    source: str = "the kubeconfig given",
) -> AsyncClient:
    doc = data if isinstance(data, dict) else kubeconfig.parse(data, source)
    return AsyncClient(config_of(doc, context, source=source), timeout)


@dataclass(frozen=True)
class Access:
    """How to reach one API server: a kubeconfig (one file, or several merged as kubectl merges
    ``$KUBECONFIG``), a context in it, and the overall deadline of each request."""

    path: Path
    context: str | None = None
    timeout: float | None = DEFAULT_REQUEST_TIMEOUT
    paths: tuple[Path, ...] = field(default=())  # every file merged, ``path`` first; empty: just ``path``

    @staticmethod
    def resolve(
        explicit: str | None, context: str | None = None, timeout: float | None = DEFAULT_REQUEST_TIMEOUT
    ) -> Access:
        """``--kubeconfig`` when given, else ``$KUBECONFIG`` (every file, merged), else ~/.kube/config."""
        paths = kubeconfig.resolve(explicit)
        return Access(paths[0], context, timeout, tuple(paths) if len(paths) > 1 else ())

    def data(self) -> dict[str, Any]:
        return kubeconfig.load_merged(list(self.paths)) if self.paths else kubeconfig.load(self.path)

    @property
    def source(self) -> str:
        return ":".join(str(p) for p in self.paths) if self.paths else str(self.path)

    def config(self, server_suffix: str = "") -> SingleConfig:
        if not self.paths:
            return config(self.path, self.context, server_suffix)
        return config_of(self.data(), self.context, server_suffix, self.source)

    def _timeout(self, timeout: float | None) -> float | None:
        if timeout is None:
            return self.timeout
        return timeout if self.timeout is None else min(timeout, self.timeout)

    def client(self, timeout: float | None = None, server_suffix: str = "") -> Client:
        """A client; ``timeout`` may only shorten the deadline the user chose."""
        return Client(self.config(server_suffix), self._timeout(timeout))

    def async_client(
        self, timeout: float | None = None, server_suffix: str = "", connections: int | None = None
    ) -> AsyncClient:
        return AsyncClient(self.config(server_suffix), self._timeout(timeout), connections)
