"""Writing a component's objects: a step's objects applied at once (override policies first), recorded
objects deleted, and the waits between steps until the host or the members serve the kinds just created.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from kurator.core.errors import KuratorError
from kurator.fleet import desired, plan, targets
from kurator.fleet.desired import Ref
from kurator.fleet.readiness import STEADY
from kurator.kube import kinds, ops, wait
from kurator.kube.client import FIELD_MANAGER, Access, AsyncClient, Client
from kurator.kube.errors import KubeError, RequestFailed
from kurator.kube.karmada import Cluster
from kurator.kube.resources import Namespace

APPLY_CONCURRENCY = 16


def apply_docs(access: Access, docs: list[desired.Doc]) -> int:
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


def delete(api: Client, refs: list[Ref]) -> int:
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


def wait_deleted(api: Client, refs: list[Ref], timeout: float) -> None:
    """Until objects being deleted (by an uninstall just before) are gone, so they can be made again."""
    left = list(refs)

    def gone() -> bool:
        left[:] = [r for r in left if plan.get_live(api, r) is not None]
        return not left

    if left:
        wait.until(
            gone,
            timeout=timeout,
            what="Karmada to finish deleting what an earlier uninstall removed",
            describe=lambda: (
                "still there: " + ", ".join(str(r) for r in left[:3]) + (" …" if len(left) > 3 else "")
            ),
            hint="run the same command again once `kurator uninstall` has finished",
        )


def wait_served(api: Client, apis: list[tuple[str, str]], timeout: float) -> None:
    """Until the cluster's discovery serves every kind of ``apis`` (its own CRDs, just applied); one that
    never does is left to the readiness report."""
    todo = list(apis)

    def served() -> bool:
        todo[:] = [(gv, kind) for gv, kind in todo if not plan.known(api, Ref(gv, kind, "", ""))]
        return not todo

    with contextlib.suppress(wait.WaitTimeout):
        wait.until(served, timeout=timeout, what="the new kinds to be served", backoff=STEADY, retry_on=())


def wait_apis(
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
