"""What the cluster operator would do with an edited CustomCluster or CustomMachine, before it is applied:
the same decision the operator makes (:func:`kurator.lifecycle.actions.next_action`), taken on the objects
as the API server would store them (a server-side dry run, so its validation speaks first), the status the
cluster has and the Jobs it has run. Nothing is written.

The operator checks hosts over SSH before a run; the plan assumes that check passes and says so (the check
itself needs the hosts, which ``kurator cluster plan`` does not log in to).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lightkube import Client, codecs
from lightkube.resources.batch_v1 import Job
from pydantic import ValidationError

from kurator.api.cluster import CustomCluster, CustomClusterStatus
from kurator.api.machine import CustomMachine
from kurator.core import inputs
from kurator.core.errors import InvalidInput, KuratorError
from kurator.kube import ops
from kurator.kube.client import FIELD_MANAGER
from kurator.kube.errors import BadRequest, Forbidden, Invalid, NotFound
from kurator.lifecycle import capi, preflight
from kurator.lifecycle.actions import Action, Kind, Policy, next_action
from kurator.lifecycle.jobs import PLAYBOOKS
from kurator.lifecycle.observed import CLUSTER_LABEL, ObservedJob, observe
from kurator.lifecycle.resources import CustomClusterResource, CustomMachineResource

KINDS = {"CustomCluster": CustomClusterResource, "CustomMachine": CustomMachineResource}
STEPS = 4  # preflight, then the run it is for: a decision never takes more


@dataclass(frozen=True)
class Step:
    kind: str
    reason: str
    message: str
    hosts: tuple[str, ...] = ()
    version: str | None = None
    job: str | None = None
    playbook: str | None = None


@dataclass(frozen=True)
class ClusterPlan:
    namespace: str
    name: str
    exists: bool
    """Whether the CustomCluster is in the API already (else the plan is its creation)."""
    changes: tuple[str, ...]
    """The spec fields the files change, ``CustomMachine/m1 spec.node`` and the like."""
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class _Passed:
    host: str
    ok: bool = True
    message: str = ""


def _step(action: Action) -> Step:
    playbook = PLAYBOOKS.get(action.kind) if action.job else None
    return Step(
        str(action.kind),
        action.reason,
        action.message,
        action.hosts,
        action.version,
        action.job,
        playbook,
    )


def steps(
    cluster: CustomCluster,
    machine: CustomMachine,
    status: CustomClusterStatus | None,
    observed: Sequence[ObservedJob],
    now: dt.datetime,
    policy: Policy,
) -> tuple[Step, ...]:
    """The operator's next decisions for these objects, a passing SSH preflight assumed."""
    out: list[Step] = []
    for _ in range(STEPS):
        action = next_action(cluster, machine, status, observed, now, policy)
        out.append(_step(action))
        if action.kind != Kind.PREFLIGHT:
            break
        generation = int(machine.metadata.get("generation", 0))
        status = preflight.fold(status, [_Passed(h) for h in action.hosts], generation, now)
    return tuple(out)


