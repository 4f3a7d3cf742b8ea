"""Pydantic's JSON schema turned into the structural OpenAPI v3 schema a CRD needs: references inlined,
``X | None`` reduced to X (an absent field is left out, never null), pydantic's titles and defaults dropped.
Any keyword a structural schema forbids, or that this module does not know, is refused here rather than
handed to the API server."""

from __future__ import annotations

from typing import Any

from kurator.core.errors import KuratorError

# What a structural schema may hold (apiextensions.k8s.io/v1 JSONSchemaProps), among what pydantic writes.
ALLOWED = frozenset(
    {
        "type",
        "description",
        "properties",
        "required",
        "items",
        "additionalProperties",
        "enum",
        "pattern",
        "format",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "minProperties",
        "maxProperties",
        "minimum",
        "maximum",
        "x-kubernetes-validations",
        "x-kubernetes-list-type",
        "x-kubernetes-list-map-keys",
        "x-kubernetes-map-type",
        "x-kubernetes-preserve-unknown-fields",
        "x-kubernetes-int-or-string",
    }
)
# Kubernetes' one exception to "every node has a type": an integer or a string (IntOrString).
INT_OR_STRING = "x-kubernetes-int-or-string"
DROPPED = frozenset({"title", "default"})  # pydantic's; defaults would be applied by the API server
NULL = {"type": "null"}


class SchemaError(KuratorError):
    """A model cannot be expressed as a structural schema (a bug in a model, found at generation time)."""


def structural(schema: dict[str, Any]) -> dict[str, Any]:
    """The structural form of a pydantic ``model_json_schema(by_alias=True)``."""
    return _convert(schema, schema.get("$defs", {}), "")


def _merge(inner: dict[str, Any], outer: dict[str, Any]) -> dict[str, Any]:
    """``outer``'s keywords (a field's description and rules) on top of ``inner`` (its type); rules add up."""
    merged = {**inner, **outer}
    rules = [*inner.get("x-kubernetes-validations", []), *outer.get("x-kubernetes-validations", [])]
    if rules:
        merged["x-kubernetes-validations"] = rules
    return merged


def _convert(node: dict[str, Any], defs: dict[str, Any], where: str) -> dict[str, Any]:
    node = {k: v for k, v in node.items() if k not in DROPPED and k != "$defs"}
    if node.get(INT_OR_STRING):
        if "type" in node or set(node) - ALLOWED:
            raise SchemaError(f"{where or '<root>'}: an int-or-string has no type and no combinators")
        return node
    if "$ref" in node:
        name = node.pop("$ref").rsplit("/", 1)[-1]
        node = _merge(_convert(defs[name], defs, where), node)
    for combinator in ("anyOf", "allOf"):
        if combinator in node:
            options = [o for o in node.pop(combinator) if o != NULL]
            if len(options) != 1:
                raise SchemaError(
                    f"{where or '<root>'}: {combinator} of {len(options)} types is not structural"
                )
            node = _merge(_convert(options[0], defs, where), node)
    if "description" in node:  # docstrings wrap; descriptions are paragraphs
        node["description"] = " ".join(node["description"].split())
    if "const" in node:
        node["enum"] = [node.pop("const")]
    if node.get("additionalProperties") is False:
        del node["additionalProperties"]  # properties and additionalProperties exclude each other
    if "properties" in node:
        node["properties"] = {k: _convert(v, defs, f"{where}.{k}") for k, v in node["properties"].items()}
    if isinstance(node.get("items"), dict):
        node["items"] = _convert(node["items"], defs, f"{where}[]")
    if isinstance(node.get("additionalProperties"), dict):
        node["additionalProperties"] = _convert(node["additionalProperties"], defs, f"{where}{{}}")
    if node.get("additionalProperties") is True:
        raise SchemaError(f"{where or '<root>'}: free-form objects are not structural; give them a type")
    if node.get(INT_OR_STRING):  # an optional one: its null option has gone
        return _convert(node, defs, where)
    unknown = set(node) - ALLOWED
    if unknown:
        raise SchemaError(
            f"{where or '<root>'}: {', '.join(sorted(unknown))} not allowed in a structural schema"
        )
    if "type" not in node:
        raise SchemaError(f"{where or '<root>'}: every node of a structural schema needs a type")
    return node
