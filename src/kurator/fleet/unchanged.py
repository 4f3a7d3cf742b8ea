"""Whether a server-side apply of an object would leave the live one as it is, told from the live object
alone: a plan then skips the dry run for it. Re-runs keep every object of a component on Karmada, and
the dry-run apply of a large unchanged CRD (Istio's are hundreds of kilobytes) costs the API server more
than any other request of the plan.

The answer is "unchanged" only when it is certain; anything else (a list merged by key, a value the
server writes back differently, ownership recorded under another version) leaves it to the dry run."""

from __future__ import annotations

from typing import Any

Doc = dict[str, Any]


def holds_exactly(live: Any, wanted: Any) -> bool:
    """Whether every field of ``wanted`` is in ``live`` with the very same value (lists whole, in order)."""
    if isinstance(wanted, dict):
        held = (k in live and holds_exactly(live[k], v) for k, v in wanted.items())
        return isinstance(live, dict) and all(held)
    if isinstance(wanted, list):
        return isinstance(live, list) and len(live) == len(wanted) and all(map(holds_exactly, live, wanted))
    if isinstance(wanted, bool) or isinstance(live, bool):
        return type(live) is type(wanted) and live == wanted
    if isinstance(wanted, (int, float)):
        return isinstance(live, (int, float)) and live == wanted
    return type(live) is type(wanted) and bool(live == wanted)


def owned_within(fields: Any, wanted: Any) -> bool:
    """Whether every field of a managedFields ``fieldsV1`` set is one that ``wanted`` names, so that an apply
    of ``wanted`` removes none of them. Only plain field paths (``f:``) are followed: a list item owned by
    key or value (``k:``, ``v:``, ``i:``) answers no."""
    if not isinstance(fields, dict):
        return False
    for key, child in fields.items():
        if key == ".":
            continue
        if not key.startswith("f:") or not isinstance(wanted, dict) or key[2:] not in wanted:
            return False
        if any(k != "." for k in child or {}) and not owned_within(child, wanted[key[2:]]):
            return False
    return True


def apply_keeps(live: Doc, wanted: Doc, manager: str) -> bool:
    """Whether applying ``wanted`` as ``manager`` would give back ``live``: it already holds every wanted
    value, and nothing ``manager`` applied before is missing from ``wanted`` (an apply removes such fields).
    What the manager wrote by other means than apply, or under another version, answers no."""
    if not holds_exactly(live, wanted):
        return False
    for entry in (live.get("metadata") or {}).get("managedFields") or []:
        if entry.get("manager") != manager or entry.get("subresource"):
            continue
        if entry.get("operation") != "Apply" or entry.get("apiVersion") != wanted.get("apiVersion"):
            return False
        if not owned_within(entry.get("fieldsV1") or {}, wanted):
            return False
    return True
