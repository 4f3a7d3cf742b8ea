"""The CRDs generated from the models: structural (nothing the API server would refuse as non-structural),
named and shown as users expect, carrying every rule, and committed exactly as generated."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from kurator.api import crds
from kurator.api.crds.__main__ import main
from kurator.api.schema import SchemaError, structural

# Keywords a structural schema may not hold, or that these CRDs should never need.
FORBIDDEN = {
    "$ref",
    "$defs",
    "definitions",
    "anyOf",
    "oneOf",
    "allOf",
    "not",
    "const",
    "title",
    "default",
    "additionalItems",
    "patternProperties",
    "dependencies",
    "uniqueItems",
    "nullable",
}


def _nodes(schema: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    yield path, schema
    for name, sub in schema.get("properties", {}).items():
        yield from _nodes(sub, f"{path}.{name}")
    if isinstance(schema.get("items"), dict):
        yield from _nodes(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _nodes(schema["additionalProperties"], f"{path}{{}}")


def _schema(kind: crds.Kind) -> dict[str, Any]:
    schema: dict[str, Any] = crds.crd(kind)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


@pytest.mark.parametrize("kind", crds.KINDS, ids=lambda k: k.name)
def test_schema_is_structural(kind: crds.Kind) -> None:
    nodes = list(_nodes(_schema(kind)))
    assert len(nodes) > 10, "the schema has next to no fields"
    for path, node in nodes:
        assert not FORBIDDEN & set(node), (path, FORBIDDEN & set(node))
        # Kubernetes' one node without a type: an IntOrString (maxSurge: 1 or "25%")
        assert "type" in node or node.get("x-kubernetes-int-or-string") is True, path
        assert not ("properties" in node and "additionalProperties" in node), path


@pytest.mark.parametrize("kind", crds.KINDS, ids=lambda k: k.name)
def test_rules_have_messages_and_transition_rules_sit_where_they_can_run(kind: crds.Kind) -> None:
    count = 0
    for path, node in _nodes(_schema(kind)):
        for rule in node.get("x-kubernetes-validations", []):
            count += 1
            assert rule["message"], (path, rule)
            # The API server runs oldSelf rules only where old and new values correlate: not in list items.
            assert "oldSelf" not in rule["rule"] or "[]" not in path, (path, rule)
    assert count >= 10


@pytest.mark.parametrize("kind", crds.KINDS, ids=lambda k: k.name)
def test_rules_avoid_what_the_api_server_refuses(kind: crds.Kind) -> None:
    """Learnt from kube-apiserver 1.35: CRD rules have no ``cel.bind``; ``orValue`` and ``string(...)``
    yield values of unbounded size, which make a rule's or message's estimated cost exceed the budget."""
    rules = [(p, r) for p, node in _nodes(_schema(kind)) for r in node.get("x-kubernetes-validations", [])]
    assert len(rules) >= 10, "the schema has next to no rules"
    for path, rule in rules:
        assert "cel.bind" not in rule["rule"] and "orValue" not in rule["rule"], (path, rule)
        assert "string(" not in rule.get("messageExpression", ""), (path, rule)


def test_cluster_schema_carries_every_rule_of_the_brief() -> None:
    text = crds.render(crds.KINDS[0])
    for piece in ("isCIDR(self)", "self == oldSelf", "oldSelf.split", "'v1.35.4'", "'kube-ovn'"):
        assert piece in text
    text = crds.render(crds.KINDS[1])
    for piece in ("isIP(self)", "% 2 == 1", "lastIndexOf", "m.hostName", "m.publicIP", "m.privateIP"):
        assert piece in text


def test_machine_uniqueness_is_linear() -> None:
    """Each uniqueness rule walks each list once (values looked up natively), and hostName is each list's map
    key, which the API server checks itself: nothing compares every pair of machines in CEL."""
    spec = _schema(crds.KINDS[1])["properties"]["spec"]
    rules = [r["rule"] for r in spec["x-kubernetes-validations"] if "needs its own" in r["message"]]
    assert len(rules) == 9, rules
    for rule in rules:
        for role in ("self.master.", "self.node."):
            assert rule.count(role) <= 1, f"{rule}: {role} walked inside a walk of it"
        assert "exists" not in rule
    for role in ("master", "node"):
        listed = spec["properties"][role]
        assert listed["x-kubernetes-list-type"] == "map"
        assert listed["x-kubernetes-list-map-keys"] == ["hostName"]
        assert "hostName" in listed["items"]["required"]


@pytest.mark.parametrize("kind", crds.KINDS, ids=lambda k: k.name)
def test_names_subresource_and_columns(kind: crds.Kind) -> None:
    crd = crds.crd(kind)
    spec = crd["spec"]
    assert crd["metadata"]["name"] == f"{kind.plural}.cluster.kurator.dev"
    assert spec["scope"] == "Namespaced"
    assert spec["names"]["categories"] == ["kurator"]
    assert "cm" not in spec["names"]["shortNames"]  # kubectl reads cm as ConfigMaps
    version = spec["versions"][0]
    assert version["name"] == "v1alpha1" and version["subresources"] == {"status": {}}
    schema = _schema(kind)
    assert version["additionalPrinterColumns"], "no printer columns"
    for column in version["additionalPrinterColumns"]:
        if column["jsonPath"].startswith(".metadata."):
            continue
        node = schema
        for part in column["jsonPath"].lstrip(".").split("."):
            node = node["properties"][part]  # every column shows a field the schema has
        assert node["type"] == column["type"], column


def test_custom_cluster_columns() -> None:
    names = [c["name"] for c in crds.crd(crds.KINDS[0])["spec"]["versions"][0]["additionalPrinterColumns"]]
    assert names[:5] == ["PHASE", "VERSION", "MASTERS", "NODES", "CNI"] and names[-1] == "AGE"
    assert crds.crd(crds.KINDS[0])["spec"]["names"]["shortNames"] == ["cc"]


def test_committed_yaml_is_what_the_models_generate() -> None:
    assert crds.stale() == [], "run: python -m kurator.api.crds"
    assert main(["--check"]) == 0
    for kind in crds.KINDS:
        assert yaml.safe_load((crds.DIR / kind.file_name).read_text()) == crds.crd(kind)


def test_converter_refuses_what_is_not_structural() -> None:
    class Either(BaseModel):
        value: int | str

    class FreeForm(BaseModel):
        value: dict[str, Any]

    with pytest.raises(SchemaError, match="anyOf of 2 types"):
        structural(Either.model_json_schema())
    with pytest.raises(SchemaError, match="free-form"):
        structural(FreeForm.model_json_schema())


def test_converter_inlines_references_and_drops_null() -> None:
    class Inner(BaseModel):
        """Inner."""

        x: int

    class Outer(BaseModel):
        inner: Inner | None = None

    assert structural(Outer.model_json_schema()) == {
        "type": "object",
        "properties": {
            "inner": {
                "type": "object",
                "description": "Inner.",
                "properties": {"x": {"type": "integer"}},
                "required": ["x"],
            }
        },
    }
