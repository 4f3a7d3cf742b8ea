"""A provider as ``kurator install cluster-api`` puts it on a host cluster, without cert-manager: the
release's CRDs and webhook configurations (completed, pointing at the provider's webhook Service with the CA
of the certificate kurator made), the release's RBAC rules, and what its kustomize overlay would add around
them, named as a clusterctl install names them: the namespace, ServiceAccount, bindings, the webhook Service,
the Secret with the webhook's certificate and the manager's Deployment (the release's image and
arguments, leader election on)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kurator.clusterapi import kustomize, manifests
from kurator.clusterapi.providers import AWS, CORE, Provider
from kurator.core.errors import KuratorError

Doc = dict[str, Any]
WEBHOOK_PORT = 9443
HEALTH_PORT = 9440
CERT_DIR = "/tmp/k8s-webhook-server/serving-certs"
CREDENTIALS_DIR = "/home/.aws"
# Cluster API's manager role aggregates every ClusterRole with this label (infrastructure providers' too).
AGGREGATE = "cluster.x-k8s.io/aggregate-to-manager"


@dataclass(frozen=True)
class WebhookCert:
    """The webhook server's certificate and key (PEM), and the CA that signed it (the API server trusts
    it through each webhook's caBundle)."""

    cert: str
    key: str
    ca: str


def names(provider: Provider, root: Path) -> dict[str, str]:
    """The names a clusterctl install gives the provider's objects (its overlay's prefix and namespace)."""
    ov = kustomize.overlay(root)
    if (ov.prefix, ov.namespace) != (provider.prefix, provider.namespace):
        raise KuratorError(
            f"{root} names {provider.name}'s objects {ov.prefix}* in {ov.namespace}, not "
            f"{provider.prefix}* in {provider.namespace}: the release is not the one kurator pins"
        )
    p = ov.prefix
    return {
        "namespace": ov.namespace,
        "service_account": f"{p}manager",
        "manager_role": f"{p}manager-role",
        "aggregated_role": f"{p}aggregated-manager-role",
        "leader_role": f"{p}leader-election-role",
        "webhook_service": f"{p}webhook-service",
        "webhook_secret": f"{p}webhook-service-cert",
        "deployment": f"{p}controller-manager",
        "credentials": f"{p}manager-bootstrap-credentials",
    }


def _rules(root: Path, kind: str, name: str | None = None) -> list[dict[str, Any]]:
    """The rules of the release's ``kind`` named ``name`` (None: its only one of that kind, as the leader
    election Role, which Cluster API and CAPA name differently)."""
    folder = root / "rbac"
    found = [
        doc
        for res in kustomize.kustomization(folder).get("resources") or []
        for doc in kustomize.documents(folder / str(res))
        if doc.get("kind") == kind and name in (None, (doc.get("metadata") or {}).get("name"))
    ]
    if len(found) != 1:
        what = f"{kind} {name}" if name else f"one {kind}"
        raise KuratorError(f"{folder} has not {what}: the release's config folder is not the one expected")
    return list(found[0].get("rules") or [])


