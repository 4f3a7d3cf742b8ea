"""Running the operator: serve health and metrics, wait for the Lease, then watch and reconcile until told to
stop (SIGTERM, SIGINT) or until the Lease is lost. A lost Lease ends the process with an error: another
replica now acts, and this one must not go on (its Deployment restarts it as a standby)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import itertools
import logging
import signal
from collections.abc import Coroutine, Iterable
from typing import Any

import kopf

from kurator.kube.asyncapi import AsyncAPI
from kurator.kube.client import AsyncClient
from kurator.kube.connection import Connection
from kurator.operator import sync, watching
from kurator.operator.fleets import Fleets
from kurator.operator.leader import Elector
from kurator.operator.metrics import Metrics
from kurator.operator.provider import Key, Provider, Reconcile, Registration, Services
from kurator.operator.providers import REGISTERED
from kurator.operator.routes import routes
from kurator.operator.serving import serve
from kurator.operator.settings import Settings
from kurator.operator.workqueue import WorkQueue, run_workers

log = logging.getLogger("kurator.operator")

LOST_LEASE = 1
COMPONENT = "kurator-cluster-operator"  # who its Events come from
POOLS = 16  # API clients the reconciles take turns with, each with a few connections (see AsyncAPI)
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
    elector = Elector(AsyncAPI(client), settings.leader) if settings.leader.enabled else None
    leading = False
    metrics.leader.set_function(lambda: int(leading and (elector is None or elector.leading)))
    lease: asyncio.Task[None] | None = None
    try:
        if elector is not None:
            if not await _first(elector.acquire(), stop.wait()):
                return 0
            # Renewed from now on, while the caches fill too: a slow start must not let the Lease lapse.
            lease = asyncio.create_task(elector.hold(), name="lease")
        state.standing_by, leading = False, True
        return await _lead(connection, settings, client, metrics, state, elector, lease, stop)
    finally:
        leading = False
        if lease is not None and not lease.done():
            lease.cancel()
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


@dataclasses.dataclass
class _Active:
    """A registered provider while the operator runs: its parts and its work queue."""

    registration: Registration
    provider: Provider
    queue: WorkQueue[Key]


def _providers(api: AsyncAPI, settings: Settings, metrics: Metrics) -> list[_Active]:
    fleets = Fleets(api, settings.operator_namespace)
    active = []
    for registration in REGISTERED:
        queue = WorkQueue[Key]()
        provider = registration.build(Services(api, settings, metrics, fleets, queue))
        active.append(_Active(registration, provider, queue))
    metrics.watch_phases(lambda: itertools.chain.from_iterable(a.provider.phases() for a in active))
    metrics.queue_depth.set_function(lambda: sum(len(a.queue) for a in active))
    return active


def _workers(active: list[_Active], metrics: Metrics, workers: int) -> Coroutine[Any, Any, None]:
    """Each provider's workers. What the first listing queued is counted until reconciled once each
    (``kurator_operator_startup_pending``: 0 once the operator has caught up with its start)."""
    startup = {(a.registration.name, key) for a in active for key in a.queue.added}
    metrics.startup_pending.set_function(lambda: len(startup))
    for a in active:
        found = sum(1 for name, _ in startup if name == a.registration.name)
        log.info("%d %ss found", found, a.registration.kind.kind)

    def counted(name: str, reconcile: Reconcile) -> Reconcile:
        async def work(key: Key) -> float | None:
            try:
                return await reconcile(key)
            finally:
                startup.discard((name, key))

        return work

    return _all(
        run_workers(a.queue, counted(a.registration.name, a.provider.reconcile), workers) for a in active
    )


async def _lead(
    connection: Connection,
    settings: Settings,
    client: AsyncClient,
    metrics: Metrics,
    state: _State,
    elector: Elector | None,
    lease: asyncio.Task[None] | None,
    stop: asyncio.Event,
) -> int:
    per_pool = -(-settings.workers // POOLS) + 2  # every worker can have a request out at once
    pools = (connection.async_client(connections=per_pool) for _ in range(POOLS - 1))
    api = AsyncAPI(client, *pools, component=COMPONENT, guard=elector.check if elector is not None else None)
    active = _providers(api, settings, metrics)
    table = routes((a.registration.watched, a.provider, a.queue) for a in active)
    filling = asyncio.ensure_future(sync.fill(api, table, settings.namespaces))
    await asyncio.wait([t for t in (filling, lease) if t is not None], return_when=asyncio.FIRST_COMPLETED)
    if not filling.done():  # the Lease was lost while the caches filled
        filling.cancel()
        log.error("leadership lost: stopping, another replica acts now")
        return LOST_LEASE
    filling.result()
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
    workers = asyncio.create_task(_workers(active, metrics, settings.workers), name="reconcile")
    log.info("watching in %s", ", ".join(settings.namespaces) or "every namespace")
    code = await _until_done(kopf_task, workers, lease, stop, state)
    kopf_stop.set()
    workers.cancel()
    for a in active:
        a.queue.close()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await asyncio.wait_for(kopf_task, timeout=10)
    for extra in api.clients[1:]:  # the first is the caller's, closed by run()
        await extra.close()
    return code


async def _until_done(
    kopf_task: asyncio.Task[Any],
    workers: asyncio.Task[None],
    lease: asyncio.Task[None] | None,
    stop: asyncio.Event,
    state: _State,
) -> int:
    """Wait for the first of: a stop, the Lease lost, kopf or the workers ending; the exit code."""
    stopping = asyncio.create_task(stop.wait(), name="stop")
    watched = [t for t in (kopf_task, workers, lease, stopping) if t is not None]
    done, _ = await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if lease is not None and lease in done:
        log.error("leadership lost: stopping, another replica acts now")
        return LOST_LEASE
    if kopf_task in done and not kopf_task.cancelled() and kopf_task.exception() is None:
        log.info("stopping")  # kopf takes SIGTERM and SIGINT over once it runs, and stops on them
        return 0
    if kopf_task in done or workers in done:
        state.failed = True
        failed = kopf_task if kopf_task in done else workers
        exc = None if failed.cancelled() else failed.exception()
        # with the traceback: a TaskGroup's own message names none of the exceptions it holds
        log.error("%s stopped: %s", failed.get_name(), exc or "cancelled", exc_info=exc)
        return 1
    return 0


async def _all(coroutines: Iterable[Coroutine[Any, Any, None]]) -> None:
    async with asyncio.TaskGroup() as group:
        for c in coroutines:
            group.create_task(c)
