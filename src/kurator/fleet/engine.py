"""The install engine every fleet component uses: render → plan → apply on Karmada (cluster-scoped objects
and CRDs first, namespaced objects once members serve the new APIs) → wait for readiness on every member.

Re-running is safe: the plan skips what already holds (so an unchanged install writes nothing), and the
record is written before anything else, so a run cut short by Ctrl-C or a crash is finished by the next.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kurator.core.errors import InvalidInput, KuratorError
from kurator.core.progress import Reporter, Silent
from kurator.fleet import applying, artifacts, desired, plan, readiness, record, render, targets, variants
from kurator.fleet.component import HOST, Component
from kurator.fleet.desired import Desired, Ref
from kurator.fleet.readiness import Outcome, Progress
from kurator.kube import kinds
from kurator.kube.client import Access, Client


@dataclass
class Request:
    access: Access  # Karmada's API server; for a component placed on the host, the host cluster's
    component: Component
    values: dict[str, Any] = field(default_factory=dict)  # --set values, over those an earlier run kept
    clusters: list[str] | None = None
    artifacts_dir: Path | None = None
    wait_timeout: float = 300.0
    reset_values: bool = False  # forget the --set values of earlier runs
    # Wait for the health checks too (not only for objects ready): off for a pass that a later one completes
    # (Istio's first passes: its remotes cannot be healthy before their remote secrets exist).
    wait_healthy: bool = True


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
    merged = _merge(comp.values, values)
    on_host = comp.placement == "host"
    if on_host and req.clusters:
        raise InvalidInput(f"{comp.name} runs on the host cluster only: --clusters does not apply to it")
    members = [] if on_host else targets.choose(api, req.clusters)
    if comp.variants is not None and not on_host:
        want = variants.build(comp, comp.variants(payload, merged, members), members)
    else:
        rendered = render.render(comp, payload, merged, reporter)
        if comp.adapt is not None:
            rendered = comp.adapt(rendered)
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
    the_plan.check()  # the API server would refuse an object: nothing is written
    rep.done(f"planned {req.component.name} {req.component.version}", time.monotonic() - began)
    out = Outcome(the_plan)
    comp = req.component
    # Record the union first: whatever this run creates is known to the next one even if it is cut short.
    union = sorted(set(want.refs()) | set(prep.installed.refs if prep.installed else []))
    held = {m: [Ref.of(d) for d in docs] for m, docs in (want.per_member or {}).items()}

    def rec(refs: list[Ref], state: str = record.INSTALLED) -> record.Record:
        return record.Record(
            comp.name, comp.version, refs, members, comp.placement, prep.values, state, per_member=held
        )

    done = rec(want.refs())
    if the_plan.karmada.pending() or prep.installed is None or prep.installed.data() != done.data():
        out.writes += record.save(api, rec(union, record.INSTALLING))
    try:
        _write(req, prep, out)
    except Exception as exc:
        why = exc.message if isinstance(exc, KuratorError) else f"{type(exc).__name__}: {exc}"
        _record_failure(api, rec(union), why)
        raise

    if comp.placement == "host":  # the objects themselves, where they were applied
        expected = {HOST: want.all}
    else:
        expected = {m: desired.for_member(comp, want, m) for m in members}
    direct = comp.placement == "host"
    healthy = comp if req.wait_healthy else None
    out.members = readiness.wait_members(req.access, expected, req.wait_timeout, progress, direct, healthy)
    if failed := out.failed:
        done.state, done.reason = record.FAILED, "; ".join(f"{m.member}: {m.error}" for m in failed)
    out.writes += record.save(api, done)
    out.seconds = time.monotonic() - began
    return out


def _record_failure(api: Client, rec: record.Record, reason: str) -> None:
    """Mark the record failed (what was written stays listed, so uninstall or a re-run can act on it). A
    record that cannot be written now keeps saying the run was under way, which a re-run also finishes."""
    rec.state, rec.reason = record.FAILED, reason[:1000]
    with contextlib.suppress(Exception):  # the first error is the one to report
        record.save(api, rec)


def _write(req: Request, prep: Prepared, out: Outcome) -> None:
    """Apply the plan's changes on Karmada (or the host) in the engine's three steps, then delete what the
    component no longer has."""
    api, want, members, the_plan, comp = prep.api, prep.want, prep.members, prep.plan, req.component
    pending = {c.ref for c in the_plan.karmada.pending() if c.action != "delete"}
    applying.wait_deleted(api, [c.ref for c in the_plan.karmada.changes if c.deleting], req.wait_timeout)
    out.writes += applying.apply_docs(req.access, [d for d in want.first if Ref.of(d) in pending])
    out.writes += applying.apply_docs(req.access, [d for d in want.second if Ref.of(d) in pending])
    if any(Ref.of(d) in pending for d in want.third):
        if comp.placement == "host":
            applying.wait_served(api, want.crd_apis, req.wait_timeout)
        else:
            applying.wait_apis(req.access, api, members, want.crd_apis, req.wait_timeout)
        out.writes += applying.apply_docs(req.access, [d for d in want.third if Ref.of(d) in pending])
    stale = [c.ref for c in the_plan.karmada.changes if c.action == "delete"]
    out.writes += applying.delete(api, stale)
