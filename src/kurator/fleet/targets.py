"""The members an install reaches: which clusters are targets, and a client for each one through
Karmada's cluster proxy (the Karmada kubeconfig is the only credential the engine needs)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from lightkube import ApiError, Client

from kurator.core.errors import InvalidInput, KuratorError
from kurator.fleet.membership import TRANSIENT
from kurator.kube.client import Access
from kurator.kube.karmada import Cluster

T = TypeVar("T")
MEMBER_TIMEOUT = 4.0  # seconds one request to a member may take before it counts as unreachable


def proxy_path(member: str) -> str:
    return f"/apis/cluster.karmada.io/v1alpha1/clusters/{member}/proxy"


@functools.lru_cache(maxsize=128)
def member_client(karmada: Access, member: str) -> Client:
    """One client per member for the whole run (readiness polls reuse its connections and TLS setup)."""
    return karmada.client(timeout=MEMBER_TIMEOUT, server_suffix=proxy_path(member))


def joined_clusters(api: Client) -> list[str]:
    try:
        return sorted(c.metadata.name for c in api.list(Cluster) if c.metadata and c.metadata.name)
    except TRANSIENT as exc:
        raise KuratorError(f"Karmada's API server does not answer: {exc}") from None
    except ApiError as exc:
        raise KuratorError(f"Karmada refused to list clusters: {exc.status.message}") from None


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


def unreachable_reason(exc: BaseException) -> str:
    if isinstance(exc, ApiError):
        return f"{exc.status.code} {exc.status.message}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def each_member(members: list[str], work: Callable[[str], T]) -> dict[str, T]:
    """Run ``work`` for every member at once (one slow member must not hold the others up)."""
    if not members:
        return {}
    with ThreadPoolExecutor(max_workers=min(16, len(members))) as pool:
        return dict(zip(members, pool.map(work, members), strict=True))
