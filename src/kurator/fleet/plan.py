"""The plan of an install or uninstall, per target (Karmada's API server, then each member): what will be
created, changed (with a diff) or deleted. Computing it writes nothing: changes on Karmada are found with
server-side dry-run apply (an object that already holds all of itself is seen unchanged without one), on
members by comparing what propagation will deliver with what they hold."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Literal

from kurator.core.errors import InvalidInput
from kurator.fleet import objects, unchanged
from kurator.fleet.desired import Ref
from kurator.fleet.targets import unreachable_reason
from kurator.kube import kinds, ops
from kurator.kube.client import FIELD_MANAGER, Access, AsyncClient, Client
from kurator.kube.errors import (
    BadRequest,
    Disconnected,
    Forbidden,
    Invalid,
    KubeError,
    NotFound,
    Unreachable,
)

Action = Literal["create", "change", "delete", "unchanged"]
Doc = dict[str, Any]
KARMADA = "karmada"


@dataclass
class Change:
    action: Action
    ref: Ref
    diff: str = ""
    refused: str = ""
    """Why the API server would refuse the object, in its own words (from the dry run)."""
    note: str = ""
    """What the dry run could not check, e.g. an object of a kind whose CRD this same install makes."""
    deleting: bool = False
    """The live object is being deleted (an uninstall's, its finalizers not done): made again once gone."""


@dataclass
class TargetPlan:
    target: str
    changes: list[Change] = field(default_factory=list)
    error: str | None = None  # the target could not be read

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action == action)

    def pending(self) -> list[Change]:
        return [c for c in self.changes if c.action != "unchanged"]

    def refused(self) -> list[Change]:
        return [c for c in self.changes if c.refused]


@dataclass
class Plan:
    component: str
    version: str
    karmada: TargetPlan
    members: list[TargetPlan]
    values: list[str] = field(default_factory=list)  # names of the --set values in effect (never values)
    kept: list[str] = field(default_factory=list)  # those of them an earlier run set

    @property
    def targets(self) -> list[TargetPlan]:
        return [self.karmada, *self.members]

    def check(self) -> None:
        """Raise, naming the first refusal, when the API server would refuse any object of the plan."""
        refused = self.karmada.refused()
        if refused:
            first = refused[0]
            more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
            raise InvalidInput(
                f"{self.karmada.target} would refuse {first.ref} of {self.component}{more}: {first.refused}",
                "fix the values (--set) and run again; nothing was written",
            )

    def to_json(self) -> dict[str, Any]:
        return {
            "component": self.component,
            "version": self.version,
            "values": self.values,
            "keptValues": self.kept,
            "targets": [
                {
                    "target": t.target,
                    "error": t.error,
                    "changes": [
                        {"action": c.action, **c.ref.to_json()}
                        | {k: v for k, v in (("diff", c.diff), ("refused", c.refused), ("note", c.note)) if v}
                        for c in t.changes
                    ],
                }
                for t in self.targets
            ],
        }


def get_live(api: Client, ref: Ref) -> Doc | None:
    """The live object, or None when it (or its whole kind) does not exist."""
    try:
        res = kinds.resource(api, ref.api_version, ref.kind)
    except LookupError:
        return None
    live = ops.get_or_none(api, res, ref.name, ref.namespace or None)
    return None if live is None else kinds.to_dict(live)


def list_live(api: Client, api_version: str, kind: str, labels: dict[str, str] | None = None) -> list[Doc]:
    """Every object of a kind, in every namespace (matching ``labels``); none when the kind is not served."""
    try:
        res = kinds.resource(api, api_version, kind)
    except LookupError:
        return []
    namespaced = bool(kinds.is_namespaced(api_version, kind))
    try:
        selector: dict[str, Any] | None = dict(labels) if labels else None
        found = api.list(res, namespace="*" if namespaced else None, labels=selector)
        return [kinds.to_dict(o) for o in found]
    except NotFound:
        return []


async def get_member(api: AsyncClient, ref: Ref) -> Doc | None:
    """As ``get_live``, on a member; its kinds are known from the render (built in, or from its CRDs)."""
    res = kinds.lookup(ref.api_version, ref.kind)
    if res is None:  # a kind of an earlier version that nothing here defines any more
        return None
    live = await ops.aget_or_none(api, res, ref.name, ref.namespace or None)
    return None if live is None else kinds.to_dict(live)


def known(api: Client, ref: Ref) -> bool:
    return kinds.known(api, ref.api_version, ref.kind)


REFUSALS = (BadRequest, Forbidden, Invalid)  # a value of the wrong type, admission said no, invalid


