"""Uninstalling a component: exactly what its record lists, templates first (Karmada then removes them from
the members), policies and the record last, once the members are clean and Karmada let go of the templates.
"""

from __future__ import annotations

import contextlib
import time

from kurator.fleet import applying, plan, readiness, record, targets
from kurator.fleet.component import HOST
from kurator.fleet.desired import Ref
from kurator.fleet.readiness import Outcome, Progress
from kurator.kube import wait
from kurator.kube.client import Access, Client
from kurator.kube.wait import WaitTimeout

BINDING_API = "work.karmada.io/v1alpha2"
BINDING_KINDS = ("ClusterResourceBinding", "ResourceBinding")


def _recorded_members(api: Client, rec: record.Record) -> list[str]:
    """The members an install reached that are still joined (the host, for a component placed there)."""
    if rec.placement == "host":
        return [HOST]
    joined = set(targets.joined_clusters(api))
    return [m for m in rec.targets if m in joined]


def _plan_removal(karmada: Access, api: Client, rec: record.Record, members: list[str]) -> plan.Plan:
    on_host = rec.placement == "host"
    kplan = plan.TargetPlan(HOST if on_host else plan.KARMADA)
    kplan.changes = plan.deletions(api, [], rec.refs)
    if on_host:
        return plan.Plan(rec.component, rec.version, kplan, [])
    templates = [r for r in rec.refs if not r.is_policy]
    with targets.Members(karmada, members) as pool:
        mplans = pool.run(lambda m, client: plan.on_member(m, client, [], templates))
    return plan.Plan(rec.component, rec.version, kplan, list(mplans.values()))


def uninstall_plan(karmada: Access, component: str) -> plan.Plan | None:
    api = karmada.client()
    rec = record.load(api, component)
    if rec is None:
        return None
    return _plan_removal(karmada, api, rec, _recorded_members(api, rec))


def uninstall(
    karmada: Access,
    component: str,
    wait_timeout: float = 300.0,
    progress: Progress | None = None,
) -> Outcome | None:
    """Remove exactly what the record lists: templates first (Karmada then removes them from members),
    policies and the record last, once members are clean. ``None`` when nothing is installed."""
    began = time.monotonic()
    api = karmada.client()
    rec = record.load(api, component)
    if rec is None:
        return None
    members = _recorded_members(api, rec)
    out = Outcome(_plan_removal(karmada, api, rec, members))
    templates = [r for r in rec.refs if not r.is_policy]
    policies = [r for r in rec.refs if r.is_policy]
    # Namespaced objects, then cluster-scoped ones, the namespace last.
    templates.sort(
        key=lambda r: (r.namespace == "", r.kind == "CustomResourceDefinition", r.kind == "Namespace")
    )
    out.writes += applying.delete(api, templates)
    out.members = readiness.wait_gone(
        karmada, members, templates, wait_timeout, progress, rec.placement == "host"
    )
    if out.failed:
        return out  # policies and record stay, so running uninstall again finishes the job
    _wait_released(api, templates, max(1.0, wait_timeout - (time.monotonic() - began)))
    out.writes += applying.delete(api, policies)
    _wait_released(api, policies, max(1.0, wait_timeout - (time.monotonic() - began)))
    record.delete(api, component)
    out.seconds = time.monotonic() - began
    return out


def held(api: Client, templates: list[Ref]) -> list[str]:
    """What Karmada still holds of removed objects: one still being finalized (a CRD, a namespace, a policy
    whose finalizer unbinds what it propagated), or a binding of one, which Karmada's garbage collector
    removes some time after its template."""
    removed = {(r.api_version, r.kind, r.namespace, r.name) for r in templates}
    slow = [r for r in templates if r.is_policy or r.kind in ("CustomResourceDefinition", "Namespace")]
    left = [str(r) for r in slow if plan.get_live(api, r) is not None]
    for kind in BINDING_KINDS:
        for binding in plan.list_live(api, BINDING_API, kind):
            res = (binding.get("spec") or {}).get("resource") or {}
            key = (res.get("apiVersion"), res.get("kind"), res.get("namespace") or "", res.get("name"))
            if key in removed:
                left.append(f"{kind} {binding['metadata']['name']}")
    return left


def _wait_released(api: Client, templates: list[Ref], timeout: float) -> None:
    """Until Karmada has let go of the removed templates. A template made again while its old binding waits
    for the garbage collector is not propagated: Karmada refuses to update a binding owned by another object
    and tries again only with a growing back-off (karmada-io/karmada#2090), so an install right after an
    uninstall could wait minutes for its cluster-scoped objects; a policy applied again while its deletion
    is under way goes with it. Members are clean already, so what Karmada is slow to let go of does not fail
    the uninstall (an install waits for it)."""
    with contextlib.suppress(WaitTimeout):
        wait.until(lambda: not held(api, templates), timeout=timeout, what="Karmada to release the templates")
