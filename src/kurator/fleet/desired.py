"""From rendered objects to what must exist: the templates on Karmada (labelled as kurator's), the
propagation and override policies that carry them to members, and what each member should then hold."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from kurator.core.errors import KuratorError
from kurator.fleet.component import Component
from kurator.kube import kinds

Doc = dict[str, Any]
MANAGED_BY = "app.kubernetes.io/managed-by"
COMPONENT_LABEL = "kurator.dev/component"
POLICY_GROUP = "policy.karmada.io/v1alpha1"
WEBHOOK_KINDS = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
# Matches no object: a key that must exist and must not. Webhook configurations on Karmada are templates for
# members, whose servers run there: Karmada's own API server must never call them.
NO_OBJECT = {
    "matchExpressions": [
        {"key": "kurator.dev/template-only", "operator": "Exists"},
        {"key": "kurator.dev/template-only", "operator": "DoesNotExist"},
    ]
}


@dataclass(frozen=True, order=True)
class Ref:
    api_version: str
    kind: str
    namespace: str
    name: str

    @classmethod
    def of(cls, doc: Doc) -> Ref:
        meta = doc.get("metadata", {})
        return cls(doc["apiVersion"], doc["kind"], meta.get("namespace", ""), meta["name"])

    def to_json(self) -> dict[str, str]:
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
        }

    @classmethod
    def from_json(cls, data: dict[str, str]) -> Ref:
        return cls(data["apiVersion"], data["kind"], data.get("namespace", ""), data["name"])

    @property
    def is_policy(self) -> bool:
        """A Karmada policy: it stays on Karmada and is never propagated."""
        return self.api_version == POLICY_GROUP

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


@dataclass
class Desired:
    """Applied in three steps. ``first``: the namespace, CRDs and other cluster-scoped objects, and their
    ClusterPropagationPolicy. ``second``: overrides, namespaced objects of kinds members already serve, and
    the PropagationPolicy. ``third``, once every member reports the new APIs enabled: objects of the kinds the
    component's CRDs define (Karmada schedules an object only to members that serve its kind)."""

    component: str
    first: list[Doc] = field(default_factory=list)
    second: list[Doc] = field(default_factory=list)
    third: list[Doc] = field(default_factory=list)
    crd_apis: list[tuple[str, str]] = field(default_factory=list)  # (group/version, kind) members must serve
    templates: list[Doc] = field(default_factory=list)  # what members receive, before per-cluster changes
    per_member: dict[str, list[Doc]] | None = None  # each member's own objects (a component with variants)

    @property
    def all(self) -> list[Doc]:
        return self.first + self.second + self.third

    def refs(self) -> list[Ref]:
        return [Ref.of(d) for d in self.all]


def labels(component: str) -> dict[str, str]:
    return {MANAGED_BY: "kurator", COMPONENT_LABEL: component}


def policy_name(component: str) -> str:
    return f"kurator-{component}"


def group_kind(doc: Doc) -> tuple[str, str]:
    group = doc["apiVersion"].rsplit("/", 1)[0] if "/" in doc["apiVersion"] else ""
    return group, doc["kind"]


def is_namespaced(doc: Doc, crd_scopes: dict[tuple[str, str], str]) -> bool:
    if group_kind(doc) in crd_scopes:
        return crd_scopes[group_kind(doc)] == "Namespaced"
    namespaced = kinds.is_namespaced(doc["apiVersion"], doc["kind"])
    if namespaced is not None:
        return namespaced
    return bool(doc.get("metadata", {}).get("namespace"))


def selector(doc: Doc) -> dict[str, str]:
    sel = {"apiVersion": doc["apiVersion"], "kind": doc["kind"], "name": doc["metadata"]["name"]}
    if ns := doc["metadata"].get("namespace"):
        sel["namespace"] = ns
    return sel


def placement(targets: list[str]) -> dict[str, Any]:
    return {
        "clusterAffinity": {"clusterNames": sorted(targets)},
        "replicaScheduling": {"replicaSchedulingType": "Duplicated"},
    }


def policy(kind: str, name: str, namespace: str | None, spec: dict[str, Any], component: str) -> Doc:
    meta: dict[str, Any] = {"name": name, "labels": labels(component)}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": POLICY_GROUP, "kind": kind, "metadata": meta, "spec": spec}


def crd_kinds(docs: list[Doc]) -> tuple[dict[tuple[str, str], str], list[tuple[str, str]]]:
    """The kinds the CRDs among ``docs`` define: (group, kind) -> scope, and every served
    (group/version, kind)."""
    crd_scopes: dict[tuple[str, str], str] = {}
    crd_apis: list[tuple[str, str]] = []
    for doc in docs:
        if doc["kind"] == "CustomResourceDefinition":
            spec = doc["spec"]
            crd_scopes[(spec["group"], spec["names"]["kind"])] = spec.get("scope", "Namespaced")
            served = [v["name"] for v in spec.get("versions", []) if v.get("served", True)]
            crd_apis += [(f"{spec['group']}/{v}", spec["names"]["kind"]) for v in served]
    return crd_scopes, crd_apis


