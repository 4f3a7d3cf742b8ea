"""The generated CRDs on a real kube-apiserver (the local fleet's host): every rule refuses bad input with
its message, which is also the message kurator's own checks give; good input, Kurator's examples
included, is accepted and kept whole; upgrades, downgrades and immutable fields behave as the transition
rules say; printer columns, short names and the status subresource work."""

from __future__ import annotations

import contextlib
import copy
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from lightkube import Client, codecs
from lightkube.core.resource import NamespacedResource
from lightkube.generic_resource import create_namespaced_resource
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition
from lightkube.resources.core_v1 import Namespace
from lightkube.types import PatchType

from kurator.api import crds, manifests
from kurator.api.names import GROUP, VERSION
from kurator.kube.apply import apply_all
from kurator.kube.errors import Invalid, NotFound, RequestFailed
from kurator.local.fleet import UpResult
from tests import api_cases
from tests.api_cases import Bad, Update
from tests.integration.helpers import cluster_client, gone, wait_for

pytestmark = pytest.mark.integration

RESOURCES: dict[str, type[NamespacedResource]] = {
    "CustomCluster": create_namespaced_resource(GROUP, VERSION, "CustomCluster", "customclusters"),
    "CustomMachine": create_namespaced_resource(GROUP, VERSION, "CustomMachine", "custommachines"),
    "Cluster": create_namespaced_resource(GROUP, VERSION, "Cluster", "clusters"),  # the AWS kind
}


@dataclass(frozen=True)
class Host:
    api: Client
    namespace: str

    def create(self, doc: dict[str, Any], name: str) -> dict[str, Any]:
        doc = copy.deepcopy(doc)
        doc["metadata"] = {**doc.get("metadata", {}), "name": name, "namespace": self.namespace}
        created = self.api.create(codecs.from_dict(doc))
        return _to_dict(created)

    def replace_spec(self, kind: str, name: str, spec: dict[str, Any]) -> None:
        current = _to_dict(self.api.get(RESOURCES[kind], name, namespace=self.namespace))
        current["spec"] = spec
        self.api.replace(codecs.from_dict(current))

    def raw(self, path: str, accept: str = "application/json") -> dict[str, Any]:
        """A GET lightkube has no call for (discovery, server-side tables), on the client's own connection."""
        response = self.api._client._client.get(path, headers={"Accept": accept})
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body


