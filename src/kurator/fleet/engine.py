"""The install engine every fleet component uses: render → plan → apply on Karmada (cluster-scoped objects
and CRDs first, namespaced objects once members serve the new APIs) → wait for readiness on every member.

Re-running is safe: the plan skips what already holds (so an unchanged install writes nothing), and the
record is written before anything else, so a run cut short by Ctrl-C or a crash is finished by the next.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kurator.core.errors import InvalidInput, KuratorError
from kurator.core.progress import Reporter, Silent
from kurator.fleet import artifacts, desired, health, objects, plan, record, render, targets
from kurator.fleet.component import HOST, Component, Target
from kurator.fleet.desired import Desired, Ref
from kurator.kube import kinds, ops, wait
from kurator.kube.client import FIELD_MANAGER, Access, AsyncClient, Client
from kurator.kube.errors import Disconnected, KubeError, RequestFailed, Unreachable
from kurator.kube.karmada import Cluster
from kurator.kube.reader import LiveReader
from kurator.kube.resources import Namespace

POLL = 0.25  # seconds between readiness rounds
STEADY = wait.Backoff(first=POLL, factor=1.0, most=POLL)


@dataclass
class MemberState:
    """How far one member has come; ``error`` set when it cannot be read or an object failed."""

    member: str
    ready: int = 0
    total: int = 0
    waiting: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def done(self) -> bool:
        return self.error is None and self.ready == self.total and not self.waiting


Progress = Callable[[list[MemberState]], None]


@dataclass
class Outcome:
    plan: plan.Plan
    writes: int = 0
    members: list[MemberState] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> list[MemberState]:
        return [m for m in self.members if not m.done]


@dataclass
class Request:
    access: Access  # Karmada's API server; for a component placed on the host, the host cluster's
    component: Component
    values: dict[str, Any] = field(default_factory=dict)  # --set values, over those an earlier run kept
    clusters: list[str] | None = None
    artifacts_dir: Path | None = None
    wait_timeout: float = 300.0
    reset_values: bool = False  # forget the --set values of earlier runs


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        out[key] = (
            _merge(out[key], value) if isinstance(out.get(key), dict) and isinstance(value, dict) else value
        )
    return out


@dataclass
class Prepared:
    api: Client
    want: Desired
    members: list[str]
    plan: plan.Plan
    installed: record.Record | None  # what an earlier run recorded
    values: dict[str, Any]  # the --set values in effect: kept ones (unless reset), then this run's


def user_values(req: Request, installed: record.Record | None) -> dict[str, Any]:
    """The --set values of this run over those earlier runs kept (none with ``reset_values``)."""
    kept = {} if installed is None or req.reset_values else installed.values
    return _merge(kept, req.values)


def prepare(req: Request, reporter: Reporter, on_members: bool = True) -> Prepared:
    """Everything before the first write: verify and render the artifact, choose targets, plan (on
    Karmada, and with ``on_members`` what each member will see, which only a dry run shows)."""
    comp = req.component
    payload = artifacts.obtain(comp.artifact, req.artifacts_dir)
    api = req.access.client()
    rec = record.load(api, comp.name)
    values = user_values(req, rec)
    rendered = render.render(comp, payload, _merge(comp.values, values), reporter)
    if comp.adapt is not None:
        rendered = comp.adapt(rendered)
    on_host = comp.placement == "host"
    if on_host and req.clusters:
        raise InvalidInput(f"{comp.name} runs on the host cluster only: --clusters does not apply to it")
    members = [] if on_host else targets.choose(api, req.clusters)
    want = desired.build(comp, rendered, members)
    kinds.register_crds(want.all)
    installed = rec.refs if rec else []
    kplan = plan.on_karmada(req.access, api, want.all, installed, HOST if on_host else plan.KARMADA)
    mplans: dict[str, plan.TargetPlan] = {}
    if on_members and members:
        with targets.Members(req.access, members) as pool:
            mplans = pool.run(
                lambda m, client: plan.on_member(m, client, desired.for_member(comp, want, m), installed)
            )
    kept = set(_keys(rec.values)) - set(_keys(req.values)) if rec and not req.reset_values else set()
    names = sorted(_keys(values))
    the_plan = plan.Plan(comp.name, comp.version, kplan, list(mplans.values()), names, sorted(kept))
    return Prepared(api, want, members, the_plan, rec, values)


def _keys(values: dict[str, Any], prefix: str = "") -> list[str]:
    """``a.b``-style names of the leaves of ``values`` (what a plan shows of them: values may be secret)."""
    out = []
    for key, value in values.items():
        name = f"{prefix}{key}"
        out += _keys(value, f"{name}.") if isinstance(value, dict) and value else [name]
    return out


def make_plan(req: Request, reporter: Reporter | None = None) -> plan.Plan:
    return prepare(req, reporter or Silent()).plan


def install(req: Request, reporter: Reporter | None = None, progress: Progress | None = None) -> Outcome:
    rep = reporter or Silent()
    began = time.monotonic()
    rep.step(f"plan {req.component.name} {req.component.version}")
    prep = prepare(req, rep, on_members=False)
    api, want, members, the_plan = prep.api, prep.want, prep.members, prep.plan
    rep.done(f"planned {req.component.name} {req.component.version}", time.monotonic() - began)
    out = Outcome(the_plan)
    comp = req.component
    # Record the union first: whatever this run creates is known to the next one even if it is cut short.
    union = sorted(set(want.refs()) | set(prep.installed.refs if prep.installed else []))
    out.writes += record.save(
        api, record.Record(comp.name, comp.version, union, members, comp.placement, prep.values)
    )
    pending = {c.ref for c in the_plan.karmada.pending() if c.action != "delete"}

    out.writes += _apply(req.access, [d for d in want.first if Ref.of(d) in pending])
    out.writes += _apply(req.access, [d for d in want.second if Ref.of(d) in pending])
    if any(Ref.of(d) in pending for d in want.third):
        if comp.placement == "host":
            _wait_served(api, want.crd_apis, req.wait_timeout)
        else:
            _wait_apis(req.access, api, members, want.crd_apis, req.wait_timeout)
        out.writes += _apply(req.access, [d for d in want.third if Ref.of(d) in pending])
    stale = [c.ref for c in the_plan.karmada.changes if c.action == "delete"]
    out.writes += _delete(api, stale)
    out.writes += record.save(
        api, record.Record(comp.name, comp.version, want.refs(), members, comp.placement, prep.values)
    )

    if comp.placement == "host":  # the objects themselves, where they were applied
        expected = {HOST: want.all}
    else:
        expected = {m: desired.for_member(comp, want, m) for m in members}
    direct = comp.placement == "host"
    out.members = _wait_members(req.access, expected, req.wait_timeout, progress, direct, comp)
    out.seconds = time.monotonic() - began
    return out


APPLY_CONCURRENCY = 16


def _apply(access: Access, docs: list[desired.Doc]) -> int:
    """Apply ``docs`` (one step of the install) at once rather than one after another: a step's objects do
    not depend on each other, and on a fleet each request costs a round trip. Override policies go first, so
    Karmada never renders a member's copy before its per-member value is known."""
    if not docs:
        return 0
    overrides = ("OverridePolicy", "ClusterOverridePolicy")
    waves = [
        [d for d in docs if d["kind"] in overrides],
        [d for d in docs if d["kind"] not in overrides],
    ]

    async def apply_all() -> None:
        client = access.async_client()
        limit = asyncio.Semaphore(APPLY_CONCURRENCY)

        async def one(doc: desired.Doc) -> None:
            async with limit:
                await client.apply(kinds.from_dict(doc), field_manager=FIELD_MANAGER, force=True)

        try:
            for wave in waves:
                results = await asyncio.gather(*(one(d) for d in wave), return_exceptions=True)
                for doc, result in zip(wave, results, strict=True):
                    if isinstance(result, RequestFailed):
                        raise KuratorError(
                            f"{result.endpoint} refused {Ref.of(doc)}: {result.detail or result.reason}",
                            "fix the cause and run the same command again (what was applied is recorded)",
                        )
                    if isinstance(result, BaseException):
                        raise result
        finally:
            await client.close()

    asyncio.run(apply_all())
    return len(docs)


