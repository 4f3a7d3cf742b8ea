"""What a failed call to an API server means, as exceptions raised once, at the client boundary.

Every client kurator builds (:mod:`kurator.kube.client`, sync and async, and :mod:`kurator.kube.http`)
turns HTTP status codes and transport failures into these, so callers catch ``NotFound`` or ``Transient``
and never look at a status code. Each message is one sentence naming what was being done and where
(``reading configmaps kube-system/x at https://127.0.0.1:6443``). Modelled on kopf's
``_cogs/clients/errors.py``.

    KubeError (a KuratorError: the CLI prints it as a clear line)
    ├── RequestFailed: the server answered with an error status (``code``, ``reason``)
    │   ├── BadRequest 400, Unauthorized 401, Forbidden 403, NotFound 404, Gone 410, Invalid 422
    │   ├── Conflict 409 └── AlreadyExists (409 on create)
    │   └── TooManyRequests 429, ServerError 5xx   (both also Transient)
    ├── Transient: worth trying again later
    │   └── NoAnswer: no usable answer at all
    │       ├── Unreachable (could not connect), TimedOut (deadline passed), Disconnected (connection lost)
    └── InvalidRequest: the request could not even be built (an over-long name makes the URL invalid)
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from kurator.core.errors import KuratorError

PROXY_PREFIX = ("apis", "cluster.karmada.io", "v1alpha1", "clusters")


class KubeError(KuratorError):
    """A call to an API server (or another HTTP endpoint kurator talks to) failed."""

    def __init__(self, message: str, hint: str | None = None, *, what: str = "", endpoint: str = "") -> None:
        super().__init__(message, hint)
        self.what = what  # e.g. "reading configmaps kube-system/x"
        self.endpoint = endpoint  # e.g. "https://127.0.0.1:6443"


class Transient(KubeError):
    """A failure that may pass: the server is overloaded, restarting, or cannot be reached right now."""


class RequestFailed(KubeError):
    """The server answered with an error status."""

    code = 0

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        what: str = "",
        endpoint: str = "",
        code: int = 0,
        reason: str = "",
        detail: str = "",
    ) -> None:
        super().__init__(message, hint, what=what, endpoint=endpoint)
        self.code = code or type(self).code
        self.reason = reason  # Kubernetes' Status reason, e.g. "AlreadyExists"
        self.detail = detail  # the server's own message


class BadRequest(RequestFailed):
    code = 400


class Unauthorized(RequestFailed):
    code = 401


class Forbidden(RequestFailed):
    code = 403


class NotFound(RequestFailed):
    """The object is not there, or its kind is not served (before its CRD, a bare 404)."""

    code = 404


class Conflict(RequestFailed):
    """A write lost a race (stale resourceVersion), or the object already exists."""

    code = 409


class AlreadyExists(Conflict):
    """A create found an object of that name."""


class Gone(RequestFailed):
    code = 410


class Invalid(RequestFailed):
    """The object was refused by validation (OpenAPI, CEL, admission)."""

    code = 422


class TooManyRequests(RequestFailed, Transient):
    code = 429


class ServerError(RequestFailed, Transient):
    code = 500


class NoAnswer(Transient):
    """No usable answer came back."""


class Unreachable(NoAnswer):
    """The connection could not be made (refused, no route, TLS handshake failed, name not resolved)."""


class TimedOut(NoAnswer):
    """The request's overall deadline passed before the answer was complete."""


class Disconnected(NoAnswer):
    """The server closed the connection, or broke the protocol, before answering in full."""


class InvalidRequest(KubeError):
    """The request could not be built, e.g. a name so long that the URL is invalid."""

    exit_code = 2


_BY_CODE: dict[int, type[RequestFailed]] = {
    c.code: c
    for c in (BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Gone, Invalid, TooManyRequests)
}

_HINTS = {
    401: "the kubeconfig's credentials were not accepted: they may have expired or belong to another cluster",
    403: "the kubeconfig's user is not allowed to do this: use another context or ask for the permission",
}

# --- naming what a request does ----------------------------------------------------------------------

_VERBS = {"POST": "creating", "PUT": "replacing", "DELETE": "deleting", "HEAD": "checking"}


def endpoint_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else url


