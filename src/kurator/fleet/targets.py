"""The members an install reaches: which clusters are targets, and a client for each one through
Karmada's cluster proxy (the Karmada kubeconfig is the only credential the engine needs)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from kurator.core.errors import InvalidInput
from kurator.kube.client import Access, AsyncClient, Client
from kurator.kube.errors import KubeError, RequestFailed
from kurator.kube.karmada import Cluster

T = TypeVar("T")
MEMBER_TIMEOUT = 4.0  # seconds one request to a member may take before it counts as unreachable


def proxy_path(member: str) -> str:
    return f"/apis/cluster.karmada.io/v1alpha1/clusters/{member}/proxy"


def joined_clusters(api: Client) -> list[str]:
    return sorted(c.metadata.name for c in api.list(Cluster) if c.metadata and c.metadata.name)


def choose(api: Client, wanted: Iterable[str] | None) -> list[str]:
    """The target members: all joined clusters, or the named ones (each must be joined)."""
    joined = joined_clusters(api)
    if not wanted:
        if not joined:
            raise InvalidInput("no cluster is joined to the fleet", "join one with `kurator join`")
        return joined
    names = sorted(set(wanted))
    unknown = [n for n in names if n not in joined]
    if unknown:
        raise InvalidInput(
            f"not joined to the fleet: {', '.join(unknown)}",
            f"joined clusters: {', '.join(joined) or 'none'}",
        )
    return names


def unreachable_reason(exc: KubeError) -> str:
    """Why a member could not be read, short: the status and the server's words, or what failed."""
    if isinstance(exc, RequestFailed):
        return f"{exc.code} {exc.detail or exc.reason}".strip()
    return exc.message


class Members:
    """Clients for a set of members through Karmada's cluster proxy, used together on one event loop:
    asynchronous requests, one thread, so a slow member never holds the others up (and lightkube's
    decoder is never entered from several threads at once). With ``direct``, ``access`` is the one
    cluster itself (a component placed on the host), reached without Karmada."""

    def __init__(
        self, access: Access, members: list[str], direct: bool = False, timeout: float = MEMBER_TIMEOUT
    ) -> None:
        self.members = list(members)
        self._runner = asyncio.Runner()
        self._clients = {
            m: access.async_client(timeout=timeout, server_suffix="" if direct else proxy_path(m))
            for m in self.members
        }

    def run(
        self, work: Callable[[str, AsyncClient], Awaitable[T]], only: list[str] | None = None
    ) -> dict[str, T]:
        """``work`` for every member (or those in ``only``) at once; returns each member's result."""
        chosen = self.members if only is None else [m for m in self.members if m in only]

        async def all_members() -> list[T]:
            return await asyncio.gather(*(work(m, self._clients[m]) for m in chosen))

        return dict(zip(chosen, self._runner.run(all_members()), strict=True))

    def close(self) -> None:
        async def close_all() -> None:
            await asyncio.gather(*(c.close() for c in self._clients.values()), return_exceptions=True)

        try:
            self._runner.run(close_all())
        finally:
            self._runner.close()

    def __enter__(self) -> Members:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
