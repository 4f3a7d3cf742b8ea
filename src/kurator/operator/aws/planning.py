"""``kurator cluster plan`` for an AWS ``Cluster``: the Cluster API and CAPA objects the operator would
create, change or delete for the edited file, each checked by a server-side dry run (the API server's
validation and Cluster API's and CAPA's webhooks speak first) and compared with what the cluster holds.
Nothing is written; Secret values are never shown (a changed credential says only that it changed)."""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from kurator.api.aws_cluster import Cluster
from kurator.api.resources import CLUSTER, SECRET
from kurator.core.errors import InvalidInput, KuratorError
from kurator.kube import docs as kube_docs
from kurator.kube.client import Client
from kurator.kube.errors import BadRequest, Forbidden, Invalid, NotFound
from kurator.lifecycle.aws import names as n
from kurator.lifecycle.aws import plan as aws_plan
from kurator.lifecycle.aws import render
from kurator.operator.aws.reconcile import FIELD_MANAGER

# What the API server adds or keeps that a plan does not compare.
IGNORED_META = ("managedFields", "resourceVersion", "generation", "creationTimestamp", "uid", "selfLink")


@dataclass(frozen=True)
class Change:
    action: str  # create | change | delete
    kind: str
    namespace: str
    name: str
    fields: tuple[str, ...] = ()


@dataclass
class AwsPlan:
    namespace: str
    name: str
    exists: bool
    changes: list[Change] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _comparable(doc: Mapping[str, Any]) -> dict[str, Any]:
    meta = {k: v for k, v in (doc.get("metadata") or {}).items() if k not in IGNORED_META}
    return {**{k: v for k, v in doc.items() if k not in ("status", "metadata")}, "metadata": meta}


def _paths(old: Any, new: Any, at: str = "") -> Iterator[str]:
    """The field paths where ``new`` differs from ``old``."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            yield from _paths(old.get(key), new.get(key), f"{at}.{key}" if at else str(key))
    elif old != new:
        yield at


def _credential(api: Client, namespace: str, cluster: Cluster) -> tuple[dict[str, str] | None, str | None]:
    if cluster.spec.credential is None:
        return None, None
    name = cluster.spec.credential.secret_ref
    secret = kube_docs.get(api, SECRET, namespace, name)
    if secret is None:
        return None, f"Secret {name} (credential.secretRef) does not exist in namespace {namespace}"
    data = {k: base64.b64decode(v).decode(errors="replace") for k, v in (secret.get("data") or {}).items()}
    if not (data.get("AccessKeyID") and data.get("SecretAccessKey")):
        return None, f"Secret {name} (credential.secretRef) lacks AccessKeyID or SecretAccessKey"
    return {k: v for k, v in data.items() if k in n.CREDENTIAL_KEYS}, None


def _dry_run(api: Client, doc: Mapping[str, Any]) -> dict[str, Any]:
    meta = doc["metadata"]
    try:
        return kube_docs.dry_run_apply_as(api, n.kind_of(doc), doc, FIELD_MANAGER)
    except NotFound:
        raise KuratorError(
            f"the API server does not serve {doc['kind']}s ({doc['apiVersion']})",
            "install Cluster API and CAPA (`kurator install cluster-api --infrastructure aws`) and the "
            "operator's CRDs (`kurator install cluster-operator`)",
        ) from None
    except (BadRequest, Invalid, Forbidden) as exc:
        raise InvalidInput(
            f"{doc['kind']} {meta.get('namespace', '')}/{meta.get('name')} would be refused: {exc.detail}"
        ) from None


def plan(api: Client, doc: dict[str, Any], capa_namespace: str = "capa-system") -> AwsPlan:
    """What the operator would do for the AWS Cluster ``doc`` (nothing is written)."""
    meta = doc["metadata"]
    namespace, name = str(meta["namespace"]), str(meta["name"])
    before = kube_docs.get(api, CLUSTER, namespace, name)
    after = _dry_run(api, doc)
    cluster = Cluster.model_validate(after)
    out = AwsPlan(namespace, name, before is not None)
    credential, problem = _credential(api, namespace, cluster)
    if problem:
        out.problems.append(f"{problem}: nothing would be made until it is fixed")
        return out
    kcp = kube_docs.get(api, n.KCP, namespace, n.control_plane(name))
    mds = kube_docs.list_all(api, n.MACHINE_DEPLOYMENT, namespace, {n.NAME_LABEL: name}) if before else []
    uid = str(((before or after).get("metadata") or {}).get("uid") or "uid-to-come")
    workers = aws_plan.worker_version(cluster.spec, kcp, mds)
    inputs = render.Inputs(namespace, name, uid, cluster.spec, capa_namespace, credential, workers)
    for want in render.objects(inputs):
        m = want["metadata"]
        live = kube_docs.get(api, n.kind_of(want), m.get("namespace", ""), m["name"])
        if live is not None and before is None:
            continue  # not the new Cluster's (a plan of a new Cluster does not take over what exists)
        result = _dry_run(api, want)  # the API server, Cluster API's and CAPA's webhooks speak first
        if live is None:
            out.changes.append(Change("create", want["kind"], m.get("namespace", ""), m["name"]))
            continue
        fields = tuple(_paths(_comparable(live), _comparable(result)))
        if want["kind"] == "Secret" and fields:
            fields = ("data (values not shown)",)
        if fields:
            out.changes.append(Change("change", want["kind"], m.get("namespace", ""), m["name"], fields))
    wanted = {d["metadata"]["name"] for d in render.objects(inputs) if d["kind"] == "MachineDeployment"}
    for md in mds:
        if md["metadata"]["name"] not in wanted:
            out.changes.append(Change("delete", "MachineDeployment", namespace, md["metadata"]["name"]))
    return out
