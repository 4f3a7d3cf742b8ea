"""The caches filled once before any reconcile, as controller-runtime waits for its caches: a reconcile that
ran before the Jobs or the CustomMachines were listed would take a cluster for one with no run under way
and start a second. Everything is listed before kopf starts watching, so every event kopf delivers
afterwards is newer than what was listed."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from kurator.core.errors import KuratorError
from kurator.kube.asyncapi import AsyncAPI
from kurator.kube.errors import NotFound, Transient
from kurator.operator.routes import Route

log = logging.getLogger(__name__)

SYNC_TIMEOUT = 120.0  # as controller-runtime's cache sync: an API server that long unready is an error


async def fill(api: AsyncAPI, routes: Sequence[Route], namespaces: tuple[str, ...]) -> None:
    """List every watched kind through its route. An API server that is not ready yet (a new CRD's storage
    starting, a restart) is asked again."""
    deadline = time.monotonic() + SYNC_TIMEOUT
    delay = 0.5
    while True:
        try:
            for route in routes:
                await _list(api, route, namespaces)
            return
        except Transient as exc:
            if time.monotonic() + delay > deadline:
                raise
            log.info("listing what the operator watches: %s; again in %.1fs", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


async def _list(api: AsyncAPI, route: Route, namespaces: tuple[str, ...]) -> None:
    """The route's kind in the first of its versions the API server serves."""
    w = route.watched
    for kind in w.api_kinds():
        try:
            for namespace in namespaces or (None,):
                async for doc in api.list_objects(kind, namespace, w.labels):
                    route.feed({"type": None, "object": doc})
            return
        except NotFound:  # not served in this version (or not at all): the next one
            continue
    if not w.optional:
        raise KuratorError(
            f"the API server does not serve {w.plural}.{w.group}: the cluster operator's CRDs are not in "
            "this cluster",
            "kurator install cluster-operator installs them (or: python -m kurator.api.crds, then apply)",
        )