def _delete(api: Client, refs: list[Ref]) -> int:
    count = 0
    for ref in refs:
        # Gone already, or its kind (its CRD went first): counted as not written.
        with contextlib.suppress(LookupError):
            res = kinds.resource(api, ref.api_version, ref.kind)
            count += ops.delete_if_present(api, res, ref.name, ref.namespace or None)
    return count


async def _answers(member: str, client: AsyncClient) -> bool:
    try:
        await client.get(Namespace, "kube-system")
    except KubeError:
        return False
    return True


def _served(cluster: Any) -> set[tuple[str, str]]:
    status = cluster.get("status") or {}
    return {
        (api["groupVersion"], r["kind"])
        for api in status.get("apiEnablements", [])
        for r in api.get("resources", [])
    }


def _lacking(api: Client, members: list[str], apis: list[tuple[str, str]]) -> set[str]:
    """The members whose Cluster status does not yet list every one of ``apis`` as enabled."""
    want = set(apis)
    clusters = {c.metadata.name: kinds.to_dict(c) for c in api.list(Cluster) if c.metadata}
    return {m for m in members if m not in clusters or not want <= _served(clusters[m])}


def _wait_served(api: Client, apis: list[tuple[str, str]], timeout: float) -> None:
    """Until the cluster's discovery serves every kind of ``apis`` (its own CRDs, just applied); one that
    never does is left to the readiness report."""
    todo = list(apis)

    def served() -> bool:
        todo[:] = [(gv, kind) for gv, kind in todo if not plan.known(api, Ref(gv, kind, "", ""))]
        return not todo

    with contextlib.suppress(wait.WaitTimeout):
        wait.until(served, timeout=timeout, what="the new kinds to be served", backoff=STEADY, retry_on=())


