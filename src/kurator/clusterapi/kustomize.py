"""Reading a provider's ``config`` folder as its kustomizations define it, for the parts kurator uses.

Cluster API's and CAPA's CRD bases lack what their kustomizations add: the contract labels
(``cluster.x-k8s.io/v1beta1: v1beta1`` ...), the conversion stanzas (``crd/patches/webhook_in_*.yaml``) and
the provider label of ``default/kustomization.yaml``; their webhook configurations get the provider's name
prefix there. This reads exactly those fields of the kustomizations (``resources``, ``labels`` /
``commonLabels``, ``patches`` / ``patchesStrategicMerge``, ``namePrefix``, ``namespace``) and merges the
patches as a strategic merge would for these documents (maps merged, lists replaced). The cert-manager parts
(Certificates, CA injection annotations) are left out: kurator's own PKI replaces them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kurator.core.errors import KuratorError

Doc = dict[str, Any]
CERT_MANAGER_ANNOTATION = "cert-manager.io/inject-ca-from"


def documents(path: Path) -> list[Doc]:
    try:
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    except (OSError, yaml.YAMLError) as exc:
        raise KuratorError(f"cannot read {path}: {exc}") from None
    return [d for d in docs if isinstance(d, dict)]


def kustomization(folder: Path) -> Doc:
    path = folder / "kustomization.yaml"
    docs = documents(path)
    if not docs:
        raise KuratorError(f"{path} is missing or empty: the release's config folder is incomplete")
    return docs[0]


def labels_of(kust: Mapping[str, Any]) -> dict[str, str]:
    """``commonLabels`` and every ``labels[].pairs`` (kustomize applies both to every object)."""
    out = {str(k): str(v) for k, v in (kust.get("commonLabels") or {}).items()}
    for entry in kust.get("labels") or []:
        out.update({str(k): str(v) for k, v in (entry.get("pairs") or {}).items()})
    return out


def patch_paths(kust: Mapping[str, Any]) -> list[str]:
    paths = [str(p) for p in kust.get("patchesStrategicMerge") or []]
    for entry in kust.get("patches") or []:
        if isinstance(entry, dict) and entry.get("path") and not entry.get("target"):
            paths.append(str(entry["path"]))
    return paths


def merge(base: Any, patch: Any) -> Any:
    """Strategic merge as it acts on these patches: maps merged key by key, anything else replaced."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for key, value in patch.items():
            out[key] = merge(base.get(key), value) if key in base else value
        return out
    return patch


def _key(doc: Mapping[str, Any]) -> tuple[str, str]:
    return str(doc.get("kind")), str((doc.get("metadata") or {}).get("name"))


@dataclass(frozen=True)
class Overlay:
    """What ``default/kustomization.yaml`` gives every object of the provider."""

    namespace: str
    prefix: str
    labels: dict[str, str]


def overlay(root: Path) -> Overlay:
    kust = kustomization(root / "default")
    return Overlay(str(kust.get("namespace") or ""), str(kust.get("namePrefix") or ""), labels_of(kust))


def crds(root: Path) -> list[Doc]:
    """The provider's CRDs as ``crd/kustomization.yaml`` makes them (labels and patches applied), with the
    labels of the provider's overlay too."""
    folder = root / "crd"
    kust = kustomization(folder)
    labels = labels_of(kust) | overlay(root).labels
    docs = [d for res in kust.get("resources") or [] for d in documents(folder / str(res))]
    by_key = {_key(d): i for i, d in enumerate(docs)}
    for path in patch_paths(kust):
        for patch in documents(folder / path):
            if _key(patch) not in by_key:
                raise KuratorError(f"{folder / path} patches {_key(patch)}, which {folder} does not define")
            i = by_key[_key(patch)]
            docs[i] = merge(docs[i], patch)
    out = []
    for doc in docs:
        meta = dict(doc.get("metadata") or {})
        meta["labels"] = {**(meta.get("labels") or {}), **labels}
        annotations = {
            k: v for k, v in (meta.get("annotations") or {}).items() if k != CERT_MANAGER_ANNOTATION
        }
        meta.pop("annotations", None)
        if annotations:
            meta["annotations"] = annotations
        out.append({**doc, "metadata": meta})
    return out


def webhook_configurations(root: Path) -> list[Doc]:
    """The provider's Mutating- and ValidatingWebhookConfigurations, named with its prefix and labelled."""
    ov = overlay(root)
    out = []
    for doc in documents(root / "webhook" / "manifests.yaml"):
        if doc.get("kind") not in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
            continue
        meta = dict(doc["metadata"])
        meta["name"] = ov.prefix + str(meta["name"])
        meta["labels"] = {**(meta.get("labels") or {}), **ov.labels}
        meta.pop("annotations", None)
        out.append({**doc, "metadata": meta})
    return out


VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)(?::=([^}]*))?\}")


def substitute(text: str, values: Mapping[str, str]) -> str:
    """clusterctl's variable syntax in the upstream manifests: ``${NAME}`` and ``${NAME:=default}``."""

    def one(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in values:
            return values[name]
        if default is None:
            raise KuratorError(f"the release's manifests need a value for ${{{name}}}")
        return default

    return VARIABLE.sub(one, text)


def manager_args(root: Path, values: Mapping[str, str]) -> list[str]:
    """The manager container's arguments in ``manager/manager.yaml``, variables substituted."""
    for doc in documents(root / "manager" / "manager.yaml"):
        if doc.get("kind") != "Deployment":
            continue
        for container in doc["spec"]["template"]["spec"]["containers"]:
            if container.get("name") == "manager":
                return [substitute(str(a), values) for a in container.get("args") or []]
    raise KuratorError(f"{root / 'manager' / 'manager.yaml'} has no manager container")
