"""Turn a verified artifact into the list of objects it declares: Helm charts through the cached ``helm``
binary (``helm template``, nothing is sent to a cluster), plain manifests directly."""

from __future__ import annotations

import os
import subprocess
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import yaml

from kurator.core import inputs
from kurator.core.errors import KuratorError
from kurator.core.progress import Reporter
from kurator.fleet.component import Component

Doc = dict[str, Any]
ARTIFACT_LIMIT = 8 * inputs.MiB  # per file; artifacts are pinned by sha256, CRD files run to a few MiB
# libyaml's loader where PyYAML was built with it: ~8x faster on a release's megabyte of manifests.
LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def helm_path(reporter: Reporter | None = None) -> Path:
    """The pinned ``helm``, fetched into the binary cache on first use like the fleet's other binaries."""
    from kurator.binaries import ensure_binaries
    from kurator.binaries.catalog import helm_binary

    source = os.environ.get("KURATOR_BINARY_SOURCE", "auto")
    return ensure_binaries([helm_binary()], source, reporter).paths["helm"]


def load_documents(text: str, origin: str) -> list[Doc]:
    docs = [d for d in inputs.load_yaml_all(text, origin, LOADER) if d]
    for doc in docs:
        if not isinstance(doc, dict) or "kind" not in doc or "apiVersion" not in doc:
            raise KuratorError(f"{origin} holds a document that is not a Kubernetes object")
    return docs


def _manifests(path: Path) -> list[Doc]:
    files = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml")) if path.is_dir() else [path]
    return [
        doc for f in files for doc in load_documents(inputs.read_text(f, "manifest", ARTIFACT_LIMIT), str(f))
    ]


def _zip_members(path: Path, members: tuple[str, ...], key: str) -> list[Doc]:
    """The manifests in ``members`` of the archive ``path``, in that order; read in memory, never unpacked
    (so no path in the archive can land anywhere on disk)."""
    if not zipfile.is_zipfile(path):
        raise KuratorError(f"artifact {key} names files in an archive, but {path.name} is not a zip")
    with zipfile.ZipFile(path) as archive:
        present = set(archive.namelist())
        if missing := [m for m in members if m not in present]:
            raise KuratorError(f"artifact {key}: {path.name} has no {', '.join(missing)}")
        return [
            doc
            for m in members
            for doc in load_documents(
                inputs.decode(archive.read(m), f"{path.name}:{m}", ARTIFACT_LIMIT), f"{path.name}:{m}"
            )
        ]


def helm_template(
    release: str, chart: Path, namespace: str, values: dict[str, Any], helm: Path, label: str
) -> list[Doc]:
    """``helm template`` of the chart folder or archive ``chart``: the objects it declares (``label`` names
    the chart in errors)."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", prefix="kurator-values-") as vf:
        yaml.safe_dump(values, vf)
        vf.flush()
        argv = [
            str(helm),
            "template",
            release,
            str(chart),
            "--namespace",
            namespace,
            "--include-crds",
            "--values",
            vf.name,
        ]
        # helm keeps caches and config under $HOME; a throw-away home keeps renders pure and repeatable.
        with tempfile.TemporaryDirectory(prefix="kurator-helm-") as home:
            env = {"PATH": os.environ.get("PATH", ""), "HOME": home, "HELM_CACHE_HOME": home}
            proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120, check=False)
    if proc.returncode != 0:
        raise KuratorError(f"helm could not render {label}: {proc.stderr.strip()}")
    return load_documents(proc.stdout, f"the rendered chart {label}")


def _helm_template(component: Component, chart: Path, values: dict[str, Any], helm: Path) -> list[Doc]:
    release = component.release or component.name
    return helm_template(release, chart, component.namespace, values, helm, component.artifact.key)


def render(
    component: Component, payload: Path, values: dict[str, Any], reporter: Reporter | None = None
) -> list[Doc]:
    artifact = component.artifact
    if component.renderer is not None:
        return component.renderer(payload, values)
    if artifact.kind == "manifests":
        if artifact.members:
            return _zip_members(payload, artifact.members, artifact.key)
        return _manifests(payload)
    return _helm_template(component, payload, values, helm_path(reporter))
