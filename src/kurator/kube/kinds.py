"""Which lightkube class serves a kind: the ones lightkube ships, generic ones made from CRDs (ours, or in
a manifest about to be applied), and the ones a cluster's discovery names. Objects to and from plain dicts.
The rest of kurator speaks of kinds as ``apiVersion`` + ``kind`` and dicts; lightkube's classes stay here."""

from __future__ import annotations

from typing import Any

from lightkube import codecs
from lightkube.core.exceptions import LoadResourceError
from lightkube.core.resource import NamespacedResource
from lightkube.generic_resource import (
    create_global_resource,
    create_namespaced_resource,
    load_in_cluster_generic_resources,
)

from kurator.kube.client import Client

Doc = dict[str, Any]


def namespaced(group: str, version: str, kind: str, plural: str) -> Any:
    """The generic class of a namespaced custom kind (made once, then reused)."""
    return create_namespaced_resource(group, version, kind, plural)


def cluster_scoped(group: str, version: str, kind: str, plural: str) -> Any:
    return create_global_resource(group, version, kind, plural)


def register_crds(docs: list[Doc]) -> None:
    """Make the kinds defined by CRDs in ``docs`` known before any server serves them."""
    for doc in docs:
        if doc["kind"] != "CustomResourceDefinition":
            continue
        spec = doc["spec"]
        make = namespaced if spec.get("scope") == "Namespaced" else cluster_scoped
        for version in spec.get("versions", []):
            make(spec["group"], version["name"], spec["names"]["kind"], spec["names"]["plural"])


def lookup(api_version: str, kind: str) -> Any | None:
    """The class of a kind known here (shipped, or registered), None when unknown."""
    try:
        return codecs.resource_registry.load(api_version, kind)
    except LoadResourceError:
        return None


def resource(api: Client, api_version: str, kind: str) -> Any:
    """The class of a kind, asking ``api``'s discovery for kinds not known here; raises LookupError when
    the server does not serve it either."""
    found = lookup(api_version, kind)
    if found is None:
        load_in_cluster_generic_resources(api)
        found = lookup(api_version, kind)
    if found is None:
        raise LookupError(f"{kind} ({api_version}) is not served")
    return found


def known(api: Client, api_version: str, kind: str) -> bool:
    """Whether the kind is known here or served by ``api``."""
    try:
        resource(api, api_version, kind)
    except LookupError:
        return False
    return True


def is_namespaced(api_version: str, kind: str) -> bool | None:
    """Whether a kind known here is namespaced; None when it is not known."""
    cls = lookup(api_version, kind)
    return None if cls is None else issubclass(cls, NamespacedResource)


def from_dict(doc: Doc, api: Client | None = None) -> Any:
    """The lightkube object of a manifest; with ``api``, a kind not known here is looked up in its
    discovery first (its CRD may have been applied just before)."""
    if api is not None and lookup(doc["apiVersion"], doc["kind"]) is None:
        load_in_cluster_generic_resources(api)
    return codecs.from_dict(doc)


def to_dict(obj: Any) -> Doc:
    return obj if isinstance(obj, dict) else dict(obj.to_dict())