async def _on_karmada_one(api: AsyncClient, doc: Doc, fresh_namespaces: set[str]) -> Change:
    """The change ``doc`` makes, found by a server-side dry-run apply: the API server's validation (schema,
    admission) answers for new objects too, and a refusal is kept in its words."""
    ref = Ref.of(doc)
    live = await get_member(api, ref)
    if live is not None and (live.get("metadata") or {}).get("deletionTimestamp"):
        # Applied now, it would be updated and then go with the deletion under way (a policy that goes
        # unbinds what it propagated): it is made again once it is gone.
        return Change("create", ref, note="being deleted: made again once it is gone", deleting=True)
    action: Action = "create" if live is None else "change"
    if kinds.lookup(ref.api_version, ref.kind) is None:  # neither known here nor in its discovery
        return Change(action, ref, refused=f"the API server does not serve {ref.api_version} {ref.kind}")
    try:
        obj = kinds.from_dict(doc)
    except ValueError as exc:  # a value of the wrong type, refused by the kind's schema before it is sent
        return Change(action, ref, refused=f"it does not fit the {ref.kind} schema: {exc}")
    if live is not None and unchanged.apply_keeps(live, doc, FIELD_MANAGER):
        return Change("unchanged", ref)  # nothing to ask the API server: it would give back the live object
    if live is None and (doc.get("metadata") or {}).get("namespace") in fresh_namespaces:
        # Its namespace comes with this install: the API server can judge it only once that exists (checked
        # in another namespace, Karmada's webhooks refuse policies that select objects of their own one).
        return Change(action, ref, note="its namespace comes with this install: checked when applied")
    try:
        after = kinds.to_dict(await api.apply(obj, field_manager=FIELD_MANAGER, force=True, dry_run=True))
    except NotFound:
        if live is None:  # a kind not served yet: its CRD comes with this install
            return Change(action, ref, note="its kind comes with this install: checked when applied")
        raise
    except REFUSALS as exc:
        return Change(action, ref, refused=exc.detail or exc.reason or str(exc.code))
    if live is None:
        return Change("create", ref)
    if objects.same(live, after):
        return Change("unchanged", ref)
    return Change("change", ref, objects.diff(live, after, str(ref)))


def on_karmada(
    karmada: Access, api: Client, desired: list[Doc], installed: list[Ref], target: str = KARMADA
) -> TargetPlan:
    """Every object at once (a server-side dry-run apply for those that exist), in the order given. The
    API server is Karmada's, or the host's for a component placed there (``target`` names it)."""
    plan = TargetPlan(target)
    for doc in desired:  # a kind lightkube does not ship is looked up once, before the requests fly
        known(api, Ref.of(doc))
    namespaces = [d for d in desired if d["kind"] == "Namespace" and d["apiVersion"] == "v1"]
    fresh = {str(d["metadata"]["name"]) for d in namespaces if get_live(api, Ref.of(d)) is None}

    async def all_objects() -> list[Change]:
        client = karmada.async_client()
        try:
            return list(await asyncio.gather(*(_on_karmada_one(client, doc, fresh) for doc in desired)))
        finally:
            await client.close()

    plan.changes = asyncio.run(all_objects())
    plan.changes += deletions(api, desired, installed)
    return plan


def deletions(api: Client, desired: list[Doc], installed: list[Ref]) -> list[Change]:
    wanted = {Ref.of(d) for d in desired}
    return [
        Change("delete", ref)
        for ref in installed
        if ref not in wanted and known(api, ref) and get_live(api, ref) is not None
    ]


async def read_all(api: AsyncClient, refs: list[Ref]) -> list[Doc | None] | str:
    """Every ref on a member, all requests at once (each crosses Karmada's cluster proxy, which costs more
    than it looks); or why the member could not be read. No connection to the API server at all (Karmada's,
    or the host's for a component placed there) is not one member's problem: that is raised."""
    try:
        return list(await asyncio.gather(*(get_member(api, r) for r in refs)))
    except (Unreachable, Disconnected):
        raise
    except KubeError as exc:
        return f"unreachable ({unreachable_reason(exc)})"


async def on_member(member: str, api: AsyncClient, desired: list[Doc], installed: list[Ref]) -> TargetPlan:
    """What propagation will change on ``member`` (policies stay on Karmada and are left out)."""
    plan = TargetPlan(member)
    wanted = {Ref.of(d) for d in desired}
    stale = [r for r in installed if not r.is_policy and r not in wanted]
    lives = await read_all(api, [Ref.of(d) for d in desired] + stale)
    if isinstance(lives, str):
        plan.error = lives
        return plan
    current, leftovers = lives[: len(desired)], lives[len(desired) :]
    for doc, live in zip(desired, current, strict=True):
        ref = Ref.of(doc)
        if live is None:
            plan.changes.append(Change("create", ref))
        elif objects.contains(live, doc):
            plan.changes.append(Change("unchanged", ref))
        else:
            plan.changes.append(
                Change("change", ref, objects.diff(objects.projected(live, doc), doc, str(ref)))
            )
    plan.changes += [
        Change("delete", r) for r, live in zip(stale, leftovers, strict=True) if live is not None
    ]
    return plan
