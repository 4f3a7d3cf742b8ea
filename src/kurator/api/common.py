"""What both kinds share: model settings, the Secret reference of a machine's SSH key, CAPI-style conditions
and the top level of a resource."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kurator.api.rules import Cel, Rule, dns_label, dns_subdomain, says

NAME_MAX = 253


class Spec(BaseModel):
    """Specs refuse unknown fields, as ``kubectl apply`` does (strict field validation): a misspelt field
    is an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, use_attribute_docstrings=True)


class Status(BaseModel):
    """Status is written by the operator; readers ignore what they do not know."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, use_attribute_docstrings=True)


def reference_rules(field: str, kind: str, api_version: str) -> Cel:
    """An object reference may name its kind and apiVersion (Kurator's are full ObjectReferences); when it
    does, they must be those of ``kind``."""
    return Cel(
        Rule(
            cel=f"!has(self.kind) || self.kind == '{kind}'",
            message=f"{field} must refer to a {kind}",
            check=lambda ref: ref.kind in (None, kind),
            say=says(
                f"{field} must refer to a {kind}, not a {{kind}}", kind=("self.kind", lambda ref: ref.kind)
            ),
        ),
        Rule(
            cel=f"!has(self.apiVersion) || self.apiVersion == '{api_version}'",
            message=f"{field}.apiVersion must be {api_version}, the API version of {kind}",
            check=lambda ref: ref.api_version in (None, api_version),
        ),
    )


class Reference(Spec):
    """A reference to an object by name, shaped like Kurator's ObjectReference (kind and apiVersion may be
    given, and are checked)."""

    api_version: Annotated[str | None, Field(alias="apiVersion", max_length=NAME_MAX)] = None
    kind: Annotated[str | None, Field(max_length=63)] = None
    name: Annotated[str, Field(max_length=NAME_MAX), Cel(dns_subdomain("name", "an object name"))]
    namespace: (
        Annotated[str, Field(max_length=63), Cel(dns_label("namespace", "a namespace name"))] | None
    ) = None
    """The namespace of the object; the operator uses only objects in the referring object's own namespace
    (the API server cannot check this: CEL does not see an object's namespace)."""


class Condition(Status):
    """One aspect of the object's state, as Cluster API reports it (type, status, reason, message, when it
    last changed) plus the generation it was computed for."""

    type: Annotated[str, Field(max_length=316)]
    """What this condition is about, e.g. Ready."""
    status: Literal["True", "False", "Unknown"]
    reason: Annotated[str | None, Field(max_length=1024)] = None
    """A CamelCase word saying why, for programs."""
    message: Annotated[str | None, Field(max_length=32768)] = None
    """What happened, for people."""
    severity: Literal["Error", "Warning", "Info"] | None = None
    """How bad a False condition is (Cluster API's severity)."""
    last_transition_time: datetime = Field(alias="lastTransitionTime")
    """When status last changed."""
    observed_generation: Annotated[int | None, Field(alias="observedGeneration", ge=0)] = None
    """The metadata.generation this condition was computed from."""


Conditions = Annotated[
    list[Condition],
    Field(
        max_length=32,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    ),
]


class Resource(BaseModel):
    """The top level of a custom resource: apiVersion, kind, metadata (kept as given), spec, status."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, use_attribute_docstrings=True)

    metadata: dict[str, Any] = Field(default_factory=dict)

    def manifest(self) -> dict[str, Any]:
        """The object as the API server takes it: what was given, no absent or defaulted fields."""
        head = self.model_dump(mode="json", by_alias=True, include={"api_version", "kind"})
        return head | self.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_unset=True)
