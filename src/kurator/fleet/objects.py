"""Generic object handling for the install engine (objects as plain dicts): whether a live object already
holds what is wanted, whether it is ready, and a readable, secret-free diff."""

from __future__ import annotations

import difflib
import json
from typing import Any

import yaml

Doc = dict[str, Any]
REDACTED = "<redacted>"


def contains(live: Any, wanted: Any) -> bool:
    """Whether ``live`` holds every field of ``wanted`` (servers add defaults, members add their own). A
    field a chart leaves null (``env:`` with nothing under it) is one API servers never store: held."""
    if isinstance(wanted, dict):
        return isinstance(live, dict) and all(
            contains(live[k], v) if k in live else v is None for k, v in wanted.items()
        )
    if isinstance(wanted, list):
        return isinstance(live, list) and len(live) == len(wanted) and all(map(contains, live, wanted))
    if isinstance(wanted, (int, float)) and isinstance(live, (int, float)) and not isinstance(wanted, bool):
        return bool(live == wanted)
    return bool(live == wanted) or (isinstance(live, str) and str(wanted) == live)


def projected(live: Any, wanted: Any) -> Any:
    """The part of ``live`` that ``wanted`` speaks about (for a diff that shows only what matters)."""
    if isinstance(wanted, dict) and isinstance(live, dict):
        return {k: projected(live[k], v) for k, v in wanted.items() if k in live}
    if isinstance(wanted, list) and isinstance(live, list) and len(live) == len(wanted):
        return [projected(lv, wv) for lv, wv in zip(live, wanted, strict=True)]
    return live


def readiness(kind: str, obj: Doc) -> tuple[bool, str]:
    """Whether a live object is ready, and if not what it waits for."""
    status = obj.get("status") or {}
    spec = obj.get("spec") or {}
    generation = obj.get("metadata", {}).get("generation", 0)
    if status.get("observedGeneration", generation) < generation:
        return False, "update not yet observed"
    if kind in ("Deployment", "StatefulSet"):
        want = spec.get("replicas", 1)
        ready, updated = status.get("readyReplicas", 0), status.get("updatedReplicas", 0)
        return (ready >= want and updated >= want), f"{ready}/{want} replicas ready"
    if kind == "DaemonSet":
        want = status.get("desiredNumberScheduled", 0)
        ready = status.get("numberReady", 0)
        return (ready >= want and status.get("updatedNumberScheduled", 0) >= want), f"{ready}/{want} ready"
    if kind == "Job":
        conditions = {c["type"]: c for c in status.get("conditions", []) if c.get("status") == "True"}
        if "Failed" in conditions:
            return False, f"failed: {conditions['Failed'].get('message', 'no message')}"
        return "Complete" in conditions, "running"
    if kind == "CustomResourceDefinition":
        established = any(
            c["type"] == "Established" and c["status"] == "True" for c in status.get("conditions", [])
        )
        return established, "not established"
    return True, ""


def clean(obj: Doc) -> Doc:
    """An object as a person compares it: without server bookkeeping, with secret values hidden (plain
    dicts and lists: a generic resource's dict may be of a subclass that YAML cannot write)."""
    out: Doc = json.loads(json.dumps(obj, default=str))
    out.pop("status", None)
    meta = out.get("metadata", {})
    for key in ("managedFields", "resourceVersion", "uid", "creationTimestamp", "generation"):
        meta.pop(key, None)
    if out.get("kind") == "Secret":
        for key in ("data", "stringData"):
            if isinstance(out.get(key), dict):
                out[key] = dict.fromkeys(out[key], REDACTED)
    return out


def diff(before: Doc, after: Doc, label: str) -> str:
    a = yaml.safe_dump(clean(before), sort_keys=True).splitlines(keepends=True)
    b = yaml.safe_dump(clean(after), sort_keys=True).splitlines(keepends=True)
    return "".join(difflib.unified_diff(a, b, f"{label} (live)", f"{label} (wanted)", n=2))
