"""The async API the operator uses (kurator.kube.asyncapi), against the in-process stand-in for the API
server (tests/unit/fakeapi.py): writes safe to repeat, list edits guarded by the resourceVersion they were
read at and retried on a 409 with a fresh read (nobody else's finalizer dropped), and the reads that take a
404 for "none"."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from kurator.api.resources import CUSTOM_CLUSTER, JOB, SECRET
from kurator.kube.asyncapi import CONFLICT_RETRIES, AsyncAPI
from kurator.kube.errors import NotFound
from tests.unit.fakeapi import FakeAPI

CC = "apis/cluster.kurator.dev/v1alpha1"
T = TypeVar("T")


def _run(fake: FakeAPI, work: Callable[[AsyncAPI], Awaitable[T]]) -> T:
    async def main() -> T:
        client = fake.client()
        try:
            return await work(AsyncAPI(client))
        finally:
            await client.close()

    return asyncio.run(main())


def _cluster(fake: FakeAPI, **meta: Any) -> dict[str, Any]:
    doc = {
        "apiVersion": "cluster.kurator.dev/v1alpha1",
        "kind": "CustomCluster",
        "metadata": {"name": "c1", "namespace": "ns", **meta},
        "spec": {"machineRef": {"name": "m1"}},
    }
    return fake.put(CC, "customclusters", doc)


def _secret(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": "ns"}}


def test_a_create_of_an_existing_name_is_done_not_an_error() -> None:
    fake = FakeAPI()

    async def work(api: AsyncAPI) -> tuple[bool, bool]:
        return await api.create(_secret("s")), await api.create(_secret("s"))

    assert _run(fake, work) == (True, False)
    assert len(fake.writes("POST", "/secrets")) == 2 and len(fake.of("secrets")) == 1


def test_a_finalizer_is_written_at_the_resource_version_it_was_read_at() -> None:
    fake = FakeAPI()
    body = _cluster(fake)
    written = _run(fake, lambda api: api.set_finalizer(CUSTOM_CLUSTER, body, "mine", True))
    assert written == ["mine"]
    ((_, _, patch),) = fake.writes("PATCH", "customclusters/c1")
    assert patch["metadata"] == {
        "finalizers": ["mine"],
        "resourceVersion": body["metadata"]["resourceVersion"],
    }
    assert fake.get("customclusters", "ns", "c1")["metadata"]["finalizers"] == ["mine"]  # type: ignore[index]


def test_a_conflict_is_retried_on_a_fresh_read_and_keeps_what_someone_else_wrote() -> None:
    fake = FakeAPI()
    seen = _cluster(fake)
    # Someone else adds their finalizer after the operator's view was taken: the view's resourceVersion is
    # stale, the API server refuses the patch (409), the client reads again and keeps both.
    stale = {**seen, "metadata": dict(seen["metadata"])}
    fake.put(CC, "customclusters", {**seen, "metadata": {**seen["metadata"], "finalizers": ["theirs"]}})
    written = _run(fake, lambda api: api.set_finalizer(CUSTOM_CLUSTER, stale, "mine", True))
    assert written == ["theirs", "mine"]
    patches = fake.writes("PATCH", "customclusters/c1")
    assert len(patches) == 2, "no retry after the conflict"
    assert patches[0][2]["metadata"]["resourceVersion"] == stale["metadata"]["resourceVersion"]
    assert patches[1][2]["metadata"]["resourceVersion"] != stale["metadata"]["resourceVersion"]
    assert fake.get("customclusters", "ns", "c1")["metadata"]["finalizers"] == ["theirs", "mine"]  # type: ignore[index]


def test_an_object_that_keeps_changing_is_given_up_after_a_bounded_number_of_conflicts() -> None:
    fake = FakeAPI()
    body = _cluster(fake)
    fake.fail("PATCH", "customclusters/c1", 409, times=CONFLICT_RETRIES)
    with pytest.raises(RuntimeError, match="kept changing"):
        _run(fake, lambda api: api.set_finalizer(CUSTOM_CLUSTER, body, "mine", True))
    assert len(fake.writes("PATCH", "customclusters/c1")) == CONFLICT_RETRIES


def test_nothing_is_written_when_the_list_already_says_it_and_a_gone_object_needs_no_release() -> None:
    fake = FakeAPI()
    body = _cluster(fake, finalizers=["mine"])
    assert _run(fake, lambda api: api.set_finalizer(CUSTOM_CLUSTER, body, "mine", True)) is None
    assert fake.writes("PATCH") == []
    gone = {**body, "metadata": {**body["metadata"], "name": "gone"}}
    assert _run(fake, lambda api: api.set_finalizer(CUSTOM_CLUSTER, gone, "mine", False)) is None
    with pytest.raises(NotFound):
        _run(fake, lambda api: api.set_finalizer(CUSTOM_CLUSTER, gone, "other", True))


def test_an_owner_is_added_once() -> None:
    fake = FakeAPI()
    body = _cluster(fake)
    owner = {"apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "Cluster", "name": "c", "uid": "u-c"}
    assert _run(fake, lambda api: api.add_owner(CUSTOM_CLUSTER, body, owner)) == [owner]
    fresh = fake.get("customclusters", "ns", "c1")
    assert fresh is not None
    assert _run(fake, lambda api: api.add_owner(CUSTOM_CLUSTER, fresh, owner)) is None


def test_a_status_patch_touches_only_the_status() -> None:
    fake = FakeAPI()
    _cluster(fake)
    _run(
        fake,
        lambda api: api.merge_patch(
            CUSTOM_CLUSTER, "ns", "c1", {"status": {"phase": "Pending"}}, status=True
        ),
    )
    ((_, path, _),) = fake.writes("PATCH")
    assert "/customclusters/c1/status" in path
    doc = fake.get("customclusters", "ns", "c1")
    assert (
        doc is not None
        and doc["status"] == {"phase": "Pending"}
        and doc["spec"] == {"machineRef": {"name": "m1"}}
    )


def test_reads_take_a_404_for_none_and_deletes_of_what_is_gone_are_done() -> None:
    fake = FakeAPI()
    fake.put("api/v1", "secrets", {**_secret("key"), "data": {"k": base64.b64encode(b"v").decode()}})

    async def work(api: AsyncAPI) -> list[Any]:
        return [
            await api.get(JOB, "ns", "nope"),
            await api.secret_value("ns", "key", "k"),
            await api.secret_value("ns", "key", "other"),
            await api.secret_value("ns", "nope", "k"),
            await api.delete(JOB, "ns", "nope"),
            (await api.get(SECRET, "ns", "key") or {}).get("metadata", {}).get("name"),
        ]

    assert _run(fake, work) == [None, b"v", None, None, None, "key"]


def test_a_list_selects_by_label_presence() -> None:
    fake = FakeAPI()
    labelled = {
        **_secret("a"),
        "metadata": {**_secret("a")["metadata"], "labels": {"kurator.dev/cluster": "c"}},
    }
    fake.put("api/v1", "secrets", labelled)
    fake.put("api/v1", "secrets", _secret("b"))

    async def work(api: AsyncAPI) -> list[str]:
        found = [d async for d in api.list_objects(SECRET, None, {"kurator.dev/cluster": None})]
        return [d["metadata"]["name"] for d in found]

    assert _run(fake, work) == ["a"]
    ((_, path, _),) = fake.writes("GET", "/secrets")
    assert "labelSelector=kurator.dev%2Fcluster" in path


def test_the_latest_pod_of_a_job_gives_its_termination_message() -> None:
    fake = FakeAPI()
    for name, created, message in (
        ("old", "2026-12-01T09:00:00Z", "first"),
        ("new", "2026-12-01T10:00:00Z", "second"),
    ):
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": "ns",
                "labels": {"job-name": "j"},
                "creationTimestamp": created,
            },
            "status": {
                "containerStatuses": [
                    {
                        "name": "c",
                        "image": "kubespray",
                        "imageID": "",
                        "ready": False,
                        "restartCount": 0,
                        "state": {"terminated": {"exitCode": 2, "message": message}},
                    }
                ]
            },
        }
        fake.put("api/v1", "pods", pod)
        pod["metadata"]["creationTimestamp"] = created
    assert _run(fake, lambda api: api.termination_message("ns", "j")) == "second"
    assert _run(fake, lambda api: api.termination_message("ns", "other")) is None


def test_an_event_that_cannot_be_posted_is_logged_never_raised(caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeAPI()
    body = _cluster(fake)
    fake.fail("POST", "/events", 500)

    async def work(api: AsyncAPI) -> None:
        now = __import__("datetime").datetime(2026, 12, 1, tzinfo=__import__("datetime").UTC)
        await api.event(body, "Warning", "Broken", "first", now)
        await api.event(body, "Normal", "Fine", "second", now)

    _run(fake, work)
    assert "could not post Event Broken" in caplog.text
    (event,) = fake.of("events", "ns")
    assert event["reason"] == "Fine" and event["involvedObject"]["uid"] == body["metadata"]["uid"]
    assert event["metadata"]["name"].startswith("c1.")
