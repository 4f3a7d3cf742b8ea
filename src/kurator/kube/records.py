"""Small ConfigMaps in which kurator records facts for its later commands (what was installed, where
Karmada or Thanos Query serves), and Secrets for the credentials among them: their shape, and reading one
back."""

from __future__ import annotations

import base64
from typing import Any

from lightkube.resources.core_v1 import ConfigMap, Secret

from kurator.kube.client import Client
from kurator.kube.errors import NotFound

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"


def record_doc(namespace: str, name: str, data: dict[str, str]) -> dict[str, Any]:
    """A record ConfigMap as a manifest for server-side apply."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": {MANAGED_BY_LABEL: "kurator"}},
        "data": data,
    }


def read_data(api: Client, namespace: str, name: str) -> dict[str, str] | None:
    """The record's data, or ``None`` when there is no such record; other API errors are raised."""
    try:
        cm = api.get(ConfigMap, name, namespace=namespace)
    except NotFound:
        return None
    return dict(cm.data or {})


def secret_doc(namespace: str, name: str, data: dict[str, bytes]) -> dict[str, Any]:
    """A record that holds credentials (a Secret: readable by the cluster's administrators only)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": name, "namespace": namespace, "labels": {MANAGED_BY_LABEL: "kurator"}},
        "data": {k: base64.b64encode(v).decode() for k, v in sorted(data.items())},
    }


def read_secret_data(api: Client, namespace: str, name: str) -> dict[str, bytes] | None:
    """A Secret record's data, decoded; ``None`` when there is no such Secret."""
    try:
        secret = api.get(Secret, name, namespace=namespace)
    except NotFound:
        return None
    return {k: base64.b64decode(v) for k, v in (secret.data or {}).items()}
