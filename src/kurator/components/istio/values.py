"""What users tell ``kurator install istio`` in Kurator's terms (IstioOperator files with ``-f``,
IstioOperator paths with ``--set``) turned into the values of Istio's Helm charts, which is how kurator
installs Istio (Istio's own operator is gone since 1.24). Files overlay left to right, then each ``--set``.

The part of IstioOperator that has a Helm equivalent is accepted: ``profile``, ``hub``, ``tag``,
``meshConfig``, ``values`` (and ``unvalidatedValues``), ``compatibilityVersion``, and istiod's Kubernetes
settings under ``components.pilot.k8s``. Anything else is refused by name, before anything is written.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kurator.core.errors import InvalidInput

# Istio's Helm profiles a user may choose (the charts' files/profile-<name>.yaml). "remote" is kurator's
# to set (for remote clusters); "ambient" needs ztunnel and the CNI agent, which are not installed.
PROFILES = ("demo", "preview", "stable")
# IstioOperator profiles whose Helm install is the plain charts: istiod only, no gateways.
PLAIN_PROFILES = ("", "default", "minimal")
SPEC_KEYS = (
    "profile",
    "hub",
    "tag",
    "meshConfig",
    "values",
    "unvalidatedValues",
    "compatibilityVersion",
    "components",
)
# components.pilot.k8s.<key> -> the istiod chart's value (the chart reads pilot.* at its top level)
PILOT_K8S = {
    "resources": "resources",
    "replicaCount": "replicaCount",
    "nodeSelector": "nodeSelector",
    "tolerations": "tolerations",
    "affinity": "affinity",
    "podAnnotations": "podAnnotations",
    "env": "env",
    "hpaSpec": "",  # minReplicas/maxReplicas -> autoscaleMin/autoscaleMax
}
INDEX = re.compile(r"^([^\[\]]+)\[(\d+)\]$")
# Values kurator sets per cluster from the fleet itself: a user's value would split the mesh.
KURATOR_SETS = {
    ("global", "multiCluster", "clusterName"): "each cluster's name in the fleet",
    ("global", "network"): "the Karmada Cluster label topology.istio.io/network",
    ("global", "remotePilotAddress"): "--remote-pilot-address or the primary's east-west gateway",
    ("global", "externalIstiod"): "the primary's role",
    ("global", "configCluster"): "the primary's role",
    ("global", "istioNamespace"): "istio-system, where kurator installs Istio",
    ("istiodRemote",): "the remotes' role",
    ("revision",): "kurator installs one control plane, without revisions",
    ("profile",): "the IstioOperator profile (spec.profile)",
}


@dataclass(frozen=True)
class Settings:
    """The charts' values common to every cluster, the profile of the primary, and where they came from."""

    values: dict[str, Any] = field(default_factory=dict)
    profile: str = ""
    compatibility_version: str = ""


def merge(base: Any, extra: Any) -> Any:
    """``extra`` overlaid on ``base``: maps key by key, anything else replaced."""
    if isinstance(base, dict) and isinstance(extra, dict):
        out = dict(base)
        for key, value in extra.items():
            out[key] = merge(out[key], value) if key in out else copy.deepcopy(value)
        return out
    return copy.deepcopy(extra)


def load_file(path: Path) -> dict[str, Any]:
    """The ``spec`` of the IstioOperator in ``path``."""
    from kurator.core.inputs import load_yaml, read_text

    label = f"IstioOperator file {path}"
    doc = load_yaml(read_text(path, "IstioOperator file"), label)
    if doc is None:
        return {}
    if not isinstance(doc, dict) or doc.get("kind", "IstioOperator") != "IstioOperator":
        raise InvalidInput(
            f"{label} is not an IstioOperator (kind: IstioOperator, apiVersion: install.istio.io/v1alpha1)"
        )
    spec = doc.get("spec") or {}
    if not isinstance(spec, dict):
        raise InvalidInput(f"{label}: spec must be a mapping")
    return spec


def scalar(raw: str) -> Any:
    """A ``--set`` value as istioctl reads it: true/false, an integer, or else the text itself (so a tag
    such as 1.30 stays 1.30)."""
    if raw in ("true", "false"):
        return raw == "true"
    if re.fullmatch(r"-?[0-9]+", raw):
        return int(raw)
    return raw


