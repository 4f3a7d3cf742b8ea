"""A stand-in for the Kubernetes API server, in process: an httpx transport that keeps objects in a dict and
answers lightkube's requests as the API server's REST interface does (create, get, list with label
selectors, JSON merge patch of an object or of its status, replace and delete), with resourceVersions and
their preconditions (409 Conflict), 404 NotFound and 409 AlreadyExists as ``Status`` objects. No server,
no socket: unit tests of the operator's client and reconcile run against it.

Server-side apply (``application/apply-patch+yaml``) creates a missing object and merges into an existing
one (no field ownership). What it does not do: admission, validation, defaulting, watches, field
selectors, garbage collection.
Tests script failures with :meth:`FakeAPI.fail` (the next matching requests answer an error first).
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2
from lightkube.config.kubeconfig import KubeConfig

from kurator.kube.client import AsyncClient

_PATH = re.compile(
    r"^/(?:api/(?P<core>v1)|apis/(?P<group>[^/]+)/(?P<version>[^/]+))"
    r"(?:/namespaces/(?P<namespace>[^/]+))?/(?P<plural>[^/]+)(?:/(?P<name>[^/]+))?(?:/(?P<sub>[^/]+))?$"
)
_KINDS = {
    "jobs": "Job",
    "secrets": "Secret",
    "pods": "Pod",
    "events": "Event",
    "leases": "Lease",
    "configmaps": "ConfigMap",
    "customclusters": "CustomCluster",
    "custommachines": "CustomMachine",
    "clusters": "Cluster",
    "kubeadmcontrolplanes": "KubeadmControlPlane",
}


def merge(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge(out.get(k), v)
    return out


def _status(code: int, reason: str, message: str) -> httpx2.Response:
    body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code, "reason": reason}
    return httpx2.Response(code, json={**body, "message": message})


@dataclass
class Failure:
    method: str
    match: str
    """A substring of the request's path (and query)."""
    code: int
    times: int = 1


