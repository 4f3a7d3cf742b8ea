"""Components whose members differ (fleet.variants): templates, per-object placement and overrides that
give each member exactly its own copy."""

from __future__ import annotations

import copy
import dataclasses
import re
from typing import Any

import pytest

from kurator.core.errors import KuratorError
from kurator.fleet import desired, variants
from kurator.fleet.component import Artifact, Component, Variants

COMP = Component(
    name="mesh",
    description="test",
    artifact=Artifact("mesh", "1.0", "manifests", "https://example.invalid/m.zip", "0" * 64),
    namespace="mesh-system",
)


def _cm(name: str, data: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "gateways.mesh.example"},
    "spec": {
        "group": "mesh.example",
        "scope": "Namespaced",
        "names": {"kind": "Gateway", "plural": "gateways"},
        "versions": [{"name": "v1", "served": True, "storage": True}],
    },
}
NS = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "mesh-system"}}


def _variants() -> Variants:
    primary = [
        {**NS, "metadata": {"name": "mesh-system", "labels": {"net": "n1"}}},
        CRD,
        _cm("shared", {"cluster": "p", "same": "x"}),
        _cm("only-primary", {"a": "b"}),
        {"apiVersion": "mesh.example/v1", "kind": "Gateway", "metadata": {"name": "gw"}, "spec": {}},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "r"},
            "rules": [{"verbs": ["get"]}],
        },
    ]
    remote = [
        {**NS, "metadata": {"name": "mesh-system", "annotations": {"primary": "p"}}},
        CRD,
        _cm("shared", {"cluster": "r1", "same": "x", "extra": "y"}),
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "r"},
            "rules": [{"verbs": ["get", "list"]}],
        },
    ]
    karmada = [
        {
            "apiVersion": "policy.karmada.io/v1alpha1",
            "kind": "ClusterPropagationPolicy",
            "metadata": {"name": "mesh-resources"},
            "spec": {},
        }
    ]
    return Variants({"p": primary, "r1": remote, "r2": copy.deepcopy(remote)}, karmada)


def _apply(doc: dict[str, Any], ops: list[dict[str, Any]]) -> dict[str, Any]:
    """Karmada's plaintext overriders (JSON patch add/remove/replace) on a copy of ``doc``."""
    out = copy.deepcopy(doc)
    for op in ops:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].lstrip("/").split("/")]
        node = out
        for part in parts[:-1]:
            node = node[part]
        if op["operator"] == "remove":
            del node[parts[-1]]
        else:
            node[parts[-1]] = op["value"]
    return out


def _by_ref(docs: list[dict[str, Any]]) -> dict[desired.Ref, dict[str, Any]]:
    return {desired.Ref.of(d): d for d in docs}


def test_each_member_gets_exactly_its_own_copy_once_overrides_apply() -> None:
    want = variants.build(COMP, _variants(), ["p", "r1", "r2"])
    templates = _by_ref(want.templates)
    policies = [
        d for d in want.all if desired.Ref.of(d).is_policy and d["metadata"]["name"] != "mesh-resources"
    ]
    for member in ("p", "r1", "r2"):
        expected = _by_ref(desired.for_member(COMP, want, member))
        got = {}
        for ref, template in templates.items():
            sel = {k: v for k, v in ref.to_json().items() if v}
            placing = [
                p
                for p in policies
                if p["kind"].endswith("PropagationPolicy") and p["spec"]["resourceSelectors"] == [sel]
            ]
            assert len(placing) == 1, f"{ref} is placed by exactly one policy"
            if member not in placing[0]["spec"]["placement"]["clusterAffinity"]["clusterNames"]:
                continue
            ops = [
                op
                for p in policies
                if p["kind"].endswith("OverridePolicy") and p["spec"]["resourceSelectors"] == [sel]
                for rule in p["spec"]["overrideRules"]
                if rule["targetCluster"]["clusterNames"] == [member]
                for op in rule["overriders"]["plaintext"]
            ]
            got[ref] = _apply(template, ops)
        assert got == expected, member


def test_objects_are_labelled_namespaced_and_ordered_in_steps() -> None:
    want = variants.build(COMP, _variants(), ["p", "r1", "r2"])
    first = [(d["kind"], d["metadata"]["name"]) for d in want.first if not desired.Ref.of(d).is_policy]
    assert first[:2] == [("Namespace", "mesh-system"), ("CustomResourceDefinition", "gateways.mesh.example")]
    assert ("ClusterPropagationPolicy", "mesh-resources") in [
        (d["kind"], d["metadata"]["name"]) for d in want.first
    ]
    assert [d["metadata"]["name"] for d in want.third if d["kind"] == "Gateway"] == ["gw"]
    assert all(d["kind"] != "Gateway" for d in want.second)
    for doc in want.all:
        assert doc["metadata"]["labels"][desired.COMPONENT_LABEL] == "mesh"
    shared = next(d for d in want.second if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "shared")
    assert shared["metadata"]["namespace"] == "mesh-system"
    assert want.crd_apis == [("mesh.example/v1", "Gateway")]