def _wait_apis(
    karmada: Access, api: Client, members: list[str], apis: list[tuple[str, str]], timeout: float
) -> None:
    """Until each reachable member reports the new APIs enabled (Karmada schedules a kind only to members
    that serve it); a member that never does is left to the readiness report. Members are probed only when
    some lack the APIs (usually only on the first install of a component)."""
    waiting = _lacking(api, members, apis) if apis else set()
    if not waiting:
        return
    with targets.Members(karmada, sorted(waiting)) as pool:
        waiting = {m for m, ok in pool.run(_answers).items() if ok}

    def enabled() -> bool:
        waiting.intersection_update(_lacking(api, members, apis))
        return not waiting

    if waiting:
        with contextlib.suppress(wait.WaitTimeout):
            wait.until(
                enabled,
                timeout=timeout,
                what="the members to serve the new kinds",
                backoff=STEADY,
                retry_on=(),
            )


async def _member_state(
    member: str,
    client: AsyncClient,
    docs: list[desired.Doc],
    settled: set[Ref],
    component: Component | None = None,
    members: tuple[str, ...] = (),
) -> MemberState:
    """How far ``member`` is; objects seen ready once are ``settled`` and not read again (most are ready
    as soon as they exist, so later rounds read only the few that take time: a poll crosses Karmada's
    cluster proxy, and reading everything every round slows down the propagation being waited for).
    Once every object is ready, the component's health checks (webhooks answering, its own hook) must
    pass too."""
    state = MemberState(member, total=len(docs), ready=len(settled))
    todo = [doc for doc in docs if Ref.of(doc) not in settled]
    lives = await plan.read_all(client, [Ref.of(doc) for doc in todo])
    if isinstance(lives, str):
        state.error = lives
        return state
    for doc, live in zip(todo, lives, strict=True):
        ref = Ref.of(doc)
        if live is None:
            state.waiting.append(f"{ref} (not there yet)")
        elif not objects.contains(live, doc):
            state.waiting.append(f"{ref} (not updated yet)")
        else:
            ok, why = objects.readiness(ref.kind, live)
            if ok:
                state.ready += 1
                settled.add(ref)
            elif why.startswith("failed"):
                state.error = f"{ref} {why}"
                return state
            else:
                state.waiting.append(f"{ref} ({why})")
    refs = [Ref.of(doc) for doc in docs]
    if component is None or state.waiting or state.ready < state.total or not health.needed(component, refs):
        return state
    target = Target(member, health.member_refs(refs), LiveReader(client), members)
    report = await health.check(component, target, crds=False)
    if report.error:
        state.error = report.error
    else:
        state.waiting += report.failing()
    return state


