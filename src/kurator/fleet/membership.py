"""Join and unjoin member clusters (push mode) and list the fleet's clusters.

Join gives Karmada its own credentials in the member — a ServiceAccount with a token, bound to a
ClusterRole that may manage anything (Karmada must create whatever it propagates) — and registers the
member as a ``Cluster`` on Karmada's API server with that token and the member's CA. Every object join
makes carries the label ``kurator.dev/member=<name>`` so unjoin removes exactly those.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kurator.core.errors import InvalidInput, KuratorError, shown
from kurator.fleet import heartbeat
from kurator.fleet.memberconfig import MemberKubeconfig, member_client
from kurator.kube import client as kube_client
from kurator.kube import ops, wait
from kurator.kube.client import Client
from kurator.kube.errors import KubeError, NotFound
from kurator.kube.karmada import CLUSTER_NAMESPACE, Cluster, Work, execution_namespace
from kurator.kube.resources import (
    ClusterRole,
    ClusterRoleBinding,
    Namespace,
    ObjectMeta,
    OwnerReference,
    PatchType,
    PolicyRule,
    RoleRef,
    Secret,
    ServiceAccount,
    Subject,
)

NAME_RE = re.compile(r"[a-z0-9]([-a-z0-9]{0,46}[a-z0-9])?")
MEMBER_LABEL = "kurator.dev/member"
MANAGED = {"app.kubernetes.io/managed-by": "kurator"}


@dataclass(frozen=True)
class ClusterInfo:
    name: str
    version: str | None
    mode: str
    ready: bool
    nodes_ready: int | None
    nodes_total: int | None
    created: dt.datetime | None
    endpoint: str
    status_updated: dt.datetime | None = None
    """When Karmada last wrote the status shown (see kurator.fleet.heartbeat)."""


def validate_name(name: str) -> str:
    if not NAME_RE.fullmatch(name):
        raise InvalidInput(
            f"cluster name {shown(name)} is not valid",
            "use up to 48 lower-case letters, digits and '-', starting and ending with a letter or digit",
        )
    return name


def _labels(name: str) -> dict[str, str]:
    return {**MANAGED, MEMBER_LABEL: name, "karmada.io/system": "true"}


def _sa_name(name: str) -> str:
    return f"karmada-{name}"


def _impersonator(name: str) -> str:
    return f"{name}-impersonator"


def _role_name(name: str) -> str:
    return f"karmada-controller-manager:karmada-{name}"


def _check_member_answers(api: Client, ctx: str) -> str:
    """The member's kube-system namespace UID: Karmada's cluster ID, and proof that the member answers."""
    try:
        return str(api.get(Namespace, "kube-system").metadata.uid)  # type: ignore[union-attr]
    except KubeError as exc:
        raise KuratorError(
            f"the member cluster (context {ctx!r}) cannot be used: {exc.message}", exc.hint
        ) from None


def _wait_token(api: Client, name: str, timeout: float) -> str:
    def token() -> str | None:
        secret = api.get(Secret, name, namespace=CLUSTER_NAMESPACE)
        return str(secret.data["token"]) if secret.data and secret.data.get("token") else None

    return wait.until(
        token,
        timeout=timeout,
        what=f"the member to fill the token of Secret {CLUSTER_NAMESPACE}/{name}",
        hint="the member's controller manager (its token controller) may not be running",
    )


def join(
    karmada: Client,
    name: str,
    cluster_kubeconfig: Path | MemberKubeconfig,
    cluster_context: str | None = None,
    timeout: float = 30.0,
) -> ClusterInfo:
    """Register a member in push mode (its kubeconfig a file, or held in memory); every check runs before
    anything is written."""
    validate_name(name)
    config = (
        MemberKubeconfig.read(cluster_kubeconfig)
        if isinstance(cluster_kubeconfig, Path)
        else cluster_kubeconfig
    )
    member, cluster_entry, ctx = member_client(config, cluster_context, timeout=min(timeout, 10.0))
    try:
        karmada.get(Cluster, name)
    except NotFound:
        pass
    else:
        raise InvalidInput(
            f"a cluster named {name!r} is already joined", "unjoin it first or pick another name"
        )
    cluster_id = _check_member_answers(member, ctx)
    ca = config.ca_bundle(cluster_entry)
    endpoint = str(cluster_entry["server"])
    token_b64 = _member_access(member, name, timeout)
    _register(karmada, name, token_b64, ca, endpoint, cluster_id)
    return _info(karmada.get(Cluster, name))


def _member_access(member: Client, name: str, timeout: float) -> str:
    """What Karmada reaches the member with: a ServiceAccount bound to a ClusterRole that owns it all;
    returns its token (base64, as the Secret holds it)."""
    labels = _labels(name)
    sa = _sa_name(name)
    _ensure(
        member, Namespace(metadata=ObjectMeta(name=CLUSTER_NAMESPACE, labels={"karmada.io/system": "true"}))
    )
    # The ClusterRole owns everything else join makes in the member, so that unjoin deletes just the role
    # (while its binding still authorises the request) and the member's garbage collector does the rest:
    # the token could not delete its own binding, ServiceAccount or Secret and still be valid afterwards.
    _ensure(
        member,
        ClusterRole(
            metadata=ObjectMeta(name=_role_name(name), labels=labels),
            rules=[
                PolicyRule(apiGroups=["*"], resources=["*"], verbs=["*"]),
                PolicyRule(nonResourceURLs=["*"], verbs=["get"]),
            ],
        ),
    )
    role = member.get(ClusterRole, _role_name(name))
    owner = [
        OwnerReference(
            apiVersion="rbac.authorization.k8s.io/v1",
            kind="ClusterRole",
            name=_role_name(name),
            uid=str(role.metadata.uid if role.metadata else ""),
        )
    ]

    def meta(obj_name: str, namespace: str | None = None, **extra: Any) -> ObjectMeta:
        return ObjectMeta(name=obj_name, namespace=namespace, labels=labels, ownerReferences=owner, **extra)

    _ensure(member, ServiceAccount(metadata=meta(sa, CLUSTER_NAMESPACE)))
    _ensure(
        member,
        Secret(
            metadata=meta(sa, CLUSTER_NAMESPACE, annotations={"kubernetes.io/service-account.name": sa}),
            type="kubernetes.io/service-account-token",
        ),
    )
    _ensure(
        member,
        ClusterRoleBinding(
            metadata=meta(_role_name(name)),
            roleRef=RoleRef(apiGroup="rbac.authorization.k8s.io", kind="ClusterRole", name=_role_name(name)),
            subjects=[Subject(kind="ServiceAccount", name=sa, namespace=CLUSTER_NAMESPACE)],
        ),
    )
    return _wait_token(member, sa, timeout)


def _register(
    karmada: Client, name: str, token_b64: str, ca: str | None, endpoint: str, cluster_id: str
) -> None:
    """The member's Secrets and its Cluster in Karmada (push mode)."""
    labels = _labels(name)
    _ensure(karmada, Namespace(metadata=ObjectMeta(name=CLUSTER_NAMESPACE)))
    data = {"token": token_b64}
    if ca:
        data["caBundle"] = ca
    _ensure(
        karmada, Secret(metadata=ObjectMeta(name=name, namespace=CLUSTER_NAMESPACE, labels=labels), data=data)
    )
    # Karmada's cluster proxy (which the install engine reads members through) impersonates the caller in
    # the member with this token; Karmada's own ServiceAccount may impersonate, so the same token serves.
    _ensure(
        karmada,
        Secret(
            metadata=ObjectMeta(name=_impersonator(name), namespace=CLUSTER_NAMESPACE, labels=labels),
            data={"token": token_b64},
        ),
    )
    spec: dict[str, Any] = {
        "syncMode": "Push",
        "apiEndpoint": endpoint,
        "id": cluster_id,
        "secretRef": {"namespace": CLUSTER_NAMESPACE, "name": name},
        "impersonatorSecretRef": {"namespace": CLUSTER_NAMESPACE, "name": _impersonator(name)},
        "insecureSkipTLSVerification": ca is None,
    }
    karmada.create(Cluster(metadata=ObjectMeta(name=name, labels=dict(MANAGED)), spec=spec))


