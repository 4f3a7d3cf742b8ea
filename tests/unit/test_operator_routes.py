"""The provider seam: every kind the registered providers watch is listed and watched once, children before
the kinds reconciled; each event reaches the mappers of every provider watching its kind, and the keys they
return land in that provider's own queue; the first listing takes the first served version of a kind,
skips an optional kind that is not served and names a required one. A second provider is a registration,
nothing else (here a stand-in provider of a made-up kind)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from kurator.api.resources import CUSTOM_CLUSTER, CUSTOM_MACHINE, ApiKind
from kurator.core.errors import KuratorError
from kurator.kube.asyncapi import AsyncAPI
from kurator.lifecycle import capi
from kurator.operator import providers, sync
from kurator.operator.provider import Child, Key, Provider, Watched
from kurator.operator.routes import Route, routes
from kurator.operator.workqueue import WorkQueue
from tests.unit.fakeapi import FakeAPI

AWS = ApiKind("cluster.kurator.dev", "v1alpha1", "Cluster", "clusters")
CAPI = Watched.versions_of(capi.CLUSTER_VERSIONS, optional=True)


class Seen:
    """A stand-in provider's mapper: records each event's object name, returns ``keys``."""

    def __init__(self, *keys: Key) -> None:
        self.names: list[str] = []
        self.keys = list(keys)

    def __call__(self, event: Mapping[str, Any]) -> list[Key]:
        self.names.append(str(event["object"]["metadata"]["name"]))
        return self.keys


async def _reconcile(key: Key) -> float | None:
    return None


def _provider(on_event: Seen, *children: Child) -> Provider:
    return Provider(on_event=on_event, children=children, reconcile=_reconcile)


def test_each_kind_is_one_route_children_first_and_events_reach_every_provider_watching_it() -> None:
    async def main() -> None:
        kubespray_q, aws_q = WorkQueue[Key](), WorkQueue[Key]()
        machines, capi_for_kubespray, capi_for_aws = (
            Seen(("ns", "cc")),
            Seen(("ns", "cc")),
            Seen(("ns", "aws")),
        )
        kubespray = _provider(
            Seen(), Child(Watched.of(CUSTOM_MACHINE), machines), Child(CAPI, capi_for_kubespray)
        )
        aws = _provider(Seen(), Child(CAPI, capi_for_aws))
        table = routes([(Watched.of(CUSTOM_CLUSTER), kubespray, kubespray_q), (Watched.of(AWS), aws, aws_q)])
        assert [r.watched.kind for r in table] == ["CustomMachine", "Cluster", "CustomCluster", "Cluster"]
        assert [r.watched.id for r in table][1] == "clusters.cluster.x-k8s.io"
        assert len({r.watched.id for r in table}) == len(table), "a kind is watched twice"
        capi_route = table[1]
        capi_route.feed({"type": "ADDED", "object": {"metadata": {"name": "c1"}}})
        assert capi_for_kubespray.names == ["c1"] and capi_for_aws.names == ["c1"]
        assert await kubespray_q.get() == ("ns", "cc") and await aws_q.get() == ("ns", "aws")
        assert len(kubespray_q) == len(aws_q) == 0

    asyncio.run(main())


def test_a_kind_one_provider_reconciles_and_another_watches_is_one_route_fed_children_first() -> None:
    owner, child = Seen(("ns", "a")), Seen(("ns", "b"))
    q1, q2 = (
        WorkQueue[Key](),
        WorkQueue[Key](),
    )
    table = routes(
        [
            (Watched.of(CUSTOM_CLUSTER), _provider(owner), q1),
            (Watched.of(AWS), _provider(Seen(), Child(Watched.of(CUSTOM_CLUSTER), child)), q2),
        ]
    )
    shared = [r for r in table if r.watched.kind == "CustomCluster"]
    assert len(shared) == 1
    assert [m for m, _ in shared[0].feeds] == [child, owner]


def _fake() -> FakeAPI:
    fake = FakeAPI(served={"customclusters", "custommachines", "cluster.x-k8s.io/v1beta1/clusters"})
    for plural, kind, name in (
        ("custommachines", "CustomMachine", "m1"),
        ("customclusters", "CustomCluster", "c1"),
    ):
        doc = {
            "apiVersion": "cluster.kurator.dev/v1alpha1",
            "kind": kind,
            "metadata": {"name": name, "namespace": "ns"},
        }
        fake.put("apis/cluster.kurator.dev/v1alpha1", plural, doc)
    cluster = {
        "apiVersion": "cluster.x-k8s.io/v1beta1",
        "kind": "Cluster",
        "metadata": {"name": "k", "namespace": "ns"},
    }
    fake.put("apis/cluster.x-k8s.io/v1beta1", "clusters", cluster)
    return fake


def _fill(fake: FakeAPI, table: list[Route]) -> None:
    async def main() -> None:
        client = fake.client()
        try:
            await sync.fill(AsyncAPI(client), table, ())
        finally:
            await client.close()

    asyncio.run(main())


def test_the_first_listing_takes_the_served_version_skips_an_optional_kind_and_names_a_missing_one() -> None:
    fake = _fake()
    machines, clusters, capi_clusters, kcps = Seen(), Seen(("ns", "c1")), Seen(), Seen()
    kcp = Watched.versions_of(capi.KCP_VERSIONS, optional=True)
    provider = _provider(
        clusters, Child(Watched.of(CUSTOM_MACHINE), machines), Child(CAPI, capi_clusters), Child(kcp, kcps)
    )
    queue = WorkQueue[Key]()
    _fill(fake, routes([(Watched.of(CUSTOM_CLUSTER), provider, queue)]))
    assert machines.names == ["m1"] and clusters.names == ["c1"]
    assert capi_clusters.names == ["k"], "the v1beta1 Clusters were not listed after v1beta2 was not served"
    assert kcps.names == []  # not served at all, and optional
    lists = [path for method, path, _ in fake.requests if method == "GET"]
    assert sum("/customclusters" in p for p in lists) == 1
    assert any("/v1beta2/clusters" in p for p in lists) and any("/v1beta1/clusters" in p for p in lists)
    assert list(queue.added) == [("ns", "c1")]

    missing = FakeAPI(served={"customclusters"})
    with pytest.raises(KuratorError, match=r"does not serve custommachines\.cluster\.kurator\.dev"):
        _fill(missing, routes([(Watched.of(CUSTOM_CLUSTER), provider, WorkQueue[Key]())]))


def test_the_first_listing_waits_for_an_api_server_that_is_not_ready() -> None:
    fake = _fake()
    fake.fail("GET", "/custommachines", 503, times=2)
    machines = Seen()
    provider = _provider(Seen(), Child(Watched.of(CUSTOM_MACHINE), machines))
    _fill(fake, routes([(Watched.of(CUSTOM_CLUSTER), provider, WorkQueue[Key]())]))
    assert machines.names == ["m1"]


def test_kubespray_registers_its_kind_model_and_children() -> None:
    kubespray, aws = providers.REGISTERED
    assert kubespray.name == "kubespray" and kubespray.kind == CUSTOM_CLUSTER
    # a second provider is one registration: the AWS Cluster kind, its model, its own children
    assert aws.name == "aws" and aws.kind.kind == "Cluster" and aws.model.__name__ == "Cluster"
    assert kubespray.model.__name__ == "CustomCluster"
    assert kubespray.watched == Watched.of(CUSTOM_CLUSTER)
