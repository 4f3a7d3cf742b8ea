"""The AWS provider's reconcile against the in-process stand-in for the API server (tests/unit/fakeapi.py):
a new Cluster gets its finalizer and its Cluster API and CAPA objects in one pass, a second pass writes
nothing, a missing credential is named and nothing is made, a pool taken out is deleted, a deletion waits for
Cluster API's Cluster (naming CAPA's blocker) and then removes the identity and the credentials' copy, and a
forced one stops waiting and lists what may remain on AWS. Credentials never reach the status, an Event or
the log."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from kurator.kube.asyncapi import AsyncAPI
from kurator.lifecycle.aws import names as n
from kurator.lifecycle.aws.plan import FINALIZER, FORCE_DELETE
from kurator.operator.aws import leftovers
from kurator.operator.aws.reconcile import Reconciler
from kurator.operator.aws.view import View
from kurator.operator.fleets import Fleets
from kurator.operator.metrics import Metrics
from kurator.operator.provider import Services
from kurator.operator.settings import Settings
from kurator.operator.watching import quiet_libraries
from kurator.operator.workqueue import WorkQueue
from tests import aws_cluster_cases as cases
from tests.unit.fakeapi import FakeAPI

KC = "apis/cluster.kurator.dev/v1alpha1"
CAPI = "apis/cluster.x-k8s.io/v1beta2"
INFRA = "apis/infrastructure.cluster.x-k8s.io/v1beta2"
KEY = ("team-a", "prod")
SECRET_VALUE = "wJalrXUtnFEMI-example-secret"


@pytest.fixture(autouse=True)
def aws() -> Iterator[None]:
    """AWS for the check for leftovers after a deletion: moto in-process (nothing leaves the process)."""
    with mock_aws():
        yield


def _secret(fake: FakeAPI, **data: str) -> None:
    fake.put(
        "api/v1",
        "secrets",
        {
            "metadata": {"name": "aws-prod", "namespace": "team-a"},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
        },
    )


class Bed:
    def __init__(self, **spec: Any) -> None:
        self.fake = FakeAPI()
        self.api = AsyncAPI(self.fake.client())
        self.view = View()
        services = Services(self.api, Settings(), Metrics(), Fleets(self.api, "kurator-system"), WorkQueue())
        self.reconcile = Reconciler(self.view, services)
        doc = cases.aws("prod", credential={"secretRef": "aws-prod"}, **spec)
        doc["metadata"]["namespace"] = "team-a"
        self.fake.put(KC, "clusters", doc)
        self.seen()

    def cluster(self) -> dict[str, Any]:
        doc = self.fake.objects[(KC, "clusters", *KEY)]
        return doc

    def seen(self) -> None:
        """The watch brings the stored objects to the view (what kopf's events do)."""
        self.view.on_cluster({"type": "MODIFIED", "object": self.cluster()})
        for (prefix, plural, ns, _), doc in list(self.fake.objects.items()):
            if prefix != KC and ns == "team-a" and plural != "secrets":
                label = (
                    n.NAME_LABEL
                    if n.NAME_LABEL in doc["metadata"].get("labels", {})
                    else n.CAPI_CLUSTER_LABEL
                )
                self.view.child(label)({"type": "MODIFIED", "object": doc})

    def run(self) -> float | None:
        out = asyncio.run(self.reconcile(KEY))
        self.seen()
        return out

    def condition(self, type_: str) -> dict[str, Any]:
        return next(c for c in self.cluster()["status"]["conditions"] if c["type"] == type_)


def test_a_new_cluster_gets_its_finalizer_and_objects_and_a_second_pass_writes_nothing() -> None:
    bed = Bed()
    _secret(bed.fake, AccessKeyID="AKIAEXAMPLE", SecretAccessKey=SECRET_VALUE)
    assert bed.run() is not None  # looked at again while provisioning
    assert FINALIZER in bed.cluster()["metadata"]["finalizers"]
    assert bed.fake.get("clusters", "team-a", "prod") is not None  # Cluster API's, beside ours
    assert bed.fake.get("awsclusters", "team-a", "prod") is not None
    assert bed.fake.get("machinedeployments", "team-a", "prod-md-0") is not None
    copy = bed.fake.get("secrets", "capa-system", "kurator-team-a-prod")
    assert copy is not None and set(copy["data"]) == {"AccessKeyID", "SecretAccessKey"}
    assert bed.fake.get("awsclusterstaticidentities", "", "kurator-team-a-prod") is not None
    assert bed.cluster()["status"]["phase"] == "Provisioning"
    applied = len(bed.fake.writes("PATCH", "fieldManager=kurator-operator"))
    assert applied == 9
    bed.run()
    bed.run()
    # nothing changed in the spec: nothing applied again; the status changed once, with what came back
    assert len(bed.fake.writes("PATCH", "fieldManager=kurator-operator")) == applied
    patches = len(bed.fake.writes("PATCH"))
    bed.run()
    assert len(bed.fake.writes("PATCH")) == patches


def test_a_missing_credential_is_named_and_nothing_is_made() -> None:
    bed = Bed()
    _secret(bed.fake, AccessKeyID="AKIAEXAMPLE")
    bed.run()
    cond = bed.condition("CredentialReady")
    assert (cond["status"], cond["message"]) == (
        "False",
        "Secret aws-prod (credential.secretRef) has no SecretAccessKey",
    )
    assert bed.cluster()["status"]["phase"] == "Failed"
    assert bed.fake.of("awsclusters") == [] and bed.fake.of("secrets", "capa-system") == []


def test_a_pool_taken_out_of_the_spec_is_deleted() -> None:
    bed = Bed(workers=[cases.worker(), cases.worker(replicas=2)])
    _secret(bed.fake, AccessKeyID="AKIAEXAMPLE", SecretAccessKey=SECRET_VALUE)
    bed.run()
    assert {d["metadata"]["name"] for d in bed.fake.of("machinedeployments")} == {"prod-md-0", "prod-md-1"}
    bed.cluster()["spec"]["workers"] = [cases.worker()]
    bed.seen()
    bed.run()
    assert {d["metadata"]["name"] for d in bed.fake.of("machinedeployments")} == {"prod-md-0"}


def _deleting(bed: Bed, **annotations: str) -> None:
    meta = bed.cluster()["metadata"]
    meta["deletionTimestamp"] = "2026-12-01T11:00:00Z"
    meta.setdefault("annotations", {}).update(annotations)
    bed.seen()


def test_a_deletion_waits_for_cluster_api_names_capas_blocker_then_cleans_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    bed = Bed()
    _secret(bed.fake, AccessKeyID="AKIAEXAMPLE", SecretAccessKey=SECRET_VALUE)
    bed.run()
    aws = bed.fake.get("awsclusters", "team-a", "prod")
    assert aws is not None
    aws["metadata"]["finalizers"] = ["awscluster.infrastructure.cluster.x-k8s.io"]
    aws["status"] = {
        "conditions": [
            {
                "type": "VpcReady",
                "status": "False",
                "severity": "Error",
                "reason": "DeletionFailed",
                "message": "AuthFailure: AWS was not able to validate the provided access credentials",
            }
        ]
    }
    _deleting(bed)
    assert bed.run() is not None
    assert bed.fake.writes("DELETE", "/clusters/prod")  # Cluster API's Cluster asked to go
    cond = bed.condition("Deleting")
    assert (
        cond["reason"] == "Blocked"
        and "CAPA cannot delete: AWSCluster prod: VpcReady: AuthFailure" in cond["message"]
    )
    assert bed.fake.get("secrets", "capa-system", "kurator-team-a-prod") is not None  # CAPA still needs it
    # Cluster API's Cluster is gone (CAPA finished): the identity and the copy go, then the finalizer
    _capa_done(bed)
    assert bed.run() is None
    assert bed.fake.get("secrets", "capa-system", "kurator-team-a-prod") is None
    assert bed.fake.get("awsclusterstaticidentities", "", "kurator-team-a-prod") is None
    assert FINALIZER not in bed.cluster()["metadata"].get("finalizers", [])
    shown = str(bed.cluster().get("status")) + str(bed.fake.of("events")) + caplog.text
    assert SECRET_VALUE not in shown and base64.b64encode(SECRET_VALUE.encode()).decode() not in shown


def _capa_done(bed: Bed) -> None:
    """Cluster API's Cluster is gone (CAPA finished)."""
    for key in [k for k in bed.fake.objects if k[0] in (CAPI, INFRA) and k[2] == "team-a"]:
        del bed.fake.objects[key]
    bed.view.children.clear()


@pytest.mark.parametrize("secret_went_first", [False, True], ids=["secret-kept", "secret-deleted-first"])
def test_a_vpc_capa_left_is_deleted_once_it_is_done_and_said_without_the_key(
    caplog: pytest.LogCaptureFixture, secret_went_first: bool
) -> None:
    """With the user's Secret, or with CAPA's copy when the Secret went first (one `kubectl delete -f`)."""
    quiet_libraries()  # as `kurator operator run` does: botocore's DEBUG lines carry the key's ID
    caplog.set_level(logging.DEBUG)
    bed = Bed()
    _secret(bed.fake, AccessKeyID="AKIAEXAMPLE", SecretAccessKey=SECRET_VALUE)
    bed.run()
    region = bed.cluster()["spec"]["region"]
    ec2 = boto3.client("ec2", region_name=region, aws_access_key_id="k", aws_secret_access_key="s")
    tags = [{"Key": k, "Value": v} for k, v in leftovers.capa_vpc_tags("prod").items()]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": tags}])
    if secret_went_first:
        del bed.fake.objects[("api/v1", "secrets", "team-a", "aws-prod")]
    _deleting(bed)
    _capa_done(bed)
    assert bed.run() is None
    assert vpc["Vpc"]["VpcId"] not in {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]}
    event = next(e for e in bed.fake.of("events", "team-a") if e["reason"] == "LeftoversDeleted")
    assert vpc["Vpc"]["VpcId"] in event["message"]
    assert FINALIZER not in bed.cluster()["metadata"].get("finalizers", [])
    shown = str(bed.cluster().get("status")) + str(bed.fake.of("events")) + caplog.text
    assert SECRET_VALUE not in shown and "AKIAEXAMPLE" not in shown


