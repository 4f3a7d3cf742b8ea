"""Generic object handling for the install engine (objects as plain dicts): whether a live object already
holds what is wanted, whether it is ready, and a readable, secret-free diff."""

from __future__ import annotations

import difflib
import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

Doc = dict[str, Any]
REDACTED = "<redacted>"


_QUANTITY = re.compile(r"^([+-]?[0-9.]+)([eE][+-]?[0-9]+|[KMGTPE]i?|[munk])?$")
_SCALE: dict[str, Decimal | int] = {
    "": 1, "m": Decimal("0.001"), "u": Decimal("0.000001"), "n": Decimal("0.000000001"), "k": 10**3,
    "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30,
    "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
}  # fmt: skip


def quantity(text: str) -> Decimal | None:
    """A Kubernetes quantity (``2048Mi``, ``0.5``, ``100m``) as a number; None when ``text`` is not one."""
    match = _QUANTITY.match(text)
    if match is None:
        return None
    number, suffix = match.group(1), match.group(2) or ""
    try:
        if suffix[:1] in ("e", "E"):
            return Decimal(number + suffix)
        return Decimal(number) * _SCALE[suffix]
    except (InvalidOperation, KeyError):
        return None


def contains(live: Any, wanted: Any) -> bool:
    """Whether ``live`` holds every field of ``wanted`` (servers add defaults, members add their own). What
    API servers write back differently counts as held: a null or an empty string they leave out (a chart's
    ``env:`` with nothing under it), a quantity they canonicalize (``2048Mi`` is stored as ``2Gi``)."""
    if isinstance(wanted, dict):
        return isinstance(live, dict) and all(
            contains(live[k], v) if k in live else v is None or v == "" for k, v in wanted.items()
        )
    if isinstance(wanted, list):
        return isinstance(live, list) and len(live) == len(wanted) and all(map(contains, live, wanted))
    if isinstance(wanted, (int, float)) and isinstance(live, (int, float)) and not isinstance(wanted, bool):
        return bool(live == wanted)
    if live == wanted or (isinstance(live, str) and str(wanted) == live):
        return True
    if isinstance(live, str) and isinstance(wanted, str) and live and wanted[:1].isdigit():
        a, b = quantity(live), quantity(wanted)
        return a is not None and a == b
    return False


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


def why_not_gone(live: Doc) -> str:
    """Why an object asked to go is still there, in the API server's words where it gives them: a CRD's
    Terminating condition says whether its instances are being deleted or could not be (a conversion
    webhook nobody serves, for one)."""
    meta = live.get("metadata") or {}
    if not meta.get("deletionTimestamp"):
        return "still there, not being deleted"
    for cond in (live.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Terminating" and cond.get("status") == "True" and cond.get("message"):
            return f"being deleted: {cond.get('reason') or 'Terminating'}: {str(cond['message'])[:300]}"
    finalizers = [str(f) for f in meta.get("finalizers") or []]
    return f"being deleted, waiting for {', '.join(finalizers)}" if finalizers else "being deleted"


def deletion_stalled(live: Doc) -> bool:
    """A CRD whose instances could not be listed or deleted (the API server's cache of them not ready yet,
    a conversion webhook not answering): the API server retries only with a back-off that grows past any
    uninstall's wait, while an update of the CRD retries at once."""
    if not (live.get("metadata") or {}).get("deletionTimestamp"):
        return False
    return any(
        c.get("type") == "Terminating"
        and c.get("status") == "True"
        and c.get("reason") == "InstanceDeletionFailed"
        for c in (live.get("status") or {}).get("conditions") or []
    )


def clean(obj: Doc, reveal: bool = False) -> Doc:
    """An object as a person compares it: without server bookkeeping, with secret values hidden (kept with
    ``reveal``, to tell whether a value changed). Plain dicts and lists throughout (a generic resource's
    fields are mappings of lightkube's own, which a YAML dump refuses)."""
    out: Doc = json.loads(json.dumps(obj, default=str))
    out.pop("status", None)
    meta = out.get("metadata", {})
    for key in ("managedFields", "resourceVersion", "uid", "creationTimestamp", "generation"):
        meta.pop(key, None)
    if out.get("kind") == "Secret" and not reveal:
        for key in ("data", "stringData"):
            if isinstance(out.get(key), dict):
                out[key] = dict.fromkeys(out[key], REDACTED)
    return out


def same(live: Doc, after: Doc) -> bool:
    """Whether applying gave back the live object: Secret values compared too, though never shown."""
    return clean(live, reveal=True) == clean(after, reveal=True)


def diff(before: Doc, after: Doc, label: str) -> str:
    a, b = clean(before), clean(after)
    if after.get("kind") == "Secret":  # a changed value is named, never shown
        for key in ("data", "stringData"):
            old, new = before.get(key) or {}, after.get(key) or {}
            for name in b.get(key) or {}:
                if name in old and old[name] != new.get(name):
                    b[key][name] = f"{REDACTED} (changed)"
    lines_a = yaml.safe_dump(a, sort_keys=True).splitlines(keepends=True)
    lines_b = yaml.safe_dump(b, sort_keys=True).splitlines(keepends=True)
    return "".join(difflib.unified_diff(lines_a, lines_b, f"{label} (live)", f"{label} (wanted)", n=2))
