"""The CRDs of the cluster operator, generated from the models (their one source of truth).
``python -m kurator.api.crds`` rewrites the committed YAML beside this file and the copies in the operator's
Helm chart (helm installs a chart's CRDs only from files in its ``crds/``); ``--check`` only compares."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kurator.api.aws_cluster import Cluster
from kurator.api.cluster import CustomCluster
from kurator.api.common import Resource
from kurator.api.machine import CustomMachine
from kurator.api.names import CATEGORY, GROUP, VERSION
from kurator.api.schema import structural

DIR = Path(__file__).resolve().parent
CHART_CRDS = DIR.parents[1] / "components" / "charts" / "cluster-operator" / "crds"
FOLDERS = (DIR, CHART_CRDS)  # each holds every CRD, byte for byte the same
HEADER = "# Generated from the models in kurator.api by `python -m kurator.api.crds`: do not edit.\n"


def _column(
    name: str, path: str, description: str, type_: str = "string", priority: int = 0
) -> dict[str, Any]:
    column: dict[str, Any] = {"name": name, "type": type_, "jsonPath": path, "description": description}
    if priority:
        column["priority"] = priority
    return column


AGE = _column("AGE", ".metadata.creationTimestamp", "Time since creation.", "date")


@dataclass(frozen=True)
class Kind:
    model: type[Resource]
    plural: str
    short_names: tuple[str, ...]
    columns: tuple[dict[str, Any], ...]
    labels: tuple[tuple[str, str], ...] = ()

    @property
    def name(self) -> str:
        return self.model.__name__

    @property
    def file_name(self) -> str:
        return f"{GROUP}_{self.plural}.yaml"


KINDS = (
    Kind(
        CustomCluster,
        "customclusters",
        ("cc",),  # Kurator's
        (
            _column("PHASE", ".status.phase", "Where the cluster is in its life."),
            _column("VERSION", ".status.kubernetesVersion", "The Kubernetes version the cluster runs."),
            _column("MASTERS", ".status.masters", "Masters the cluster has.", "integer"),
            _column("NODES", ".status.nodes", "Worker nodes the cluster has.", "integer"),
            _column("CNI", ".spec.cni.type", "The network plugin.", priority=1),
            _column("ENDPOINT", ".status.apiEndpoint", "Where the API server answers.", priority=1),
            _column("FLEET", ".spec.fleet", "The fleet the cluster joins.", priority=1),
            AGE,
        ),
        # Cluster API finds which version of an infrastructure kind speaks which contract by these labels.
        (("cluster.x-k8s.io/v1beta1", VERSION), ("cluster.x-k8s.io/v1beta2", VERSION)),
    ),
    Kind(
        CustomMachine,
        "custommachines",
        ("cmach",),  # not "cm": kubectl would read that as ConfigMaps
        (
            # A JSONPath column prints one value, never a count: the operator writes the counts.
            _column("MASTERS", ".status.masters", "Hosts in spec.master.", "integer"),
            _column("NODES", ".status.nodes", "Hosts in spec.node.", "integer"),
            _column("READY", ".status.ready", "Whether every host answered the operator.", "boolean"),
            AGE,
        ),
    ),
    Kind(
        Cluster,
        "clusters",
        # `kubectl get clusters` may mean Cluster API's kind too: this one is also `kcl`.
        ("kcl",),
        (
            _column("INFRA", ".spec.infraType", "The cloud the cluster runs on."),
            _column("REGION", ".spec.region", "The cloud region."),
            _column("VERSION", ".spec.version", "The Kubernetes version asked for."),
            _column("PHASE", ".status.phase", "Where the cluster is in its life."),
            _column("MASTERS", ".status.masters", "Control-plane machines running.", "integer"),
            _column("WORKERS", ".status.workers", "Worker machines running.", "integer"),
            _column("ENDPOINT", ".status.apiEndpoint", "Where the API server answers.", priority=1),
            _column("FLEET", ".spec.fleet", "The fleet the cluster joins.", priority=1),
            AGE,
        ),
    ),
)


def open_api_schema(model: type[Resource]) -> dict[str, Any]:
    raw = model.model_json_schema(by_alias=True)
    del raw["properties"]["metadata"]  # the API server owns metadata's schema
    schema = structural(raw)
    schema["properties"].update(
        apiVersion={"type": "string", "description": "The versioned schema of this object."},
        kind={"type": "string", "description": "The kind of this object."},
        metadata={"type": "object"},
    )
    schema["required"] = ["spec"]
    return schema


def crd(kind: Kind) -> dict[str, Any]:
    """The ``apiextensions.k8s.io/v1`` CustomResourceDefinition of ``kind``."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{kind.plural}.{GROUP}",
            **({"labels": dict(kind.labels)} if kind.labels else {}),
        },
        "spec": {
            "group": GROUP,
            "names": {
                "kind": kind.name,
                "listKind": f"{kind.name}List",
                "plural": kind.plural,
                "singular": kind.name.lower(),
                "shortNames": list(kind.short_names),
                "categories": [CATEGORY],
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": list(kind.columns),
                    "schema": {"openAPIV3Schema": open_api_schema(kind.model)},
                }
            ],
        },
    }


class _Dumper(yaml.SafeDumper):
    """Writes shared parts of the schema out in full (no YAML anchors) and never folds a CEL rule."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def render(kind: Kind) -> str:
    return HEADER + yaml.dump(crd(kind), Dumper=_Dumper, sort_keys=True, width=10_000, allow_unicode=True)


def all_crds() -> list[dict[str, Any]]:
    return [crd(kind) for kind in KINDS]


def _files(folders: tuple[Path, ...]) -> list[tuple[Path, Kind]]:
    return [(folder / kind.file_name, kind) for folder in folders for kind in KINDS]


def stale(folders: tuple[Path, ...] = FOLDERS) -> list[Path]:
    """The committed files (beside this module and in the chart) that differ from what the models
    generate."""
    return [path for path, kind in _files(folders) if not path.is_file() or path.read_text() != render(kind)]


def write(folders: tuple[Path, ...] = FOLDERS) -> list[Path]:
    """Rewrite the files that differ; returns them."""
    changed = stale(folders)
    for path, kind in _files(folders):
        if path in changed:
            path.write_text(render(kind))
    return changed