def test_a_check_for_leftovers_that_fails_is_said_and_the_deletion_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unreachable(*_: object) -> leftovers.Swept:
        raise ConnectionError(f"could not reach ec2 with {SECRET_VALUE}")

    monkeypatch.setattr(leftovers, "sweep_vpcs", unreachable)
    bed = Bed()
    _secret(bed.fake, AccessKeyID="AKIAEXAMPLE", SecretAccessKey=SECRET_VALUE)
    bed.run()
    _deleting(bed)
    _capa_done(bed)
    assert bed.run() is None
    event = next(e for e in bed.fake.of("events", "team-a") if e["reason"] == "LeftoversNotChecked")
    assert "ConnectionError" in event["message"] and SECRET_VALUE not in event["message"]
    assert FINALIZER not in bed.cluster()["metadata"].get("finalizers", [])


def test_force_delete_stops_waiting_and_lists_what_may_remain() -> None:
    bed = Bed()
    _secret(bed.fake, AccessKeyID="AKIAEXAMPLE", SecretAccessKey=SECRET_VALUE)
    bed.run()
    aws = bed.fake.get("awsclusters", "team-a", "prod")
    assert aws is not None
    aws["metadata"]["finalizers"] = ["awscluster.infrastructure.cluster.x-k8s.io"]
    aws["spec"]["network"]["vpc"]["id"] = "vpc-0123456789abcdef0"
    aws["status"] = {"networkStatus": {"apiServerElb": {"name": "prod-apiserver"}}}
    _deleting(bed, **{FORCE_DELETE: "true"})
    bed.run()
    event = next(e for e in bed.fake.of("events", "team-a") if e["reason"] == "ForceDeleted")
    assert "may remain on AWS: VPC vpc-0123456789abcdef0, load balancer prod-apiserver" in event["message"]
    assert "finalizers" not in bed.fake.get("awsclusters", "team-a", "prod")["metadata"]  # type: ignore[index]
    assert FINALIZER not in bed.cluster()["metadata"].get("finalizers", [])


