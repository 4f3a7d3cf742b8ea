"""The view filled once before any reconcile, as controller-runtime waits for its caches: a reconcile that
ran before the Jobs or the CustomMachines were listed would take a cluster for one with no run under way
and start a second. Everything is listed before kopf starts watching, so every event kopf delivers
afterwards is newer than what was listed."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx2
from lightkube import ALL_NS, ApiError, AsyncClient
from lightkube.generic_resource import create_namespaced_resource
from lightkube.resources.batch_v1 import Job

from kurator.core.errors import KuratorError
from kurator.kube.errors import not_found
from kurator.lifecycle import capi
from kurator.lifecycle.observed import CLUSTER_LABEL
from kurator.lifecycle.resources import CustomClusterResource, CustomMachineResource
from kurator.operator.view import Key, View

log = logging.getLogger(__name__)


def _doc(obj: Any) -> dict[str, Any]:
    doc: dict[str, Any] = obj.to_dict()
    return doc


async def _list_into(
    client: AsyncClient,
    resource: Any,
    namespaces: tuple[str, ...],
    feed: Callable[[Mapping[str, Any]], list[Key]],
    labels: dict[str, Any] | None = None,
) -> None:
    for namespace in namespaces or (ALL_NS,):
        async for obj in client.list(resource, namespace=namespace, labels=labels):
            feed({"type": None, "object": _doc(obj)})


SYNC_TIMEOUT = 120.0  # as controller-runtime's cache sync: an API server that long unready is an error


def _transient(exc: Exception) -> bool:
    if isinstance(exc, ApiError):
        return exc.status.code in (429, 500, 502, 503, 504)
    return isinstance(exc, httpx2.TransportError)


async def fill(client: AsyncClient, view: View, namespaces: tuple[str, ...]) -> list[Key]:
    """List every kind the operator watches into ``view``; returns every CustomCluster's key. An API
    server that is not ready yet (a new CRD's storage starting, a restart) is asked again."""
    deadline = time.monotonic() + SYNC_TIMEOUT
    delay = 0.5
    while True:
        try:
            return await _fill(client, view, namespaces)
        except (ApiError, httpx2.TransportError) as exc:
            if not _transient(exc) or time.monotonic() + delay > deadline:
                raise
            log.info("listing what the operator watches: %s; again in %.1fs", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


async def _fill(client: AsyncClient, view: View, namespaces: tuple[str, ...]) -> list[Key]:
    from lightkube import operators

    try:
        await _list_into(client, CustomMachineResource, namespaces, view.on_machine)
    except (ApiError, httpx2.HTTPStatusError) as exc:
        if not_found(exc):
            raise KuratorError(
                "the cluster operator's CRDs (CustomCluster, CustomMachine) are not in this cluster",
                "kurator install cluster-operator installs them (or: python -m kurator.api.crds, then apply)",
            ) from None
        raise
    await _list_into(client, Job, namespaces, view.on_job, {CLUSTER_LABEL: operators.exists()})
    listed: set[tuple[str, str]] = set()
    for group, kind, plural, version in capi.SERVED:
        if (group, kind) in listed:
            continue
        resource = create_namespaced_resource(group, version, kind, plural)
        feed = view.on_capi_cluster if kind == "Cluster" else view.on_kcp
        try:
            await _list_into(client, resource, namespaces, feed)
        except (ApiError, httpx2.HTTPStatusError) as exc:
            if not_found(exc):  # not installed, or not in this version
                continue
            raise
        listed.add((group, kind))
    await _list_into(client, CustomClusterResource, namespaces, view.on_cluster)
    return list(view.clusters)
