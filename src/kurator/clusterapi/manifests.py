"""A provider's CRDs and webhook configurations, pointing the API server at wherever its manager serves
webhooks: a URL (the local fleet, where the manager is a process) or its Service (a host cluster), each with
the CA bundle of the certificate kurator gave that manager."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kurator.clusterapi import kustomize
from kurator.clusterapi.providers import Provider

Doc = dict[str, Any]
# webhook path -> clientConfig (without caBundle)
Target = Callable[[str], dict[str, Any]]


def at_url(base: str) -> Target:
    """Webhooks served at ``base`` (``https://ADDRESS:PORT``)."""
    return lambda path: {"url": base.rstrip("/") + path}


def at_service(name: str, namespace: str, port: int = 443) -> Target:
    return lambda path: {"service": {"name": name, "namespace": namespace, "path": path, "port": port}}


def _point(client_config: dict[str, Any], target: Target, ca_bundle: str) -> dict[str, Any]:
    path = str((client_config.get("service") or {}).get("path") or "/convert")
    return {**target(path), "caBundle": ca_bundle}


def crds(root: Path, target: Target, ca_bundle: str) -> list[Doc]:
    """The provider's CRDs; those that convert between versions do it through ``target``."""
    out = []
    for doc in kustomize.crds(root):
        doc = copy.deepcopy(doc)
        webhook = ((doc.get("spec") or {}).get("conversion") or {}).get("webhook")
        if webhook is not None:
            webhook["clientConfig"] = _point(webhook.get("clientConfig") or {}, target, ca_bundle)
        out.append(doc)
    return out


def webhook_configurations(root: Path, target: Target, ca_bundle: str) -> list[Doc]:
    out = []
    for doc in kustomize.webhook_configurations(root):
        doc = copy.deepcopy(doc)
        for hook in doc.get("webhooks") or []:
            hook["clientConfig"] = _point(hook.get("clientConfig") or {}, target, ca_bundle)
        out.append(doc)
    return out


def config_root(provider: Provider, asset_dir: Path) -> Path:
    """The provider's ``config`` folder inside the release data kept in the binary cache."""
    return asset_dir / provider.folder


def names(docs: list[Doc], kind: str) -> list[str]:
    return [str(d["metadata"]["name"]) for d in docs if d.get("kind") == kind]
