"""What "ready" means beyond objects that exist and report ready: the checks every component gets (CRDs
Established, each admission webhook answering through a Service with a ready endpoint and a CA bundle, each
aggregated API Available) and the component's own health hook. The install engine waits for them, and
``kurator get components`` shows them per member."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kurator.fleet import objects, record, targets
from kurator.fleet.component import HOST, Check, Component, Target
from kurator.fleet.desired import Ref
from kurator.fleet.targets import unreachable_reason
from kurator.kube.client import Access, AsyncClient
from kurator.kube.errors import KubeError
from kurator.kube.reader import LiveReader

Doc = dict[str, Any]
WEBHOOK_KINDS = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")


@dataclass
class Report:
    """The health of one component on one target: every check, or why the target could not be read."""

    target: str
    checks: list[Check] = field(default_factory=list)
    error: str | None = None

    @property
    def healthy(self) -> bool:
        return self.error is None and all(c.ok for c in self.checks)

    def failing(self) -> list[str]:
        if self.error:
            return [self.error]
        return [f"{c.name}: {c.detail}" if c.detail else c.name for c in self.checks if not c.ok]

    def summary(self) -> str:
        """One line: what is wrong, or what was checked."""
        if not self.healthy:
            return "; ".join(self.failing())
        return "; ".join(f"{c.name}: {c.detail}" if c.detail else c.name for c in self.checks)


def _ready_endpoints(slices: Iterable[Doc]) -> int:
    return sum(
        1
        for s in slices
        for e in s.get("endpoints") or []
        if (e.get("conditions") or {}).get("ready", True) is not False
    )


async def _webhooks(target: Target) -> list[Check]:
    """Each webhook of the component's webhook configurations: a CA bundle to trust its server with, and
    (for a webhook served by a Service) a ready endpoint behind that Service. Without either, every request
    it intercepts fails (or, with ``failurePolicy: Ignore``, silently skips it)."""
    refs = [r for r in target.objects if r.kind in WEBHOOK_KINDS]
    if not refs:
        return []
    problems: list[str] = []
    count = 0
    endpoints: dict[tuple[str, str], int] = {}
    for ref in refs:
        live = await target.read.get(ref.api_version, ref.kind, ref.name)
        if live is None:
            problems.append(f"{ref.name} missing")
            continue
        for hook in live.get("webhooks") or []:
            count += 1
            config = hook.get("clientConfig") or {}
            service = config.get("service")
            if service is None:
                continue  # served at a URL: nothing to look at here
            if not config.get("caBundle"):
                problems.append(f"{hook['name']} has no CA bundle yet")
            key = (service.get("namespace", ""), service.get("name", ""))
            if key not in endpoints:
                slices = await target.read.list(
                    "discovery.k8s.io/v1",
                    "EndpointSlice",
                    key[0],
                    {"kubernetes.io/service-name": key[1]},
                )
                endpoints[key] = _ready_endpoints(slices)
            if not endpoints[key]:
                problems.append(f"{hook['name']}: service {key[0]}/{key[1]} has no ready endpoint")
    if problems:
        return [Check("webhooks", False, "; ".join(problems))]
    return [Check("webhooks", True, f"{count} with endpoints")]


async def _api_services(target: Target) -> list[Check]:
    refs = [r for r in target.objects if r.kind == "APIService"]
    if not refs:
        return []
    down = []
    for ref in refs:
        live = await target.read.get(ref.api_version, ref.kind, ref.name)
        conditions = ((live or {}).get("status") or {}).get("conditions") or []
        if not any(c.get("type") == "Available" and c.get("status") == "True" for c in conditions):
            down.append(ref.name)
    if down:
        return [Check("api services", False, f"not Available: {', '.join(down)}")]
    return [Check("api services", True, f"{len(refs)} Available")]


async def _crds(target: Target) -> list[Check]:
    refs = [r for r in target.objects if r.kind == "CustomResourceDefinition"]
    if not refs:
        return []
    pending = []
    for ref in refs:
        live = await target.read.get(ref.api_version, ref.kind, ref.name)
        if live is None or not objects.readiness(ref.kind, live)[0]:
            pending.append(ref.name)
    if pending:
        return [Check("CRDs", False, f"not Established: {', '.join(pending)}")]
    return [Check("CRDs", True, f"{len(refs)} Established")]


async def generic(target: Target, crds: bool = True) -> list[Check]:
    return [
        *(await _crds(target) if crds else []),
        *await _webhooks(target),
        *await _api_services(target),
    ]


def needed(component: Component, refs: Iterable[Ref]) -> bool:
    """Whether anything beyond object readiness is to be checked (an install skips the round trips if not)."""
    kinds = {r.kind for r in refs}
    return component.health is not None or bool(kinds & {*WEBHOOK_KINDS, "APIService"})


async def check(component: Component | None, target: Target, crds: bool = True) -> Report:
    """Every check of ``component`` on ``target`` (the generic ones, then its hook's); a target that cannot
    be read gives a report with an error instead. ``crds=False`` leaves out the CRDs, for a caller that has
    seen them Established already."""
    report = Report(target.name)
    try:
        report.checks = await generic(target, crds)
        if component is not None and component.health is not None:
            report.checks += await component.health(target)
    except KubeError as exc:
        report.error = f"unreachable ({unreachable_reason(exc)})"
    return report


def member_refs(refs: Iterable[Ref]) -> tuple[Ref, ...]:
    """What a member holds of an install: its templates (policies stay on Karmada)."""
    return tuple(r for r in refs if not r.is_policy)


def of_records(
    access: Access, records: list[record.Record], components: Mapping[str, Component]
) -> dict[str, list[Report]]:
    """The health of each recorded install on each of its targets: for a component placed on the host, the
    cluster of ``access`` itself; otherwise each target member still joined, all read at once through
    Karmada's proxy. Component name -> one report per target."""
    on_host = [r for r in records if r.placement == "host"]
    on_members = [r for r in records if r.placement != "host"]
    joined = set(targets.joined_clusters(access.client())) if on_members else set()
    wanted = {r.component: [m for m in r.targets if m in joined] for r in on_members}
    wanted |= {r.component: [HOST] for r in on_host}
    by_name = {r.component: r for r in records}

    def work(names: list[str]) -> Callable[[str, AsyncClient], Awaitable[dict[str, Report]]]:
        async def one_target(member: str, client: AsyncClient) -> dict[str, Report]:
            reader = LiveReader(client)
            out = {}
            for name in names:
                if member in wanted[name]:
                    refs = member_refs(by_name[name].held_by(member))
                    target = Target(member, refs, reader, tuple(wanted[name]))
                    out[name] = await check(components.get(name), target)
            return out

        return one_target

    found: dict[str, dict[str, Report]] = {}
    if members := sorted({m for r in on_members for m in wanted[r.component]}):
        with targets.Members(access, members) as pool:
            found = pool.run(work([r.component for r in on_members]))
    if on_host:
        with targets.Members(access, [HOST], direct=True) as pool:
            found |= pool.run(work([r.component for r in on_host]))
    return {name: [found[m][name] for m in ms] for name, ms in wanted.items()}
