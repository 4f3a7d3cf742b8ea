"""One idempotent reconcile of an AWS ``Cluster``: its credentials checked, its Cluster API and CAPA objects
applied (server-side apply: the same objects again change nothing), pools taken out of the spec deleted,
its status folded from what Cluster API and CAPA report, the fleet joined once its API server answers.

On deletion: the fleet left, Cluster API's Cluster deleted and waited for (CAPA deletes every AWS resource
it made), a VPC CAPA made for the cluster but left deleted (leftovers.py), then the identity and the
credentials' copy, then the finalizer. While CAPA cannot go on (refused credentials, a region that answers
errors), the ``Deleting`` condition says so in CAPA's words; ``kurator.dev/force-delete: "true"`` stops the
waiting, and an Event lists what may remain on AWS.

Credentials go from the user's Secret into the copy CAPA reads and into that check for leftovers, nowhere
else: never into a log line, an Event, a status message or an error."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from kurator.api.aws_cluster import Cluster
from kurator.api.resources import CLUSTER, SECRET
from kurator.core.errors import KuratorError
from kurator.kube.errors import NotFound
from kurator.lifecycle.aws import names as n
from kurator.lifecycle.aws import plan, render, status
from kurator.operator.aws import leftovers
from kurator.operator.aws.view import Children, View
from kurator.operator.provider import Key, Services
from kurator.operator.retry import after_failure

log = logging.getLogger("kurator.operator.aws")

FIELD_MANAGER = "kurator-operator"
RECHECK = 15.0  # seconds: CAPA's progress arrives as events; this is the safety net
DELETING_RECHECK = 5.0
SWEEP_DEADLINE = 90.0  # seconds for the whole leftover check (one bounded listing, two calls per VPC found)
NOT_CHECKED = "could not check AWS for a VPC left by Cluster API Provider AWS"
Obj = Mapping[str, Any]


class Reconciler:
    def __init__(self, view: View, services: Services) -> None:
        self.view, self.api, self.fleets = view, services.api, services.fleets
        self.settings, self.metrics = services.settings, services.metrics
        self.applied: dict[Key, str] = {}  # digest of what was last applied, per cluster

    async def __call__(self, key: Key) -> float | None:
        """One reconcile; an error is logged and tried again later, never let out (an exception escaping a
        reconcile stops every worker of the operator)."""
        started = time.monotonic()
        result, again = "ok", None
        try:
            again = await self._reconcile(key)
        except Exception as exc:
            result, again = after_failure(key, exc, log)
        self.metrics.reconciled(result, time.monotonic() - started)
        return again

    async def _reconcile(self, key: Key) -> float | None:
        body = self.view.clusters.get(key)
        if body is None:
            self.applied.pop(key, None)
            return None
        try:
            cluster = Cluster.model_validate(body)
        except ValidationError as exc:  # the API server checked it: only an older CRD lets one through
            log.warning("Cluster %s/%s does not parse (%d problems)", *key, exc.error_count())
            return None
        kids = self.view.children.get(key) or Children()
        if body["metadata"].get("deletionTimestamp"):
            return await self._delete(key, body, cluster, kids)
        await self.api.set_finalizer(CLUSTER, body, plan.FINALIZER, True)
        credential, problem = await self._credential(key[0], cluster)
        kcp = kids.one("KubeadmControlPlane", n.control_plane(key[1]))
        mds = kids.all("MachineDeployment")
        if problem is None:
            inputs = render.Inputs(
                key[0],
                key[1],
                str(body["metadata"]["uid"]),
                cluster.spec,
                self.settings.capa_namespace,
                credential,
                plan.worker_version(cluster.spec, kcp, mds),
            )
            await self._apply(key, render.objects(inputs), mds)
        kubeconfig = await self.api.secret_value(key[0], n.kubeconfig_secret(key[1]), "value")
        joined, fleet_problem = await self._fleet(key, body, cluster, kubeconfig)
        seen = status.Observed(
            capi_cluster=kids.one("Cluster", key[1]),
            aws_cluster=kids.one("AWSCluster", key[1]),
            control_plane=kcp,
            deployments=tuple(mds),
            machines=tuple(kids.all("Machine")),
            kubeconfig=kubeconfig is not None,
            credential_problem=problem,
            fleet_joined=joined,
            fleet_problem=fleet_problem,
            upgrading=plan.upgrading(cluster.spec, kcp),
            made=problem is None,
        )
        phase = await self._status(key, body, cluster, seen)
        return None if phase == "Provisioned" else RECHECK

    async def _credential(self, namespace: str, cluster: Cluster) -> tuple[dict[str, str] | None, str | None]:
        """The credential Secret's keys, or why it cannot be used (it names keys, never values)."""
        if cluster.spec.credential is None:
            return None, None
        return await self._keys(namespace, cluster.spec.credential.secret_ref, "credential.secretRef")

    async def _keys(self, namespace: str, name: str, what: str) -> tuple[dict[str, str] | None, str | None]:
        secret = await self.api.get(SECRET, namespace, name)
        if secret is None:
            return None, f"Secret {name} ({what}) does not exist in namespace {namespace}"
        data = {
            k: base64.b64decode(v).decode(errors="replace") for k, v in (secret.get("data") or {}).items()
        }
        missing = [k for k in ("AccessKeyID", "SecretAccessKey") if not data.get(k)]
        if missing:
            return None, f"Secret {name} ({what}) has no {' and no '.join(missing)}"
        return {k: v for k, v in data.items() if k in n.CREDENTIAL_KEYS}, None

    async def _apply(self, key: Key, docs: list[dict[str, Any]], mds: list[Obj]) -> None:
        digest = n.digest(docs)
        if self.applied.get(key) != digest:
            for doc in docs:
                await self.api.apply(doc, n.kind_of(doc), FIELD_MANAGER)
            self.applied[key] = digest
        wanted = {d["metadata"]["name"] for d in docs if d["kind"] == "MachineDeployment"}
        for md in mds:  # a pool taken out of the spec
            if md["metadata"]["name"] not in wanted:
                await self.api.delete(n.MACHINE_DEPLOYMENT, key[0], md["metadata"]["name"])

    async def _fleet(
        self, key: Key, body: Obj, cluster: Cluster, kubeconfig: bytes | None
    ) -> tuple[str | None, str | None]:
        """(the fleet joined, why not yet): joined once the cluster's API server answers."""
        have = (body.get("status") or {}).get("fleet")
        want = cluster.spec.fleet
        if have and have != want:
            said = await self.fleets.leave(have, key[1])
            await self.api.event(body, "Normal", "LeftFleet", said, dt.datetime.now(dt.UTC))
            have = None
        if not want or have == want:
            return have, None
        if kubeconfig is None:
            return None, f"joins fleet {want} once Cluster API has written its kubeconfig"
        try:
            await self.fleets.join(want, key[1], kubeconfig.decode())
        except KuratorError as exc:
            return None, f"joining fleet {want}: {exc.message}"
        await self.api.event(body, "Normal", "JoinedFleet", f"joined fleet {want}", dt.datetime.now(dt.UTC))
        return want, None

    async def _status(self, key: Key, body: Obj, cluster: Cluster, seen: status.Observed) -> str | None:
        new = status.keep_times(cluster.status, status.fold(cluster, seen, dt.datetime.now(dt.UTC)))
        doc = new.model_dump(mode="json", by_alias=True, exclude_none=True)
        if doc != (body.get("status") or {}):
            await self.api.merge_patch(CLUSTER, key[0], key[1], {"status": doc}, status=True)
        return new.phase

    async def _delete(self, key: Key, body: Obj, cluster: Cluster, kids: Children) -> float | None:
        if not (body["metadata"].get("finalizers") or []).count(plan.FINALIZER):
            return None
        joined = (body.get("status") or {}).get("fleet")
        if joined:
            said = await self.fleets.leave(joined, key[1])
            await self.api.event(body, "Normal", "LeftFleet", said, dt.datetime.now(dt.UTC))
            # Said once: the status's fleet is cleared (a merge patch of a status without it would keep it,
            # and every pass while CAPA deletes would leave again: "was not in the fleet" every 5 s).
            await self.api.merge_patch(CLUSTER, key[0], key[1], {"status": {"fleet": None}}, status=True)
        forced = (body["metadata"].get("annotations") or {}).get(plan.FORCE_DELETE) == "true"
        if await self.api.get(n.CAPI_CLUSTER, key[0], key[1]) is not None:
            await self.api.delete(n.CAPI_CLUSTER, key[0], key[1])
            if not forced:
                aws = kids.one("AWSCluster", key[1])
                blocker = status.blocker(aws, kids.all("AWSMachine"))
                seen = status.Observed(
                    capi_cluster=kids.one("Cluster", key[1]), aws_cluster=aws, deletion_blocker=blocker
                )
                await self._status(key, body, cluster, seen)
                return DELETING_RECHECK
            await self._force(body, kids, key)
        else:
            await self._sweep(key, body, cluster)
        identity = n.identity(key[0], key[1])
        await self.api.delete(SECRET, self.settings.capa_namespace, identity)
        await self.api.delete_cluster_scoped(n.STATIC_IDENTITY, identity)
        await self.api.set_finalizer(CLUSTER, body, plan.FINALIZER, False)
        self.applied.pop(key, None)
        return None

    async def _sweep(self, key: Key, body: Obj, cluster: Cluster) -> None:
        """CAPA is done: a VPC it made for the cluster and left is deleted (operator/aws/leftovers.py), and
        said in an Event. A sweep that cannot run is said too, and the deletion goes on: it never hangs."""
        if cluster.spec.credential is None:  # CAPA's own credentials made it: not the operator's to use
            return
        credential, problem = await self._credential(key[0], cluster)
        if credential is None:  # the user's Secret went first (one `kubectl delete -f`): CAPA's copy is left
            identity = n.identity(key[0], key[1])
            credential, _ = await self._keys(self.settings.capa_namespace, identity, "CAPA's copy")
        if credential is None:
            said = f"{NOT_CHECKED}: {problem}"
            await self.api.event(body, "Warning", "LeftoversNotChecked", said, dt.datetime.now(dt.UTC))
            return
        now = dt.datetime.now(dt.UTC)
        try:
            swept = await asyncio.wait_for(
                asyncio.to_thread(leftovers.sweep_vpcs, key[1], cluster.spec.region, credential),
                SWEEP_DEADLINE,
            )
        except Exception as exc:  # botocore's messages may quote the request: only its kind is said
            said = f"{NOT_CHECKED} ({type(exc).__name__})"
            await self.api.event(body, "Warning", "LeftoversNotChecked", said, now)
            return
        if swept.deleted:
            made = ", ".join(swept.deleted)
            said = f"deleted what Cluster API Provider AWS made for this cluster and left: {made}"
            await self.api.event(body, "Warning", "LeftoversDeleted", said, now)
        if swept.kept:
            said = f"may remain on AWS: {'; '.join(swept.kept)}"
            await self.api.event(body, "Warning", "LeftOnAWS", said, now)

    async def _force(self, body: Obj, kids: Children, key: Key) -> None:
        """Stop waiting for CAPA: the finalizers of the cluster's Cluster API and CAPA objects go (so they are
        deleted at once), and an Event lists what may remain on AWS."""
        left = plan.leftovers(kids.one("AWSCluster", key[1]), kids.all("AWSMachine"))
        message = f"deleted without waiting for CAPA; may remain on AWS: {left.describe()}"
        await self.api.event(body, "Warning", "ForceDeleted", message, dt.datetime.now(dt.UTC))
        # A copy: each object whose finalizers go is deleted, and its DELETED event (taken in while this
        # awaits) changes the view's dicts under the loop.
        held = [o for objs in kids.by_kind.values() for o in objs.values() if o["metadata"].get("finalizers")]
        for obj in held:
            patch = {"metadata": {"finalizers": None}}
            with contextlib.suppress(NotFound):  # gone meanwhile
                await self.api.merge_patch(n.kind_of(obj), key[0], str(obj["metadata"]["name"]), patch)
