"""One idempotent reconcile of one CustomCluster: read what the view holds, let
:func:`kurator.lifecycle.actions.decide` decide, carry that out, and report (:mod:`.report`). Run as often
as anything about the cluster changes; running it twice does nothing twice (Jobs have deterministic names,
the status is computed, not accumulated). Only I/O is here: every rule is :mod:`kurator.lifecycle`'s.

Per pass: at most one Kubespray Job is started; a preflight that passes goes straight on to the run it
was for, in the same pass, so a new cluster gets its Job after one SSH check and a handful of writes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError

from kurator.api.cluster import CustomCluster, CustomClusterStatus
from kurator.api.machine import CustomMachine
from kurator.api.resources import CUSTOM_CLUSTER, JOB
from kurator.kube.asyncapi import AsyncAPI
from kurator.kube.errors import NotFound
from kurator.lifecycle import capi, events, jobs, preflight, report
from kurator.lifecycle import hosts as h
from kurator.lifecycle.actions import RUNS, Action, Kind, decide
from kurator.lifecycle.observed import CLUSTER_LABEL, parse_summary
from kurator.lifecycle.state import Snapshot
from kurator.operator.kubespray.hostcheck import HostCheck
from kurator.operator.kubespray.passes import Gone, Pass, as_created, placeholder_machine, utcnow
from kurator.operator.kubespray.provisioned import Provisioned
from kurator.operator.kubespray.report import Reporter
from kurator.operator.kubespray.view import View
from kurator.operator.metrics import Metrics
from kurator.operator.provider import Key
from kurator.operator.retry import after_failure
from kurator.operator.settings import Settings

log = logging.getLogger(__name__)

FINALIZER = "customcluster.cluster.kurator.dev"  # Kurator's name for it
WAIT_FOR_JOB = 300.0  # a running Job's changes arrive as events; this only guards against a lost one
JOB_RECHECK = 30.0  # a run the watch said nothing of for this long is read from the API
PASSES = 4  # preflight, then its run: more never happens in one pass


class Reconciler:
    def __init__(
        self,
        view: View,
        api: AsyncAPI,
        settings: Settings,
        hosts: HostCheck,
        provisioned: Provisioned,
        reporter: Reporter,
        metrics: Metrics,
        now: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.view, self.api, self.settings, self.hosts = view, api, settings, hosts
        self.provisioned, self.reporter, self.metrics = provisioned, reporter, metrics
        self.now = now
        self._workers_made: set[str] = set()  # namespaces whose worker ConfigMap exists
        self._preflight_failures: dict[Key, int] = {}

    # -- the entry point ----------------------------------------------------------------------------

    async def __call__(self, key: Key) -> float | None:
        started = time.monotonic()
        result, again = "ok", None
        try:
            again = await self._reconcile(key)
        except Gone:
            # Deleted where no watch event said so (between the first listing and kopf's own): forget it,
            # or its Jobs, deleted by the garbage collector, would be made again and again.
            result = "gone"
            log.info("%s/%s is gone", *key)
            self.view.forget_cluster(key)
        except Exception as exc:
            result, again = after_failure(key, exc, log)
        self.metrics.reconciled(result, time.monotonic() - started)
        return again

    async def _reconcile(self, key: Key) -> float | None:
        body = self.view.clusters.get(key)
        if body is None:
            self._preflight_failures.pop(key, None)
            self.provisioned.forget(key)
            self.reporter.forget(key)
            return None
        p = self._begin(key, body)
        if p is None:
            return None
        try:
            return await self._decide(p)
        finally:
            if p.holding is not None:  # left by an error: the next pass sets the finalizer
                p.holding.cancel()

    def _begin(self, key: Key, body: dict[str, Any]) -> Pass | None:
        try:
            cluster = CustomCluster.model_validate(body)
        except ValidationError as exc:  # the API server checked it; this is an object of another schema
            log.error("%s/%s cannot be read as a CustomCluster: %s", *key, exc)
            return None
        machine_body = self.view.machines.get((key[0], cluster.spec.machine_ref.name))
        machine = placeholder_machine()
        if machine_body is not None:
            try:
                machine = CustomMachine.model_validate(machine_body)
            except ValidationError as exc:
                log.error("%s/%s: its CustomMachine cannot be read: %s", *key, exc)
                machine_body = None
        # A status held back by a busy queue is newer than the stored one (see report.Reporter).
        status = self.reporter.held_status(key) or cluster.status or CustomClusterStatus()
        observed = self.view.observed(key, str(cluster.metadata.get("uid", "")))
        snap = Snapshot.of(cluster, machine, status, observed, self.now())
        return Pass(key, body, snap, machine_body, self.view.capi_for(key)[0])

    async def _decide(self, p: Pass) -> float | None:
        given = capi.inherited(*self.view.capi_for(p.key)) if p.capi_cluster else capi.Inherited()
        if p.capi_cluster is not None and not p.deleting:
            await self._owned_by(p, p.capi_cluster)
        cluster, problems = capi.effective(p.cluster, given)
        p.snap = p.snap.with_cluster(cluster)
        await self._recheck_quiet_runs(p)
        await self._read_failures(p)

        action = Action(Kind.NONE, "")
        if p.machine_body is None and not p.deleting:
            ref = p.cluster.spec.machine_ref.name
            action = Action(Kind.NONE, "MachineNotFound", f"CustomMachine {p.namespace}/{ref} does not exist")
        elif problems and not p.deleting:
            action = Action(Kind.NONE, "ClusterAPIValuesInvalid", "; ".join(problems))
        else:
            action = await self._act(p)
            if action.kind == Kind.DELETE and action.job is None:
                return None
            if action.kind in RUNS and action.job is not None and not await self._start(p, action):
                return p.requeue
        if not p.deleting:
            await self.provisioned(p)
        await self.reporter.write(p, action)
        return p.requeue

    async def _act(self, p: Pass) -> Action:
        """Decide, and carry out what needs no Job: the preflight (and decide again), stopping the runs a
        deletion finds (and decide again), the reachability of a scale-down's hosts, the deletion's end."""
        action = Action(Kind.NONE, "")
        for _ in range(PASSES):
            action = decide(p.snap, self.settings.policy)
            if action.kind == Kind.PREFLIGHT:
                if not await self._preflight(p, action):
                    break
                continue
            if action.kind == Kind.DELETE and action.reset and action.stop:
                await self._stop_runs(p, action.stop)
                continue
            break
        log.debug("%s/%s: %s (%s) %s", *p.key, action.kind, action.reason, action.job or "")
        if action.kind == Kind.SCALE_DOWN and action.job is not None:
            action = await self._reachability(p, action)
        elif action.kind == Kind.DELETE and action.job is None:
            await self._finish_deletion(p, action)
        elif action.kind == Kind.WAIT:
            due = (action.retry_at - p.snap.now).total_seconds() if action.retry_at else JOB_RECHECK
            p.again_in(max(due, 0.5))
        return action

    async def _recheck_quiet_runs(self, p: Pass) -> None:
        """Runs the watch has been silent about for a while are read from the API (see View.quiet_runs)."""
        quiet = self.view.quiet_runs(p.key, p.uid, JOB_RECHECK)
        for name in quiet:
            doc = await self.api.get(JOB, p.namespace, name)
            if doc is None:
                labels = {CLUSTER_LABEL: p.key[1]}
                gone = {"metadata": {"name": name, "namespace": p.namespace, "labels": labels}}
                self.view.on_job({"type": "DELETED", "object": gone})
            else:
                self.view.on_job({"type": "MODIFIED", "object": doc})
        if quiet:
            p.snap = p.snap.with_jobs(self.view.observed(p.key, p.uid))

    async def _read_failures(self, p: Pass) -> None:
        """What the Pods of newly failed Jobs said (once per Job: their summaries are kept in the view)."""
        unread = self.view.unread_failures(p.key, p.uid)
        for name, job_uid in unread:
            self.view.summaries[job_uid] = parse_summary(
                await self.api.termination_message(p.namespace, name)
            )
        if unread:
            p.snap = p.snap.with_jobs(self.view.observed(p.key, p.uid))

    # -- steps --------------------------------------------------------------------------------------

    async def _preflight(self, p: Pass, action: Action) -> bool:
        wanted = h.by_name(p.snap.wanted)
        hosts = [wanted[n] for n in action.hosts if n in wanted]
        # The finalizer goes on while the hosts are checked and the run that may follow in this pass is
        # started (see _start).
        if p.holding is None:
            p.holding = asyncio.ensure_future(self._hold(p))
        results = await self.hosts.check(p.namespace, hosts)
        p.status = preflight.fold(p.status, results, p.snap.generation, p.snap.now)
        self.metrics.preflight(len(results), sum(1 for r in results if not r.ok))
        if all(r.ok for r in results):
            self._preflight_failures.pop(p.key, None)
            return True
        await self._held(p)
        failures = self._preflight_failures.get(p.key, 0) + 1
        self._preflight_failures[p.key] = failures
        p.again_in(preflight.retry_in(failures))
        return False

    async def _reachability(self, p: Pass, action: Action) -> Action:
        """Which of the hosts leaving the cluster still answer over SSH (within --ssh-timeout): the others
        are removed ungracefully, as Kubespray cannot drain or reset them."""
        leaving = [x for x in p.snap.installed if x.name in action.hosts]
        results = await self.hosts.check(p.namespace, leaving, reuse=False)
        dead = tuple(sorted(r.host for r in results if not r.ok))
        if dead:
            p.event(events.ungraceful_removal(dead, (r.message for r in results if not r.ok)))
        return dataclasses.replace(action, unreachable=dead)

    async def _stop_runs(self, p: Pass, names: tuple[str, ...]) -> None:
        """Suspend the runs under way (their Pods go; the Jobs stay, as the record that the hosts were
        touched), so the reset that follows never runs beside them."""
        for name in names:
            await self.api.suspend_job(p.namespace, name)
        stopped = set(names)
        p.snap = p.snap.with_jobs(
            dataclasses.replace(j, state="stopped") if j.name in stopped else j for j in p.snap.observed
        )
        p.event(events.runs_stopped(names))

    async def _start(self, p: Pass, action: Action) -> bool:
        """Create the Job of ``action`` (and what it mounts). False when it cannot start yet."""
        if action.kind == Kind.DELETE and not await self._can_reset(p, action):
            return False
        # The finalizer, the shared worker ConfigMap and the Job go out at once: a Pod waits for what it
        # mounts, and a finalizer that failed is set by the next pass (the Job is the run's record).
        namespace = p.namespace
        shared = [] if namespace in self._workers_made else [jobs.worker_configmap(namespace)]
        docs = [*shared, *jobs.manifests(action, p.snap, self.settings.ssh_user)]
        *_, created = await asyncio.gather(self._held(p), *(self.api.create(d) for d in docs))
        self._workers_made.add(namespace)
        job = as_created(docs[-1], p.snap.now)
        self.view.started(p.key, job, p.uid)
        p.snap = p.snap.with_jobs((*p.snap.observed, job))
        if created:
            self.metrics.job_created(str(action.kind), p.age)
            p.event(events.run_started(action))
        p.again_in(WAIT_FOR_JOB)
        return True

    async def _can_reset(self, p: Pass, action: Action) -> bool:
        """Before a reset: the cluster is still there, every host's key is, and the fleet is left."""
        if await self.api.get(CUSTOM_CLUSTER, *p.key) is None:
            raise Gone(p.key)
        missing = [
            s
            for s in jobs.key_secrets(action, p.snap)
            if await self.api.secret_value(p.namespace, s, jobs.SSH_KEY) is None
        ]
        if missing:
            p.status = report.ssh_keys_missing(p.status, missing, p.snap.now)
            p.again_in(30.0)
            await self.reporter.write(p, Action(Kind.WAIT, "SSHKeyMissing"))
            await self.reporter.post_events(p)
            return False
        await self.provisioned.leave(p)
        return True

    async def _owned_by(self, p: Pass, owner: capi.CapiCluster) -> None:
        """The Cluster API Cluster that names this cluster owns it, as Cluster API's controller would make
        it: deleting that Cluster deletes the CustomCluster (and so resets its hosts), as in Kurator."""
        ref = owner.owner_reference()
        if ref is None:
            return
        if await self._wrote(p, "ownerReferences", self.api.add_owner(CUSTOM_CLUSTER, p.body, ref)):
            p.event(events.owned_by(owner.name))

    async def _held(self, p: Pass) -> None:
        """The finalizer's write started by the preflight, or one now."""
        task, p.holding = p.holding, None
        await (task if task is not None else self._hold(p))

    async def _hold(self, p: Pass) -> None:
        """The finalizer, so that the cluster is never gone before its hosts are reset."""
        await self._wrote(p, "finalizers", self.api.set_finalizer(CUSTOM_CLUSTER, p.body, FINALIZER, True))

    async def _wrote(self, p: Pass, field: str, write: Awaitable[list[Any] | None]) -> bool:
        """Await ``write`` of the cluster's ``metadata.<field>``; the view and the pass learn what was
        written. False when nothing needed writing; a 404 means the cluster is gone."""
        try:
            written = await write
        except NotFound:
            raise Gone(p.key) from None
        if written is None:
            return False
        self.view.wrote_cluster(p.key, metadata={field: written})
        p.body = self.view.clusters.get(p.key, p.body)
        return True

    async def _finish_deletion(self, p: Pass, action: Action) -> None:
        """Stop what runs, leave the fleet, release the finalizer: the API server then deletes the
        cluster, and the garbage collector its Jobs, ConfigMaps and kubeconfig Secret."""
        for job in action.stop:
            await self.api.delete(JOB, p.namespace, job)
        await self.provisioned.leave(p)
        p.event(events.deleted(action))
        await self.reporter.post_events(p)
        await self.api.set_finalizer(CUSTOM_CLUSTER, p.body, FINALIZER, False)
        self._preflight_failures.pop(p.key, None)
        self.provisioned.forget(p.key)