def test_placement_names_exactly_the_members_that_hold_an_object() -> None:
    want = variants.build(COMP, _variants(), ["p", "r1", "r2"])
    placed = {
        d["spec"]["resourceSelectors"][0]["name"]: d["spec"]["placement"]["clusterAffinity"]["clusterNames"]
        for d in want.all
        if d["kind"].endswith("PropagationPolicy") and d["metadata"]["name"] != "mesh-resources"
    }
    assert placed["only-primary"] == ["p"]
    assert placed["shared"] == ["p", "r1", "r2"]
    assert placed["gw"] == ["p"]
    # no override where every member's copy is the template's
    assert not [
        d for d in want.all if d["kind"].endswith("OverridePolicy") and "gateways" in d["metadata"]["name"]
    ]


def test_policy_names_are_stable_and_valid_whatever_the_object_name() -> None:
    doc = _cm("a" * 300, {})
    name = variants.object_policy_name("istio", doc)
    assert len(name) <= 253 and re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", name)
    assert name == variants.object_policy_name("istio", doc)
    odd = {"kind": "ClusterRole", "metadata": {"name": "system:Istio_Reader"}}
    assert variants.object_policy_name("istio", odd) == "kurator-istio-clusterrole-system-istio-reader"


def test_fewer_targets_give_narrower_placements_under_the_same_policy_names() -> None:
    wide = variants.build(COMP, _variants(), ["p", "r1", "r2"])
    v = _variants()
    del v.members["r2"]
    narrow = variants.build(COMP, v, ["p", "r1"])

    def placements(want: desired.Desired) -> dict[str, list[str]]:
        return {
            d["metadata"]["name"]: d["spec"]["placement"]["clusterAffinity"]["clusterNames"]
            for d in want.all
            if d["kind"].endswith("PropagationPolicy") and d["metadata"]["name"] != "mesh-resources"
        }

    assert placements(wide).keys() == placements(narrow).keys()
    assert placements(narrow)["kurator-mesh-configmap-shared"] == ["p", "r1"]


def test_operations_keep_equal_fields_and_replace_lists_whole() -> None:
    ops = variants.operations(
        {"a": 1, "b": [1, 2], "c": {"x": 1, "y": 2}}, {"a": 1, "b": [1], "c": {"x": 1}, "d/e": 3}
    )
    assert ops == [
        {"path": "/b", "operator": "replace", "value": [1]},
        {"path": "/c/y", "operator": "remove"},
        {"path": "/d~1e", "operator": "add", "value": 3},
    ]
    with pytest.raises(KuratorError):
        variants.operations([1], [2])


def test_a_render_for_other_members_than_the_targets_is_refused() -> None:
    with pytest.raises(KuratorError, match="targets are p, r1"):
        variants.build(COMP, _variants(), ["p", "r1"])


def test_the_same_object_twice_for_one_member_is_refused() -> None:
    v = Variants({"p": [_cm("x", {}), _cm("x", {"a": "b"})]})
    with pytest.raises(KuratorError, match="twice"):
        variants.build(dataclasses.replace(COMP), v, ["p"])


def test_what_api_servers_write_back_differently_still_counts_as_held() -> None:
    from kurator.fleet import objects

    live = {"env": [{"name": "PLATFORM"}], "resources": {"requests": {"memory": "2Gi", "cpu": "100m"}}}
    wanted = {"env": [{"name": "PLATFORM", "value": ""}], "resources": {"requests": {"memory": "2048Mi"}}}
    assert objects.contains(live, wanted)
    assert objects.contains(live, {"resources": {"requests": {"cpu": "0.1"}}})
    assert not objects.contains(live, {"resources": {"requests": {"memory": "2049Mi"}}})
    assert not objects.contains(live, {"env": [{"name": "PLATFORM", "value": "x"}]})
    assert objects.quantity("1e3") == 1000 and objects.quantity("web") is None


def test_a_generic_objects_diff_is_plain_yaml() -> None:
    from kurator.fleet import objects

    class Mapping(dict):  # type: ignore[type-arg]  # as lightkube's generic resources hold their fields
        pass

    before = Mapping(apiVersion="x/v1", kind="K", metadata={"name": "a"}, spec=Mapping(n=1))
    after = Mapping(apiVersion="x/v1", kind="K", metadata={"name": "a"}, spec=Mapping(n=2))
    assert "-  n: 1" in objects.diff(before, after, "K a") and "+  n: 2" in objects.diff(before, after, "K a")


def test_webhook_configurations_on_karmada_match_no_object_and_members_get_theirs() -> None:
    hook = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "MutatingWebhookConfiguration",
        "metadata": {"name": "injector"},
        "webhooks": [{"name": "a.example.com", "objectSelector": {"matchLabels": {"inject": "yes"}}}],
    }
    remote = {**hook, "webhooks": [{**hook["webhooks"][0], "clientConfig": {"url": "https://p:15017"}}]}
    want = variants.build(COMP, Variants({"p": [hook], "r1": [remote]}), ["p", "r1"])
    on_karmada = next(d for d in want.all if d["kind"] == "MutatingWebhookConfiguration")
    assert on_karmada["webhooks"][0]["objectSelector"] == desired.NO_OBJECT
    overrides = next(d for d in want.all if d["kind"] == "ClusterOverridePolicy")
    rules = {
        r["targetCluster"]["clusterNames"][0]: r["overriders"]["plaintext"]
        for r in overrides["spec"]["overrideRules"]
    }
    assert _apply(on_karmada, rules["p"])["webhooks"] == hook["webhooks"]
    assert _apply(on_karmada, rules["r1"])["webhooks"] == remote["webhooks"]