def set_path(spec: dict[str, Any], item: str) -> None:
    """Apply one ``--set path=value``; ``path`` is IstioOperator's, relative to ``spec`` (``a.b[0].c``)."""
    path, sep, raw = item.partition("=")
    if not sep or not path or any(not part for part in path.split(".")):
        raise InvalidInput(
            f"--set {item!r} is not path=value", "e.g. --set meshConfig.accessLogFile=/dev/stdout"
        )
    path = path.removeprefix("spec.")
    node: Any = spec
    parts = path.split(".")
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        match = INDEX.match(part)
        key, index = (match.group(1), int(match.group(2))) if match else (part, None)
        if not isinstance(node, dict):
            raise InvalidInput(f"--set {path}: {'.'.join(parts[:i])} is not a mapping")
        if index is None:
            if last:
                node[key] = scalar(raw)
            else:
                node = node.setdefault(key, {})
            continue
        items = node.setdefault(key, [])
        if not isinstance(items, list) or index > len(items):
            raise InvalidInput(f"--set {path}: {key} has no item {index}")
        if index == len(items):
            items.append({} if not last else None)
        if last:
            items[index] = scalar(raw)
        else:
            node = items[index]


def _pilot(spec: dict[str, Any]) -> dict[str, Any]:
    """istiod's chart values from ``components.pilot.k8s``; other components are refused."""
    components = spec.get("components") or {}
    if not isinstance(components, dict):
        raise InvalidInput("IstioOperator components must be a mapping")
    out: dict[str, Any] = {}
    for name, comp in components.items():
        if name == "pilot":
            continue
        if name == "base" and (comp or {}).get("enabled", True):
            continue
        disabled = comp in (None, []) or (isinstance(comp, dict) and comp.get("enabled") is False)
        if isinstance(comp, list):
            disabled = all(isinstance(c, dict) and c.get("enabled") is False for c in comp)
        if not disabled:
            raise InvalidInput(
                f"IstioOperator components.{name} is not installed by kurator install istio",
                "it installs istiod on the primary, remotes configured against it and east-west gateways; "
                "of components it takes only components.pilot.k8s",
            )
    pilot = components.get("pilot") or {}
    if pilot.get("enabled") is False:
        raise InvalidInput("IstioOperator components.pilot.enabled=false leaves the mesh without istiod")
    for key, value in (pilot.get("k8s") or {}).items():
        if key not in PILOT_K8S:
            raise InvalidInput(
                f"IstioOperator components.pilot.k8s.{key} is not supported",
                f"supported: {', '.join(sorted(PILOT_K8S))}",
            )
        if key == "env":
            out["env"] = {e["name"]: e.get("value", "") for e in value or [] if isinstance(e, dict)}
        elif key == "hpaSpec":
            if "minReplicas" in value:
                out["autoscaleMin"] = value["minReplicas"]
            if "maxReplicas" in value:
                out["autoscaleMax"] = value["maxReplicas"]
        else:
            out[PILOT_K8S[key]] = value
    return out


def settings(files: list[Path], sets: list[str]) -> Settings:
    """The files overlaid left to right, then each ``--set``, as chart values (see the module)."""
    spec: dict[str, Any] = {}
    for path in files:
        spec = merge(spec, load_file(path))
    for item in sets:
        set_path(spec, item)
    if unknown := sorted(set(spec) - set(SPEC_KEYS)):
        raise InvalidInput(
            f"IstioOperator spec.{unknown[0]} is not supported by kurator install istio",
            f"supported: {', '.join(SPEC_KEYS)}",
        )
    profile = str(spec.get("profile") or "")
    if profile in PLAIN_PROFILES:
        profile = ""
    elif profile not in PROFILES:
        raise InvalidInput(
            f"IstioOperator profile {profile!r} is not one kurator installs",
            f"choose one of {', '.join(PROFILES)}, or none (istiod only)",
        )
    values: dict[str, Any] = {}
    for key in ("values", "unvalidatedValues"):
        part = spec.get(key) or {}
        if not isinstance(part, dict):
            raise InvalidInput(f"IstioOperator {key} must be a mapping")
        values = merge(values, part)
    for keys, why in KURATOR_SETS.items():
        node: Any = values
        for part in keys:
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None:
            raise InvalidInput(
                f"IstioOperator values.{'.'.join(keys)} cannot be set: kurator sets it from {why}"
            )
    if pilot := _pilot(spec):
        values = merge(values, {"pilot": pilot})
    if "meshConfig" in spec:
        values = merge(values, {"meshConfig": spec["meshConfig"]})
    for key in ("hub", "tag"):
        if key in spec:
            values = merge(values, {"global": {key: str(spec[key])}})
    return Settings(values, profile, str(spec.get("compatibilityVersion") or ""))