def _ensure(api: Client, obj: Any) -> None:
    """Create ``obj``; one already there is kept (a re-run, or a member joined before)."""
    ops.create_if_absent(api, obj)


def _ready(obj: Any) -> bool:
    conditions = (obj.status or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _info(obj: Any) -> ClusterInfo:
    status = obj.status or {}
    nodes = status.get("nodeSummary") or {}
    created = obj.metadata.creationTimestamp
    return ClusterInfo(
        name=obj.metadata.name,
        version=status.get("kubernetesVersion"),
        mode=obj.spec.get("syncMode", "Push"),
        ready=_ready(obj),
        nodes_ready=nodes.get("readyNum"),
        nodes_total=nodes.get("totalNum"),
        created=created,
        endpoint=obj.spec.get("apiEndpoint", ""),
        status_updated=heartbeat.status_updated(obj.to_dict()),
    )


def list_clusters(karmada: Client) -> list[ClusterInfo]:
    return sorted((_info(c) for c in karmada.list(Cluster)), key=lambda c: c.name)


def wait_ready(karmada: Client, name: str, timeout: float) -> ClusterInfo:
    """The member's Cluster once Karmada says it is Ready, or as it is after ``timeout``."""
    last: list[ClusterInfo] = []

    def ready() -> ClusterInfo | None:
        last.append(_info(karmada.get(Cluster, name)))
        return last[-1] if last[-1].ready else None

    try:
        return wait.until(ready, timeout=timeout, what=f"cluster {name!r} to be Ready")
    except wait.WaitTimeout:
        return last[-1] if last else _info(karmada.get(Cluster, name))


@dataclass
class UnjoinResult:
    forced: bool
    member_cleaned: bool
    member_error: str | None


def _member_from_karmada(karmada: Client, obj: Any, timeout: float) -> Client:
    """A client for the member built from what Karmada holds (its endpoint, token and CA)."""
    ref = obj.spec.get("secretRef") or {}
    secret = karmada.get(
        Secret, ref.get("name", obj.metadata.name), namespace=ref.get("namespace", CLUSTER_NAMESPACE)
    )
    data = secret.data or {}
    token = base64.b64decode(data.get("token", "")).decode()
    cluster: dict[str, Any] = {"server": obj.spec["apiEndpoint"]}
    if data.get("caBundle"):
        cluster["certificate-authority-data"] = data["caBundle"]
    else:
        cluster["insecure-skip-tls-verify"] = True
    config = {
        "clusters": [{"name": "m", "cluster": cluster}],
        "users": [{"name": "m", "user": {"token": token}}],
        "contexts": [{"name": "m", "context": {"cluster": "m", "user": "m"}}],
        "current-context": "m",
    }
    return kube_client.from_kubeconfig(
        config, timeout=timeout, source=f"Karmada's credentials for {obj.metadata.name}"
    )


def _clean_member(member: Client, name: str) -> None:
    """Delete the ClusterRole that owns the rest (see ``join``); the member's garbage collector removes
    the binding, the ServiceAccount and its token."""
    ops.delete_if_present(member, ClusterRole, _role_name(name))


def unjoin(karmada: Client, name: str, timeout: float = 60.0, force: bool = False) -> UnjoinResult:
    """Remove a member: Karmada's record (after Karmada withdrew what it propagated there), the
    credentials join made in the member, and the member's Secret on Karmada. Never waits past ``timeout``:
    without ``force`` a member that cannot be cleaned is an error naming what blocks."""
    validate_name(name)
    try:
        obj = karmada.get(Cluster, name)
    except NotFound:
        raise KuratorError(f"no cluster named {name!r} is joined") from None
    member = _member_from_karmada(karmada, obj, timeout=min(5.0, timeout))
    member_error = None
    try:
        member.get(Namespace, "kube-system")
    except KubeError as exc:
        member_error = f"the member does not answer ({exc.message})"
    if member_error and not force:
        raise KuratorError(
            f"cannot unjoin {name!r}: {member_error}, so what Karmada propagated there cannot be withdrawn",
            "bring the member back, or pass --force to forget it and leave its objects behind",
        )
    karmada.delete(Cluster, name)
    # An unreachable member never confirms that its Works are gone: with --force, stop waiting at once.
    forced = True if force and member_error else not _left(karmada, name, timeout, force)
    if forced:
        _drop_finalizers(karmada, name)
        _left(karmada, name, max(10.0, timeout), force=False)
    cleaned = False
    if member_error is None:
        try:
            _clean_member(member, name)
            cleaned = True
        except KubeError as exc:
            member_error = f"could not remove kurator's credentials from the member: {exc.message}"
    for secret in (name, _impersonator(name)):
        ops.delete_if_present(karmada, Secret, secret, namespace=CLUSTER_NAMESPACE)
    return UnjoinResult(forced=forced, member_cleaned=cleaned, member_error=member_error)


def _left(karmada: Client, name: str, timeout: float, force: bool) -> bool:
    """Wait until Karmada has removed the Cluster; False when it is still there after ``timeout`` and
    ``force`` allows giving up on it (without ``force`` that is an error naming the finalizers)."""
    held: list[str] = []

    def gone() -> bool:
        try:
            current = karmada.get(Cluster, name)
        except NotFound:
            return True
        held[:] = (current.metadata.finalizers if current.metadata else None) or []
        return False

    try:
        wait.until(gone, timeout=timeout, what=f"cluster {name!r} to leave the fleet")
    except wait.WaitTimeout:
        if force:
            return False
        raise KuratorError(
            f"cluster {name!r} did not finish leaving within {timeout:.0f}s "
            f"(still held by finalizers {held})",
            "run unjoin again, or with --force to stop waiting for the member",
        ) from None
    return True


def _drop_finalizers(karmada: Client, name: str) -> None:
    """Force: stop waiting for an unreachable member. Works it can no longer receive lose their finalizers,
    then the Cluster does."""
    ns = execution_namespace(name)
    patch = {"metadata": {"finalizers": None}}
    try:
        for work in karmada.list(Work, namespace=ns):
            if work.metadata and work.metadata.name:
                karmada.patch(Work, work.metadata.name, patch, namespace=ns, patch_type=PatchType.MERGE)
        karmada.patch(Cluster, name, patch, patch_type=PatchType.MERGE)
    except NotFound:
        pass  # gone meanwhile
