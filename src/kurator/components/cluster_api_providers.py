"""``cluster-api`` and ``cluster-api-aws``: Cluster API's managers (core, kubeadm bootstrap, kubeadm control
plane) and Cluster API Provider AWS's on a host cluster (``kurator install cluster-api [--infrastructure
aws]``), as kurator.clusterapi.install renders them from each release's module zip on the Go module proxy
(pinned by its sha256, read at render time; nothing of either project is kept in this repository).

cert-manager is not needed: each manager's webhook certificate is made here and kept in its Secret; a
re-run finds it there and keeps it, so an unchanged install writes nothing.
"""

from __future__ import annotations

import dataclasses
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from kurator.binaries.catalog import CAPA_VERSION, CLUSTER_API_VERSION
from kurator.core.errors import KuratorError
from kurator.fleet.component import Artifact, Component

if TYPE_CHECKING:
    from kurator.clusterapi.providers import Provider
    from kurator.kube.client import Client

# Module-level imports stay light: this module is loaded for every `kurator` command (the registry).

CAPI_MODULE = f"sigs.k8s.io/cluster-api@v{CLUSTER_API_VERSION}"
CAPA_MODULE = f"sigs.k8s.io/cluster-api-provider-aws/v2@v{CAPA_VERSION}"
PROVIDER_NAMES = {
    "cluster-api": ("capi", "capi-kubeadm-bootstrap", "capi-kubeadm-control-plane"),
    "cluster-api-aws": ("capa",),
}
WEBHOOKS_KEY = "webhookCerts"  # values: provider name -> {cert, key, ca}
CREDENTIALS_KEY = "awsCredentials"


def _unpack(payload: Path, module: str, folders: tuple[str, ...], into: Path) -> Path:
    """The ``folders`` of the module zip, under ``into``; only plain relative paths inside them are
    written (a zip member cannot land anywhere else)."""
    root = f"{module}/"
    with zipfile.ZipFile(payload) as archive:
        for member in archive.infolist():
            if member.is_dir() or not member.filename.startswith(root):
                continue
            rel = PurePosixPath(member.filename[len(root) :])
            if ".." in rel.parts or rel.is_absolute() or not any(rel.is_relative_to(f) for f in folders):
                continue
            target = into.joinpath(*rel.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(member))
    return into


def _render(component: str, module: str, payload: Path, values: dict[str, Any]) -> list[dict[str, Any]]:
    from kurator.clusterapi import install
    from kurator.clusterapi.providers import by_name

    providers = [by_name(n) for n in PROVIDER_NAMES[component]]
    certs = values.get(WEBHOOKS_KEY) or {}
    with tempfile.TemporaryDirectory(prefix="kurator-capi-") as tmp:
        root = _unpack(payload, module, tuple(p.folder for p in providers), Path(tmp))
        docs = []
        for p in providers:
            if p.name not in certs:
                raise KuratorError(f"no webhook certificate was made for {p.name} (a bug in kurator)")
            cert = install.WebhookCert(**certs[p.name])
            docs += install.objects(p, root / p.folder, cert, values.get(CREDENTIALS_KEY))
    return docs


CLUSTER_API = Component(
    name="cluster-api",
    description=f"Cluster API v{CLUSTER_API_VERSION}: the core, kubeadm bootstrap and control plane managers",
    artifact=Artifact(
        name="cluster-api",
        version=CLUSTER_API_VERSION,
        kind="manifests",
        source=f"https://proxy.golang.org/sigs.k8s.io/cluster-api/@v/v{CLUSTER_API_VERSION}.zip",
        # sha256 of the module zip as proxy.golang.org serves it (the bytes Go's module cache holds).
        sha256="9f84b0a99e288ac958a5fb2088efd52d6d68a35f9374c993acb302d3ce910636",
    ),
    namespace="",  # each manager has its namespace, made by the component
    placement="host",
    renderer=lambda payload, values: _render("cluster-api", CAPI_MODULE, payload, values),
)
CLUSTER_API_AWS = Component(
    name="cluster-api-aws",
    description=f"Cluster API Provider AWS v{CAPA_VERSION}",
    artifact=Artifact(
        name="cluster-api-aws",
        version=CAPA_VERSION,
        kind="manifests",
        source=f"https://proxy.golang.org/sigs.k8s.io/cluster-api-provider-aws/v2/@v/v{CAPA_VERSION}.zip",
        sha256="651f6bf37b1e65f7c47cd39ed4fd9f15d2aca1084d3fe80814563626fa211eb7",
    ),
    namespace="",
    placement="host",
    renderer=lambda payload, values: _render("cluster-api-aws", CAPA_MODULE, payload, values),
)
INFRASTRUCTURES = {"aws": CLUSTER_API_AWS}


def _provider(name: str) -> Provider:
    from kurator.clusterapi.providers import by_name

    return by_name(name)


def webhook_certs(api: Client, component: Component) -> dict[str, dict[str, str]]:
    """Each manager's webhook certificate: the one an earlier install left in its Secret while it stays
    good (so a re-run changes nothing), else a new one."""
    import base64

    from kurator.clusterapi import certs
    from kurator.clusterapi.install import WebhookCert
    from kurator.kube import ops
    from kurator.kube.resources import Secret

    out = {}
    for name in PROVIDER_NAMES[component.name]:
        provider = _provider(name)
        service, namespace = f"{provider.prefix}webhook-service", provider.namespace
        secret = ops.get_or_none(api, Secret, f"{service}-cert", namespace=namespace)
        data = {k: base64.b64decode(v).decode() for k, v in ((secret.data if secret else None) or {}).items()}
        found = (
            WebhookCert(cert=data["tls.crt"], key=data["tls.key"], ca=data["ca.crt"])
            if {"tls.crt", "tls.key", "ca.crt"} <= set(data)
            else None
        )
        if found is None or not certs.still_good(found, service, namespace):
            found = certs.make(service, namespace)
        out[name] = dataclasses.asdict(found)
    return out


def installed_credentials(api: Client) -> str | None:
    """CAPA's credentials an earlier install stored (kept when a re-run gives none)."""
    import base64

    from kurator.kube import ops
    from kurator.kube.resources import Secret

    aws = _provider("capa")
    secret = ops.get_or_none(
        api, Secret, f"{aws.prefix}manager-bootstrap-credentials", namespace=aws.namespace
    )
    raw = ((secret.data if secret else None) or {}).get("credentials")
    return base64.b64decode(raw).decode() if raw else None


def hand_over_crds(api: Client, component: str, crd_names: tuple[str, ...]) -> None:
    """The CRDs ``component`` installed (``cluster-api-crds``: Cluster, KubeadmControlPlane) now belong to
    ``cluster-api``: they leave that component's record, so uninstalling it never deletes what Cluster API's
    managers use. (The names are passed in: no component module imports another.)"""
    from kurator.fleet import record

    rec = record.load(api, component)
    if rec is None:
        return
    kept = [r for r in rec.refs if not (r.kind == "CustomResourceDefinition" and r.name in crd_names)]
    if len(kept) != len(rec.refs):
        record.save(api, dataclasses.replace(rec, refs=kept))
