"""Waiting for the members after an install or an uninstall: every member polled at once through Karmada's
cluster proxy (or the host directly) until its objects are ready (or gone), a failure for good, or the
deadline; each member's progress is a :class:`MemberState`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from kurator.core.errors import KuratorError
from kurator.fleet import desired, health, objects, plan, targets
from kurator.fleet.component import Component, Target
from kurator.fleet.desired import Ref
from kurator.kube import kinds, ops, wait
from kurator.kube.client import Access, AsyncClient
from kurator.kube.errors import Disconnected, KubeError, Unreachable
from kurator.kube.reader import LiveReader

POLL = 0.25  # seconds between readiness rounds
NUDGE_EVERY = 5.0  # seconds between updates of a CRD whose deletion stalled
NUDGED = "kurator.dev/deletion-retried"  # the annotation that update sets
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


async def member_state(
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


def poll(
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


def wait_members(
    karmada: Access,
    expected: dict[str, list[desired.Doc]],
    timeout: float,
    progress: Progress | None,
    direct: bool = False,
    component: Component | None = None,
) -> list[MemberState]:
    settled: dict[str, set[Ref]] = {m: set() for m in expected}
    members = tuple(sorted(expected))
    return poll(
        karmada,
        list(expected),
        lambda m, client: member_state(m, client, expected[m], settled[m], component, members),
        timeout,
        progress,
        "not ready after {timeout:.0f}s: waiting for {waiting}",
        direct,
    )


def _failed_for_good(state: MemberState) -> bool:
    return state.error is not None and not state.error.startswith("unreachable")


async def _retry_deletion(client: AsyncClient, ref: Ref, nudged: dict[Ref, float]) -> None:
    """Make the API server try again now to delete a CRD's instances (an update of a CRD being deleted
    requeues it), at most every ``NUDGE_EVERY`` seconds. A CRD's instances are listed from the API
    server's cache, which a busy server can take a while to fill: the first tries fail and the retries
    back off to minutes, far past an uninstall's wait, though the next try would work."""
    now = time.monotonic()
    if now - nudged.get(ref, -NUDGE_EVERY) < NUDGE_EVERY:
        return
    nudged[ref] = now
    res = kinds.lookup(ref.api_version, ref.kind)
    if res is None:
        return
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    with contextlib.suppress(KubeError):  # the wait reports what is left; this only speeds it up
        await ops.aannotate_if_present(client, res, ref.name, {NUDGED: stamp})


async def gone_state(
    member: str, client: AsyncClient, refs: list[Ref], gone: set[Ref], nudged: dict[Ref, float]
) -> MemberState:
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
            state.waiting.append(f"{ref} ({objects.why_not_gone(live)})")
            if objects.deletion_stalled(live):
                await _retry_deletion(client, ref, nudged)
    return state


def wait_gone(
    karmada: Access,
    members: list[str],
    refs: list[Ref],
    timeout: float,
    progress: Progress | None,
    direct: bool = False,
) -> list[MemberState]:
    gone: dict[str, set[Ref]] = {m: set() for m in members}
    nudged: dict[str, dict[Ref, float]] = {m: {} for m in members}
    return poll(
        karmada,
        members,
        lambda m, client: gone_state(m, client, refs, gone[m], nudged[m]),
        timeout,
        progress,
        "objects left after {timeout:.0f}s: {waiting}",
        direct,
    )
