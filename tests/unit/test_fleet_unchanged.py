"""An object that already holds all of itself is seen unchanged without a dry run; any doubt leaves it to
the dry run (a change hidden by the shortcut would be a change never applied)."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest

from kurator.fleet import plan, unchanged
from tests.unit.fakeapi import FakeAPI

WANTED: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "gateways.networking.istio.io", "labels": {"app": "istio"}},
    "spec": {
        "group": "networking.istio.io",
        "names": {"kind": "Gateway", "plural": "gateways"},
        "scope": "Namespaced",
        "versions": [{"name": "v1", "served": True, "storage": True}],
    },
}
APPLIED = {
    "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
    "f:spec": {"f:group": {}, "f:names": {"f:kind": {}, "f:plural": {}}, "f:scope": {}, "f:versions": {}},
}


def _live(fields: dict[str, Any] | None = None, **entry: Any) -> dict[str, Any]:
    live = copy.deepcopy(WANTED)
    live["metadata"] |= {"uid": "u1", "resourceVersion": "9", "labels": {"app": "istio", "other": "x"}}
    live["spec"]["conversion"] = {"strategy": "None"}  # a default the server wrote
    live["status"] = {"conditions": [{"type": "Established", "status": "True"}]}
    live["metadata"]["managedFields"] = [
        {"manager": "kube-apiserver", "operation": "Update", "subresource": "status",
         "fieldsV1": {"f:status": {}}},
        {"manager": "someone", "operation": "Update", "apiVersion": "apiextensions.k8s.io/v1",
         "fieldsV1": {"f:metadata": {"f:labels": {"f:other": {}}}}},
        {"manager": "kurator", "operation": "Apply", "apiVersion": "apiextensions.k8s.io/v1",
         "fieldsV1": APPLIED if fields is None else fields} | entry,
    ]  # fmt: skip
    return live


def test_a_live_object_holding_every_wanted_field_we_applied_is_kept() -> None:
    assert unchanged.apply_keeps(_live(), WANTED, "kurator")


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("spec", "scope"), "Cluster"),  # drifted
        (("metadata", "labels", "app"), "other"),
        (("spec", "versions"), [{"name": "v1", "served": False, "storage": True}]),  # a list item differs
        (("spec", "versions"), [{"name": "v1", "served": True}, {"name": "v2"}]),  # a list grows
        (("spec", "replicas"), 1),  # a field the live object lacks
        (("spec", "served"), True),  # a bool is not the number 1
    ],
)
def test_any_difference_goes_to_the_dry_run(path: tuple[str, ...], value: Any) -> None:
    wanted = copy.deepcopy(WANTED)
    *parents, last = path
    node = wanted
    for key in parents:
        node = node[key]
    node[last] = value
    live = _live()
    live["spec"]["served"] = 1
    assert not unchanged.apply_keeps(live, wanted, "kurator")


def test_a_field_we_applied_before_and_no_longer_want_goes_to_the_dry_run() -> None:
    # An apply without it removes it: the live object would change.
    fields = copy.deepcopy(APPLIED)
    fields["f:spec"]["f:conversion"] = {"f:strategy": {}}
    assert not unchanged.apply_keeps(_live(fields), WANTED, "kurator")


@pytest.mark.parametrize(
    "entry",
    [
        {"operation": "Update"},  # written by other means than apply
        {"apiVersion": "apiextensions.k8s.io/v1beta1"},  # ownership recorded under another version
    ],
)
def test_ownership_it_cannot_read_goes_to_the_dry_run(entry: dict[str, str]) -> None:
    assert not unchanged.apply_keeps(_live(**entry), WANTED, "kurator")


def test_list_items_owned_by_key_go_to_the_dry_run() -> None:
    fields = {"f:spec": {"f:containers": {'k:{"name":"a"}': {".": {}, "f:image": {}}}}}
    wanted = {"spec": {"containers": [{"name": "a", "image": "x"}]}}
    assert not unchanged.owned_within(fields, wanted)
    assert unchanged.owned_within({"f:spec": {"f:containers": {}}}, wanted)  # atomic: owned whole


def test_an_object_nobody_applied_is_kept_when_it_holds_everything() -> None:
    live = _live()
    live["metadata"]["managedFields"] = live["metadata"]["managedFields"][:2]
    assert unchanged.apply_keeps(live, WANTED, "kurator")


CRDS = ("apis/apiextensions.k8s.io/v1", "customresourcedefinitions")


def _dry_runs(live: dict[str, Any], wanted: dict[str, Any]) -> tuple[plan.Change, list[str]]:
    """The plan of ``wanted`` against the in-process API stand-in holding ``live``, and its dry runs."""
    fake = FakeAPI()
    fake.put(*CRDS, live)

    async def one() -> plan.Change:
        client = fake.client()
        try:
            return await plan._on_karmada_one(client, wanted, set())
        finally:
            await client.close()

    change = asyncio.run(one())
    return change, [path for method, path, _ in fake.requests if method == "PATCH" and "dryRun=All" in path]


def test_the_plan_asks_no_dry_run_of_an_object_that_holds_itself() -> None:
    change, dry_runs = _dry_runs(_live(), WANTED)
    assert (change.action, dry_runs) == ("unchanged", [])


def test_the_plan_dry_runs_an_object_that_differs() -> None:
    wanted = copy.deepcopy(WANTED)
    wanted["spec"]["scope"] = "Cluster"
    change, dry_runs = _dry_runs(_live(), wanted)
    assert len(dry_runs) == 1 and change.action == "change"
