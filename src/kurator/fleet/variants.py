"""Desired state of a component whose members differ (``Component.variants``): each member's own objects
folded into what Karmada holds. One template per object (the first member's copy), a propagation policy per
object that places it on exactly the members holding it, and an override policy per object that turns the
template into each other member's copy where they differ.

A policy per object, rather than one per set of members, keeps every policy's name stable when the targets
change: a changed set of members is an in-place edit of each policy's placement, which Karmada acts on, and
never a template handed from one policy to another.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from kurator.core.errors import KuratorError
from kurator.fleet.component import Component, Variants
from kurator.fleet.desired import (
    Desired,
    Doc,
    Ref,
    crd_kinds,
    group_kind,
    inert,
    is_namespaced,
    labels,
    placement,
    policy,
    policy_name,
    selector,
)

NAME_MAX = 253
OVERRIDE_KINDS = ("OverridePolicy", "ClusterOverridePolicy")


def object_policy_name(component: str, doc: Doc) -> str:
    """``kurator-<component>-<kind>-<name>``: stable for the object, a valid name whatever the object's."""
    slug = re.sub(r"[^a-z0-9.-]+", "-", f"{doc['kind']}-{doc['metadata']['name']}".lower()).strip("-.")
    name = f"{policy_name(component)}-{slug}"
    if len(name) <= NAME_MAX:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:10]
    return f"{name[: NAME_MAX - 11].rstrip('-.')}-{digest}"


def _pointer(parts: list[str]) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def operations(template: Any, variant: Any, parts: list[str] | None = None) -> list[dict[str, Any]]:
    """Karmada plaintext overriders that turn ``template`` into ``variant``: maps are compared key by key,
    anything else (lists, scalars) is replaced whole where it differs."""
    parts = parts or []
    if isinstance(template, dict) and isinstance(variant, dict):
        ops: list[dict[str, Any]] = [
            {"path": _pointer([*parts, key]), "operator": "remove"} for key in template if key not in variant
        ]
        for key, value in variant.items():
            if key not in template:
                ops.append({"path": _pointer([*parts, key]), "operator": "add", "value": value})
            elif template[key] != value:
                ops += operations(template[key], value, [*parts, key])
        return ops
    if template == variant:
        return []
    if not parts:
        raise KuratorError("a whole object cannot be overridden, only its fields")
    return [{"path": _pointer(parts), "operator": "replace", "value": variant}]


def _finish(component: Component, doc: Doc, crd_scopes: dict[tuple[str, str], str]) -> Doc:
    """A member's copy as kurator applies it: the component's labels, its namespace when it names none."""
    # A new top level and metadata only: the rest is shared, never changed (Istio's CRDs alone are 1 MiB,
    # and each member holds them).
    meta = dict(doc.get("metadata") or {})
    doc = {**doc, "metadata": meta}
    if is_namespaced(doc, crd_scopes):
        if not meta.get("namespace"):
            if not component.namespace:
                raise KuratorError(f"{component.name} declares {Ref.of(doc)} without a namespace")
            meta["namespace"] = component.namespace
    else:
        meta.pop("namespace", None)
    meta["labels"] = {**meta.get("labels", {}), **labels(component.name)}
    return doc


def _policies(component: Component, template: Doc, copies: dict[str, Doc], namespaced: bool) -> list[Doc]:
    """The propagation policy of one object, and its override policy when some member's copy differs."""
    name = object_policy_name(component.name, template)
    namespace = template["metadata"]["namespace"] if namespaced else None
    prefix = "" if namespaced else "Cluster"
    out = [
        policy(
            f"{prefix}PropagationPolicy",
            name,
            namespace,
            {"resourceSelectors": [selector(template)], "placement": placement(list(copies))},
            component.name,
        )
    ]
    rules = []
    for member, doc in copies.items():
        if ops := operations(template, doc):
            rules.append({"targetCluster": {"clusterNames": [member]}, "overriders": {"plaintext": ops}})
    if rules:
        spec = {"resourceSelectors": [selector(template)], "overrideRules": rules}
        out.append(policy(f"{prefix}OverridePolicy", name, namespace, spec, component.name))
    return out


def build(component: Component, variants: Variants, targets: list[str]) -> Desired:
    """The three steps of ``desired.Desired`` for a component whose members differ; ``per_member`` holds
    what each member should then have."""
    if set(variants.members) != set(targets):
        raise KuratorError(
            f"{component.name} rendered objects for {', '.join(sorted(variants.members)) or 'no member'}, "
            f"but the targets are {', '.join(sorted(targets))}"
        )
    once = {Ref.of(d): d for docs in reversed(variants.members.values()) for d in docs}
    crd_scopes, crd_apis = crd_kinds(list(once.values()))
    per_member = {
        m: [_finish(component, d, crd_scopes) for d in docs] for m, docs in variants.members.items()
    }
    copies: dict[Ref, dict[str, Doc]] = {}
    for member, docs in per_member.items():
        for doc in docs:
            held = copies.setdefault(Ref.of(doc), {})
            if member in held:
                raise KuratorError(f"{component.name} renders {Ref.of(doc)} twice for {member}")
            held[member] = doc

    loosen = variants.loosen or (lambda doc: doc)
    expected = {m: [loosen(d) for d in docs] for m, docs in per_member.items()}
    want = Desired(component=component.name, crd_apis=crd_apis, per_member=expected)
    cluster_scoped = [
        (ref, held)
        for ref, held in copies.items()
        if not is_namespaced(next(iter(held.values())), crd_scopes)
    ]
    # Namespaces first, then CRDs, so that a member learns a kind before any object of it arrives.
    cluster_scoped.sort(
        key=lambda item: (item[0].kind != "Namespace", item[0].kind != "CustomResourceDefinition")
    )
    for _ref, held in cluster_scoped:
        # A webhook configuration's template matches no object on Karmada (desired.inert): Karmada's own API
        # server never calls a member's webhook; each member gets its copy through the override policy.
        template = inert(next(iter(held.values())))
        want.templates.append(template)
        want.first += [template, *_policies(component, template, held, namespaced=False)]
    want.first += [_finish_karmada(component, d) for d in variants.karmada]
    for held in copies.values():
        template = next(iter(held.values()))
        if not is_namespaced(template, crd_scopes):
            continue
        want.templates.append(template)
        step = want.third if group_kind(template) in crd_scopes else want.second
        step += [template, *_policies(component, template, held, namespaced=True)]
    return want


def _finish_karmada(component: Component, doc: Doc) -> Doc:
    meta = dict(doc.get("metadata") or {})
    meta["labels"] = {**meta.get("labels", {}), **labels(component.name)}
    return {**doc, "metadata": meta}
