"""One idempotent reconcile of one CustomCluster: read what the view holds, let
:func:`kurator.lifecycle.actions.next_action` decide, carry that out, fold the status and write it when it
changed. Run as often as anything about the cluster changes; running it twice does nothing twice (Jobs
have deterministic names, the status is computed, not accumulated).

Per pass: at most one Kubespray Job is started; a preflight that passes goes straight on to the run it
was for, in the same pass, so a new cluster gets its Job after one SSH check and a handful of writes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Mapping
from typing import Any

from lightkube import ApiError
from pydantic import ValidationError

from kurator.api.cluster import CustomCluster, CustomClusterStatus, Initialization
from kurator.api.machine import CustomMachine, CustomMachineSpec
from kurator.core.errors import KuratorError
from kurator.lifecycle import capi, jobs, preflight
from kurator.lifecycle import hosts as h
from kurator.lifecycle import kubeconfig as kc
from kurator.lifecycle import status as st
from kurator.lifecycle.actions import FORCE_DELETE_ANNOTATION, RUNS, Action, Kind, current, next_action
from kurator.lifecycle.group_vars import api_endpoint
from kurator.lifecycle.observed import CLUSTER_LABEL, ObservedJob, observe, parse_summary
from kurator.operator.fleets import Fleets
from kurator.operator.hostcheck import HostCheck
from kurator.operator.kubeapi import KubeAPI
from kurator.operator.metrics import Metrics
from kurator.operator.settings import Settings
from kurator.operator.view import Key, View
from kurator.operator.workqueue import WorkQueue
from kurator.ssh.fetch import ADMIN_CONF, fetch_file, with_server

log = logging.getLogger(__name__)

FINALIZER = "customcluster.cluster.kurator.dev"  # Kurator's name for it
FLEET_JOINED = "FleetJoined"
WAIT_FOR_JOB = 300.0  # a running Job's changes arrive as events; this only guards against a lost one
JOB_RECHECK = 30.0  # a run the watch said nothing of for this long is read from the API
PREFLIGHT_RETRY = (10.0, 300.0)  # first and longest wait before checking failed hosts again
FETCH_RETRY = 30.0
PASSES = 4  # preflight, then its run: more never happens in one pass
# Conditions whose arrival is no news: what every cluster goes through before its first run.
ROUTINE_REASONS = frozenset({"NotProvisioned", "NotFetched", "HostsAnswered"})


class Gone(Exception):
    """The CustomCluster is no longer in the API, whatever the view says."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _placeholder_machine() -> CustomMachine:
    """Stands in for a CustomMachine that is gone: no hosts wanted (what was installed is in the status)."""
    return CustomMachine.model_construct(
        spec=CustomMachineSpec.model_construct(master=[], node=[]), metadata={"generation": 0}
    )


def _as_created(job: dict[str, Any], now: dt.datetime) -> ObservedJob:
    """The Job just created, as its watch event will show it (so that event is no news)."""
    meta = {**job["metadata"], "creationTimestamp": now.isoformat()}
    return observe({**job, "metadata": meta})


def _dump(model: Any) -> dict[str, Any]:
    out: dict[str, Any] = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    return out


@dataclasses.dataclass
class _Pass:
    """What one reconcile of one cluster works with and on."""

    key: Key
    body: dict[str, Any]
    cluster: CustomCluster
    machine: CustomMachine
    machine_body: dict[str, Any] | None
    status: CustomClusterStatus
    observed: list[ObservedJob]
    capi_cluster: capi.CapiCluster | None
    now: dt.datetime
    requeue: float | None = None
    events: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)
    holding: asyncio.Task[None] | None = None
    """The finalizer's write, under way while the hosts are checked and the run is started."""

    def again_in(self, seconds: float) -> None:
        self.requeue = seconds if self.requeue is None else min(self.requeue, seconds)

    def event(self, type_: str, reason: str, message: str) -> None:
        self.events.append((type_, reason, message))

    @property
    def deleting(self) -> bool:
        return bool(self.cluster.metadata.get("deletionTimestamp"))


