"""The version-keyed binary cache, ``<cache>/bin/<name>/<version>/<name>``: checked downloads of official
releases or builds from the Go module proxy, for the local fleet and the install engine (helm, karmadactl)."""

from pathlib import Path

from kurator.binaries.catalog import (
    KARMADA_CRDS,
    KARMADA_DEPLOY,
    SUPPORTED_KUBERNETES_VERSIONS,
    BinarySpec,
    fleet_binaries,
    istio_binaries,
    karmada_binaries,
    monitoring_binaries,
)
from kurator.binaries.fetch import FetchReport, binary_path, ensure_binaries, missing, resolve


def kubectl_path(kubernetes_version: str = SUPPORTED_KUBERNETES_VERSIONS[0]) -> Path:
    """Where the cache keeps the kubectl of the fleet's Kubernetes version (built with its control plane)."""
    return binary_path("kubectl", kubernetes_version)


__all__ = [
    "KARMADA_CRDS",
    "KARMADA_DEPLOY",
    "SUPPORTED_KUBERNETES_VERSIONS",
    "BinarySpec",
    "FetchReport",
    "binary_path",
    "ensure_binaries",
    "fleet_binaries",
    "istio_binaries",
    "karmada_binaries",
    "kubectl_path",
    "missing",
    "monitoring_binaries",
    "resolve",
]