def _meta(name: str, labels: dict[str, str], namespace: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": dict(labels)}
    if namespace:
        meta["namespace"] = namespace
    return meta


def _rbac(provider: Provider, root: Path, n: dict[str, str], labels: dict[str, str]) -> list[Doc]:
    ns, sa = n["namespace"], n["service_account"]
    subject = [{"kind": "ServiceAccount", "name": sa, "namespace": ns}]
    rbac = "rbac.authorization.k8s.io"
    manager_labels = dict(labels)
    bound = n["manager_role"]
    docs: list[Doc] = [{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(sa, labels, ns)}]
    if provider is CORE:
        # Cluster API's overlay binds an aggregated role, so providers can grant it access to their kinds.
        manager_labels[AGGREGATE] = "true"
        bound = n["aggregated_role"]
        docs.append(
            {
                "apiVersion": f"{rbac}/v1",
                "kind": "ClusterRole",
                "metadata": _meta(bound, labels),
                "aggregationRule": {
                    "clusterRoleSelectors": [
                        {"matchLabels": {"cluster.x-k8s.io/aggregate-to-manager": "true"}}
                    ]
                },
            }
        )
    docs += [
        {
            "apiVersion": f"{rbac}/v1",
            "kind": "ClusterRole",
            "metadata": _meta(n["manager_role"], manager_labels),
            "rules": _rules(root, "ClusterRole", "manager-role"),
        },
        {
            "apiVersion": f"{rbac}/v1",
            "kind": "ClusterRoleBinding",
            "metadata": _meta(f"{n['manager_role'].removesuffix('-role')}-rolebinding", labels),
            "roleRef": {"apiGroup": rbac, "kind": "ClusterRole", "name": bound},
            "subjects": subject,
        },
        {
            "apiVersion": f"{rbac}/v1",
            "kind": "Role",
            "metadata": _meta(n["leader_role"], labels, ns),
            "rules": _rules(root, "Role"),
        },
        {
            "apiVersion": f"{rbac}/v1",
            "kind": "RoleBinding",
            "metadata": _meta(f"{n['leader_role'].removesuffix('-role')}-rolebinding", labels, ns),
            "roleRef": {"apiGroup": rbac, "kind": "Role", "name": n["leader_role"]},
            "subjects": subject,
        },
    ]
    return docs


def _deployment(provider: Provider, root: Path, n: dict[str, str], labels: dict[str, str]) -> Doc:
    args = [
        a for a in kustomize.manager_args(root, dict(provider.variables)) if not a.startswith("--diagnostics")
    ]
    args += ["--diagnostics-address=:8443", f"--webhook-port={WEBHOOK_PORT}", f"--health-addr=:{HEALTH_PORT}"]
    env = [
        {"name": f"POD_{key.upper()}", "valueFrom": {"fieldRef": {"fieldPath": f"metadata.{key}"}}}
        for key in ("namespace", "name", "uid")
    ]
    mounts = [{"name": "cert", "mountPath": CERT_DIR, "readOnly": True}]
    volumes: list[dict[str, Any]] = [{"name": "cert", "secret": {"secretName": n["webhook_secret"]}}]
    if provider is AWS:
        env.append({"name": "AWS_SHARED_CREDENTIALS_FILE", "value": f"{CREDENTIALS_DIR}/credentials"})
        mounts.append({"name": "credentials", "mountPath": CREDENTIALS_DIR, "readOnly": True})
        volumes.append({"name": "credentials", "secret": {"secretName": n["credentials"]}})
    probe = {"httpGet": {"path": "/readyz", "port": "healthz"}}
    container = {
        "name": "manager",
        "image": provider.image,
        "command": ["/manager"],
        "args": args,
        "env": env,
        "ports": [
            {"name": "webhook-server", "containerPort": WEBHOOK_PORT, "protocol": "TCP"},
            {"name": "healthz", "containerPort": HEALTH_PORT, "protocol": "TCP"},
            {"name": "metrics", "containerPort": 8443, "protocol": "TCP"},
        ],
        "readinessProbe": probe,
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "healthz"}},
        "volumeMounts": mounts,
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "privileged": False,
            "runAsUser": 65532,
            "runAsGroup": 65532,
        },
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }
    selector = {"control-plane": "controller-manager", **labels}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(n["deployment"], selector, n["namespace"]),
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": selector},
                "spec": {
                    "serviceAccountName": n["service_account"],
                    "containers": [container],
                    "volumes": volumes,
                    "terminationGracePeriodSeconds": 10,
                    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                    "tolerations": [
                        {"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"},
                    ],
                },
            },
        },
    }


def _b64(values: dict[str, str]) -> dict[str, str]:
    """Secret data as the API server stores it, so a re-run's plan compares equal and writes nothing."""
    return {k: base64.b64encode(v.encode()).decode() for k, v in values.items()}


def objects(
    provider: Provider, root: Path, cert: WebhookCert, aws_credentials: str | None = None
) -> list[Doc]:
    """Every object of ``provider`` (``root``: its release's config folder)."""
    n = names(provider, root)
    labels = kustomize.overlay(root).labels
    ns = n["namespace"]
    ca_bundle = base64.b64encode(cert.ca.encode()).decode()
    target = manifests.at_service(n["webhook_service"], ns)
    selector = {"control-plane": "controller-manager", **labels}
    docs: list[Doc] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(ns, labels)}]
    docs += manifests.crds(root, target, ca_bundle)
    docs += _rbac(provider, root, n, labels)
    docs.append(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": _meta(n["webhook_secret"], labels, ns),
            "type": "kubernetes.io/tls",
            "data": _b64({"tls.crt": cert.cert, "tls.key": cert.key, "ca.crt": cert.ca}),
        }
    )
    if provider is AWS:
        docs.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": _meta(n["credentials"], labels, ns),
                "type": "Opaque",
                "data": _b64({"credentials": aws_credentials or ""}),
            }
        )
    docs.append(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _meta(n["webhook_service"], labels, ns),
            "spec": {"selector": selector, "ports": [{"port": 443, "targetPort": "webhook-server"}]},
        }
    )
    docs.append(_deployment(provider, root, n, labels))
    docs += manifests.webhook_configurations(root, target, ca_bundle)
    return docs
