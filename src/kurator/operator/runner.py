"""Running the operator: serve health and metrics, wait for the Lease, then watch and reconcile until told to
stop (SIGTERM, SIGINT) or until the Lease is lost. A lost Lease ends the process with an error: another
replica now acts, and this one must not go on (its Deployment restarts it as a standby)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import logging
import signal
from collections.abc import Coroutine, Iterable
from typing import Any

import kopf
from lightkube import AsyncClient

from kurator.operator import sync, watching
from kurator.operator.connection import Connection
from kurator.operator.fleets import Fleets
from kurator.operator.kubeapi import KubeAPI
from kurator.operator.leader import Elector
from kurator.operator.metrics import Metrics
from kurator.operator.provider import Key, Reconcile, Services
from kurator.operator.providers import REGISTERED
from kurator.operator.routes import routes
from kurator.operator.serving import serve
from kurator.operator.settings import Settings
from kurator.operator.workqueue import WorkQueue, run_workers

log = logging.getLogger("kurator.operator")

LOST_LEASE = 1
COMPONENT = "kurator-cluster-operator"  # who its Events come from
POOLS = 16  # API clients the reconciles take turns with, each with a few connections (see KubeAPI)
GC_THRESHOLDS = (20_000, 20, 100)


class _State:
    def __init__(self) -> None:
        self.kopf_ready = asyncio.Event()
        self.standing_by = True
        self.failed = False

    def ready(self) -> bool:
        return not self.failed and (self.standing_by or self.kopf_ready.is_set())


async def run(connection: Connection, settings: Settings, stop: asyncio.Event | None = None) -> int:
    """Run until ``stop`` is set (or a signal arrives); the exit code: 0 after a clean stop."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread: the caller stops
            loop.add_signal_handler(sig, stop.set)
    metrics, state = Metrics(), _State()
    client = connection.async_client()
    http = None
    if settings.listen:
        http = await serve(
            settings.listen, metrics.registry, healthy=lambda: not state.failed, ready=state.ready
        )
        log.info("serving /healthz, /readyz and /metrics on %s", settings.listen)
    elector = Elector(KubeAPI(client), settings.leader) if settings.leader.enabled else None
    leading = False
    metrics.leader.set_function(lambda: int(leading and (elector is None or elector.leading)))
    try:
        if elector is not None and not await _first(elector.acquire(), stop.wait()):
            return 0
        state.standing_by, leading = False, True
        return await _lead(connection, settings, client, metrics, state, elector, stop)
    finally:
        leading = False
        if elector is not None:
            await elector.release()
        if http is not None:
            await http.cleanup()
        await client.close()


def _tune_gc() -> None:
    """What is loaded by now (modules, models, the first listing) stays: out of the collector's sight. And
    collect less often: a burst of a thousand clusters allocates millions of short-lived objects, and with
    Python's default thresholds a third of the operator's CPU went to collections (full ones of up to
    0.3 s, with the event loop stopped)."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


async def _first(wanted: Coroutine[Any, Any, Any], stop: Coroutine[Any, Any, Any]) -> bool:
    """Await both; True when ``wanted`` finished first (its failure is raised, never taken for success)."""
    tasks = [asyncio.ensure_future(wanted), asyncio.ensure_future(stop)]
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for t in pending:
        t.cancel()
    if tasks[0] in done:
        tasks[0].result()
        return True
    return False


async def _lead(
    connection: Connection,
    settings: Settings,
    client: AsyncClient,
    metrics: Metrics,
    state: _State,
    elector: Elector | None,
    stop: asyncio.Event,
) -> int:
    per_pool = -(-settings.workers // POOLS) + 2  # every worker can have a request out at once
    pools = (connection.async_client(connections=per_pool) for _ in range(POOLS - 1))
    api = KubeAPI(client, *pools, component=COMPONENT, guard=elector.check if elector is not None else None)
    fleets = Fleets(api, settings.operator_namespace)
    active = []
    for registration in REGISTERED:
        queue = WorkQueue[Key]()
        provider = registration.build(Services(api, settings, metrics, fleets, queue))
        active.append((registration, provider, queue))
    metrics.watch_phases(lambda: itertools.chain.from_iterable(p.phases() for _, p, _ in active))
    metrics.queue_depth.set_function(lambda: sum(len(q) for _, _, q in active))
    table = routes((r.watched, p, q) for r, p, q in active)
    await sync.fill(api, table, settings.namespaces)
    # What the first listing queued: reconciled once each, the operator has caught up with its start.
    startup = {(r.name, key) for r, _, q in active for key in q.added}
    metrics.startup_pending.set_function(lambda: len(startup))
    log.info(
        "%s found",
        ", ".join(f"{sum(1 for n, _ in startup if n == r.name)} {r.kind.kind}s" for r, _, _ in active),
    )
    _tune_gc()
    kopf_stop = asyncio.Event()
    kopf_task = asyncio.create_task(
        kopf.operator(
            registry=watching.registry(table, connection),
            settings=watching.settings(),
            standalone=True,
            clusterwide=not settings.namespaces,
            namespaces=list(settings.namespaces),
            stop_flag=kopf_stop,
            ready_flag=state.kopf_ready,
        ),
        name="kopf",
    )

    def counted(name: str, reconcile: Reconcile) -> Reconcile:
        async def work(key: Key) -> float | None:
            try:
                return await reconcile(key)
            finally:
                startup.discard((name, key))

        return work

    workers = asyncio.create_task(
        _all(run_workers(q, counted(r.name, p.reconcile), settings.workers) for r, p, q in active),
        name="reconcile",
    )
    lease = asyncio.create_task(elector.hold(), name="lease") if elector is not None else None
    stopping = asyncio.create_task(stop.wait(), name="stop")
    watched = [t for t in (kopf_task, workers, lease, stopping) if t is not None]
    log.info("watching in %s", ", ".join(settings.namespaces) or "every namespace")
    done, _ = await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
    code = 0
    if lease is not None and lease in done:
        log.error("leadership lost: stopping, another replica acts now")
        code = LOST_LEASE
    elif kopf_task in done and not kopf_task.cancelled() and kopf_task.exception() is None:
        log.info("stopping")  # kopf takes SIGTERM and SIGINT over once it runs, and stops on them
    elif kopf_task in done or workers in done:
        state.failed = True
        failed = kopf_task if kopf_task in done else workers
        log.error(
            "%s stopped: %s", failed.get_name(), failed.exception() if not failed.cancelled() else "cancelled"
        )
        code = 1
    kopf_stop.set()
    for t in (workers, lease, stopping):
        if t is not None and not t.done():
            t.cancel()
    for _, _, q in active:
        q.close()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await asyncio.wait_for(kopf_task, timeout=10)
    for extra in api.clients[1:]:  # the first is the caller's, closed by run()
        await extra.close()
    return code


async def _all(coroutines: Iterable[Coroutine[Any, Any, None]]) -> None:
    async with asyncio.TaskGroup() as group:
        for c in coroutines:
            group.create_task(c)
