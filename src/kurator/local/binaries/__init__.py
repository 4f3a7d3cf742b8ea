"""The version-keyed binary cache of the local fleet: ``<cache>/bin/<name>/<version>/<name>``."""

from kurator.local.binaries.catalog import (
    KARMADA_CRDS,
    KARMADA_DEPLOY,
    SUPPORTED_KUBERNETES_VERSIONS,
    BinarySpec,
    fleet_binaries,
    karmada_binaries,
    monitoring_binaries,
)
from kurator.local.binaries.fetch import FetchReport, binary_path, ensure_binaries, missing, resolve

__all__ = [
    "KARMADA_CRDS",
    "KARMADA_DEPLOY",
    "SUPPORTED_KUBERNETES_VERSIONS",
    "BinarySpec",
    "FetchReport",
    "binary_path",
    "ensure_binaries",
    "fleet_binaries",
    "karmada_binaries",
    "missing",
    "monitoring_binaries",
    "resolve",
]