@dataclass
class FakeAPI:
    objects: dict[tuple[str, str, str, str], dict[str, Any]] = field(default_factory=dict)
    """By (api path prefix, plural, namespace, name)."""
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    """(method, path, body) of every request, in order."""
    failures: list[Failure] = field(default_factory=list)
    served: set[str] = field(default_factory=set)
    """Custom kinds the server serves, as ``plural`` (every version) or ``group/version/plural``; others
    answer a bare 404, as an absent CRD does. Empty: all."""
    on_request: Callable[[str, str], None] | None = None
    """Called with (method, path) before each request is answered (a test's hook to change things)."""
    down: bool = False
    """Nothing answers: every request fails to connect, as before an API server starts."""
    _versions: itertools.count[int] = field(default_factory=lambda: itertools.count(100))
    _uids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # -- for tests ---------------------------------------------------------------------------------

    def client(self) -> AsyncClient:
        """kurator's async client (its failures are kurator.kube.errors exceptions) talking to this."""
        config = KubeConfig.from_dict(
            {
                "clusters": [{"name": "fake", "cluster": {"server": "https://api.fake.invalid"}}],
                "users": [{"name": "fake", "user": {"token": "fake-token"}}],
                "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake"}}],
                "current-context": "fake",
            }
        ).get()
        return AsyncClient(config, timeout=5.0, transport=httpx2.MockTransport(self.handle))

    def fail(self, method: str, match: str, code: int, times: int = 1) -> None:
        """The next ``times`` ``method`` requests whose path contains ``match`` answer ``code``."""
        self.failures.append(Failure(method, match, code, times))

    def put(self, prefix: str, plural: str, doc: dict[str, Any]) -> dict[str, Any]:
        """Store ``doc`` as if created (uid, resourceVersion, creationTimestamp, generation)."""
        meta = doc.setdefault("metadata", {})
        meta.setdefault("uid", f"uid-{next(self._uids)}")
        meta.setdefault("creationTimestamp", "2026-12-01T10:00:00Z")
        meta.setdefault("generation", 1)
        meta["resourceVersion"] = str(next(self._versions))
        self.objects[(prefix, plural, meta.get("namespace", ""), meta["name"])] = doc
        return doc

    def get(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        for (_, p, ns, n), doc in self.objects.items():
            if (p, ns, n) == (plural, namespace, name):
                return doc
        return None

    def of(self, plural: str, namespace: str | None = None) -> list[dict[str, Any]]:
        return [d for (_, p, ns, _), d in self.objects.items() if p == plural and namespace in (None, ns)]

    def writes(self, method: str, match: str = "") -> list[tuple[str, str, Any]]:
        return [r for r in self.requests if r[0] == method and match in r[1]]

    # -- the transport -------------------------------------------------------------------------------

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        method, path = request.method, request.url.path
        if self.down:
            raise httpx2.ConnectError("[Errno 111] Connection refused", request=request)
        body = json.loads(request.content) if request.content else None
        self.requests.append((method, request.url.raw_path.decode(), copy.deepcopy(body)))
        if self.on_request is not None:
            self.on_request(method, path)
        for f in self.failures:
            if f.times > 0 and f.method == method and f.match in str(request.url):
                f.times -= 1
                reasons = {409: "Conflict", 404: "NotFound", 500: "InternalError", 503: "ServiceUnavailable"}
                return _status(f.code, reasons.get(f.code, "Failure"), f"scripted {f.code} for {path}")
        m = _PATH.match(path)
        if m is None:
            return httpx2.Response(404, text="404 page not found")
        prefix = "api/v1" if m["core"] else f"apis/{m['group']}/{m['version']}"
        plural, namespace, name, sub = m["plural"], m["namespace"] or "", m["name"], m["sub"]
        versioned = f"{m['group']}/{m['version']}/{plural}"
        if m["group"] and self.served and not {plural, versioned} & self.served:
            return httpx2.Response(404, text="404 page not found")
        key = (prefix, plural, namespace, name or "")
        if method == "GET" and name is None:
            return self._list(prefix, plural, m["namespace"], request.url.params.get("labelSelector"))
        if method == "POST":
            return self._create(prefix, plural, namespace, body)
        current = self.objects.get(key)
        applied = "apply-patch" in request.headers.get("content-type", "")
        if current is None and method == "PATCH" and applied:  # server-side apply creates what is missing
            return self._create(prefix, plural, namespace, body)
        if current is None:
            return _status(404, "NotFound", f'{plural} "{name}" not found')
        if method == "GET":
            return httpx2.Response(200, json=current)
        if method == "DELETE":
            del self.objects[key]
            return httpx2.Response(200, json=current)
        wanted = (body or {}).get("metadata", {}).get("resourceVersion")
        if wanted and wanted != current["metadata"]["resourceVersion"]:
            return _status(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on {plural} "{name}": '
                "the object has been modified; please apply your changes to the latest version",
            )
        if method == "PUT":
            new = copy.deepcopy(body)
        elif sub == "status":
            new = {**current, "status": merge(current.get("status"), (body or {}).get("status"))}
        else:
            patch = {k: v for k, v in (body or {}).items() if k != "status"}
            patch.get("metadata", {}).pop("resourceVersion", None)
            new = merge(current, patch)
        new["metadata"]["resourceVersion"] = str(next(self._versions))
        for kept in ("uid", "creationTimestamp"):
            new["metadata"][kept] = current["metadata"].get(kept)
        self.objects[key] = new
        return httpx2.Response(200, json=new)

    def _list(self, prefix: str, plural: str, namespace: str | None, selector: str | None) -> httpx2.Response:
        items = [
            d
            for (pre, p, ns, _), d in self.objects.items()
            if (pre, p) == (prefix, plural) and namespace in (None, ns) and _selected(d, selector)
        ]
        kind = _KINDS.get(plural, plural.title())
        return httpx2.Response(
            200,
            json={
                "kind": f"{kind}List",
                "apiVersion": "v1",
                "metadata": {"resourceVersion": "1"},
                "items": items,
            },
        )

    def _create(self, prefix: str, plural: str, namespace: str, body: dict[str, Any]) -> httpx2.Response:
        meta = body.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = f"{meta['generateName']}{next(self._uids):05d}"
        meta.setdefault("namespace", namespace)
        if (prefix, plural, namespace, meta["name"]) in self.objects:
            return _status(409, "AlreadyExists", f'{plural} "{meta["name"]}" already exists')
        doc = self.put(prefix, plural, body)
        doc["metadata"]["creationTimestamp"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return httpx2.Response(201, json=doc)


def _selected(doc: dict[str, Any], selector: str | None) -> bool:
    labels = (doc.get("metadata") or {}).get("labels") or {}
    for term in filter(None, (selector or "").split(",")):
        key, _, value = term.partition("=")
        if key not in labels or (value and labels[key] != value):
            return False
    return True