def test_force_delete_goes_on_while_the_children_it_frees_disappear() -> None:
    """Each child freed of its finalizers is deleted, and its DELETED event reaches the view while the
    reconcile still awaits; a child already gone answers 404. Neither stops the forced deletion."""
    bed = Bed()
    _secret(bed.fake, AccessKeyID="AKIAEXAMPLE", SecretAccessKey=SECRET_VALUE)
    bed.run()
    for plural in ("awsclusters", "kubeadmcontrolplanes", "machinedeployments"):
        for key, doc in bed.fake.objects.items():
            if key[1] == plural and key[2] == "team-a":
                doc["metadata"]["finalizers"] = ["held"]
    _deleting(bed, **{FORCE_DELETE: "true"})
    kcp = next(k for k in bed.fake.objects if k[1] == "kubeadmcontrolplanes")
    del bed.fake.objects[kcp]  # gone already: the view has not heard yet
    patch = bed.reconcile.api.merge_patch

    async def patch_then_deleted(
        kind: Any, namespace: str, name: str, body: Any, status: bool = False
    ) -> None:
        await patch(kind, namespace, name, body, status)
        if body == {"metadata": {"finalizers": None}}:
            for objs in bed.view.children[KEY].by_kind.values():
                objs.pop(name, None)  # the DELETED event, taken in meanwhile

    bed.reconcile.api.merge_patch = patch_then_deleted  # type: ignore[method-assign]
    assert asyncio.run(bed.reconcile(KEY)) is None
    assert FINALIZER not in bed.cluster()["metadata"].get("finalizers", [])
    assert "finalizers" not in bed.fake.get("awsclusters", "team-a", "prod")["metadata"]  # type: ignore[index]