def read_documents(texts: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    """The CustomClusters and CustomMachines of ``(source, YAML text)`` pairs; anything else is refused."""
    out: list[dict[str, Any]] = []
    for source, text in texts:
        for doc in (d for d in inputs.load_yaml_all(text, source) if d):
            kind = doc.get("kind") if isinstance(doc, dict) else None
            if kind not in KINDS:
                raise InvalidInput(
                    f"{source} holds a {kind or 'document without a kind'}: only CustomCluster and "
                    "CustomMachine objects can be planned"
                )
            out.append(doc)
    if not any(d["kind"] == "CustomCluster" for d in out):
        raise InvalidInput("the files hold no CustomCluster: nothing to plan")
    return out


def _plain(obj: Any) -> dict[str, Any]:
    doc: dict[str, Any] = obj.to_dict()
    return doc


def _get(api: Client, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
    obj = ops.get_or_none(api, KINDS[kind], name, namespace)
    return None if obj is None else _plain(obj)


def _dry_run(api: Client, doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` as the API server would store it after ``kubectl apply --server-side`` (its schema and CEL
    rules checked, generation counted); a rejection is the API server's own words."""
    meta = doc["metadata"]
    try:
        obj = api.apply(codecs.from_dict(doc), field_manager=FIELD_MANAGER, force=True, dry_run=True)
    except NotFound:
        raise KuratorError(
            f"the API server does not serve {doc['kind']}s",
            "install the cluster operator's CRDs: `kurator install cluster-operator`",
        ) from None
    except (BadRequest, Invalid, Forbidden) as exc:
        raise InvalidInput(
            f"{doc['kind']} {meta.get('namespace')}/{meta.get('name')} would be refused: {exc.detail}"
        ) from None
    return _plain(obj)


def _spec_changes(
    kind: str, name: str, before: Mapping[str, Any] | None, after: Mapping[str, Any]
) -> list[str]:
    if before is None:
        return [f"{kind}/{name} created"]
    old, new = before.get("spec") or {}, after.get("spec") or {}
    return [f"{kind}/{name} spec.{k}" for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]


def _capi_given(api: Client, namespace: str, name: str) -> capi.Inherited:
    """What a Cluster API Cluster naming the CustomCluster as its infrastructure (and its
    KubeadmControlPlane) supplies, as the operator reads it."""
    from lightkube.generic_resource import create_namespaced_resource

    found: dict[str, list[dict[str, Any]]] = {}
    for group, kind, plural, version in capi.SERVED:
        if kind in found:
            continue
        with contextlib.suppress(NotFound):  # not installed, or not in this version
            listed = api.list(create_namespaced_resource(group, version, kind, plural), namespace=namespace)
            found[kind] = [_plain(o) for o in listed]
    clusters = [capi.read_cluster(d) for d in found.get("Cluster", [])]
    versions = {
        (namespace, str(d["metadata"]["name"])): capi.kcp_version(d) for d in found.get(capi.KCP_KIND, [])
    }
    return capi.inherited(*capi.supplier(clusters, versions, namespace, name))


def _jobs_of(api: Client, namespace: str, name: str, uid: str) -> list[ObservedJob]:
    out = []
    for job in api.list(Job, namespace=namespace, labels={CLUSTER_LABEL: name}):
        doc = job.to_dict()
        owners = [
            o.get("uid")
            for o in doc["metadata"].get("ownerReferences") or ()
            if o.get("kind") == "CustomCluster"
        ]
        if owners and owners[0] != uid:  # an earlier cluster of the same name, waiting for the collector
            continue
        try:
            out.append(observe(doc))
        except (KeyError, ValueError):  # labelled by hand, not one of the operator's runs
            continue
    return out


Docs = dict[tuple[str, str, str], dict[str, Any]]


def plan(
    api: Client,
    docs: Sequence[dict[str, Any]],
    default_namespace: str,
    policy: Policy = Policy(),
    now: dt.datetime | None = None,
) -> list[ClusterPlan]:
    """A plan per CustomCluster of ``docs`` (CustomMachines of ``docs`` replace the API's for it)."""
    now = now or dt.datetime.now(dt.UTC)
    for doc in docs:
        doc.setdefault("metadata", {}).setdefault("namespace", default_namespace)
    given: Docs = {(d["kind"], d["metadata"]["namespace"], str(d["metadata"].get("name"))): d for d in docs}
    return [
        _plan_cluster(api, given, namespace, name, policy, now)
        for kind, namespace, name in given
        if kind == "CustomCluster"
    ]


def _plan_cluster(
    api: Client, given: Docs, namespace: str, name: str, policy: Policy, now: dt.datetime
) -> ClusterPlan:
    before = _get(api, "CustomCluster", namespace, name)
    after = _dry_run(api, given[("CustomCluster", namespace, name)])
    changes = _spec_changes("CustomCluster", name, before, after)
    ref = str(((after.get("spec") or {}).get("machineRef") or {}).get("name") or "")
    machine_before = _get(api, "CustomMachine", namespace, ref)
    edited = given.get(("CustomMachine", namespace, ref))
    machine_after = _dry_run(api, edited) if edited is not None else machine_before
    if machine_after is None:
        raise InvalidInput(
            f"CustomCluster {namespace}/{name} names CustomMachine {ref}, which is neither in the API "
            "nor in the files"
        )
    if edited is not None:
        changes += _spec_changes("CustomMachine", ref, machine_before, machine_after)
    try:
        cluster = CustomCluster.model_validate({**after, "status": (before or {}).get("status")})
        machine = CustomMachine.model_validate(machine_after)
    except ValidationError as exc:
        raise InvalidInput(f"CustomCluster {namespace}/{name} cannot be read: {exc}") from None
    cluster, problems = capi.effective(cluster, _capi_given(api, namespace, name))
    if problems:
        found: tuple[Step, ...] = (Step("none", "ClusterAPIValuesInvalid", "; ".join(problems)),)
    else:
        uid = str((before or {}).get("metadata", {}).get("uid", ""))
        observed = _jobs_of(api, namespace, name, uid) if before is not None else []
        found = steps(cluster, machine, cluster.status, observed, now, policy)
    return ClusterPlan(namespace, name, before is not None, tuple(changes), found)
