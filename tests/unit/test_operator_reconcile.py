"""The Kubespray reconcile against the in-process stand-in for the API server (tests/unit/fakeapi.py) and a
stand-in for SSH logins: a new cluster gets its finalizer and its Job in one pass, a second pass starts
nothing, a finalizer someone else wrote meanwhile survives (resourceVersion guard and 409 retry), a
conflict on the status is retried soon, a cluster deleted behind the watch's back is forgotten, a failed
preflight starts nothing and says why, and a deletion with nothing to reset releases the finalizer."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from dataclasses import dataclass
from typing import Any

import asyncssh

from kurator.kube.asyncapi import AsyncAPI
from kurator.lifecycle.observed import CLUSTER_LABEL
from kurator.operator.fleets import Fleets
from kurator.operator.kubespray.hostcheck import HostCheck
from kurator.operator.kubespray.provisioned import Provisioned
from kurator.operator.kubespray.reconcile import FINALIZER, Reconciler
from kurator.operator.kubespray.report import Reporter
from kurator.operator.kubespray.view import View
from kurator.operator.metrics import Metrics
from kurator.operator.settings import Settings
from kurator.operator.workqueue import WorkQueue
from kurator.ssh.preflight import HostResult
from tests import lifecycle_cases as lc
from tests.unit.fakeapi import FakeAPI

CC = "apis/cluster.kurator.dev/v1alpha1"
KEY = ("ns", "c1")
NOW = dt.datetime(2026, 12, 1, 10, 0, 5, tzinfo=dt.UTC)
SSH_KEY = asyncssh.generate_private_key("ssh-ed25519").export_private_key("openssh")


class _Logins:
    """Stands in for kurator.ssh.preflight.check_hosts: hosts whose address is in ``dead`` fail."""

    def __init__(self, dead: tuple[str, ...] = ()) -> None:
        self.dead, self.count = dead, 0

    async def __call__(
        self, hosts: list[Any], key: Any, user: str, port: int, timeout: float
    ) -> list[HostResult]:
        self.count += len(hosts)
        return [
            HostResult(h, h.address not in self.dead, "python", f"{h.address}:22: connection refused")
            for h in hosts
        ]


@dataclass
class Bed:
    fake: FakeAPI
    view: View
    metrics: Metrics
    logins: _Logins

    def reconcile(self, times: int = 1) -> list[float | None]:
        async def main() -> list[float | None]:
            client = self.fake.client()
            api = AsyncAPI(client)
            settings = Settings()
            hosts = HostCheck(api.secret_value, logins=self.logins, ttl=0)
            reporter = Reporter(api, self.view, WorkQueue(), settings)
            provisioned = Provisioned(api, hosts, Fleets(api, "kurator-system"), settings, reporter)
            reconciler = Reconciler(
                self.view, api, settings, hosts, provisioned, reporter, self.metrics, lambda: NOW
            )
            try:
                return [await reconciler(KEY) for _ in range(times)]
            finally:
                await client.close()

        return asyncio.run(main())

    def watch(self) -> None:
        """What the watches would have delivered by now: every stored object, into the view."""
        for doc in self.fake.of("customclusters"):
            self.view.on_cluster({"type": "MODIFIED", "object": doc})
        for doc in self.fake.of("custommachines"):
            self.view.on_machine({"type": "MODIFIED", "object": doc})
        for doc in self.fake.of("jobs"):
            self.view.on_job({"type": "MODIFIED", "object": doc})

    def reconciles(self, result: str) -> float:
        value = self.metrics.registry.get_sample_value(
            "kurator_operator_reconciles_total", {"result": result}
        )
        return value or 0.0


def _bed(cluster: dict[str, Any] | None = None, dead: tuple[str, ...] = ()) -> Bed:
    fake = FakeAPI()
    machine = lc.machine_doc()
    machine["metadata"] = {"name": "cc-machine", "namespace": "ns"}
    fake.put(CC, "custommachines", machine)
    body = cluster or {
        "apiVersion": "cluster.kurator.dev/v1alpha1",
        "kind": "CustomCluster",
        "metadata": {"name": "c1", "namespace": "ns", "creationTimestamp": "2026-12-01T10:00:00Z"},
        "spec": {
            "machineRef": {"name": "cc-machine"},
            "cni": {"type": "calico"},
            "kubernetesVersion": lc.VERSION,
        },
    }
    fake.put(CC, "customclusters", body)
    fake.put(
        "api/v1",
        "secrets",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "cluster-secret", "namespace": "ns"},
            "data": {"ssh-privatekey": base64.b64encode(SSH_KEY).decode()},
        },
    )
    bed = Bed(fake, View(), Metrics(), _Logins(dead))
    bed.watch()
    return bed


def _jobs(bed: Bed) -> list[str]:
    return sorted(d["metadata"]["name"] for d in bed.fake.of("jobs", "ns"))


def _cluster(bed: Bed) -> dict[str, Any]:
    doc = bed.fake.get("customclusters", "ns", "c1")
    assert doc is not None
    return doc


def test_a_new_cluster_gets_its_finalizer_and_its_job_in_one_pass_and_a_second_pass_starts_nothing() -> None:
    bed = _bed()
    (again,) = bed.reconcile()
    assert _jobs(bed) == ["c1-create-1-1-0"]
    assert bed.logins.count == 3  # master1, node1, node2 checked once each
    assert _cluster(bed)["metadata"]["finalizers"] == [FINALIZER]
    job = bed.fake.get("jobs", "ns", "c1-create-1-1-0")
    assert job is not None and job["metadata"]["labels"][CLUSTER_LABEL] == "c1"
    assert job["metadata"]["ownerReferences"][0]["uid"] == _cluster(bed)["metadata"]["uid"]
    assert again == 300.0
    status = _cluster(bed)["status"]
    assert status["phase"] == "Provisioning"
    assert {c["type"]: c["status"] for c in status["conditions"]}["HostsReady"] == "True"
    events = [e["reason"] for e in bed.fake.of("events", "ns")]
    assert events == ["RunStarted"]

    bed.watch()  # the Job and the status come back as watch events
    bed.reconcile(2)
    assert _jobs(bed) == ["c1-create-1-1-0"], "a second pass started a second run"
    assert len(bed.fake.writes("POST", "/jobs")) == 1
    assert bed.reconciles("ok") == 3


def test_a_finalizer_written_by_someone_else_meanwhile_survives() -> None:
    bed = _bed()
    seen = _cluster(bed)
    # Another controller adds its finalizer after the operator's watch delivered the cluster: the view's
    # resourceVersion is stale, the API server answers 409, the write is retried on a fresh read.
    bed.fake.put(CC, "customclusters", {**seen, "metadata": {**seen["metadata"], "finalizers": ["theirs"]}})
    bed.reconcile()
    assert _cluster(bed)["metadata"]["finalizers"] == ["theirs", FINALIZER]
    patches = bed.fake.writes("PATCH", "customclusters/c1?")
    assert len(patches) == 2, "no retry after the conflict"
    assert patches[0][2]["metadata"]["resourceVersion"] == seen["metadata"]["resourceVersion"]
    assert patches[1][2]["metadata"]["resourceVersion"] != seen["metadata"]["resourceVersion"]
    assert _jobs(bed) == ["c1-create-1-1-0"]


def test_a_conflict_that_ends_a_pass_is_retried_within_a_second() -> None:
    bed = _bed()
    bed.fake.fail("PATCH", "customclusters/c1/status", 409)
    (again,) = bed.reconcile()
    assert again == 1.0 and bed.reconciles("conflict") == 1
    assert _jobs(bed) == ["c1-create-1-1-0"]


def test_a_cluster_deleted_behind_the_watch_is_forgotten() -> None:
    bed = _bed()
    uid = _cluster(bed)["metadata"]["uid"]
    bed.fake.objects.pop((CC, "customclusters", "ns", "c1"))
    (again,) = bed.reconcile()
    assert again is None and bed.reconciles("gone") == 1
    assert KEY not in bed.view.clusters
    # The Job went out with the finalizer's write (the 404 that says the cluster is gone): it is owned by
    # the gone cluster, which the garbage collector deletes it for; nothing makes it again.
    assert [j["metadata"]["ownerReferences"][0]["uid"] for j in bed.fake.of("jobs")] in ([], [uid])
    bed.reconcile(2)
    assert len(bed.fake.writes("POST", "/jobs")) <= 1 and bed.reconciles("ok") == 2


def test_a_failed_preflight_names_the_host_and_starts_nothing() -> None:
    bed = _bed(dead=("192.0.2.21",))
    (again,) = bed.reconcile()
    assert _jobs(bed) == [] and again == 10.0
    status = _cluster(bed)["status"]
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["HostsReady"]["status"] == "False"
    assert "node1: 192.0.2.21:22: connection refused" in conditions["HostsReady"]["message"]
    assert conditions["Ready"]["reason"] == "HostsUnreachable"
    machine = bed.fake.get("custommachines", "ns", "cc-machine")
    assert machine is not None and machine["status"]["ready"] is False
    assert _cluster(bed)["metadata"]["finalizers"] == [FINALIZER]


def test_a_deleted_cluster_that_never_ran_releases_its_finalizer() -> None:
    body = {
        "apiVersion": "cluster.kurator.dev/v1alpha1",
        "kind": "CustomCluster",
        "metadata": {
            "name": "c1",
            "namespace": "ns",
            "finalizers": [FINALIZER],
            "deletionTimestamp": "2026-12-01T10:00:00Z",
        },
        "spec": {
            "machineRef": {"name": "cc-machine"},
            "cni": {"type": "calico"},
            "kubernetesVersion": lc.VERSION,
        },
    }
    bed = _bed(body)
    (again,) = bed.reconcile()
    assert again is None
    assert _cluster(bed)["metadata"].get("finalizers") in (None, [])
    assert [e["reason"] for e in bed.fake.of("events", "ns")] == ["Deleted"]
    assert bed.logins.count == 0 and _jobs(bed) == []


def test_the_view_learns_the_finalizer_it_wrote_before_the_watch_says_so() -> None:
    bed = _bed()
    bed.reconcile()
    assert bed.view.clusters[KEY]["metadata"]["finalizers"] == [FINALIZER]