class Reconciler:
    def __init__(
        self,
        view: View,
        api: KubeAPI,
        settings: Settings,
        hosts: HostCheck,
        fleets: Fleets,
        metrics: Metrics,
    ) -> None:
        self.view, self.api, self.settings, self.hosts, self.fleets = view, api, settings, hosts, fleets
        self.metrics = metrics
        self._workers_made: set[str] = set()  # namespaces whose worker ConfigMap exists
        self._preflight_failures: dict[Key, int] = {}
        self._fetched_after: dict[Key, str] = {}
        self.queue: WorkQueue[Key] | None = None
        """Set by the runner: while it is busy, status writes wait (see _write_status)."""
        self._held_events: dict[Key, list[tuple[str, str, str]]] = {}
        self._held_status: dict[Key, CustomClusterStatus] = {}

    # -- the entry point ----------------------------------------------------------------------------

    async def __call__(self, key: Key) -> float | None:
        started = time.monotonic()
        try:
            again = await self._reconcile(key)
            self.metrics.reconciled("ok", time.monotonic() - started)
            return again
        except Gone:
            # Deleted where no watch event said so (between the first listing and kopf's own): forget it,
            # or its Jobs, deleted by the garbage collector, would be made again and again.
            self.metrics.reconciled("gone", time.monotonic() - started)
            log.info("%s/%s is gone", *key)
            self.view.forget_cluster(key)
            return None
        except ApiError as exc:
            conflict = exc.status.code == 409
            self.metrics.reconciled("conflict" if conflict else "error", time.monotonic() - started)
            if not conflict:
                log.warning("%s/%s: the API refused: %s", *key, exc.status.message)
            return 1.0 if conflict else 10.0
        except (KuratorError, OSError) as exc:
            self.metrics.reconciled("error", time.monotonic() - started)
            log.warning("%s/%s: %s", *key, exc)
            return 10.0
        except Exception:
            self.metrics.reconciled("error", time.monotonic() - started)
            log.exception("%s/%s: reconcile failed", *key)
            return 30.0

    async def _reconcile(self, key: Key) -> float | None:
        body = self.view.clusters.get(key)
        if body is None:
            for kept in (self._preflight_failures, self._fetched_after, self._held_events, self._held_status):
                kept.pop(key, None)
            return None
        p = self._begin(key, body)
        if p is None:
            return None
        try:
            return await self._decide(key, p)
        finally:
            if p.holding is not None:  # left by an error: the next pass sets the finalizer
                p.holding.cancel()

    async def _decide(self, key: Key, p: _Pass) -> float | None:
        given = capi.inherited(*self.view.capi_for(key)) if p.capi_cluster else capi.Inherited()
        if p.capi_cluster is not None and not p.deleting:
            await self._owned_by(p, p.capi_cluster)
        p.cluster, problems = capi.effective(p.cluster, given)
        await self._recheck_quiet_runs(p)
        await self._read_failures(p)

        action = Action(Kind.NONE, "")
        if p.machine_body is None and not p.deleting:
            ref = p.cluster.spec.machine_ref.name
            action = Action(Kind.NONE, "MachineNotFound", f"CustomMachine {key[0]}/{ref} does not exist")
        elif problems and not p.deleting:
            action = Action(Kind.NONE, "ClusterAPIValuesInvalid", "; ".join(problems))
        else:
            for _ in range(PASSES):
                action = next_action(p.cluster, p.machine, p.status, p.observed, p.now, self.settings.policy)
                if action.kind == Kind.PREFLIGHT:
                    if not await self._preflight(p, action):
                        break
                    continue
                if action.kind == Kind.DELETE and action.reset and action.stop:
                    await self._stop_runs(p, action.stop)
                    continue
                break
            log.debug("%s/%s: %s (%s) %s", *key, action.kind, action.reason, action.job or "")
            if action.kind == Kind.SCALE_DOWN and action.job is not None:
                action = await self._reachability(p, action)
            if action.kind in RUNS and action.job is not None:
                if await self._start(p, action) is False:
                    return p.requeue
            elif action.kind == Kind.DELETE:
                await self._finish_deletion(p, action)
                return None
            elif action.kind == Kind.WAIT:
                due = (action.retry_at - p.now).total_seconds() if action.retry_at else JOB_RECHECK
                p.again_in(max(due, 0.5))

        if not p.deleting:
            await self._after_provisioning(p)
        await self._write_status(p, action)
        return p.requeue

    def _begin(self, key: Key, body: dict[str, Any]) -> _Pass | None:
        try:
            cluster = CustomCluster.model_validate(body)
        except ValidationError as exc:  # the API server checked it; this is an object of another schema
            log.error("%s/%s cannot be read as a CustomCluster: %s", *key, exc)
            return None
        machine_body = self.view.machines.get((key[0], cluster.spec.machine_ref.name))
        machine = _placeholder_machine()
        if machine_body is not None:
            try:
                machine = CustomMachine.model_validate(machine_body)
            except ValidationError as exc:
                log.error("%s/%s: its CustomMachine cannot be read: %s", *key, exc)
                machine_body = None
        capi_cluster, _ = self.view.capi_for(key)
        return _Pass(
            key=key,
            body=body,
            cluster=cluster,
            machine=machine,
            machine_body=machine_body,
            # A status held back by a busy queue is newer than the stored one (see _write_status).
            status=self._held_status.get(key) or cluster.status or CustomClusterStatus(),
            observed=self.view.observed(key, str(cluster.metadata.get("uid", ""))),
            capi_cluster=capi_cluster,
            now=utcnow(),
        )

    async def _recheck_quiet_runs(self, p: _Pass) -> None:
        """Runs the watch has been silent about for a while are read from the API (see View.quiet_runs)."""
        uid = str(p.cluster.metadata.get("uid", ""))
        quiet = self.view.quiet_runs(p.key, uid, JOB_RECHECK)
        for name in quiet:
            doc = await self.api.job(p.key[0], name)
            if doc is None:
                self.view.on_job(
                    {
                        "type": "DELETED",
                        "object": {
                            "metadata": {
                                "name": name,
                                "namespace": p.key[0],
                                "labels": {CLUSTER_LABEL: p.key[1]},
                            }
                        },
                    }
                )
            else:
                self.view.on_job({"type": "MODIFIED", "object": doc})
        if quiet:
            p.observed = self.view.observed(p.key, uid)

    async def _read_failures(self, p: _Pass) -> None:
        """What the Pods of newly failed Jobs said (once per Job: their summaries are kept in the view)."""
        uid = str(p.cluster.metadata.get("uid", ""))
        unread = self.view.unread_failures(p.key, uid)
        for name, job_uid in unread:
            message = await self.api.termination_message(p.key[0], name)
            self.view.summaries[job_uid] = parse_summary(message)
        if unread:
            p.observed = self.view.observed(p.key, uid)

    # -- steps --------------------------------------------------------------------------------------

    async def _preflight(self, p: _Pass, action: Action) -> bool:
        wanted = h.by_name(h.desired(p.machine))
        hosts = [wanted[n] for n in action.hosts if n in wanted]
        # The finalizer goes on while the hosts are checked and the run that may follow in this pass is
        # started (see _start).
        if p.holding is None:
            p.holding = asyncio.ensure_future(self._hold(p))
        results = await self.hosts.check(p.key[0], hosts)
        generation = int(p.machine.metadata.get("generation", 0))
        p.status = preflight.fold(p.status, results, generation, p.now)
        ok = all(r.ok for r in results)
        self.metrics.preflight(len(results), sum(1 for r in results if not r.ok))
        if ok:
            self._preflight_failures.pop(p.key, None)
            return True
        await self._held(p)
        failures = self._preflight_failures.get(p.key, 0) + 1
        self._preflight_failures[p.key] = failures
        first, longest = PREFLIGHT_RETRY
        p.again_in(min(first * 2 ** (failures - 1), longest))
        return False

    async def _reachability(self, p: _Pass, action: Action) -> Action:
        """Which of the hosts leaving the cluster still answer over SSH (within --ssh-timeout): the others
        are removed ungracefully, as Kubespray cannot drain or reset them."""
        installed, _ = current(p.status, p.observed)
        leaving = [x for x in installed if x.name in action.hosts]
        results = await self.hosts.check(p.key[0], leaving, reuse=False)
        dead = tuple(sorted(r.host for r in results if not r.ok))
        if dead:
            p.event(
                "Warning",
                "UngracefulRemoval",
                f"{', '.join(dead)} did not answer: removed without drain and reset "
                f"({'; '.join(r.message for r in results if not r.ok)})",
            )
        return dataclasses.replace(action, unreachable=dead)

    async def _stop_runs(self, p: _Pass, names: tuple[str, ...]) -> None:
        """Suspend the runs under way (their Pods go; the Jobs stay, as the record that the hosts were
        touched), so the reset that follows never runs beside them."""
        for name in names:
            await self.api.suspend_job(p.key[0], name)
        stopped = set(names)
        p.observed = [dataclasses.replace(j, state="stopped") if j.name in stopped else j for j in p.observed]
        p.event("Normal", "RunsStopped", f"stopped Job {', '.join(names)}: the cluster is being deleted")

    async def _start(self, p: _Pass, action: Action) -> bool:
        """Create the Job of ``action`` (and what it mounts). False when it cannot start yet."""
        namespace = p.key[0]
        if action.kind == Kind.DELETE:
            if not await self.api.cluster_exists(*p.key):
                raise Gone(p.key)
            missing = await self._missing_keys(p, action)
            if missing:
                message = (
                    f"the hosts cannot be reset: Secret {', '.join(missing)} with their SSH key is gone; "
                    f"restore it, or set the annotation {FORCE_DELETE_ANNOTATION}=true to delete the cluster "
                    "without resetting its hosts"
                )
                p.status = st.with_condition(
                    p.status, "Deleting", False, "SSHKeyMissing", message, p.now, "Error"
                )
                p.again_in(30.0)
                await self._write_status(p, Action(Kind.WAIT, "SSHKeyMissing"))
                await self._post_events(p)
                return False
            if p.status.fleet:
                await self._leave_fleet(p)
        # The finalizer, the shared worker ConfigMap and the Job go out at once: a Pod waits for what it
        # mounts, and a finalizer that failed is set by the next pass (the Job is the run's record).
        shared = [] if namespace in self._workers_made else [jobs.worker_configmap(namespace)]
        docs = [
            *shared,
            *jobs.manifests(action, p.cluster, p.machine, p.status, p.observed, self.settings.ssh_user),
        ]
        *_, created = await asyncio.gather(self._held(p), *(self.api.create(d) for d in docs))
        self._workers_made.add(namespace)
        job = _as_created(docs[-1], p.now)
        self.view.started(p.key, job, str(p.cluster.metadata.get("uid", "")))
        p.observed.append(job)
        if created:
            self.metrics.job_created(str(action.kind), self._queued_for(p))
            what = f"{action.kind} for hosts {', '.join(action.hosts)}" if action.hosts else str(action.kind)
            p.event(
                "Normal",
                "RunStarted",
                f"Kubespray runs {what} in Job {action.job} (attempt {action.attempt + 1})",
            )
        p.again_in(WAIT_FOR_JOB)
        return True

    async def _owned_by(self, p: _Pass, owner: capi.CapiCluster) -> None:
        """The Cluster API Cluster that names this cluster owns it, as Cluster API's controller would make
        it: deleting that Cluster deletes the CustomCluster (and so resets its hosts), as in Kurator."""
        ref = owner.owner_reference()
        if ref is None:
            return
        if await self._wrote(p, "ownerReferences", self.api.add_owner(p.key[0], p.key[1], ref, p.body)):
            p.event(
                "Normal", "OwnedByCluster", f"owned by Cluster {owner.name}: deleting it deletes this cluster"
            )

    async def _held(self, p: _Pass) -> None:
        """The finalizer's write started by the preflight, or one now."""
        task, p.holding = p.holding, None
        await (task if task is not None else self._hold(p))

    async def _hold(self, p: _Pass) -> None:
        """The finalizer, so that the cluster is never gone before its hosts are reset."""
        await self._wrote(
            p, "finalizers", self.api.set_finalizer(p.key[0], p.key[1], FINALIZER, True, p.body)
        )

    async def _wrote(self, p: _Pass, field: str, write: Awaitable[list[Any] | None]) -> bool:
        """Await ``write`` of the cluster's ``metadata.<field>``; the view and the pass learn what was
        written. False when nothing needed writing; a 404 means the cluster is gone."""
        try:
            written = await write
        except ApiError as exc:
            if exc.status.code == 404:
                raise Gone(p.key) from None
            raise
        if written is None:
            return False
        self.view.wrote_cluster(p.key, metadata={field: written})
        p.body = self.view.clusters.get(p.key, p.body)
        return True

    def _queued_for(self, p: _Pass) -> float | None:
        created = p.cluster.metadata.get("creationTimestamp")
        if not created:
            return None
        return (p.now - dt.datetime.fromisoformat(str(created).replace("Z", "+00:00"))).total_seconds()

    async def _missing_keys(self, p: _Pass, action: Action) -> list[str]:
        installed, _ = current(p.status, p.observed)
        pool = {**h.by_name(h.desired(p.machine)), **h.by_name(installed)}
        secrets = sorted({pool[n].ssh_key_secret for n in action.hosts if n in pool})
        missing = []
        for secret in secrets:
            if await self.api.secret_value(p.key[0], secret, jobs.SSH_KEY) is None:
                missing.append(secret)
        return missing

    async def _finish_deletion(self, p: _Pass, action: Action) -> None:
        """Stop what runs, leave the fleet, release the finalizer: the API server then deletes the
        cluster, and the garbage collector its Jobs, ConfigMaps and kubeconfig Secret."""
        namespace, name = p.key
        for job in action.stop:
            await self.api.delete_job(namespace, job)
        if p.status.fleet:
            await self._leave_fleet(p)
        if action.reason == "ForceDelete":
            p.event("Warning", "ForceDeleted", f"{action.message}; the cluster is deleted without a reset")
        else:
            p.event("Normal", "Deleted", action.message)
        await self._post_events(p)
        await self.api.set_finalizer(namespace, name, FINALIZER, False, p.body)
        self._preflight_failures.pop(p.key, None)
        self._fetched_after.pop(p.key, None)

    async def _leave_fleet(self, p: _Pass) -> None:
        fleet = p.status.fleet
        if not fleet:
            return
        said = await self.fleets.leave(fleet, p.key[1])
        p.status = p.status.model_copy(update={"fleet": None})
        p.status = st.without_condition(p.status, FLEET_JOINED)
        p.event("Normal", "LeftFleet", f"{said} ({fleet})")
        await self._patch_status(p, {"fleet": None})

    async def _after_provisioning(self, p: _Pass) -> None:
        """Once Kubespray installed the cluster and nothing runs: its kubeconfig, then its fleet."""
        installed, _ = current(p.status, p.observed)
        if not installed or any(j.state == "active" for j in p.observed):
            return
        kubeconfig = await self._kubeconfig(p, installed)
        if kubeconfig is None:
            return
        await self._fleet(p, kubeconfig)

    async def _kubeconfig(self, p: _Pass, installed: tuple[h.Host, ...]) -> str | None:
        """The cluster's kubeconfig, fetched from the first master after its create, and again after each
        upgrade (kubeadm renews the admin certificate); stored in ``<cluster>-kubeconfig``."""
        namespace, name = p.key
        secret = kc.secret_name(name)
        done = [j for j in p.observed if j.state == "succeeded" and j.action in (Kind.CREATE, Kind.UPGRADE)]
        latest = max(done, key=lambda j: (j.created, j.attempt)).name if done else ""
        have = self._fetched_after.get(p.key)
        if have is None:
            annotations = await self.api.secret_annotations(namespace, secret)
            have = annotations.get(kc.FETCHED_AFTER, "") if annotations is not None else None
            if have is not None:
                self._fetched_after[p.key] = have
        if have is not None and (not latest or have == latest):
            if p.status.kubeconfig_secret_ref != secret:
                p.status = p.status.model_copy(update={"kubeconfig_secret_ref": secret})
            return await self._stored_kubeconfig(namespace, secret) if p.cluster.spec.fleet else ""
        masters = sorted(h.masters(installed), key=lambda x: x.name)
        if not masters:
            return None
        master = masters[0]
        endpoint = api_endpoint(p.cluster, installed)
        try:
            key = await self.hosts.key(namespace, master.ssh_key_secret)
            raw = await fetch_file(
                master.public_ip,
                key,
                ADMIN_CONF,
                user=self.settings.ssh_user,
                timeout=self.settings.ssh_timeout * 3,
            )
            text = with_server(raw, endpoint)
        except KuratorError as exc:
            p.status = st.with_condition(
                p.status, "KubeconfigReady", False, "FetchFailed", exc.message, p.now, "Warning"
            )
            p.again_in(FETCH_RETRY)
            return None
        capi_name = p.capi_cluster.name if p.capi_cluster else None
        await self.api.replace_secret(kc.secret(p.cluster, text, latest, capi_name))
        self._fetched_after[p.key] = latest
        p.status = p.status.model_copy(update={"kubeconfig_secret_ref": secret})
        p.event(
            "Normal",
            "KubeconfigStored",
            f"admin kubeconfig of {endpoint} fetched from {master.name}, stored in Secret {secret}",
        )
        return text

    async def _stored_kubeconfig(self, namespace: str, secret: str) -> str | None:
        value = await self.api.secret_value(namespace, secret, kc.KEY)
        return value.decode() if value is not None else None

    async def _fleet(self, p: _Pass, kubeconfig: str) -> None:
        wanted, joined = p.cluster.spec.fleet, p.status.fleet
        if joined and joined != wanted:
            await self._leave_fleet(p)
        if not wanted or p.status.fleet == wanted:
            return
        if not kubeconfig:
            kubeconfig = await self._stored_kubeconfig(p.key[0], kc.secret_name(p.key[1])) or ""
        try:
            await self.fleets.join(wanted, p.key[1], kubeconfig)
        except KuratorError as exc:
            p.status = st.with_condition(
                p.status, FLEET_JOINED, False, "JoinFailed", str(exc), p.now, "Warning"
            )
            p.again_in(FETCH_RETRY)
            return
        p.status = p.status.model_copy(update={"fleet": wanted})
        p.status = st.with_condition(
            p.status, FLEET_JOINED, True, "Joined", f"joined fleet {wanted} as {p.key[1]}", p.now
        )
        p.event("Normal", "JoinedFleet", f"joined fleet {wanted} as {p.key[1]}")
        await self._patch_status(p, {"fleet": wanted})

    # -- status ---------------------------------------------------------------------------------------

    def _folded(self, p: _Pass, action: Action) -> CustomClusterStatus:
        new = st.fold(p.cluster, p.machine, p.status, p.observed, p.now)
        new = st.with_decision(new, action, p.now)
        installed, _ = current(new, p.observed)
        hosts = st.condition(new, preflight.HOSTS_READY)
        if not installed and hosts is not None and hosts.status == "False" and action.kind == Kind.PREFLIGHT:
            new = st.with_condition(
                new, "Ready", False, "HostsUnreachable", hosts.message or "", p.now, "Warning"
            )
        if p.deleting:
            new = self._deadline(p, new)
        provisioned = bool(installed) and not p.deleting
        new = st.keep_transition_times(new, p.cluster.status)
        return new.model_copy(
            update={
                "ready": provisioned,
                "initialization": Initialization(provisioned=provisioned),
            }
        )

    def _deadline(self, p: _Pass, status: CustomClusterStatus) -> CustomClusterStatus:
        since = p.cluster.metadata.get("deletionTimestamp")
        if not since:
            return status
        started = dt.datetime.fromisoformat(str(since).replace("Z", "+00:00"))
        overdue = p.now - started - self.settings.delete_timeout
        if overdue.total_seconds() < 0:
            p.again_in(max(-overdue.total_seconds(), 1.0))
            return status
        blocking = [j.name for j in p.observed if j.state == "active"]
        what = f"Job {', '.join(blocking)} is still running" if blocking else "the hosts are not reset yet"
        deleting = st.condition(status, "Deleting")
        if deleting is not None and deleting.status == "False" and deleting.message:
            what = deleting.message
        minutes = int((p.now - started).total_seconds() // 60)
        message = (
            f"deleting for {minutes} minutes: {what}; set the annotation {FORCE_DELETE_ANNOTATION}=true "
            "to delete the cluster without resetting its hosts"
        )
        return st.with_condition(
            status, "Deleting", False, "DeletionDeadlineExceeded", message, p.now, "Error"
        )

    async def _write_status(self, p: _Pass, action: Action) -> None:
        """The cluster's status, its machine's, the Cluster API endpoint and the pass's Events: whichever
        changed, written at once (none depends on another). While other clusters wait for a pass that may
        start something, this is left for later (the queue's second lane), Events included."""
        if self.queue is not None and self.queue.busy() and not p.deleting:
            self._held_events.setdefault(p.key, []).extend(p.events)
            p.events.clear()
            self._held_status[p.key] = p.status
            self.queue.defer(p.key)
            return
        p.events[:0] = self._held_events.pop(p.key, [])
        self._held_status.pop(p.key, None)
        new = self._folded(p, action)
        old = p.cluster.status or CustomClusterStatus()
        new_doc, old_doc = _dump(new), _dump(old)
        writes: list[Awaitable[None]] = []
        if new_doc != old_doc:
            self._events_for(p, old, new)
            writes.append(self._patch_status(p, {k: new_doc.get(k) for k in set(new_doc) | set(old_doc)}))
            self.view.wrote_cluster(p.key, status=new_doc)
            p.status = new
        if p.machine_body is not None:
            machine_key = (p.key[0], str(p.machine.metadata["name"]))
            had = p.machine_body.get("status") or {}
            want = _dump(preflight.machine_status(p.machine, new))
            if want != {k: had.get(k) for k in want} or set(had) - set(want):
                writes.append(self.api.patch_machine_status(*machine_key, want))
                self.view.wrote_machine_status(machine_key, want)
        if new.api_endpoint and not p.deleting:
            host, port = kc.endpoint_parts(new.api_endpoint)
            cpe = p.cluster.spec.control_plane_endpoint
            if cpe is None or (cpe.host, cpe.port) != (host, port):
                writes.append(
                    self.api.patch_cluster_spec(
                        *p.key, {"controlPlaneEndpoint": {"host": host, "port": port}}
                    )
                )
        writes.extend(self._event_posts(p))
        await asyncio.gather(*writes)

    async def _patch_status(self, p: _Pass, patch: Mapping[str, Any]) -> None:
        try:
            await self.api.patch_cluster_status(p.key[0], p.key[1], dict(patch))
        except ApiError as exc:
            if exc.status.code == 404:
                raise Gone(p.key) from None
            raise

    def _events_for(self, p: _Pass, old: CustomClusterStatus, new: CustomClusterStatus) -> None:
        """An Event for each condition that reached an outcome (a run's start has its own Event)."""
        before = {c.type: (c.status, c.reason) for c in old.conditions or ()}
        for c in new.conditions or ():
            if before.get(c.type) == (c.status, c.reason) or c.type == "Ready" or not c.reason:
                continue
            if c.reason in st.RUNNING_REASONS or c.reason in ROUTINE_REASONS:
                continue
            bad = c.status == "False" and c.severity in ("Error", "Warning")
            p.event("Warning" if bad else "Normal", c.reason, f"{c.type}: {c.message or c.reason}")

    def _event_posts(self, p: _Pass) -> list[Awaitable[None]]:
        posts: list[Awaitable[None]] = [
            self.api.event(p.body, type_, reason, message, p.now) for type_, reason, message in p.events
        ]
        p.events.clear()
        return posts

    async def _post_events(self, p: _Pass) -> None:
        await asyncio.gather(*self._event_posts(p))