def _to_dict(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = obj.to_dict()
    return out


def _refusal(call: Any) -> str:
    """The API server's message for a refused create or update (422 Invalid)."""
    with pytest.raises(RequestFailed) as caught:
        call()
    assert isinstance(caught.value, Invalid), caught.value.message
    return caught.value.detail


def _established(api: Client, name: str) -> bool:
    crd = _to_dict(api.get(CustomResourceDefinition, name))
    conditions = {c["type"]: c for c in crd.get("status", {}).get("conditions", [])}
    assert conditions.get("NonStructuralSchema", {}).get("status") != "True", conditions
    return conditions.get("Established", {}).get("status") == "True"


def _served(api: Client, res: type[NamespacedResource], namespace: str) -> bool:
    try:
        list(api.list(res, namespace=namespace))
    except RequestFailed:
        return False  # established, but not yet in this API server's handlers
    return True


def _delete(api: Client, res: Any, name: str) -> None:
    with contextlib.suppress(NotFound):  # never created: the set-up failed before
        api.delete(res, name)


@pytest.fixture(scope="module")
def host(local_fleet: UpResult) -> Iterator[Host]:
    api = cluster_client(local_fleet, "host")
    namespace = f"api-validation-{os.getpid()}"
    names = [d["metadata"]["name"] for d in crds.all_crds()]
    try:
        apply_all(api, crds.all_crds())  # a rule over the CEL cost budget would fail right here
        for name in names:
            wait_for(lambda n=name: _established(api, n), 30, f"CRD {name} established")
        api.create(Namespace(metadata=ObjectMeta(name=namespace)))
        for res in RESOURCES.values():
            wait_for(lambda r=res: _served(api, r, namespace), 30, f"{res.__name__} served")
        yield Host(api, namespace)
    finally:
        for name in names:  # deleting a CRD deletes its objects
            _delete(api, CustomResourceDefinition, name)
        _delete(api, Namespace, namespace)
        for name in names:
            wait_for(lambda n=name: gone(api, CustomResourceDefinition, n), 60, f"CRD {name} deleted")


@pytest.mark.parametrize(("name", "doc"), api_cases.good(), ids=[n for n, _ in api_cases.good()])
def test_good_manifests_are_accepted_whole(host: Host, name: str, doc: dict[str, Any]) -> None:
    created = host.create(doc, name)
    assert created["spec"] == doc["spec"]  # nothing pruned: every field Kurator's examples use is declared


@pytest.mark.parametrize("case", api_cases.bad(), ids=[c.id for c in api_cases.bad()])
def test_bad_manifests_are_refused_with_a_message(host: Host, case: Bad) -> None:
    message = _refusal(lambda: host.create(case.doc, f"bad-{case.id}"))
    assert case.says in message
    for problem in manifests.problems(case.doc):  # kurator's checks say what the API server says
        assert problem.split(": ", 1)[1] in message, (problem, message)


@pytest.mark.parametrize("case", api_cases.updates(), ids=[u.id for u in api_cases.updates()])
def test_updates_follow_the_transition_rules(host: Host, case: Update) -> None:
    name = f"update-{case.id}"
    host.create(case.before, name)
    kind = case.before["kind"]
    if case.says is None:
        host.replace_spec(kind, name, case.after["spec"])
        stored = _to_dict(host.api.get(RESOURCES[kind], name, namespace=host.namespace))
        assert stored["spec"] == case.after["spec"]
        assert manifests.update_problems(case.before, case.after) == []
        return
    message = _refusal(lambda: host.replace_spec(kind, name, case.after["spec"]))
    assert case.says in message
    for problem in manifests.update_problems(case.before, case.after):
        assert problem.split(": ", 1)[1] in message, (problem, message)


def test_cost_bounds_hold_for_the_largest_machine_list(host: Host) -> None:
    """The uniqueness rules cost the square of the list: the largest list allowed, with FQDN host names,
    is checked within the API server's runtime budget, duplicates included."""
    from kurator.api.machine import MASTERS_MAX, NODES_MAX

    def name(role: str, i: int) -> str:
        return f"{role}-{i:04d}.rack-{i % 16:02d}.dc-1.cluster.example.com"

    masters = [api_cases.host(name("master", i), i + 1) for i in range(MASTERS_MAX)]
    nodes = [
        {
            **api_cases.host(name("node", i), 0),
            "publicIP": f"198.51.100.{i + 1}",
            "privateIP": f"10.1.0.{i + 1}",
        }
        for i in range(NODES_MAX)
    ]
    doc = api_cases.machine(master=masters, node=nodes)
    assert manifests.problems(doc) == []
    host.create(doc, "largest")
    last = NODES_MAX - 1
    duplicate = api_cases.with_host(doc, "node", last, hostName=nodes[0]["hostName"], privateIP="10.1.0.1")
    message = _refusal(lambda: host.create(duplicate, "largest-duplicate"))
    assert "needs its own hostName" in message and "needs its own privateIP" in message


def test_status_subresource_and_printer_columns(host: Host) -> None:
    host.create(api_cases.cluster(), "shown")
    res = RESOURCES["CustomCluster"]
    status = {
        "phase": "Provisioned",
        "masters": 3,
        "nodes": 2,
        "apiEndpoint": "https://192.0.2.100:6443",
        "kubernetesVersion": "v1.34.2",  # what runs: the column shows it (the spec may leave it to CAPI)
    }
    # The status subresource writes status only: the spec change in the same patch is dropped.
    patch = {"status": status, "spec": {"cni": {"type": "cilium"}}}
    host.api.patch(res.Status, "shown", patch, namespace=host.namespace, patch_type=PatchType.MERGE)
    stored = _to_dict(host.api.get(res, "shown", namespace=host.namespace))
    assert stored["status"] == status and stored["spec"]["cni"]["type"] == "calico"

    table = host.raw(
        f"/apis/{GROUP}/{VERSION}/namespaces/{host.namespace}/customclusters/shown",
        "application/json;as=Table;v=v1;g=meta.k8s.io",
    )
    columns = [c["name"] for c in table["columnDefinitions"]]
    row = dict(zip(columns, table["rows"][0]["cells"], strict=True))
    assert row["Name"] == "shown" and row["PHASE"] == "Provisioned" and row["VERSION"] == "v1.34.2"
    assert (row["MASTERS"], row["NODES"], row["CNI"]) == (3, 2, "calico")


def test_names_short_names_and_category(host: Host) -> None:
    resources = {r["name"]: r for r in host.raw(f"/apis/{GROUP}/{VERSION}")["resources"]}
    assert resources["customclusters"]["shortNames"] == ["cc"]
    assert resources["custommachines"]["shortNames"] == ["cmach"]
    assert (
        resources["customclusters"]["categories"] == ["kurator"] == resources["custommachines"]["categories"]
    )
    assert resources["customclusters"]["namespaced"] and "customclusters/status" in resources
    assert resources["clusters"]["shortNames"] == ["kcl"] and resources["clusters"]["categories"] == [
        "kurator"
    ]
    assert resources["clusters"]["namespaced"] and "clusters/status" in resources


def test_aws_cluster_status_and_printer_columns(host: Host) -> None:
    from tests import aws_cluster_cases

    host.create(aws_cluster_cases.aws(), "shown-aws")
    res = RESOURCES["Cluster"]
    status = {
        "phase": "Provisioning",
        "masters": 1,
        "workers": 2,
        "apiEndpoint": "https://shown-aws-apiserver-1.us-east-1.elb.amazonaws.com:6443",
    }
    host.api.patch(
        res.Status, "shown-aws", {"status": status}, namespace=host.namespace, patch_type=PatchType.MERGE
    )
    table = host.raw(
        f"/apis/{GROUP}/{VERSION}/namespaces/{host.namespace}/clusters/shown-aws",
        "application/json;as=Table;v=v1;g=meta.k8s.io",
    )
    columns = [c["name"] for c in table["columnDefinitions"]]
    row = dict(zip(columns, table["rows"][0]["cells"], strict=True))
    assert (row["INFRA"], row["REGION"], row["VERSION"], row["PHASE"]) == (
        "aws",
        "us-east-1",
        "v1.34.2",
        "Provisioning",
    )
    assert (row["MASTERS"], row["WORKERS"]) == (1, 2)
