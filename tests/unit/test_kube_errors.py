"""Status codes and transport failures become kurator.kube.errors exceptions at the client boundary, for
the sync and the async client alike, each naming what was being done and where. The API server is an
httpx fake transport (no server is started)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ConfigMap, Namespace
from lightkube.types import PatchType

from kurator.core.errors import KuratorError
from kurator.kube import client as kube_client
from kurator.kube import errors, ops
from kurator.kube.errors import describe

SERVER = "https://127.0.0.1:6443"
KUBECONFIG = {
    "clusters": [{"name": "c", "cluster": {"server": SERVER, "insecure-skip-tls-verify": True}}],
    "users": [{"name": "u", "user": {"token": "secret-token"}}],
    "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
    "current-context": "x",
}
Handler = Callable[[httpx2.Request], httpx2.Response]


def status(code: int, reason: str, message: str) -> httpx2.Response:
    body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code}
    body |= {"reason": reason, "message": message}
    return httpx2.Response(code, json=body)


def sync_client(handler: Handler) -> kube_client.Client:
    config = kube_client.config_of(KUBECONFIG)
    return kube_client.Client(config, timeout=5, transport=httpx2.MockTransport(handler))


def async_client(handler: Handler) -> kube_client.AsyncClient:
    config = kube_client.config_of(KUBECONFIG)
    return kube_client.AsyncClient(config, timeout=5, transport=httpx2.MockTransport(handler))


def test_describe_names_the_verb_the_kind_and_the_object() -> None:
    assert describe("GET", f"{SERVER}/api/v1/namespaces/kube-system/configmaps/x") == (
        "reading configmaps kube-system/x"
    )
    assert describe("GET", f"{SERVER}/apis/cluster.karmada.io/v1alpha1/clusters") == (
        "listing clusters.cluster.karmada.io"
    )
    assert describe("GET", f"{SERVER}/api/v1/namespaces/ns/pods?watch=true") == "watching pods in ns"
    assert describe("GET", f"{SERVER}/api/v1/namespaces/kube-system") == "reading namespaces kube-system"
    assert describe("POST", f"{SERVER}/api/v1/namespaces/ns/secrets") == "creating secrets in ns"
    assert describe("DELETE", f"{SERVER}/apis/rbac.authorization.k8s.io/v1/clusterroles/r") == (
        "deleting clusterroles.rbac.authorization.k8s.io r"
    )
    patch = describe(
        "PATCH", f"{SERVER}/apis/apps/v1/namespaces/ns/deployments/d", "application/apply-patch+yaml"
    )
    assert patch == "applying deployments.apps ns/d"
    assert describe("PATCH", f"{SERVER}/apis/k/v1/namespaces/ns/things/t/status") == (
        "patching the status of things.k ns/t"
    )
    proxied = f"{SERVER}/apis/cluster.karmada.io/v1alpha1/clusters/m1/proxy/api/v1/namespaces/n/services/s"
    assert describe("GET", proxied) == "reading services n/s on member m1 (through Karmada's cluster proxy)"
    assert describe("GET", f"{SERVER}/readyz") == "GET /readyz"
    long = describe("GET", f"{SERVER}/api/v1/namespaces/ns/configmaps/{'x' * 5000}")
    assert len(long) < 200


@pytest.mark.parametrize(
    ("answer", "expected", "transient"),
    [
        (status(404, "NotFound", 'configmaps "x" not found'), errors.NotFound, False),
        (httpx2.Response(404, text="404 page not found"), errors.NotFound, False),  # an unserved kind
        (status(409, "AlreadyExists", "exists"), errors.AlreadyExists, False),
        (status(409, "Conflict", "the object has been modified"), errors.Conflict, False),
        (status(403, "Forbidden", "no"), errors.Forbidden, False),
        (status(401, "Unauthorized", "Unauthorized"), errors.Unauthorized, False),
        (status(422, "Invalid", "spec.x: Invalid value"), errors.Invalid, False),
        (status(410, "Expired", "too old"), errors.Gone, False),
        (status(429, "TooManyRequests", "slow down"), errors.TooManyRequests, True),
        (status(503, "ServiceUnavailable", "error trying to reach service"), errors.ServerError, True),
    ],
)
def test_a_status_becomes_one_exception_naming_what_and_where(
    answer: httpx2.Response, expected: type[errors.RequestFailed], transient: bool
) -> None:
    api = sync_client(lambda _req: answer)
    with pytest.raises(expected) as caught:
        api.get(ConfigMap, "x", namespace="kube-system")
    exc = caught.value
    assert isinstance(exc, KuratorError)
    assert isinstance(exc, errors.Transient) is transient
    assert exc.code == answer.status_code
    assert exc.what == "reading configmaps kube-system/x"
    assert exc.endpoint == SERVER
    assert exc.message.startswith(
        f"reading configmaps kube-system/x at {SERVER} failed ({answer.status_code}"
    )
    assert "secret-token" not in str(exc)


def test_a_conflict_is_not_an_already_exists() -> None:
    api = sync_client(lambda _req: status(409, "Conflict", "modified"))
    with pytest.raises(errors.Conflict) as caught:
        api.patch(ConfigMap, "x", {"data": {}}, namespace="n", patch_type=PatchType.MERGE)
    assert not isinstance(caught.value, errors.AlreadyExists)
    assert caught.value.reason == "Conflict"
    assert caught.value.detail == "modified"


def test_lists_fail_as_they_are_iterated_and_the_async_client_is_the_same() -> None:
    seen: list[str] = []

    def handler(req: httpx2.Request) -> httpx2.Response:
        seen.append(req.url.path)
        return status(403, "Forbidden", "configmaps is forbidden")

    with pytest.raises(errors.Forbidden, match="listing configmaps in ns"):
        list(sync_client(handler).list(ConfigMap, namespace="ns"))

    async def on_async() -> None:
        api = async_client(handler)
        with pytest.raises(errors.Forbidden, match="listing configmaps in ns") as caught:
            _ = [o async for o in api.list(ConfigMap, namespace="ns")]
        assert caught.value.hint and "permission" in caught.value.hint
        with pytest.raises(errors.Forbidden, match="reading namespaces kube-system"):
            await api.get(Namespace, "kube-system")

    asyncio.run(on_async())
    assert seen == ["/api/v1/namespaces/ns/configmaps"] * 2 + ["/api/v1/namespaces/kube-system"]


@pytest.mark.parametrize(
    ("failure", "expected", "words"),
    [
        (httpx2.ConnectError("[Errno 111] Connection refused"), errors.Unreachable, "cannot connect to"),
        (httpx2.ReadTimeout("timed out"), errors.TimedOut, "did not answer"),
        (httpx2.RemoteProtocolError("Server disconnected"), errors.Disconnected, "broke off"),
        (httpx2.ReadError("connection reset"), errors.Disconnected, "broke off"),
    ],
)
def test_no_answer_is_transient_and_says_what_was_being_done(
    failure: Exception, expected: type[errors.NoAnswer], words: str
) -> None:
    def handler(_req: httpx2.Request) -> httpx2.Response:
        raise failure

    with pytest.raises(expected) as caught:
        sync_client(handler).get(ConfigMap, "x", namespace="kube-system")
    assert isinstance(caught.value, errors.Transient)
    assert words in caught.value.message
    assert SERVER in caught.value.message and "reading configmaps kube-system/x" in caught.value.message

    async def on_async() -> None:
        with pytest.raises(expected):
            await async_client(handler).get(ConfigMap, "x", namespace="kube-system")

    asyncio.run(on_async())


def test_an_over_long_name_is_an_invalid_request_not_a_crash() -> None:
    def handler(_req: httpx2.Request) -> httpx2.Response:  # pragma: no cover - never reached
        raise AssertionError("no request may be sent")

    with pytest.raises(errors.InvalidRequest) as caught:
        sync_client(handler).get(ConfigMap, "n" * 70000, namespace="kube-system")
    assert caught.value.exit_code == 2
    assert "reading configmaps kube-system/nnn" in caught.value.message
    assert len(caught.value.message) < 400


def test_a_watch_error_event_is_converted() -> None:
    event = {
        "type": "ERROR",
        "object": {"kind": "Status", "code": 410, "reason": "Expired", "message": "old"},
    }

    def handler(_req: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=json.dumps(event).encode() + b"\n")

    with pytest.raises(errors.Gone, match="old"):
        next(iter(sync_client(handler).watch(ConfigMap, namespace="ns")))


def test_ops_take_absent_and_existing_as_answers() -> None:
    calls: list[tuple[str, str]] = []

    def handler(req: httpx2.Request) -> httpx2.Response:
        calls.append((req.method, req.url.path))
        if req.method == "POST":
            return status(409, "AlreadyExists", "exists")
        return status(404, "NotFound", "not found")

    api = sync_client(handler)
    assert ops.get_or_none(api, ConfigMap, "x", "ns") is None
    assert ops.delete_if_present(api, ConfigMap, "x", "ns") is False
    assert ops.create_if_absent(api, ConfigMap(metadata=ObjectMeta(name="x", namespace="ns"))) is False

    async def on_async() -> Any:
        a = async_client(handler)
        return (
            await ops.aget_or_none(a, ConfigMap, "x", "ns"),
            await ops.adelete_if_present(a, ConfigMap, "x", "ns"),
            await ops.acreate_if_absent(a, ConfigMap(metadata=ObjectMeta(name="x", namespace="ns"))),
        )

    assert asyncio.run(on_async()) == (None, False, False)
    assert [m for m, _ in calls] == ["GET", "DELETE", "POST"] * 2


def test_other_failures_are_raised_not_swallowed_by_ops() -> None:
    api = sync_client(lambda _req: status(500, "InternalError", "etcd is down"))
    with pytest.raises(errors.ServerError, match="etcd is down"):
        ops.get_or_none(api, ConfigMap, "x", "ns")


def test_plain_http_calls_refuse_an_over_long_url_before_sending() -> None:
    from kurator.kube import http

    with pytest.raises(errors.InvalidRequest) as caught:
        http.get("http://127.0.0.1:1/api/v1/query?x=" + "q" * 70000, what="querying Thanos Query")
    assert caught.value.message.startswith(
        "cannot make the request for querying Thanos Query at http://127.0.0.1:1: URL"
    )


def test_a_429_with_retry_after_is_asked_again_within_the_deadline() -> None:
    answers: list[int] = []

    def initializing(req: httpx2.Request) -> httpx2.Response:
        # A new CRD's storage: twice "come back in a second", then the list.
        answers.append(len(answers))
        if len(answers) <= 2:
            reply = status(429, "TooManyRequests", "storage is (re)initializing")
            reply.headers["Retry-After"] = "0"
            return reply
        return httpx2.Response(200, json={"kind": "ConfigMapList", "apiVersion": "v1", "items": []})

    assert list(sync_client(initializing).list(ConfigMap, namespace="ns")) == []
    assert len(answers) == 3

    async def on_async() -> None:
        answers.clear()
        assert [o async for o in async_client(initializing).list(ConfigMap, namespace="ns")] == []
        assert len(answers) == 3

    asyncio.run(on_async())


def test_a_429_is_given_up_at_the_deadline_or_without_retry_after() -> None:
    asked: list[str] = []

    def busy(req: httpx2.Request) -> httpx2.Response:
        asked.append(req.url.path)
        reply = status(429, "TooManyRequests", "too many requests")
        if req.url.path.endswith("/later"):
            reply.headers["Retry-After"] = "30"  # beyond the client's 5 s deadline: answered at once
        return reply

    with pytest.raises(errors.TooManyRequests):
        sync_client(busy).get(ConfigMap, "later", namespace="ns")
    with pytest.raises(errors.TooManyRequests):
        sync_client(busy).get(ConfigMap, "now", namespace="ns")
    assert len(asked) == 2
