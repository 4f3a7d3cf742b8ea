"""Plain HTTP calls (health endpoints, Thanos Query's API, an object store, release downloads) with the
same boundary as the Kubernetes clients: an overall deadline on every request, and failures raised as
:mod:`kurator.kube.errors` exceptions whose message names what was being done and where.

    answer = http.request("GET", f"{url}/api/v1/query", what="querying Thanos Query", params={...})
    answer.json()
"""

from __future__ import annotations

import hashlib
import json
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import httpx2

from kurator.kube import deadline, errors
from kurator.kube.deadline import DEFAULT_REQUEST_TIMEOUT

Verify = ssl.SSLContext | bool
LIMIT = 64 * 2**20  # bytes an answer may have


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)  # names in lower case

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON (raises ValueError when it is not)."""
        return json.loads(self.body)


def _client(verify: Verify, timeout: float | None, trust_env: bool, follow: bool) -> httpx2.Client:
    context = (
        verify
        if isinstance(verify, ssl.SSLContext)
        else httpx2.create_ssl_context(verify, trust_env=trust_env)
    )
    return httpx2.Client(
        transport=deadline.Transport(context, connections=2),
        timeout=httpx2.Timeout(timeout),
        trust_env=trust_env,
        follow_redirects=follow,
    )


def _endpoint(url: str) -> str:
    return errors.endpoint_of(url)


def request(
    method: str,
    url: str,
    *,
    what: str,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    content: bytes | None = None,
    verify: Verify = True,
    auth: tuple[str, str] | None = None,
    timeout: float | None = DEFAULT_REQUEST_TIMEOUT,
    trust_env: bool = False,
    check: bool = True,
    limit: int = LIMIT,
    follow_redirects: bool = False,
) -> Answer:
    """One request, complete within ``timeout`` seconds. With ``check`` an error status raises
    (``NotFound``, ``ServerError``, ...); without, it is returned for the caller to judge."""
    endpoint = _endpoint(url)
    try:
        with (
            _client(verify, timeout, trust_env, follow=follow_redirects) as client,
            deadline.started(timeout),
            client.stream(method, url, params=params, headers=headers, content=content, auth=auth) as resp,
        ):
            body = _read(resp, limit, what, endpoint)
    except httpx2.InvalidURL as exc:
        raise errors.for_invalid_url(exc, what=what, endpoint=endpoint) from exc
    except httpx2.TransportError as exc:
        raise errors.for_transport(
            exc, what=what, endpoint=endpoint, deadline=timeout, address_from="the URL"
        ) from exc
    answer = Answer(resp.status_code, body, {k.lower(): v for k, v in resp.headers.items()})
    if check and not answer.ok:
        raise errors.for_status(
            resp.status_code, body, answer.headers.get("content-type", ""), what=what, endpoint=endpoint
        )
    return answer


def _read(resp: httpx2.Response, limit: int, what: str, endpoint: str) -> bytes:
    """The body, refused past ``limit`` bytes: a server must not make kurator hold gigabytes."""
    chunks, size = [], 0
    for chunk in resp.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise errors.KubeError(
                f"{endpoint} answered {what} with more than {limit // 2**20} MiB",
                "this is not the server kurator expects there: check the address",
                what=what,
                endpoint=endpoint,
            )
        chunks.append(chunk)
    return b"".join(chunks)


def get(url: str, *, what: str, **options: Any) -> Answer:
    return request("GET", url, what=what, **options)


Sender = Callable[..., tuple[int, Mapping[str, str]]]


def sender(timeout: float | None = DEFAULT_REQUEST_TIMEOUT, trust_env: bool = False) -> Sender:
    """``send(method, url, *, what, headers, verify) -> (status, headers)``: one request whatever its status
    (for callers that judge statuses themselves, such as the object-store check), with the deadline and
    errors of :func:`request`."""

    def send(
        method: str, url: str, *, what: str, headers: Mapping[str, str], verify: Verify
    ) -> tuple[int, Mapping[str, str]]:
        answer = request(
            method,
            url,
            what=what,
            headers=headers,
            verify=verify,
            timeout=timeout,
            trust_env=trust_env,
            check=False,
        )
        return answer.status, answer.headers

    return send


BytesCallback = Callable[[int, int | None], None]  # bytes done, total (if known)


def download(
    url: str,
    out: BinaryIO,
    *,
    what: str,
    timeout: float | None = 1800.0,
    on_bytes: BytesCallback | None = None,
) -> str:
    """Stream ``url`` (redirects followed, proxies from the environment honoured) into ``out``; returns the
    sha256 of what arrived. A body cut short, or not complete within ``timeout``, is an error."""
    endpoint = _endpoint(url)
    digest = hashlib.sha256()
    done = 0
    total: int | None = None
    try:
        with (
            _client(True, min(timeout or 60.0, 60.0), trust_env=True, follow=True) as client,
            deadline.started(timeout),
            client.stream("GET", url) as resp,
        ):
            if not 200 <= resp.status_code < 300:
                resp.read()
                raise errors.for_status(
                    resp.status_code,
                    resp.content,
                    resp.headers.get("content-type", ""),
                    what=what,
                    endpoint=endpoint,
                )
            total = int(resp.headers["content-length"]) if "content-length" in resp.headers else None
            for chunk in resp.iter_bytes(1 << 20):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if on_bytes:
                    on_bytes(done, total)
    except httpx2.InvalidURL as exc:
        raise errors.for_invalid_url(exc, what=what, endpoint=endpoint) from exc
    except httpx2.TransportError as exc:
        raise errors.for_transport(
            exc,
            what=f"{what} (after {done} bytes)",
            endpoint=endpoint,
            deadline=timeout,
            address_from="the URL",
        ) from exc
    if total is not None and done != total:
        raise errors.Disconnected(
            f"{endpoint} broke off {what}: got {done} of {total} bytes",
            "run the same command again",
            what=what,
            endpoint=endpoint,
        )
    return digest.hexdigest()