def describe(method: str, url: str, content_type: str = "") -> str:
    """What a Kubernetes API request does, in words: ``listing clusters.cluster.karmada.io``, ``applying
    deployments kube-system/x on member m1 (through Karmada's cluster proxy)``."""
    parts = urlsplit(url)
    segments = [_clip(unquote(s), 80) for s in parts.path.split("/") if s]
    member = ""
    if tuple(segments[:4]) == PROXY_PREFIX and len(segments) > 5 and segments[5] == "proxy":
        member, segments = segments[4], segments[6:]
    if segments[:1] == ["api"] and len(segments) >= 2:
        group, rest = "", segments[2:]
    elif segments[:1] == ["apis"] and len(segments) >= 3:
        group, rest = segments[1], segments[3:]
    else:
        where = f" on member {member} (through Karmada's cluster proxy)" if member else ""
        return f"{method} /{'/'.join(segments)}{where}"
    namespace = ""
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    plural = rest[0] if rest else "resources"
    name = rest[1] if len(rest) > 1 else ""
    sub = rest[2] if len(rest) > 2 else ""
    if method == "GET":
        watch = parse_qs(parts.query).get("watch") == ["true"]
        verb = "watching" if watch else "reading" if name else "listing"
    elif method == "PATCH":
        verb = "applying" if "apply-patch" in content_type else "patching"
    else:
        verb = _VERBS.get(method, method)
    kind = f"{plural}.{group}" if group else plural
    target = f"{namespace}/{name}" if namespace and name else name or (f"in {namespace}" if namespace else "")
    text = " ".join(p for p in (verb, kind if not sub else f"the {sub} of {kind}", target) if p)
    if member:
        text += f" on member {member} (through Karmada's cluster proxy)"
    return _clip(text)


def _clip(text: str, limit: int = 200) -> str:
    """Names in messages are cut: an over-long one must not flood the terminal."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- building the exceptions -------------------------------------------------------------------------


def _status(body: bytes, content_type: str) -> tuple[str, str]:
    """(reason, message) from a Kubernetes Status body, or from whatever text the server sent."""
    if "json" in content_type:
        try:
            data: Any = json.loads(body)
        except ValueError:
            data = None
        if isinstance(data, dict):
            return str(data.get("reason") or ""), str(data.get("message") or "")
    text = body.decode("utf-8", errors="replace").strip()
    return "", _clip(" ".join(text.split()), 300)


def for_status(code: int, body: bytes, content_type: str, *, what: str, endpoint: str) -> RequestFailed:
    """The exception for an error status ``code`` answered to ``what``."""
    reason, detail = _status(body, content_type)
    if code == 409 and reason == "AlreadyExists":
        cls: type[RequestFailed] = AlreadyExists
    elif code >= 500:
        cls = ServerError
    else:
        cls = _BY_CODE.get(code, RequestFailed)
    said = f"{code} {reason}".strip()
    message = f"{what} at {endpoint} failed ({said})" + (f": {detail}" if detail else "")
    return cls(
        message, _HINTS.get(code), what=what, endpoint=endpoint, code=code, reason=reason, detail=detail
    )


_QUIET = {  # what httpx's errors that carry no text mean
    "ReadError": "the connection was closed or reset",
    "WriteError": "the connection was closed or reset",
    "ConnectError": "the connection was refused",
}


def for_transport(
    exc: Exception,
    *,
    what: str,
    endpoint: str,
    deadline: float | None,
    address_from: str = "the kubeconfig's server",
) -> NoAnswer:
    """The exception for a request that got no usable answer: ``exc`` is httpx's (or asyncio's) error;
    ``address_from`` says where the user set the address that did not answer."""
    name = type(exc).__name__
    reason = str(exc) or _QUIET.get(name, name)
    if isinstance(exc, TimeoutError) or "Timeout" in name:
        within = f" within {deadline:g}s" if deadline else ""
        return TimedOut(
            f"{endpoint} did not answer {what}{within}"
            + (" (no connection made)" if "Connect" in name else ""),
            "the server is stuck or very slow: check it, or raise --request-timeout if it is only slow",
            what=what,
            endpoint=endpoint,
        )
    if name in ("ConnectError", "ProxyError", "UnsupportedProtocol"):
        return Unreachable(
            f"cannot connect to {endpoint} while {what}: {reason}",
            f"check that the server runs and that its address ({address_from}) is right",
            what=what,
            endpoint=endpoint,
        )
    return Disconnected(
        f"{endpoint} broke off {what}: {reason}",
        "the server may have stopped or restarted: run the same command again once it answers",
        what=what,
        endpoint=endpoint,
    )


def for_invalid_url(exc: Exception, *, what: str, endpoint: str) -> InvalidRequest:
    return InvalidRequest(
        f"cannot make the request for {what} at {endpoint}: {exc}",
        "a name or value in the request is too long or malformed: shorten it",
        what=what,
        endpoint=endpoint,
    )


def not_found(exc: Exception) -> bool:
    """A 404 from a raw lightkube client (one not built by :mod:`kurator.kube.client`), or ``NotFound``.
    Kept until the operator's own async client is built here too; new code catches ``NotFound``."""
    if isinstance(exc, NotFound):
        return True
    status = getattr(exc, "status", None)
    if status is not None and getattr(status, "code", None) is not None:
        return bool(status.code == 404)
    response = getattr(exc, "response", None)
    return response is not None and getattr(response, "status_code", None) == 404