def test_a_deletion_leaves_the_fleet_once() -> None:
    """The fleet is left on the first pass of a deletion and the status says so no more: later passes,
    while CAPA deletes, neither leave again nor add a LeftFleet Event each."""
    bed = Bed(fleet="f1")
    _secret(bed.fake, AccessKeyID="AKIAEXAMPLE", SecretAccessKey=SECRET_VALUE)
    bed.run()
    bed.cluster()["status"]["fleet"] = "f1"
    capi = dict(bed.fake.objects[(CAPI, "clusters", *KEY)])
    left: list[str] = []

    async def leave(fleet: str, name: str) -> str:
        left.append(fleet)
        return f"{name} left the fleet"

    bed.reconcile.fleets.leave = leave  # type: ignore[method-assign]
    _deleting(bed)
    for _ in range(3):
        bed.fake.objects[(CAPI, "clusters", *KEY)] = capi  # still there while CAPA deletes (a finalizer)
        assert bed.run() is not None
    assert left == ["f1"]
    assert "fleet" not in bed.cluster()["status"]
    assert len([e for e in bed.fake.of("events", "team-a") if e["reason"] == "LeftFleet"]) == 1


def test_an_api_error_is_logged_and_tried_again_never_let_out(caplog: pytest.LogCaptureFixture) -> None:
    """An exception escaping a reconcile stops every worker of the operator: the AWS provider catches
    what the API server (or anything else) throws, says it, and looks again later."""
    from kurator.kube.errors import for_status

    bed = Bed()
    _secret(bed.fake, AccessKeyID="AKIAEXAMPLE", SecretAccessKey=SECRET_VALUE)

    async def refused(*args: Any, **kwargs: Any) -> None:
        raise for_status(500, b"etcdserver: request timed out", "text/plain", what="apply", endpoint="api")

    bed.reconcile.api.apply = refused  # type: ignore[method-assign]
    assert bed.run() == 10.0
    assert "the API refused" in caplog.text

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("dictionary changed size during iteration")

    bed.reconcile.api.apply = broken  # type: ignore[method-assign]
    assert bed.run() == 30.0
    assert SECRET_VALUE not in caplog.text