def _poll(
    karmada: Access,
    members: list[str],
    check: Callable[[str, AsyncClient], Awaitable[MemberState]],
    timeout: float,
    progress: Progress | None,
    late: str,
    direct: bool = False,
) -> list[MemberState]:
    """``check`` every member until each is done or failed for good, or ``timeout``; a member still
    waiting then gets the error ``late`` (formatted with ``timeout`` and what it waits for)."""
    states: dict[str, MemberState] = {}
    todo = sorted(members)

    def one_round(pool: targets.Members) -> bool:
        states.update(pool.run(check, only=todo))
        if progress:
            progress([states[m] for m in sorted(members)])
        todo[:] = [m for m in todo if not states[m].done and not _failed_for_good(states[m])]
        return not todo

    server = "the host cluster's API server" if direct else "Karmada's API server"
    try:
        with targets.Members(karmada, todo, direct) as pool, contextlib.suppress(wait.WaitTimeout):
            # A server that stops answering ends the wait at once (below), not after the whole timeout.
            wait.until(
                lambda: one_round(pool), timeout=timeout, what="the members", backoff=STEADY, retry_on=()
            )
    except (Unreachable, Disconnected) as exc:
        raise KuratorError(
            f"{server} stopped answering while the members were checked: {exc.message}",
            "once it answers again, run the same command again: what was applied is recorded",
        ) from exc
    for m in todo:
        st = states[m]
        if not st.done and st.error is None:
            st.error = late.format(timeout=timeout, waiting=", ".join(st.waiting[:3]))
    return [states[m] for m in sorted(members)]


def _wait_members(
    karmada: Access,
    expected: dict[str, list[desired.Doc]],
    timeout: float,
    progress: Progress | None,
    direct: bool = False,
    component: Component | None = None,
) -> list[MemberState]:
    settled: dict[str, set[Ref]] = {m: set() for m in expected}
    members = tuple(sorted(expected))
    return _poll(
        karmada,
        list(expected),
        lambda m, client: _member_state(m, client, expected[m], settled[m], component, members),
        timeout,
        progress,
        "not ready after {timeout:.0f}s: waiting for {waiting}",
        direct,
    )


def _failed_for_good(state: MemberState) -> bool:
    return state.error is not None and not state.error.startswith("unreachable")


# --- uninstall -------------------------------------------------------------------------------------------


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
    out.writes += _delete(api, templates)
    out.members = _wait_gone(karmada, members, templates, wait_timeout, progress, rec.placement == "host")
    if out.failed:
        return out  # policies and record stay, so running uninstall again finishes the job
    out.writes += _delete(api, policies)
    record.delete(api, component)
    out.seconds = time.monotonic() - began
    return out


async def _gone_state(member: str, client: AsyncClient, refs: list[Ref], gone: set[Ref]) -> MemberState:
    state = MemberState(member, total=len(refs), ready=len(gone))
    todo = [r for r in refs if r not in gone]
    lives = await plan.read_all(client, todo)
    if isinstance(lives, str):
        state.error = lives
        return state
    for ref, live in zip(todo, lives, strict=True):
        if live is None:
            state.ready += 1
            gone.add(ref)
        else:
            state.waiting.append(f"{ref} (still there)")
    return state


def _wait_gone(
    karmada: Access,
    members: list[str],
    refs: list[Ref],
    timeout: float,
    progress: Progress | None,
    direct: bool = False,
) -> list[MemberState]:
    gone: dict[str, set[Ref]] = {m: set() for m in members}
    return _poll(
        karmada,
        members,
        lambda m, client: _gone_state(m, client, refs, gone[m]),
        timeout,
        progress,
        "objects left after {timeout:.0f}s: {waiting}",
        direct,
    )