def build(component: Component, rendered: list[Doc], targets: list[str]) -> Desired:
    name = component.name
    crd_scopes, crd_apis = crd_kinds(rendered)

    cluster_scoped: list[Doc] = (
        [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": component.namespace}}]
        if component.namespace
        else []
    )
    namespaced: list[Doc] = []
    for original in rendered:
        doc = copy.deepcopy(original)
        meta = doc.setdefault("metadata", {})
        # What only a server writes (controller-gen leaves `creationTimestamp: null` in CRDs): never wanted.
        meta.pop("creationTimestamp", None)
        doc.pop("status", None)
        if is_namespaced(doc, crd_scopes):
            if not component.namespace and not meta.get("namespace"):
                raise KuratorError(f"{name} has no namespace, yet declares {Ref.of(doc)} without one")
            meta.setdefault("namespace", component.namespace)
            namespaced.append(doc)
        else:
            meta.pop("namespace", None)
            if component.namespace and doc["kind"] == "Namespace" and meta["name"] == component.namespace:
                cluster_scoped[0] = doc
                continue
            cluster_scoped.append(doc)
    for doc in cluster_scoped + namespaced:
        doc["metadata"]["labels"] = {**doc["metadata"].get("labels", {}), **labels(name)}
    # CRDs first, so that a member learns a kind before any object of it arrives.
    cluster_scoped.sort(key=lambda d: (d["kind"] != "Namespace", d["kind"] != "CustomResourceDefinition"))

    desired = Desired(component=name, crd_apis=crd_apis, templates=cluster_scoped + namespaced)
    if component.placement == "host":  # applied where it runs: no policies, nothing propagated
        desired.first = cluster_scoped
        desired.second = [d for d in namespaced if group_kind(d) not in crd_scopes]
        desired.third = [d for d in namespaced if group_kind(d) in crd_scopes]
        return desired
    desired.first = [
        *(inert(d) for d in cluster_scoped),
        *_webhook_overrides(name, cluster_scoped, targets),
        policy(
            "ClusterPropagationPolicy",
            policy_name(name),
            None,
            {"resourceSelectors": [selector(d) for d in cluster_scoped], "placement": placement(targets)},
            name,
        ),
    ]
    by_ns: dict[str, list[Doc]] = {}
    for doc in namespaced:
        by_ns.setdefault(doc["metadata"]["namespace"], []).append(doc)
    for ns, docs in sorted(by_ns.items()):
        desired.second += _overrides(component, ns, targets)
        desired.second += [d for d in docs if group_kind(d) not in crd_scopes]
        desired.third += [d for d in docs if group_kind(d) in crd_scopes]
        desired.second.append(
            policy(
                "PropagationPolicy",
                policy_name(name),
                ns,
                {"resourceSelectors": [selector(d) for d in docs], "placement": placement(targets)},
                name,
            )
        )
    return desired


def inert(doc: Doc) -> Doc:
    """``doc`` as it is kept on Karmada: a webhook configuration with every webhook matching no object."""
    if doc["kind"] not in WEBHOOK_KINDS:
        return doc
    doc = copy.deepcopy(doc)
    for hook in doc.get("webhooks") or []:
        hook["objectSelector"] = copy.deepcopy(NO_OBJECT)
    return doc


def _webhook_overrides(component: str, docs: list[Doc], targets: list[str]) -> list[Doc]:
    """ClusterOverridePolicies that give each member the webhooks as rendered (their own objectSelector)."""
    hooks = [d for d in docs if d["kind"] in WEBHOOK_KINDS and d.get("webhooks")]
    if not hooks:
        return []
    rules = [
        {
            "targetCluster": {"clusterNames": sorted(targets)},
            "overriders": {
                "plaintext": [
                    {
                        "path": f"/webhooks/{i}/objectSelector",
                        "operator": "replace",
                        "value": hook.get("objectSelector") or {},
                    }
                    for i, hook in enumerate(doc["webhooks"])
                ]
            },
        }
        for doc in hooks
    ]
    selectors = [selector(d) for d in hooks]
    # One rule per configuration, each applied only to its own (a rule's overriders apply to every selected
    # object): so one policy per configuration.
    return [
        policy(
            "ClusterOverridePolicy",
            f"{policy_name(component)}-{sel['kind'].lower()}-{sel['name']}",
            None,
            {"resourceSelectors": [sel], "overrideRules": [rule]},
            component,
        )
        for sel, rule in zip(selectors, rules, strict=True)
    ]


def _overrides(component: Component, namespace: str, targets: list[str]) -> list[Doc]:
    out = []
    for pc in component.per_cluster:
        if namespace != component.namespace:
            continue
        rules = [
            {
                "targetCluster": {"clusterNames": [member]},
                "overriders": {
                    "plaintext": [{"path": pc.path, "operator": "replace", "value": pc.value(member)}]
                },
            }
            for member in sorted(targets)
        ]
        selector = {"apiVersion": pc.api_version, "kind": pc.kind, "name": pc.name, "namespace": namespace}
        out.append(
            policy(
                "OverridePolicy",
                f"{policy_name(component.name)}-{pc.kind.lower()}-{pc.name}",
                namespace,
                {"resourceSelectors": [selector], "overrideRules": rules},
                component.name,
            )
        )
    return out


def for_member(component: Component, desired: Desired, member: str) -> list[Doc]:
    """What ``member`` should hold once Karmada has propagated and overridden the templates."""
    if desired.per_member is not None:  # read only, as every caller uses it
        return list(desired.per_member.get(member, []))
    out = []
    for doc in desired.templates:
        doc = copy.deepcopy(doc)
        for pc in component.per_cluster:
            if (doc["apiVersion"], doc["kind"], doc["metadata"]["name"]) == (
                pc.api_version,
                pc.kind,
                pc.name,
            ):
                _set_pointer(doc, pc.path, pc.value(member))
        out.append(doc)
    return out


def _set_pointer(doc: Doc, pointer: str, value: Any) -> None:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/")]
    node: Any = doc
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if isinstance(node, list):
        node[int(parts[-1])] = value
    else:
        node[parts[-1]] = value
