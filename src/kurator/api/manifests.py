"""Checking manifests of the operator's kinds before they are sent: every problem the API server would
report from the rules in these models, each as ``<field path>: <message>``, in one go."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from kurator.api.aws_cluster import Cluster
from kurator.api.cluster import CustomCluster
from kurator.api.common import Resource
from kurator.api.machine import CustomMachine
from kurator.api.rules import update_problems as _update_problems
from kurator.core.errors import InvalidInput

KINDS: dict[str, type[Resource]] = {
    "CustomCluster": CustomCluster,
    "CustomMachine": CustomMachine,
    "Cluster": Cluster,
}


def _path(loc: tuple[int | str, ...]) -> str:
    """``('spec', 'master', 0, 'publicIP')`` as Kubernetes writes it: ``spec.master[0].publicIP``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out.lstrip(".")


def _model(doc: dict[str, Any]) -> type[Resource]:
    kind = doc.get("kind")
    if kind not in KINDS:
        raise InvalidInput(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    return KINDS[kind]


def _check(doc: dict[str, Any]) -> tuple[Resource | None, list[str]]:
    try:
        return _model(doc).model_validate(doc), []
    except ValidationError as exc:
        return None, [f"{_path(err['loc'])}: {err['msg']}" for err in exc.errors()]


def problems(doc: dict[str, Any]) -> list[str]:
    """What is wrong with ``doc`` (a CustomCluster or CustomMachine); empty when nothing is."""
    return _check(doc)[1]


def parse(doc: dict[str, Any]) -> Resource:
    """``doc`` as its model; a bad one raises InvalidInput naming every problem."""
    resource, found = _check(doc)
    if resource is None:
        name = (doc.get("metadata") or {}).get("name", "<unnamed>")
        raise InvalidInput(f"{doc['kind']} {name} is invalid: " + "; ".join(found))
    return resource


def update_problems(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What the API server would refuse in replacing ``old`` with ``new`` (both valid on their own)."""
    return _update_problems(parse(old), parse(new))
