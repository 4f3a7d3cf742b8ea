"""Small ConfigMaps in which kurator records facts for its later commands (what was installed, where
Karmada or Thanos Query serves): their shape, and reading one back."""

from __future__ import annotations

from typing import Any

from lightkube import Client
from lightkube.resources.core_v1 import ConfigMap

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
