"""``kurator cluster plan``'s reads: the CustomClusters and CustomMachines of the files as the API server
would store them (a server-side dry run, so its validation speaks first), what the API has of them, what
Cluster API supplies and the Jobs the operator ran; the plan itself is :mod:`kurator.lifecycle.plan`'s.
Nothing is written."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Sequence
from typing import Any

from kurator.api.resources import CUSTOM_CLUSTER, CUSTOM_MACHINE, JOB
from kurator.core.errors import InvalidInput, KuratorError
from kurator.kube import docs as kube_docs
from kurator.kube.client import Client
from kurator.kube.errors import BadRequest, Forbidden, Invalid, NotFound
from kurator.lifecycle import capi
from kurator.lifecycle.actions import Policy
from kurator.lifecycle.observed import CLUSTER_LABEL
from kurator.lifecycle.plan import ClusterPlan, Found, cluster_plan, jobs_of

RESOURCES = {k.kind: k for k in (CUSTOM_CLUSTER, CUSTOM_MACHINE)}


def _get(api: Client, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
    return kube_docs.get(api, RESOURCES[kind], namespace, name)


def _dry_run(api: Client, doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` as the API server would store it after ``kubectl apply --server-side`` (its schema and CEL
    rules checked, generation counted); a rejection is the API server's own words."""
    meta = doc["metadata"]
    try:
        return kube_docs.dry_run_apply(api, RESOURCES[doc["kind"]], doc)
    except NotFound:
        raise KuratorError(
            f"the API server does not serve {doc['kind']}s",
            "install the cluster operator's CRDs: `kurator install cluster-operator`",
        ) from None
    except (BadRequest, Invalid, Forbidden) as exc:
        raise InvalidInput(
            f"{doc['kind']} {meta.get('namespace')}/{meta.get('name')} would be refused: {exc.detail}"
        ) from None


def _capi_given(api: Client, namespace: str, name: str) -> capi.Inherited:
    """What a Cluster API Cluster naming the CustomCluster as its infrastructure (and its
    KubeadmControlPlane) supplies, as the operator reads it."""
    found: dict[str, list[dict[str, Any]]] = {}
    for kind in capi.SERVED:
        if kind.kind in found:
            continue
        with contextlib.suppress(NotFound):  # not installed, or not in this version
            found[kind.kind] = kube_docs.list_all(api, kind, namespace)
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
        observed = jobs_of(kube_docs.list_all(api, JOB, namespace, {CLUSTER_LABEL: name}), uid)
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
