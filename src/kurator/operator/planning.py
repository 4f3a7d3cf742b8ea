"""``kurator cluster plan``'s reads: the CustomClusters and CustomMachines of the files as the API server
would store them (a server-side dry run, so its validation speaks first), what the API has of them, what
Cluster API supplies and the Jobs the operator ran; the plan itself is :mod:`kurator.lifecycle.plan`'s.
Nothing is written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import httpx2
from lightkube import ApiError, Client, codecs
from lightkube.resources.batch_v1 import Job

from kurator.api.resources import CUSTOM_CLUSTER, CUSTOM_MACHINE
from kurator.core.errors import InvalidInput, KuratorError
from kurator.kube.client import FIELD_MANAGER
from kurator.kube.errors import not_found
from kurator.kube.resources import namespaced
from kurator.lifecycle import capi
from kurator.lifecycle.actions import Policy
from kurator.lifecycle.observed import CLUSTER_LABEL
from kurator.lifecycle.plan import ClusterPlan, Found, cluster_plan, jobs_of

RESOURCES = {k.kind: k for k in (CUSTOM_CLUSTER, CUSTOM_MACHINE)}


def _plain(obj: Any) -> dict[str, Any]:
    doc: dict[str, Any] = obj.to_dict()
    return doc


def _get(api: Client, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
    try:
        obj = api.get(namespaced(RESOURCES[kind]), name, namespace=namespace)
    except (ApiError, httpx2.HTTPStatusError) as exc:
        if not_found(exc):
            return None
        raise
    return _plain(obj)


def _dry_run(api: Client, doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` as the API server would store it after ``kubectl apply --server-side`` (its schema and CEL
    rules checked, generation counted); a rejection is the API server's own words."""
    meta = doc["metadata"]
    namespaced(RESOURCES[doc["kind"]])  # known to codecs from now on
    try:
        obj = api.apply(codecs.from_dict(doc), field_manager=FIELD_MANAGER, force=True, dry_run=True)
    except ApiError as exc:
        if not_found(exc):
            raise KuratorError(
                f"the API server does not serve {doc['kind']}s",
                "install the cluster operator's CRDs: `kurator install cluster-operator`",
            ) from None
        raise InvalidInput(
            f"{doc['kind']} {meta.get('namespace')}/{meta.get('name')} would be refused: {exc.status.message}"
        ) from None
    return _plain(obj)


def _capi_given(api: Client, namespace: str, name: str) -> capi.Inherited:
    """What a Cluster API Cluster naming the CustomCluster as its infrastructure (and its
    KubeadmControlPlane) supplies, as the operator reads it."""
    found: dict[str, list[dict[str, Any]]] = {}
    for kind in capi.SERVED:
        if kind.kind in found:
            continue
        try:
            found[kind.kind] = [_plain(o) for o in api.list(namespaced(kind), namespace=namespace)]
        except (ApiError, httpx2.HTTPStatusError) as exc:
            if not not_found(exc):  # not installed, or not in this version
                raise
    clusters = [capi.read_cluster(d) for d in found.get("Cluster", [])]
    versions = {
        (namespace, str(d["metadata"]["name"])): capi.kcp_version(d) for d in found.get(capi.KCP_KIND, [])
    }
    return capi.inherited(*capi.supplier(clusters, versions, namespace, name))


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
        cluster_plan(_read(api, given, namespace, name), policy, now)
        for kind, namespace, name in given
        if kind == "CustomCluster"
    ]


def _read(api: Client, given: Docs, namespace: str, name: str) -> Found:
    before = _get(api, "CustomCluster", namespace, name)
    after = _dry_run(api, given[("CustomCluster", namespace, name)])
    ref = str(((after.get("spec") or {}).get("machineRef") or {}).get("name") or "")
    machine_before = _get(api, "CustomMachine", namespace, ref)
    edited = given.get(("CustomMachine", namespace, ref))
    machine_after = _dry_run(api, edited) if edited is not None else machine_before
    if machine_after is None:
        raise InvalidInput(
            f"CustomCluster {namespace}/{name} names CustomMachine {ref}, which is neither in the API "
            "nor in the files"
        )
    observed = []
    if before is not None:
        uid = str(before.get("metadata", {}).get("uid", ""))
        listed = api.list(Job, namespace=namespace, labels={CLUSTER_LABEL: name})
        observed = jobs_of((_plain(j) for j in listed), uid)
    return Found(
        namespace,
        name,
        before,
        after,
        machine_before,
        machine_after,
        edited is not None,
        _capi_given(api, namespace, name),
        observed,
    )
